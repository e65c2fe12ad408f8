// SPDX-License-Identifier: GPL-2.0
/*
 * bulk-migrate: move an anonymous region of 4K pages or of 2 MiB THPs from
 * one node to another and back with move_pages(), and check after each move
 * that the kernel reported success, that every page really is on the target
 * node, that the data survived byte for byte and that /proc/vmstat counted
 * exactly the pages moved (and, for THPs, that none was split).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa-util.h"
#include "tap.h"

#define DEFAULT_MIB	64
#define MAX_MIB		65536

/* Points per direction: move_pages, status, query, data, pgmigrate_success. */
#define POINTS_PER_MOVE		5
/* Plus thp_migration_success and thp_migration_split. */
#define THP_POINTS_PER_MOVE	2

struct options {
	enum mig_kind kind;
	long mib;
	int from;
	int to;
};

static const char *const counter_names[] = {
	"pgmigrate_success",
	"pgmigrate_fail",
	"thp_migration_success",
	"thp_migration_fail",
	"thp_migration_split",
};

static void usage(const char *program)
{
	fprintf(stderr,
		"usage: %s --kind 4k|thp [--mib N] [--from NODE] [--to NODE]\n"
		"  --kind   4k: small pages (MADV_NOHUGEPAGE), thp: 2 MiB THPs (MADV_HUGEPAGE)\n"
		"  --mib    region size in MiB (default %d, even for thp)\n"
		"  --from   node the data starts on (default 0)\n"
		"  --to     node it is moved to and back from (default 1)\n"
		"Output is TAP 13; the exit code is 0 iff every point passed.\n",
		program, DEFAULT_MIB);
}

static int parse_node(const char *text, int *node)
{
	long value;

	if (parse_long(text, 0, ID_SET_MAX - 1, &value))
		return -EINVAL;
	*node = (int)value;
	return 0;
}

/* Returns 0, or prints why to stderr and returns -EINVAL. */
static int parse_options(int argc, char **argv, struct options *options)
{
	static const struct option long_options[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_kind = false;
	int opt;

	options->mib = DEFAULT_MIB;
	options->from = 0;
	options->to = 1;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (mig_kind_parse(optarg, &options->kind)) {
				fprintf(stderr, "bad --kind '%s': expected 4k or thp\n",
					optarg);
				return -EINVAL;
			}
			have_kind = true;
			break;
		case 'm':
			if (parse_long(optarg, 1, MAX_MIB, &options->mib)) {
				fprintf(stderr, "bad --mib '%s': expected 1-%d\n",
					optarg, MAX_MIB);
				return -EINVAL;
			}
			break;
		case 'f':
		case 't':
			if (parse_node(optarg, opt == 'f' ? &options->from :
							    &options->to)) {
				fprintf(stderr, "bad --%s '%s': expected a node number\n",
					opt == 'f' ? "from" : "to", optarg);
				return -EINVAL;
			}
			break;
		default:
			return -EINVAL;
		}
	}

	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!have_kind) {
		fprintf(stderr, "--kind is required\n");
		return -EINVAL;
	}
	if (options->kind == MIG_KIND_THP && options->mib % 2) {
		fprintf(stderr, "--mib must be even for --kind thp (2 MiB THPs)\n");
		return -EINVAL;
	}
	return 0;
}

static void diag_status(const char *what, const struct status_summary *summary,
			size_t count, size_t unit)
{
	char status[96];

	if (summary->matching == count)
		return;
	tap_diag("%s: %zu of %zu entries differ; first at offset 0x%zx: %s",
		 what, count - summary->matching, count,
		 summary->first_other * unit,
		 status_describe(summary->first_other_status, status,
				 sizeof(status)));
}

/* Setup point: every 4K page is on the source node before the pattern. */
static void check_placed(struct mig_region *region, int node)
{
	struct mig_placement placement;
	char err[96];
	long move_ret;
	bool placed;

	placed = mig_region_place(region, node, &placement, &move_ret);
	if (move_ret < 0)
		tap_diag("move_pages to node %d failed: %s", node,
			 errno_describe((int)-move_ret, err, sizeof(err)));
	else if (move_ret > 0)
		tap_diag("move_pages to node %d left %ld pages behind", node,
			 move_ret);
	if (placement.ret < 0)
		tap_diag("move_pages query failed: %s",
			 errno_describe((int)-placement.ret, err, sizeof(err)));
	diag_status("placement", &placement.status, region->nr_pages, SIZE_4K);

	tap_ok(placed, "%s: setup: all %zu 4K pages on node %d",
	       mig_kind_name(region->kind), region->nr_pages, node);
}

static void diag_thp_settings(void)
{
	char text[256];

	if (read_text_file("/sys/kernel/mm/transparent_hugepage/enabled", text,
			   sizeof(text)) >= 0)
		tap_diag("transparent_hugepage/enabled: %s", text);
	if (read_text_file("/sys/kernel/mm/transparent_hugepage/defrag", text,
			   sizeof(text)) >= 0)
		tap_diag("transparent_hugepage/defrag: %s", text);
}

/* AnonHugePages of the region's VMA in kB, or -errno; with a diag. */
static long long region_anon_huge_kb(struct mig_region *region,
				     const char *when)
{
	unsigned long start = 0, end = 0;
	long long kb = 0;
	int ret;

	ret = smaps_vma_field_kb(region->addr, "AnonHugePages", &kb, &start,
				 &end);
	if (ret) {
		tap_diag("%s: no AnonHugePages for %p in /proc/self/smaps: %s",
			 when, (void *)region->addr, strerror(-ret));
		return ret;
	}
	tap_diag("%s: AnonHugePages %lld kB in VMA %lx-%lx (region %p-%p)",
		 when, kb, start, end, (void *)region->addr,
		 (void *)(region->addr + region->size));
	return kb;
}

static void check_thp_backed(struct mig_region *region)
{
	long long kb = region_anon_huge_kb(region, "after fault-in");
	unsigned long long want_kb = region->size / 1024;
	bool backed = kb >= 0 && (unsigned long long)kb >= want_kb;

	if (!backed)
		diag_thp_settings();
	tap_ok(backed, "thp: setup: region is THP-backed (AnonHugePages >= %llu kB)",
	       want_kb);
}

static void check_counter(const struct vmstat_set *before,
			  const struct vmstat_set *after, const char *prefix,
			  const char *name, long long expected)
{
	long long delta;

	if (!vmstat_set_delta(before, after, name, &delta)) {
		tap_diag("%s: %s is missing from /proc/vmstat", prefix, name);
		tap_ok(false, "%s: %s rose by %lld", prefix, name, expected);
		return;
	}
	tap_diag("%s: %s expected +%lld, seen +%lld", prefix, name, expected,
		 delta);
	if (expected)
		tap_ok(delta == expected, "%s: %s rose by %lld", prefix, name,
		       expected);
	else
		tap_ok(delta == 0, "%s: %s did not rise", prefix, name);
}

static void diag_counters(const struct vmstat_set *before,
			  const struct vmstat_set *after, const char *prefix)
{
	char line[512];
	size_t used = 0, i;

	for (i = 0; i < ARRAY_SIZE(counter_names); i++) {
		long long delta;
		int n;

		if (vmstat_set_delta(before, after, counter_names[i], &delta))
			n = snprintf(line + used, sizeof(line) - used, " %s=+%lld",
				     counter_names[i], delta);
		else
			n = snprintf(line + used, sizeof(line) - used, " %s=absent",
				     counter_names[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - used)
			break;
		used += (size_t)n;
	}
	tap_diag("%s: vmstat deltas:%s", prefix, line);
}

/*
 * Move the region from @from to @to and check everything.  Returns the
 * throughput of the move_pages() call in MiB/s, 0 if not every page
 * reached @to.
 */
static double move_and_check(struct mig_region *region, int from, int to,
			     uint64_t seed)
{
	struct vmstat_set before = { 0 }, after;
	struct pattern_mismatch mismatch;
	struct mig_placement placement;
	struct mig_move_result move;
	bool thp = region->kind == MIG_KIND_THP;
	char prefix[64], err[96];
	double mibps;
	size_t i;

	snprintf(prefix, sizeof(prefix), "%s %d->%d",
		 mig_kind_name(region->kind), from, to);
	for (i = 0; i < ARRAY_SIZE(counter_names); i++)
		vmstat_set_add(&before, counter_names[i]);
	after = before;

	vmstat_set_snapshot(&before);
	mig_region_move(region, to, &move);
	vmstat_set_snapshot(&after);

	mibps = mib_per_second(region->size, move.elapsed_ns);
	tap_diag("%s: %zu folios, %zu MiB in %.3f ms: %.1f MiB/s", prefix,
		 region->nr_folios, region->size / SIZE_MIB,
		 move.elapsed_ns / 1e6, mibps);

	if (move.ret < 0)
		tap_diag("%s: move_pages failed: %s", prefix,
			 errno_describe((int)-move.ret, err, sizeof(err)));
	else if (move.ret > 0)
		tap_diag("%s: move_pages did not migrate %ld pages", prefix,
			 move.ret);
	tap_ok(move.ret == 0, "%s: move_pages returned 0", prefix);

	diag_status("status", &move.status, region->nr_folios,
		    region->folio_size);
	tap_ok(move.status.matching == region->nr_folios,
	       "%s: all %zu status entries are node %d", prefix,
	       region->nr_folios, to);

	mig_region_query(region, to, &placement);
	if (placement.ret < 0)
		tap_diag("%s: move_pages query failed: %s", prefix,
			 errno_describe((int)-placement.ret, err, sizeof(err)));
	diag_status("query", &placement.status, region->nr_pages, SIZE_4K);
	tap_ok(placement.ret == 0 &&
	       placement.status.matching == region->nr_pages,
	       "%s: all %zu 4K pages queried on node %d", prefix,
	       region->nr_pages, to);

	if (!pattern_verify(region->addr, region->size, seed, &mismatch))
		tap_diag("%s: %zu bytes differ, first at offset 0x%zx (4K page %zu)",
			 prefix, mismatch.bad_bytes, mismatch.first_offset,
			 mismatch.first_offset / SIZE_4K);
	tap_ok(mismatch.bad_bytes == 0, "%s: data verified byte for byte",
	       prefix);

	diag_counters(&before, &after, prefix);
	check_counter(&before, &after, prefix, "pgmigrate_success",
		      (long long)region->nr_pages);
	if (thp) {
		check_counter(&before, &after, prefix, "thp_migration_success",
			      (long long)region->nr_folios);
		check_counter(&before, &after, prefix, "thp_migration_split", 0);
		region_anon_huge_kb(region, prefix);
	}
	if (move.ret != 0 || move.status.matching != region->nr_folios ||
	    placement.status.matching != region->nr_pages)
		return 0.0;
	return mibps;
}

int main(int argc, char **argv)
{
	struct mig_region region;
	struct options options;
	unsigned int points;
	double to_mibps, back_mibps;
	uint64_t seed;
	bool thp;
	int ret;

	if (parse_options(argc, argv, &options)) {
		usage(argv[0]);
		return 2;
	}
	thp = options.kind == MIG_KIND_THP;

	points = 1 + 2 * POINTS_PER_MOVE;
	if (thp)
		points += 1 + 2 * THP_POINTS_PER_MOVE;
	tap_plan(points);
	tap_diag("kind %s, %ld MiB, node %d -> %d -> %d",
		 mig_kind_name(options.kind), options.mib, options.from,
		 options.to, options.from);
	if (options.from == options.to)
		tap_diag("--from equals --to: nothing will migrate, the counter points must fail");

	ret = mig_region_create(&region, options.kind,
				(size_t)options.mib * SIZE_MIB, options.from);
	if (ret) {
		tap_diag("cannot set up the region: %s", strerror(-ret));
		tap_ok(false, "%s: setup: region created",
		       mig_kind_name(options.kind));
		return tap_done();
	}

	check_placed(&region, options.from);
	if (thp)
		check_thp_backed(&region);

	seed = pattern_seed();
	tap_diag("pattern seed 0x%016llx", (unsigned long long)seed);
	pattern_fill(region.addr, region.size, seed);

	to_mibps = move_and_check(&region, options.from, options.to, seed);
	back_mibps = move_and_check(&region, options.to, options.from, seed);

	tap_metric("pages", "%zu", region.nr_pages);
	tap_metric("to_MiBps", "%.1f", to_mibps);
	tap_metric("back_MiBps", "%.1f", back_mibps);

	mig_region_destroy(&region);
	return tap_done();
}
