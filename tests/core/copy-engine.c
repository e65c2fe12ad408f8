// SPDX-License-Identifier: GPL-2.0
/*
 * copy-engine: the batched migration copy, end to end, through the test
 * copy engine (mm/migrate_copy_test_engine.c).
 *
 *   copy-engine --scenario offload|fail-every-other|disabled|reason-excluded
 *               [--kind 4k|thp] [--mib N]
 *
 * Moves a region node 0 -> 1 -> 0 with move_pages(2) and checks, for each
 * direction, the data byte for byte and that the counters moved by exactly
 * the expected amounts:
 *
 *   offload           engine=test: the engine sees every folio, and
 *                     migrate_copy_offload rises by the number of folios;
 *   fail-every-other  the engine fails every other folio: the data is still
 *                     right, and migrate_copy_fallback equals its failures;
 *   disabled          enabled=false: the engine sees nothing;
 *   reason-excluded   reasons=compaction: move_pages (syscall) is not
 *                     offloaded and the engine sees nothing.
 *
 * Every knob is put back and the module unloaded at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define KNOBS		"/sys/kernel/mm/migrate_copy/"
#define ENGINE_DIR	"/sys/kernel/debug/migrate_copy_test/"
#define ENGINE_MODULE	"migrate_copy_test_engine"

enum scenario {
	SCENARIO_OFFLOAD,
	SCENARIO_FAIL_EVERY_OTHER,
	SCENARIO_DISABLED,
	SCENARIO_REASON_EXCLUDED,
};

static const char *const scenario_names[] = {
	[SCENARIO_OFFLOAD] = "offload",
	[SCENARIO_FAIL_EVERY_OTHER] = "fail-every-other",
	[SCENARIO_DISABLED] = "disabled",
	[SCENARIO_REASON_EXCLUDED] = "reason-excluded",
};

static const char *const counters[] = {
	"pgmigrate_success", "migrate_copy_offload", "migrate_copy_fallback",
	"migrate_copy_cpu",
};

struct options {
	enum scenario scenario;
	enum mig_kind kind;
	long mib;
};

/* What one direction changed. */
struct observed {
	long long pgmigrate, offload, fallback, cpu;
	unsigned long long engine_folios, engine_failed;
};

static void usage(const char *program)
{
	fprintf(stderr, "usage: %s --scenario offload|fail-every-other|disabled|reason-excluded"
		" [--kind 4k|thp] [--mib N]\n", program);
	exit(2);
}

static int parse_scenario(const char *text, enum scenario *scenario)
{
	int index = parse_name(text, scenario_names,
			       sizeof(scenario_names) / sizeof(scenario_names[0]));

	if (index < 0)
		return index;
	*scenario = index;
	return 0;
}

static void parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option long_options[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_scenario = false;
	int opt;

	opts->kind = MIG_KIND_4K;
	opts->mib = 16;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_scenario(optarg, &opts->scenario))
				usage(argv[0]);
			have_scenario = true;
			break;
		case 'k':
			if (mig_kind_parse(optarg, &opts->kind))
				usage(argv[0]);
			break;
		case 'm':
			if (parse_region_mib(optarg, &opts->mib))
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!have_scenario || optind != argc)
		usage(argv[0]);
}

/* Load the engine and set the knobs the scenario needs. */
static bool setup_knobs(const struct options *opts, struct knob_saved *saved)
{
	const char *enabled = opts->scenario == SCENARIO_DISABLED ? "false" : "true";
	const char *reasons = opts->scenario == SCENARIO_REASON_EXCLUDED ? "compaction" : "all";
	const char *fail_every = opts->scenario == SCENARIO_FAIL_EVERY_OTHER ? "2" : "0";
	int err = 0, status;

	status = module_load(ENGINE_MODULE);
	if (status) {
		tap_diag("modprobe %s exited with %d", ENGINE_MODULE, status);
		return false;
	}
	err = err ?: knob_set(saved, KNOBS "engine", "test");
	err = err ?: knob_set(saved, KNOBS "reasons", reasons);
	err = err ?: knob_set(saved, KNOBS "min_batch_bytes", "0");
	err = err ?: knob_set(saved, KNOBS "enabled", enabled);
	err = err ?: knob_write(ENGINE_DIR "fail_every", fail_every);
	if (err)
		tap_diag("setting the knobs failed: %s", strerror(-err));
	return !err;
}

static bool engine_counters(unsigned long long *folios, unsigned long long *failed)
{
	return !knob_read_u64(ENGINE_DIR "folios", folios) &&
	       !knob_read_u64(ENGINE_DIR "failed", failed);
}

static void counter_set(struct vmstat_set *set)
{
	unsigned int i;

	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		vmstat_set_add(set, counters[i]);
}

static long long counter_delta(const struct vmstat_set *before, const struct vmstat_set *after,
			       const char *name)
{
	long long delta = -1;

	if (!vmstat_set_delta(before, after, name, &delta))
		tap_diag("/proc/vmstat has no %s", name);
	return delta;
}

/* Move the region to @node; record what the counters did. */
static bool move_and_observe(struct mig_region *region, int node, struct observed *seen)
{
	struct vmstat_set before = { 0 }, after;
	unsigned long long folios0, failed0, folios1, failed1;
	struct mig_move_result result;

	counter_set(&before);
	after = before;
	if (knob_write(ENGINE_DIR "reset", "1") || !engine_counters(&folios0, &failed0) ||
	    vmstat_set_snapshot(&before))
		return false;
	mig_region_move(region, node, &result);
	if (vmstat_set_snapshot(&after) || !engine_counters(&folios1, &failed1))
		return false;
	seen->pgmigrate = counter_delta(&before, &after, "pgmigrate_success");
	seen->offload = counter_delta(&before, &after, "migrate_copy_offload");
	seen->fallback = counter_delta(&before, &after, "migrate_copy_fallback");
	seen->cpu = counter_delta(&before, &after, "migrate_copy_cpu");
	seen->engine_folios = folios1 - folios0;
	seen->engine_failed = failed1 - failed0;
	tap_diag("to node %d: move_pages %ld, pgmigrate_success +%lld, offload +%lld,"
		 " fallback +%lld, cpu +%lld, engine folios +%llu failed +%llu",
		 node, result.ret, seen->pgmigrate, seen->offload, seen->fallback,
		 seen->cpu, seen->engine_folios, seen->engine_failed);
	return result.ret == 0;
}

static void check_direction(const struct options *opts, struct mig_region *region,
			    uint64_t seed, int from, int to)
{
	long long folios = region->nr_folios, failures = 0;
	bool offloaded = opts->scenario == SCENARIO_OFFLOAD ||
			 opts->scenario == SCENARIO_FAIL_EVERY_OTHER;
	struct mig_placement placement;
	struct pattern_mismatch mismatch;
	struct observed seen;

	if (opts->scenario == SCENARIO_FAIL_EVERY_OTHER)
		failures = folios / 2;
	tap_ok(move_and_observe(region, to, &seen), "%d->%d: move_pages returned 0", from, to);
	mig_region_query(region, to, &placement);
	tap_ok(placement.ret == 0 && placement.status.matching == region->nr_pages,
	       "%d->%d: all %zu 4K pages on node %d", from, to, region->nr_pages, to);
	tap_ok(pattern_verify(region->addr, region->size, seed, &mismatch),
	       "%d->%d: data verified byte for byte", from, to);
	tap_ok(seen.pgmigrate == (long long)region->nr_pages,
	       "%d->%d: pgmigrate_success rose by %zu", from, to, region->nr_pages);
	tap_ok(seen.engine_folios == (unsigned long long)(offloaded ? folios : 0),
	       "%d->%d: the engine saw %lld folios", from, to, offloaded ? folios : 0);
	tap_ok(seen.engine_failed == (unsigned long long)failures,
	       "%d->%d: the engine failed %lld folios", from, to, failures);
	tap_ok(seen.offload == (offloaded ? folios - failures : 0),
	       "%d->%d: migrate_copy_offload rose by %lld", from, to,
	       offloaded ? folios - failures : 0);
	tap_ok(seen.fallback == failures && seen.fallback == (long long)seen.engine_failed,
	       "%d->%d: migrate_copy_fallback rose by the engine's failures (%lld)",
	       from, to, failures);
	tap_ok(seen.cpu == 0, "%d->%d: migrate_copy_cpu did not rise", from, to);
}

int main(int argc, char **argv)
{
	struct knob_saved saved = { 0 };
	struct mig_placement placement;
	struct mig_region region;
	struct options opts;
	uint64_t seed;
	long move_ret;
	int err;

	parse_options(argc, argv, &opts);
	tap_plan(4 + 2 * 9);
	tap_diag("scenario %s, kind %s, %ld MiB", scenario_names[opts.scenario],
		 mig_kind_name(opts.kind), opts.mib);

	if (!tap_ok(setup_knobs(&opts, &saved), "setup: test engine loaded, knobs set")) {
		knob_restore(&saved);
		return tap_done();
	}
	err = mig_region_create(&region, opts.kind, opts.mib * SIZE_MIB, 0);
	if (!tap_ok(!err, "setup: %ld MiB region of %s folios", opts.mib,
		    mig_kind_name(opts.kind))) {
		tap_diag("mig_region_create: %s", strerror(-err));
		knob_restore(&saved);
		return tap_done();
	}
	tap_ok(mig_region_place(&region, 0, &placement, &move_ret),
	       "setup: all pages start on node 0");
	seed = pattern_seed();
	pattern_fill(region.addr, region.size, seed);

	check_direction(&opts, &region, seed, 0, 1);
	check_direction(&opts, &region, seed, 1, 0);

	mig_region_destroy(&region);
	err = knob_restore(&saved);
	if (err)
		tap_diag("restoring the knobs: %s", strerror(-err));
	else if ((err = module_unload(ENGINE_MODULE)) != 0)
		tap_diag("rmmod %s exited with %d", ENGINE_MODULE, err);
	tap_ok(!err, "teardown: knobs restored, test engine unloaded");
	return tap_done();
}
