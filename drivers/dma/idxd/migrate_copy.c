// SPDX-License-Identifier: GPL-2.0
/*
 * A copy engine for batched page migration (mm/migrate_copy.c) that copies
 * through dmaengine DMA_MEMCPY channels: the kernel work queues of Intel
 * DSA devices (driver_name "dmaengine"), or any provider when told to.
 *
 * Channels are taken when the engine is enabled, and again whenever a work
 * queue comes up, and kept with their descriptors preallocated: a batch
 * runs with its folios locked and must not allocate with reclaim. A batch
 * maps every folio, splits it into copies as large as the work queue takes,
 * puts as many copies in each descriptor as the channel's vectored memcpy
 * takes (on DSA, one BATCH descriptor: one portal write and one interrupt
 * for up to the work queue's max_batch_size copies), spreads the
 * descriptors over the channels (those on the destination node, else all,
 * starting where the last batch of this CPU stopped), waits for all of
 * them with a timeout, and derives each folio's result from its own copies:
 * a failed member of a batch sends only its folio to the CPU.
 *
 * Nothing waits without bound. The engine never has more descriptors
 * outstanding on an idxd work queue than the queue has slots (its budget),
 * so idxd's prep, which sleeps until a slot frees, never sleeps; when
 * every channel is full the batch waits for its own descriptors to free
 * room, until its deadline, and the CPU copies the rest.
 *
 * A descriptor that has not called back in time makes its folio fail with
 * -ETIMEDOUT: migration gives that folio up for this round and retries it
 * with another destination. The descriptor is quarantined: its source and
 * destination stay referenced and mapped, it keeps its slot, and it holds
 * a reference on this module, until the device can no longer touch them:
 * its late callback, or its work queue reset by idxd (seen on the dsa bus
 * after the queue's driver is unbound). rmmod fails while any is held.
 *
 * A work queue goes away by unbinding its driver (disable-wq, disable-
 * device, sysfs unbind, idxd unload, PCI remove). The dsa bus tells us
 * before idxd's remove runs: the engine stops using the channel, waits for
 * the batches that may be using it, and gives it back, so idxd never frees
 * a channel we hold.
 */

#define pr_fmt(fmt) "idxd_migrate_copy: " fmt

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/migrate_copy.h>
#include <linux/migrate_mode.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "idxd.h"
#include "migrate_copy.h"

/* Copies per channel: a batch holds at most HPAGE_PMD_NR folios. */
#define DSA_COPY_COPIES_PER_CHANNEL	(2 * HPAGE_PMD_NR)
/* Fewest descriptors per channel, however many copies each takes. */
#define DSA_COPY_MIN_DESCS		16
/* Most copies in one descriptor. */
#define DSA_COPY_MAX_COPIES		HPAGE_PMD_NR
/* Consecutive NULL preps after which a channel counts as disabled. */
#define DSA_COPY_NULL_PREPS_BROKEN	8
/* Quarantined descriptors after which a channel counts as losing completions. */
#define DSA_COPY_QUARANTINE_BROKEN	16

struct dsa_copy_config dsa_copy_config = {
	.max_channels = 4,
	.timeout_ms = 1000,
	.max_transfer_bytes = SZ_2M,
	.max_batch_copies = DSA_COPY_MAX_COPIES,
};
struct dsa_copy_stats dsa_copy_stats;
DEFINE_MUTEX(dsa_copy_lock);

/* Channels in use: an SRCU list, changed under dsa_copy_lock. */
static LIST_HEAD(dsa_copy_channels);
DEFINE_STATIC_SRCU(dsa_copy_srcu);
/* Channels given back that still hold quarantined descriptors. */
static LIST_HEAD(dsa_copy_retired);
static unsigned int dsa_copy_nr_channels;
static bool dsa_copy_registered;
/* Where each CPU's next batch starts in the list of channels. */
static DEFINE_PER_CPU(unsigned int, dsa_copy_rotor);
/* Batches waiting for a slot; woken by every callback. */
static DECLARE_WAIT_QUEUE_HEAD(dsa_copy_room);
static atomic_t dsa_copy_room_seq;

static void dsa_copy_drop_broken(struct work_struct *work);
static DECLARE_WORK(dsa_copy_drop_work, dsa_copy_drop_broken);
static void dsa_copy_mark_broken(struct dsa_copy_channel *channel, const char *why);
static void dsa_copy_reap_retired(struct work_struct *work);
static DECLARE_WORK(dsa_copy_reap_work, dsa_copy_reap_retired);
/* Module references of released descriptors, dropped by the reap work. */
static atomic_t dsa_copy_refs_to_drop;
/* Drivers being unbound on the dsa bus: no channel is taken meanwhile. */
static atomic_t dsa_copy_unbinding;
static void dsa_copy_refill(struct work_struct *work);
static DECLARE_WORK(dsa_copy_refill_work, dsa_copy_refill);

static bool dsa_copy_is_idxd(struct dma_chan *chan)
{
	return !strcmp(dev_driver_string(chan->device->dev), "idxd");
}

static struct idxd_wq *dsa_copy_chan_wq(struct dma_chan *chan)
{
	if (!dsa_copy_is_idxd(chan))
		return NULL;
	return container_of(chan, struct idxd_dma_chan, chan)->wq;
}

/*
 * An idxd channel is taken only from an enabled dedicated work queue that
 * takes whole pages, and not while a driver on the dsa bus is being
 * unbound: its channel may be about to be freed. Shared work queues report
 * a refused submission both by calling back and by failing the submit.
 */
static bool dsa_copy_filter(struct dma_chan *chan, void *any_provider)
{
	struct idxd_wq *wq = dsa_copy_chan_wq(chan);

	if (!wq)
		return *(bool *)any_provider;
	return !atomic_read(&dsa_copy_unbinding) && wq->state == IDXD_WQ_ENABLED &&
	       wq->idxd->state == IDXD_DEV_ENABLED && wq_dedicated(wq) &&
	       wq->max_xfer_bytes >= PAGE_SIZE && wq->num_descs > 1;
}

/* ---- descriptors ---- */

/*
 * A free descriptor and a slot of the channel's queue for it: -EBUSY if
 * every slot is taken, -ENOSPC if every descriptor is (a batch's folios
 * may need more than the pool; the CPU copies those).
 */
static struct dsa_copy_desc *dsa_copy_desc_get(struct dsa_copy_channel *channel)
{
	struct dsa_copy_desc *desc = ERR_PTR(-EBUSY);
	unsigned long flags;

	spin_lock_irqsave(&channel->lock, flags);
	if (list_empty(&channel->free)) {
		desc = ERR_PTR(-ENOSPC);
	} else if (channel->outstanding < channel->budget) {
		desc = list_first_entry(&channel->free, struct dsa_copy_desc, node);
		list_del_init(&desc->node);
		channel->nr_free--;
		channel->outstanding++;
	}
	spin_unlock_irqrestore(&channel->lock, flags);
	return desc;
}

static void dsa_copy_unmap_copy(struct device *dev, struct dma_memcpy_vec *vec)
{
	dma_unmap_page(dev, vec->src, vec->len, DMA_TO_DEVICE);
	dma_unmap_page(dev, vec->dst, vec->len, DMA_FROM_DEVICE);
}

static void dsa_copy_desc_unmap(struct dsa_copy_desc *desc)
{
	unsigned int i;

	for (i = 0; i < desc->nr; i++)
		dsa_copy_unmap_copy(desc->channel->dev, &desc->vec[i]);
}

/*
 * Back to the pool. @slot: it still holds its queue slot, since it was
 * never submitted; a descriptor the provider called back for gave its
 * slot back in the callback.
 */
static void dsa_copy_desc_put(struct dsa_copy_desc *desc, bool slot)
{
	struct dsa_copy_channel *channel = desc->channel;
	unsigned long flags;

	spin_lock_irqsave(&channel->lock, flags);
	list_add(&desc->node, &channel->free);
	channel->nr_free++;
	channel->outstanding -= slot;
	spin_unlock_irqrestore(&channel->lock, flags);
}

/* Jiffies left until @deadline, 0 once it passed. */
static long dsa_copy_time_left(unsigned long deadline)
{
	return max_t(long, (long)(deadline - jiffies), 0);
}

static void dsa_copy_room_freed(void)
{
	atomic_inc(&dsa_copy_room_seq);
	if (wq_has_sleeper(&dsa_copy_room))
		wake_up_all(&dsa_copy_room);
}

/*
 * Whether a callback wakes the batches waiting for room: once a quarter of
 * the usable slots is free, or none is in flight, so that a waiting batch
 * refills the queue in runs rather than one descriptor per wakeup.
 */
static bool dsa_copy_room_worth_waking(struct dsa_copy_channel *channel)
{
	unsigned int usable = channel->budget - channel->quarantined_descs;
	unsigned int room = channel->budget - channel->outstanding;

	lockdep_assert_held(&channel->lock);
	return room * 4 >= usable || channel->outstanding == channel->quarantined_descs;
}

/*
 * The device can no longer touch a quarantined descriptor: unmap it and
 * drop its folios. The module reference it held is dropped by the reap
 * work, whose end module exit waits for: a callback must not return into
 * text that module_put() let go.
 */
static void dsa_copy_release_quarantined(struct dsa_copy_desc *desc)
{
	struct dsa_copy_channel *channel = desc->channel;
	unsigned long flags;
	unsigned int i;

	dsa_copy_desc_unmap(desc);
	for (i = 0; i < desc->nr; i++) {
		folio_put(desc->chunks[i].src);
		folio_put(desc->chunks[i].dst);
	}
	atomic_long_inc(&dsa_copy_stats.released);

	spin_lock_irqsave(&channel->lock, flags);
	channel->quarantined_pages -= desc->pages;
	channel->quarantined_descs--;
	list_add(&desc->node, &channel->free);
	channel->nr_free++;
	spin_unlock_irqrestore(&channel->lock, flags);
	atomic_inc(&dsa_copy_refs_to_drop);
	schedule_work(&dsa_copy_reap_work);
}

static void dsa_copy_callback(void *param, const struct dmaengine_result *result)
{
	struct dsa_copy_desc *desc = param;
	struct dsa_copy_channel *channel = desc->channel;
	struct dsa_copy_wait *wait;
	unsigned long flags;
	bool wake;

	spin_lock_irqsave(&channel->lock, flags);
	desc->done = true;
	desc->result = result && result->result != DMA_TRANS_NOERROR ? -EIO : 0;
	/* The provider frees the slot right after this returns. */
	channel->outstanding--;
	wake = dsa_copy_room_worth_waking(channel);
	wait = desc->wait;
	if (!wait) {
		list_del_init(&desc->node);
		spin_unlock_irqrestore(&channel->lock, flags);
		dsa_copy_release_quarantined(desc);
		dsa_copy_room_freed();
		return;
	}
	/* Under the lock: the batch may stop waiting as soon as it is dropped. */
	if (atomic_dec_and_test(&wait->pending))
		complete(&wait->done);
	spin_unlock_irqrestore(&channel->lock, flags);
	if (wake)
		dsa_copy_room_freed();
}

/* ---- a batch ---- */

/*
 * Whether a channel's queue is up: idxd's work queue and device enabled.
 * They stop being so while the channel stays registered only when the
 * device halts, and a halted device does not come back by itself in 6.12
 * (idxd sends no command to it, its reset included): give the channel
 * back, so that the engine can take another, and this one again once the
 * device was reset and its work queue enabled.
 */
static bool dsa_copy_channel_up(struct dsa_copy_channel *channel)
{
	struct idxd_wq *wq = channel->wq;

	if (READ_ONCE(channel->broken))
		return false;
	if (!wq)
		return true;
	if (READ_ONCE(wq->state) != IDXD_WQ_ENABLED ||
	    READ_ONCE(wq->idxd->state) != IDXD_DEV_ENABLED) {
		dsa_copy_mark_broken(channel, "lost its work queue or device (halted?)");
		return false;
	}
	return true;
}

/* A slot of the work queue, and a descriptor to put in it. */
static bool dsa_copy_channel_has_room(struct dsa_copy_channel *channel)
{
	return READ_ONCE(channel->outstanding) < channel->budget && READ_ONCE(channel->nr_free);
}

/*
 * A full channel frees room only if some of its descriptors are neither
 * free nor quarantined: in flight, or waiting for their batch to take
 * their results. One full of quarantined descriptors does not.
 */
static bool dsa_copy_channel_frees_room(struct dsa_copy_channel *channel)
{
	return channel->nr_descs - READ_ONCE(channel->nr_free) >
	       READ_ONCE(channel->quarantined_descs);
}

/* Whether a channel is up and on node @nid (any node for NUMA_NO_NODE). */
static bool dsa_copy_channel_fits(struct dsa_copy_channel *channel, int nid)
{
	return (nid == NUMA_NO_NODE || channel->nid == nid) && dsa_copy_channel_up(channel);
}

/*
 * The @n-th channel (modulo their number) that fits node @nid and has
 * room. *@busy is set when a channel that fits is full but will free room.
 */
static struct dsa_copy_channel *dsa_copy_nth_channel(int nid, unsigned int n, bool *busy)
{
	struct dsa_copy_channel *channel;
	unsigned int count = 0;

	list_for_each_entry_srcu(channel, &dsa_copy_channels, list,
				 srcu_read_lock_held(&dsa_copy_srcu)) {
		if (!dsa_copy_channel_fits(channel, nid))
			continue;
		if (dsa_copy_channel_has_room(channel))
			count++;
		else if (dsa_copy_channel_frees_room(channel))
			*busy = true;
	}
	if (!count)
		return NULL;
	n %= count;
	list_for_each_entry_srcu(channel, &dsa_copy_channels, list,
				 srcu_read_lock_held(&dsa_copy_srcu))
		if (dsa_copy_channel_fits(channel, nid) && dsa_copy_channel_has_room(channel) &&
		    !n--)
			return channel;
	return NULL;
}

/*
 * The channel for the @n-th chunk of a batch going to node @nid: one on
 * that node; when those are full, wait for them to free room rather than
 * copy across nodes. Any channel with room when none on that node is up.
 * Wait for room until @deadline, and only while a full channel will free
 * some.
 */
static struct dsa_copy_channel *dsa_copy_pick_channel(int nid, unsigned int n,
						      unsigned long deadline)
{
	struct dsa_copy_channel *channel;
	long left;
	bool busy;
	int seq;

	for (;;) {
		busy = false;
		seq = atomic_read(&dsa_copy_room_seq);
		channel = dsa_copy_nth_channel(nid, n, &busy);
		if (!channel && !busy)
			channel = dsa_copy_nth_channel(NUMA_NO_NODE, n, &busy);
		left = dsa_copy_time_left(deadline);
		if (channel || !busy || !left)
			return channel;
		atomic_long_inc(&dsa_copy_stats.room_waits);
		wait_event_timeout(dsa_copy_room, atomic_read(&dsa_copy_room_seq) != seq, left);
	}
}

/* Map @len bytes at @offset of both folios for one copy; -EIO if they do not map. */
static int dsa_copy_map(struct device *dev, struct dma_memcpy_vec *vec, struct folio *src,
			struct folio *dst, size_t offset, size_t len)
{
	struct page *src_page = folio_page(src, offset >> PAGE_SHIFT);
	struct page *dst_page = folio_page(dst, offset >> PAGE_SHIFT);

	vec->len = len;
	vec->src = dma_map_page(dev, src_page, offset_in_page(offset), len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, vec->src))
		return -EIO;
	vec->dst = dma_map_page(dev, dst_page, offset_in_page(offset), len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, vec->dst))
		goto unmap_src;
	return 0;

unmap_src:
	dma_unmap_page(dev, vec->src, len, DMA_TO_DEVICE);
	return -EIO;
}

static void dsa_copy_mark_broken(struct dsa_copy_channel *channel, const char *why)
{
	if (!READ_ONCE(channel->broken)) {
		WRITE_ONCE(channel->broken, true);
		pr_warn("%s %s: giving it back\n", channel->name, why);
		schedule_work(&dsa_copy_drop_work);
	}
}

/*
 * A provider whose channel stopped working returns NULL from every prep:
 * after a run of them, stop using the channel. A single NULL only sends
 * its folio to the CPU. idxd's channels are checked by their queue's
 * state instead, and come back when it is enabled again.
 */
static void dsa_copy_null_prep(struct dsa_copy_channel *channel)
{
	if (channel->wq || signal_pending(current))
		return;
	if (atomic_inc_return(&channel->null_preps) >= DSA_COPY_NULL_PREPS_BROKEN)
		dsa_copy_mark_broken(channel, "stopped taking descriptors");
}

/*
 * Where a batch stands while it fills descriptors: the folio next to copy,
 * and how much of it is already in a descriptor.
 */
struct dsa_copy_cursor {
	struct migrate_copy_batch *batch;
	unsigned int item;
	size_t offset;
	unsigned long prep_flags;
};

/*
 * The folio a failed copy belongs to goes to the CPU; skip what is left of
 * it. The cursor is on that folio only while the folio is partly placed
 * in descriptors, or while its first copy is being mapped.
 */
static void dsa_copy_fail_item(struct dsa_copy_cursor *cursor, unsigned int item, int error)
{
	struct migrate_copy_item *failed = &cursor->batch->items[item];

	if (!failed->result)
		failed->result = error;
	if (cursor->item == item) {
		cursor->item++;
		cursor->offset = 0;
	}
}

/*
 * Put the next copies of the batch into @desc: as many as the channel
 * takes in one descriptor, but no more than @share bytes, each at most the
 * channel's largest transfer. A copy that does not map sends its folio to
 * the CPU.
 */
static void dsa_copy_fill_desc(struct dsa_copy_desc *desc, struct dsa_copy_cursor *cursor,
			       size_t share)
{
	struct dsa_copy_channel *channel = desc->channel;
	struct migrate_copy_batch *batch = cursor->batch;

	desc->nr = 0;
	desc->pages = 0;
	while (desc->nr < channel->max_copies && (size_t)desc->pages << PAGE_SHIFT < share &&
	       cursor->item < batch->nr) {
		struct migrate_copy_item *item = &batch->items[cursor->item];
		size_t size = folio_size(item->src);
		size_t len = min(size - cursor->offset, channel->max_xfer);
		struct dsa_copy_chunk *chunk = &desc->chunks[desc->nr];

		if (dsa_copy_map(channel->dev, &desc->vec[desc->nr], item->src, item->dst,
				 cursor->offset, len)) {
			dsa_copy_fail_item(cursor, cursor->item, -EIO);
			continue;
		}
		chunk->src = item->src;
		chunk->dst = item->dst;
		chunk->item = cursor->item;
		desc->nr++;
		desc->pages += DIV_ROUND_UP(len, PAGE_SIZE);
		cursor->offset += len;
		if (cursor->offset == size) {
			cursor->item++;
			cursor->offset = 0;
		}
	}
}

/*
 * Whether the device writes the batch's destinations to the cache: with
 * NUMA balancing, the task that touched the page runs on its new node and
 * reads it soon; a page demoted, compacted or moved by a system call is
 * not read soon and should not push hotter lines out of the cache.
 */
static unsigned long dsa_copy_prep_flags(const struct migrate_copy_batch *batch)
{
	switch (READ_ONCE(dsa_copy_config.dst_hint)) {
	case DSA_COPY_DST_CACHE:
		return DMA_PREP_INTERRUPT | DMA_PREP_DST_CACHE;
	case DSA_COPY_DST_MEMORY:
		return DMA_PREP_INTERRUPT;
	default:
		return batch->reason == MR_NUMA_MISPLACED ?
		       DMA_PREP_INTERRUPT | DMA_PREP_DST_CACHE : DMA_PREP_INTERRUPT;
	}
}

static struct dma_async_tx_descriptor *dsa_copy_prep(struct dsa_copy_desc *desc,
						     unsigned long flags)
{
	struct dsa_copy_channel *channel = desc->channel;

	bitmap_zero(desc->failed, desc->nr);
	if (channel->max_copies > 1)
		return dmaengine_prep_dma_memcpy_vec(channel->chan, desc->vec, desc->nr,
						     desc->failed, flags);
	return dmaengine_prep_dma_memcpy(channel->chan, desc->vec[0].dst, desc->vec[0].src,
					 desc->vec[0].len, flags);
}

/* Submit a filled descriptor; on failure its folios go to the CPU. */
static int dsa_copy_submit_desc(struct dsa_copy_desc *desc, struct dsa_copy_wait *wait,
				struct list_head *inflight, struct dsa_copy_cursor *cursor)
{
	struct dsa_copy_channel *channel = desc->channel;
	struct dma_async_tx_descriptor *tx;
	unsigned int i;
	int ret;

	desc->done = false;
	desc->result = -EINPROGRESS;
	desc->wait = wait;
	tx = dsa_copy_prep(desc, cursor->prep_flags);
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
	atomic_long_inc(&dsa_copy_stats.descriptors);
	atomic_long_add(desc->nr, &dsa_copy_stats.copies);
	return 0;

unmap:
	for (i = 0; i < desc->nr; i++)
		dsa_copy_fail_item(cursor, desc->chunks[i].item, ret);
	dsa_copy_desc_unmap(desc);
	dsa_copy_desc_put(desc, true);
	return ret;
}

static void dsa_copy_issue_pending(void)
{
	struct dsa_copy_channel *channel;

	list_for_each_entry_srcu(channel, &dsa_copy_channels, list,
				 srcu_read_lock_held(&dsa_copy_srcu))
		dma_async_issue_pending(channel->chan);
}

/* The bytes of a batch each channel gets: a small batch still uses them all. */
static size_t dsa_copy_share(const struct migrate_copy_batch *batch)
{
	unsigned int channels = max(READ_ONCE(dsa_copy_nr_channels), 1U);

	return DIV_ROUND_UP(batch->bytes, channels);
}

/*
 * Submit the whole batch, one descriptor of many copies at a time, to the
 * channels in turn. What finds no channel or no descriptor in time goes to
 * the CPU.
 */
static void dsa_copy_submit_batch(struct migrate_copy_batch *batch, struct dsa_copy_wait *wait,
				  struct list_head *inflight, unsigned long deadline)
{
	struct dsa_copy_cursor cursor = {
		.batch = batch,
		.prep_flags = dsa_copy_prep_flags(batch),
	};
	unsigned int rotor = this_cpu_inc_return(dsa_copy_rotor);
	size_t share = dsa_copy_share(batch);
	struct dsa_copy_channel *channel;
	struct dsa_copy_desc *desc;
	unsigned int i;

	while (cursor.item < batch->nr) {
		struct migrate_copy_item *item = &batch->items[cursor.item];

		channel = dsa_copy_pick_channel(folio_nid(item->dst), rotor++, deadline);
		if (!channel)
			break;
		desc = dsa_copy_desc_get(channel);
		if (IS_ERR(desc)) {
			/* Another batch took the last slot or descriptor: try again. */
			dsa_copy_issue_pending();
			continue;
		}
		dsa_copy_fill_desc(desc, &cursor, share);
		if (!desc->nr) {
			dsa_copy_desc_put(desc, true);
			continue;
		}
		dsa_copy_submit_desc(desc, wait, inflight, &cursor);
	}
	this_cpu_write(dsa_copy_rotor, rotor);
	/* No room, no channel: the CPU copies the rest, a folio partly submitted included. */
	for (i = cursor.item; i < batch->nr; i++)
		if (!batch->items[i].result)
			batch->items[i].result = -ENODEV;
}

/* A descriptor that did not call back in time: hold what the device may touch. */
static void dsa_copy_quarantine(struct dsa_copy_desc *desc)
{
	struct dsa_copy_channel *channel = desc->channel;

	unsigned int i;

	lockdep_assert_held(&channel->lock);
	desc->wait = NULL;
	for (i = 0; i < desc->nr; i++) {
		folio_get(desc->chunks[i].src);
		folio_get(desc->chunks[i].dst);
	}
	/* The migration core holds a reference for the running batch. */
	__module_get(THIS_MODULE);
	list_move_tail(&desc->node, &channel->quarantine);
	channel->quarantined_pages += desc->pages;
	channel->quarantined_descs++;
	atomic_long_inc(&dsa_copy_stats.quarantined);
}

/*
 * Whether a channel's quarantined descriptors mean it is losing
 * completions. Not for idxd: a work queue whose slots are all quarantined
 * is skipped until late completions free some, and released with its
 * quarantine when the queue goes away.
 */
static bool dsa_copy_channel_lost(struct dsa_copy_channel *channel)
{
	return !channel->wq &&
	       READ_ONCE(channel->quarantined_descs) >= DSA_COPY_QUARANTINE_BROKEN;
}

/*
 * Whether copy @i of a called-back descriptor failed: the provider marks
 * the copies of a vectored memcpy it did not complete; when it marked none
 * of a failed one, or has no vectored memcpy, all of them failed.
 */
static bool dsa_copy_failed(struct dsa_copy_desc *desc, unsigned int i)
{
	if (!desc->result)
		return false;
	return test_bit(i, desc->failed) || bitmap_empty(desc->failed, desc->nr);
}

/* The result of one descriptor for the folios of its copies. */
static void dsa_copy_take_result(struct migrate_copy_batch *batch, struct dsa_copy_desc *desc,
				 bool done)
{
	unsigned int i;

	for (i = 0; i < desc->nr; i++) {
		int *result = &batch->items[desc->chunks[i].item].result;

		if (!done)
			*result = -ETIMEDOUT;
		else if (!*result && dsa_copy_failed(desc, i))
			*result = -EIO;
	}
}

/*
 * After the wait: take each descriptor's result, and quarantine the ones
 * that did not call back. A timed-out copy makes its folio time out, even
 * if another of its copies failed.
 */
static void dsa_copy_collect(struct migrate_copy_batch *batch, struct list_head *inflight)
{
	struct dsa_copy_desc *desc, *next;
	unsigned long flags;

	bool freed = false;

	list_for_each_entry_safe(desc, next, inflight, node) {
		struct dsa_copy_channel *channel = desc->channel;
		bool done;

		/*
		 * A quarantined descriptor is the late callback's once the lock
		 * is dropped: take its results before.
		 */
		spin_lock_irqsave(&channel->lock, flags);
		done = desc->done;
		if (done) {
			list_del_init(&desc->node);
		} else {
			dsa_copy_take_result(batch, desc, false);
			dsa_copy_quarantine(desc);
		}
		spin_unlock_irqrestore(&channel->lock, flags);

		if (!done) {
			if (dsa_copy_channel_lost(channel))
				dsa_copy_mark_broken(channel, "is losing completions");
			continue;
		}
		dsa_copy_take_result(batch, desc, true);
		dsa_copy_desc_unmap(desc);
		dsa_copy_desc_put(desc, false);
		freed = true;
	}
	/* Batches waiting for a descriptor may find one now. */
	if (freed)
		dsa_copy_room_freed();
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
}

static int dsa_copy_batch(struct migrate_copy_engine *engine, struct migrate_copy_batch *batch)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(READ_ONCE(dsa_copy_config.timeout_ms));
	unsigned int i, failed = 0;
	struct dsa_copy_wait wait;
	LIST_HEAD(inflight);
	int srcu_index;

	init_completion(&wait.done);
	atomic_set(&wait.pending, 1);
	for (i = 0; i < batch->nr; i++)
		batch->items[i].result = 0;
	srcu_index = srcu_read_lock(&dsa_copy_srcu);
	dsa_copy_submit_batch(batch, &wait, &inflight, deadline);
	dsa_copy_issue_pending();
	if (!atomic_dec_and_test(&wait.pending) && dsa_copy_time_left(deadline))
		wait_for_completion_timeout(&wait.done, dsa_copy_time_left(deadline));
	dsa_copy_collect(batch, &inflight);
	srcu_read_unlock(&dsa_copy_srcu, srcu_index);
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

/* Slots of @wq held by descriptors of channels given back. */
static unsigned int dsa_copy_wq_slots_held(struct idxd_wq *wq)
{
	struct dsa_copy_channel *channel;
	unsigned int held = 0;

	lockdep_assert_held(&dsa_copy_lock);
	list_for_each_entry(channel, &dsa_copy_retired, list)
		if (channel->wq == wq)
			held += READ_ONCE(channel->quarantined_descs);
	return held;
}

/*
 * The largest transfer and the most descriptors outstanding: an idxd work
 * queue's own maximum transfer, and its slots but one, less those still
 * held by quarantined descriptors of a channel given back; for another
 * provider, its max segment size; never more than the descriptors the
 * engine holds for the channel. idxd frees a
 * slot right after the callback, in which the engine counts it free: one
 * slot kept spare means prep always finds one and never sleeps.
 */
static void dsa_copy_channel_limits(struct dsa_copy_channel *channel)
{
	size_t max_xfer = READ_ONCE(dsa_copy_config.max_transfer_bytes);
	struct idxd_wq *wq = channel->wq;
	unsigned int held;

	channel->budget = channel->nr_descs;
	if (wq) {
		max_xfer = min3(max_xfer, (size_t)wq->max_xfer_bytes,
				(size_t)wq->idxd->max_xfer_bytes);
		held = dsa_copy_wq_slots_held(wq);
		channel->budget = min_t(unsigned int, channel->budget,
					wq->num_descs > held + 1 ? wq->num_descs - held - 1 : 0);
	} else if (channel->dev->dma_parms && dma_get_max_seg_size(channel->dev)) {
		max_xfer = min_t(size_t, max_xfer, dma_get_max_seg_size(channel->dev));
	}
	channel->max_xfer = max_t(size_t, rounddown(max_xfer, PAGE_SIZE), PAGE_SIZE);
}

/*
 * Copies per descriptor: the channel's vectored memcpy, if it has one, up
 * to the knob; descriptors: enough for two batches of 4K folios, and never
 * fewer than DSA_COPY_MIN_DESCS.
 */
static void dsa_copy_channel_size(struct dsa_copy_channel *channel)
{
	unsigned int copies = min(dma_memcpy_vec_max(channel->chan),
				  READ_ONCE(dsa_copy_config.max_batch_copies));

	channel->max_copies = clamp(copies, 1U, DSA_COPY_MAX_COPIES);
	channel->nr_descs = max(DSA_COPY_COPIES_PER_CHANNEL / channel->max_copies,
				DSA_COPY_MIN_DESCS);
}

static void dsa_copy_channel_free(struct dsa_copy_channel *channel)
{
	pr_debug("freed %s\n", channel->name);
	bitmap_free(channel->failed_bits);
	kvfree(channel->vecs);
	kvfree(channel->chunks);
	kvfree(channel->descs);
	kfree(channel);
}

/* The descriptors and what they point to, all free. */
static int dsa_copy_channel_alloc_descs(struct dsa_copy_channel *channel, int nid)
{
	unsigned int i, copies = channel->nr_descs * channel->max_copies;
	unsigned int longs = BITS_TO_LONGS(channel->max_copies);

	channel->descs = kvcalloc_node(channel->nr_descs, sizeof(*channel->descs), GFP_KERNEL,
				       nid);
	channel->chunks = kvcalloc_node(copies, sizeof(*channel->chunks), GFP_KERNEL, nid);
	channel->vecs = kvcalloc_node(copies, sizeof(*channel->vecs), GFP_KERNEL, nid);
	channel->failed_bits = bitmap_zalloc_node(channel->nr_descs * longs * BITS_PER_LONG,
						  GFP_KERNEL, nid);
	if (!channel->descs || !channel->chunks || !channel->vecs || !channel->failed_bits)
		return -ENOMEM;
	for (i = 0; i < channel->nr_descs; i++) {
		struct dsa_copy_desc *desc = &channel->descs[i];

		desc->channel = channel;
		desc->chunks = &channel->chunks[i * channel->max_copies];
		desc->vec = &channel->vecs[i * channel->max_copies];
		desc->failed = &channel->failed_bits[i * longs];
		list_add_tail(&desc->node, &channel->free);
	}
	channel->nr_free = channel->nr_descs;
	return 0;
}

static struct dsa_copy_channel *dsa_copy_channel_create(struct dma_chan *chan)
{
	struct device *dev = chan->device->dev;
	struct dsa_copy_channel *channel;

	channel = kzalloc_node(sizeof(*channel), GFP_KERNEL, dev_to_node(dev));
	if (!channel)
		return NULL;
	channel->chan = chan;
	strscpy(channel->name, dma_chan_name(chan), sizeof(channel->name));
	channel->dev = dev;
	channel->nid = dev_to_node(dev);
	channel->wq = dsa_copy_chan_wq(chan);
	if (channel->wq)
		channel->wq_dev = wq_confdev(channel->wq);
	spin_lock_init(&channel->lock);
	INIT_LIST_HEAD(&channel->free);
	INIT_LIST_HEAD(&channel->quarantine);
	dsa_copy_channel_size(channel);
	if (dsa_copy_channel_alloc_descs(channel, channel->nid)) {
		dsa_copy_channel_free(channel);
		return NULL;
	}
	dsa_copy_channel_limits(channel);
	return channel;
}

/* Release every quarantined descriptor: the device cannot touch them now. */
static void dsa_copy_release_quarantine(struct dsa_copy_channel *channel)
{
	struct dsa_copy_desc *desc, *next;
	unsigned long flags;
	LIST_HEAD(dead);

	spin_lock_irqsave(&channel->lock, flags);
	list_splice_init(&channel->quarantine, &dead);
	/* No callback will come for them: their slots are free. */
	channel->outstanding -= channel->quarantined_descs;
	spin_unlock_irqrestore(&channel->lock, flags);
	list_for_each_entry_safe(desc, next, &dead, node) {
		list_del_init(&desc->node);
		dsa_copy_release_quarantined(desc);
	}
}

/*
 * Give a channel, already off the list and unused by any batch, back to its
 * provider. A provider that can terminate drops what is pending without
 * calling back: the quarantine is released. Otherwise the channel is kept,
 * retired, until the last quarantined descriptor is released.
 */
static void dsa_copy_channel_give_back(struct dsa_copy_channel *channel)
{
	bool terminated = !dmaengine_terminate_sync(channel->chan);
	unsigned long flags;
	unsigned int held;

	if (terminated)
		dsa_copy_release_quarantine(channel);
	dma_release_channel(channel->chan);
	channel->chan = NULL;
	pr_debug("gave back %s\n", channel->name);

	spin_lock_irqsave(&channel->lock, flags);
	held = channel->quarantined_descs;
	spin_unlock_irqrestore(&channel->lock, flags);
	if (!held) {
		dsa_copy_channel_free(channel);
		return;
	}
	pr_info("%s: %lu quarantined pages stay held until the device lets them go\n",
		channel->name, channel->quarantined_pages);
	list_add_tail(&channel->list, &dsa_copy_retired);
}

/* Take @channel off the list, wait for the batches that may use it, give it back. */
static void dsa_copy_channel_remove(struct dsa_copy_channel *channel)
{
	lockdep_assert_held(&dsa_copy_lock);
	list_del_rcu(&channel->list);
	dsa_copy_nr_channels--;
	synchronize_srcu(&dsa_copy_srcu);
	dsa_copy_channel_give_back(channel);
}

static int dsa_copy_take_channels(void)
{
	struct dsa_copy_channel *channel;
	bool any_provider = dsa_copy_config.any_provider;
	struct dma_chan *chan;
	dma_cap_mask_t mask;

	lockdep_assert_held(&dsa_copy_lock);
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
		list_add_tail_rcu(&channel->list, &dsa_copy_channels);
		dsa_copy_nr_channels++;
		pr_debug("took %s on node %d, %zu bytes per copy, %u copies per descriptor\n",
			 channel->name, channel->nid, channel->max_xfer, channel->max_copies);
		pr_debug("%s: %u descriptors outstanding at most\n", channel->name,
			 channel->budget);
	}
	return dsa_copy_nr_channels ? 0 : -ENODEV;
}

static void dsa_copy_release_channels(bool only_broken)
{
	struct dsa_copy_channel *channel, *next;

	list_for_each_entry_safe(channel, next, &dsa_copy_channels, list)
		if (!only_broken || channel->broken)
			dsa_copy_channel_remove(channel);
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
	if (dsa_copy_registered) {
		migrate_copy_engine_unregister(&dsa_copy_engine);
		dsa_copy_registered = false;
	}
	dsa_copy_release_channels(false);
	dsa_copy_config.enabled = false;
}

/* A channel broke: give it back; the engine stays, with the channels left. */
static void dsa_copy_drop_broken(struct work_struct *work)
{
	mutex_lock(&dsa_copy_lock);
	dsa_copy_release_channels(true);
	if (dsa_copy_config.enabled && !dsa_copy_nr_channels)
		pr_warn("no usable channel left: the CPU copies\n");
	mutex_unlock(&dsa_copy_lock);
}

/*
 * Free the retired channels whose last quarantined descriptor was
 * released, then drop the module references of released descriptors.
 */
static void dsa_copy_reap_retired(struct work_struct *work)
{
	struct dsa_copy_channel *channel, *next;
	int refs;

	mutex_lock(&dsa_copy_lock);
	list_for_each_entry_safe(channel, next, &dsa_copy_retired, list) {
		if (READ_ONCE(channel->quarantined_descs))
			continue;
		list_del(&channel->list);
		dsa_copy_channel_free(channel);
	}
	mutex_unlock(&dsa_copy_lock);
	for (refs = atomic_xchg(&dsa_copy_refs_to_drop, 0); refs; refs--)
		module_put(THIS_MODULE);
}

/* A work queue came up: take channels again while the engine has too few. */
static void dsa_copy_refill(struct work_struct *work)
{
	mutex_lock(&dsa_copy_lock);
	if (dsa_copy_config.enabled)
		dsa_copy_take_channels();
	mutex_unlock(&dsa_copy_lock);
}

/* ---- work queues coming and going, seen on the dsa bus ---- */

/* Before idxd's remove: stop using the work queue's channel and give it back. */
static void dsa_copy_wq_unbinding(struct device *dev)
{
	struct dsa_copy_channel *channel, *next;

	mutex_lock(&dsa_copy_lock);
	list_for_each_entry_safe(channel, next, &dsa_copy_channels, list) {
		if (channel->wq_dev != dev)
			continue;
		pr_info("%s: its work queue %s is going away\n", channel->name, dev_name(dev));
		dsa_copy_channel_remove(channel);
	}
	mutex_unlock(&dsa_copy_lock);
}

/*
 * After idxd's remove (idxd_drv_disable_wq()): the work queue was drained,
 * and reset, and idxd dropped what it still had pending without calling
 * back. A drain completes only when the device has finished every
 * descriptor before it, and a halted device processes none: either way the
 * device no longer touches the quarantined descriptors. Release them.
 */
static void dsa_copy_wq_unbound(struct device *dev)
{
	struct dsa_copy_channel *channel, *next;

	mutex_lock(&dsa_copy_lock);
	list_for_each_entry_safe(channel, next, &dsa_copy_retired, list) {
		if (channel->wq_dev != dev)
			continue;
		dsa_copy_release_quarantine(channel);
		list_del(&channel->list);
		dsa_copy_channel_free(channel);
	}
	mutex_unlock(&dsa_copy_lock);
}

static int dsa_copy_bus_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	switch (action) {
	case BUS_NOTIFY_UNBIND_DRIVER:
		atomic_inc(&dsa_copy_unbinding);
		dsa_copy_wq_unbinding(data);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
		dsa_copy_wq_unbound(data);
		atomic_dec(&dsa_copy_unbinding);
		fallthrough;
	case BUS_NOTIFY_BOUND_DRIVER:
		if (READ_ONCE(dsa_copy_config.enabled))
			schedule_work(&dsa_copy_refill_work);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block dsa_copy_bus_nb = {
	.notifier_call = dsa_copy_bus_notify,
};

/* ---- what the engine holds, for sysfs and debugfs ---- */

/* Context: dsa_copy_lock held. */
unsigned int dsa_copy_channel_count(void)
{
	lockdep_assert_held(&dsa_copy_lock);
	return dsa_copy_nr_channels;
}

/* Context: dsa_copy_lock held. */
unsigned long dsa_copy_quarantined_pages(void)
{
	struct dsa_copy_channel *channel;
	unsigned long pages = 0;

	lockdep_assert_held(&dsa_copy_lock);
	list_for_each_entry(channel, &dsa_copy_channels, list)
		pages += READ_ONCE(channel->quarantined_pages);
	list_for_each_entry(channel, &dsa_copy_retired, list)
		pages += READ_ONCE(channel->quarantined_pages);
	return pages;
}

static void dsa_copy_show_channel(struct seq_file *m, struct dsa_copy_channel *channel,
				  const char *state)
{
	seq_printf(m, "%s node=%d max_transfer=%zu max_copies=%u budget=%u outstanding=%u ",
		   channel->name, channel->nid, channel->max_xfer, channel->max_copies,
		   channel->budget, READ_ONCE(channel->outstanding));
	seq_printf(m, "quarantined_pages=%lu %s\n", READ_ONCE(channel->quarantined_pages), state);
}

static int dsa_copy_channels_show(struct seq_file *m, void *unused)
{
	struct dsa_copy_channel *channel;

	mutex_lock(&dsa_copy_lock);
	list_for_each_entry(channel, &dsa_copy_channels, list)
		dsa_copy_show_channel(m, channel, !dsa_copy_channel_up(channel) ? "down" : "up");
	list_for_each_entry(channel, &dsa_copy_retired, list)
		dsa_copy_show_channel(m, channel, "given-back");
	mutex_unlock(&dsa_copy_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dsa_copy_channels);

static struct dentry *dsa_copy_debugfs;

static int __init dsa_copy_init(void)
{
	int ret;

	ret = dsa_copy_sysfs_init();
	if (ret)
		return ret;
	ret = bus_register_notifier(&dsa_bus_type, &dsa_copy_bus_nb);
	if (ret)
		goto exit_sysfs;
	dsa_copy_debugfs = debugfs_create_dir("migrate_copy_dsa", NULL);
	debugfs_create_file("channels", 0400, dsa_copy_debugfs, NULL, &dsa_copy_channels_fops);
	return 0;

exit_sysfs:
	dsa_copy_sysfs_exit();
	return ret;
}
module_init(dsa_copy_init);

/*
 * Every quarantined descriptor holds a module reference, so no late
 * callback can be pending here, and every channel is freed. The channels
 * are given back before the dsa bus stops telling us about work queues
 * going away.
 */
static void __exit dsa_copy_exit(void)
{
	debugfs_remove(dsa_copy_debugfs);
	dsa_copy_sysfs_exit();
	mutex_lock(&dsa_copy_lock);
	dsa_copy_disable();
	mutex_unlock(&dsa_copy_lock);
	bus_unregister_notifier(&dsa_bus_type, &dsa_copy_bus_nb);
	cancel_work_sync(&dsa_copy_drop_work);
	cancel_work_sync(&dsa_copy_refill_work);
	flush_work(&dsa_copy_reap_work);
	WARN_ON(!list_empty(&dsa_copy_retired));
}
module_exit(dsa_copy_exit);

MODULE_DESCRIPTION("DSA (dmaengine) copy engine for batched page migration");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IDXD);
