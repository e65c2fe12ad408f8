// SPDX-License-Identifier: GPL-2.0
/*
 * A copy engine for testing the batched migration copy: it copies on the
 * CPU, counts what it sees, and fails the folios a test chooses.
 *
 * /sys/kernel/debug/migrate_copy_test/
 *   fail_every  0: fail nothing; N: fail every Nth folio this engine sees,
 *               counted across batches (2: every other folio). A failed
 *               folio's destination is overwritten with garbage first, as
 *               a half-done DMA would leave it.
 *   fail_max    0: no limit; N: fail no more than N folios after a reset
 *   fail_errno  the error a failed folio gets: 5 (EIO, the default: the
 *               move copies it again on the CPU), 133 (EHWPOISON: a source
 *               the engine could not read), 110 (ETIMEDOUT: the engine keeps
 *               a reference on the destination for timeout_hold_ms, as a
 *               DMA still in flight would; its source does not time out
 *               again meanwhile, so a retry succeeds)
 *   timeout_hold_ms  how long a timed-out destination stays referenced
 *   reclaim_alloc  Y: make a GFP_KERNEL allocation in every batch, a
 *               mistake (the batch holds folio locks) that the tests of
 *               CONFIG_DEBUG_MIGRATE_BATCH_LOCKS must catch
 *   batches, folios, bytes, failed, timed_out   what the engine saw,
 *               failed, and failed with ETIMEDOUT
 *   reset       write anything: zero the counters and the folio sequence
 *
 * Negative controls: engines that are wrong on purpose, so the tests can
 * show that their data checks and KASAN catch a wrong engine.
 *   skip_write  Y: report every folio copied without writing its
 *               destination (a lying engine)
 *   corrupt     Y: copy every folio, then damage one byte of each of its
 *               pages, and report it copied
 *   lied        folios reported copied whose destination is not a copy
 *   late_write_ms  0: off; N: N ms after a batch, write the first word of
 *               each destination that this batch failed (fail_every)
 *               again, without holding a reference: once migration freed
 *               it, that is the use-after-free KASAN must report. Only a
 *               page that looks free (no reference) is written, with
 *               zero (init_on_free keeps free pages zeroed), so that a
 *               page already reused is never corrupted.
 *   late_writes, late_writes_skipped   pages written late, and left alone
 *               because they were in use again
 *
 * Not a product: say N unless you run the project's tests.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/migrate_copy.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#define TEST_ENGINE_GARBAGE	0x5a
/* The byte of each page that the corrupt control damages. */
#define TEST_ENGINE_CORRUPT_OFFSET	100
/* Destinations the late-write control remembers at a time. */
#define TEST_ENGINE_LATE_MAX	64
/* Timed-out destinations held at a time; beyond, a folio fails with -EIO. */
#define TEST_ENGINE_HELD_MAX	512

static struct dentry *test_engine_dir;
static u32 test_engine_fail_every;
static u32 test_engine_fail_max;
static u32 test_engine_fail_errno = EIO;
static u32 test_engine_timeout_hold_ms = 100;
static u64 test_engine_timed_out;
static bool test_engine_reclaim_alloc;
static bool test_engine_skip_write;
static bool test_engine_corrupt;
static u32 test_engine_late_write_ms;
static u64 test_engine_batches;
static u64 test_engine_folios;
static u64 test_engine_bytes;
static u64 test_engine_failed;
static u64 test_engine_lied;
static u64 test_engine_late_writes;
static u64 test_engine_late_writes_skipped;
static DEFINE_SPINLOCK(test_engine_lock);

/* The late-write control: pages to write later, under test_engine_lock. */
static struct page *test_engine_late_pages[TEST_ENGINE_LATE_MAX];
static unsigned int test_engine_late_count;
static void test_engine_late_write(struct work_struct *work);
static DECLARE_DELAYED_WORK(test_engine_late_work, test_engine_late_write);

/*
 * Destinations of timed-out copies, referenced until the release work runs,
 * and their sources, which do not time out again meanwhile: a retry works.
 */
static struct folio *test_engine_held[TEST_ENGINE_HELD_MAX];
static struct folio *test_engine_held_src[TEST_ENGINE_HELD_MAX];
static unsigned int test_engine_held_count;
static void test_engine_release_held(struct work_struct *work);
static DECLARE_DELAYED_WORK(test_engine_release_work, test_engine_release_held);

static void test_engine_release_held(struct work_struct *work)
{
	spin_lock(&test_engine_lock);
	while (test_engine_held_count)
		folio_put(test_engine_held[--test_engine_held_count]);
	spin_unlock(&test_engine_lock);
}

/*
 * A timed-out copy: keep @dst referenced for a while, as an engine must
 * while its DMA may still write it. Returns false if no slot was free.
 */
static bool test_engine_hold(struct folio *dst, struct folio *src)
{
	bool held = false;

	spin_lock(&test_engine_lock);
	if (test_engine_held_count < TEST_ENGINE_HELD_MAX) {
		folio_get(dst);
		test_engine_held_src[test_engine_held_count] = src;
		test_engine_held[test_engine_held_count++] = dst;
		test_engine_timed_out++;
		held = true;
	}
	spin_unlock(&test_engine_lock);
	if (held)
		mod_delayed_work(system_wq, &test_engine_release_work,
				 msecs_to_jiffies(READ_ONCE(test_engine_timeout_hold_ms)));
	return held;
}

/* The result of a folio that fails, per fail_errno. */
static int test_engine_failure(struct migrate_copy_item *item)
{
	int err = -(int)READ_ONCE(test_engine_fail_errno);

	if (err == -ETIMEDOUT)
		return test_engine_hold(item->dst, item->src) ? err : -EIO;
	return err == -EHWPOISON ? err : -EIO;
}

static void test_engine_scribble(struct folio *folio)
{
	size_t offset;

	for (offset = 0; offset < folio_size(folio); offset += PAGE_SIZE) {
		void *addr = kmap_local_folio(folio, offset);

		memset(addr, TEST_ENGINE_GARBAGE, PAGE_SIZE);
		kunmap_local(addr);
	}
}

/* The corrupt control: a copy with one wrong byte in each page. */
static int test_engine_copy_corrupt(struct folio *dst, struct folio *src)
{
	size_t offset;
	int ret;

	ret = folio_mc_copy(dst, src);
	if (ret)
		return ret;
	for (offset = 0; offset < folio_size(dst); offset += PAGE_SIZE) {
		u8 *addr = kmap_local_folio(dst, offset);

		addr[TEST_ENGINE_CORRUPT_OFFSET] ^= 0xff;
		kunmap_local(addr);
	}
	return 0;
}

/*
 * Remember @dst, whose copy failed, for the late-write control. No
 * reference is taken: that is the mistake the control makes on purpose.
 */
static void test_engine_remember_late(struct folio *dst)
{
	unsigned int ms = READ_ONCE(test_engine_late_write_ms);

	if (!ms)
		return;
	spin_lock(&test_engine_lock);
	if (test_engine_late_count < TEST_ENGINE_LATE_MAX)
		test_engine_late_pages[test_engine_late_count++] = folio_page(dst, 0);
	spin_unlock(&test_engine_lock);
	mod_delayed_work(system_wq, &test_engine_late_work, msecs_to_jiffies(ms));
}

static void test_engine_late_write(struct work_struct *work)
{
	struct page *pages[TEST_ENGINE_LATE_MAX];
	unsigned int i, count, written = 0;

	spin_lock(&test_engine_lock);
	count = test_engine_late_count;
	memcpy(pages, test_engine_late_pages, count * sizeof(pages[0]));
	test_engine_late_count = 0;
	spin_unlock(&test_engine_lock);

	for (i = 0; i < count; i++) {
		u64 *addr;

		if (page_ref_count(pages[i]))
			continue;
		/*
		 * One plain store, not memset(): with compilers that cannot
		 * prefix memory intrinsics for KASAN (GCC before 13), x86's
		 * memset() is not checked, and a store is what KASAN sees.
		 */
		addr = kmap_local_page(pages[i]);
		WRITE_ONCE(*addr, 0);
		kunmap_local(addr);
		written++;
	}
	spin_lock(&test_engine_lock);
	test_engine_late_writes += written;
	test_engine_late_writes_skipped += count - written;
	spin_unlock(&test_engine_lock);
}

/* The result of a copy that does not fail, as the controls make it. */
static int test_engine_copy_one(struct migrate_copy_item *item, unsigned int *lied)
{
	if (READ_ONCE(test_engine_skip_write)) {
		(*lied)++;
		return 0;
	}
	if (READ_ONCE(test_engine_corrupt)) {
		int ret = test_engine_copy_corrupt(item->dst, item->src);

		*lied += !ret;
		return ret;
	}
	return folio_mc_copy(item->dst, item->src);
}

/* Whether @src timed out and its old destination is still held. */
static bool test_engine_timed_out_before(struct folio *src)
{
	unsigned int i;
	bool found = false;

	spin_lock(&test_engine_lock);
	for (i = 0; i < test_engine_held_count && !found; i++)
		found = test_engine_held_src[i] == src;
	spin_unlock(&test_engine_lock);
	return found;
}

/*
 * Whether @src, the folio that is number @sequence since the last reset,
 * fails, @failed being the failures so far.
 */
static bool test_engine_should_fail(struct folio *src, u64 sequence, u64 failed)
{
	u32 every = READ_ONCE(test_engine_fail_every);
	u32 max = READ_ONCE(test_engine_fail_max);

	if (max && failed >= max)
		return false;
	if (!every || (sequence + 1) % every)
		return false;
	return !test_engine_timed_out_before(src);
}

static u64 test_engine_claim_folios(struct migrate_copy_batch *batch)
{
	u64 first;

	spin_lock(&test_engine_lock);
	first = test_engine_folios;
	test_engine_folios += batch->nr;
	test_engine_batches++;
	test_engine_bytes += batch->bytes;
	spin_unlock(&test_engine_lock);
	return first;
}

static int test_engine_copy_batch(struct migrate_copy_engine *engine,
				  struct migrate_copy_batch *batch)
{
	u64 sequence = test_engine_claim_folios(batch);
	unsigned int i, failed = 0, lied = 0;

	if (READ_ONCE(test_engine_reclaim_alloc))
		kfree(kmalloc(SZ_4K, GFP_KERNEL));
	for (i = 0; i < batch->nr; i++) {
		struct migrate_copy_item *item = &batch->items[i];

		if (test_engine_should_fail(item->src, sequence + i,
					    READ_ONCE(test_engine_failed) + failed)) {
			test_engine_scribble(item->dst);
			test_engine_remember_late(item->dst);
			item->result = test_engine_failure(item);
			failed++;
		} else {
			item->result = test_engine_copy_one(item, &lied);
			failed += item->result != 0;
		}
	}
	spin_lock(&test_engine_lock);
	test_engine_failed += failed;
	test_engine_lied += lied;
	spin_unlock(&test_engine_lock);
	return failed;
}

static const struct migrate_copy_engine_ops test_engine_ops = {
	.name = "test",
	.owner = THIS_MODULE,
	.copy_batch = test_engine_copy_batch,
	.nid = NUMA_NO_NODE,
};

static struct migrate_copy_engine test_engine = {
	.ops = &test_engine_ops,
};

static int test_engine_reset_set(void *data, u64 value)
{
	spin_lock(&test_engine_lock);
	test_engine_batches = 0;
	test_engine_folios = 0;
	test_engine_bytes = 0;
	test_engine_failed = 0;
	test_engine_lied = 0;
	test_engine_late_writes = 0;
	test_engine_late_writes_skipped = 0;
	test_engine_timed_out = 0;
	spin_unlock(&test_engine_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(test_engine_reset_fops, NULL, test_engine_reset_set, "%llu\n");

static void test_engine_debugfs_init(void)
{
	test_engine_dir = debugfs_create_dir("migrate_copy_test", NULL);
	debugfs_create_u32("fail_every", 0600, test_engine_dir, &test_engine_fail_every);
	debugfs_create_u32("fail_max", 0600, test_engine_dir, &test_engine_fail_max);
	debugfs_create_u32("fail_errno", 0600, test_engine_dir, &test_engine_fail_errno);
	debugfs_create_u32("timeout_hold_ms", 0600, test_engine_dir,
			   &test_engine_timeout_hold_ms);
	debugfs_create_u64("timed_out", 0400, test_engine_dir, &test_engine_timed_out);
	debugfs_create_bool("reclaim_alloc", 0600, test_engine_dir,
			    &test_engine_reclaim_alloc);
	debugfs_create_u64("batches", 0400, test_engine_dir, &test_engine_batches);
	debugfs_create_u64("folios", 0400, test_engine_dir, &test_engine_folios);
	debugfs_create_u64("bytes", 0400, test_engine_dir, &test_engine_bytes);
	debugfs_create_u64("failed", 0400, test_engine_dir, &test_engine_failed);
	debugfs_create_bool("skip_write", 0600, test_engine_dir, &test_engine_skip_write);
	debugfs_create_bool("corrupt", 0600, test_engine_dir, &test_engine_corrupt);
	debugfs_create_u64("lied", 0400, test_engine_dir, &test_engine_lied);
	debugfs_create_u32("late_write_ms", 0600, test_engine_dir,
			   &test_engine_late_write_ms);
	debugfs_create_u64("late_writes", 0400, test_engine_dir, &test_engine_late_writes);
	debugfs_create_u64("late_writes_skipped", 0400, test_engine_dir,
			   &test_engine_late_writes_skipped);
	debugfs_create_file_unsafe("reset", 0200, test_engine_dir, NULL,
				   &test_engine_reset_fops);
}

static int __init test_engine_init(void)
{
	int ret;

	test_engine_debugfs_init();
	ret = migrate_copy_engine_register(&test_engine);
	if (ret) {
		pr_err("cannot register the test copy engine: %d\n", ret);
		debugfs_remove(test_engine_dir);
	}
	return ret;
}
module_init(test_engine_init);

static void __exit test_engine_exit(void)
{
	migrate_copy_engine_unregister(&test_engine);
	cancel_delayed_work_sync(&test_engine_late_work);
	flush_delayed_work(&test_engine_release_work);
	debugfs_remove(test_engine_dir);
}
module_exit(test_engine_exit);

MODULE_DESCRIPTION("Test copy engine for the batched migration copy");
MODULE_LICENSE("GPL");
