// SPDX-License-Identifier: GPL-2.0
/*
 * icount-move: what one move_pages() of anonymous memory costs, in guest
 * instructions per 4K page (compass P1, "cost when off"). Meant for a guest
 * under QEMU -icount shift=0,sleep=off (run.py --icount), where a guest
 * nanosecond is one instruction run by any vCPU: the time of the system
 * call is then the instructions the move took, the IPIs it sent and the
 * work they caused on other vCPUs included. Runs the same way on the
 * vanilla kernel, on ours with the feature compiled out, and on ours.
 *
 *   icount-move --kind 4k|thp [--mib N] [--rounds N] [--mode as-is|disabled|cpu]
 *
 *   --mode disabled  /sys/kernel/mm/migrate_copy/enabled = 0
 *   --mode cpu       enabled = 1, engine = cpu
 *   --mode as-is     no change (and the only mode of a kernel without the
 *                    feature, where the others measure the same as-is)
 *
 * One unmeasured round first, then --rounds rounds (default 9): each faults
 * --mib MiB on node 0 and moves it to node 1. Every page must arrive.
 * Metrics: insns_per_page_min, insns_per_page_median (instructions per 4K
 * page; nanoseconds per page when not under -icount), pages, rounds.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define MAX_ROUNDS	99

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* One move of a fresh region; its system-call time, or 0 if a page stayed. */
static uint64_t one_round(enum mig_kind kind, size_t bytes)
{
	struct mig_placement placement;
	struct mig_move_result result;
	struct mig_region region;
	uint64_t elapsed = 0;
	long move_ret;

	if (mig_region_create(&region, kind, bytes, 0)) {
		tap_diag("cannot map %zu bytes", bytes);
		return 0;
	}
	if (!mig_region_place(&region, 0, &placement, &move_ret)) {
		tap_diag("cannot place %zu bytes on node 0", bytes);
		mig_region_destroy(&region);
		return 0;
	}
	mig_region_move(&region, 1, &result);
	mig_region_query(&region, 1, &placement);
	if (result.ret == 0 && placement.status.matching == region.nr_pages)
		elapsed = result.elapsed_ns;
	else
		tap_diag("move_pages: %ld, %zu of %zu pages on node 1", result.ret,
			 placement.status.matching, region.nr_pages);
	mig_region_destroy(&region);
	return elapsed;
}

static bool set_mode(struct knob_saved *saved, const char *mode)
{
	bool feature = access(CORE "enabled", F_OK) == 0;

	if (!strcmp(mode, "as-is") || !feature) {
		tap_diag("mode %s on a kernel %s the feature", mode, feature ? "with" : "without");
		return true;
	}
	if (!strcmp(mode, "disabled"))
		return knob_set(saved, CORE "enabled", "0") == 0;
	return knob_set(saved, CORE "enabled", "1") == 0 &&
	       knob_set(saved, CORE "engine", "cpu") == 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t samples[MAX_ROUNDS];
	enum mig_kind kind = MIG_KIND_4K;
	const char *mode = "as-is";
	struct knob_saved saved = { 0 };
	long mib = 16, rounds = 9;
	unsigned int good = 0;
	size_t pages;
	int option;
	long i;

	while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if ((option == 'k' && mig_kind_parse(optarg, &kind)) ||
		    (option == 'm' && parse_region_mib(optarg, &mib)) ||
		    (option == 'r' && parse_long(optarg, 1, MAX_ROUNDS, &rounds)) ||
		    (option == 'o' && strcmp(optarg, "as-is") && strcmp(optarg, "disabled") &&
		     strcmp(optarg, "cpu")) || option == '?') {
			fprintf(stderr, "usage: %s --kind 4k|thp [--mib N] [--rounds 1..%d]"
				" [--mode as-is|disabled|cpu]\n", argv[0], MAX_ROUNDS);
			return 2;
		}
		if (option == 'o')
			mode = optarg;
	}
	pages = (size_t)mib * SIZE_MIB / SIZE_4K;
	tap_plan(2);
	tap_ok(set_mode(&saved, mode), "mode %s", mode);
	one_round(kind, pages * SIZE_4K);
	for (i = 0; i < rounds; i++) {
		samples[good] = one_round(kind, pages * SIZE_4K);
		tap_diag("round %ld: %llu ns (instructions under -icount), %.1f per page", i,
			 (unsigned long long)samples[good], (double)samples[good] / pages);
		good += samples[good] != 0;
	}
	if (tap_ok(good == rounds, "%u of %ld rounds moved every one of %zu %s pages", good,
		   rounds, pages, mig_kind_name(kind))) {
		qsort(samples, good, sizeof(samples[0]), compare_u64);
		tap_metric("insns_per_page_min", "%.1f", (double)samples[0] / pages);
		tap_metric("insns_per_page_median", "%.1f",
			   (good % 2 ? (double)samples[good / 2] :
			    (samples[good / 2 - 1] + samples[good / 2]) / 2.0) / pages);
		tap_metric("pages", "%zu", pages);
		tap_metric("rounds", "%u", good);
	}
	knob_restore(&saved);
	return tap_done();
}
