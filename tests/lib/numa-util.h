/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest test programs: /proc/vmstat counters,
 * harness.* kernel parameters, node/cpu lists, data patterns, move_pages()
 * and the anonymous memory regions that get migrated.
 *
 * No libnuma: the programs are linked statically into a busybox initramfs,
 * so the system calls are made directly.
 */
#ifndef TESTS_LIB_NUMA_UTIL_H
#define TESTS_LIB_NUMA_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __printf
#define __printf(fmt_index, args_index) \
	__attribute__((format(printf, fmt_index, args_index)))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(array)	(sizeof(array) / sizeof((array)[0]))
#endif

#define SIZE_4K		4096UL
#define SIZE_2M		(2UL << 20)
#define SIZE_MIB	(1UL << 20)

/* ---- time, files, numbers ------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t time_now_ns(void);

/*
 * Read a whole (proc or sysfs) text file into @buf, NUL terminated, with
 * trailing whitespace removed.  Returns the length or -errno (-EFBIG when
 * it does not fit).
 */
long read_text_file(const char *path, char *buf, size_t size);

/* Strict decimal parse of @text into [@min, @max].  Returns 0 or -EINVAL. */
int parse_long(const char *text, long min, long max, long *value);

/* The index of @text among @count @names (a scenario name...), or -EINVAL. */
int parse_name(const char *text, const char *const *names, unsigned int count);

/* "@intro: name name ...\n" on stderr, for a usage message. */
void print_names(const char *intro, const char *const *names, unsigned int count);

/* "ENODEV (No such device)" for an errno value, or "errno N (...)". */
const char *errno_describe(int err, char *buf, size_t size);

/* ---- /proc/vmstat ---------------------------------------------------- */

/* Value of one /proc/vmstat counter, -1 if the counter does not exist. */
long long vmstat_read(const char *name);

#define VMSTAT_SET_MAX	32
#define VMSTAT_ABSENT	(-1LL)

/*
 * A set of counters read in one pass.  Typical use:
 *
 *	struct vmstat_set before = { 0 }, after;
 *
 *	vmstat_set_add(&before, "pgmigrate_success");
 *	after = before;
 *	vmstat_set_snapshot(&before);
 *	... work ...
 *	vmstat_set_snapshot(&after);
 *	vmstat_set_delta(&before, &after, "pgmigrate_success", &delta);
 */
struct vmstat_set {
	unsigned int count;
	const char *names[VMSTAT_SET_MAX];
	long long values[VMSTAT_SET_MAX];	/* VMSTAT_ABSENT if missing */
};

/* Add a counter; returns its index or -ENOSPC.  Adding twice is a no-op. */
int vmstat_set_add(struct vmstat_set *set, const char *name);

/* Read every counter of @set.  Returns 0 or -errno. */
int vmstat_set_snapshot(struct vmstat_set *set);

/*
 * after - before for counter @name.  Returns false (and leaves @delta
 * alone) if the counter is not in the sets or absent from /proc/vmstat.
 */
bool vmstat_set_delta(const struct vmstat_set *before,
		      const struct vmstat_set *after, const char *name,
		      long long *delta);

/* ---- kernel command line --------------------------------------------- */

/*
 * Look up "harness.<key>=<value>" in /proc/cmdline (the last occurrence
 * wins, double quotes are removed as the kernel does).  When the
 * environment variable HARNESS_CMDLINE is set, its value is parsed instead
 * of /proc/cmdline, so that the programs can be tried outside the guest.
 * Returns 0, -ENOENT if the key is absent, -ENAMETOOLONG if the value does
 * not fit in @size, or another -errno if the command line cannot be read.
 */
int cmdline_harness_get(const char *key, char *value, size_t size);

/* ---- node and cpu lists ("0-3,8,10-11") ------------------------------ */

#define ID_SET_MAX	1024

struct id_set {
	unsigned long bits[ID_SET_MAX / (8 * sizeof(unsigned long))];
};

/* Parse a list; an empty string gives an empty set.  0 or -EINVAL. */
int id_set_parse(const char *text, struct id_set *set);
void id_set_add(struct id_set *set, unsigned int id);
bool id_set_test(const struct id_set *set, unsigned int id);
bool id_set_equal(const struct id_set *a, const struct id_set *b);
unsigned int id_set_count(const struct id_set *set);
/* Canonical list format, "" for the empty set. */
void id_set_format(const struct id_set *set, char *buf, size_t size);

/* ---- data pattern ------------------------------------------------------ */

/*
 * The 8-byte word at byte offset o of a buffer is splitmix64 of
 * (seed, o / 8); o / 8 encodes both the 4K page index and the offset in
 * the page, so a page landing at the wrong place or a stale/zeroed page is
 * caught, not only flipped bits.  @buf must be 8-byte aligned.
 */
void pattern_fill(void *buf, size_t size, uint64_t seed);

struct pattern_mismatch {
	size_t first_offset;	/* SIZE_MAX when everything matched */
	size_t bad_bytes;
};

/* Returns true iff every byte matches. */
bool pattern_verify(const void *buf, size_t size, uint64_t seed,
		    struct pattern_mismatch *mismatch);

/* A seed that differs from run to run (time and pid). */
uint64_t pattern_seed(void);

/*
 * The word pattern_fill(buf, size, @seed) writes at byte offset @offset
 * (a multiple of 8): for checking a buffer piecewise.
 */
uint64_t pattern_word_at(uint64_t seed, size_t offset);

/* ---- move_pages() ------------------------------------------------------ */

/* Written into status arrays before each call: "the kernel did not set it". */
#define STATUS_UNSET	INT_MIN

/*
 * move_pages(0, count, addrs, {node...}, status, MPOL_MF_MOVE).  @status is
 * set to STATUS_UNSET first.  @elapsed_ns (may be NULL) receives the wall
 * time of the system call alone.  Returns the system call's value (0, or
 * the number of pages not migrated) or -errno.
 */
long pages_move(void *const *addrs, size_t count, int node, int *status,
		uint64_t *elapsed_ns);

/* move_pages() with nodes == NULL: the node of each page into @status. */
long pages_query(void *const *addrs, size_t count, int *status);

/* How many of @count entries equal @expected, and the first that does not. */
struct status_summary {
	size_t matching;
	size_t first_other;	/* index, valid when matching < count */
	int first_other_status;
};

void status_summarize(const int *status, size_t count, int expected,
		      struct status_summary *summary);

/* "node 1", "-EBUSY (Device or resource busy)" or "not set by the kernel". */
const char *status_describe(int status, char *buf, size_t size);

/* ---- memory regions ---------------------------------------------------- */

/*
 * Anonymous private read/write mapping of @size bytes whose start is
 * aligned to @align (a power of two).  NULL with errno set on failure.
 */
void *region_map(size_t size, size_t align);
void region_unmap(void *addr, size_t size);

/* madvise MADV_HUGEPAGE (@huge) or MADV_NOHUGEPAGE.  0 or -errno. */
int region_set_thp(void *addr, size_t size, bool huge);

/* mbind(MPOL_PREFERRED, @node) so that first touch allocates there. */
int region_prefer_node(void *addr, size_t size, int node);

/*
 * Value in kB of field @field (e.g. "AnonHugePages") of the VMA containing
 * @addr in /proc/self/smaps.  @vma_start/@vma_end (may be NULL) receive the
 * VMA bounds.  0 or -errno (-ENOENT: no such VMA or field).
 */
int smaps_vma_field_kb(const void *addr, const char *field, long long *kb,
		       unsigned long *vma_start, unsigned long *vma_end);

/* ---- migration test regions -------------------------------------------- */

enum mig_kind {
	MIG_KIND_4K,
	MIG_KIND_THP,
};

const char *mig_kind_name(enum mig_kind kind);	/* "4k" / "thp" */
int mig_kind_parse(const char *text, enum mig_kind *kind);

/*
 * An anonymous region of small pages (MADV_NOHUGEPAGE) or of 2 MiB THPs
 * (2 MiB aligned, MADV_HUGEPAGE), with the address arrays that move_pages()
 * needs: one address per folio to move (every 4K page, or the head of each
 * THP: passing THP subpages makes move_pages() report -EBUSY for them) and
 * one per 4K page to query where the data is.
 */
struct mig_region {
	enum mig_kind kind;
	char *addr;
	size_t size;
	size_t folio_size;
	size_t nr_folios;
	size_t nr_pages;		/* 4K pages */
	void **folio_addrs;
	void **page_addrs;
	int *status;			/* nr_pages entries, scratch */
};

/*
 * Map @size bytes (a multiple of the folio size), advise it, prefer @node
 * and fault in every page by writing to it.  Returns 0 or -errno; on
 * failure nothing is left allocated.
 */
int mig_region_create(struct mig_region *region, enum mig_kind kind,
		      size_t size, int node);
void mig_region_destroy(struct mig_region *region);

struct mig_move_result {
	long ret;		/* move_pages() value or -errno */
	uint64_t elapsed_ns;	/* the system call alone */
	struct status_summary status;	/* over nr_folios entries */
};

/* Move every folio to @node. */
void mig_region_move(struct mig_region *region, int node,
		     struct mig_move_result *result);

struct mig_placement {
	long ret;		/* move_pages() query value or -errno */
	struct status_summary status;	/* over nr_pages entries */
};

/* Where is each 4K page?  Summarized against @node. */
void mig_region_query(struct mig_region *region, int node,
		      struct mig_placement *placement);

/*
 * Make sure every page is on @node: query, move every folio there if any
 * page is elsewhere, query again.  @placement holds the last query and
 * @move_ret the move_pages() value (0 when no move was needed).  Returns
 * true iff every 4K page is on @node.
 */
bool mig_region_place(struct mig_region *region, int node,
		      struct mig_placement *placement, long *move_ret);

/*
 * A region size from the command line: whole MiB, even so that it holds
 * whole THPs, 2..1024. Returns 0 or -EINVAL (and leaves @mib alone).
 */
int parse_region_mib(const char *text, long *mib);

/* MiB per second for @bytes moved in @ns nanoseconds (0 if ns == 0). */
double mib_per_second(size_t bytes, uint64_t ns);

#endif /* TESTS_LIB_NUMA_UTIL_H */
