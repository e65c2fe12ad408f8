// SPDX-License-Identifier: GPL-2.0
/*
 * triggers: the batched migration copy under the kernel's own migration
 * triggers, not only move_pages(2).
 *
 *   triggers --path compaction|kcompactd|cpuset|numa-balancing|damon|
 *                   hot-remove|mbind|soft-offline [--mib N]
 *
 * Every path loads the test copy engine (engine=test), allows only its own
 * migration reason in /sys/kernel/mm/migrate_copy/reasons, writes a
 * pattern into N MiB of 4K pages, lets the kernel migrate them, and then
 * checks every byte and where the pages are now:
 *
 *   compaction      node 0 is filled with hugetlb pages down to its high
 *                   watermarks plus room for the test, whose pages sit
 *                   between free holes (every other page freed, small
 *                   per-CPU free lists so that the holes reach the buddy
 *                   lists), then /proc/sys/vm/compact_memory (MR_COMPACTION)
 *   kcompactd       the same, the big free blocks left taken too, so that
 *                   node 0's fragmentation score exceeds the proactive
 *                   threshold; then compaction_proactiveness=100 wakes
 *                   kcompactd (MR_COMPACTION)
 *   cpuset          cgroup v2 cpuset.mems of the test's own cgroup goes
 *                   from 0 to 1 (MR_SYSCALL)
 *   numa-balancing  kernel.numa_balancing=1, the task is pinned to node 1's
 *                   CPUs and reads its pages on node 0 until they moved
 *                   (MR_NUMA_MISPLACED)
 *   damon           a DAMON paddr scheme migrate_cold, target_nid 1, on the
 *                   physical range of the pages, anonymous pages only
 *                   (MR_DAMON)
 *   hot-remove      the ZONE_MOVABLE memory block of node 1 holding most of
 *                   the pages goes offline, and online again afterwards
 *                   (MR_MEMORY_HOTPLUG); the guest boots with movablecore=
 *                   (tools/harness/run.py) for it
 *   mbind           mbind(MPOL_BIND, node 1, MPOL_MF_MOVE | MPOL_MF_STRICT)
 *                   (MR_MEMPOLICY_MBIND)
 *   soft-offline    madvise(MADV_SOFT_OFFLINE) on every page: each moves to
 *                   a new page of its node, and the old one is hwpoisoned
 *                   for good (MR_MEMORY_FAILURE); needs CONFIG_MEMORY_FAILURE
 *
 * Every wait is bounded, and the trigger writes that can take long
 * (compact_memory, offlining) run in a child that is killed at the bound.
 *
 * Each path reports "# metric" lines: pages_migrated (pgmigrate_success
 * delta), offload_pages, cpu_pages, fallback_pages and offload_share
 * (offload_pages / pages_migrated), from the *_pages vmstat counters, or
 * from the folio counters when the kernel lacks them (counters_in_pages=0);
 * and, from the migrate:mm_migrate_pages and migrate_copy:migrate_copy_batch
 * tracepoints, reason_pages, reason_engine_pages, reason_share and
 * folios_per_batch for the path's own reason. The test fails on a wrong
 * byte or when nothing migrated, not on a low share: the diagnostics say
 * why a share is what it is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define KNOBS		"/sys/kernel/mm/migrate_copy/"
#define ENGINE_DIR	"/sys/kernel/debug/migrate_copy_test/"
#define ENGINE_MODULE	"migrate_copy_test_engine"
#define NODE_SYSFS	"/sys/devices/system/node/"
#define MEMORY_SYSFS	"/sys/devices/system/memory/"
#define DAMON_KDAMONDS	"/sys/kernel/mm/damon/admin/kdamonds/"
#define DAMON_CTX	DAMON_KDAMONDS "0/contexts/0/"
#define DAMON_SCHEME	DAMON_CTX "schemes/0/"
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define CGROUP_TEST	CGROUP_ROOT "/migrate-triggers"
#define HUGETLB_NODE0	NODE_SYSFS "node0/hugepages/hugepages-2048kB/nr_hugepages"
#define SCHED_NUMA	"/sys/kernel/debug/sched/numa_balancing/"
#define TRACE_INSTANCE	"migrate-triggers"

#define PLAN		8
#define BITS_PER_ULONG	(8 * sizeof(unsigned long))
#define GOLDEN_GAMMA	0x9e3779b97f4a7c15ULL
#define PAGES_PER_2M	512
#define MAX_REASONS	16
#define MAX_ZONES	16
#define NO_PFN		UINT64_MAX

#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE	101	/* <asm-generic/mman-common.h>; glibc lacks it */
#endif

/* Bounds of the triggers, in seconds. */
#define COMPACT_LIMIT_S		180
#define KCOMPACTD_LIMIT_S	90
#define KCOMPACTD_QUIET_POLLS	6
#define CPUSET_LIMIT_S		120
#define NUMA_LIMIT_S		90
#define DAMON_LIMIT_S		60
#define OFFLINE_LIMIT_S		120
#define OFFLINE_CANDIDATES	3
/* NUMA balancing and DAMON: stop waiting when no page moved for this long. */
#define STALL_S			15

enum path {
	PATH_COMPACTION,
	PATH_KCOMPACTD,
	PATH_CPUSET,
	PATH_NUMA,
	PATH_DAMON,
	PATH_HOTREMOVE,
	PATH_MBIND,
	PATH_SOFT_OFFLINE,
};

/* enum migrate_reason of 6.12 and the names its tracepoint prints. */
static const char *const trace_reason_names[] = {
	"compaction", "memory_failure", "memory_hotplug", "syscall_or_cpuset",
	"mempolicy_mbind", "numa_misplaced", "contig_range", "longterm_pin",
	"demotion", "damon",
};

struct path_desc {
	const char *name;
	const char *reason;	/* its name in migrate_copy/reasons */
	int reason_nr;		/* enum migrate_reason */
	const char *mode;	/* the migrate_mode the trigger uses */
	const char *share_note;	/* why the engine copies what it copies */
};

static const struct path_desc paths[] = {
	[PATH_COMPACTION] = {
		"compaction", "compaction", 0, "MIGRATE_SYNC",
		"compact_zone() calls migrate_pages() on what"
		" isolate_migratepages_block() took: COMPACT_CLUSTER_MAX (32) pages,"
		" or the rest of a pageblock (up to 512) when it finishes one"
		" (cc->finish_pageblock, mm/compaction.c); compound pages (THPs) are"
		" skipped, non-LRU movable pages (zsmalloc, balloon) are isolated"
		" but never copied by an engine (migrate_copy_folio_eligible()).",
	},
	[PATH_KCOMPACTD] = {
		"kcompactd", "compaction", 0, "MIGRATE_SYNC_LIGHT",
		"proactive compaction is compact_node(pgdat, true) from kcompactd:"
		" the same compact_zone() batches as compact_memory (32 pages, up to"
		" a pageblock), in MIGRATE_SYNC_LIGHT; it stops once the node's"
		" fragmentation score is below the low watermark, and waits 64 times"
		" longer when a pass did not lower the score.",
	},
	[PATH_CPUSET] = {
		"cpuset", "syscall_or_cpuset", 3, "MIGRATE_SYNC",
		"cpuset.mems migrates the task's mm with do_migrate_pages()"
		" (kernel/cgroup/cpuset.c cpuset_migrate_mm_workfn), reason"
		" MR_SYSCALL, so it shares the 'syscall_or_cpuset' reason with move_pages()"
		" and migrate_pages(); batches of up to 512 pages. It moves every"
		" page of the mm on the old nodes, shared or not (MPOL_MF_MOVE_ALL):"
		" the task's text, stack and heap too.",
	},
	[PATH_NUMA] = {
		"numa-balancing", "numa_misplaced", 5, "MIGRATE_ASYNC",
		"a NUMA hinting fault migrates the one faulting folio:"
		" migrate_misplaced_folio() calls migrate_pages() with a list of"
		" one folio (mm/migrate.c), so every engine batch holds exactly one"
		" folio and pays the engine's whole per-batch cost for 4 KiB"
		" (min_batch_bytes above 4096 keeps such batches on the CPU).",
	},
	[PATH_DAMON] = {
		"damon", "damon", 9, "MIGRATE_ASYNC",
		"damon_pa_migrate() (mm/damon/paddr.c) isolates every LRU folio of"
		" a cold region and migrates them per source node with"
		" migrate_pages(MIGRATE_ASYNC, MR_DAMON): batches of up to 512"
		" pages. A folio still in a per-CPU LRU batch is not on the LRU and"
		" is skipped (the test drains the batches first).",
	},
	[PATH_HOTREMOVE] = {
		"hot-remove", "memory_hotplug", 2, "MIGRATE_SYNC",
		"offline_pages() -> do_migrate_range() (mm/memory_hotplug.c)"
		" isolates every folio of the block and calls migrate_pages()"
		" (MIGRATE_SYNC, MR_MEMORY_HOTPLUG) on them: batches of up to 512"
		" pages; the destination is another node when there is one. Only"
		" a block of unmovable-free pageblocks goes offline: in practice a"
		" ZONE_MOVABLE one without a hole and without memblock allocations"
		" (movablecore= puts the top of each node, where early allocations"
		" such as the KASAN shadow sit, in ZONE_MOVABLE too).",
	},
	[PATH_MBIND] = {
		"mbind", "mempolicy_mbind", 4, "MIGRATE_SYNC",
		"do_mbind() queues the VMA's pages and calls migrate_pages()"
		" (MIGRATE_SYNC, MR_MEMPOLICY_MBIND) on them: batches of up to 512"
		" pages.",
	},
	[PATH_SOFT_OFFLINE] = {
		"soft-offline", "memory_failure", 1, "MIGRATE_SYNC",
		"madvise(MADV_SOFT_OFFLINE) -> soft_offline_page()"
		" (mm/memory-failure.c) migrates each page alone: migrate_pages()"
		" of a one-folio list (MIGRATE_SYNC, MR_MEMORY_FAILURE) to a new"
		" page of the same node (mtc.nid NUMA_NO_NODE), so every engine"
		" batch holds one folio, as for NUMA balancing; the old page is"
		" then hwpoisoned and never used again.",
	},
};

/* ---- a set of 4K pages with a pattern ---------------------------------- */

struct pageset {
	char *map;
	size_t map_size;
	size_t nr;		/* pages kept and checked */
	char **addrs;
	int *status;
	int *node_before;	/* where each page was before the trigger */
	uint64_t *pfn_before;
	uint64_t *pfn_after;
	uint64_t seed;
};

enum policy {
	POLICY_NONE,
	POLICY_PREFER,
	POLICY_BIND,
};

struct options {
	enum path path;
	long mib;
};

struct counts {
	long long pgmigrate, pgmigrate_fail;
	long long offload, cpu, fallback;	/* pages, or folios */
	bool in_pages;
	unsigned long long engine_batches, engine_folios, engine_bytes, engine_failed;
};

struct trace_totals {
	bool ok;
	long long lost;
	long long calls[MAX_REASONS], pages[MAX_REASONS], failed[MAX_REASONS];
	long long batches[MAX_REASONS], folios[MAX_REASONS];
	long long bytes[MAX_REASONS], failures[MAX_REASONS];
	long long engine_pages[MAX_REASONS];
};

struct run {
	const struct options *opts;
	const struct path_desc *desc;
	struct knob_saved saved;
	struct pageset set;
	bool have_set;
	double trigger_seconds;
	char tracefs[64];
	bool trace_ready;
	/* compaction, kcompactd */
	unsigned long hugetlb_reserved;
	/* cpuset */
	bool cg_mounted, cg_enabled, cg_created, cg_joined;
	/* numa-balancing */
	struct id_set cpus_node0, cpus_node1;
	bool affinity_changed;
	/* damon */
	bool damon_on, damon_created;
	/* hot-remove */
	unsigned long block_bytes;
	long offlined_block;
	char offlined_zone[32];
};

static void usage(const char *program)
{
	unsigned int i;

	fprintf(stderr, "usage: %s --path NAME [--mib N]\n", program);
	fprintf(stderr, "paths:");
	for (i = 0; i < ARRAY_SIZE(paths); i++)
		fprintf(stderr, " %s", paths[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option long_options[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "mib", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_path = false;
	unsigned int i;
	int opt;

	opts->mib = 16;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			for (i = 0; i < ARRAY_SIZE(paths); i++)
				if (!strcmp(optarg, paths[i].name))
					break;
			if (i == ARRAY_SIZE(paths))
				usage(argv[0]);
			opts->path = i;
			have_path = true;
			break;
		case 'm':
			if (parse_region_mib(optarg, &opts->mib) || opts->mib > 128)
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!have_path || optind != argc)
		usage(argv[0]);
}

static const char *err_text(int err)
{
	static char buf[4][64];
	static unsigned int next;

	next = (next + 1) % ARRAY_SIZE(buf);
	return errno_describe(err < 0 ? -err : err, buf[next], sizeof(buf[next]));
}

/* mbind(2) with one node (or none for MPOL_DEFAULT). 0 or -errno. */
static int set_policy(void *addr, size_t size, int mode, int node, unsigned int flags)
{
	unsigned long mask[ID_SET_MAX / BITS_PER_ULONG] = { 0 };

	if (node >= 0)
		mask[node / BITS_PER_ULONG] = 1UL << (node % BITS_PER_ULONG);
	if (syscall(SYS_mbind, addr, size, mode, node >= 0 ? mask : NULL,
		    (unsigned long)ID_SET_MAX + 1, flags))
		return -errno;
	return 0;
}

static int write_u64(const char *path, unsigned long long value)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", value);
	return knob_write(path, text);
}

/*
 * Write @value to @path from a child, killed after @seconds: every trigger
 * that is a write ends in bounded time (compaction and memory offlining stop
 * on a fatal signal). 0, -ETIMEDOUT, or the write's -errno.
 */
static int timed_write(const char *path, const char *value, unsigned int seconds,
		       double *elapsed)
{
	uint64_t start = time_now_ns(), limit = (uint64_t)seconds * 1000000000ULL;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int err = knob_write(path, value);

		_exit(err ? (-err & 0xff) : 0);
	}
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			break;
		if (got < 0)
			return -errno;
		if (time_now_ns() - start > limit) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*elapsed = (time_now_ns() - start) / 1e9;
			return -ETIMEDOUT;
		}
		usleep(50 * 1000);
	}
	*elapsed = (time_now_ns() - start) / 1e9;
	if (WIFEXITED(status))
		return -WEXITSTATUS(status);
	return -EINTR;
}

static int node_cpus(int node, struct id_set *cpus)
{
	char path[128], text[256];
	int err;

	snprintf(path, sizeof(path), NODE_SYSFS "node%d/cpulist", node);
	err = knob_read(path, text, sizeof(text));
	if (err)
		return err;
	return id_set_parse(text, cpus);
}

static int pin_to(const struct id_set *cpus)
{
	cpu_set_t mask;
	unsigned int cpu;

	CPU_ZERO(&mask);
	for (cpu = 0; cpu < CPU_SETSIZE && cpu < ID_SET_MAX; cpu++)
		if (id_set_test(cpus, cpu))
			CPU_SET(cpu, &mask);
	if (sched_setaffinity(0, sizeof(mask), &mask))
		return -errno;
	/* Let the scheduler move us now, not at the next tick. */
	sched_yield();
	return 0;
}

static int unpin(void)
{
	cpu_set_t mask;
	unsigned int cpu;

	CPU_ZERO(&mask);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &mask);
	if (sched_setaffinity(0, sizeof(mask), &mask))
		return -errno;
	return 0;
}

/* ---- the page set ------------------------------------------------------ */

static uint64_t page_seed(uint64_t seed, size_t index)
{
	/* The pattern page @index would have in one pattern_fill() region. */
	return seed + (uint64_t)index * (SIZE_4K / 8) * GOLDEN_GAMMA;
}

static void pageset_destroy(struct pageset *set)
{
	region_unmap(set->map, set->map_size);
	free(set->addrs);
	free(set->status);
	free(set->node_before);
	free(set->pfn_before);
	free(set->pfn_after);
	memset(set, 0, sizeof(*set));
}

/*
 * Room for up to @capacity 4K pages, every @stride-th page of a fresh
 * anonymous mapping, with @policy/@node as the VMA's mempolicy. No page is
 * faulted in yet: pageset_fault() does, pageset_fill() writes the pattern.
 */
static int pageset_map(struct pageset *set, size_t capacity, unsigned int stride,
		       enum policy policy, int node)
{
	size_t i, step = (size_t)stride * SIZE_4K;
	int err;

	memset(set, 0, sizeof(*set));
	set->map_size = capacity * step;
	set->map = region_map(set->map_size, SIZE_4K);
	if (!set->map)
		return -errno;
	err = region_set_thp(set->map, set->map_size, false);
	if (!err && policy != POLICY_NONE)
		err = set_policy(set->map, set->map_size,
				 policy == POLICY_BIND ? MPOL_BIND : MPOL_PREFERRED, node, 0);
	if (err)
		goto fail;
	set->addrs = calloc(capacity, sizeof(*set->addrs));
	set->status = calloc(capacity, sizeof(*set->status));
	set->node_before = calloc(capacity, sizeof(*set->node_before));
	set->pfn_before = calloc(capacity, sizeof(*set->pfn_before));
	set->pfn_after = calloc(capacity, sizeof(*set->pfn_after));
	if (!set->addrs || !set->status || !set->node_before || !set->pfn_before ||
	    !set->pfn_after) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < capacity; i++)
		set->addrs[i] = set->map + i * step;
	return 0;
fail:
	pageset_destroy(set);
	return err;
}

/*
 * Fault in pages [set->nr, @upto) and the holes after each of them, then
 * free the holes: with a stride above 1 the pages kept sit between free
 * pages.
 */
static int pageset_fault(struct pageset *set, size_t upto, unsigned int stride)
{
	size_t i, step = (size_t)stride * SIZE_4K, offset;

	for (i = set->nr; i < upto; i++)
		for (offset = 0; offset < step; offset += SIZE_4K)
			set->addrs[i][offset] = 1;
	for (i = set->nr; stride > 1 && i < upto; i++)
		if (madvise(set->addrs[i] + SIZE_4K, step - SIZE_4K, MADV_DONTNEED))
			return -errno;
	set->nr = upto;
	return 0;
}

static void pageset_fill(struct pageset *set)
{
	size_t i;

	set->seed = pattern_seed();
	for (i = 0; i < set->nr; i++)
		pattern_fill(set->addrs[i], SIZE_4K, page_seed(set->seed, i));
}

/* @nr pages, see pageset_map() and pageset_fault(), with the pattern. */
static int pageset_create(struct pageset *set, size_t nr, unsigned int stride,
			  enum policy policy, int node)
{
	int err;

	err = pageset_map(set, nr, stride, policy, node);
	if (err)
		return err;
	err = pageset_fault(set, nr, stride);
	if (err) {
		pageset_destroy(set);
		return err;
	}
	pageset_fill(set);
	return 0;
}

struct verify_result {
	size_t bad_pages;
	size_t first_bad;	/* index, valid when bad_pages */
	size_t first_offset;
	size_t bad_bytes;
};

static bool pageset_verify(const struct pageset *set, struct verify_result *result)
{
	struct pattern_mismatch mismatch;
	size_t i;

	memset(result, 0, sizeof(*result));
	for (i = 0; i < set->nr; i++) {
		if (pattern_verify(set->addrs[i], SIZE_4K, page_seed(set->seed, i), &mismatch))
			continue;
		if (!result->bad_pages++) {
			result->first_bad = i;
			result->first_offset = mismatch.first_offset;
		}
		result->bad_bytes += mismatch.bad_bytes;
	}
	return result->bad_pages == 0;
}

/* The PFN of every page into @pfns (NO_PFN: not present). 0 or -errno. */
static int pageset_pfns(const struct pageset *set, uint64_t *pfns)
{
	size_t i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -errno;
	for (i = 0; i < set->nr; i++) {
		uint64_t entry = 0;
		off_t offset = (off_t)((uintptr_t)set->addrs[i] / SIZE_4K) * 8;

		if (pread(fd, &entry, sizeof(entry), offset) != sizeof(entry)) {
			int err = -errno;

			close(fd);
			return err ? err : -EIO;
		}
		/* Bit 63: present; bits 0-54: the PFN (zero without CAP_SYS_ADMIN). */
		pfns[i] = (entry >> 63) ? (entry & ((1ULL << 55) - 1)) : NO_PFN;
	}
	close(fd);
	return 0;
}

struct placement {
	long ret;
	size_t on[2];		/* pages on node 0 and node 1 */
	size_t elsewhere;	/* other nodes, errors, not present */
	int first_other_status;
};

static void pageset_where(struct pageset *set, struct placement *where)
{
	size_t i;

	memset(where, 0, sizeof(*where));
	where->ret = pages_query((void *const *)set->addrs, set->nr, set->status);
	for (i = 0; i < set->nr; i++) {
		int status = where->ret ? STATUS_UNSET : set->status[i];

		if (status == 0 || status == 1) {
			where->on[status]++;
		} else if (!where->elsewhere++) {
			where->first_other_status = status;
		}
	}
}

static void placement_diag(const char *when, const struct placement *where)
{
	char text[64];

	tap_diag("%s: %zu pages on node 0, %zu on node 1, %zu elsewhere%s%s", when,
		 where->on[0], where->on[1], where->elsewhere,
		 where->elsewhere ? ", first: " : "",
		 where->elsewhere ? status_describe(where->first_other_status, text,
						    sizeof(text)) : "");
}

/* ---- counters ------------------------------------------------------------ */

static const char *const vmstat_names[] = {
	"pgmigrate_success", "pgmigrate_fail",
	"migrate_copy_offload", "migrate_copy_cpu", "migrate_copy_fallback",
	"migrate_copy_offload_pages", "migrate_copy_cpu_pages",
	"migrate_copy_fallback_pages",
	"compact_migrate_scanned", "compact_free_scanned", "compact_isolated",
	"compact_daemon_migrate_scanned", "compact_daemon_wake",
	"numa_hint_faults", "numa_hint_faults_local", "numa_pages_migrated",
	"numa_pte_updates",
	"thp_migration_success",
};

static void vmstat_names_add(struct vmstat_set *set)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmstat_names); i++)
		vmstat_set_add(set, vmstat_names[i]);
}

static long long delta_of(const struct vmstat_set *before, const struct vmstat_set *after,
			  const char *name)
{
	long long delta;

	return vmstat_set_delta(before, after, name, &delta) ? delta : -1;
}

static bool engine_read(unsigned long long *batches, unsigned long long *folios,
			unsigned long long *bytes, unsigned long long *failed)
{
	return !knob_read_u64(ENGINE_DIR "batches", batches) &&
	       !knob_read_u64(ENGINE_DIR "folios", folios) &&
	       !knob_read_u64(ENGINE_DIR "bytes", bytes) &&
	       !knob_read_u64(ENGINE_DIR "failed", failed);
}

static void counts_compute(const struct vmstat_set *before, const struct vmstat_set *after,
			   struct counts *counts)
{
	counts->pgmigrate = delta_of(before, after, "pgmigrate_success");
	counts->pgmigrate_fail = delta_of(before, after, "pgmigrate_fail");
	counts->in_pages = delta_of(before, after, "migrate_copy_offload_pages") >= 0;
	if (counts->in_pages) {
		counts->offload = delta_of(before, after, "migrate_copy_offload_pages");
		counts->cpu = delta_of(before, after, "migrate_copy_cpu_pages");
		counts->fallback = delta_of(before, after, "migrate_copy_fallback_pages");
	} else {
		counts->offload = delta_of(before, after, "migrate_copy_offload");
		counts->cpu = delta_of(before, after, "migrate_copy_cpu");
		counts->fallback = delta_of(before, after, "migrate_copy_fallback");
	}
}

/* ---- tracepoints: pages migrated and engine batches per reason ----------- */

static int trace_path(const struct run *run, const char *file, char *path, size_t size)
{
	return snprintf(path, size, "%s/instances/" TRACE_INSTANCE "/%s", run->tracefs, file);
}

static int trace_write(const struct run *run, const char *file, const char *value)
{
	char path[256];

	trace_path(run, file, path, sizeof(path));
	return knob_write(path, value);
}

/*
 * A private trace instance with the two events on, made before the path's
 * setup: its buffers are allocated now, not while node 0 is squeezed.
 */
static void trace_setup(struct run *run)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (!access(path, W_OK)) {
			snprintf(run->tracefs, sizeof(run->tracefs), "%s", roots[i]);
			break;
		}
	}
	if (i == ARRAY_SIZE(roots)) {
		tap_diag("trace: no tracefs instances directory: per-reason counts unavailable");
		return;
	}
	snprintf(path, sizeof(path), "%s/instances/" TRACE_INSTANCE, run->tracefs);
	if (mkdir(path, 0755) && errno != EEXIST) {
		tap_diag("trace: mkdir %s: %s", path, err_text(errno));
		return;
	}
	err = trace_write(run, "tracing_on", "0");
	err = err ?: trace_write(run, "buffer_size_kb", "2048");
	err = err ?: trace_write(run, "events/migrate/mm_migrate_pages/enable", "1");
	err = err ?: trace_write(run, "events/migrate_copy/migrate_copy_batch/enable", "1");
	if (err) {
		tap_diag("trace: setting up the instance: %s", err_text(err));
		return;
	}
	run->trace_ready = true;
}

/* Empty the buffer and start recording. */
static void trace_start(struct run *run)
{
	char path[256];
	int err, fd;

	if (!run->trace_ready)
		return;
	trace_path(run, "trace", path, sizeof(path));
	/* Opening "trace" with O_TRUNC empties the buffer. */
	fd = open(path, O_WRONLY | O_TRUNC);
	err = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	err = err ?: trace_write(run, "tracing_on", "1");
	if (err) {
		tap_diag("trace: starting: %s", err_text(err));
		run->trace_ready = false;
	}
}

static int trace_reason_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(trace_reason_names); i++)
		if (!strcmp(name, trace_reason_names[i]))
			return i;
	return -1;
}

static void trace_parse_line(const char *line, struct trace_totals *totals)
{
	unsigned long long written, in_buffer, bytes;
	unsigned long succeeded, failed;
	unsigned int folios, failures;
	const char *event;
	char name[32];
	int reason;

	if (sscanf(line, "# entries-in-buffer/entries-written: %llu/%llu",
		   &in_buffer, &written) == 2) {
		totals->lost = written - in_buffer;
		return;
	}
	event = strstr(line, " mm_migrate_pages: ");
	if (event) {
		const char *reason_text = strstr(event, " reason=");

		if (sscanf(event, " mm_migrate_pages: nr_succeeded=%lu nr_failed=%lu",
			   &succeeded, &failed) != 2 || !reason_text ||
		    sscanf(reason_text, " reason=%31s", name) != 1)
			return;
		reason = trace_reason_index(name);
		if (reason < 0)
			return;
		totals->calls[reason]++;
		totals->pages[reason] += succeeded;
		totals->failed[reason] += failed;
		return;
	}
	event = strstr(line, " migrate_copy_batch: ");
	if (event) {
		const char *rest = strstr(event, " folios=");

		if (!rest || sscanf(rest, " folios=%u bytes=%llu ns=%*u failures=%u reason=%d",
				    &folios, &bytes, &failures, &reason) != 4 ||
		    reason < 0 || reason >= MAX_REASONS)
			return;
		totals->batches[reason]++;
		totals->folios[reason] += folios;
		totals->bytes[reason] += bytes;
		totals->failures[reason] += failures;
		/* Pages the engine copied; exact for batches of 4K folios. */
		if (folios)
			totals->engine_pages[reason] += (long long)(bytes / SIZE_4K) -
				(long long)(bytes / SIZE_4K) * failures / folios;
	}
}

static void trace_stop(struct run *run, struct trace_totals *totals)
{
	char path[256], line[512];
	FILE *trace;

	memset(totals, 0, sizeof(*totals));
	if (!run->trace_ready)
		return;
	trace_write(run, "tracing_on", "0");
	trace_path(run, "trace", path, sizeof(path));
	trace = fopen(path, "re");
	if (trace) {
		while (fgets(line, sizeof(line), trace))
			trace_parse_line(line, totals);
		fclose(trace);
		totals->ok = true;
	} else {
		tap_diag("trace: open %s: %s", path, err_text(errno));
	}
}

static void trace_remove(struct run *run)
{
	char path[256];

	if (!run->tracefs[0])
		return;
	trace_write(run, "events/migrate/mm_migrate_pages/enable", "0");
	trace_write(run, "events/migrate_copy/migrate_copy_batch/enable", "0");
	snprintf(path, sizeof(path), "%s/instances/" TRACE_INSTANCE, run->tracefs);
	if (rmdir(path) && errno != ENOENT)
		tap_diag("trace: rmdir %s: %s", path, err_text(errno));
	run->trace_ready = false;
}

/* ---- node 0 fragmentation (compaction, kcompactd) ------------------------- */

struct zone_state {
	int node;
	char name[16];
	unsigned long present;
	unsigned long managed;
	unsigned long high;		/* the high watermark */
	unsigned long free;		/* free pages in the buddy lists */
	unsigned long free_2m;		/* of which in blocks of order >= 9 */
};

static int zones_read(struct zone_state *zones, unsigned int max, unsigned int *nr)
{
	char line[1024], name[16];
	struct zone_state *zone = NULL;
	FILE *file;
	int node;

	*nr = 0;
	file = fopen("/proc/buddyinfo", "re");
	if (!file)
		return -errno;
	while (fgets(line, sizeof(line), file) && *nr < max) {
		int consumed, order = 0;
		unsigned long count;
		const char *cursor;

		if (sscanf(line, "Node %d, zone %15s%n", &node, name, &consumed) != 2)
			continue;
		zone = &zones[(*nr)++];
		memset(zone, 0, sizeof(*zone));
		zone->node = node;
		snprintf(zone->name, sizeof(zone->name), "%s", name);
		cursor = line + consumed;
		while (sscanf(cursor, "%lu%n", &count, &consumed) == 1) {
			zone->free += count << order;
			if (order >= 9)
				zone->free_2m += count << order;
			cursor += consumed;
			order++;
		}
	}
	fclose(file);

	file = fopen("/proc/zoneinfo", "re");
	if (!file)
		return -errno;
	zone = NULL;
	while (fgets(line, sizeof(line), file)) {
		unsigned long present, managed, high;
		unsigned int i;

		if (sscanf(line, "Node %d, zone %15s", &node, name) == 2) {
			zone = NULL;
			for (i = 0; i < *nr; i++)
				if (zones[i].node == node && !strcmp(zones[i].name, name))
					zone = &zones[i];
			continue;
		}
		if (zone && sscanf(line, " present %lu", &present) == 1)
			zone->present = present;
		else if (zone && sscanf(line, " managed %lu", &managed) == 1)
			zone->managed = managed;
		else if (zone && sscanf(line, " high %lu", &high) == 1)
			zone->high = high;
	}
	fclose(file);
	return 0;
}

/* fragmentation_score_node() of mm/compaction.c, from /proc. */
static unsigned int node_frag_score(const struct zone_state *zones, unsigned int nr, int node)
{
	unsigned long node_present = 0, score = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (zones[i].node == node)
			node_present += zones[i].present;
	for (i = 0; i < nr; i++) {
		unsigned long extfrag;

		if (zones[i].node != node || !zones[i].free)
			continue;
		extfrag = (zones[i].free - zones[i].free_2m) * 100 / zones[i].free;
		score += zones[i].present * extfrag / (node_present + 1);
	}
	return score;
}

static void node_free_diag(const char *when, int node)
{
	struct zone_state zones[MAX_ZONES];
	unsigned long free = 0, free_2m = 0;
	unsigned int nr, i;

	if (zones_read(zones, MAX_ZONES, &nr)) {
		tap_diag("%s: cannot read /proc/buddyinfo or /proc/zoneinfo", when);
		return;
	}
	for (i = 0; i < nr; i++) {
		if (zones[i].node != node)
			continue;
		free += zones[i].free;
		free_2m += zones[i].free_2m;
	}
	tap_diag("%s: node %d has %lu MiB free, %lu MiB of it in blocks of 2 MiB or more;"
		 " fragmentation score %u (kcompactd compacts proactively above %u with"
		 " compaction_proactiveness=100)", when, node, free / 256, free_2m / 256,
		 node_frag_score(zones, nr, node), 15);
}

/*
 * Reserve hugetlb pages on node 0 from its free 2 MiB blocks until about
 * @above_high_mib MiB stay free above the zones' high watermarks (so that
 * kswapd stays asleep and nothing is reclaimed or OOM-killed), and never
 * more blocks than are free: a hugetlb allocation that does not find one
 * compacts, which would migrate the test's pages before the trigger.
 * knob_set() remembers the first value, so teardown releases them all.
 */
static bool squeeze_node0(struct run *run, const char *when, long above_high_mib)
{
	struct zone_state zones[MAX_ZONES];
	unsigned long long old = 0, now = 0;
	unsigned long chunks = 0, free = 0, high = 0, floor, want = 0;
	unsigned int nr, i;
	char text[32];
	int err;

	err = knob_read_u64(HUGETLB_NODE0, &old);
	if (!err && old && !run->hugetlb_reserved) {
		/* Nothing else in the guest uses hugetlb: a killed run left them. */
		tap_diag("node 0 has %llu hugetlb pages before the test: releasing them", old);
		err = knob_write(HUGETLB_NODE0, "0");
		old = 0;
	}
	err = err ?: zones_read(zones, MAX_ZONES, &nr);
	if (err) {
		tap_diag("node 0: %s", err_text(err));
		return false;
	}
	for (i = 0; i < nr; i++) {
		if (zones[i].node != 0)
			continue;
		chunks += zones[i].free_2m / PAGES_PER_2M;
		free += zones[i].free;
		high += zones[i].high;
	}
	floor = high + above_high_mib * (SIZE_MIB / SIZE_4K);
	if (free > floor)
		want = (free - floor) / PAGES_PER_2M;
	if (want + 1 > chunks)
		want = chunks > 1 ? chunks - 1 : 0;
	snprintf(text, sizeof(text), "%llu", old + want);
	err = run->hugetlb_reserved ? knob_write(HUGETLB_NODE0, text) :
	      knob_set(&run->saved, HUGETLB_NODE0, text);
	if (!err)
		err = knob_read_u64(HUGETLB_NODE0, &now);
	if (err) {
		tap_diag("node 0: reserving %lu hugetlb pages: %s", want, err_text(err));
		return false;
	}
	run->hugetlb_reserved += now - old;
	tap_diag("%s: node 0 had %lu MiB free (%lu free 2 MiB blocks), high watermarks"
		 " %lu MiB: %llu more hugetlb pages (%lu asked), %lu in all", when,
		 free / 256, chunks, high / 256, now - old, want, run->hugetlb_reserved);
	node_free_diag(when, 0);
	return true;
}

/* ---- paths: prepare ---------------------------------------------------- */

static bool prepare_compaction(struct run *run)
{
	int err;

	/*
	 * Small per-CPU free lists, so that the holes go back to the buddy
	 * lists where compaction's free scanner finds them, instead of the
	 * lists of the CPU that freed them (by default up to the low watermark).
	 */
	err = knob_set(&run->saved, "/proc/sys/vm/percpu_pagelist_high_fraction", "1000000");
	if (err) {
		tap_diag("vm.percpu_pagelist_high_fraction: %s", err_text(err));
		return false;
	}
	/* Room for the kept pages, as many holes, and 16 MiB of slack. */
	return squeeze_node0(run, "before the pages", 2 * run->opts->mib + 16);
}

static bool cgroup_has_word(const char *file, const char *word)
{
	char text[512], *token, *save;

	if (knob_read(file, text, sizeof(text)))
		return false;
	for (token = strtok_r(text, " \n", &save); token; token = strtok_r(NULL, " \n", &save))
		if (!strcmp(token, word))
			return true;
	return false;
}

static bool prepare_cpuset(struct run *run)
{
	char pid[32], text[256];
	int err;

	if (access(CGROUP_ROOT "/cgroup.controllers", R_OK)) {
		if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL)) {
			tap_diag("mount cgroup2 on " CGROUP_ROOT ": %s", err_text(errno));
			return false;
		}
		run->cg_mounted = true;
	}
	if (!cgroup_has_word(CGROUP_ROOT "/cgroup.controllers", "cpuset")) {
		tap_diag("cgroup v2 offers no cpuset controller (CONFIG_CPUSETS?)");
		return false;
	}
	if (!cgroup_has_word(CGROUP_ROOT "/cgroup.subtree_control", "cpuset")) {
		err = knob_write(CGROUP_ROOT "/cgroup.subtree_control", "+cpuset");
		if (err) {
			tap_diag("enabling +cpuset: %s", err_text(err));
			return false;
		}
		run->cg_enabled = true;
	}
	if (mkdir(CGROUP_TEST, 0755) && errno != EEXIST) {
		tap_diag("mkdir " CGROUP_TEST ": %s", err_text(errno));
		return false;
	}
	run->cg_created = true;
	err = knob_write(CGROUP_TEST "/cpuset.mems", "0");
	if (err) {
		tap_diag("cpuset.mems=0: %s", err_text(err));
		return false;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	err = knob_write(CGROUP_TEST "/cgroup.procs", pid);
	if (err) {
		tap_diag("moving the test into " CGROUP_TEST ": %s", err_text(err));
		return false;
	}
	run->cg_joined = true;
	err = knob_read(CGROUP_TEST "/cpuset.mems.effective", text, sizeof(text));
	tap_diag("in " CGROUP_TEST ": cpuset.mems.effective=%s", err ? err_text(err) : text);
	return !err && !strcmp(text, "0");
}

static bool prepare_numa(struct run *run)
{
	static const struct {
		const char *file, *value;
	} scan[] = {
		{ "scan_delay_ms", "100" },
		{ "scan_period_min_ms", "100" },
		{ "scan_period_max_ms", "2000" },
	};
	unsigned int i;
	int err;

	if (access("/proc/sys/kernel/numa_balancing", W_OK)) {
		tap_diag("no /proc/sys/kernel/numa_balancing (CONFIG_NUMA_BALANCING?)");
		return false;
	}
	err = node_cpus(0, &run->cpus_node0);
	err = err ?: node_cpus(1, &run->cpus_node1);
	if (err || !id_set_count(&run->cpus_node0) || !id_set_count(&run->cpus_node1)) {
		tap_diag("the CPUs of node 0 and node 1: %s", err ? err_text(err) : "none");
		return false;
	}
	if (access(SCHED_NUMA, F_OK)) {
		tap_diag("no " SCHED_NUMA " (CONFIG_SCHED_DEBUG=n: since 5.13 the scan"
			 " knobs live there, not in /proc/sys/kernel): the defaults apply,"
			 " scan_delay_ms=1000, scan_period_min_ms=1000, scan_size_mb=256");
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(scan); i++) {
		char path[128];

		snprintf(path, sizeof(path), SCHED_NUMA "%s", scan[i].file);
		err = knob_set(&run->saved, path, scan[i].value);
		if (err) {
			tap_diag("%s=%s: %s", path, scan[i].value, err_text(err));
			return false;
		}
	}
	tap_diag("numa_balancing scan: delay 100 ms, period 100-2000 ms");
	return true;
}

static bool prepare_damon(struct run *run)
{
	unsigned long long kdamonds;
	int err;

	(void)run;
	err = knob_read_u64(DAMON_KDAMONDS "nr_kdamonds", &kdamonds);
	if (err) {
		tap_diag("DAMON sysfs: %s (CONFIG_DAMON_SYSFS?)", err_text(err));
		return false;
	}
	if (kdamonds) {
		tap_diag("DAMON already has %llu kdamonds: not ours to change", kdamonds);
		return false;
	}
	return true;
}

/* valid_zones of memory block @block, "" if unreadable. */
static void block_zone(long block, char *zone, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), MEMORY_SYSFS "memory%ld/valid_zones", block);
	if (knob_read(path, zone, size))
		zone[0] = '\0';
}

/*
 * Whether memory block @block is System RAM from end to end in /proc/iomem:
 * a block with a hole (the last one below QEMU's reserved top of low
 * memory, for example) cannot be offlined (EINVAL).
 */
static bool block_whole_ram(const struct run *run, long block)
{
	unsigned long long start = (unsigned long long)block * run->block_bytes;
	unsigned long long end = start + run->block_bytes - 1, low, high;
	char line[256];
	bool whole = false;
	FILE *iomem;

	iomem = fopen("/proc/iomem", "re");
	if (!iomem)
		return true;	/* cannot tell: let the offline decide */
	while (!whole && fgets(line, sizeof(line), iomem)) {
		if (line[0] == ' ' || !strstr(line, ": System RAM"))
			continue;
		if (sscanf(line, "%llx-%llx", &low, &high) == 2)
			whole = low <= start && end <= high;
	}
	fclose(iomem);
	return whole;
}

static int block_node(long block)
{
	char path[128];
	int node;

	for (node = 0; node < 2; node++) {
		snprintf(path, sizeof(path), NODE_SYSFS "node%d/memory%ld", node, block);
		if (!access(path, F_OK))
			return node;
	}
	return -1;
}

/* Present and managed MiB of every populated zone. */
static void zones_diag(void)
{
	struct zone_state zones[MAX_ZONES];
	char text[512];
	size_t used = 0;
	unsigned int nr, i;

	if (zones_read(zones, MAX_ZONES, &nr))
		return;
	for (i = 0; i < nr && used < sizeof(text) - 64; i++)
		used += snprintf(text + used, sizeof(text) - used, "%s node %d %s %lu/%lu",
				 used ? "," : "", zones[i].node, zones[i].name,
				 zones[i].present / 256, zones[i].managed / 256);
	tap_diag("zones, present/managed MiB:%s", text);
}

static bool prepare_hotremove(struct run *run)
{
	char text[64], zone[64], list[512] = "";
	unsigned long long bytes;
	size_t used = 0;
	struct dirent *entry;
	DIR *dir;
	int err;

	err = knob_read(MEMORY_SYSFS "block_size_bytes", text, sizeof(text));
	if (err) {
		tap_diag(MEMORY_SYSFS "block_size_bytes: %s (CONFIG_MEMORY_HOTPLUG?)",
			 err_text(err));
		return false;
	}
	bytes = strtoull(text, NULL, 16);
	if (!bytes || bytes % SIZE_4K) {
		tap_diag("memory block size '%s'?", text);
		return false;
	}
	run->block_bytes = bytes;
	dir = opendir(MEMORY_SYSFS);
	if (!dir)
		return false;
	while ((entry = readdir(dir)) != NULL) {
		long block;

		if (sscanf(entry->d_name, "memory%ld", &block) != 1)
			continue;
		block_zone(block, zone, sizeof(zone));
		if (strcmp(zone, "Movable") || used >= sizeof(list) - 40)
			continue;
		used += snprintf(list + used, sizeof(list) - used, " memory%ld(node %d%s)",
				 block, block_node(block),
				 block_whole_ram(run, block) ? "" : ", has a hole");
	}
	closedir(dir);
	tap_diag("memory blocks of %llu MiB; ZONE_MOVABLE blocks:%s", bytes >> 20,
		 used ? list : " none (the kernel command line has no movablecore=)");
	zones_diag();
	return true;
}

/* ---- paths: the page set ----------------------------------------------- */

/* Whether the block of @pfn is a ZONE_MOVABLE block without a hole. */
static bool pfn_offlinable(struct run *run, uint64_t pfn)
{
	static struct {
		long block;
		bool ok;
	} cache[64];
	static unsigned int cached;
	char zone[64];
	long block;
	unsigned int i;
	bool ok;

	if (pfn == NO_PFN || !pfn)
		return false;
	block = (long)(pfn * SIZE_4K / run->block_bytes);
	for (i = 0; i < cached; i++)
		if (cache[i].block == block)
			return cache[i].ok;
	block_zone(block, zone, sizeof(zone));
	ok = !strcmp(zone, "Movable") && block_whole_ram(run, block);
	if (cached < ARRAY_SIZE(cache)) {
		cache[cached].block = block;
		cache[cached++].ok = ok;
	}
	return ok;
}

/*
 * The pages on node 1, @nr of them at least, and more, 2 MiB at a time (up
 * to 4 x @nr), until 1 MiB of them sit in blocks that can go offline: the
 * allocator may take the first ones from a block with a hole.
 */
static int hotremove_create(struct run *run, size_t nr)
{
	struct pageset *set = &run->set;
	size_t capacity = 4 * nr, good = 0, i;
	int err;

	err = pageset_map(set, capacity, 1, POLICY_PREFER, 1);
	while (!err && set->nr < capacity) {
		size_t from = set->nr;

		err = pageset_fault(set, from + PAGES_PER_2M, 1);
		err = err ?: pageset_pfns(set, set->pfn_before);
		for (i = from; !err && i < set->nr; i++)
			good += pfn_offlinable(run, set->pfn_before[i]);
		if (set->nr >= nr && good >= PAGES_PER_2M / 2)
			break;
	}
	if (err) {
		pageset_destroy(set);
		return err;
	}
	tap_diag("%zu pages faulted in on node 1, %zu of them in ZONE_MOVABLE blocks"
		 " without a hole", set->nr, good);
	pageset_fill(set);
	return 0;
}

/*
 * Put every page on the LRU lists: a folio in a per-CPU LRU batch is not
 * on them yet, and NUMA balancing and DAMON only migrate folios they can
 * isolate from the LRU; the batches of an idle CPU may stay full for good.
 * move_pages() drains every CPU's batches (lru_cache_disable()), and moving
 * a page to the node it is on migrates nothing.
 */
static void lru_drain_all(struct pageset *set)
{
	void *addr = set->addrs[0];
	int status = STATUS_UNSET;

	if (pages_query(&addr, 1, &status) == 0 && status >= 0)
		pages_move(&addr, 1, status, &status, NULL);
}

static int create_set(struct run *run)
{
	size_t nr = run->opts->mib * (SIZE_MIB / SIZE_4K);
	struct pageset *set = &run->set;
	struct placement where;
	int err;

	switch (run->opts->path) {
	case PATH_COMPACTION:
	case PATH_KCOMPACTD:
		/*
		 * Every other page freed: the holes compaction fills. Only a
		 * preference: a page that does not fit on node 0 goes to node 1
		 * rather than the OOM killer coming.
		 */
		err = pageset_create(set, nr, 2, POLICY_PREFER, 0);
		break;
	case PATH_CPUSET:
		/* The cpuset's mems=0 places it. */
		err = pageset_create(set, nr, 1, POLICY_NONE, -1);
		break;
	case PATH_NUMA:
		/* No VMA policy: NUMA balancing scans only MPOL_F_MOF policies. */
		err = pin_to(&run->cpus_node0);
		if (!err) {
			run->affinity_changed = true;
			err = pageset_create(set, nr, 1, POLICY_NONE, -1);
		}
		break;
	case PATH_HOTREMOVE:
		err = hotremove_create(run, nr);
		break;
	default:
		err = pageset_create(set, nr, 1, POLICY_PREFER, 0);
		break;
	}
	if (err)
		return err;
	run->have_set = true;
	pageset_where(set, &where);
	placement_diag("after writing the pattern", &where);
	switch (run->opts->path) {
	case PATH_COMPACTION:
		break;
	case PATH_KCOMPACTD:
		/* Take the big free blocks left: free memory is then mostly holes. */
		if (!squeeze_node0(run, "after the pages", 16))
			return -ENOMEM;
		break;
	case PATH_HOTREMOVE:
		if (where.on[1] != set->nr)
			return -EXDEV;
		break;
	default:
		if (where.on[0] != set->nr) {
			/* move_pages() sets no policy: NUMA balancing still scans the VMA. */
			long ret = pages_move((void *const *)set->addrs, set->nr, 0,
					      set->status, NULL);

			pageset_where(set, &where);
			placement_diag("after move_pages to node 0", &where);
			if (ret || where.on[0] != set->nr)
				return -EXDEV;
		}
		break;
	}
	lru_drain_all(set);
	memcpy(set->node_before, set->status, set->nr * sizeof(*set->status));
	return 0;
}

/* ---- paths: the trigger ------------------------------------------------ */

static bool trigger_compaction(struct run *run)
{
	int err;

	node_free_diag("before compact_memory", 0);
	err = timed_write("/proc/sys/vm/compact_memory", "1", COMPACT_LIMIT_S,
			  &run->trigger_seconds);
	if (err)
		tap_diag("echo 1 > /proc/sys/vm/compact_memory: %s", err_text(err));
	node_free_diag("after compact_memory", 0);
	return !err;
}

static bool trigger_kcompactd(struct run *run)
{
	long long scanned0, scanned = 0, migrated, last = -1;
	uint64_t start = time_now_ns();
	unsigned int quiet = 0;
	int err;

	node_free_diag("before kcompactd", 0);
	scanned0 = vmstat_read("compact_daemon_migrate_scanned");
	/* A write of a non-zero value wakes every node's kcompactd. */
	err = knob_set(&run->saved, "/proc/sys/vm/compaction_proactiveness", "100");
	if (err) {
		tap_diag("compaction_proactiveness=100: %s", err_text(err));
		return false;
	}
	while (time_now_ns() - start < KCOMPACTD_LIMIT_S * 1000000000ULL) {
		usleep(500 * 1000);
		scanned = vmstat_read("compact_daemon_migrate_scanned");
		migrated = vmstat_read("pgmigrate_success");
		quiet = migrated == last ? quiet + 1 : 0;
		last = migrated;
		/* kcompactd counts what it scanned once a zone is done. */
		if (scanned > scanned0 && quiet >= KCOMPACTD_QUIET_POLLS)
			break;
	}
	run->trigger_seconds = (time_now_ns() - start) / 1e9;
	/* Stop it before the counters are read. */
	knob_write("/proc/sys/vm/compaction_proactiveness", "0");
	tap_diag("kcompactd: compact_daemon_migrate_scanned +%lld after %.1f s", scanned - scanned0,
		 run->trigger_seconds);
	node_free_diag("after kcompactd", 0);
	if (scanned <= scanned0)
		tap_diag("kcompactd never finished a proactive pass: the node's score must"
			 " stay above the high watermark (15) until it wakes");
	return scanned > scanned0;
}

static bool trigger_cpuset(struct run *run)
{
	char text[64];
	int err;

	err = timed_write(CGROUP_TEST "/cpuset.mems", "1", CPUSET_LIMIT_S, &run->trigger_seconds);
	if (err) {
		tap_diag("cpuset.mems=1: %s", err_text(err));
		return false;
	}
	err = knob_read(CGROUP_TEST "/cpuset.mems.effective", text, sizeof(text));
	tap_diag("cpuset.mems.effective=%s", err ? err_text(err) : text);
	return !err && !strcmp(text, "1");
}

static bool trigger_numa(struct run *run)
{
	struct pageset *set = &run->set;
	uint64_t start = time_now_ns(), next_check;
	volatile uint64_t sink = 0;
	struct placement where = { 0 };
	uint64_t last_progress = start;
	size_t last_on_1 = 0;
	unsigned int checks = 0;
	int err;

	err = knob_set(&run->saved, "/proc/sys/kernel/numa_balancing", "1");
	if (err) {
		tap_diag("kernel.numa_balancing=1: %s", err_text(err));
		return false;
	}
	err = pin_to(&run->cpus_node1);
	if (err) {
		tap_diag("sched_setaffinity to node 1's CPUs: %s", err_text(err));
		return false;
	}
	next_check = start + 1000000000ULL;
	while (time_now_ns() - start < NUMA_LIMIT_S * 1000000000ULL) {
		size_t i;

		for (i = 0; i < set->nr; i++)
			sink += *(volatile uint64_t *)(set->addrs[i] + (i % 512) * 8);
		if (time_now_ns() < next_check)
			continue;
		next_check += 1000000000ULL;
		pageset_where(set, &where);
		if (++checks % 10 == 0)
			placement_diag("numa balancing so far", &where);
		if (where.on[1] == set->nr)
			break;
		if (where.on[1] != last_on_1) {
			last_on_1 = where.on[1];
			last_progress = time_now_ns();
		} else if (last_on_1 && time_now_ns() - last_progress > STALL_S * 1000000000ULL) {
			tap_diag("no page moved for %u s: stop waiting", STALL_S);
			break;
		}
	}
	run->trigger_seconds = (time_now_ns() - start) / 1e9;
	knob_write("/proc/sys/kernel/numa_balancing", "0");
	tap_diag("read the pages from node 1's CPUs for %.1f s (sink %llx)", run->trigger_seconds,
		 (unsigned long long)sink);
	return true;
}

static bool damon_configure(struct run *run, uint64_t start, uint64_t end)
{
	static const struct {
		const char *file, *value;
	} steps[] = {
		{ DAMON_KDAMONDS "nr_kdamonds", "1" },
		{ DAMON_KDAMONDS "0/contexts/nr_contexts", "1" },
		{ DAMON_CTX "operations", "paddr" },
		{ DAMON_CTX "monitoring_attrs/intervals/sample_us", "5000" },
		{ DAMON_CTX "monitoring_attrs/intervals/aggr_us", "100000" },
		{ DAMON_CTX "monitoring_attrs/intervals/update_us", "1000000" },
		{ DAMON_CTX "monitoring_attrs/nr_regions/min", "10" },
		{ DAMON_CTX "monitoring_attrs/nr_regions/max", "1000" },
		{ DAMON_CTX "targets/nr_targets", "1" },
		{ DAMON_CTX "targets/0/regions/nr_regions", "1" },
		{ DAMON_CTX "schemes/nr_schemes", "1" },
		{ DAMON_SCHEME "action", "migrate_cold" },
		{ DAMON_SCHEME "target_nid", "1" },
		{ DAMON_SCHEME "access_pattern/sz/min", "0" },
		{ DAMON_SCHEME "access_pattern/sz/max", "18446744073709551615" },
		{ DAMON_SCHEME "access_pattern/nr_accesses/min", "0" },
		{ DAMON_SCHEME "access_pattern/nr_accesses/max", "0" },
		{ DAMON_SCHEME "access_pattern/age/min", "0" },
		{ DAMON_SCHEME "access_pattern/age/max", "4294967295" },
		/* Anonymous pages only: leave the page cache of the initramfs alone. */
		{ DAMON_SCHEME "filters/nr_filters", "1" },
		{ DAMON_SCHEME "filters/0/type", "anon" },
		{ DAMON_SCHEME "filters/0/matching", "N" },
	};
	unsigned int i;
	int err = 0;

	run->damon_created = true;
	for (i = 0; i < ARRAY_SIZE(steps) && !err; i++) {
		if (i == 10) {
			/* The region, once nr_regions made it. */
			err = write_u64(DAMON_CTX "targets/0/regions/0/start", start);
			err = err ?: write_u64(DAMON_CTX "targets/0/regions/0/end", end);
			if (err) {
				tap_diag("DAMON region [%#llx, %#llx): %s",
					 (unsigned long long)start, (unsigned long long)end,
					 err_text(err));
				return false;
			}
		}
		err = knob_write(steps[i].file, steps[i].value);
		if (err)
			tap_diag("DAMON: %s=%s: %s", steps[i].file, steps[i].value, err_text(err));
	}
	return !err;
}

static void damon_stats_diag(void)
{
	static const char *const stats[] = { "nr_tried", "sz_tried", "nr_applied", "sz_applied" };
	unsigned long long value[ARRAY_SIZE(stats)] = { 0 };
	char path[160];
	unsigned int i;

	if (knob_write(DAMON_KDAMONDS "0/state", "update_schemes_stats"))
		return;
	for (i = 0; i < ARRAY_SIZE(stats); i++) {
		snprintf(path, sizeof(path), DAMON_SCHEME "stats/%s", stats[i]);
		knob_read_u64(path, &value[i]);
	}
	tap_diag("DAMOS migrate_cold stats: nr_tried %llu, sz_tried %llu, nr_applied %llu,"
		 " sz_applied %llu", value[0], value[1], value[2], value[3]);
}

static bool trigger_damon(struct run *run)
{
	struct pageset *set = &run->set;
	uint64_t low = NO_PFN, high = 0, start, last_progress;
	struct placement where = { 0 };
	size_t i, last_on_1 = 0;
	int err;

	for (i = 0; i < set->nr; i++) {
		if (set->pfn_before[i] == NO_PFN || !set->pfn_before[i])
			continue;
		low = set->pfn_before[i] < low ? set->pfn_before[i] : low;
		high = set->pfn_before[i] > high ? set->pfn_before[i] : high;
	}
	if (low == NO_PFN) {
		tap_diag("no PFN of the pages is known (pagemap)");
		return false;
	}
	tap_diag("DAMON paddr region: PFNs %#llx-%#llx (%llu MiB for %zu pages)",
		 (unsigned long long)low, (unsigned long long)high,
		 (unsigned long long)((high - low + 1) >> 8), set->nr);
	if (!damon_configure(run, low * SIZE_4K, (high + 1) * SIZE_4K))
		return false;
	start = time_now_ns();
	err = knob_write(DAMON_KDAMONDS "0/state", "on");
	if (err) {
		tap_diag("DAMON state=on: %s", err_text(err));
		return false;
	}
	run->damon_on = true;
	last_progress = start;
	while (time_now_ns() - start < DAMON_LIMIT_S * 1000000000ULL) {
		usleep(500 * 1000);
		pageset_where(set, &where);
		if (where.on[1] == set->nr)
			break;
		if (where.on[1] != last_on_1) {
			last_on_1 = where.on[1];
			last_progress = time_now_ns();
		} else if (last_on_1 && time_now_ns() - last_progress > STALL_S * 1000000000ULL) {
			tap_diag("no page moved for %u s: stop waiting", STALL_S);
			break;
		}
	}
	run->trigger_seconds = (time_now_ns() - start) / 1e9;
	damon_stats_diag();
	err = knob_write(DAMON_KDAMONDS "0/state", "off");
	if (err)
		tap_diag("DAMON state=off: %s", err_text(err));
	else
		run->damon_on = false;
	return !err;
}

struct block_count {
	long block;
	size_t pages;
	bool movable;
	bool whole;
};

static int block_count_cmp(const void *a, const void *b)
{
	const struct block_count *x = a, *y = b;

	if (x->movable + x->whole != y->movable + y->whole)
		return x->movable + x->whole > y->movable + y->whole ? -1 : 1;
	return x->pages < y->pages ? 1 : x->pages > y->pages ? -1 : 0;
}

static bool trigger_hotremove(struct run *run)
{
	struct pageset *set = &run->set;
	struct block_count blocks[64];
	unsigned int nr_blocks = 0, i, tried = 0;
	char path[128], zone[64];
	size_t p;
	int err;

	for (p = 0; p < set->nr; p++) {
		long block;

		if (set->pfn_before[p] == NO_PFN || !set->pfn_before[p])
			continue;
		block = (long)(set->pfn_before[p] * SIZE_4K / run->block_bytes);
		for (i = 0; i < nr_blocks && blocks[i].block != block; i++)
			;
		if (i == nr_blocks) {
			if (nr_blocks == ARRAY_SIZE(blocks))
				continue;
			blocks[nr_blocks].block = block;
			blocks[nr_blocks].pages = 0;
			block_zone(block, zone, sizeof(zone));
			blocks[nr_blocks].movable = !strcmp(zone, "Movable");
			blocks[nr_blocks].whole = block_whole_ram(run, block);
			nr_blocks++;
		}
		blocks[i].pages++;
	}
	qsort(blocks, nr_blocks, sizeof(blocks[0]), block_count_cmp);
	for (i = 0; i < nr_blocks; i++) {
		block_zone(blocks[i].block, zone, sizeof(zone));
		tap_diag("memory%ld: %zu of the pages, zone %s%s", blocks[i].block,
			 blocks[i].pages, zone[0] ? zone : "?",
			 blocks[i].whole ? "" : ", has a hole: cannot go offline");
	}
	run->offlined_block = -1;
	for (i = 0; i < nr_blocks && tried < OFFLINE_CANDIDATES; i++) {
		double seconds = 0;

		if (!blocks[i].whole)
			continue;
		tried++;
		block_zone(blocks[i].block, zone, sizeof(zone));
		snprintf(path, sizeof(path), MEMORY_SYSFS "memory%ld/state", blocks[i].block);
		err = timed_write(path, "offline", OFFLINE_LIMIT_S, &seconds);
		run->trigger_seconds += seconds;
		tap_diag("offline memory%ld (zone %s, %zu of the pages): %s after %.1f s",
			 blocks[i].block, zone, blocks[i].pages, err ? err_text(err) : "done",
			 seconds);
		if (!err) {
			run->offlined_block = blocks[i].block;
			snprintf(run->offlined_zone, sizeof(run->offlined_zone), "%s", zone);
			return true;
		}
	}
	if (nr_blocks && !blocks[0].movable)
		tap_diag("no block holding the pages is in ZONE_MOVABLE: a block of a kernel"
			 " zone offlines only if none of its pageblocks holds an unmovable"
			 " page; boot with movablecore= to have ZONE_MOVABLE blocks");
	return false;
}

static bool trigger_mbind(struct run *run)
{
	struct pageset *set = &run->set;
	uint64_t start = time_now_ns();
	int err;

	err = set_policy(set->map, set->map_size, MPOL_BIND, 1, MPOL_MF_MOVE | MPOL_MF_STRICT);
	run->trigger_seconds = (time_now_ns() - start) / 1e9;
	if (err)
		tap_diag("mbind(MPOL_BIND, node 1, MPOL_MF_MOVE | MPOL_MF_STRICT): %s",
			 err_text(err));
	return !err;
}

static bool trigger_soft_offline(struct run *run)
{
	struct pageset *set = &run->set;
	uint64_t start = time_now_ns();
	int err = 0;

	if (madvise(set->map, set->map_size, MADV_SOFT_OFFLINE))
		err = errno;
	run->trigger_seconds = (time_now_ns() - start) / 1e9;
	if (err)
		tap_diag("madvise(MADV_SOFT_OFFLINE) of %zu pages: %s%s", set->nr,
			 err_text(err), err == EINVAL ?
			 " (a kernel without CONFIG_MEMORY_FAILURE refuses it)" : "");
	return !err;
}

static bool trigger(struct run *run)
{
	switch (run->opts->path) {
	case PATH_COMPACTION:
		return trigger_compaction(run);
	case PATH_KCOMPACTD:
		return trigger_kcompactd(run);
	case PATH_CPUSET:
		return trigger_cpuset(run);
	case PATH_NUMA:
		return trigger_numa(run);
	case PATH_DAMON:
		return trigger_damon(run);
	case PATH_HOTREMOVE:
		return trigger_hotremove(run);
	case PATH_MBIND:
		return trigger_mbind(run);
	case PATH_SOFT_OFFLINE:
		return trigger_soft_offline(run);
	}
	return false;
}

/* ---- paths: where the pages must be now ------------------------------- */

static bool check_placement(struct run *run, const struct placement *where, size_t moved)
{
	struct pageset *set = &run->set;
	size_t in_block = 0, left = 0, left_on_0 = 0, stayed = 0, stayed_on_1 = 0, p;

	switch (run->opts->path) {
	case PATH_COMPACTION:
	case PATH_KCOMPACTD:
		for (p = 0; p < set->nr; p++)
			stayed += set->status[p] == set->node_before[p];
		return tap_ok(stayed == set->nr,
			      "placement: compaction kept all %zu pages on their node (%zu on"
			      " node 0)", set->nr, where->on[0]);
	case PATH_NUMA:
		return tap_ok(where->on[1] > 0 && !where->elsewhere,
			      "placement: %zu of %zu pages followed the task to node 1",
			      where->on[1], set->nr);
	case PATH_HOTREMOVE:
		for (p = 0; p < set->nr; p++) {
			long block = set->pfn_before[p] == NO_PFN ? -1 :
				     (long)(set->pfn_before[p] * SIZE_4K / run->block_bytes);

			if (block == run->offlined_block) {
				in_block++;
				left += set->pfn_after[p] != set->pfn_before[p];
				left_on_0 += set->status[p] == 0;
			} else {
				stayed++;
				stayed_on_1 += set->status[p] == 1;
			}
		}
		tap_diag("memory%ld held %zu of the pages: %zu left it, %zu are on node 0;"
			 " %zu were elsewhere, %zu of them still on node 1",
			 run->offlined_block, in_block, left, left_on_0, stayed, stayed_on_1);
		return tap_ok(run->offlined_block >= 0 && in_block && left == in_block &&
			      left_on_0 == in_block && stayed_on_1 == stayed,
			      "placement: the %zu pages of the offlined block went to node 0,"
			      " the others stayed on node 1", in_block);
	case PATH_SOFT_OFFLINE:
		return tap_ok(where->on[0] == set->nr && moved == set->nr,
			      "placement: all %zu pages on new pages of node 0 (%zu on node"
			      " 0, %zu with a new page frame)", set->nr, where->on[0], moved);
	default:
		return tap_ok(where->on[1] == set->nr, "placement: all %zu pages on node 1",
			      set->nr);
	}
}

/* ---- teardown ---------------------------------------------------------- */

static bool teardown_path(struct run *run)
{
	char path[128], pid[32];
	bool ok = true;
	int err;

	if (run->affinity_changed && unpin()) {
		tap_diag("restoring the CPU affinity: %s", err_text(errno));
		ok = false;
	}
	if (run->damon_on && knob_write(DAMON_KDAMONDS "0/state", "off")) {
		tap_diag("DAMON would not stop");
		ok = false;
	}
	if (run->damon_created && (err = knob_write(DAMON_KDAMONDS "nr_kdamonds", "0"))) {
		tap_diag("DAMON nr_kdamonds=0: %s", err_text(err));
		ok = false;
	}
	if (run->opts->path == PATH_HOTREMOVE && run->offlined_block >= 0) {
		const char *how = !strcmp(run->offlined_zone, "Movable") ? "online_movable" :
				  "online_kernel";

		snprintf(path, sizeof(path), MEMORY_SYSFS "memory%ld/state", run->offlined_block);
		err = knob_write(path, how);
		if (err)
			err = knob_write(path, "online");
		if (err) {
			tap_diag("memory%ld back online: %s", run->offlined_block, err_text(err));
			ok = false;
		}
	}
	if (run->cg_joined) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		err = knob_write(CGROUP_ROOT "/cgroup.procs", pid);
		if (err) {
			tap_diag("back to the root cgroup: %s", err_text(err));
			ok = false;
		}
	}
	if (run->cg_created && rmdir(CGROUP_TEST) && errno != ENOENT) {
		tap_diag("rmdir " CGROUP_TEST ": %s", err_text(errno));
		ok = false;
	}
	if (run->cg_enabled && (err = knob_write(CGROUP_ROOT "/cgroup.subtree_control",
						 "-cpuset"))) {
		tap_diag("-cpuset: %s", err_text(err));
		ok = false;
	}
	if (run->cg_mounted && umount(CGROUP_ROOT)) {
		tap_diag("umount " CGROUP_ROOT ": %s", err_text(errno));
		ok = false;
	}
	return ok;
}

static bool teardown(struct run *run)
{
	bool ok = teardown_path(run);
	int err;

	if (run->have_set)
		pageset_destroy(&run->set);
	run->have_set = false;
	trace_remove(run);
	err = knob_restore(&run->saved);
	if (err) {
		tap_diag("restoring the knobs: %s", err_text(err));
		ok = false;
	} else if ((err = module_unload(ENGINE_MODULE)) != 0) {
		tap_diag("rmmod %s exited with %d", ENGINE_MODULE, err);
		ok = false;
	}
	return ok;
}

/* ---- setup and report -------------------------------------------------- */

static bool setup_engine(struct run *run)
{
	int status, err = 0;

	status = module_load(ENGINE_MODULE);
	if (status) {
		tap_diag("modprobe %s exited with %d", ENGINE_MODULE, status);
		return false;
	}
	err = err ?: knob_set(&run->saved, KNOBS "engine", "test");
	err = err ?: knob_set(&run->saved, KNOBS "reasons", run->desc->reason);
	err = err ?: knob_set(&run->saved, KNOBS "min_batch_bytes", "0");
	err = err ?: knob_set(&run->saved, KNOBS "enabled", "true");
	err = err ?: knob_write(ENGINE_DIR "fail_every", "0");
	if (err)
		tap_diag("setting the knobs: %s", err_text(err));
	return !err;
}

static bool prepare(struct run *run)
{
	switch (run->opts->path) {
	case PATH_COMPACTION:
	case PATH_KCOMPACTD:
		return prepare_compaction(run);
	case PATH_CPUSET:
		return prepare_cpuset(run);
	case PATH_NUMA:
		return prepare_numa(run);
	case PATH_DAMON:
		return prepare_damon(run);
	case PATH_HOTREMOVE:
		return prepare_hotremove(run);
	case PATH_MBIND:
	case PATH_SOFT_OFFLINE:
		return true;
	}
	return false;
}

static double ratio(long long part, long long whole)
{
	return whole > 0 ? (double)part / (double)whole : 0.0;
}

/* The counters of vmstat_names[] after the copy counters that moved. */
static void vmstat_others_diag(const struct vmstat_set *before, const struct vmstat_set *after)
{
	char text[1024];
	size_t used = 0;
	unsigned int i;

	for (i = 8; i < ARRAY_SIZE(vmstat_names) && used < sizeof(text) - 64; i++) {
		long long delta = delta_of(before, after, vmstat_names[i]);

		if (delta > 0)
			used += snprintf(text + used, sizeof(text) - used, " %s +%lld",
					 vmstat_names[i], delta);
	}
	if (used)
		tap_diag("other counters:%s", text);
}

static void report(const struct run *run, const struct counts *counts,
		   const struct trace_totals *trace, size_t moved)
{
	const struct path_desc *desc = run->desc;
	int reason = desc->reason_nr, other;
	double share = ratio(counts->offload, counts->pgmigrate);

	tap_metric("pages_migrated", "%lld", counts->pgmigrate);
	tap_metric("offload_pages", "%lld", counts->offload);
	tap_metric("cpu_pages", "%lld", counts->cpu);
	tap_metric("fallback_pages", "%lld", counts->fallback);
	tap_metric("offload_share", "%.3f", share);
	tap_metric("counters_in_pages", "%d", counts->in_pages);
	tap_metric("test_pages", "%zu", run->set.nr);
	tap_metric("test_pages_moved", "%zu", moved);
	tap_metric("trigger_seconds", "%.1f", run->trigger_seconds);
	tap_diag("counters over the trigger: pgmigrate_success +%lld, pgmigrate_fail +%lld;"
		 " %s: offload +%lld, cpu +%lld, fallback +%lld; offload share %.3f",
		 counts->pgmigrate, counts->pgmigrate_fail,
		 counts->in_pages ? "migrate_copy_*_pages" :
		 "migrate_copy_* (folios: this kernel has no *_pages counters yet)",
		 counts->offload, counts->cpu, counts->fallback, share);
	tap_diag("test engine: %llu batches, %llu folios, %llu bytes, %llu failed",
		 counts->engine_batches, counts->engine_folios, counts->engine_bytes,
		 counts->engine_failed);
	if (trace->ok) {
		tap_metric("reason_pages", "%lld", trace->pages[reason]);
		tap_metric("reason_engine_pages", "%lld", trace->engine_pages[reason]);
		tap_metric("reason_share", "%.3f",
			   ratio(trace->engine_pages[reason], trace->pages[reason]));
		tap_metric("engine_batches", "%lld", trace->batches[reason]);
		tap_metric("folios_per_batch", "%.2f",
			   trace->batches[reason] ?
			   (double)trace->folios[reason] / trace->batches[reason] : 0.0);
		tap_diag("trace, reason %s: %lld migrate_pages() calls, %lld pages migrated,"
			 " %lld failed; engine: %lld batches, %lld folios, %lld bytes,"
			 " %lld failures; engine share of this reason's pages %.3f%s",
			 trace_reason_names[reason], trace->calls[reason], trace->pages[reason],
			 trace->failed[reason], trace->batches[reason], trace->folios[reason],
			 trace->bytes[reason], trace->failures[reason],
			 ratio(trace->engine_pages[reason], trace->pages[reason]),
			 trace->lost ? " (the trace buffer overflowed: partial)" : "");
		for (other = 0; other < (int)ARRAY_SIZE(trace_reason_names); other++) {
			if (other == reason || (!trace->calls[other] && !trace->batches[other]))
				continue;
			tap_diag("trace, other reason %s meanwhile: %lld calls, %lld pages;"
				 " engine batches %lld (the reasons knob allows only %s)",
				 trace_reason_names[other], trace->calls[other],
				 trace->pages[other], trace->batches[other], desc->reason);
		}
	}
	tap_diag("how %s migrates (%s, reason '%s'): %s", desc->name, desc->mode, desc->reason,
		 desc->share_note);
	if (share < 0.9 && counts->pgmigrate > 0) {
		long long others = 0, missed = 0;

		if (trace->ok) {
			for (other = 0; other < (int)ARRAY_SIZE(trace_reason_names); other++)
				if (other != reason)
					others += trace->pages[other];
			missed = trace->pages[reason] - trace->engine_pages[reason];
		}
		tap_diag("low engine share %.3f: %s%lld pages were migrated for other reasons,"
			 " which the reasons knob (only '%s') keeps from the engine; %lld pages of"
			 " this reason were not copied by it: hugetlb folios (migrate_hugetlbs()),"
			 " non-LRU movable pages (zsmalloc, balloon), page cache with buffer heads,"
			 " folios with extra references (migrate_copy_folio_eligible()), folios"
			 " freed under migration (counted as migrated without a copy), or batches"
			 " below min_batch_bytes", share, trace->ok ? "" : "(no trace) ", others,
			 desc->reason, missed);
	}
}

int main(int argc, char **argv)
{
	struct vmstat_set before = { 0 }, after;
	struct trace_totals trace;
	struct verify_result verify;
	struct placement where;
	struct options opts;
	struct counts counts = { 0 };
	struct run run;
	unsigned long long b0 = 0, f0 = 0, y0 = 0, x0 = 0;
	size_t moved = 0, i;
	unsigned int done = 0;
	bool ok;
	int err;

	parse_options(argc, argv, &opts);
	memset(&run, 0, sizeof(run));
	run.opts = &opts;
	run.desc = &paths[opts.path];
	run.offlined_block = -1;
	tap_plan(PLAN);
	tap_diag("path %s, migrate reason '%s', %ld MiB of 4K pages", run.desc->name,
		 run.desc->reason, opts.mib);

	ok = tap_ok(setup_engine(&run), "setup: test engine loaded, engine=test, reasons=%s",
		    run.desc->reason);
	done++;
	if (ok) {
		trace_setup(&run);
		ok = tap_ok(prepare(&run), "setup: %s prerequisites", run.desc->name);
		done++;
	}
	if (ok) {
		err = create_set(&run);
		if (err)
			tap_diag("the page set: %s", err_text(err));
		ok = tap_ok(!err, "setup: %zu pages written with a pattern",
			    err ? opts.mib * (SIZE_MIB / SIZE_4K) : run.set.nr);
		done++;
	}
	if (ok) {
		vmstat_names_add(&before);
		after = before;
		err = pageset_pfns(&run.set, run.set.pfn_before);
		if (err)
			tap_diag("/proc/self/pagemap: %s", err_text(err));
		trace_start(&run);
		knob_write(ENGINE_DIR "reset", "1");
		engine_read(&b0, &f0, &y0, &x0);
		vmstat_set_snapshot(&before);

		ok = trigger(&run);

		vmstat_set_snapshot(&after);
		engine_read(&counts.engine_batches, &counts.engine_folios,
			    &counts.engine_bytes, &counts.engine_failed);
		trace_stop(&run, &trace);
		counts_compute(&before, &after, &counts);
		counts.engine_batches -= b0;
		counts.engine_folios -= f0;
		counts.engine_bytes -= y0;
		counts.engine_failed -= x0;
		tap_ok(ok, "trigger: %s ran (%.1f s)", run.desc->name, run.trigger_seconds);
		done++;

		err = pageset_pfns(&run.set, run.set.pfn_after);
		for (i = 0; !err && i < run.set.nr; i++)
			moved += run.set.pfn_after[i] != run.set.pfn_before[i];
		pageset_where(&run.set, &where);
		placement_diag("after the trigger", &where);
		tap_ok(counts.pgmigrate > 0 && moved > 0,
		       "migration: pgmigrate_success +%lld, %zu of the %zu pages moved",
		       counts.pgmigrate, moved, run.set.nr);
		done++;

		if (!tap_ok(pageset_verify(&run.set, &verify), "data: all %zu pages verified"
			    " byte for byte", run.set.nr)) {
			char text[64];

			tap_diag("%zu bad pages, %zu bad bytes; first: page %zu, offset %zu, %s",
				 verify.bad_pages, verify.bad_bytes, verify.first_bad,
				 verify.first_offset,
				 status_describe(run.set.status[verify.first_bad], text,
						 sizeof(text)));
		}
		done++;
		check_placement(&run, &where, moved);
		done++;
		report(&run, &counts, &trace, moved);
		vmstat_others_diag(&before, &after);
	}
	while (done < PLAN - 1) {
		tap_ok(false, "not run: the setup failed");
		done++;
	}
	tap_ok(teardown(&run), "teardown: knobs, %s state and test engine restored",
	       run.desc->name);
	return tap_done();
}
