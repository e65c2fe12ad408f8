// SPDX-License-Identifier: GPL-2.0
/*
 * Memcpy test provider that behaves like the dmaengine channels of idxd.
 *
 * Test infrastructure for dmaengine clients that offload memory copies (page
 * migration, for one) and must be tested without Intel DSA hardware. The
 * module registers one dmaengine device, "memcpy_test_dma", whose channels
 * look like the channels idxd registers for kernel work queues: they are
 * DMA_PRIVATE, offer DMA_MEMCPY and DMA_INTERRUPT, complete out of order
 * (DMA_COMPLETION_NO_ORDER, device_tx_status() returns DMA_OUT_OF_ORDER),
 * refuse copies above the work queue's maximum transfer size, and sleep in
 * prep while all wq_size descriptors of the channel are in use.
 *
 * The copies are done by the CPU, one descriptor at a time per channel, from
 * a work item on an unbound workqueue, never in the caller's context. A
 * descriptor runs once dma_async_issue_pending() is called, as the dmaengine
 * API requires, or once a prep has to wait for a free slot: idxd starts each
 * descriptor at submit, so its clients may fill the queue before they issue.
 * DMA addresses are taken as physical addresses (the device is not behind an
 * IOMMU) and must lie in the kernel's direct map; other addresses fail the
 * descriptor with DMA_TRANS_READ_FAILED (source) or DMA_TRANS_WRITE_FAILED
 * (destination).
 *
 * Completion mirrors idxd_dma_complete_txd(): the cookie is completed, the
 * descriptor is unmapped, then the callback is called with a struct
 * dmaengine_result, but only for descriptors prepared with
 * DMA_PREP_INTERRUPT. Callbacks run in process context with bottom halves
 * disabled, so a callback that sleeps is reported like in a tasklet.
 *
 * With max_batch=N (N >= 2), the channels also offer DMA_MEMCPY_VEC, like
 * idxd's on a DSA work queue whose batches take N descriptors: a vectored
 * memcpy of up to N copies is one descriptor slot, whose copies each count
 * as a descriptor below and meet their own fate, like the members of a DSA
 * batch; the failed ones are marked in the client's bitmap, and a held one
 * holds the whole transaction. The vectored prep sleeps for a free slot like
 * the others: idxd's never sleeps, but a client cannot tell how many slots
 * another provider has, and the DSA engine never fills an idxd queue.
 *
 * Faults are injected through /sys/kernel/debug/memcpy_test_dma/, whose
 * knobs take their initial values from the module parameters of the same
 * names. The fate of a descriptor is decided when it is prepared, from its
 * device-wide number (1, 2, ... since load or the last write to
 * reset_counters), so "every Nth" faults are deterministic:
 *
 * - never_complete_every=N: every Nth descriptor is neither executed nor
 *   completed; it is held until device_terminate_all() or until the channel
 *   is freed;
 * - error_every=N: every Nth descriptor fails;
 * - error_rate=P: P percent of the other descriptors fail, at random.
 *
 * A failing descriptor copies the first half of its length and completes with
 * DMA_TRANS_WRITE_FAILED and the uncopied length as residue, which is what
 * idxd reports for any error. Independently, prep_null_every=N makes every
 * Nth prep return NULL, disabled=1 makes every prep return NULL (a disabled
 * work queue), delay_us delays each descriptor before its copy and reorder=1
 * executes each issue_pending() batch in reverse order.
 *
 * Idxd has no device_terminate_all(); this one drops every descriptor of the
 * channel that has not started its copy, held ones included, and completes
 * each of them with DMA_TRANS_ABORTED and its full length as residue, as idxd
 * completes a descriptor whose submission it aborts. This differs from the
 * usual "no callback for aborted transfers", so that no callback is lost
 * forever. The aborted callbacks are called from the channel's work item,
 * never from device_terminate_all() itself; device_synchronize() returns once
 * all of them, and the copy that was running, have finished. Descriptors
 * still outstanding when the channel is freed are dropped without callbacks,
 * as idxd drops those of a work queue it disables.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/platform_device.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "dmaengine.h"

#define MTD_NAME		"memcpy_test_dma"
#define MTD_MAX_CHANNELS	16
#define MTD_MAX_WQ_SIZE		1024
#define MTD_MAX_DELAY_US	USEC_PER_SEC
#define MTD_MAX_BATCH		512

/**
 * enum mtd_knob_id - fault injection knobs, in debugfs and module parameters
 * @MTD_KNOB_ERROR_RATE: percentage of descriptors that fail, at random
 * @MTD_KNOB_ERROR_EVERY: every Nth descriptor fails, 0 is off
 * @MTD_KNOB_DELAY_US: microseconds each descriptor waits before its copy
 * @MTD_KNOB_REORDER: 1 executes each issued batch in reverse order
 * @MTD_KNOB_NEVER_COMPLETE_EVERY: every Nth descriptor is held, 0 is off
 * @MTD_KNOB_PREP_NULL_EVERY: every Nth prep returns NULL, 0 is off
 * @MTD_KNOB_DISABLED: 1 makes every prep return NULL
 * @MTD_NR_KNOBS: number of knobs
 */
enum mtd_knob_id {
	MTD_KNOB_ERROR_RATE,
	MTD_KNOB_ERROR_EVERY,
	MTD_KNOB_DELAY_US,
	MTD_KNOB_REORDER,
	MTD_KNOB_NEVER_COMPLETE_EVERY,
	MTD_KNOB_PREP_NULL_EVERY,
	MTD_KNOB_DISABLED,
	MTD_NR_KNOBS
};

/**
 * struct mtd_knob_info - name and range of a knob
 * @name: name of the debugfs file and of the module parameter
 * @max: largest value accepted; the smallest is 0
 */
struct mtd_knob_info {
	const char *name;
	u32 max;
};

static const struct mtd_knob_info mtd_knob_info[MTD_NR_KNOBS] = {
	[MTD_KNOB_ERROR_RATE]		= { "error_rate", 100 },
	[MTD_KNOB_ERROR_EVERY]		= { "error_every", U32_MAX },
	[MTD_KNOB_DELAY_US]		= { "delay_us", MTD_MAX_DELAY_US },
	[MTD_KNOB_REORDER]		= { "reorder", 1 },
	[MTD_KNOB_NEVER_COMPLETE_EVERY]	= { "never_complete_every", U32_MAX },
	[MTD_KNOB_PREP_NULL_EVERY]	= { "prep_null_every", U32_MAX },
	[MTD_KNOB_DISABLED]		= { "disabled", 1 },
};

/**
 * enum mtd_counter_id - statistics, read-only files in debugfs
 * @MTD_CNT_PREP_CALLS: prep calls not refused for a disabled device or an
 *	oversized length; the sequence prep_null_every counts
 * @MTD_CNT_DESCRIPTORS: descriptors prepared; the sequence that numbers
 *	descriptors for error_every and never_complete_every
 * @MTD_CNT_COMPLETED: descriptors executed and completed, failed ones included
 * @MTD_CNT_ERRORS: descriptors completed with a read or write failure
 * @MTD_CNT_ABORTED: descriptors dropped by terminate_all or a channel free
 * @MTD_CNT_NEVER_COMPLETED: descriptors held back now (not reset)
 * @MTD_CNT_BYTES: bytes copied by descriptors that completed without error
 * @MTD_CNT_INJECTED_ERRORS: descriptors fated to fail when prepared
 * @MTD_NR_COUNTERS: number of counters
 */
enum mtd_counter_id {
	MTD_CNT_PREP_CALLS,
	MTD_CNT_DESCRIPTORS,
	MTD_CNT_COMPLETED,
	MTD_CNT_ERRORS,
	MTD_CNT_ABORTED,
	MTD_CNT_NEVER_COMPLETED,
	MTD_CNT_BYTES,
	MTD_CNT_INJECTED_ERRORS,
	MTD_NR_COUNTERS
};

static const char * const mtd_counter_names[MTD_NR_COUNTERS] = {
	[MTD_CNT_PREP_CALLS]		= "prep_calls",
	[MTD_CNT_DESCRIPTORS]		= "descriptors",
	[MTD_CNT_COMPLETED]		= "completed",
	[MTD_CNT_ERRORS]		= "errors",
	[MTD_CNT_ABORTED]		= "aborted",
	[MTD_CNT_NEVER_COMPLETED]	= "never_completed",
	[MTD_CNT_BYTES]			= "bytes",
	[MTD_CNT_INJECTED_ERRORS]	= "injected_errors",
};

/**
 * enum mtd_fate - what fault injection decided for a descriptor
 * @MTD_FATE_COPY: copy and complete with DMA_TRANS_NOERROR
 * @MTD_FATE_FAIL: copy half and complete with DMA_TRANS_WRITE_FAILED
 * @MTD_FATE_HOLD: neither execute nor complete until aborted
 */
enum mtd_fate {
	MTD_FATE_COPY,
	MTD_FATE_FAIL,
	MTD_FATE_HOLD,
};

/**
 * enum mtd_desc_state - where a descriptor slot is in its life
 * @MTD_DESC_FREE: on the channel's free list
 * @MTD_DESC_PREPARED: handed to the client by prep, not submitted yet
 * @MTD_DESC_SUBMITTED: on the submitted list, waiting for issue_pending
 * @MTD_DESC_ISSUED: on the issued list, waiting for the worker
 * @MTD_DESC_ACTIVE: being executed by the worker
 * @MTD_DESC_HELD: on the held list, never to be executed
 * @MTD_DESC_ABORTING: on the aborted list, to complete as aborted
 */
enum mtd_desc_state {
	MTD_DESC_FREE,
	MTD_DESC_PREPARED,
	MTD_DESC_SUBMITTED,
	MTD_DESC_ISSUED,
	MTD_DESC_ACTIVE,
	MTD_DESC_HELD,
	MTD_DESC_ABORTING,
};

/**
 * struct mtd_desc - a descriptor slot of a channel
 * @txd: the descriptor the client sees
 * @node: links the slot into one of the channel's lists
 * @src: DMA address of the source
 * @dst: DMA address of the destination
 * @len: bytes to copy, 0 for an interrupt descriptor
 * @seq: device-wide number of the descriptor, from 1
 * @fate: what fault injection decided when the descriptor was prepared
 * @state: where the slot is in its life, under the channel's lock
 * @abort: set by terminate_all while the descriptor is active; the worker
 *	aborts it if its copy has not started yet
 * @vec: the copies of a vectored memcpy, max_batch of them
 * @nents: copies in @vec, 0 for a single memcpy
 * @doomed: the copies of @vec fated to fail
 * @failed: the client's bitmap of failed copies
 */
struct mtd_desc {
	struct dma_async_tx_descriptor txd;
	struct list_head node;
	dma_addr_t src;
	dma_addr_t dst;
	size_t len;
	u64 seq;
	enum mtd_fate fate;
	enum mtd_desc_state state;
	bool abort;
	struct dma_memcpy_vec *vec;
	unsigned int nents;
	unsigned long *doomed;
	unsigned long *failed;
};

struct mtd_device;

/**
 * struct mtd_chan - a channel, the counterpart of an idxd kernel work queue
 * @chan: the dmaengine channel
 * @mdev: the device that owns the channel
 * @work: executes the channel's descriptors one by one
 * @slot_wait: preps wait here while every slot is in use
 * @lock: protects the lists, @descs, @active and the slots' state and
 *	cookies
 * @descs: the wq_size slots, allocated while a client holds the channel
 * @vecs: the slots' copies of vectored memcpys, max_batch per slot
 * @doomed: the slots' bitmaps of doomed copies
 * @free: slots ready to be prepared
 * @submitted: descriptors submitted but not issued yet
 * @issued: descriptors issued, in the order they will be executed
 * @held: descriptors that never complete until they are aborted
 * @aborted: descriptors dropped by terminate_all, to complete as aborted
 * @active: the descriptor the worker is executing, or NULL
 */
struct mtd_chan {
	struct dma_chan chan;
	struct mtd_device *mdev;
	struct work_struct work;
	wait_queue_head_t slot_wait;
	spinlock_t lock; /* protects the lists and the slots */
	struct mtd_desc *descs;
	struct dma_memcpy_vec *vecs;
	unsigned long *doomed;
	struct list_head free;
	struct list_head submitted;
	struct list_head issued;
	struct list_head held;
	struct list_head aborted;
	struct mtd_desc *active;
};

/**
 * struct mtd_knob - current value of a fault injection knob
 * @value: the value, read locklessly by the data path
 * @max: largest value accepted
 */
struct mtd_knob {
	u32 value;
	u32 max;
};

/**
 * struct mtd_device - the test provider
 * @dma: the dmaengine device
 * @chans: the channels
 * @nr_chans: number of @chans
 * @wq_size: descriptor slots per channel
 * @max_xfer: largest length a memcpy descriptor accepts
 * @max_batch: most copies of a vectored memcpy, 0 without DMA_MEMCPY_VEC
 * @wq: unbound workqueue the channels' work items run on
 * @debugfs: the memcpy_test_dma debugfs directory
 * @knobs: fault injection knobs, indexed by enum mtd_knob_id
 * @counters: statistics, indexed by enum mtd_counter_id
 */
struct mtd_device {
	struct dma_device dma;
	struct mtd_chan *chans;
	unsigned int nr_chans;
	unsigned int wq_size;
	unsigned int max_xfer;
	unsigned int max_batch;
	struct workqueue_struct *wq;
	struct dentry *debugfs;
	struct mtd_knob knobs[MTD_NR_KNOBS];
	atomic64_t counters[MTD_NR_COUNTERS];
};

static unsigned int param_nr_channels = 2;
module_param_named(nr_channels, param_nr_channels, uint, 0444);
MODULE_PARM_DESC(nr_channels, "Number of channels, 1..16 (default 2)");

static unsigned int param_wq_size = 32;
module_param_named(wq_size, param_wq_size, uint, 0444);
MODULE_PARM_DESC(wq_size,
		 "Descriptors in flight per channel, 1..1024 (default 32)");

static unsigned int param_max_xfer = SZ_2M;
module_param_named(max_xfer, param_max_xfer, uint, 0444);
MODULE_PARM_DESC(max_xfer, "Largest memcpy length in bytes (default 2 MiB)");

static unsigned int param_max_batch = 32;
module_param_named(max_batch, param_max_batch, uint, 0444);
MODULE_PARM_DESC(max_batch,
		 "Most copies of a vectored memcpy, 2..512; 0 offers no DMA_MEMCPY_VEC (default 32)");

static int param_node = NUMA_NO_NODE;
module_param_named(node, param_node, int, 0444);
MODULE_PARM_DESC(node, "NUMA node of the device, -1 for none (default -1)");

static unsigned int param_knobs[MTD_NR_KNOBS];
module_param_named(error_rate, param_knobs[MTD_KNOB_ERROR_RATE], uint, 0444);
MODULE_PARM_DESC(error_rate, "Percentage of descriptors failing at random");
module_param_named(error_every, param_knobs[MTD_KNOB_ERROR_EVERY], uint,
		   0444);
MODULE_PARM_DESC(error_every, "Every Nth descriptor fails, 0 is off");
module_param_named(delay_us, param_knobs[MTD_KNOB_DELAY_US], uint, 0444);
MODULE_PARM_DESC(delay_us, "Delay before each copy in us, up to 1000000");
module_param_named(reorder, param_knobs[MTD_KNOB_REORDER], uint, 0444);
MODULE_PARM_DESC(reorder, "1 executes each issued batch in reverse order");
module_param_named(never_complete_every,
		   param_knobs[MTD_KNOB_NEVER_COMPLETE_EVERY], uint, 0444);
MODULE_PARM_DESC(never_complete_every,
		 "Every Nth descriptor never completes until aborted, 0 is off");
module_param_named(prep_null_every, param_knobs[MTD_KNOB_PREP_NULL_EVERY],
		   uint, 0444);
MODULE_PARM_DESC(prep_null_every, "Every Nth prep returns NULL, 0 is off");
module_param_named(disabled, param_knobs[MTD_KNOB_DISABLED], uint, 0444);
MODULE_PARM_DESC(disabled, "1 makes every prep return NULL");

static struct platform_device *mtd_pdev;

static struct mtd_chan *to_mtd_chan(struct dma_chan *chan)
{
	return container_of(chan, struct mtd_chan, chan);
}

static struct mtd_desc *to_mtd_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct mtd_desc, txd);
}

static struct device *mtd_dev(struct mtd_chan *mc)
{
	return mc->mdev->dma.dev;
}

static u32 mtd_knob(struct mtd_device *mdev, enum mtd_knob_id id)
{
	return READ_ONCE(mdev->knobs[id].value);
}

static atomic64_t *mtd_counter(struct mtd_device *mdev, enum mtd_counter_id id)
{
	return &mdev->counters[id];
}

/* Whether @seq is a multiple of @every; @every == 0 never matches. */
static bool mtd_is_nth(u64 seq, u32 every)
{
	u32 remainder;

	if (!every)
		return false;
	div_u64_rem(seq, every, &remainder);
	return !remainder;
}

static bool mtd_inject_prep_null(struct mtd_device *mdev)
{
	u64 call = atomic64_inc_return(mtd_counter(mdev, MTD_CNT_PREP_CALLS));

	return mtd_is_nth(call, mtd_knob(mdev, MTD_KNOB_PREP_NULL_EVERY));
}

static enum mtd_fate mtd_pick_fate(struct mtd_device *mdev, u64 seq)
{
	u32 rate = mtd_knob(mdev, MTD_KNOB_ERROR_RATE);

	if (mtd_is_nth(seq, mtd_knob(mdev, MTD_KNOB_NEVER_COMPLETE_EVERY)))
		return MTD_FATE_HOLD;
	if (mtd_is_nth(seq, mtd_knob(mdev, MTD_KNOB_ERROR_EVERY)))
		return MTD_FATE_FAIL;
	if (rate && get_random_u32_below(100) < rate)
		return MTD_FATE_FAIL;
	return MTD_FATE_COPY;
}

static void mtd_kick(struct mtd_chan *mc)
{
	struct mtd_device *mdev = mc->mdev;

	queue_work_node(dev_to_node(mdev->dma.dev), mdev->wq, &mc->work);
}

/*
 * Moves the submitted descriptors to the issued list, in reverse order when
 * reorder is set, and the ones fated never to complete to the held list.
 */
static void mtd_issue_pending(struct dma_chan *chan)
{
	struct mtd_chan *mc = to_mtd_chan(chan);
	struct mtd_device *mdev = mc->mdev;
	bool reverse = mtd_knob(mdev, MTD_KNOB_REORDER);
	struct mtd_desc *desc, *next;
	unsigned int held = 0;
	unsigned long flags;
	LIST_HEAD(batch);
	bool kick;

	spin_lock_irqsave(&mc->lock, flags);
	list_for_each_entry_safe(desc, next, &mc->submitted, node) {
		if (desc->fate == MTD_FATE_HOLD) {
			desc->state = MTD_DESC_HELD;
			list_move_tail(&desc->node, &mc->held);
			held++;
			continue;
		}
		desc->state = MTD_DESC_ISSUED;
		if (reverse)
			list_move(&desc->node, &batch);
		else
			list_move_tail(&desc->node, &batch);
	}
	kick = !list_empty(&batch);
	list_splice_tail(&batch, &mc->issued);
	spin_unlock_irqrestore(&mc->lock, flags);

	atomic64_add(held, mtd_counter(mdev, MTD_CNT_NEVER_COMPLETED));
	if (kick)
		mtd_kick(mc);
}

static bool mtd_take_free_desc(struct mtd_chan *mc, struct mtd_desc **descp)
{
	struct mtd_desc *desc;
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	desc = list_first_entry_or_null(&mc->free, struct mtd_desc, node);
	if (desc) {
		list_del_init(&desc->node);
		desc->state = MTD_DESC_PREPARED;
	}
	spin_unlock_irqrestore(&mc->lock, flags);

	*descp = desc;
	return desc;
}

/*
 * Takes a free slot, sleeping while all are in use, like idxd_alloc_desc()
 * with IDXD_OP_BLOCK. Returns NULL when a signal interrupts the wait.
 *
 * Idxd executes a descriptor as soon as it is submitted, so a client may
 * prepare more descriptors than the queue holds before it issues them. To
 * not deadlock such a client, a prep that has to wait issues the submitted
 * descriptors first, as if dma_async_issue_pending() had been called.
 */
static struct mtd_desc *mtd_alloc_desc(struct mtd_chan *mc)
{
	struct mtd_desc *desc;

	if (mtd_take_free_desc(mc, &desc))
		return desc;

	mtd_issue_pending(&mc->chan);
	if (wait_event_interruptible(mc->slot_wait,
				     mtd_take_free_desc(mc, &desc)))
		return NULL;
	return desc;
}

static void mtd_free_desc(struct mtd_chan *mc, struct mtd_desc *desc)
{
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	desc->txd.callback = NULL;
	desc->txd.callback_result = NULL;
	desc->txd.callback_param = NULL;
	desc->abort = false;
	desc->state = MTD_DESC_FREE;
	list_add(&desc->node, &mc->free);
	spin_unlock_irqrestore(&mc->lock, flags);

	wake_up(&mc->slot_wait);
}

/*
 * Common part of the preps: the checks idxd makes, the injected failures,
 * then a slot and the descriptor's fate. May sleep, like idxd's preps.
 */
static struct mtd_desc *mtd_prep_desc(struct mtd_chan *mc, dma_addr_t dst,
				      dma_addr_t src, size_t len,
				      unsigned long flags)
{
	struct mtd_device *mdev = mc->mdev;
	struct mtd_desc *desc;
	u64 seq;

	might_sleep();

	if (mtd_knob(mdev, MTD_KNOB_DISABLED))
		return NULL;
	if (len > mdev->max_xfer)
		return NULL;
	if (mtd_inject_prep_null(mdev))
		return NULL;
	if (signal_pending(current))
		return NULL;
	if (!READ_ONCE(mc->descs))
		return NULL;

	desc = mtd_alloc_desc(mc);
	if (!desc)
		return NULL;

	seq = atomic64_inc_return(mtd_counter(mdev, MTD_CNT_DESCRIPTORS));
	desc->nents = 0;
	desc->src = src;
	desc->dst = dst;
	desc->len = len;
	desc->seq = seq;
	desc->fate = mtd_pick_fate(mdev, seq);
	if (desc->fate == MTD_FATE_FAIL)
		atomic64_inc(mtd_counter(mdev, MTD_CNT_INJECTED_ERRORS));
	desc->txd.flags = flags;
	return desc;
}

static struct dma_async_tx_descriptor *
mtd_prep_dma_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		    size_t len, unsigned long flags)
{
	struct mtd_desc *desc;

	desc = mtd_prep_desc(to_mtd_chan(chan), dst, src, len, flags);
	return desc ? &desc->txd : NULL;
}

static struct dma_async_tx_descriptor *
mtd_prep_dma_interrupt(struct dma_chan *chan, unsigned long flags)
{
	struct mtd_desc *desc;

	desc = mtd_prep_desc(to_mtd_chan(chan), 0, 0, 0, flags);
	return desc ? &desc->txd : NULL;
}

/*
 * A vectored memcpy in one slot; sleeps for a free one like the other
 * preps. Each copy is numbered and meets its fate like a descriptor of its
 * own; one held copy holds all.
 */
static struct dma_async_tx_descriptor *
mtd_prep_dma_memcpy_vec(struct dma_chan *chan, const struct dma_memcpy_vec *vec,
			unsigned int nents, unsigned long *failed, unsigned long flags)
{
	struct mtd_chan *mc = to_mtd_chan(chan);
	struct mtd_device *mdev = mc->mdev;
	struct mtd_desc *desc;
	enum mtd_fate fate;
	size_t len = 0;
	unsigned int i;

	if (!nents || nents > mdev->max_batch || mtd_knob(mdev, MTD_KNOB_DISABLED))
		return NULL;
	for (i = 0; i < nents; i++) {
		if (!vec[i].len || vec[i].len > mdev->max_xfer)
			return NULL;
		len += vec[i].len;
	}
	might_sleep();
	if (mtd_inject_prep_null(mdev) || signal_pending(current) || !READ_ONCE(mc->descs))
		return NULL;
	desc = mtd_alloc_desc(mc);
	if (!desc)
		return NULL;

	memcpy(desc->vec, vec, nents * sizeof(*vec));
	bitmap_zero(desc->doomed, nents);
	desc->nents = nents;
	desc->failed = failed;
	desc->src = 0;
	desc->dst = 0;
	desc->len = len;
	desc->fate = MTD_FATE_COPY;
	for (i = 0; i < nents; i++) {
		desc->seq = atomic64_inc_return(mtd_counter(mdev, MTD_CNT_DESCRIPTORS));
		fate = mtd_pick_fate(mdev, desc->seq);
		if (fate == MTD_FATE_HOLD) {
			desc->fate = MTD_FATE_HOLD;
		} else if (fate == MTD_FATE_FAIL) {
			__set_bit(i, desc->doomed);
			atomic64_inc(mtd_counter(mdev, MTD_CNT_INJECTED_ERRORS));
		}
	}
	desc->txd.flags = flags;
	return &desc->txd;
}

static dma_cookie_t mtd_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct mtd_chan *mc = to_mtd_chan(tx->chan);
	struct mtd_desc *desc = to_mtd_desc(tx);
	unsigned long flags;
	dma_cookie_t cookie;

	spin_lock_irqsave(&mc->lock, flags);
	if (desc->state != MTD_DESC_PREPARED) {
		spin_unlock_irqrestore(&mc->lock, flags);
		dev_WARN_ONCE(mtd_dev(mc), 1,
			      "%s: descriptor submitted twice or after completion\n",
			      dma_chan_name(tx->chan));
		return -EINVAL;
	}
	cookie = dma_cookie_assign(tx);
	desc->state = MTD_DESC_SUBMITTED;
	list_add_tail(&desc->node, &mc->submitted);
	spin_unlock_irqrestore(&mc->lock, flags);

	return cookie;
}

/*
 * Idxd reports DMA_OUT_OF_ORDER whatever the cookie: with out-of-order
 * completion the channel's last completed cookie says nothing about another
 * cookie. dma_cookie_status() still fills @txstate (last, used, residue 0).
 * Clients learn about completion from the callbacks only.
 */
static enum dma_status mtd_tx_status(struct dma_chan *chan,
				     dma_cookie_t cookie,
				     struct dma_tx_state *txstate)
{
	dma_cookie_status(chan, cookie, txstate);
	return DMA_OUT_OF_ORDER;
}

/* Each copy of a vectored memcpy counts as a descriptor of its own. */
static void mtd_count_vec_result(struct mtd_device *mdev, struct mtd_desc *desc,
				 const struct dmaengine_result *res)
{
	unsigned int failed = bitmap_weight(desc->failed, desc->nents);

	if (res->result == DMA_TRANS_ABORTED) {
		atomic64_add(desc->nents, mtd_counter(mdev, MTD_CNT_ABORTED));
		return;
	}
	atomic64_add(desc->nents, mtd_counter(mdev, MTD_CNT_COMPLETED));
	atomic64_add(failed, mtd_counter(mdev, MTD_CNT_ERRORS));
	atomic64_add(desc->len - res->residue, mtd_counter(mdev, MTD_CNT_BYTES));
}

static void mtd_count_result(struct mtd_device *mdev, struct mtd_desc *desc,
			     const struct dmaengine_result *res)
{
	if (desc->nents) {
		mtd_count_vec_result(mdev, desc, res);
		return;
	}
	switch (res->result) {
	case DMA_TRANS_NOERROR:
		atomic64_inc(mtd_counter(mdev, MTD_CNT_COMPLETED));
		atomic64_add(desc->len, mtd_counter(mdev, MTD_CNT_BYTES));
		break;
	case DMA_TRANS_ABORTED:
		atomic64_inc(mtd_counter(mdev, MTD_CNT_ABORTED));
		break;
	default:
		atomic64_inc(mtd_counter(mdev, MTD_CNT_COMPLETED));
		atomic64_inc(mtd_counter(mdev, MTD_CNT_ERRORS));
		break;
	}
}

/*
 * Completes @desc like idxd_dma_complete_txd(): cookie, unmap, then the
 * callback if the descriptor asked for an interrupt; frees the slot last.
 */
static void mtd_complete_desc(struct mtd_chan *mc, struct mtd_desc *desc,
			      const struct dmaengine_result *res)
{
	struct dma_async_tx_descriptor *tx = &desc->txd;
	struct dmaengine_desc_callback cb;
	unsigned long flags;

	mtd_count_result(mc->mdev, desc, res);

	spin_lock_irqsave(&mc->lock, flags);
	dma_cookie_complete(tx);
	dmaengine_desc_get_callback(tx, &cb);
	if (mc->active == desc)
		mc->active = NULL;
	spin_unlock_irqrestore(&mc->lock, flags);

	dma_descriptor_unmap(tx);
	if (tx->flags & DMA_PREP_INTERRUPT) {
		local_bh_disable();
		dmaengine_desc_callback_invoke(&cb, res);
		local_bh_enable();
	}

	mtd_free_desc(mc, desc);
}

/*
 * Returns the kernel address of @len bytes at DMA address @addr, or NULL if
 * they are not in the direct map. Without an IOMMU a DMA address is the
 * physical address, less any bus offset that dma_to_phys() removes.
 */
static void *mtd_dma_to_virt(struct device *dev, dma_addr_t addr, size_t len)
{
	phys_addr_t start = dma_to_phys(dev, addr);
	phys_addr_t last = start + len - 1;

	if (last < start)
		return NULL;
	if (!virt_addr_valid(phys_to_virt(start)) ||
	    !virt_addr_valid(phys_to_virt(last)))
		return NULL;
	return phys_to_virt(start);
}

/* Copies the first @len bytes from @src_dma to @dst_dma on the CPU. */
static enum dmaengine_tx_result mtd_copy(struct mtd_chan *mc, dma_addr_t dst_dma,
					 dma_addr_t src_dma, size_t len)
{
	struct device *dev = mtd_dev(mc);
	void *src, *dst;

	if (!len)
		return DMA_TRANS_NOERROR;

	src = mtd_dma_to_virt(dev, src_dma, len);
	if (!src) {
		dev_warn_ratelimited(dev, "%s: source %pad+%zu is not in the direct map\n",
				     dma_chan_name(&mc->chan), &src_dma, len);
		return DMA_TRANS_READ_FAILED;
	}
	dst = mtd_dma_to_virt(dev, dst_dma, len);
	if (!dst) {
		dev_warn_ratelimited(dev, "%s: destination %pad+%zu is not in the direct map\n",
				     dma_chan_name(&mc->chan), &dst_dma, len);
		return DMA_TRANS_WRITE_FAILED;
	}

	/* DSA's memory move handles overlapping buffers */
	memmove(dst, src, len);
	return DMA_TRANS_NOERROR;
}

/* Whether terminate_all left @desc alone while the worker delayed it. */
static bool mtd_may_start(struct mtd_chan *mc, struct mtd_desc *desc)
{
	unsigned long flags;
	bool abort;

	spin_lock_irqsave(&mc->lock, flags);
	abort = desc->abort;
	spin_unlock_irqrestore(&mc->lock, flags);

	return !abort;
}

/*
 * Runs the copies of a vectored memcpy one by one, like the members of a
 * DSA batch: a doomed one copies half its length and fails; each failed one
 * is marked in the client's bitmap.
 */
static void mtd_execute_vec(struct mtd_chan *mc, struct mtd_desc *desc,
			    struct dmaengine_result *res)
{
	enum dmaengine_tx_result result;
	unsigned int i;

	res->result = DMA_TRANS_NOERROR;
	res->residue = 0;
	for (i = 0; i < desc->nents; i++) {
		struct dma_memcpy_vec *copy = &desc->vec[i];
		bool doomed = test_bit(i, desc->doomed);

		result = mtd_copy(mc, copy->dst, copy->src, doomed ? copy->len / 2 : copy->len);
		if (result == DMA_TRANS_NOERROR && doomed)
			result = DMA_TRANS_WRITE_FAILED;
		if (result == DMA_TRANS_NOERROR)
			continue;
		__set_bit(i, desc->failed);
		res->result = result;
		res->residue += copy->len;
	}
}

static void mtd_execute_desc(struct mtd_chan *mc, struct mtd_desc *desc)
{
	u32 delay_us = mtd_knob(mc->mdev, MTD_KNOB_DELAY_US);
	struct dmaengine_result res;
	size_t half;

	if (delay_us)
		fsleep(delay_us);

	if (!mtd_may_start(mc, desc)) {
		res.result = DMA_TRANS_ABORTED;
		res.residue = desc->len;
		if (desc->nents)
			bitmap_set(desc->failed, 0, desc->nents);
	} else if (desc->nents) {
		mtd_execute_vec(mc, desc, &res);
	} else if (desc->fate == MTD_FATE_FAIL) {
		half = desc->len / 2;
		res.result = mtd_copy(mc, desc->dst, desc->src, half);
		if (res.result == DMA_TRANS_NOERROR)
			res.result = DMA_TRANS_WRITE_FAILED;
		res.residue = desc->len - half;
	} else {
		res.result = mtd_copy(mc, desc->dst, desc->src, desc->len);
		res.residue = res.result == DMA_TRANS_NOERROR ? 0 : desc->len;
	}

	mtd_complete_desc(mc, desc, &res);
}

/* Takes the next descriptor to abort, else the next one to execute. */
static struct mtd_desc *mtd_next_desc(struct mtd_chan *mc)
{
	struct mtd_desc *desc;
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	desc = list_first_entry_or_null(&mc->aborted, struct mtd_desc, node);
	if (!desc) {
		desc = list_first_entry_or_null(&mc->issued, struct mtd_desc,
						node);
		if (desc) {
			desc->state = MTD_DESC_ACTIVE;
			mc->active = desc;
		}
	}
	if (desc)
		list_del_init(&desc->node);
	spin_unlock_irqrestore(&mc->lock, flags);

	return desc;
}

static void mtd_chan_work(struct work_struct *work)
{
	struct mtd_chan *mc = container_of(work, struct mtd_chan, work);
	struct dmaengine_result aborted;
	struct mtd_desc *desc;

	while ((desc = mtd_next_desc(mc))) {
		if (desc->state == MTD_DESC_ABORTING) {
			aborted.result = DMA_TRANS_ABORTED;
			aborted.residue = desc->len;
			if (desc->nents)
				bitmap_set(desc->failed, 0, desc->nents);
			mtd_complete_desc(mc, desc, &aborted);
		} else {
			mtd_execute_desc(mc, desc);
		}
		cond_resched();
	}
}

/* Marks the descriptors of @from aborting and moves them to @to. */
static unsigned int mtd_abort_list(struct list_head *from,
				   struct list_head *to)
{
	struct mtd_desc *desc;
	unsigned int count = 0;

	list_for_each_entry(desc, from, node) {
		desc->state = MTD_DESC_ABORTING;
		count++;
	}
	list_splice_tail_init(from, to);
	return count;
}

/*
 * Drops every descriptor that has not started its copy, held ones included;
 * the worker completes them with DMA_TRANS_ABORTED. Does not sleep.
 */
static int mtd_terminate_all(struct dma_chan *chan)
{
	struct mtd_chan *mc = to_mtd_chan(chan);
	unsigned long flags;
	unsigned int held;
	bool kick;

	spin_lock_irqsave(&mc->lock, flags);
	mtd_abort_list(&mc->issued, &mc->aborted);
	mtd_abort_list(&mc->submitted, &mc->aborted);
	held = mtd_abort_list(&mc->held, &mc->aborted);
	if (mc->active)
		mc->active->abort = true;
	kick = !list_empty(&mc->aborted);
	spin_unlock_irqrestore(&mc->lock, flags);

	atomic64_sub(held, mtd_counter(mc->mdev, MTD_CNT_NEVER_COMPLETED));
	if (kick)
		mtd_kick(mc);
	return 0;
}

/* Waits until the copies and callbacks queued so far have finished. */
static void mtd_synchronize(struct dma_chan *chan)
{
	flush_work(&to_mtd_chan(chan)->work);
}

static int mtd_alloc_chan_resources(struct dma_chan *chan)
{
	struct mtd_chan *mc = to_mtd_chan(chan);
	struct mtd_device *mdev = mc->mdev;
	unsigned int i, longs = BITS_TO_LONGS(mdev->max_batch);
	int node = dev_to_node(mdev->dma.dev);
	struct dma_memcpy_vec *vecs = NULL;
	unsigned long *doomed = NULL;
	struct mtd_desc *descs;
	unsigned long flags;
	LIST_HEAD(slots);

	descs = kcalloc_node(mdev->wq_size, sizeof(*descs), GFP_KERNEL, node);
	if (!descs)
		return -ENOMEM;
	if (mdev->max_batch) {
		vecs = kvcalloc_node(mdev->wq_size * mdev->max_batch, sizeof(*vecs),
				     GFP_KERNEL, node);
		doomed = bitmap_zalloc_node(mdev->wq_size * longs * BITS_PER_LONG,
					    GFP_KERNEL, node);
		if (!vecs || !doomed)
			goto free_vecs;
	}

	for (i = 0; i < mdev->wq_size; i++) {
		if (vecs) {
			descs[i].vec = &vecs[i * mdev->max_batch];
			descs[i].doomed = &doomed[i * longs];
		}
		dma_async_tx_descriptor_init(&descs[i].txd, chan);
		descs[i].txd.tx_submit = mtd_tx_submit;
		descs[i].state = MTD_DESC_FREE;
		list_add_tail(&descs[i].node, &slots);
	}

	spin_lock_irqsave(&mc->lock, flags);
	list_splice_tail(&slots, &mc->free);
	mc->descs = descs;
	mc->vecs = vecs;
	mc->doomed = doomed;
	dma_cookie_init(chan);
	spin_unlock_irqrestore(&mc->lock, flags);

	return mdev->wq_size;

free_vecs:
	bitmap_free(doomed);
	kvfree(vecs);
	kfree(descs);
	return -ENOMEM;
}

/*
 * The client is gone: after dma_release_channel() called
 * dmaengine_synchronize(), descriptors can only be left over if the client
 * did not terminate the channel. They are dropped without callbacks, since
 * the client no longer expects any, and reported.
 */
static void mtd_free_chan_resources(struct dma_chan *chan)
{
	struct mtd_chan *mc = to_mtd_chan(chan);
	struct mtd_device *mdev = mc->mdev;
	unsigned int dropped = 0, held, unsubmitted = 0;
	struct dma_memcpy_vec *vecs;
	struct mtd_desc *descs, *desc;
	unsigned long *doomed;
	unsigned long flags;
	LIST_HEAD(leftover);
	unsigned int i;

	spin_lock_irqsave(&mc->lock, flags);
	mtd_abort_list(&mc->aborted, &leftover);
	mtd_abort_list(&mc->issued, &leftover);
	mtd_abort_list(&mc->submitted, &leftover);
	held = mtd_abort_list(&mc->held, &leftover);
	spin_unlock_irqrestore(&mc->lock, flags);

	atomic64_sub(held, mtd_counter(mdev, MTD_CNT_NEVER_COMPLETED));
	list_for_each_entry(desc, &leftover, node) {
		dma_descriptor_unmap(&desc->txd);
		dropped++;
	}
	atomic64_add(dropped, mtd_counter(mdev, MTD_CNT_ABORTED));

	/* Let the running descriptor, if any, complete */
	flush_work(&mc->work);

	spin_lock_irqsave(&mc->lock, flags);
	descs = mc->descs;
	for (i = 0; descs && i < mdev->wq_size; i++)
		if (descs[i].state == MTD_DESC_PREPARED)
			unsubmitted++;
	mc->descs = NULL;
	vecs = mc->vecs;
	mc->vecs = NULL;
	doomed = mc->doomed;
	mc->doomed = NULL;
	INIT_LIST_HEAD(&mc->free);
	spin_unlock_irqrestore(&mc->lock, flags);

	if (dropped || unsubmitted)
		dev_warn(mtd_dev(mc),
			 "%s: freed with %u descriptors in flight (%u held) and %u prepared but not submitted; dropped without callbacks\n",
			 dma_chan_name(chan), dropped, held, unsubmitted);
	bitmap_free(doomed);
	kvfree(vecs);
	kfree(descs);
}

static void mtd_release(struct dma_device *dma)
{
	struct mtd_device *mdev = container_of(dma, struct mtd_device, dma);

	kfree(mdev->chans);
	kfree(mdev);
}

static unsigned int mtd_memcpy_vec_max(struct dma_chan *chan)
{
	return to_mtd_chan(chan)->mdev->max_batch;
}

static void mtd_init_dma_device(struct mtd_device *mdev, struct device *dev)
{
	struct dma_device *dma = &mdev->dma;
	u32 widths = BIT(DMA_SLAVE_BUSWIDTH_1_BYTE) |
		     BIT(DMA_SLAVE_BUSWIDTH_2_BYTES) |
		     BIT(DMA_SLAVE_BUSWIDTH_4_BYTES) |
		     BIT(DMA_SLAVE_BUSWIDTH_8_BYTES);

	dma->dev = dev;
	INIT_LIST_HEAD(&dma->channels);

	dma_cap_set(DMA_MEMCPY, dma->cap_mask);
	dma_cap_set(DMA_INTERRUPT, dma->cap_mask);
	dma_cap_set(DMA_PRIVATE, dma->cap_mask);
	dma_cap_set(DMA_COMPLETION_NO_ORDER, dma->cap_mask);

	dma->src_addr_widths = widths;
	dma->dst_addr_widths = widths;
	dma->directions = BIT(DMA_MEM_TO_MEM);
	dma->residue_granularity = DMA_RESIDUE_GRANULARITY_DESCRIPTOR;
	dma->copy_align = DMAENGINE_ALIGN_1_BYTE;

	dma->device_alloc_chan_resources = mtd_alloc_chan_resources;
	dma->device_free_chan_resources = mtd_free_chan_resources;
	dma->device_prep_dma_memcpy = mtd_prep_dma_memcpy;
	dma->device_prep_dma_interrupt = mtd_prep_dma_interrupt;
	if (mdev->max_batch) {
		dma_cap_set(DMA_MEMCPY_VEC, dma->cap_mask);
		dma->device_prep_dma_memcpy_vec = mtd_prep_dma_memcpy_vec;
		dma->device_memcpy_vec_max = mtd_memcpy_vec_max;
	}
	dma->device_issue_pending = mtd_issue_pending;
	dma->device_tx_status = mtd_tx_status;
	dma->device_terminate_all = mtd_terminate_all;
	dma->device_synchronize = mtd_synchronize;
	dma->device_release = mtd_release;
}

static void mtd_init_channel(struct mtd_device *mdev, struct mtd_chan *mc)
{
	mc->mdev = mdev;
	mc->chan.device = &mdev->dma;
	INIT_WORK(&mc->work, mtd_chan_work);
	init_waitqueue_head(&mc->slot_wait);
	spin_lock_init(&mc->lock);
	INIT_LIST_HEAD(&mc->free);
	INIT_LIST_HEAD(&mc->submitted);
	INIT_LIST_HEAD(&mc->issued);
	INIT_LIST_HEAD(&mc->held);
	INIT_LIST_HEAD(&mc->aborted);
	dma_cookie_init(&mc->chan);
	list_add_tail(&mc->chan.device_node, &mdev->dma.channels);
}

static int mtd_knob_get(void *data, u64 *val)
{
	struct mtd_knob *knob = data;

	*val = READ_ONCE(knob->value);
	return 0;
}

static int mtd_knob_set(void *data, u64 val)
{
	struct mtd_knob *knob = data;

	if (val > knob->max)
		return -EINVAL;
	WRITE_ONCE(knob->value, val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(mtd_knob_fops, mtd_knob_get, mtd_knob_set, "%llu\n");

static int mtd_counter_get(void *data, u64 *val)
{
	*val = atomic64_read(data);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(mtd_counter_fops, mtd_counter_get, NULL, "%llu\n");

static int mtd_node_get(void *data, u64 *val)
{
	struct mtd_device *mdev = data;

	*val = dev_to_node(mdev->dma.dev);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(mtd_node_fops, mtd_node_get, NULL, "%lld\n");

/* Any write resets every counter but never_completed, a current count. */
static int mtd_reset_counters_set(void *data, u64 val)
{
	struct mtd_device *mdev = data;
	int i;

	for (i = 0; i < MTD_NR_COUNTERS; i++)
		if (i != MTD_CNT_NEVER_COMPLETED)
			atomic64_set(mtd_counter(mdev, i), 0);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(mtd_reset_counters_fops, NULL,
			 mtd_reset_counters_set, "%llu\n");

static void mtd_create_debugfs(struct mtd_device *mdev)
{
	struct dentry *dir;
	int i;

	dir = debugfs_create_dir(MTD_NAME, NULL);
	mdev->debugfs = dir;

	for (i = 0; i < MTD_NR_KNOBS; i++)
		debugfs_create_file_unsafe(mtd_knob_info[i].name, 0644, dir,
					   &mdev->knobs[i], &mtd_knob_fops);
	for (i = 0; i < MTD_NR_COUNTERS; i++)
		debugfs_create_file_unsafe(mtd_counter_names[i], 0444, dir,
					   mtd_counter(mdev, i),
					   &mtd_counter_fops);
	debugfs_create_file_unsafe("node", 0444, dir, mdev, &mtd_node_fops);
	debugfs_create_file_unsafe("reset_counters", 0200, dir, mdev,
				   &mtd_reset_counters_fops);
}

static struct mtd_device *mtd_alloc_device(struct device *dev)
{
	struct mtd_device *mdev;
	int i;

	mdev = kzalloc_node(sizeof(*mdev), GFP_KERNEL, dev_to_node(dev));
	if (!mdev)
		return NULL;

	mdev->chans = kcalloc_node(param_nr_channels, sizeof(*mdev->chans),
				   GFP_KERNEL, dev_to_node(dev));
	if (!mdev->chans) {
		kfree(mdev);
		return NULL;
	}

	mdev->nr_chans = param_nr_channels;
	mdev->wq_size = param_wq_size;
	mdev->max_xfer = param_max_xfer;
	mdev->max_batch = param_max_batch;
	for (i = 0; i < MTD_NR_KNOBS; i++) {
		mdev->knobs[i].value = param_knobs[i];
		mdev->knobs[i].max = mtd_knob_info[i].max;
	}
	return mdev;
}

static int mtd_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct mtd_device *mdev;
	unsigned int i;
	int ret;

	set_dev_node(dev, param_node);

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(dev, "cannot set a 64-bit DMA mask: %d\n", ret);
		return ret;
	}
	if (device_iommu_mapped(dev)) {
		dev_err(dev, "behind an IOMMU, DMA addresses are not physical\n");
		return -ENODEV;
	}
	dma_set_max_seg_size(dev, param_max_xfer);

	mdev = mtd_alloc_device(dev);
	if (!mdev)
		return -ENOMEM;

	mdev->wq = alloc_workqueue(MTD_NAME, WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!mdev->wq) {
		ret = -ENOMEM;
		goto err_alloc_workqueue;
	}

	mtd_init_dma_device(mdev, dev);
	for (i = 0; i < mdev->nr_chans; i++)
		mtd_init_channel(mdev, &mdev->chans[i]);

	ret = dma_async_device_register(&mdev->dma);
	if (ret) {
		dev_err(dev, "cannot register the dmaengine device: %d\n", ret);
		goto err_register;
	}

	platform_set_drvdata(pdev, mdev);
	mtd_create_debugfs(mdev);

	dev_info(dev, "%u channels of %u descriptors, max_xfer %u, max_batch %u, node %d\n",
		 mdev->nr_chans, mdev->wq_size, mdev->max_xfer, mdev->max_batch,
		 dev_to_node(dev));
	return 0;

err_register:
	destroy_workqueue(mdev->wq);
err_alloc_workqueue:
	kfree(mdev->chans);
	kfree(mdev);
	return ret;
}

/*
 * No client holds a channel here: dmaengine holds a reference on this module
 * for each channel in use. Stop the workers, then unregister; the last
 * reference on the dmaengine device frees @mdev through mtd_release().
 */
static void mtd_remove(struct platform_device *pdev)
{
	struct mtd_device *mdev = platform_get_drvdata(pdev);
	unsigned int i;

	debugfs_remove_recursive(mdev->debugfs);

	for (i = 0; i < mdev->nr_chans; i++) {
		mtd_terminate_all(&mdev->chans[i].chan);
		mtd_synchronize(&mdev->chans[i].chan);
	}
	destroy_workqueue(mdev->wq);

	dma_async_device_unregister(&mdev->dma);
}

static struct platform_driver mtd_driver = {
	.driver = {
		.name = MTD_NAME,
	},
	.remove = mtd_remove,
};

static int __init mtd_check_params(void)
{
	int i;

	if (!param_nr_channels || param_nr_channels > MTD_MAX_CHANNELS) {
		pr_err("nr_channels=%u is out of range 1..%u\n",
		       param_nr_channels, MTD_MAX_CHANNELS);
		return -EINVAL;
	}
	if (!param_wq_size || param_wq_size > MTD_MAX_WQ_SIZE) {
		pr_err("wq_size=%u is out of range 1..%u\n",
		       param_wq_size, MTD_MAX_WQ_SIZE);
		return -EINVAL;
	}
	if (param_max_batch == 1 || param_max_batch > MTD_MAX_BATCH) {
		pr_err("max_batch=%u is out of range 2..%u, or 0 for none\n",
		       param_max_batch, MTD_MAX_BATCH);
		return -EINVAL;
	}
	if (!param_max_xfer) {
		pr_err("max_xfer=0 is invalid, it must be at least 1\n");
		return -EINVAL;
	}
	if (param_node != NUMA_NO_NODE &&
	    (param_node < 0 || param_node >= MAX_NUMNODES ||
	     !node_online(param_node))) {
		pr_err("node=%d is not an online NUMA node nor -1\n",
		       param_node);
		return -EINVAL;
	}
	for (i = 0; i < MTD_NR_KNOBS; i++) {
		if (param_knobs[i] > mtd_knob_info[i].max) {
			pr_err("%s=%u is out of range 0..%u\n",
			       mtd_knob_info[i].name, param_knobs[i],
			       mtd_knob_info[i].max);
			return -EINVAL;
		}
	}
	return 0;
}

static int __init mtd_init(void)
{
	struct platform_device *pdev;
	int ret;

	ret = mtd_check_params();
	if (ret)
		return ret;

	pdev = platform_create_bundle(&mtd_driver, mtd_probe, NULL, 0, NULL, 0);
	if (IS_ERR(pdev)) {
		pr_err("cannot create the %s device: %pe\n", MTD_NAME, pdev);
		return PTR_ERR(pdev);
	}
	mtd_pdev = pdev;
	return 0;
}
module_init(mtd_init);

static void __exit mtd_exit(void)
{
	platform_device_unregister(mtd_pdev);
	platform_driver_unregister(&mtd_driver);
}
module_exit(mtd_exit);

MODULE_DESCRIPTION("Memcpy test provider that behaves like idxd's dmaengine channels");
MODULE_AUTHOR("dsa-migrate <dsa-migrate@localhost>");
MODULE_LICENSE("GPL");
