/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Batched folio copy for page migration, with pluggable copy engines.
 *
 * migrate_pages_batch() unmaps a batch of folios and flushes the TLB once.
 * The copy of the whole batch then goes to one copy engine in one call; the
 * move phase skips the copy of every folio the engine copied, and copies the
 * others on the CPU, folio by folio, as it always did.
 */
#ifndef _LINUX_MIGRATE_COPY_H
#define _LINUX_MIGRATE_COPY_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/numa.h>
#include <linux/types.h>

struct module;
struct migrate_copy_engine;

/**
 * struct migrate_copy_item - one folio of a batch copy
 * @src: the source folio: locked, unmapped, its content stable.
 * @dst: the destination folio: locked, as large as @src, not yet visible
 *	to anybody but the migration code.
 * @result: set by the engine: 0 once @dst holds an exact copy of @src, or a
 *	negative errno. A failed folio is copied again on the CPU, except
 *	after -EHWPOISON (@src could not be read: the folio fails to migrate,
 *	as it does when the CPU copy meets poison) and after -ETIMEDOUT: then
 *	the engine may still write @dst later and holds a reference on it
 *	until it cannot; migration retries the folio with another destination.
 */
struct migrate_copy_item {
	struct folio *src;
	struct folio *dst;
	int result;
};

/**
 * struct migrate_copy_batch - the folios handed to a copy engine at once
 * @nr: number of entries used in @items.
 * @capacity: number of entries allocated in @items.
 * @bytes: total size of the folios in @items.
 * @dst_nid: node of every destination folio, or NUMA_NO_NODE if they differ.
 * @reason: the enum migrate_reason of the migration.
 * @size_class: the enum migrate_copy_class holding most of @bytes.
 * @items: the folios.
 */
struct migrate_copy_batch {
	unsigned int nr;
	unsigned int capacity;
	size_t bytes;
	int dst_nid;
	int reason;
	int size_class;
	struct migrate_copy_item items[] __counted_by(capacity);
};

/**
 * struct migrate_copy_engine_ops - what a copy engine provides
 * @name: short unique name, shown and chosen in
 *	/sys/kernel/mm/migrate_copy/engine. Letters, digits, '-' and '_'.
 * @owner: the module that provides the engine (THIS_MODULE), NULL if built
 *	in. The core holds a reference while a batch runs on the engine.
 * @copy_batch: copies every item of @batch and sets each item's result. It
 *	is called with the batch's folios locked, so it must not allocate
 *	with reclaim (preallocate, or use GFP_NOWAIT), must not take a folio
 *	lock, and must return within a bounded time. After it returns the
 *	engine must never write a destination folio whose result is not 0:
 *	an engine that gives up on a copy still in flight keeps that folio
 *	(takes a reference) until the hardware is done with it. A source it
 *	cannot read because of a memory error is -EHWPOISON. Returns the
 *	number of items that failed, or a negative errno if none was
 *	attempted; items left untouched count as failed.
 * @nid: NUMA node the engine is attached to, or NUMA_NO_NODE. A hint for
 *	automatic selection.
 * @min_bytes: smallest batch, in bytes, worth handing to the engine; 0 for
 *	any. A hint for automatic selection.
 */
struct migrate_copy_engine_ops {
	const char *name;
	struct module *owner;
	int (*copy_batch)(struct migrate_copy_engine *engine,
			  struct migrate_copy_batch *batch);
	int nid;
	size_t min_bytes;
};

/* Folio size classes the throughput estimates are kept for. */
enum migrate_copy_class {
	MIGRATE_COPY_CLASS_BASE,	/* order-0 folios */
	MIGRATE_COPY_CLASS_LARGE,	/* larger, below PMD size */
	MIGRATE_COPY_CLASS_PMD,		/* PMD size and larger */
	MIGRATE_COPY_NR_CLASSES
};

/**
 * struct migrate_copy_engine - a registered copy engine
 * @ops: the engine's operations and hints.
 * @private: the engine's own data.
 *
 * The engine fills in @ops and @private before it registers; the rest
 * belongs to the core.
 */
struct migrate_copy_engine {
	const struct migrate_copy_engine_ops *ops;
	void *private;
/* private: for the core only */
	/* entry in the list of registered engines */
	struct list_head list;
	/*
	 * Decaying average of the measured copy throughput, in bytes per
	 * microsecond, per folio size class; 0 until measured.
	 */
	unsigned long throughput[MIGRATE_COPY_NR_CLASSES];
	/* batch number from which auto may measure a slower engine again */
	unsigned long next_explore;
	/* times in a row it was measured slower: the interval doubles each */
	unsigned int explore_shift;
};

#ifdef CONFIG_MIGRATE_COPY_OFFLOAD

int migrate_copy_engine_register(struct migrate_copy_engine *engine);
void migrate_copy_engine_unregister(struct migrate_copy_engine *engine);

/* /sys/kernel/mm/migrate_copy/: engines may add their own directory. */
extern struct kobject *migrate_copy_kobj;

/* Strict input checks for the knobs of the core and of the engines. */
bool migrate_copy_input_ok(const char *buf, size_t count);
int migrate_copy_parse_bool(const char *buf, size_t count, bool *value);

#else /* !CONFIG_MIGRATE_COPY_OFFLOAD */

static inline int migrate_copy_engine_register(struct migrate_copy_engine *engine)
{
	return -EOPNOTSUPP;
}

static inline void migrate_copy_engine_unregister(struct migrate_copy_engine *engine)
{
}

#endif /* CONFIG_MIGRATE_COPY_OFFLOAD */
#endif /* _LINUX_MIGRATE_COPY_H */
