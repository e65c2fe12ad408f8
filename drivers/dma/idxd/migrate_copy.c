// SPDX-License-Identifier: GPL-2.0
/*
 * A copy engine for batched page migration (mm/migrate_copy.c) that copies
 * through dmaengine DMA_MEMCPY channels: the kernel work queues of Intel
 * DSA devices (driver_name "dmaengine"), or any provider when told to.
 *
 * Channels are taken when the engine is enabled and kept, with their
 * descriptors preallocated, because a batch runs with its folios locked
 * and must not allocate with reclaim. A batch maps every folio, splits it
 * into transfers the device takes, spreads them over the channels (those
 * on the destination node first), waits for all of them with a timeout,
 * and derives each folio's result from its own descriptors.
 *
 * A descriptor that has not called back in time makes its folio fail with
 * -ETIMEDOUT: migration gives that folio up for this round and retries it
 * later with another destination. The descriptor's destination stays
 * referenced, and both folios mapped (quarantined), until the provider
 * calls back, so a late DMA never writes memory that was freed or reused.
 * The source is not held: a late DMA only reads it, and a reference would
 * keep the retried folio from migrating until then.
 */

#define pr_fmt(fmt) "idxd_migrate_copy: " fmt

#include <linux/dma-mapping.h>
#include <linux/migrate_copy.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "migrate_copy.h"

/* Descriptors per channel: a batch holds at most HPAGE_PMD_NR folios. */
#define DSA_COPY_DESCS_PER_CHANNEL	(2 * HPAGE_PMD_NR)
/* Consecutive NULL preps after which a channel counts as disabled. */
#define DSA_COPY_NULL_PREPS_BROKEN	8
/*
 * Quarantined descriptors after which a channel counts as losing
 * completions: each holds a queue slot, and a full queue would block prep.
 */
#define DSA_COPY_QUARANTINE_BROKEN	16

struct dsa_copy_config dsa_copy_config = {
	.max_channels = 4,
	.timeout_ms = 1000,
	.max_transfer_bytes = SZ_2M,
};
struct dsa_copy_stats dsa_copy_stats;
DEFINE_MUTEX(dsa_copy_lock);

static LIST_HEAD(dsa_copy_channels);
static unsigned int dsa_copy_nr_channels;
static bool dsa_copy_registered;
static void dsa_copy_drop_broken(struct work_struct *work);
static DECLARE_WORK(dsa_copy_drop_work, dsa_copy_drop_broken);

static bool dsa_copy_filter(struct dma_chan *chan, void *any_provider)
{
	if (*(bool *)any_provider)
		return true;
	return !strcmp(dev_driver_string(chan->device->dev), "idxd");
}

/* ---- descriptors ---- */

static struct dsa_copy_desc *dsa_copy_desc_get(struct dsa_copy_channel *channel)
{
	struct dsa_copy_desc *desc = NULL;
	unsigned long flags;

	spin_lock_irqsave(&channel->lock, flags);
	if (!list_empty(&channel->free)) {
		desc = list_first_entry(&channel->free, struct dsa_copy_desc, node);
		list_del_init(&desc->node);
	}
	spin_unlock_irqrestore(&channel->lock, flags);
	return desc;
}

static void dsa_copy_desc_unmap(struct dsa_copy_desc *desc)
{
	struct device *dev = desc->channel->dev;

	dma_unmap_page(dev, desc->src_dma, desc->len, DMA_TO_DEVICE);
	dma_unmap_page(dev, desc->dst_dma, desc->len, DMA_FROM_DEVICE);
}

static void dsa_copy_desc_put(struct dsa_copy_desc *desc)
{
	struct dsa_copy_channel *channel = desc->channel;
	unsigned long flags;

	spin_lock_irqsave(&channel->lock, flags);
	list_add(&desc->node, &channel->free);
	spin_unlock_irqrestore(&channel->lock, flags);
}

/* A quarantined descriptor's late callback came: nothing writes it now. */
static void dsa_copy_release_quarantined(struct dsa_copy_desc *desc)
{
	dsa_copy_desc_unmap(desc);
	folio_put(desc->dst);
	atomic_long_inc(&dsa_copy_stats.released);
	dsa_copy_desc_put(desc);
}

static void dsa_copy_callback(void *param, const struct dmaengine_result *result)
{
	struct dsa_copy_desc *desc = param;
	struct dsa_copy_channel *channel = desc->channel;
	struct dsa_copy_wait *wait;
	unsigned long flags;

	spin_lock_irqsave(&channel->lock, flags);
	desc->done = true;
	desc->result = result && result->result != DMA_TRANS_NOERROR ? -EIO : 0;
	wait = desc->wait;
	if (!wait) {
		list_del_init(&desc->node);
		channel->quarantined_pages -= DIV_ROUND_UP(desc->len, PAGE_SIZE);
		channel->quarantined_descs--;
		spin_unlock_irqrestore(&channel->lock, flags);
		dsa_copy_release_quarantined(desc);
		return;
	}
	/* Under the lock: the batch may stop waiting as soon as it is dropped. */
	if (atomic_dec_and_test(&wait->pending))
		complete(&wait->done);
	spin_unlock_irqrestore(&channel->lock, flags);
}

/* ---- a batch ---- */

static bool dsa_copy_channel_fits(struct dsa_copy_channel *channel, int nid)
{
	return !READ_ONCE(channel->broken) && (nid == NUMA_NO_NODE || channel->nid == nid);
}

static struct dsa_copy_channel *dsa_copy_nth_channel(int nid, unsigned int n)
{
	struct dsa_copy_channel *channel;
	unsigned int count = 0;

	list_for_each_entry(channel, &dsa_copy_channels, list)
		count += dsa_copy_channel_fits(channel, nid);
	if (!count)
		return NULL;
	n %= count;
	list_for_each_entry(channel, &dsa_copy_channels, list)
		if (dsa_copy_channel_fits(channel, nid) && !n--)
			return channel;
	return NULL;
}

/*
 * The channel for chunk @n of a folio bound to node @nid: round robin over
 * the channels on that node, else over all; NULL if every one is broken.
 * The list only changes while the engine is unregistered, so no batch runs.
 */
static struct dsa_copy_channel *dsa_copy_pick_channel(int nid, unsigned int n)
{
	return dsa_copy_nth_channel(nid, n) ?: dsa_copy_nth_channel(NUMA_NO_NODE, n);
}

static int dsa_copy_map(struct dsa_copy_desc *desc, struct folio *src, struct folio *dst,
			size_t offset)
{
	struct device *dev = desc->channel->dev;
	struct page *src_page = folio_page(src, offset >> PAGE_SHIFT);
	struct page *dst_page = folio_page(dst, offset >> PAGE_SHIFT);

	desc->src_dma = dma_map_page(dev, src_page, offset_in_page(offset), desc->len,
				     DMA_TO_DEVICE);
	if (dma_mapping_error(dev, desc->src_dma))
		return -EIO;
	desc->dst_dma = dma_map_page(dev, dst_page, offset_in_page(offset), desc->len,
				     DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, desc->dst_dma))
		goto unmap_src;
	return 0;

unmap_src:
	dma_unmap_page(dev, desc->src_dma, desc->len, DMA_TO_DEVICE);
	return -EIO;
}

static void dsa_copy_mark_broken(struct dsa_copy_channel *channel, const char *why)
{
	if (!READ_ONCE(channel->broken)) {
		WRITE_ONCE(channel->broken, true);
		pr_warn("%s %s: dropping it\n", channel->name, why);
		schedule_work(&dsa_copy_drop_work);
	}
}

/*
 * A disabled work queue returns NULL from every prep: after a run of them,
 * stop using the channel. A single NULL only sends its folio to the CPU.
 */
static void dsa_copy_null_prep(struct dsa_copy_channel *channel)
{
	if (signal_pending(current))
		return;
	if (atomic_inc_return(&channel->null_preps) >= DSA_COPY_NULL_PREPS_BROKEN)
		dsa_copy_mark_broken(channel, "stopped taking descriptors");
}

/* Map and submit one chunk; on failure the descriptor is back in the pool. */
static int dsa_copy_submit_chunk(struct dsa_copy_channel *channel, struct dsa_copy_wait *wait,
				 struct list_head *inflight, struct migrate_copy_item *item,
				 unsigned int index, size_t offset, size_t len)
{
	struct dma_async_tx_descriptor *tx;
	struct dsa_copy_desc *desc;
	int ret;

	desc = dsa_copy_desc_get(channel);
	if (!desc)
		return -EBUSY;
	desc->src = item->src;
	desc->dst = item->dst;
	desc->len = len;
	desc->item = index;
	desc->done = false;
	desc->result = -EINPROGRESS;
	desc->wait = wait;
	ret = dsa_copy_map(desc, item->src, item->dst, offset);
	if (ret)
		goto put_desc;

	tx = dmaengine_prep_dma_memcpy(channel->chan, desc->dst_dma, desc->src_dma, len,
				       DMA_PREP_INTERRUPT);
	if (!tx) {
		dsa_copy_null_prep(channel);
		ret = -ENODEV;
		goto unmap;
	}
	atomic_set(&channel->null_preps, 0);
	tx->callback_result = dsa_copy_callback;
	tx->callback_param = desc;
	atomic_inc(&wait->pending);
	list_add_tail(&desc->node, inflight);
	if (dma_submit_error(dmaengine_submit(tx))) {
		/* Not queued: no callback will come. */
		list_del_init(&desc->node);
		atomic_dec(&wait->pending);
		ret = -EIO;
		goto unmap;
	}
	return 0;

unmap:
	dsa_copy_desc_unmap(desc);
put_desc:
	dsa_copy_desc_put(desc);
	return ret;
}

/* Submit every chunk of one folio; returns 0 or why the CPU must copy it. */
static int dsa_copy_submit_item(struct dsa_copy_wait *wait, struct list_head *inflight,
				struct migrate_copy_item *item, unsigned int index)
{
	struct dsa_copy_channel *channel;
	size_t offset, len, size = folio_size(item->src);
	unsigned int chunk = 0;
	int ret;

	for (offset = 0; offset < size; offset += len, chunk++) {
		channel = dsa_copy_pick_channel(folio_nid(item->dst), index + chunk);
		if (!channel)
			return -ENODEV;
		len = min(size - offset, channel->max_xfer);
		ret = dsa_copy_submit_chunk(channel, wait, inflight, item, index, offset, len);
		if (ret)
			return ret;
	}
	return 0;
}

static void dsa_copy_issue_pending(void)
{
	struct dsa_copy_channel *channel;

	list_for_each_entry(channel, &dsa_copy_channels, list)
		dma_async_issue_pending(channel->chan);
}

/*
 * After the wait: take each descriptor's result, and quarantine the ones
 * that did not call back, holding their folios for the late callback.
 */
static void dsa_copy_collect(struct migrate_copy_batch *batch, struct list_head *inflight)
{
	struct dsa_copy_desc *desc, *next;
	unsigned long flags;

	list_for_each_entry_safe(desc, next, inflight, node) {
		struct dsa_copy_channel *channel = desc->channel;
		struct migrate_copy_item *item = &batch->items[desc->item];
		bool done;

		spin_lock_irqsave(&channel->lock, flags);
		done = desc->done;
		if (!done) {
			desc->wait = NULL;
			folio_get(desc->dst);
			list_move_tail(&desc->node, &channel->quarantine);
			channel->quarantined_pages += DIV_ROUND_UP(desc->len, PAGE_SIZE);
			channel->quarantined_descs++;
		} else {
			list_del_init(&desc->node);
		}
		spin_unlock_irqrestore(&channel->lock, flags);

		if (!done) {
			item->result = -ETIMEDOUT;
			if (READ_ONCE(channel->quarantined_descs) >= DSA_COPY_QUARANTINE_BROKEN)
				dsa_copy_mark_broken(channel, "is losing completions");
			continue;
		}
		if (desc->result && item->result != -ETIMEDOUT)
			item->result = desc->result;
		dsa_copy_desc_unmap(desc);
		dsa_copy_desc_put(desc);
	}
}

static void dsa_copy_count(struct migrate_copy_batch *batch)
{
	unsigned int i, offloaded = 0, failed = 0, timed_out = 0;

	for (i = 0; i < batch->nr; i++) {
		int result = batch->items[i].result;

		if (!result)
			offloaded++;
		else if (result == -ETIMEDOUT)
			timed_out++;
		else
			failed++;
	}
	atomic_long_inc(&dsa_copy_stats.batches);
	atomic_long_add(offloaded, &dsa_copy_stats.offloaded);
	atomic_long_add(failed, &dsa_copy_stats.failed);
	atomic_long_add(timed_out, &dsa_copy_stats.timed_out);
	atomic_long_add(timed_out, &dsa_copy_stats.quarantined);
}

static int dsa_copy_batch(struct migrate_copy_engine *engine, struct migrate_copy_batch *batch)
{
	unsigned long timeout = msecs_to_jiffies(READ_ONCE(dsa_copy_config.timeout_ms));
	struct dsa_copy_wait wait;
	LIST_HEAD(inflight);
	unsigned int i, failed = 0;

	init_completion(&wait.done);
	atomic_set(&wait.pending, 1);
	for (i = 0; i < batch->nr; i++)
		batch->items[i].result = dsa_copy_submit_item(&wait, &inflight,
							      &batch->items[i], i);
	dsa_copy_issue_pending();
	if (!atomic_dec_and_test(&wait.pending))
		wait_for_completion_timeout(&wait.done, timeout);
	dsa_copy_collect(batch, &inflight);
	dsa_copy_count(batch);

	for (i = 0; i < batch->nr; i++)
		failed += batch->items[i].result != 0;
	return failed;
}

static const struct migrate_copy_engine_ops dsa_copy_ops = {
	.name = "dsa",
	.owner = THIS_MODULE,
	.copy_batch = dsa_copy_batch,
	.nid = NUMA_NO_NODE,
};

static struct migrate_copy_engine dsa_copy_engine = {
	.ops = &dsa_copy_ops,
};

/* ---- channels ---- */

static size_t dsa_copy_channel_max_xfer(struct device *dev)
{
	size_t max_xfer = READ_ONCE(dsa_copy_config.max_transfer_bytes);

	if (dev->dma_parms && dma_get_max_seg_size(dev))
		max_xfer = min_t(size_t, max_xfer, dma_get_max_seg_size(dev));
	return max_t(size_t, max_xfer, PAGE_SIZE);
}

static struct dsa_copy_channel *dsa_copy_channel_create(struct dma_chan *chan)
{
	struct device *dev = chan->device->dev;
	struct dsa_copy_channel *channel;
	unsigned int i;

	channel = kzalloc_node(sizeof(*channel), GFP_KERNEL, dev_to_node(dev));
	if (!channel)
		return NULL;
	channel->descs = kvcalloc_node(DSA_COPY_DESCS_PER_CHANNEL, sizeof(*channel->descs),
				       GFP_KERNEL, dev_to_node(dev));
	if (!channel->descs) {
		kfree(channel);
		return NULL;
	}
	channel->chan = chan;
	strscpy(channel->name, dma_chan_name(chan), sizeof(channel->name));
	channel->dev = dev;
	channel->nid = dev_to_node(dev);
	channel->max_xfer = dsa_copy_channel_max_xfer(dev);
	spin_lock_init(&channel->lock);
	INIT_LIST_HEAD(&channel->free);
	INIT_LIST_HEAD(&channel->quarantine);
	for (i = 0; i < DSA_COPY_DESCS_PER_CHANNEL; i++) {
		channel->descs[i].channel = channel;
		list_add_tail(&channel->descs[i].node, &channel->free);
	}
	return channel;
}

/*
 * Stop a channel and give it back. Quarantined descriptors are released by
 * the callbacks terminate_all makes, or right after it. A provider that
 * cannot terminate keeps its quarantined folios, and the channel's memory,
 * forever rather than risk a late write.
 */
static void dsa_copy_channel_destroy(struct dsa_copy_channel *channel)
{
	struct dsa_copy_desc *desc, *next;
	bool terminated = !dmaengine_terminate_sync(channel->chan);
	unsigned long flags;
	LIST_HEAD(late);

	spin_lock_irqsave(&channel->lock, flags);
	if (terminated) {
		list_splice_init(&channel->quarantine, &late);
		channel->quarantined_pages = 0;
		channel->quarantined_descs = 0;
	}
	spin_unlock_irqrestore(&channel->lock, flags);
	list_for_each_entry_safe(desc, next, &late, node)
		dsa_copy_release_quarantined(desc);

	pr_info("released %s\n", channel->name);
	dma_release_channel(channel->chan);
	if (!list_empty(&channel->quarantine)) {
		/* Their late callbacks would run in this module's text. */
		__module_get(THIS_MODULE);
		pr_warn("%lu quarantined pages stay held, and the module loaded: the provider cannot terminate\n",
			channel->quarantined_pages);
		return;
	}
	kvfree(channel->descs);
	kfree(channel);
}

static int dsa_copy_take_channels(void)
{
	struct dsa_copy_channel *channel;
	bool any_provider = dsa_copy_config.any_provider;
	struct dma_chan *chan;
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	while (dsa_copy_nr_channels < dsa_copy_config.max_channels) {
		chan = dma_request_channel(mask, dsa_copy_filter, &any_provider);
		if (!chan)
			break;
		channel = dsa_copy_channel_create(chan);
		if (!channel) {
			dma_release_channel(chan);
			return -ENOMEM;
		}
		list_add_tail(&channel->list, &dsa_copy_channels);
		dsa_copy_nr_channels++;
		pr_info("took %s on node %d, %zu bytes per transfer\n", channel->name,
			channel->nid, channel->max_xfer);
	}
	return dsa_copy_nr_channels ? 0 : -ENODEV;
}

static void dsa_copy_release_channels(bool only_broken)
{
	struct dsa_copy_channel *channel, *next;

	list_for_each_entry_safe(channel, next, &dsa_copy_channels, list) {
		if (only_broken && !channel->broken)
			continue;
		list_del(&channel->list);
		dsa_copy_nr_channels--;
		dsa_copy_channel_destroy(channel);
	}
}

static void dsa_copy_unregister(void)
{
	if (dsa_copy_registered) {
		migrate_copy_engine_unregister(&dsa_copy_engine);
		dsa_copy_registered = false;
	}
}

/**
 * dsa_copy_enable() - Take channels and offer the engine to migration.
 *
 * Context: Process context, dsa_copy_lock held.
 * Return: 0, -ENODEV if no channel fits, or another negative errno.
 */
int dsa_copy_enable(void)
{
	int ret;

	lockdep_assert_held(&dsa_copy_lock);
	if (dsa_copy_config.enabled)
		return 0;
	ret = dsa_copy_take_channels();
	if (ret)
		goto release_channels;
	ret = migrate_copy_engine_register(&dsa_copy_engine);
	if (ret)
		goto release_channels;
	dsa_copy_registered = true;
	dsa_copy_config.enabled = true;
	return 0;

release_channels:
	dsa_copy_release_channels(false);
	return ret;
}

/**
 * dsa_copy_disable() - Withdraw the engine and give every channel back.
 *
 * Context: Process context, dsa_copy_lock held. Waits for running batches.
 */
void dsa_copy_disable(void)
{
	lockdep_assert_held(&dsa_copy_lock);
	dsa_copy_unregister();
	dsa_copy_release_channels(false);
	dsa_copy_config.enabled = false;
}

/*
 * A channel broke: withdraw the engine so no batch uses the channels, drop
 * the broken ones, and offer the engine again if any channel is left.
 */
static void dsa_copy_drop_broken(struct work_struct *work)
{
	mutex_lock(&dsa_copy_lock);
	if (dsa_copy_config.enabled) {
		dsa_copy_unregister();
		dsa_copy_release_channels(true);
		if (dsa_copy_nr_channels && !migrate_copy_engine_register(&dsa_copy_engine))
			dsa_copy_registered = true;
		else
			pr_warn("no usable channel left: the CPU copies\n");
	}
	mutex_unlock(&dsa_copy_lock);
}

/* Context: dsa_copy_lock held. */
int dsa_copy_show_channels(char *buf)
{
	struct dsa_copy_channel *channel;
	int len = 0;

	lockdep_assert_held(&dsa_copy_lock);
	list_for_each_entry(channel, &dsa_copy_channels, list)
		len += sysfs_emit_at(buf, len,
				     "%s node=%d max_transfer=%zu quarantined_pages=%lu%s\n",
				     channel->name, channel->nid,
				     channel->max_xfer, READ_ONCE(channel->quarantined_pages),
				     READ_ONCE(channel->broken) ? " broken" : "");
	return len;
}

/* Context: dsa_copy_lock held. */
unsigned long dsa_copy_quarantined_pages(void)
{
	struct dsa_copy_channel *channel;
	unsigned long pages = 0;

	lockdep_assert_held(&dsa_copy_lock);
	list_for_each_entry(channel, &dsa_copy_channels, list)
		pages += READ_ONCE(channel->quarantined_pages);
	return pages;
}

static bool enable;
module_param(enable, bool, 0444);
MODULE_PARM_DESC(enable, "Take channels and register the engine at load (default: no)");

static int __init dsa_copy_init(void)
{
	int ret;

	ret = dsa_copy_sysfs_init();
	if (ret)
		return ret;
	if (enable) {
		mutex_lock(&dsa_copy_lock);
		ret = dsa_copy_enable();
		mutex_unlock(&dsa_copy_lock);
		if (ret)
			pr_warn("not enabled at load: %d\n", ret);
	}
	return 0;
}
module_init(dsa_copy_init);

static void __exit dsa_copy_exit(void)
{
	dsa_copy_sysfs_exit();
	cancel_work_sync(&dsa_copy_drop_work);
	mutex_lock(&dsa_copy_lock);
	dsa_copy_disable();
	mutex_unlock(&dsa_copy_lock);
}
module_exit(dsa_copy_exit);

MODULE_DESCRIPTION("DSA (dmaengine) copy engine for batched page migration");
MODULE_LICENSE("GPL");
