/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests of the batched migration copy core.
 *
 * Included at the end of mm/migrate_copy.c, so they reach its static
 * functions. The fake engines here are never picked by real migrations:
 * the registered ones ask for a minimum batch no migration reaches.
 */
#ifndef _MM_TESTS_MIGRATE_COPY_KUNIT_H
#define _MM_TESTS_MIGRATE_COPY_KUNIT_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kthread.h>

#define MC_TEST_BASE_FOLIOS	16
#define MC_TEST_LARGE_FOLIOS	2
#define MC_TEST_LARGE_ORDER	2
#define MC_TEST_GARBAGE		0xa5

enum mc_fake_failures {
	MC_FAIL_NONE,
	MC_FAIL_ALL,
	MC_FAIL_SOME,		/* every third folio, starting with the second */
	MC_FAIL_EVERY_OTHER,	/* the odd ones */
};

struct mc_fake_state {
	enum mc_fake_failures failures;
	bool block;
	int early_error;
	int failure_errno;
	unsigned int calls;
	int owner_refs_seen;
	struct completion entered;
	struct completion release;
};

static bool mc_fake_fails(enum mc_fake_failures failures, unsigned int index)
{
	switch (failures) {
	case MC_FAIL_ALL:
		return true;
	case MC_FAIL_SOME:
		return index % 3 == 1;
	case MC_FAIL_EVERY_OTHER:
		return index % 2 == 1;
	default:
		return false;
	}
}

static void mc_fill_folio(struct folio *folio, u8 value)
{
	size_t offset;

	for (offset = 0; offset < folio_size(folio); offset += PAGE_SIZE) {
		void *addr = kmap_local_folio(folio, offset);

		memset(addr, value, PAGE_SIZE);
		kunmap_local(addr);
	}
}

/* A fake engine: copies, or fails chosen folios after scribbling on them. */
static int mc_fake_copy_batch(struct migrate_copy_engine *engine,
			      struct migrate_copy_batch *batch)
{
	struct mc_fake_state *state = engine->private;
	unsigned int i, failed = 0;

	state->calls++;
#ifdef CONFIG_MODULE_UNLOAD
	if (engine->ops->owner)
		state->owner_refs_seen = module_refcount(engine->ops->owner);
#endif
	if (state->block) {
		complete(&state->entered);
		wait_for_completion(&state->release);
	}
	if (state->early_error)
		return state->early_error;
	for (i = 0; i < batch->nr; i++) {
		struct migrate_copy_item *item = &batch->items[i];

		if (mc_fake_fails(state->failures, i)) {
			mc_fill_folio(item->dst, MC_TEST_GARBAGE);
			item->result = state->failure_errno ? : -EIO;
			failed++;
		} else {
			item->result = folio_mc_copy(item->dst, item->src);
		}
	}
	return failed;
}

static const struct migrate_copy_engine_ops mc_fake_ops = {
	.name = "kunit-fake",
	.copy_batch = mc_fake_copy_batch,
	.nid = NUMA_NO_NODE,
	.min_bytes = SIZE_MAX,
};

static const struct migrate_copy_engine_ops mc_fake_twin_ops = {
	.name = "kunit-fake",
	.copy_batch = mc_fake_copy_batch,
	.nid = NUMA_NO_NODE,
	.min_bytes = SIZE_MAX,
};

static struct mc_fake_state *mc_fake_state(struct kunit *test)
{
	struct mc_fake_state *state = kunit_kzalloc(test, sizeof(*state), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, state);
	init_completion(&state->entered);
	init_completion(&state->release);
	return state;
}

static struct migrate_copy_engine *mc_fake_engine(struct kunit *test,
						  const struct migrate_copy_engine_ops *ops)
{
	struct migrate_copy_engine *engine = kunit_kzalloc(test, sizeof(*engine), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, engine);
	engine->ops = ops;
	engine->private = mc_fake_state(test);
	return engine;
}

/* The byte a source folio holds at @offset: differs per folio and offset. */
static u8 mc_pattern(unsigned int index, size_t offset)
{
	return (u8)(index * 131 + offset / 7 + (offset >> 12) * 17 + 1);
}

static void mc_fill_pattern(struct folio *folio, unsigned int index)
{
	size_t offset, byte;

	for (offset = 0; offset < folio_size(folio); offset += PAGE_SIZE) {
		u8 *addr = kmap_local_folio(folio, offset);

		for (byte = 0; byte < PAGE_SIZE; byte++)
			addr[byte] = mc_pattern(index, offset + byte);
		kunmap_local(addr);
	}
}

/* Number of bytes of @folio that differ from the pattern of @index. */
static size_t mc_count_mismatches(struct folio *folio, unsigned int index)
{
	size_t offset, byte, bad = 0;

	for (offset = 0; offset < folio_size(folio); offset += PAGE_SIZE) {
		u8 *addr = kmap_local_folio(folio, offset);

		for (byte = 0; byte < PAGE_SIZE; byte++)
			bad += addr[byte] != mc_pattern(index, offset + byte);
		kunmap_local(addr);
	}
	return bad;
}

static void mc_put_folio(void *folio)
{
	folio_put(folio);
}

static struct folio *mc_test_folio(struct kunit *test, unsigned int order)
{
	struct folio *folio = folio_alloc(GFP_KERNEL, order);

	KUNIT_ASSERT_NOT_NULL(test, folio);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mc_put_folio, folio), 0);
	return folio;
}

static void mc_free_batch(void *batch)
{
	migrate_copy_batch_free(batch);
}

/* Base and large folios with distinct content, zeroed destinations. */
static struct migrate_copy_batch *mc_test_batch(struct kunit *test)
{
	size_t class_bytes[MIGRATE_COPY_NR_CLASSES] = {};
	unsigned int nr = MC_TEST_BASE_FOLIOS + MC_TEST_LARGE_FOLIOS, i;
	struct migrate_copy_batch *batch;

	batch = migrate_copy_batch_alloc(nr, MR_SYSCALL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mc_free_batch, batch), 0);
	for (i = 0; i < nr; i++) {
		unsigned int order = i < MC_TEST_BASE_FOLIOS ? 0 : MC_TEST_LARGE_ORDER;
		struct folio *src = mc_test_folio(test, order);
		struct folio *dst = mc_test_folio(test, order);

		mc_fill_pattern(src, i);
		mc_fill_folio(dst, 0);
		migrate_copy_batch_add(batch, src, dst, class_bytes);
	}
	batch->size_class = migrate_copy_main_class(class_bytes);
	return batch;
}

static unsigned long mc_event(enum vm_event_item item)
{
	unsigned long events[NR_VM_EVENT_ITEMS];

	all_vm_events(events);
	return events[item];
}

static unsigned int mc_run(struct migrate_copy_engine *engine, struct migrate_copy_batch *batch)
{
	unsigned int failed;
	int index;

	index = srcu_read_lock(&migrate_copy_srcu);
	failed = migrate_copy_run_on(engine, batch);
	srcu_read_unlock(&migrate_copy_srcu, index);
	return failed;
}

/* What the move phase does: skip the copied folios, copy the others. */
static void mc_move_phase_copy(struct migrate_copy_batch *batch)
{
	struct folio *src;
	unsigned int cursor = 0, i;

	for (i = 0; i < batch->nr; i++) {
		src = batch->items[i].src;
		if (migrate_copy_next_result(batch, &cursor, src))
			folio_mc_copy(batch->items[i].dst, src);
	}
}

static void mc_expect_all_copied(struct kunit *test, struct migrate_copy_batch *batch)
{
	unsigned int i;

	for (i = 0; i < batch->nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, mc_count_mismatches(batch->items[i].dst, i), 0,
				    "destination %u differs from its source", i);
}

/* ---- registration ---- */

static void mc_register_find_unregister(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, migrate_copy_engine_register(engine), 0);
	mutex_lock(&migrate_copy_lock);
	KUNIT_EXPECT_PTR_EQ(test, migrate_copy_engine_find("kunit-fake"), engine);
	migrate_copy_show_engines(buf);
	mutex_unlock(&migrate_copy_lock);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, " kunit-fake"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, " cpu"));

	migrate_copy_engine_unregister(engine);
	mutex_lock(&migrate_copy_lock);
	KUNIT_EXPECT_NULL(test, migrate_copy_engine_find("kunit-fake"));
	mutex_unlock(&migrate_copy_lock);
}

static void mc_register_twice(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	struct migrate_copy_engine *twin = mc_fake_engine(test, &mc_fake_twin_ops);

	KUNIT_ASSERT_EQ(test, migrate_copy_engine_register(engine), 0);
	KUNIT_EXPECT_EQ(test, migrate_copy_engine_register(engine), -EBUSY);
	KUNIT_EXPECT_EQ(test, migrate_copy_engine_register(twin), -EEXIST);
	migrate_copy_engine_unregister(engine);
	KUNIT_EXPECT_EQ(test, migrate_copy_engine_register(twin), 0);
	migrate_copy_engine_unregister(twin);
}

static void mc_register_bad_ops(struct kunit *test)
{
	static const char *const bad_names[] = { "", "auto", "has space", "slash/name",
		"a-name-that-is-far-too-long-to-show" };
	struct migrate_copy_engine_ops ops = mc_fake_ops;
	struct migrate_copy_engine *engine = mc_fake_engine(test, &ops);
	unsigned int i;

	engine->ops = NULL;
	KUNIT_EXPECT_EQ(test, migrate_copy_engine_register(engine), -EINVAL);
	engine->ops = &ops;
	ops.copy_batch = NULL;
	KUNIT_EXPECT_EQ(test, migrate_copy_engine_register(engine), -EINVAL);
	ops.copy_batch = mc_fake_copy_batch;
	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		ops.name = bad_names[i];
		KUNIT_EXPECT_EQ_MSG(test, migrate_copy_engine_register(engine), -EINVAL,
				    "name \"%s\" was accepted", bad_names[i]);
	}
}

struct mc_unregister_work {
	struct migrate_copy_engine *engine;
	struct migrate_copy_batch *batch;
	struct completion done;
	bool finished;
};

static int mc_batch_thread(void *data)
{
	struct mc_unregister_work *work = data;

	mc_run(work->engine, work->batch);
	complete(&work->done);
	return 0;
}

static int mc_unregister_thread(void *data)
{
	struct mc_unregister_work *work = data;

	migrate_copy_engine_unregister(work->engine);
	WRITE_ONCE(work->finished, true);
	complete(&work->done);
	return 0;
}

static void mc_unregister_waits_for_batch(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	struct mc_fake_state *state = engine->private;
	struct mc_unregister_work batch_work = { .engine = engine }, gone = { .engine = engine };
	struct task_struct *task;

	batch_work.batch = mc_test_batch(test);
	init_completion(&batch_work.done);
	init_completion(&gone.done);
	state->block = true;
	KUNIT_ASSERT_EQ(test, migrate_copy_engine_register(engine), 0);

	task = kthread_run(mc_batch_thread, &batch_work, "mc-kunit-batch");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&state->entered);
	task = kthread_run(mc_unregister_thread, &gone, "mc-kunit-unreg");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	msleep(100);
	KUNIT_EXPECT_FALSE_MSG(test, READ_ONCE(gone.finished),
			       "unregister returned while a batch ran on the engine");
	complete(&state->release);
	wait_for_completion(&batch_work.done);
	wait_for_completion(&gone.done);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(gone.finished));
	mc_expect_all_copied(test, batch_work.batch);
}

static void mc_chosen_engine_reverts_to_auto(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);

	KUNIT_ASSERT_EQ(test, migrate_copy_engine_register(engine), 0);
	mutex_lock(&migrate_copy_lock);
	migrate_copy_select_engine(engine);
	mutex_unlock(&migrate_copy_lock);
	migrate_copy_engine_unregister(engine);
	mutex_lock(&migrate_copy_lock);
	KUNIT_EXPECT_NULL(test, migrate_copy_selected_engine());
	mutex_unlock(&migrate_copy_lock);
}

#ifdef CONFIG_MODULE_UNLOAD
static struct module mc_fake_module;

static void mc_module_owner(struct kunit *test)
{
	struct migrate_copy_engine_ops ops = mc_fake_ops;
	struct migrate_copy_engine *engine = mc_fake_engine(test, &ops);
	struct mc_fake_state *state = engine->private;
	struct migrate_copy_batch *batch = mc_test_batch(test);
	unsigned long cpu_before;

	ops.owner = &mc_fake_module;
	mc_fake_module.state = MODULE_STATE_LIVE;
	atomic_set(&mc_fake_module.refcnt, 1);	/* MODULE_REF_BASE */

	mc_run(engine, batch);
	KUNIT_EXPECT_EQ(test, state->calls, 1);
	KUNIT_EXPECT_EQ_MSG(test, state->owner_refs_seen, 1,
			    "the owner was not held while the batch ran");
	KUNIT_EXPECT_EQ(test, module_refcount(&mc_fake_module), 0);

	/* A module on its way out is not called: the CPU copies instead. */
	mc_fake_module.state = MODULE_STATE_GOING;
	batch = mc_test_batch(test);
	cpu_before = mc_event(MIGRATE_COPY_CPU);
	mc_run(engine, batch);
	KUNIT_EXPECT_EQ(test, state->calls, 1);
	KUNIT_EXPECT_GE(test, mc_event(MIGRATE_COPY_CPU) - cpu_before, batch->nr);
	mc_expect_all_copied(test, batch);
}
#else
static void mc_module_owner(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MODULE_UNLOAD for module reference counts");
}
#endif

static struct kunit_case migrate_copy_registration_cases[] = {
	KUNIT_CASE(mc_register_find_unregister),
	KUNIT_CASE(mc_register_twice),
	KUNIT_CASE(mc_register_bad_ops),
	KUNIT_CASE(mc_unregister_waits_for_batch),
	KUNIT_CASE(mc_chosen_engine_reverts_to_auto),
	KUNIT_CASE(mc_module_owner),
	{}
};

static struct kunit_suite migrate_copy_registration_suite = {
	.name = "migrate_copy_registration",
	.test_cases = migrate_copy_registration_cases,
};

/* ---- which folios are copied ahead, and how results are read ---- */

/*
 * Two unmapped base folios and their destinations, on parallel lists, and an
 * empty batch for them.
 */
static struct migrate_copy_batch *mc_test_lists(struct kunit *test, struct folio **src,
						struct folio **dst,
						struct list_head *src_folios,
						struct list_head *dst_folios)
{
	struct migrate_copy_batch *batch;
	unsigned int i;

	batch = migrate_copy_batch_alloc(2, MR_SYSCALL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mc_free_batch, batch), 0);
	for (i = 0; i < 2; i++) {
		src[i] = mc_test_folio(test, 0);
		dst[i] = mc_test_folio(test, 0);
		list_add_tail(&src[i]->lru, src_folios);
		list_add_tail(&dst[i]->lru, dst_folios);
	}
	return batch;
}

static void mc_hwpoisoned_not_eligible(struct kunit *test)
{
	struct migrate_copy_batch *batch;
	struct folio *src[2], *dst[2];
	LIST_HEAD(src_folios);
	LIST_HEAD(dst_folios);

	batch = mc_test_lists(test, src, dst, &src_folios, &dst_folios);

	migrate_copy_batch_build(batch, &src_folios, &dst_folios);
	KUNIT_EXPECT_EQ(test, batch->nr, 2);

	/* Without CONFIG_MEMORY_FAILURE no folio is ever marked hwpoisoned. */
	if (!IS_ENABLED(CONFIG_MEMORY_FAILURE))
		kunit_skip(test, "CONFIG_MEMORY_FAILURE is off: no hwpoison flag");
	SetPageHWPoison(&src[0]->page);
	migrate_copy_batch_build(batch, &src_folios, &dst_folios);
	ClearPageHWPoison(&src[0]->page);
	KUNIT_ASSERT_EQ_MSG(test, batch->nr, 1, "a hwpoisoned folio went to the engine");
	KUNIT_EXPECT_PTR_EQ(test, batch->items[0].src, src[1]);
}

/* The move phase reads the results along the list the batch was built from. */
static void mc_results_follow_the_list(struct kunit *test)
{
	struct migrate_copy_batch *batch;
	struct folio *src[2], *dst[2];
	LIST_HEAD(src_folios);
	LIST_HEAD(dst_folios);
	unsigned int cursor = 0;

	batch = mc_test_lists(test, src, dst, &src_folios, &dst_folios);

	/* Only the second folio is in the batch: it timed out. */
	folio_get(src[0]);
	migrate_copy_batch_build(batch, &src_folios, &dst_folios);
	folio_put(src[0]);
	KUNIT_ASSERT_EQ(test, batch->nr, 1);
	batch->items[0].result = -ETIMEDOUT;
	KUNIT_EXPECT_EQ(test, migrate_copy_next_result(batch, &cursor, src[0]), -ENODATA);
	KUNIT_EXPECT_EQ(test, migrate_copy_next_result(batch, &cursor, src[1]), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, cursor, 1);
	KUNIT_EXPECT_EQ(test, migrate_copy_next_result(NULL, &cursor, src[1]), -ENODATA);
}

static void mc_referenced_not_eligible(struct kunit *test)
{
	struct migrate_copy_batch *batch;
	struct folio *src[2], *dst[2];
	LIST_HEAD(src_folios);
	LIST_HEAD(dst_folios);

	batch = mc_test_lists(test, src, dst, &src_folios, &dst_folios);

	/* A writer holding a reference could write after the copy. */
	folio_get(src[1]);
	migrate_copy_batch_build(batch, &src_folios, &dst_folios);
	folio_put(src[1]);
	KUNIT_ASSERT_EQ(test, batch->nr, 1);
	KUNIT_EXPECT_PTR_EQ(test, batch->items[0].src, src[0]);
}

/* An engine that reports poison: a failure, and no fallback copy. */
static void mc_poison_is_not_a_fallback(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	struct mc_fake_state *state = engine->private;
	struct migrate_copy_batch *batch = mc_test_batch(test);
	unsigned long fallback = mc_event(MIGRATE_COPY_FALLBACK);
	unsigned long offload = mc_event(MIGRATE_COPY_OFFLOAD);
	unsigned int i, poisoned = 0;

	state->failures = MC_FAIL_EVERY_OTHER;
	state->failure_errno = -EHWPOISON;
	for (i = 0; i < batch->nr; i++)
		poisoned += mc_fake_fails(state->failures, i);
	KUNIT_ASSERT_GT(test, poisoned, 0);

	KUNIT_EXPECT_EQ(test, mc_run(engine, batch), poisoned);
	for (i = 0; i < batch->nr; i++)
		KUNIT_EXPECT_EQ(test, batch->items[i].result,
				mc_fake_fails(state->failures, i) ? -EHWPOISON : 0);
	KUNIT_EXPECT_EQ(test, mc_event(MIGRATE_COPY_FALLBACK) - fallback, 0);
	KUNIT_EXPECT_EQ(test, mc_event(MIGRATE_COPY_OFFLOAD) - offload, batch->nr - poisoned);
}

static struct kunit_case migrate_copy_eligibility_cases[] = {
	KUNIT_CASE(mc_hwpoisoned_not_eligible),
	KUNIT_CASE(mc_results_follow_the_list),
	KUNIT_CASE(mc_referenced_not_eligible),
	KUNIT_CASE(mc_poison_is_not_a_fallback),
	{}
};

static struct kunit_suite migrate_copy_eligibility_suite = {
	.name = "migrate_copy_eligibility",
	.test_cases = migrate_copy_eligibility_cases,
};

/* ---- fallback for each failure shape ---- */

static void mc_fallback_shape(struct kunit *test, enum mc_fake_failures failures)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	struct mc_fake_state *state = engine->private;
	struct migrate_copy_batch *batch = mc_test_batch(test);
	unsigned long offload = mc_event(MIGRATE_COPY_OFFLOAD);
	unsigned long fallback = mc_event(MIGRATE_COPY_FALLBACK);
	unsigned int i, expected_failures = 0;

	state->failures = failures;
	for (i = 0; i < batch->nr; i++)
		expected_failures += mc_fake_fails(failures, i);

	KUNIT_EXPECT_EQ(test, mc_run(engine, batch), expected_failures);
	for (i = 0; i < batch->nr; i++) {
		bool fails = mc_fake_fails(failures, i);

		KUNIT_EXPECT_EQ(test, batch->items[i].result, fails ? -EIO : 0);
		if (fails)
			KUNIT_EXPECT_GT(test, mc_count_mismatches(batch->items[i].dst, i), 0);
	}
	KUNIT_EXPECT_EQ(test, mc_event(MIGRATE_COPY_OFFLOAD) - offload,
			batch->nr - expected_failures);
	KUNIT_EXPECT_EQ(test, mc_event(MIGRATE_COPY_FALLBACK) - fallback, expected_failures);

	mc_move_phase_copy(batch);
	mc_expect_all_copied(test, batch);
}

static void mc_fallback_none(struct kunit *test)
{
	mc_fallback_shape(test, MC_FAIL_NONE);
}

static void mc_fallback_all(struct kunit *test)
{
	mc_fallback_shape(test, MC_FAIL_ALL);
}

static void mc_fallback_some(struct kunit *test)
{
	mc_fallback_shape(test, MC_FAIL_SOME);
}

static void mc_fallback_every_other(struct kunit *test)
{
	mc_fallback_shape(test, MC_FAIL_EVERY_OTHER);
}

static void mc_fallback_engine_error(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	struct mc_fake_state *state = engine->private;
	struct migrate_copy_batch *batch = mc_test_batch(test);
	unsigned int i;

	/* The engine gives up before touching any item. */
	state->early_error = -ENODEV;
	KUNIT_EXPECT_EQ(test, mc_run(engine, batch), batch->nr);
	for (i = 0; i < batch->nr; i++)
		KUNIT_EXPECT_NE(test, batch->items[i].result, 0);
	mc_move_phase_copy(batch);
	mc_expect_all_copied(test, batch);
}

static struct kunit_case migrate_copy_fallback_cases[] = {
	KUNIT_CASE(mc_fallback_none),
	KUNIT_CASE(mc_fallback_all),
	KUNIT_CASE(mc_fallback_some),
	KUNIT_CASE(mc_fallback_every_other),
	KUNIT_CASE(mc_fallback_engine_error),
	{}
};

static struct kunit_suite migrate_copy_fallback_suite = {
	.name = "migrate_copy_fallback",
	.test_cases = migrate_copy_fallback_cases,
};

/* ---- policy parsing ---- */

static void mc_parse_reason_names(struct kunit *test)
{
	unsigned long reasons = 0;

	KUNIT_EXPECT_EQ(test,
			migrate_copy_parse_reasons("compaction syscall_or_cpuset", &reasons), 0);
	KUNIT_EXPECT_EQ(test, reasons, BIT(MR_COMPACTION) | BIT(MR_SYSCALL));
	KUNIT_EXPECT_EQ(test, migrate_copy_parse_reasons("numa_misplaced,demotion\n", &reasons), 0);
	KUNIT_EXPECT_EQ(test, reasons, BIT(MR_NUMA_MISPLACED) | BIT(MR_DEMOTION));
	KUNIT_EXPECT_EQ(test, migrate_copy_parse_reasons("all", &reasons), 0);
	KUNIT_EXPECT_EQ(test, reasons, BIT(MR_TYPES) - 1);
	KUNIT_EXPECT_EQ(test, migrate_copy_parse_reasons("none\n", &reasons), 0);
	KUNIT_EXPECT_EQ(test, reasons, 0);
}

static void mc_parse_reason_rejects(struct kunit *test)
{
	static const char *const bad[] = { "", " , ", "compaction bogus", "all compaction",
		"none syscall_or_cpuset", "Compaction", "syscall_or_cpuset;demotion",
		"syscall" };
	unsigned long reasons = BIT(MR_DAMON);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, migrate_copy_parse_reasons(bad[i], &reasons), -EINVAL,
				    "\"%s\" was accepted", bad[i]);
		KUNIT_EXPECT_EQ(test, reasons, BIT(MR_DAMON));
	}
}

static void mc_parse_min_bytes(struct kunit *test)
{
	static const char *const bad[] = { "", "-1", "abc", "4k", "1073741825",
		"99999999999999999999999" };
	size_t bytes = 123;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, migrate_copy_parse_min_bytes("65536\n", &bytes), 0);
	KUNIT_EXPECT_EQ(test, bytes, 65536);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, migrate_copy_parse_min_bytes(bad[i], &bytes), -EINVAL,
				    "\"%s\" was accepted", bad[i]);
		KUNIT_EXPECT_EQ(test, bytes, 65536);
	}
}

static void mc_reason_policy_applies(struct kunit *test)
{
	unsigned long saved = READ_ONCE(migrate_copy_policy.reasons);

	WRITE_ONCE(migrate_copy_policy.reasons, BIT(MR_COMPACTION));
	KUNIT_EXPECT_TRUE(test, migrate_copy_reason_allowed(MR_COMPACTION));
	KUNIT_EXPECT_FALSE(test, migrate_copy_reason_allowed(MR_SYSCALL));
	KUNIT_EXPECT_FALSE(test, migrate_copy_reason_allowed(MR_TYPES));
	WRITE_ONCE(migrate_copy_policy.reasons, saved);
}

/*
 * What mc_cpu_alone_not_copied_ahead() changes, restored when it ends, and
 * its list of folios (not on the stack: the folio is unlinked after return).
 */
struct mc_saved_choice {
	unsigned long reasons;
	struct migrate_copy_engine *chosen;
	struct list_head folios;
};

static void mc_select(struct migrate_copy_engine *engine)
{
	mutex_lock(&migrate_copy_lock);
	migrate_copy_select_engine(engine);
	mutex_unlock(&migrate_copy_lock);
}

static void mc_restore_choice(void *data)
{
	struct mc_saved_choice *saved = data;

	if (!list_empty(&saved->folios))
		list_del(saved->folios.next);
	WRITE_ONCE(migrate_copy_policy.reasons, saved->reasons);
	mc_select(saved->chosen);
}

/* Whether a batch for @folios would be copied ahead now. */
static bool mc_copied_ahead(struct list_head *folios)
{
	struct migrate_copy_batch *batch;

	batch = migrate_copy_batch_prepare(folios, MIGRATE_SYNC, MR_SYSCALL);
	migrate_copy_batch_free(batch);
	return batch;
}

/*
 * Registering and unregistering an engine must update what selecting one
 * updates: nothing is selected between them and the checks that follow.
 */
static void mc_cpu_alone_not_copied_ahead(struct kunit *test)
{
	struct migrate_copy_engine *engine = mc_fake_engine(test, &mc_fake_ops);
	struct folio *folio = mc_test_folio(test, 0);
	struct mc_saved_choice *saved = kunit_kzalloc(test, sizeof(*saved), GFP_KERNEL);
	struct list_head *folios;
	bool cpu_alone;

	KUNIT_ASSERT_NOT_NULL(test, saved);
	folios = &saved->folios;
	INIT_LIST_HEAD(folios);
	mutex_lock(&migrate_copy_lock);
	saved->chosen = migrate_copy_selected_engine();
	migrate_copy_select_engine(NULL);
	cpu_alone = list_is_singular(&migrate_copy_engines);
	mutex_unlock(&migrate_copy_lock);
	saved->reasons = READ_ONCE(migrate_copy_policy.reasons);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mc_restore_choice, saved), 0);
	list_add(&folio->lru, folios);
	WRITE_ONCE(migrate_copy_policy.reasons, BIT(MR_SYSCALL));

	if (cpu_alone)
		KUNIT_EXPECT_FALSE_MSG(test, mc_copied_ahead(folios),
				       "auto with the CPU engine alone copies ahead");
	KUNIT_ASSERT_EQ(test, migrate_copy_engine_register(engine), 0);
	KUNIT_EXPECT_TRUE_MSG(test, mc_copied_ahead(folios),
			      "auto with another engine registered does not copy ahead");
	mc_select(&migrate_copy_cpu_engine);
	KUNIT_EXPECT_FALSE_MSG(test, mc_copied_ahead(folios), "engine cpu copies ahead");
	mc_select(engine);
	KUNIT_EXPECT_TRUE(test, mc_copied_ahead(folios));
	mc_select(NULL);
	migrate_copy_engine_unregister(engine);
	if (cpu_alone)
		KUNIT_EXPECT_FALSE_MSG(test, mc_copied_ahead(folios),
				       "auto copies ahead after the other engine went");
	else
		kunit_info(test, "another engine is registered: auto alone not tried\n");
}

static void mc_drain(void *unused)
{
	migrate_copy_batch_drain();
}

static void mc_full_batches_are_kept(struct kunit *test)
{
	struct migrate_copy_batch *small, *full, *kept;
	bool enabled = READ_ONCE(migrate_copy_on);

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mc_drain, NULL), 0);
	migrate_copy_batch_drain();
	small = migrate_copy_batch_alloc(2, MR_SYSCALL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, small);
	KUNIT_EXPECT_FALSE(test, migrate_copy_batch_keep(small));
	kvfree(small);
	full = migrate_copy_batch_alloc(MIGRATE_COPY_CACHED_CAPACITY, MR_SYSCALL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, full);
	if (!migrate_copy_batch_keep(full)) {
		kvfree(full);
		KUNIT_FAIL(test, "a full batch was not kept");
		return;
	}
	/* Disabled, it was freed at once; if a migration swapped it, mc_drain() frees it. */
	kept = migrate_copy_batch_take_cached();
	KUNIT_EXPECT_PTR_EQ(test, kept, enabled ? full : NULL);
	kvfree(kept);
}

static struct kunit_case migrate_copy_policy_cases[] = {
	KUNIT_CASE(mc_parse_reason_names),
	KUNIT_CASE(mc_parse_reason_rejects),
	KUNIT_CASE(mc_parse_min_bytes),
	KUNIT_CASE(mc_reason_policy_applies),
	KUNIT_CASE(mc_cpu_alone_not_copied_ahead),
	KUNIT_CASE(mc_full_batches_are_kept),
	{}
};

static struct kunit_suite migrate_copy_policy_suite = {
	.name = "migrate_copy_policy",
	.test_cases = migrate_copy_policy_cases,
};

/* ---- automatic selection, with static stub engines ---- */

static int mc_stub_copy_batch(struct migrate_copy_engine *engine,
			      struct migrate_copy_batch *batch)
{
	return -EOPNOTSUPP;
}

static const struct migrate_copy_engine_ops mc_stub_ops[] = {
	{ .name = "stub-a", .copy_batch = mc_stub_copy_batch, .nid = NUMA_NO_NODE },
	{ .name = "stub-b", .copy_batch = mc_stub_copy_batch, .nid = NUMA_NO_NODE },
	{ .name = "stub-node0", .copy_batch = mc_stub_copy_batch, .nid = 0 },
	{ .name = "stub-big", .copy_batch = mc_stub_copy_batch, .nid = NUMA_NO_NODE,
	  .min_bytes = SZ_1M },
};

struct mc_stubs {
	struct list_head list;
	struct migrate_copy_engine engine[ARRAY_SIZE(mc_stub_ops)];
	struct migrate_copy_batch batch;
};

/* Stub engines 0..@nr-1 with the given rates, on a private list. */
static struct mc_stubs *mc_stubs(struct kunit *test, const unsigned long *rates,
				 unsigned int nr)
{
	struct mc_stubs *stubs = kunit_kzalloc(test, sizeof(*stubs), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, stubs);
	INIT_LIST_HEAD(&stubs->list);
	for (i = 0; i < nr; i++) {
		stubs->engine[i].ops = &mc_stub_ops[i];
		stubs->engine[i].throughput[MIGRATE_COPY_CLASS_BASE] = rates[i];
		stubs->engine[i].next_explore = ULONG_MAX / 2;
		list_add_tail(&stubs->engine[i].list, &stubs->list);
	}
	stubs->batch.bytes = 64 * PAGE_SIZE;
	stubs->batch.dst_nid = NUMA_NO_NODE;
	stubs->batch.size_class = MIGRATE_COPY_CLASS_BASE;
	return stubs;
}

static struct migrate_copy_engine *mc_pick_main(struct mc_stubs *stubs, unsigned long sequence,
						 struct migrate_copy_engine **probe)
{
	struct migrate_copy_choice choice;
	int index;

	/* The core walks its engine lists under migrate_copy_srcu. */
	index = srcu_read_lock(&migrate_copy_srcu);
	migrate_copy_pick(&stubs->list, &stubs->batch, sequence, &choice);
	srcu_read_unlock(&migrate_copy_srcu, index);
	if (probe)
		*probe = choice.probe;
	return choice.main;
}

static void mc_auto_measures_unmeasured_on_a_probe(struct kunit *test)
{
	static const unsigned long rates[] = { 500, 0 };
	struct mc_stubs *stubs = mc_stubs(test, rates, 2);
	struct migrate_copy_engine *probe;

	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 1, &probe), &stubs->engine[0]);
	KUNIT_EXPECT_PTR_EQ(test, probe, &stubs->engine[1]);
	/* The probe measured it slower: not measured again in the next batch. */
	stubs->engine[1].throughput[MIGRATE_COPY_CLASS_BASE] = 100;
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 2, &probe), &stubs->engine[0]);
	KUNIT_EXPECT_NULL(test, probe);
}

static void mc_auto_nothing_measured(struct kunit *test)
{
	static const unsigned long rates[] = { 0, 0 };
	struct mc_stubs *stubs = mc_stubs(test, rates, 2);
	struct migrate_copy_engine *probe;

	/* The first unmeasured engine takes the whole batch. */
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 1, &probe), &stubs->engine[0]);
	KUNIT_EXPECT_NULL(test, probe);
}

static void mc_auto_best_rate_wins(struct kunit *test)
{
	static const unsigned long rates[] = { 300, 900 };
	struct mc_stubs *stubs = mc_stubs(test, rates, 2);

	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 1, NULL), &stubs->engine[1]);
	stubs->engine[0].throughput[MIGRATE_COPY_CLASS_BASE] = 1000;
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 2, NULL), &stubs->engine[0]);
}

static void mc_auto_prefers_destination_node(struct kunit *test)
{
	static const unsigned long rates[] = { 0, 90, 100 };
	struct mc_stubs *stubs = mc_stubs(test, rates, 3);

	/* stub-a stays out: it is not on the list. */
	list_del(&stubs->engine[0].list);
	stubs->batch.dst_nid = 1;
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 1, NULL), &stubs->engine[1]);
	stubs->batch.dst_nid = 0;
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 2, NULL), &stubs->engine[2]);
}

static void mc_auto_respects_min_bytes(struct kunit *test)
{
	static const unsigned long rates[] = { 100, 0, 0, 5000 };
	struct mc_stubs *stubs = mc_stubs(test, rates, 4);

	list_del(&stubs->engine[1].list);
	list_del(&stubs->engine[2].list);
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 1, NULL), &stubs->engine[0]);
	stubs->batch.bytes = SZ_2M;
	KUNIT_EXPECT_PTR_EQ(test, mc_pick_main(stubs, 2, NULL), &stubs->engine[3]);
}

/* A slower engine is measured again now and then, the rarer the slower. */
static void mc_auto_explores_rarely(struct kunit *test)
{
	static const unsigned long rates[] = { 1000, 100 };
	struct mc_stubs *stubs = mc_stubs(test, rates, 2);
	unsigned long sequence, probes = 0, first_probe = 0;
	struct migrate_copy_engine *probe;

	stubs->engine[1].next_explore = 0;
	for (sequence = 1; sequence <= 20000; sequence++) {
		KUNIT_ASSERT_PTR_EQ(test, mc_pick_main(stubs, sequence, &probe),
				    &stubs->engine[0]);
		if (probe != &stubs->engine[1])
			continue;
		probes++;
		if (!first_probe)
			first_probe = sequence;
	}
	KUNIT_EXPECT_EQ(test, first_probe, 1);
	/* Intervals of 640, 1280, 2560, ...: 6 probes in 20000 batches. */
	KUNIT_EXPECT_GE(test, probes, 4);
	KUNIT_EXPECT_LE_MSG(test, probes, 8,
			    "auto measured a 10x slower engine %lu times in 20000 batches",
			    probes);
}

/* The probe engine copies the last folios of the batch, the main one the rest. */
static void mc_probe_split(struct kunit *test)
{
	struct migrate_copy_engine *main = mc_fake_engine(test, &mc_fake_ops);
	struct migrate_copy_engine *probe = mc_fake_engine(test, &mc_fake_twin_ops);
	struct migrate_copy_choice choice = { .main = main, .probe = probe };
	struct mc_fake_state *main_state = main->private, *probe_state = probe->private;
	struct migrate_copy_batch *batch = mc_test_batch(test);
	unsigned int i, nr = batch->nr, first = nr - MIGRATE_COPY_PROBE_FOLIOS;
	size_t bytes = batch->bytes;
	int index;

	probe_state->failures = MC_FAIL_ALL;
	index = srcu_read_lock(&migrate_copy_srcu);
	migrate_copy_run_split(&choice, batch);
	srcu_read_unlock(&migrate_copy_srcu, index);

	KUNIT_EXPECT_EQ(test, main_state->calls, 1);
	KUNIT_EXPECT_EQ(test, probe_state->calls, 1);
	KUNIT_EXPECT_EQ(test, batch->nr, nr);
	KUNIT_EXPECT_EQ(test, batch->bytes, bytes);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, batch->items[i].result, i < first ? 0 : -EIO,
				    "folio %u went to the wrong engine", i);
	mc_move_phase_copy(batch);
	mc_expect_all_copied(test, batch);
}

static void mc_rate_average_decays(struct kunit *test)
{
	struct migrate_copy_engine engine = { .ops = &mc_stub_ops[0] };

	/* 8000 bytes in 1 us, then 16000: the average moves by 1/8 of the gap. */
	migrate_copy_update_rate(&engine, MIGRATE_COPY_CLASS_PMD, 8000, 1000);
	KUNIT_EXPECT_EQ(test, engine.throughput[MIGRATE_COPY_CLASS_PMD], 8000);
	migrate_copy_update_rate(&engine, MIGRATE_COPY_CLASS_PMD, 16000, 1000);
	KUNIT_EXPECT_EQ(test, engine.throughput[MIGRATE_COPY_CLASS_PMD], 9000);
	/* A batch that copied nothing still counts as measured. */
	migrate_copy_update_rate(&engine, MIGRATE_COPY_CLASS_BASE, 0, 1000);
	KUNIT_EXPECT_EQ(test, engine.throughput[MIGRATE_COPY_CLASS_BASE], 1);
}

static struct kunit_case migrate_copy_auto_cases[] = {
	KUNIT_CASE(mc_auto_measures_unmeasured_on_a_probe),
	KUNIT_CASE(mc_auto_nothing_measured),
	KUNIT_CASE(mc_auto_best_rate_wins),
	KUNIT_CASE(mc_auto_prefers_destination_node),
	KUNIT_CASE(mc_auto_respects_min_bytes),
	KUNIT_CASE(mc_auto_explores_rarely),
	KUNIT_CASE(mc_probe_split),
	KUNIT_CASE(mc_rate_average_decays),
	{}
};

static struct kunit_suite migrate_copy_auto_suite = {
	.name = "migrate_copy_auto",
	.test_cases = migrate_copy_auto_cases,
};

kunit_test_suites(&migrate_copy_registration_suite, &migrate_copy_eligibility_suite,
		  &migrate_copy_fallback_suite, &migrate_copy_policy_suite,
		  &migrate_copy_auto_suite);

#endif /* _MM_TESTS_MIGRATE_COPY_KUNIT_H */
