// SPDX-License-Identifier: GPL-2.0
/*
 * dma-engine: the DSA copy engine (drivers/dma/idxd/migrate_copy.c) end to
 * end, on the memcpy test provider (drivers/dma/memcpy_test_dma.c) that
 * behaves like idxd's dmaengine channels and injects faults.
 *
 *   dma-engine --scenario NAME [--kind 4k|thp] [--mib N | --pages N]
 *              [--max-batch N]
 *
 * --max-batch N loads the provider with max_batch=N: its vectored memcpy
 * takes up to N copies (default 32, like idxd's default WQ batch size),
 * 0 offers none, and the engine submits one descriptor per copy.
 *
 * Scenarios, each moving a region node 0 -> 1 -> 0 with move_pages(2) and
 * checking every byte after each move:
 *
 *   offload     every folio copied by DMA; counters exact; with a vectored
 *               memcpy, the copies went max_batch to a descriptor (at most
 *               one short descriptor per channel and batch), else one each
 *   error       every 4th copy fails: those folios fall back to the CPU,
 *               and the fallback counter equals the engine's failures and,
 *               for 4K folios, the copies the provider was told to fail (a
 *               vectored memcpy fails copy by copy, not as a whole)
 *   prep-null   every 5th prep returns NULL: same
 *   delay       the provider is slow: everything still offloaded
 *   reorder     completions arrive out of order: everything offloaded
 *   timeout     every 513th descriptor never completes: those folios time
 *               out and are retried; their destinations stay quarantined
 *               until the engine is disabled, then all are released (about
 *               8 per move of 4096 folios: even on one channel fewer than
 *               the 16 that make the engine drop a provider's channel as
 *               losing completions, which would release them early)
 *   late        every descriptor completes after the timeout: quarantined
 *               pages are released by the late completions themselves
 *   wq-disabled the provider starts refusing every prep (a disabled work
 *               queue): the engine drops its channels, the CPU takes over
 *   unload      the provider and the engine are unloaded while a child
 *               keeps migrating and verifying: no crash, data right
 *   auto-slow   the provider is slower than the CPU and engine=auto: the
 *               CPU copies at least 85% of the folios
 *   split       the provider takes at most 64 KiB per descriptor: every
 *               folio is split into that many descriptors, all offloaded
 *
 * Every knob is put back and both modules unloaded at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define DSA		"/sys/kernel/mm/migrate_copy/dsa/"
#define PROVIDER	"/sys/kernel/debug/memcpy_test_dma/"
#define PROVIDER_MODULE	"memcpy_test_dma"
#define ENGINE_MODULE	"idxd_migrate_copy"
#define RETRIES		8
#define SPLIT_XFER	65536

enum scenario {
	SC_OFFLOAD, SC_ERROR, SC_PREP_NULL, SC_DELAY, SC_REORDER, SC_TIMEOUT,
	SC_LATE, SC_WQ_DISABLED, SC_UNLOAD, SC_AUTO_SLOW, SC_SPLIT, SC_COUNT
};

static const char *const scenario_names[SC_COUNT] = {
	"offload", "error", "prep-null", "delay", "reorder", "timeout", "late",
	"wq-disabled", "unload", "auto-slow", "split",
};

struct options {
	enum scenario scenario;
	enum mig_kind kind;
	long mib;
	long pages;	/* 4K pages instead of --mib, when set */
	long max_batch;	/* the provider's max_batch, -1 for its default */
	bool count_descriptors;	/* check the descriptors per copy (offload) */
};

/* Counter deltas over one move. */
struct deltas {
	long long away;		/* pages not on the target node before */
	long long pgmigrate, offload, fallback, cpu;
	unsigned long long dsa_offloaded, dsa_failed, dsa_timed_out;
	unsigned long long provider_descriptors;
	unsigned long long provider_errors;
	unsigned long long engine_batches, engine_descriptors, engine_copies;
};

static struct knob_saved saved;

static void usage(const char *program)
{
	fprintf(stderr, "usage: %s --scenario NAME [--kind 4k|thp] [--mib N | --pages N]"
		" [--max-batch N]\n", program);
	print_names("scenarios", scenario_names, SC_COUNT);
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option long_options[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ "pages", required_argument, NULL, 'p' },
		{ "max-batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_scenario = false;
	int scenario, opt;

	opts->kind = MIG_KIND_4K;
	opts->mib = 16;
	opts->pages = 0;
	opts->max_batch = -1;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			scenario = parse_name(optarg, scenario_names, SC_COUNT);
			if (scenario < 0)
				usage(argv[0]);
			opts->scenario = scenario;
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
		case 'p':
			if (parse_long(optarg, 1, 262144, &opts->pages))
				usage(argv[0]);
			break;
		case 'b':
			if (parse_long(optarg, 0, 512, &opts->max_batch))
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!have_scenario || optind != argc || (opts->pages && opts->kind != MIG_KIND_4K))
		usage(argv[0]);
	opts->count_descriptors = opts->scenario == SC_OFFLOAD;
}

static unsigned long long read_counter(const char *path)
{
	unsigned long long value = 0;

	if (knob_read_u64(path, &value))
		tap_diag("cannot read %s", path);
	return value;
}

/* Provider fault knobs of each scenario: name, value. */
static const char *scenario_fault(enum scenario scenario, const char **value)
{
	switch (scenario) {
	case SC_ERROR:
		*value = "4";
		return "error_every";
	case SC_PREP_NULL:
		*value = "5";
		return "prep_null_every";
	case SC_DELAY:
		*value = "200";
		return "delay_us";
	case SC_REORDER:
		*value = "1";
		return "reorder";
	case SC_TIMEOUT:
		/*
		 * Odd, so the held descriptors alternate between the channels,
		 * and rare enough that no channel reaches
		 * DSA_COPY_QUARANTINE_BROKEN (16) held ones: with every 257th,
		 * 16 of a 4096-folio move could land on one channel, which the
		 * engine then dropped, releasing them before the check.
		 */
		*value = "513";
		return "never_complete_every";
	case SC_LATE:
		*value = "20000";
		return "delay_us";
	case SC_AUTO_SLOW:
		*value = "3000";
		return "delay_us";
	default:
		return NULL;
	}
}

static bool setup(const struct options *opts)
{
	const char *engine = opts->scenario == SC_AUTO_SLOW ? "auto" : "dsa";
	const char *timeout = opts->scenario == SC_LATE ? "5" :
			      opts->scenario == SC_TIMEOUT ? "100" : "2000";
	const char *fault, *value = NULL;
	char params[96] = "";
	int status, err = 0;

	if (opts->scenario == SC_SPLIT)
		strcat(params, "max_xfer=" __stringify(SPLIT_XFER));
	if (opts->max_batch >= 0)
		snprintf(params + strlen(params), sizeof(params) - strlen(params),
			 "%smax_batch=%ld", params[0] ? " " : "", opts->max_batch);
	status = params[0] ? module_load_with(PROVIDER_MODULE, params) :
			     module_load(PROVIDER_MODULE);
	if (!status)
		status = module_load(ENGINE_MODULE);
	if (status) {
		tap_diag("modprobe exited with %d", status);
		return false;
	}
	err = err ?: knob_write(PROVIDER "reset_counters", "1");
	err = err ?: knob_set(&saved, DSA "any_provider", "1");
	err = err ?: knob_set(&saved, DSA "timeout_ms", timeout);
	err = err ?: knob_set(&saved, DSA "enabled", "1");
	err = err ?: knob_set(&saved, CORE "engine", engine);
	err = err ?: knob_set(&saved, CORE "reasons", "all");
	err = err ?: knob_set(&saved, CORE "min_batch_bytes", "0");
	err = err ?: knob_set(&saved, CORE "enabled", "true");
	fault = scenario_fault(opts->scenario, &value);
	if (!err && fault) {
		char path[128];

		snprintf(path, sizeof(path), PROVIDER "%s", fault);
		err = knob_write(path, value);
	}
	if (err)
		tap_diag("setting the knobs failed: %s", strerror(-err));
	return !err;
}

static void snapshot(struct vmstat_set *set, unsigned long long *dsa)
{
	static const char *const names[] = { "pgmigrate_success", "migrate_copy_offload",
		"migrate_copy_fallback", "migrate_copy_cpu" };
	unsigned int i;

	for (i = 0; i < 4; i++)
		vmstat_set_add(set, names[i]);
	vmstat_set_snapshot(set);
	dsa[0] = read_counter(DSA "offloaded");
	dsa[1] = read_counter(DSA "failed");
	dsa[2] = read_counter(DSA "timed_out");
	dsa[3] = read_counter(PROVIDER "descriptors");
	dsa[4] = read_counter(PROVIDER "injected_errors");
	dsa[5] = read_counter(DSA "batches");
	dsa[6] = read_counter(DSA "descriptors");
	dsa[7] = read_counter(DSA "copies");
}

static long long delta_of(const struct vmstat_set *a, const struct vmstat_set *b,
			  const char *name)
{
	long long delta = -1;

	vmstat_set_delta(a, b, name, &delta);
	return delta;
}

/* Move everything to @node, retrying (up to @max_tries moves) what is left. */
static bool move_all(struct mig_region *region, int node, struct deltas *d, int *tries,
		     int max_tries)
{
	struct vmstat_set before = { 0 }, after = { 0 };
	unsigned long long dsa0[8], dsa1[8];
	struct mig_placement placement;
	struct mig_move_result result;

	mig_region_query(region, node, &placement);
	d->away = region->nr_pages - placement.status.matching;
	snapshot(&before, dsa0);
	for (*tries = 1; ; (*tries)++) {
		mig_region_move(region, node, &result);
		mig_region_query(region, node, &placement);
		if (placement.status.matching == region->nr_pages || *tries == max_tries)
			break;
	}
	snapshot(&after, dsa1);
	d->pgmigrate = delta_of(&before, &after, "pgmigrate_success");
	d->offload = delta_of(&before, &after, "migrate_copy_offload");
	d->fallback = delta_of(&before, &after, "migrate_copy_fallback");
	d->cpu = delta_of(&before, &after, "migrate_copy_cpu");
	d->dsa_offloaded = dsa1[0] - dsa0[0];
	d->dsa_failed = dsa1[1] - dsa0[1];
	d->dsa_timed_out = dsa1[2] - dsa0[2];
	d->provider_descriptors = dsa1[3] - dsa0[3];
	d->provider_errors = dsa1[4] - dsa0[4];
	d->engine_batches = dsa1[5] - dsa0[5];
	d->engine_descriptors = dsa1[6] - dsa0[6];
	d->engine_copies = dsa1[7] - dsa0[7];
	tap_diag("engine: %llu batches, %llu descriptors of %llu copies; provider: %llu copies,"
		 " %llu fated to fail", d->engine_batches, d->engine_descriptors, d->engine_copies,
		 d->provider_descriptors, d->provider_errors);
	tap_diag("to node %d in %d move(s): pgmigrate +%lld offload +%lld fallback +%lld"
		 " cpu +%lld; dsa offloaded +%llu failed +%llu timed_out +%llu", node, *tries,
		 d->pgmigrate, d->offload, d->fallback, d->cpu, d->dsa_offloaded,
		 d->dsa_failed, d->dsa_timed_out);
	return placement.status.matching == region->nr_pages;
}

/* The checks every scenario makes for one direction. */
static void check_common(struct mig_region *region, uint64_t seed, const struct deltas *d,
			 bool all_moved, int from, int to)
{
	struct pattern_mismatch mismatch;

	tap_ok(all_moved, "%d->%d: every page reached node %d", from, to, to);
	tap_ok(pattern_verify(region->addr, region->size, seed, &mismatch),
	       "%d->%d: data verified byte for byte", from, to);
	tap_ok(d->pgmigrate == d->away,
	       "%d->%d: pgmigrate_success rose by the %lld pages away from node %d",
	       from, to, d->away, to);
	tap_ok(d->fallback == (long long)d->dsa_failed,
	       "%d->%d: migrate_copy_fallback equals the engine's failures (%llu)",
	       from, to, d->dsa_failed);
	tap_ok(d->offload == (long long)d->dsa_offloaded,
	       "%d->%d: migrate_copy_offload equals the engine's offloaded folios (%llu)",
	       from, to, d->dsa_offloaded);
}

/*
 * Descriptors for the copies of an offload: max_batch copies each, plus at
 * most one shorter descriptor per channel and batch (a batch shares its
 * copies out between the channels); one each without a vectored memcpy.
 */
static void check_descriptors(const struct options *opts, const struct deltas *d, int from,
			      int to)
{
	unsigned long long batch = opts->max_batch < 0 ? 32 : opts->max_batch;
	unsigned long long channels = 0, least, most;
	char value[KNOB_VALUE_MAX] = "";

	if (!knob_read(DSA "nr_channels", value, sizeof(value)))
		channels = strtoull(value, NULL, 10);
	if (!batch)
		batch = 1;
	least = (d->engine_copies + batch - 1) / batch;
	most = least + channels * d->engine_batches;
	tap_ok(d->engine_copies == d->provider_descriptors && d->engine_descriptors >= least &&
	       d->engine_descriptors <= most,
	       "%d->%d: %llu copies in %llu descriptors (%llu to %llu for %llu per descriptor,"
	       " %llu channels, %llu batches)", from, to, d->engine_copies, d->engine_descriptors,
	       least, most, batch, channels, d->engine_batches);
}

/* What each scenario expects beyond the common checks. */
static void check_scenario(const struct options *opts, struct mig_region *region,
			   const struct deltas *d, int tries, int from, int to)
{
	long long folios = region->nr_folios;

	switch (opts->scenario) {
	case SC_OFFLOAD:
	case SC_DELAY:
	case SC_REORDER:
		tap_ok(d->offload == folios && d->fallback == 0 && tries == 1,
		       "%d->%d: all %lld folios offloaded in one move", from, to, folios);
		if (opts->count_descriptors)
			check_descriptors(opts, d, from, to);
		break;
	case SC_ERROR:
		tap_ok(d->fallback > 0 && d->offload + d->fallback == folios,
		       "%d->%d: failed folios fell back, the rest offloaded (%lld + %lld = %lld)",
		       from, to, d->offload, d->fallback, folios);
		tap_ok(d->provider_errors > 0 && (opts->kind != MIG_KIND_4K ||
		       d->fallback == (long long)d->provider_errors),
		       "%d->%d: the provider was told to fail %llu copies; %lld folios fell back",
		       from, to, d->provider_errors, d->fallback);
		break;
	case SC_PREP_NULL:
		tap_ok(d->fallback > 0 && d->offload + d->fallback == folios,
		       "%d->%d: failed folios fell back, the rest offloaded (%lld + %lld = %lld)",
		       from, to, d->offload, d->fallback, folios);
		break;
	case SC_TIMEOUT:
		tap_ok(d->dsa_timed_out > 0, "%d->%d: some copies timed out (%llu)", from, to,
		       d->dsa_timed_out);
		break;
	case SC_SPLIT:
		tap_ok(d->offload == folios && d->provider_descriptors ==
		       (unsigned long long)region->size / SPLIT_XFER,
		       "%d->%d: %lld folios offloaded in %llu descriptors of %d bytes", from, to,
		       folios, d->provider_descriptors, SPLIT_XFER);
		break;
	case SC_AUTO_SLOW:
		tap_ok(d->cpu * 100 >= folios * 85,
		       "%d->%d: auto left at least 85%% of %lld folios to the CPU (%lld)",
		       from, to, folios, d->cpu);
		break;
	default:
		tap_ok(true, "%d->%d: nothing more to check", from, to);
		break;
	}
}

static void run_direction(const struct options *opts, struct mig_region *region,
			  uint64_t seed, int from, int to)
{
	struct deltas d;
	bool all_moved;
	int tries;

	all_moved = move_all(region, to, &d, &tries, RETRIES);
	check_common(region, seed, &d, all_moved, from, to);
	check_scenario(opts, region, &d, tries, from, to);
}

/* A child that migrates back and forth, verifying, until killed. */
static pid_t start_migrating_child(struct mig_region *region, uint64_t seed)
{
	struct pattern_mismatch mismatch;
	struct mig_move_result result;
	pid_t pid = fork();
	int node = 1;

	if (pid)
		return pid;
	/*
	 * Write the pattern again: private copies of the pages, which
	 * move_pages() moves (it skips pages still shared with the parent).
	 */
	pattern_fill(region->addr, region->size, seed);
	for (;;) {
		mig_region_move(region, node, &result);
		if (!pattern_verify(region->addr, region->size, seed, &mismatch))
			_exit(3);
		node = !node;
	}
}

static void scenario_unload(struct mig_region *region, uint64_t seed)
{
	struct pattern_mismatch mismatch;
	long long migrated = vmstat_read("pgmigrate_success");
	pid_t child = start_migrating_child(region, seed);
	int status = 0, rmmod_held;

	sleep(1);
	rmmod_held = module_unload(PROVIDER_MODULE);
	tap_ok(rmmod_held != 0, "unloading the provider while the engine holds channels fails"
	       " cleanly (rmmod exited %d)", rmmod_held);
	tap_ok(!knob_write(DSA "enabled", "0"), "disabling the engine mid-loop");
	tap_ok(module_unload(PROVIDER_MODULE) == 0, "then the provider unloads mid-loop");
	tap_ok(module_unload(ENGINE_MODULE) == 0, "and the engine module unloads mid-loop");
	sleep(1);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	tap_ok(WIFSIGNALED(status), "the migrating child verified every round until stopped"
	       " (status %#x)", status);
	migrated = vmstat_read("pgmigrate_success") - migrated;
	tap_ok(migrated > 0, "the child's pages migrated meanwhile (%lld)", migrated);
	tap_ok(pattern_verify(region->addr, region->size, seed, &mismatch),
	       "data verified byte for byte after the loop");
	/* The engine's knobs went with its module; the core's are put back. */
	knob_forget(&saved, DSA);
}

static void scenario_wq_disabled(struct mig_region *region, uint64_t seed)
{
	char channels[KNOB_VALUE_MAX] = "";

	run_direction(&(struct options){ .scenario = SC_OFFLOAD }, region, seed, 0, 1);
	tap_ok(!knob_write(PROVIDER "disabled", "1"), "the provider's queues are disabled");
	run_direction(&(struct options){ .scenario = SC_COUNT }, region, seed, 1, 0);
	sleep(1);
	tap_ok(!knob_read(DSA "nr_channels", channels, sizeof(channels)) &&
	       !strcmp(channels, "0"), "the engine gave every channel back (holds: %s)", channels);
	knob_write(PROVIDER "disabled", "0");
}

static void wait_for_release(void)
{
	unsigned long long pages = 1;
	int i;

	for (i = 0; i < 300 && pages; i++) {
		usleep(100 * 1000);
		pages = read_counter(DSA "quarantined_pages");
	}
	tap_ok(pages == 0, "late completions released every quarantined page (%llu left)",
	       pages);
	tap_ok(read_counter(DSA "released") == read_counter(DSA "quarantined"),
	       "released (%llu) equals quarantined (%llu)", read_counter(DSA "released"),
	       read_counter(DSA "quarantined"));
}

static void scenario_timeouts(const struct options *opts, struct mig_region *region,
			      uint64_t seed)
{
	struct pattern_mismatch mismatch;
	unsigned long long held;
	long long isolated;
	struct deltas d;
	int tries;

	if (opts->scenario == SC_LATE) {
		/* Every copy completes late: one attempt, then the releases. */
		move_all(region, 1, &d, &tries, 1);
		tap_ok(d.dsa_timed_out > 0, "0->1: copies timed out (%llu)", d.dsa_timed_out);
		tap_ok(pattern_verify(region->addr, region->size, seed, &mismatch),
		       "0->1: data intact after the timed-out copies");
		wait_for_release();
		knob_write(PROVIDER "delay_us", "0");
		run_direction(&(struct options){ .scenario = SC_COUNT }, region, seed, 0, 1);
	} else {
		/*
		 * A folio whose copy never completes keeps its source held
		 * by the quarantine: it stays on node 0 until the release.
		 */
		move_all(region, 1, &d, &tries, RETRIES);
		tap_ok(pattern_verify(region->addr, region->size, seed, &mismatch),
		       "0->1: data verified byte for byte");
		check_scenario(opts, region, &d, tries, 0, 1);
		held = read_counter(DSA "quarantined_pages");
		tap_ok(held > 0, "destinations of timed-out copies are quarantined (%llu pages)",
		       held);
		tap_ok(!knob_write(DSA "enabled", "0"), "disabling the engine terminates them");
		tap_ok(read_counter(DSA "quarantined_pages") == 0 &&
		       read_counter(DSA "released") == read_counter(DSA "quarantined"),
		       "every quarantined destination was released (%llu)",
		       read_counter(DSA "released"));
		knob_write(PROVIDER "never_complete_every", "0");
		knob_write(DSA "enabled", "1");
		run_direction(&(struct options){ .scenario = SC_COUNT }, region, seed, 0, 1);
	}
	run_direction(&(struct options){ .scenario = SC_COUNT }, region, seed, 1, 0);
	/* Fold the per-CPU deltas first: /proc/vmstat alone lags them. */
	knob_write("/proc/sys/vm/stat_refresh", "1");
	isolated = vmstat_read("nr_isolated_anon");
	tap_ok(isolated == 0, "no folio is left isolated (nr_isolated_anon %lld)", isolated);
}

static int plan_for(enum scenario scenario)
{
	switch (scenario) {
	case SC_UNLOAD:
		return 3 + 7;
	case SC_WQ_DISABLED:
		return 3 + 2 * 6 + 2;
	case SC_TIMEOUT:
		return 3 + 2 + 3 + 2 * 6 + 1;
	case SC_LATE:
		return 3 + 2 + 2 + 2 * 6 + 1;
	case SC_OFFLOAD:
	case SC_ERROR:
		return 3 + 2 * 7;
	default:
		return 3 + 2 * 6;
	}
}

int main(int argc, char **argv)
{
	struct mig_placement placement;
	struct mig_region region;
	struct options opts;
	uint64_t seed;
	long move_ret;
	size_t size;
	int err;

	parse_options(argc, argv, &opts);
	tap_plan(plan_for(opts.scenario) + 1);
	tap_diag("scenario %s, kind %s, %ld MiB", scenario_names[opts.scenario],
		 mig_kind_name(opts.kind), opts.mib);
	if (!tap_ok(setup(&opts), "setup: provider and engine loaded, knobs set"))
		goto restore;
	size = opts.pages ? opts.pages * SIZE_4K : opts.mib * SIZE_MIB;
	err = mig_region_create(&region, opts.kind, size, 0);
	if (!tap_ok(!err, "setup: %zu KiB of %s folios", size >> 10, mig_kind_name(opts.kind)))
		goto restore;
	tap_ok(mig_region_place(&region, 0, &placement, &move_ret), "setup: all on node 0");
	seed = pattern_seed();
	pattern_fill(region.addr, region.size, seed);

	switch (opts.scenario) {
	case SC_UNLOAD:
		scenario_unload(&region, seed);
		break;
	case SC_WQ_DISABLED:
		scenario_wq_disabled(&region, seed);
		break;
	case SC_TIMEOUT:
	case SC_LATE:
		scenario_timeouts(&opts, &region, seed);
		break;
	default:
		run_direction(&opts, &region, seed, 0, 1);
		run_direction(&opts, &region, seed, 1, 0);
		break;
	}
	mig_region_destroy(&region);
restore:
	err = knob_restore(&saved);
	if (!err && opts.scenario != SC_UNLOAD)
		err = module_unload(ENGINE_MODULE) ?: module_unload(PROVIDER_MODULE);
	tap_ok(!err, "teardown: knobs restored, modules unloaded");
	return tap_done();
}
