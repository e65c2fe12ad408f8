/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DSA copy engine for page migration: shared definitions of its engine
 * (migrate_copy.c) and its knobs (migrate_copy_sysfs.c).
 */
#ifndef _IDXD_MIGRATE_COPY_H
#define _IDXD_MIGRATE_COPY_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dmaengine.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

struct folio;
struct idxd_wq;

/**
 * struct dsa_copy_chunk - one copy of a descriptor: a folio, or part of one
 * @src: source folio; referenced while quarantined.
 * @dst: destination folio; referenced while quarantined.
 * @item: index of the folio in the batch.
 */
struct dsa_copy_chunk {
	struct folio *src;
	struct folio *dst;
	unsigned int item;
};

/**
 * struct dsa_copy_desc - one DMA transaction of a batch, preallocated
 * @node: entry in its channel's free list, a batch's list of descriptors
 *	in flight, or its channel's quarantine.
 * @channel: the channel it belongs to.
 * @wait: the batch waiting for it; NULL once the batch gave up on it.
 * @chunks: its copies, @nr of them.
 * @vec: DMA addresses and length of each copy.
 * @failed: the copies the provider did not complete, when @result is set;
 *	for a vectored memcpy, the provider sets the bits.
 * @nr: copies in the descriptor.
 * @pages: pages of the destinations, counted while quarantined.
 * @result: 0 or -EIO, once @done.
 * @done: the provider called back.
 */
struct dsa_copy_desc {
	struct list_head node;
	struct dsa_copy_channel *channel;
	struct dsa_copy_wait *wait;
	struct dsa_copy_chunk *chunks;
	struct dma_memcpy_vec *vec;
	unsigned long *failed;
	unsigned int nr;
	unsigned int pages;
	int result;
	bool done;
};

/**
 * struct dsa_copy_wait - what a batch waits on
 * @done: completed when @pending drops to zero.
 * @pending: descriptors submitted and not called back, plus one while the
 *	batch is still submitting.
 */
struct dsa_copy_wait {
	struct completion done;
	atomic_t pending;
};

#define DSA_COPY_CHANNEL_NAME_SIZE	32

/**
 * struct dsa_copy_channel - a DMA_MEMCPY channel the engine holds
 * @chan: the dmaengine channel; NULL once given back.
 * @name: its name, kept for messages after it was given back.
 * @dev: the device that maps memory for it.
 * @nid: NUMA node of @dev.
 * @wq: the idxd work queue behind @chan, NULL for another provider.
 * @wq_dev: the work queue's device on the dsa bus, whose driver unbinding
 *	means the channel goes away; NULL for another provider.
 * @max_xfer: largest transfer of one copy.
 * @max_copies: most copies in one descriptor: a vectored memcpy's (one DSA
 *	batch descriptor), or 1 for a provider without DMA_MEMCPY_VEC.
 * @nr_descs: descriptors in @descs.
 * @budget: most descriptors outstanding at once: the work queue's slots.
 * @lock: protects @free, @quarantine, @outstanding, the quarantine counts
 *	and the descriptors' @wait and @done against the provider's callbacks.
 * @free: descriptors not in use.
 * @nr_free: descriptors in @free.
 * @quarantine: descriptors a batch gave up on after a timeout; they keep
 *	both folios referenced and mapped, their slot, and a module
 *	reference, until the device can no longer touch them.
 * @outstanding: descriptors submitted and not called back, quarantined
 *	ones included; never above @budget.
 * @quarantined_pages: pages of destination folios held by @quarantine.
 * @quarantined_descs: descriptors in @quarantine.
 * @null_preps: consecutive preps that returned NULL.
 * @broken: not used again: another provider's channel that stopped taking
 *	descriptors or is losing completions.
 * @descs: the preallocated descriptors.
 * @chunks: their copies, @max_copies each.
 * @vecs: their DMA addresses, @max_copies each.
 * @failed_bits: their bitmaps of failed copies.
 * @list: entry in the engine's list of channels, or of retired ones.
 */
struct dsa_copy_channel {
	struct dma_chan *chan;
	char name[DSA_COPY_CHANNEL_NAME_SIZE];
	struct device *dev;
	int nid;
	struct idxd_wq *wq;
	struct device *wq_dev;
	size_t max_xfer;
	unsigned int max_copies;
	unsigned int nr_descs;
	unsigned int budget;
	spinlock_t lock;
	struct list_head free;
	unsigned int nr_free;
	struct list_head quarantine;
	unsigned int outstanding;
	unsigned long quarantined_pages;
	unsigned int quarantined_descs;
	atomic_t null_preps;
	bool broken;
	struct dsa_copy_desc *descs;
	struct dsa_copy_chunk *chunks;
	struct dma_memcpy_vec *vecs;
	unsigned long *failed_bits;
	struct list_head list;
};

/**
 * enum dsa_copy_dst_hint - where the device writes the destinations
 * @DSA_COPY_DST_AUTO: to the cache for NUMA balancing (a promotion, or a
 *	page moving to the node of the task that touched it), to memory for
 *	everything else.
 * @DSA_COPY_DST_MEMORY: to memory.
 * @DSA_COPY_DST_CACHE: to the cache.
 * @DSA_COPY_NR_DST_HINTS: number of hints.
 */
enum dsa_copy_dst_hint {
	DSA_COPY_DST_AUTO,
	DSA_COPY_DST_MEMORY,
	DSA_COPY_DST_CACHE,
	DSA_COPY_NR_DST_HINTS
};

/**
 * struct dsa_copy_config - the knobs of the engine
 * @enabled: the engine holds channels and is registered.
 * @any_provider: take any DMA_MEMCPY channel, not only idxd's.
 * @max_channels: most channels to hold.
 * @timeout_ms: longest wait for a batch's descriptors.
 * @max_transfer_bytes: largest transfer per copy, also capped by the
 *	work queue's maximum transfer size (another provider: its max
 *	segment size).
 * @max_batch_copies: most copies per descriptor, also capped by the
 *	channel's vectored memcpy (a DSA work queue's maximum batch size);
 *	1 submits one descriptor per copy.
 * @dst_hint: an enum dsa_copy_dst_hint.
 */
struct dsa_copy_config {
	bool enabled;
	bool any_provider;
	unsigned int max_channels;
	unsigned int timeout_ms;
	unsigned int max_transfer_bytes;
	unsigned int max_batch_copies;
	unsigned int dst_hint;
};

/**
 * struct dsa_copy_stats - what the engine did, for its sysfs counters
 * @batches: batches run.
 * @offloaded: folios copied by DMA.
 * @failed: folios the DMA did not copy (error, NULL prep, mapping error);
 *	the CPU copied them.
 * @timed_out: folios whose copy did not complete in time; migration gave
 *	them up for that round.
 * @quarantined: descriptors ever quarantined after a timeout.
 * @released: quarantined descriptors released: late callback, or their
 *	work queue reset.
 * @descriptors: descriptors submitted.
 * @copies: copies submitted, in those descriptors.
 * @room_waits: times a batch waited for a slot because every channel was full.
 */
struct dsa_copy_stats {
	atomic_long_t batches;
	atomic_long_t offloaded;
	atomic_long_t failed;
	atomic_long_t timed_out;
	atomic_long_t quarantined;
	atomic_long_t released;
	atomic_long_t descriptors;
	atomic_long_t copies;
	atomic_long_t room_waits;
};

extern struct dsa_copy_config dsa_copy_config;
extern struct dsa_copy_stats dsa_copy_stats;
/* Serialises enabling, disabling and every knob write. */
extern struct mutex dsa_copy_lock;

int dsa_copy_enable(void);
void dsa_copy_disable(void);
unsigned int dsa_copy_channel_count(void);
unsigned long dsa_copy_quarantined_pages(void);
int dsa_copy_sysfs_init(void);
void dsa_copy_sysfs_exit(void);

#endif /* _IDXD_MIGRATE_COPY_H */
