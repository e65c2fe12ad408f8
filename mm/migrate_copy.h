/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface between mm/migrate.c and the batched copy core,
 * mm/migrate_copy.c, and between the core and its sysfs knobs.
 */
#ifndef _MM_MIGRATE_COPY_H
#define _MM_MIGRATE_COPY_H

#include <linux/jump_label.h>
#include <linux/migrate_copy.h>
#include <linux/migrate_mode.h>

struct seq_file;

#ifdef CONFIG_MIGRATE_COPY_OFFLOAD

/* On while the batched copy is enabled: the disabled path is one NOP. */
DECLARE_STATIC_KEY_FALSE(migrate_copy_enabled_key);

/**
 * struct migrate_copy_policy - what an operator chose in sysfs
 * @reasons: bit N set if migrations of enum migrate_reason N use the batch
 *	copy.
 * @min_batch_bytes: smaller batches are copied by the move phase, as before.
 */
struct migrate_copy_policy {
	unsigned long reasons;
	size_t min_batch_bytes;
};

extern struct migrate_copy_policy migrate_copy_policy;
extern struct mutex migrate_copy_lock;

struct migrate_copy_batch *migrate_copy_batch_prepare(struct list_head *folios,
						      enum migrate_mode mode,
						      enum migrate_reason reason);
void migrate_copy_folios(struct migrate_copy_batch *batch,
			 struct list_head *src_folios,
			 struct list_head *dst_folios);
struct migrate_copy_batch *migrate_copy_batch_alloc(unsigned int capacity, int reason,
						    gfp_t gfp);
void migrate_copy_batch_free(struct migrate_copy_batch *batch);

bool migrate_copy_enabled(void);
void migrate_copy_set_enabled(bool enabled);
struct migrate_copy_engine *migrate_copy_engine_find(const char *name);
struct migrate_copy_engine *migrate_copy_selected_engine(void);
void migrate_copy_select_engine(struct migrate_copy_engine *engine);
int migrate_copy_show_engines(char *buf);
void migrate_copy_show_estimates(struct seq_file *m);
int migrate_copy_parse_reasons(const char *buf, unsigned long *reasons);
int migrate_copy_parse_min_bytes(const char *buf, size_t *bytes);
int migrate_copy_sysfs_init(void);

static inline bool migrate_copy_active(void)
{
	return static_branch_unlikely(&migrate_copy_enabled_key);
}

/**
 * migrate_copy_next_result() - The batch copy's result for the next folio.
 * @batch: The batch migrate_copy_folios() ran, or NULL.
 * @cursor: Index of the next item to look at; starts at 0.
 * @src: A source folio of the list the batch was built from, taken in the
 *	order of that list.
 *
 * Return: the engine's result for @src (0: its destination holds the
 * content), or -ENODATA if @src was not copied ahead.
 */
static inline int migrate_copy_next_result(const struct migrate_copy_batch *batch,
					   unsigned int *cursor, struct folio *src)
{
	if (!batch || *cursor >= batch->nr || batch->items[*cursor].src != src)
		return -ENODATA;
	return batch->items[(*cursor)++].result;
}

#else /* !CONFIG_MIGRATE_COPY_OFFLOAD */

static inline bool migrate_copy_active(void)
{
	return false;
}

static inline struct migrate_copy_batch *
migrate_copy_batch_prepare(struct list_head *folios, enum migrate_mode mode,
			   enum migrate_reason reason)
{
	return NULL;
}

static inline void migrate_copy_folios(struct migrate_copy_batch *batch,
				       struct list_head *src_folios,
				       struct list_head *dst_folios)
{
}

static inline int migrate_copy_next_result(const struct migrate_copy_batch *batch,
					   unsigned int *cursor, struct folio *src)
{
	return -ENODATA;
}

static inline void migrate_copy_batch_free(struct migrate_copy_batch *batch)
{
}

#endif /* CONFIG_MIGRATE_COPY_OFFLOAD */
#endif /* _MM_MIGRATE_COPY_H */
