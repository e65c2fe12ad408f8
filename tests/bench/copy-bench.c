// SPDX-License-Identifier: GPL-2.0
/*
 * copy-bench: move_pages throughput of the batched copy with each engine
 * choice, in one run, so that ratios mean something even under emulation.
 *
 *   copy-bench [--kind 4k|thp] [--mib N] [--rounds N] [--delay-us N]
 *
 * Loads the memcpy test provider with --delay-us per descriptor (an engine
 * slower than the CPU by default) and the DSA copy engine on it, then runs
 * --rounds rounds; each round moves the region node 0 -> 1 -> 0 once with
 * engine=cpu, once with engine=auto and once with engine=dsa, in that
 * order, so drift affects every choice alike. Reports MiB/s per choice and
 * the ratios auto/cpu and dsa/cpu as metrics. The data is verified after
 * every move. The ratios are reported, not judged: speed targets belong
 * in benchmarks, not in tests.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define DSA		"/sys/kernel/mm/migrate_copy/dsa/"
#define PROVIDER	"/sys/kernel/debug/memcpy_test_dma/"

static const char *const choices[] = { "cpu", "auto", "dsa" };
#define NR_CHOICES	3

struct options {
	enum mig_kind kind;
	long mib, rounds, delay_us;
};

static void usage(const char *program)
{
	fprintf(stderr, "usage: %s [--kind 4k|thp] [--mib N] [--rounds N] [--delay-us N]\n",
		program);
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option long_options[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*opts = (struct options){ .kind = MIG_KIND_4K, .mib = 32, .rounds = 3, .delay_us = 2000 };
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt == 'k' && !mig_kind_parse(optarg, &opts->kind))
			continue;
		if (opt == 'm' && !parse_region_mib(optarg, &opts->mib))
			continue;
		if (opt == 'r' && !parse_long(optarg, 1, 100, &opts->rounds))
			continue;
		if (opt == 'd' && !parse_long(optarg, 0, 1000000, &opts->delay_us))
			continue;
		usage(argv[0]);
	}
	if (optind != argc)
		usage(argv[0]);
}

static bool setup(const struct options *opts, struct knob_saved *saved)
{
	char delay[32];
	int err = 0;

	if (module_load("memcpy_test_dma") || module_load("idxd_migrate_copy"))
		return false;
	snprintf(delay, sizeof(delay), "%ld", opts->delay_us);
	err = err ?: knob_write(PROVIDER "delay_us", delay);
	err = err ?: knob_set(saved, DSA "any_provider", "1");
	err = err ?: knob_set(saved, DSA "timeout_ms", "60000");
	err = err ?: knob_set(saved, DSA "enabled", "1");
	err = err ?: knob_set(saved, CORE "engine", "auto");
	err = err ?: knob_set(saved, CORE "reasons", "all");
	err = err ?: knob_set(saved, CORE "enabled", "true");
	return !err;
}

/* Move there and back with @choice; false on a move or data error. */
static bool timed_round_trip(struct mig_region *region, uint64_t seed, const char *choice,
			     uint64_t *ns)
{
	struct pattern_mismatch mismatch;
	struct mig_move_result result;
	int node;

	if (knob_write(CORE "engine", choice))
		return false;
	for (node = 1; node >= 0; node--) {
		mig_region_move(region, node, &result);
		if (result.ret || result.status.matching != region->nr_folios)
			return false;
		*ns += result.elapsed_ns;
		if (!pattern_verify(region->addr, region->size, seed, &mismatch))
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	uint64_t ns[NR_CHOICES] = { 0 }, seed;
	struct knob_saved saved = { 0 };
	struct mig_placement placement;
	struct mig_region region;
	double rate[NR_CHOICES];
	struct options opts;
	bool ok = true;
	long move_ret, round;
	int i, err;

	parse_options(argc, argv, &opts);
	tap_plan(4);
	tap_diag("%s, %ld MiB, %ld rounds, provider delay %ld us per descriptor",
		 mig_kind_name(opts.kind), opts.mib, opts.rounds, opts.delay_us);
	if (!tap_ok(setup(&opts, &saved), "setup: provider and DSA engine on it"))
		goto restore;
	err = mig_region_create(&region, opts.kind, opts.mib * SIZE_MIB, 0);
	if (!tap_ok(!err && mig_region_place(&region, 0, &placement, &move_ret),
		    "setup: region on node 0"))
		goto restore;
	seed = pattern_seed();
	pattern_fill(region.addr, region.size, seed);

	for (round = 0; round < opts.rounds && ok; round++)
		for (i = 0; i < NR_CHOICES && ok; i++)
			ok = timed_round_trip(&region, seed, choices[i], &ns[i]);
	tap_ok(ok, "every move succeeded and every byte verified");
	for (i = 0; i < NR_CHOICES; i++) {
		rate[i] = mib_per_second(2 * opts.rounds * region.size, ns[i]);
		tap_metric(choices[i], "%.1f", rate[i]);
		tap_diag("engine=%-4s %8.1f MiB/s", choices[i], rate[i]);
	}
	tap_metric("auto_vs_cpu", "%.3f", rate[0] ? rate[1] / rate[0] : 0);
	tap_metric("dsa_vs_cpu", "%.3f", rate[0] ? rate[2] / rate[0] : 0);
	tap_diag("auto/cpu = %.3f (target: at least 0.95), dsa/cpu = %.3f",
		 rate[0] ? rate[1] / rate[0] : 0, rate[0] ? rate[2] / rate[0] : 0);
	mig_region_destroy(&region);
restore:
	tap_ok(!knob_restore(&saved), "teardown: knobs restored");
	return tap_done();
}
