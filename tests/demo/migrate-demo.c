// SPDX-License-Identifier: GPL-2.0
/*
 * migrate-demo: the human-facing demo.  Migrates an anonymous region of 4K
 * pages and one of 2 MiB THPs from node 0 to node 1 and back, checks every
 * byte after each move and prints one table row per (kind, direction) with
 * the time taken and the /proc/vmstat deltas.  Not TAP.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "numa-util.h"

#define DEFAULT_MIB	32
#define MAX_MIB		65536
#define NODE_A		0
#define NODE_B		1
#define NR_ROWS		4
#define MAX_COUNTERS	(VMSTAT_SET_MAX - 1)
#define BASE_COUNTER	"pgmigrate_success"
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

struct options {
	long mib;
	unsigned int nr_counters;
	const char *counters[MAX_COUNTERS];
};

struct row {
	enum mig_kind kind;
	int from;
	int to;
	const char *not_run;	/* why the row was not run, NULL if it was */
	bool moved;		/* move_pages() moved every page to @to */
	bool verified;
	size_t first_bad;
	size_t folios;
	size_t pages;
	size_t bytes;
	uint64_t elapsed_ns;
	/* [0] is BASE_COUNTER, then the --counter columns */
	bool delta_valid[VMSTAT_SET_MAX];
	long long delta[VMSTAT_SET_MAX];
};

static void usage(const char *program)
{
	fprintf(stderr,
		"usage: %s [--mib N] [--counter NAME]...\n"
		"  --mib      region size per kind in MiB (default %d, even)\n"
		"  --counter  also show the delta of /proc/vmstat counter NAME\n"
		"             (repeatable, up to %d; '-' where the counter does not exist)\n"
		"Moves 4K pages and 2 MiB THPs node %d -> %d -> %d, verifies every byte\n"
		"and prints a summary; exits non-zero on any error or data mismatch.\n",
		program, DEFAULT_MIB, MAX_COUNTERS, NODE_A, NODE_B, NODE_A);
}

static bool counter_name_valid(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++) {
		if (*name == ' ' || *name == '\t' || *name == '\n')
			return false;
	}
	return true;
}

static int parse_options(int argc, char **argv, struct options *options)
{
	static const struct option long_options[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "counter", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	options->mib = DEFAULT_MIB;
	options->nr_counters = 0;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (parse_long(optarg, 2, MAX_MIB, &options->mib) ||
			    options->mib % 2) {
				fprintf(stderr, "bad --mib '%s': expected an even number 2-%d\n",
					optarg, MAX_MIB);
				return -EINVAL;
			}
			break;
		case 'c':
			if (!counter_name_valid(optarg)) {
				fprintf(stderr, "bad --counter '%s'\n", optarg);
				return -EINVAL;
			}
			if (options->nr_counters == MAX_COUNTERS) {
				fprintf(stderr, "at most %d --counter options\n",
					MAX_COUNTERS);
				return -EINVAL;
			}
			options->counters[options->nr_counters++] = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Every failure is reported to stderr as it happens; this counts them. */
static unsigned int nr_errors;

static void report_error(const char *what, const char *fmt, ...) __printf(2, 3);

static void report_error(const char *what, const char *fmt, ...)
{
	va_list args;

	fflush(stdout);
	fprintf(stderr, "migrate-demo: %s: ", what);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	nr_errors++;
}

/* The column names, in order: BASE_COUNTER and every --counter. */
static void counters_init(struct vmstat_set *set, const struct options *options)
{
	unsigned int i;

	memset(set, 0, sizeof(*set));
	/* Not vmstat_set_add(): a repeated --counter keeps its own column. */
	set->names[set->count++] = BASE_COUNTER;
	for (i = 0; i < options->nr_counters; i++)
		set->names[set->count++] = options->counters[i];
}

static void counters_delta(const struct vmstat_set *before,
			   const struct vmstat_set *after, struct row *row)
{
	unsigned int i;

	for (i = 0; i < before->count; i++) {
		row->delta_valid[i] = before->values[i] != VMSTAT_ABSENT &&
				      after->values[i] != VMSTAT_ABSENT;
		row->delta[i] = after->values[i] - before->values[i];
	}
}

/* Set up a region of @kind on @node with the pattern; false on failure. */
static bool setup_region(struct mig_region *region, enum mig_kind kind,
			 size_t size, int node, uint64_t seed)
{
	const char *name = mig_kind_name(kind);
	struct mig_placement placement;
	char text[96];
	long move_ret;
	int ret;

	ret = mig_region_create(region, kind, size, node);
	if (ret) {
		report_error(name, "cannot map %zu MiB: %s", size / SIZE_MIB,
			     errno_describe(-ret, text, sizeof(text)));
		return false;
	}

	if (!mig_region_place(region, node, &placement, &move_ret)) {
		if (move_ret < 0)
			report_error(name, "cannot place the region on node %d: move_pages: %s",
				     node, errno_describe((int)-move_ret, text,
							  sizeof(text)));
		else
			report_error(name, "only %zu of %zu pages are on node %d",
				     placement.status.matching, region->nr_pages,
				     node);
	}

	if (kind == MIG_KIND_THP) {
		long long kb = -1;

		smaps_vma_field_kb(region->addr, "AnonHugePages", &kb, NULL,
				   NULL);
		if (kb < (long long)(size / 1024))
			report_error(name,
				     "only %lld of %zu kB are THP-backed; needs " THP_ENABLED " = madvise or always",
				     kb, size / 1024);
	}

	pattern_fill(region->addr, region->size, seed);
	return true;
}

static void run_row(struct mig_region *region, struct row *row,
		    const struct options *options, uint64_t seed)
{
	struct vmstat_set before, after;
	struct pattern_mismatch mismatch;
	struct mig_placement placement;
	struct mig_move_result move;
	char what[32], text[96];

	snprintf(what, sizeof(what), "%s %d->%d", mig_kind_name(row->kind),
		 row->from, row->to);
	row->not_run = NULL;
	row->folios = region->nr_folios;
	row->pages = region->nr_pages;
	row->bytes = region->size;

	counters_init(&before, options);
	after = before;
	vmstat_set_snapshot(&before);
	mig_region_move(region, row->to, &move);
	vmstat_set_snapshot(&after);
	counters_delta(&before, &after, row);
	row->elapsed_ns = move.elapsed_ns;

	mig_region_query(region, row->to, &placement);
	row->moved = move.ret == 0 && placement.ret == 0 &&
		     placement.status.matching == region->nr_pages;
	if (move.ret < 0)
		report_error(what, "move_pages: %s%s",
			     errno_describe((int)-move.ret, text, sizeof(text)),
			     move.ret == -ENODEV ?
			     ": the target node does not exist or has no memory" : "");
	else if (move.ret > 0)
		report_error(what, "move_pages did not migrate %ld pages",
			     move.ret);
	else if (!row->moved)
		report_error(what, "only %zu of %zu pages reached node %d (first other: %s)",
			     placement.status.matching, region->nr_pages,
			     row->to,
			     status_describe(placement.status.first_other_status,
					     text, sizeof(text)));

	row->verified = pattern_verify(region->addr, region->size, seed,
				       &mismatch);
	row->first_bad = mismatch.first_offset;
	if (!row->verified)
		report_error(what, "%zu bytes differ, first at offset 0x%zx",
			     mismatch.bad_bytes, mismatch.first_offset);
}

static int column_width(const char *title, int minimum)
{
	int length = (int)strlen(title);

	return length > minimum ? length : minimum;
}

static void print_table(const struct row *rows, unsigned int nr_rows,
			const struct vmstat_set *columns)
{
	unsigned int r, c;

	printf("%-5s %-9s %7s %8s %6s %10s %9s", "kind", "direction",
	       "folios", "pages", "MiB", "ms", "MiB/s");
	for (c = 0; c < columns->count; c++)
		printf(" %*s", column_width(columns->names[c], 8),
		       columns->names[c]);
	printf("  verified\n");

	for (r = 0; r < nr_rows; r++) {
		const struct row *row = &rows[r];
		char direction[16];

		snprintf(direction, sizeof(direction), "%d->%d", row->from,
			 row->to);
		printf("%-5s %-9s", mig_kind_name(row->kind), direction);
		if (row->not_run) {
			printf("  (not run: %s)\n", row->not_run);
			continue;
		}
		printf(" %7zu %8zu %6zu %10.3f", row->folios, row->pages,
		       row->bytes / SIZE_MIB, row->elapsed_ns / 1e6);
		if (row->moved)
			printf(" %9.1f", mib_per_second(row->bytes,
							 row->elapsed_ns));
		else
			printf(" %9s", "FAILED");
		for (c = 0; c < columns->count; c++) {
			int width = column_width(columns->names[c], 8);

			if (row->delta_valid[c])
				printf(" %*lld", width, row->delta[c]);
			else
				printf(" %*s", width, "-");
		}
		if (row->verified)
			printf("  yes\n");
		else
			printf("  NO (0x%zx)\n", row->first_bad);
	}
	fflush(stdout);
}

static void print_banner(const struct options *options)
{
	struct utsname uts;

	if (uname(&uts))
		snprintf(uts.release, sizeof(uts.release), "?");
	printf("migrate-demo: kernel %s, %ld MiB per kind, node %d -> %d -> %d\n",
	       uts.release, options->mib, NODE_A, NODE_B, NODE_A);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const enum mig_kind kinds[] = { MIG_KIND_4K, MIG_KIND_THP };
	struct row rows[NR_ROWS];
	struct vmstat_set columns;
	struct options options;
	bool mismatch = false;
	uint64_t seed;
	unsigned int k, r;

	if (parse_options(argc, argv, &options)) {
		usage(argv[0]);
		return 2;
	}
	print_banner(&options);
	counters_init(&columns, &options);
	memset(rows, 0, sizeof(rows));
	seed = pattern_seed();

	for (k = 0; k < 2; k++) {
		struct row *there = &rows[2 * k], *back = &rows[2 * k + 1];
		struct mig_region region;

		there->kind = back->kind = kinds[k];
		there->from = back->to = NODE_A;
		there->to = back->from = NODE_B;
		there->not_run = "the region could not be set up";
		back->not_run = there->not_run;
		if (!setup_region(&region, kinds[k],
				  (size_t)options.mib * SIZE_MIB, NODE_A, seed))
			continue;
		run_row(&region, there, &options, seed);
		if (there->moved)
			run_row(&region, back, &options, seed);
		else
			back->not_run = "the move there failed";
		mig_region_destroy(&region);
	}

	fflush(stderr);
	printf("\n");
	print_table(rows, NR_ROWS, &columns);
	for (r = 0; r < NR_ROWS; r++)
		mismatch |= !rows[r].not_run && !rows[r].verified;

	if (mismatch)
		printf("demo: DATA MISMATCH\n");
	else if (nr_errors)
		printf("demo: MIGRATION FAILED (%u errors above)\n", nr_errors);
	else
		printf("demo: all data verified\n");
	fflush(stdout);
	return mismatch || nr_errors ? 1 : 0;
}
