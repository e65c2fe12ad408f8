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
 *   reclaim_alloc  Y: make a GFP_KERNEL allocation in every batch, a
 *               mistake (the batch holds folio locks) that the tests of
 *               CONFIG_DEBUG_MIGRATE_BATCH_LOCKS must catch
 *   batches, folios, bytes, failed   what the engine saw and failed
 *   reset       write anything: zero the counters and the folio sequence
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

#define TEST_ENGINE_GARBAGE	0x5a

static struct dentry *test_engine_dir;
static u32 test_engine_fail_every;
static bool test_engine_reclaim_alloc;
static u64 test_engine_batches;
static u64 test_engine_folios;
static u64 test_engine_bytes;
static u64 test_engine_failed;
static DEFINE_SPINLOCK(test_engine_lock);

static void test_engine_scribble(struct folio *folio)
{
	size_t offset;

	for (offset = 0; offset < folio_size(folio); offset += PAGE_SIZE) {
		void *addr = kmap_local_folio(folio, offset);

		memset(addr, TEST_ENGINE_GARBAGE, PAGE_SIZE);
		kunmap_local(addr);
	}
}

/* Whether the folio that is number @sequence since the last reset fails. */
static bool test_engine_should_fail(u64 sequence)
{
	u32 every = READ_ONCE(test_engine_fail_every);

	return every && (sequence + 1) % every == 0;
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
	unsigned int i, failed = 0;

	if (READ_ONCE(test_engine_reclaim_alloc))
		kfree(kmalloc(SZ_4K, GFP_KERNEL));
	for (i = 0; i < batch->nr; i++) {
		struct migrate_copy_item *item = &batch->items[i];

		if (test_engine_should_fail(sequence + i)) {
			test_engine_scribble(item->dst);
			item->result = -EIO;
			failed++;
		} else {
			item->result = folio_mc_copy(item->dst, item->src);
			failed += item->result != 0;
		}
	}
	spin_lock(&test_engine_lock);
	test_engine_failed += failed;
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
	spin_unlock(&test_engine_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(test_engine_reset_fops, NULL, test_engine_reset_set, "%llu\n");

static void test_engine_debugfs_init(void)
{
	test_engine_dir = debugfs_create_dir("migrate_copy_test", NULL);
	debugfs_create_u32("fail_every", 0600, test_engine_dir, &test_engine_fail_every);
	debugfs_create_bool("reclaim_alloc", 0600, test_engine_dir,
			    &test_engine_reclaim_alloc);
	debugfs_create_u64("batches", 0400, test_engine_dir, &test_engine_batches);
	debugfs_create_u64("folios", 0400, test_engine_dir, &test_engine_folios);
	debugfs_create_u64("bytes", 0400, test_engine_dir, &test_engine_bytes);
	debugfs_create_u64("failed", 0400, test_engine_dir, &test_engine_failed);
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
	debugfs_remove(test_engine_dir);
}
module_exit(test_engine_exit);

MODULE_DESCRIPTION("Test copy engine for the batched migration copy");
MODULE_LICENSE("GPL");
