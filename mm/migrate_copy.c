// SPDX-License-Identifier: GPL-2.0
/*
 * Batched folio copy for page migration, with pluggable copy engines.
 *
 * migrate_pages_batch() unmaps a batch of folios and flushes the TLB once;
 * right after that flush, migrate_copy_folios() hands the copy of every
 * eligible folio of the batch to one copy engine in one call. The move phase
 * then skips the copy of each folio the engine copied and copies the others
 * on the CPU, folio by folio, exactly as before.
 *
 * The CPU engine is built in and always registered. Other engines (a DSA
 * work queue through dmaengine, test engines) register from their module
 * init. "auto" picks an engine per batch from a decaying average of the
 * throughput each engine achieved for the batch's folio size class. The CPU
 * engine copies ahead only when auto weighs it against another engine: a
 * batch only the CPU would copy is left to the move phase.
 *
 * Rules, because the batch's folios are locked while an engine copies:
 * the batch is allocated before its first folio is locked, engines must not
 * allocate with reclaim and must return in bounded time, and an engine never
 * writes a destination folio after its copy_batch() returned with a failure
 * for it.
 */

#define pr_fmt(fmt) "migrate_copy: " fmt

#include <linux/ctype.h>
#include <linux/ktime.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/vmstat.h>

#define CREATE_TRACE_POINTS
#include <trace/events/migrate_copy.h>

#include "migrate_copy.h"

/*
 * An engine slower than the best is measured again after this many batches
 * times how many times slower it was, so that re-measuring costs about
 * 1/64 of the time at most; the interval doubles each time it is still
 * slower, up to 64 times.
 */
#define MIGRATE_COPY_EXPLORE_INTERVAL	64
#define MIGRATE_COPY_EXPLORE_MAX_SHIFT	6
#define MIGRATE_COPY_EXPLORE_MAX_SLOWDOWN	64
/* An engine is measured on the last this many folios of a larger batch. */
#define MIGRATE_COPY_PROBE_FOLIOS	8
/* A new throughput sample weighs 1 / 2^MIGRATE_COPY_EWMA_SHIFT. */
#define MIGRATE_COPY_EWMA_SHIFT		3
#define MIGRATE_COPY_NAME_MAX		32
/*
 * Batches of this many folios (as many as a migration batch of 4 KiB pages
 * holds on x86) are kept for the next migration batch, at most
 * MIGRATE_COPY_CACHED_BATCHES of them (12 KiB each): allocating one per
 * migration batch, zeroed on allocation or free when init_on_alloc or
 * init_on_free is on, costs more than the rest of the batch's bookkeeping.
 * A smaller batch uses a kept one if there is one, and is allocated to its
 * size otherwise.
 */
#define MIGRATE_COPY_CACHED_CAPACITY	512
#define MIGRATE_COPY_CACHED_BATCHES	4

DEFINE_STATIC_KEY_FALSE(migrate_copy_enabled_key);
/* Serialises engine registration and every change of the knobs. */
DEFINE_MUTEX(migrate_copy_lock);
/* Batches in flight hold it: an engine is unregistered only once they end. */
DEFINE_STATIC_SRCU(migrate_copy_srcu);
static LIST_HEAD(migrate_copy_engines);
/* The engine an operator chose, or NULL for auto. */
static struct migrate_copy_engine __rcu *migrate_copy_chosen;
static atomic_long_t migrate_copy_sequence;
static bool migrate_copy_on = IS_ENABLED(CONFIG_MIGRATE_COPY_DEFAULT_ON);
static struct migrate_copy_batch *migrate_copy_cached[MIGRATE_COPY_CACHED_BATCHES];
/*
 * True while the CPU engine would copy every batch: the operator chose it, or
 * it is the only engine auto has.  Copying ahead on the CPU then only adds a
 * pass over each batch to the copy the move phase makes anyway, so batches
 * are not copied ahead.
 */
static bool migrate_copy_cpu_only = true;

struct migrate_copy_policy migrate_copy_policy = {
	.reasons = (BIT(MR_TYPES) - 1) & ~BIT(MR_MEMORY_FAILURE),
	.min_batch_bytes = 0,
};

static int cpu_copy_batch(struct migrate_copy_engine *engine,
			  struct migrate_copy_batch *batch)
{
	unsigned int i, failed = 0;

	for (i = 0; i < batch->nr; i++) {
		struct migrate_copy_item *item = &batch->items[i];

		/* -EHWPOISON: the folio fails to migrate, without a second copy. */
		item->result = folio_mc_copy(item->dst, item->src);
		failed += item->result != 0;
		cond_resched();
	}
	return failed;
}

static const struct migrate_copy_engine_ops migrate_copy_cpu_ops = {
	.name = "cpu",
	.copy_batch = cpu_copy_batch,
	.nid = NUMA_NO_NODE,
};

static struct migrate_copy_engine migrate_copy_cpu_engine = {
	.ops = &migrate_copy_cpu_ops,
};

static bool migrate_copy_name_valid(const char *name)
{
	size_t len = strnlen(name, MIGRATE_COPY_NAME_MAX);
	size_t i;

	if (!len || len == MIGRATE_COPY_NAME_MAX || !strcmp(name, "auto"))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

/* Context: migrate_copy_lock held. */
struct migrate_copy_engine *migrate_copy_engine_find(const char *name)
{
	struct migrate_copy_engine *engine;

	lockdep_assert_held(&migrate_copy_lock);
	list_for_each_entry(engine, &migrate_copy_engines, list)
		if (!strcmp(engine->ops->name, name))
			return engine;
	return NULL;
}

static bool migrate_copy_engine_listed(struct migrate_copy_engine *wanted)
{
	struct migrate_copy_engine *engine;

	lockdep_assert_held(&migrate_copy_lock);
	list_for_each_entry(engine, &migrate_copy_engines, list)
		if (engine == wanted)
			return true;
	return false;
}

/* Context: migrate_copy_lock held. */
static void migrate_copy_update_cpu_only(void)
{
	struct migrate_copy_engine *chosen = migrate_copy_selected_engine();

	WRITE_ONCE(migrate_copy_cpu_only, chosen == &migrate_copy_cpu_engine ||
		   (!chosen && list_is_singular(&migrate_copy_engines)));
}

/**
 * migrate_copy_engine_register() - Offer a copy engine to page migration.
 * @engine: The engine, with @engine->ops set. It must stay allocated until
 *	migrate_copy_engine_unregister() returned.
 *
 * Context: Process context; takes a mutex.
 * Return: 0 on success, -EINVAL if the ops are incomplete or the name is
 * not valid, -EBUSY if @engine is registered already, -EEXIST if another
 * engine has the same name.
 */
int migrate_copy_engine_register(struct migrate_copy_engine *engine)
{
	const struct migrate_copy_engine_ops *ops = engine->ops;
	int ret = 0;

	if (!ops || !ops->name || !ops->copy_batch || !migrate_copy_name_valid(ops->name))
		return -EINVAL;

	mutex_lock(&migrate_copy_lock);
	if (migrate_copy_engine_listed(engine)) {
		ret = -EBUSY;
	} else if (migrate_copy_engine_find(ops->name)) {
		ret = -EEXIST;
	} else {
		memset(engine->throughput, 0, sizeof(engine->throughput));
		engine->next_explore = 0;
		engine->explore_shift = 0;
		list_add_tail_rcu(&engine->list, &migrate_copy_engines);
		migrate_copy_update_cpu_only();
	}
	mutex_unlock(&migrate_copy_lock);

	if (!ret)
		pr_info("engine %s registered\n", ops->name);
	return ret;
}
EXPORT_SYMBOL_GPL(migrate_copy_engine_register);

/**
 * migrate_copy_engine_unregister() - Withdraw a copy engine.
 * @engine: A registered engine.
 *
 * Batches already running on @engine finish first; no new batch starts on
 * it. If an operator had chosen @engine, the choice reverts to auto.
 *
 * Context: Process context; sleeps until those batches end.
 */
void migrate_copy_engine_unregister(struct migrate_copy_engine *engine)
{
	mutex_lock(&migrate_copy_lock);
	if (WARN_ON_ONCE(!migrate_copy_engine_listed(engine))) {
		mutex_unlock(&migrate_copy_lock);
		return;
	}
	if (rcu_access_pointer(migrate_copy_chosen) == engine) {
		RCU_INIT_POINTER(migrate_copy_chosen, NULL);
		pr_info("engine %s goes away: engine selection is auto again\n",
			engine->ops->name);
	}
	list_del_rcu(&engine->list);
	migrate_copy_update_cpu_only();
	mutex_unlock(&migrate_copy_lock);

	synchronize_srcu(&migrate_copy_srcu);
	pr_info("engine %s unregistered\n", engine->ops->name);
}
EXPORT_SYMBOL_GPL(migrate_copy_engine_unregister);

static bool migrate_copy_reason_allowed(enum migrate_reason reason)
{
	return (unsigned int)reason < MR_TYPES &&
	       (READ_ONCE(migrate_copy_policy.reasons) & BIT(reason));
}

/*
 * Only folios whose migration callback copies through __migrate_folio(),
 * which skips the copy of a folio copied ahead, may be copied ahead.
 * Folios with buffer heads are not: their buffers are locked only in the
 * move phase.
 */
static bool migrate_copy_mapping_eligible(struct folio *src)
{
	struct address_space *mapping;

	/* Anonymous and KSM folios, in the swap cache or not, are. */
	if (folio_test_anon(src))
		return true;
	mapping = folio_mapping(src);
	if (!mapping)
		return true;
	if (mapping_inaccessible(mapping))
		return false;
	return mapping->a_ops->migrate_folio == migrate_folio ||
	       mapping->a_ops->migrate_folio == filemap_migrate_folio;
}

/*
 * A folio is copied ahead only if nobody but the migration holds a
 * reference: a writer holding one could otherwise write after the copy.
 */
static bool migrate_copy_folio_eligible(struct folio *src, struct folio *dst)
{
	if (__folio_test_movable(src) || folio_test_hugetlb(src))
		return false;
	/* Known poison stays with the CPU copy, which fails on it. */
	if (folio_contain_hwpoisoned_page(src))
		return false;
	if (folio_nr_pages(src) != folio_nr_pages(dst))
		return false;
	if (!migrate_copy_mapping_eligible(src))
		return false;
	return folio_ref_count(src) == folio_expected_ref_count(src) + 1;
}

static enum migrate_copy_class migrate_copy_folio_class(struct folio *folio)
{
	unsigned int order = folio_order(folio);

	if (!order)
		return MIGRATE_COPY_CLASS_BASE;
	if (order < HPAGE_PMD_ORDER)
		return MIGRATE_COPY_CLASS_LARGE;
	return MIGRATE_COPY_CLASS_PMD;
}

static void migrate_copy_batch_add(struct migrate_copy_batch *batch,
				   struct folio *src, struct folio *dst,
				   size_t *class_bytes)
{
	struct migrate_copy_item *item = &batch->items[batch->nr++];

	item->src = src;
	item->dst = dst;
	item->result = -EINPROGRESS;
	batch->bytes += folio_size(src);
	class_bytes[migrate_copy_folio_class(src)] += folio_size(src);
	if (batch->nr == 1)
		batch->dst_nid = folio_nid(dst);
	else if (batch->dst_nid != folio_nid(dst))
		batch->dst_nid = NUMA_NO_NODE;
}

/* The class holding most of the batch's bytes. */
static enum migrate_copy_class migrate_copy_main_class(const size_t *class_bytes)
{
	enum migrate_copy_class class, main = MIGRATE_COPY_CLASS_BASE;

	for (class = MIGRATE_COPY_CLASS_BASE; class < MIGRATE_COPY_NR_CLASSES; class++)
		if (class_bytes[class] > class_bytes[main])
			main = class;
	return main;
}

/* Empty @batch for a migration of enum migrate_reason @reason. */
static void migrate_copy_batch_init(struct migrate_copy_batch *batch, int reason)
{
	batch->nr = 0;
	batch->bytes = 0;
	batch->dst_nid = NUMA_NO_NODE;
	batch->reason = reason;
	batch->size_class = MIGRATE_COPY_CLASS_BASE;
}

/**
 * migrate_copy_batch_alloc() - Allocate an empty batch.
 * @capacity: Number of folios it must hold.
 * @reason: enum migrate_reason of the migration.
 * @gfp: Allocation flags: GFP_KERNEL, or GFP_NOWAIT where sleeping is wrong.
 *
 * Return: the batch, or NULL; the caller then copies on the CPU as before.
 */
struct migrate_copy_batch *migrate_copy_batch_alloc(unsigned int capacity, int reason,
						    gfp_t gfp)
{
	struct migrate_copy_batch *batch;

	batch = kvmalloc(struct_size(batch, items, capacity), gfp | __GFP_NOWARN);
	if (!batch)
		return NULL;
	batch->capacity = capacity;
	migrate_copy_batch_init(batch, reason);
	return batch;
}

/* A kept batch of MIGRATE_COPY_CACHED_CAPACITY entries, or NULL if none. */
static struct migrate_copy_batch *migrate_copy_batch_take_cached(void)
{
	struct migrate_copy_batch *batch;
	unsigned int i;

	for (i = 0; i < MIGRATE_COPY_CACHED_BATCHES; i++) {
		batch = xchg(&migrate_copy_cached[i], NULL);
		if (batch)
			return batch;
	}
	return NULL;
}

/* Free the kept batches: the batch copy was disabled. */
static void migrate_copy_batch_drain(void)
{
	struct migrate_copy_batch *batch;

	while ((batch = migrate_copy_batch_take_cached()))
		kvfree(batch);
}

/* Keep @batch for the next migration batch; false if every place is taken. */
static bool migrate_copy_batch_keep(struct migrate_copy_batch *batch)
{
	unsigned int i;

	if (batch->capacity != MIGRATE_COPY_CACHED_CAPACITY)
		return false;
	for (i = 0; i < MIGRATE_COPY_CACHED_BATCHES; i++) {
		if (cmpxchg(&migrate_copy_cached[i], NULL, batch))
			continue;
		/*
		 * Disabled meanwhile: either the drain found @batch, or this
		 * sees the feature off (both cmpxchg() and the drain's xchg()
		 * are full barriers).
		 */
		if (!READ_ONCE(migrate_copy_on))
			migrate_copy_batch_drain();
		return true;
	}
	return false;
}

/**
 * migrate_copy_batch_free() - Free a batch, or keep it for the next one.
 * @batch: The batch, or NULL.
 */
void migrate_copy_batch_free(struct migrate_copy_batch *batch)
{
	if (batch && migrate_copy_batch_keep(batch))
		return;
	kvfree(batch);
}

/**
 * migrate_copy_batch_prepare() - Allocate the copy batch of a migration batch.
 * @folios: The folios the migration batch will try, none of them locked yet.
 * @mode: The migration's enum migrate_mode.
 * @reason: The migration's enum migrate_reason.
 *
 * The batch is allocated before the migration batch locks its first folio,
 * so that no allocation happens under the folio locks: with GFP_KERNEL, or
 * GFP_NOWAIT for an asynchronous migration. Inside direct compaction, under
 * another batch's locks, PF_MEMALLOC keeps GFP_KERNEL from reclaiming.
 *
 * Return: an empty batch for at least as many folios as @folios holds (one
 * kept from an earlier migration batch where it can), or NULL if the batch
 * copy does not apply (disabled, @reason not allowed) or memory is short:
 * the move phase then copies on the CPU.
 */
struct migrate_copy_batch *migrate_copy_batch_prepare(struct list_head *folios,
						      enum migrate_mode mode,
						      enum migrate_reason reason)
{
	gfp_t gfp = mode == MIGRATE_ASYNC ? GFP_NOWAIT : GFP_KERNEL;
	struct migrate_copy_batch *batch;
	size_t nr_folios;

	if (READ_ONCE(migrate_copy_cpu_only) || !migrate_copy_reason_allowed(reason) ||
	    list_empty(folios))
		return NULL;
	nr_folios = list_count_nodes(folios);
	if (nr_folios > MIGRATE_COPY_CACHED_CAPACITY)
		return migrate_copy_batch_alloc(nr_folios, reason, gfp);
	batch = migrate_copy_batch_take_cached();
	if (!batch)
		return migrate_copy_batch_alloc(nr_folios, reason, gfp);
	migrate_copy_batch_init(batch, reason);
	return batch;
}

/* Fill @batch with the eligible folios of the two parallel lists. */
static void migrate_copy_batch_build(struct migrate_copy_batch *batch,
				     struct list_head *src_folios,
				     struct list_head *dst_folios)
{
	size_t class_bytes[MIGRATE_COPY_NR_CLASSES] = {};
	struct folio *src, *dst;

	batch->nr = 0;
	batch->bytes = 0;
	batch->dst_nid = NUMA_NO_NODE;
	dst = list_first_entry(dst_folios, struct folio, lru);
	list_for_each_entry(src, src_folios, lru) {
		if (batch->nr == batch->capacity)
			break;
		if (migrate_copy_folio_eligible(src, dst))
			migrate_copy_batch_add(batch, src, dst, class_bytes);
		dst = list_next_entry(dst, lru);
	}
	batch->size_class = migrate_copy_main_class(class_bytes);
}

/* Bytes per microsecond an engine is expected to copy this batch at. */
static unsigned long migrate_copy_expected_rate(struct migrate_copy_engine *engine,
						const struct migrate_copy_batch *batch)
{
	unsigned long rate = READ_ONCE(engine->throughput[batch->size_class]);
	int nid = engine->ops->nid;

	/* An engine on another node than the destination pays the link. */
	if (nid != NUMA_NO_NODE && batch->dst_nid != NUMA_NO_NODE && nid != batch->dst_nid)
		rate -= rate / 4;
	return rate;
}

/* The engines auto runs a batch on. */
struct migrate_copy_choice {
	struct migrate_copy_engine *main;	/* the batch, or all but the probe */
	struct migrate_copy_engine *probe;	/* measured on a few folios, or NULL */
};

/* Measure @engine again later, the later the slower it was than @best_rate. */
static void migrate_copy_explore_later(struct migrate_copy_engine *engine,
				       unsigned long rate, unsigned long best_rate,
				       unsigned long sequence)
{
	unsigned int shift = READ_ONCE(engine->explore_shift);
	unsigned long slowdown = 1;

	if (rate && best_rate > rate)
		slowdown = min(best_rate / rate, (unsigned long)MIGRATE_COPY_EXPLORE_MAX_SLOWDOWN);
	WRITE_ONCE(engine->next_explore,
		   sequence + ((MIGRATE_COPY_EXPLORE_INTERVAL * slowdown) << shift));
	if (rate && shift < MIGRATE_COPY_EXPLORE_MAX_SHIFT)
		WRITE_ONCE(engine->explore_shift, shift + 1);
}

/* The measured engine with the best expected rate for @batch, or NULL. */
static struct migrate_copy_engine *migrate_copy_best(struct list_head *engines,
						     const struct migrate_copy_batch *batch,
						     unsigned long *best_rate)
{
	struct migrate_copy_engine *engine, *best = NULL;
	unsigned long rate;

	*best_rate = 0;
	list_for_each_entry_srcu(engine, engines, list,
				 srcu_read_lock_held(&migrate_copy_srcu)) {
		if (batch->bytes < engine->ops->min_bytes)
			continue;
		rate = migrate_copy_expected_rate(engine, batch);
		if (rate > *best_rate) {
			best = engine;
			*best_rate = rate;
		}
	}
	return best;
}

/* An engine never measured for @batch, else one due to be measured again. */
static struct migrate_copy_engine *migrate_copy_due(struct list_head *engines,
						    const struct migrate_copy_batch *batch,
						    struct migrate_copy_engine *best,
						    unsigned long sequence)
{
	struct migrate_copy_engine *engine, *stale = NULL;

	list_for_each_entry_srcu(engine, engines, list,
				 srcu_read_lock_held(&migrate_copy_srcu)) {
		if (engine == best || batch->bytes < engine->ops->min_bytes)
			continue;
		if (!migrate_copy_expected_rate(engine, batch))
			return engine;
		if (!stale && time_after_eq(sequence, READ_ONCE(engine->next_explore)))
			stale = engine;
	}
	return stale;
}

/**
 * migrate_copy_pick() - The automatic choice of engines for a batch.
 * @engines: The candidates, a list of struct migrate_copy_engine.
 * @batch: The batch to copy.
 * @sequence: A number that grows by one per batch.
 * @choice: Set to the engine with the best expected throughput for the
 *	batch, and an engine to measure on a few of its folios: one never
 *	measured for the batch's size class, or a slower one due to be
 *	measured again. Measuring costs little next to the best engine: it
 *	is done on few folios, and less often the slower the engine was.
 *
 * Context: The caller keeps @engines stable (SRCU or the mutex).
 */
static void migrate_copy_pick(struct list_head *engines, const struct migrate_copy_batch *batch,
			      unsigned long sequence, struct migrate_copy_choice *choice)
{
	unsigned long best_rate;

	choice->main = migrate_copy_best(engines, batch, &best_rate);
	choice->probe = migrate_copy_due(engines, batch, choice->main, sequence);
	if (choice->main) {
		WRITE_ONCE(choice->main->explore_shift, 0);
		WRITE_ONCE(choice->main->next_explore, sequence + MIGRATE_COPY_EXPLORE_INTERVAL);
	}
	if (choice->probe)
		migrate_copy_explore_later(choice->probe,
					   migrate_copy_expected_rate(choice->probe, batch),
					   best_rate, sequence);
	if (!choice->main) {
		choice->main = choice->probe;
		choice->probe = NULL;
	}
}

static void migrate_copy_choose(const struct migrate_copy_batch *batch,
				struct migrate_copy_choice *choice)
{
	choice->main = srcu_dereference(migrate_copy_chosen, &migrate_copy_srcu);
	choice->probe = NULL;
	if (!choice->main)
		migrate_copy_pick(&migrate_copy_engines, batch,
				  atomic_long_inc_return(&migrate_copy_sequence), choice);
	if (!choice->main)
		choice->main = &migrate_copy_cpu_engine;
}

static void migrate_copy_update_rate(struct migrate_copy_engine *engine,
				     enum migrate_copy_class class,
				     size_t copied_bytes, u64 ns)
{
	unsigned long sample = div64_u64((u64)copied_bytes * NSEC_PER_USEC, max_t(u64, ns, 1));
	unsigned long old = READ_ONCE(engine->throughput[class]);

	/* 0 means "never measured": a measured engine is at least 1. */
	sample = max(sample, 1UL);
	if (old)
		sample = old - (old >> MIGRATE_COPY_EWMA_SHIFT) +
			 (sample >> MIGRATE_COPY_EWMA_SHIFT);
	WRITE_ONCE(engine->throughput[class], max(sample, 1UL));
}

/*
 * Counters, throughput and trace for a finished batch; returns the failures.
 * A folio that timed out or met poison is not a fallback: the move phase does
 * not copy it (migration retries the first with a new destination, and fails
 * the second).
 */
static unsigned int migrate_copy_account(struct migrate_copy_engine *engine,
					 struct migrate_copy_batch *batch, u64 ns)
{
	unsigned int i, failed = 0, not_retried = 0;
	unsigned long copied_pages = 0, failed_pages = 0;
	size_t copied_bytes = 0;

	for (i = 0; i < batch->nr; i++) {
		struct folio *src = batch->items[i].src;

		if (!batch->items[i].result) {
			copied_bytes += folio_size(src);
			copied_pages += folio_nr_pages(src);
		} else if (batch->items[i].result == -ETIMEDOUT ||
			   batch->items[i].result == -EHWPOISON) {
			not_retried++;
		} else {
			failed++;
			failed_pages += folio_nr_pages(src);
		}
	}
	if (engine == &migrate_copy_cpu_engine) {
		count_vm_events(MIGRATE_COPY_CPU, batch->nr - failed - not_retried);
		count_vm_events(MIGRATE_COPY_CPU_PAGES, copied_pages);
	} else {
		count_vm_events(MIGRATE_COPY_OFFLOAD, batch->nr - failed - not_retried);
		count_vm_events(MIGRATE_COPY_OFFLOAD_PAGES, copied_pages);
	}
	count_vm_events(MIGRATE_COPY_FALLBACK, failed);
	count_vm_events(MIGRATE_COPY_FALLBACK_PAGES, failed_pages);
	failed += not_retried;
	migrate_copy_update_rate(engine, batch->size_class, copied_bytes, ns);
	trace_migrate_copy_batch(engine->ops->name, batch->nr, batch->bytes, ns,
				 failed, batch->reason);
	return failed;
}

/*
 * Run @batch on @engine. The caller holds migrate_copy_srcu. An engine
 * whose module is going away is replaced by the CPU.
 */
static unsigned int migrate_copy_run_on(struct migrate_copy_engine *engine,
					struct migrate_copy_batch *batch)
{
	struct module *owner = engine->ops->owner;
	unsigned int i, failed;
	u64 start;

	if (!try_module_get(owner)) {
		engine = &migrate_copy_cpu_engine;
		owner = NULL;
	}
	for (i = 0; i < batch->nr; i++)
		batch->items[i].result = -EINPROGRESS;

	start = ktime_get_ns();
	engine->ops->copy_batch(engine, batch);
	failed = migrate_copy_account(engine, batch, ktime_get_ns() - start);

	module_put(owner);
	return failed;
}

/*
 * Run @batch on @choice->main, except its last MIGRATE_COPY_PROBE_FOLIOS
 * folios, which go to @choice->probe to measure it. The caller holds
 * migrate_copy_srcu.
 */
static void migrate_copy_run_split(const struct migrate_copy_choice *choice,
				   struct migrate_copy_batch *batch)
{
	DEFINE_FLEX(struct migrate_copy_batch, tail, items, capacity, MIGRATE_COPY_PROBE_FOLIOS);
	unsigned int first = batch->nr - MIGRATE_COPY_PROBE_FOLIOS, i;

	tail->nr = MIGRATE_COPY_PROBE_FOLIOS;
	tail->bytes = 0;
	tail->dst_nid = batch->dst_nid;
	tail->reason = batch->reason;
	tail->size_class = batch->size_class;
	for (i = 0; i < tail->nr; i++) {
		tail->items[i] = batch->items[first + i];
		tail->bytes += folio_size(tail->items[i].src);
	}
	batch->nr = first;
	batch->bytes -= tail->bytes;

	migrate_copy_run_on(choice->main, batch);
	migrate_copy_run_on(choice->probe, tail);

	for (i = 0; i < tail->nr; i++)
		batch->items[first + i].result = tail->items[i].result;
	batch->nr += tail->nr;
	batch->bytes += tail->bytes;
}

/**
 * migrate_copy_folios() - Copy a batch of unmapped folios ahead of the move.
 * @batch: From migrate_copy_batch_prepare() for the folios of @src_folios.
 * @src_folios: Locked, unmapped source folios, linked through ->lru.
 * @dst_folios: Their destination folios, in the same order.
 *
 * The batch's items follow the order of @src_folios: migrate_copy_next_result()
 * walks them along with the list.
 *
 * Context: Called with every folio of both lists locked. Does not allocate
 * and returns in bounded time.
 */
void migrate_copy_folios(struct migrate_copy_batch *batch,
			 struct list_head *src_folios,
			 struct list_head *dst_folios)
{
	struct migrate_copy_choice choice;
	int srcu_index;

	migrate_copy_batch_build(batch, src_folios, dst_folios);
	if (!batch->nr || batch->bytes < READ_ONCE(migrate_copy_policy.min_batch_bytes)) {
		batch->nr = 0;
		return;
	}

	srcu_index = srcu_read_lock(&migrate_copy_srcu);
	migrate_copy_choose(batch, &choice);
	if (!choice.probe)
		migrate_copy_run_on(choice.main, batch);
	else if (batch->nr > 2 * MIGRATE_COPY_PROBE_FOLIOS)
		migrate_copy_run_split(&choice, batch);
	else
		migrate_copy_run_on(choice.probe, batch);
	srcu_read_unlock(&migrate_copy_srcu, srcu_index);
}

bool migrate_copy_enabled(void)
{
	return READ_ONCE(migrate_copy_on);
}

/* Context: migrate_copy_lock held. */
void migrate_copy_set_enabled(bool enabled)
{
	lockdep_assert_held(&migrate_copy_lock);
	if (enabled == migrate_copy_on)
		return;
	WRITE_ONCE(migrate_copy_on, enabled);
	if (enabled) {
		static_branch_enable(&migrate_copy_enabled_key);
	} else {
		static_branch_disable(&migrate_copy_enabled_key);
		migrate_copy_batch_drain();
	}
}

/* Context: migrate_copy_lock held. NULL means auto. */
struct migrate_copy_engine *migrate_copy_selected_engine(void)
{
	return rcu_dereference_protected(migrate_copy_chosen,
					 lockdep_is_held(&migrate_copy_lock));
}

/* Context: migrate_copy_lock held. NULL selects auto. */
void migrate_copy_select_engine(struct migrate_copy_engine *engine)
{
	lockdep_assert_held(&migrate_copy_lock);
	rcu_assign_pointer(migrate_copy_chosen, engine);
	migrate_copy_update_cpu_only();
}

/*
 * "[auto] cpu dma": every choice, the current one in brackets.
 * Context: migrate_copy_lock held.
 */
int migrate_copy_show_engines(char *buf)
{
	struct migrate_copy_engine *chosen = migrate_copy_selected_engine();
	struct migrate_copy_engine *engine;
	int len;

	len = sysfs_emit(buf, chosen ? "auto" : "[auto]");
	list_for_each_entry(engine, &migrate_copy_engines, list)
		len += sysfs_emit_at(buf, len, engine == chosen ? " [%s]" : " %s",
				     engine->ops->name);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

/*
 * One line per engine: name, node and the throughput estimates in MB/s
 * (bytes per microsecond) for base, large and PMD-sized folios.
 * Context: migrate_copy_lock held.
 */
void migrate_copy_show_estimates(struct seq_file *m)
{
	struct migrate_copy_engine *engine;

	list_for_each_entry(engine, &migrate_copy_engines, list)
		seq_printf(m, "%s node=%d min_bytes=%zu base=%lu large=%lu pmd=%lu\n",
			   engine->ops->name, engine->ops->nid, engine->ops->min_bytes,
			   READ_ONCE(engine->throughput[MIGRATE_COPY_CLASS_BASE]),
			   READ_ONCE(engine->throughput[MIGRATE_COPY_CLASS_LARGE]),
			   READ_ONCE(engine->throughput[MIGRATE_COPY_CLASS_PMD]));
}

static int __init migrate_copy_setup(char *str)
{
	bool enabled;

	if (migrate_copy_parse_bool(str, strlen(str), &enabled)) {
		pr_warn("migrate_copy=%s: expected on or off (or another kstrtobool word)\n",
			str);
		return 0;
	}
	migrate_copy_on = enabled;
	return 1;
}
__setup("migrate_copy=", migrate_copy_setup);

static int __init migrate_copy_init(void)
{
	int ret;

	ret = migrate_copy_engine_register(&migrate_copy_cpu_engine);
	if (ret)
		return ret;
	if (migrate_copy_on)
		static_branch_enable(&migrate_copy_enabled_key);
	ret = migrate_copy_sysfs_init();
	if (ret)
		pr_warn("no sysfs knobs: %d\n", ret);
	return 0;
}
subsys_initcall(migrate_copy_init);

#ifdef CONFIG_MIGRATE_COPY_KUNIT_TEST
#include "tests/migrate_copy-kunit.h"
#endif
