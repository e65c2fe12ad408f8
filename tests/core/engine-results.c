// SPDX-License-Identifier: GPL-2.0
/*
 * engine-results: what migration does with an engine's poison and timeout
 * results, through the test copy engine (mm/migrate_copy_test_engine.c).
 *
 *   engine-results --scenario poison|timeout [--kind 4k|thp] [--mib N]
 *
 * poison   the engine reports every other folio -EHWPOISON (a source it
 *          could not read).  Such a folio fails to migrate and is never
 *          copied a second time: exactly those folios stay on node 0,
 *          move_pages() returns their number, pgmigrate_fail rises by their
 *          pages and migrate_copy_fallback does not rise.
 * timeout  the engine times out on the first quarter of the folios it sees
 *          and keeps their destinations referenced for a while, as a DMA
 *          still in flight would.  Each such folio is retried within the
 *          same move_pages() call with a new destination: every page
 *          reaches node 1 and move_pages() returns 0.
 *
 * Both: every byte of the region is checked after the move.
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
#define EHWPOISON_VALUE	"133"
#define ETIMEDOUT_VALUE	"110"

enum scenario { SCENARIO_POISON, SCENARIO_TIMEOUT };

static const char *const scenario_names[] = {
	[SCENARIO_POISON] = "poison",
	[SCENARIO_TIMEOUT] = "timeout",
};

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s --scenario poison|timeout [--kind 4k|thp] [--mib N]\n",
		prog);
	exit(2);
}

static bool setup_engine(enum scenario scenario, long nr_folios, struct knob_saved *saved)
{
	char fail_max[32];
	int err = 0, status;

	status = module_load(ENGINE_MODULE);
	if (status) {
		tap_diag("modprobe %s exited with %d", ENGINE_MODULE, status);
		return false;
	}
	snprintf(fail_max, sizeof(fail_max), "%ld",
		 scenario == SCENARIO_POISON ? 0 : (nr_folios + 3) / 4);
	err = err ?: knob_set(saved, KNOBS "engine", "test");
	err = err ?: knob_set(saved, KNOBS "reasons", "all");
	err = err ?: knob_set(saved, KNOBS "min_batch_bytes", "0");
	err = err ?: knob_set(saved, KNOBS "enabled", "true");
	err = err ?: knob_write(ENGINE_DIR "fail_every", scenario == SCENARIO_POISON ? "2" : "1");
	err = err ?: knob_write(ENGINE_DIR "fail_max", fail_max);
	err = err ?: knob_write(ENGINE_DIR "fail_errno",
				scenario == SCENARIO_POISON ? EHWPOISON_VALUE : ETIMEDOUT_VALUE);
	err = err ?: knob_write(ENGINE_DIR "reset", "1");
	if (err)
		tap_diag("setting the knobs failed: %s", strerror(-err));
	return !err;
}

static void teardown_engine(struct knob_saved *saved)
{
	int err;

	knob_write(ENGINE_DIR "fail_every", "0");
	knob_write(ENGINE_DIR "fail_max", "0");
	knob_write(ENGINE_DIR "fail_errno", "5");
	err = knob_restore(saved);
	if (!err)
		err = module_unload(ENGINE_MODULE);
	tap_ok(!err, "teardown: knobs restored, test engine unloaded");
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	enum scenario scenario = SCENARIO_POISON;
	enum mig_kind kind = MIG_KIND_4K;
	unsigned long long failed = 0, timed_out = 0;
	long long fail_before, fail_after, fallback_before, fallback_after;
	struct knob_saved saved = { 0 };
	struct pattern_mismatch mismatch;
	struct mig_placement placement;
	struct mig_move_result result;
	struct mig_region region;
	long mib = 8, expected_failed;
	bool have_scenario = false;
	uint64_t seed;
	int opt, index;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			index = parse_name(optarg, scenario_names, 2);
			if (index < 0)
				usage(argv[0]);
			scenario = index;
			have_scenario = true;
			break;
		case 'k':
			if (mig_kind_parse(optarg, &kind))
				usage(argv[0]);
			break;
		case 'm':
			if (parse_region_mib(optarg, &mib))
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!have_scenario)
		usage(argv[0]);

	tap_plan(7);
	if (!tap_ok(!mig_region_create(&region, kind, mib * SIZE_MIB, 0) &&
		    mig_region_place(&region, 0, &placement, &result.ret),
		    "%ld MiB of %s folios on node 0", mib, mig_kind_name(kind)))
		return tap_done();
	seed = pattern_seed();
	pattern_fill(region.addr, region.size, seed);
	if (!tap_ok(setup_engine(scenario, region.nr_folios, &saved),
		    "test engine: %s results", scenario_names[scenario])) {
		knob_restore(&saved);
		return tap_done();
	}

	fail_before = vmstat_read("pgmigrate_fail");
	fallback_before = vmstat_read("migrate_copy_fallback");
	mig_region_move(&region, 1, &result);
	fail_after = vmstat_read("pgmigrate_fail");
	fallback_after = vmstat_read("migrate_copy_fallback");
	knob_read_u64(ENGINE_DIR "failed", &failed);
	knob_read_u64(ENGINE_DIR "timed_out", &timed_out);
	mig_region_query(&region, 1, &placement);
	tap_diag("move_pages %ld; engine failed %llu, timed out %llu; pgmigrate_fail +%lld,"
		 " migrate_copy_fallback +%lld; %zu of %zu pages on node 1", result.ret,
		 failed, timed_out, fail_after - fail_before, fallback_after - fallback_before,
		 placement.status.matching, region.nr_pages);

	if (scenario == SCENARIO_POISON) {
		expected_failed = region.nr_folios / 2;
		tap_ok(failed == (unsigned long long)expected_failed && result.ret == expected_failed,
		       "%ld folios poisoned, move_pages() returned %ld", expected_failed,
		       result.ret);
		tap_ok(placement.status.matching ==
		       region.nr_pages - expected_failed * (region.folio_size / 4096),
		       "the poisoned folios stayed on node 0, the others moved");
		tap_ok(fail_after - fail_before ==
		       (long long)(expected_failed * (region.folio_size / 4096)) &&
		       fallback_after == fallback_before,
		       "pgmigrate_fail rose by their pages, no fallback copy");
	} else {
		expected_failed = (region.nr_folios + 3) / 4;
		tap_ok(timed_out == (unsigned long long)expected_failed,
		       "the engine timed out on %ld folios", expected_failed);
		tap_ok(result.ret == 0 && placement.status.matching == region.nr_pages,
		       "every page reached node 1 in the same move_pages() call");
		tap_ok(fallback_after == fallback_before,
		       "no fallback copy into a destination the engine still holds");
	}
	tap_ok(pattern_verify(region.addr, region.size, seed, &mismatch),
	       "every byte as written");
	mig_region_destroy(&region);
	teardown_engine(&saved);
	return tap_done();
}
