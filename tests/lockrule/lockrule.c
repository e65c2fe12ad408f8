// SPDX-License-Identifier: GPL-2.0
/*
 * lockrule: the first-lock rule of synchronous migration batches, on the
 * deadlock rebuilds of CONFIG_MIGRATE_LOCKRULE_TEST and on lockdep's books.
 *
 *   lockrule --scenario NAME [--naive] [--release-hold-ms MS]
 *
 *   writeback        seed 000: the batch holds folio A and meets folio B under
 *                    writeback that ends only once a kthread has locked A
 *   buffer           seed 001: a kthread holds B's buffer lock and wants A
 *   no-reclaim       seed 004: migrate through the CPU, the test copy engine
 *                    and the DSA engine on the software DMA provider, then
 *                    check /proc/lockdep_chains: no direct-
 *                    reclaim allocation (fs_reclaim) while a batch's folios
 *                    were copied (migrate_batch_copy held)
 *   reclaim-control  the same check must catch the test engine's deliberate
 *                    GFP_KERNEL allocation (reclaim_alloc); lockdep keeps the
 *                    chain until reboot, so this runs after no-reclaim
 *   alloc-under-locks  seed 004 for destinations: move 4K pages and THPs,
 *                    then check that no chain reaches fs_reclaim while a
 *                    batch held a folio lock (migrate_batch_locks held);
 *                    before reclaim-control, whose deliberate allocation
 *                    under the copy would count here too
 *
 * writeback and buffer migrate two page-cache folios of /dev/ram0 to the
 * other node and must complete without the watchdog (hang=0), move both, sleep
 * on nothing with a folio lock held (violations=0) and leave every byte of
 * the device's first 64 KiB as written.  With --naive the batch sleeps after
 * its first lock: the run must hang until the watchdog breaks it (hang=1),
 * and the debug check must have counted the sleep: the negative control.
 * --release-hold-ms has the kthread keep a reference on B for MS after it
 * released B, as folio_end_writeback() keeps one for a moment (stretched when
 * the host preempts that vCPU): the rebuild must not let its own kthread's
 * reference fail B's bounded attempts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define LOCKRULE	"/sys/kernel/debug/migrate_lockrule/"
#define TEST_ENGINE	"/sys/kernel/debug/migrate_copy_test/"
#define CORE		"/sys/kernel/mm/migrate_copy/"
#define DSA		"/sys/kernel/mm/migrate_copy/dsa/"
#define DEVICE		"/dev/ram0"
#define DEVICE_BYTES	(64 * 1024)
#define HANG_MS		"3000"
#define REGION_MIB	4
#define CHAINS_MAX	(64 << 20)

enum scenario {
	SC_WRITEBACK, SC_BUFFER, SC_NO_RECLAIM, SC_RECLAIM_CONTROL, SC_ALLOC_UNDER_LOCKS,
	SC_COUNT
};

static const char *const scenario_names[SC_COUNT] = {
	"writeback", "buffer", "no-reclaim", "reclaim-control", "alloc-under-locks",
};

/* What migrate_lockrule/result says about the last run. */
struct lockrule_result {
	long hang, late, rc, succeeded, target, a_nid, b_nid, violations, ms;
};

static struct knob_saved saved;

static void usage(const char *program)
{
	fprintf(stderr, "usage: %s --scenario NAME [--naive] [--release-hold-ms 0..1000]\n",
		program);
	print_names("scenarios", scenario_names, SC_COUNT);
	exit(2);
}

static void parse_options(int argc, char **argv, enum scenario *scenario, bool *naive,
			  const char **release_hold_ms)
{
	static const struct option long_options[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "naive", no_argument, NULL, 'n' },
		{ "release-hold-ms", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_scenario = false, holds;
	int index, opt;
	long value;
	char *end;

	*naive = false;
	*release_hold_ms = "0";
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			index = parse_name(optarg, scenario_names, SC_COUNT);
			if (index < 0)
				usage(argv[0]);
			*scenario = index;
			have_scenario = true;
			break;
		case 'n':
			*naive = true;
			break;
		case 'r':
			value = strtol(optarg, &end, 10);
			if (end == optarg || *end || value < 0 || value > 1000) {
				fprintf(stderr, "--release-hold-ms: '%s' is not 0..1000\n", optarg);
				usage(argv[0]);
			}
			*release_hold_ms = optarg;
			break;
		default:
			usage(argv[0]);
		}
	}
	holds = strcmp(*release_hold_ms, "0");
	/* The naive rebuild's watchdog releases B: the kthread's hold is moot. */
	if (!have_scenario || optind != argc || (*naive && holds) ||
	    ((*naive || holds) && *scenario > SC_BUFFER))
		usage(argv[0]);
}

/* Write a fresh pattern to the device's first bytes, through its page cache. */
static bool device_fill(uint64_t seed)
{
	static char buf[DEVICE_BYTES];
	int fd = open(DEVICE, O_RDWR);
	bool ok;

	if (fd < 0) {
		tap_diag("open %s: %s", DEVICE, strerror(errno));
		return false;
	}
	pattern_fill(buf, sizeof(buf), seed);
	ok = pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) && fsync(fd) == 0;
	if (!ok)
		tap_diag("writing %s: %s", DEVICE, strerror(errno));
	close(fd);
	return ok;
}

/* Read the device's first bytes back through the page cache and compare. */
static bool device_verify(uint64_t seed)
{
	static char buf[DEVICE_BYTES];
	struct pattern_mismatch mismatch;
	int fd = open(DEVICE, O_RDONLY);
	bool ok;

	if (fd < 0) {
		tap_diag("open %s: %s", DEVICE, strerror(errno));
		return false;
	}
	ok = pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
	     pattern_verify(buf, sizeof(buf), seed, &mismatch);
	if (!ok)
		tap_diag("%s: %zu bytes wrong from offset %zu", DEVICE,
			 mismatch.bad_bytes, mismatch.first_offset);
	close(fd);
	return ok;
}

/* Pick "key=<long>" out of @text; false if missing or not a number. */
static bool result_field(const char *text, const char *key, long *value)
{
	char pattern[32];
	const char *at;
	char *end;

	snprintf(pattern, sizeof(pattern), " %s=", key);
	at = strstr(text, pattern);
	if (!at)
		return false;
	*value = strtol(at + strlen(pattern), &end, 10);
	return end != at + strlen(pattern);
}

static bool result_parse(const char *text, struct lockrule_result *result)
{
	return result_field(text, "hang", &result->hang) &&
	       result_field(text, "late", &result->late) &&
	       result_field(text, "rc", &result->rc) &&
	       result_field(text, "succeeded", &result->succeeded) &&
	       result_field(text, "target", &result->target) &&
	       result_field(text, "a_nid", &result->a_nid) &&
	       result_field(text, "b_nid", &result->b_nid) &&
	       result_field(text, "violations", &result->violations) &&
	       result_field(text, "ms", &result->ms);
}

static int run_rebuild(enum scenario scenario, bool naive, const char *release_hold_ms)
{
	uint64_t seed = pattern_seed();
	struct lockrule_result result;
	char text[KNOB_VALUE_MAX];
	int err;

	tap_plan(5);
	if (!tap_ok(device_fill(seed), "pattern written to %s", DEVICE))
		return tap_done();
	err = knob_write(LOCKRULE "device", DEVICE);
	if (!err)
		err = knob_set(&saved, LOCKRULE "hang_ms", HANG_MS);
	if (!err)
		err = knob_set(&saved, LOCKRULE "naive", naive ? "Y" : "N");
	if (!err)
		err = knob_set(&saved, LOCKRULE "release_hold_ms", release_hold_ms);
	if (!err)
		err = knob_write(LOCKRULE "run", scenario_names[scenario]);
	if (!err)
		err = knob_read(LOCKRULE "result", text, sizeof(text));
	knob_restore(&saved);
	if (!tap_ok(!err && result_parse(text, &result), "%s ran%s and reported",
		    scenario_names[scenario], naive ? " with the naive rule" : ""))
		tap_diag("error %d, result: %s", err, err ? "" : text);
	else
		tap_diag("%s", text);
	if (err)
		return tap_done();

	tap_metric("ms", "%ld", result.ms);
	if (naive) {
		tap_ok(result.hang == 1, "the naive batch deadlocked until the watchdog broke it");
		tap_ok(result.violations > 0, "the debug check counted the sleep (%ld)",
		       result.violations);
	} else {
		tap_ok(result.hang == 0 && result.late == 0,
		       "completed without the watchdog, the kthread in time (late=%ld)",
		       result.late);
		tap_ok(result.violations == 0, "no sleep with a folio lock held (%ld)",
		       result.violations);
	}
	/*
	 * B is released either way, by the kthread or the watchdog.  After the
	 * naive rebuild's deadlock is broken, the kthread may still hold a
	 * reference while it waits for a folio lock, so either folio may fail
	 * its bounded attempts there, as it would in any kernel: the naive
	 * control requires only the data; the rule itself must move both.
	 */
	if (naive)
		tap_ok(device_verify(seed),
		       "every byte as written (A on node %ld, B on node %ld; target %ld)",
		       result.a_nid, result.b_nid, result.target);
	else
		tap_ok(result.a_nid == result.target && result.b_nid == result.target &&
		       device_verify(seed),
		       "A and B moved to node %ld (now %ld and %ld), every byte as written",
		       result.target, result.a_nid, result.b_nid);
	return tap_done();
}

/*
 * Scan /proc/lockdep_chains: count the chains that hold the lockdep map
 * @held (migrate_batch_copy: a batch's folios are being copied;
 * migrate_batch_locks: a batch holds a folio lock), and those where
 * fs_reclaim comes after it (a direct-reclaim allocation meanwhile).
 */
static int chains_scan(const char *held, long *held_chains, long *reclaim_chains)
{
	static char text[CHAINS_MAX];
	static bool shown;
	long len = read_text_file("/proc/lockdep_chains", text, sizeof(text));
	char *chain, *next;

	if (len < 0)
		return len;
	if (len >= (long)sizeof(text) - 1)
		return -EFBIG;
	*held_chains = 0;
	*reclaim_chains = 0;
	for (chain = text; chain && *chain; chain = next) {
		char *copy;

		next = strstr(chain, "\n\n");
		if (next) {
			*next = '\0';
			next += 2;
		}
		copy = strstr(chain, held);
		if (!copy)
			continue;
		(*held_chains)++;
		if (!strstr(copy, "fs_reclaim"))
			continue;
		(*reclaim_chains)++;
		if (!shown) {
			/* The first such chain, for the report: which locks, in order. */
			tap_diag("a chain reaching fs_reclaim under %s:\n%s", held, chain);
			shown = true;
		}
	}
	return 0;
}

/* Migrate a region of @kind back and forth through @engine, checking every byte. */
static bool migrate_kind_through(enum mig_kind kind, const char *engine)
{
	struct pattern_mismatch mismatch;
	struct mig_placement placement;
	struct mig_region region;
	uint64_t seed = pattern_seed();
	bool ok = true;
	long move_ret;
	int node, err;

	err = knob_set(&saved, CORE "engine", engine);
	if (err) {
		tap_diag("engine %s: %s", engine, strerror(-err));
		return false;
	}
	err = mig_region_create(&region, kind, REGION_MIB << 20, 0);
	if (err) {
		tap_diag("mig_region_create: %s", strerror(-err));
		return false;
	}
	pattern_fill(region.addr, region.size, seed);
	for (node = 1; node >= 0 && ok; node--) {
		ok = mig_region_place(&region, node, &placement, &move_ret);
		if (!ok)
			tap_diag("%s: not every page reached node %d", engine, node);
		else if (!pattern_verify(region.addr, region.size, seed, &mismatch)) {
			tap_diag("%s: %zu bytes wrong from offset %zu", engine,
				 mismatch.bad_bytes, mismatch.first_offset);
			ok = false;
		}
	}
	mig_region_destroy(&region);
	return ok;
}

static bool migrate_through(const char *engine)
{
	return migrate_kind_through(MIG_KIND_4K, engine);
}

/* The DSA engine on the software provider's channels. */
static int dsa_engine_load(void)
{
	int err = module_load("memcpy_test_dma") ?: module_load("idxd_migrate_copy");

	err = err ?: knob_set(&saved, DSA "any_provider", "1");
	return err ?: knob_set(&saved, DSA "enabled", "1");
}

static int run_reclaim_check(bool control)
{
	long copy_chains = 0, reclaim_chains = 0;
	int err;

	tap_plan(3);
	err = module_load("migrate_copy_test_engine");
	if (!control)
		err = err ?: dsa_engine_load();
	if (!tap_ok(!err, "copy engines loaded"))
		return tap_done();
	err = knob_set(&saved, TEST_ENGINE "reclaim_alloc", control ? "Y" : "N");
	if (control)
		tap_ok(!err && migrate_through("test"),
		       "migrated through the test engine that allocates with GFP_KERNEL");
	else
		tap_ok(!err && migrate_through("cpu") && migrate_through("test") &&
		       migrate_through("dsa"),
		       "migrated through the CPU, the test engine and the DSA engine");
	knob_restore(&saved);
	module_unload("migrate_copy_test_engine");
	if (!control) {
		module_unload("idxd_migrate_copy");
		module_unload("memcpy_test_dma");
	}

	err = chains_scan("migrate_batch_copy", &copy_chains, &reclaim_chains);
	if (err) {
		tap_ok(false, "read /proc/lockdep_chains: %s", strerror(-err));
		return tap_done();
	}
	tap_metric("copy_chains", "%ld", copy_chains);
	tap_metric("reclaim_chains", "%ld", reclaim_chains);
	if (control)
		tap_ok(reclaim_chains > 0,
		       "lockdep recorded fs_reclaim under migrate_batch_copy (%ld of %ld chains)",
		       reclaim_chains, copy_chains);
	else
		tap_ok(copy_chains > 0 && reclaim_chains == 0,
		       "%ld chains hold migrate_batch_copy, %ld reach fs_reclaim",
		       copy_chains, reclaim_chains);
	return tap_done();
}

/*
 * Seed 004 for the destinations: a batch must allocate every folio's
 * destination before its first folio lock (patch 0007). Allocated in the
 * unmap loop instead, as vanilla's batches do, a reclaim-capable gfp
 * (GFP_HIGHUSER_MOVABLE, GFP_TRANSHUGE) makes lockdep record fs_reclaim
 * under migrate_batch_locks.
 */
static int run_alloc_under_locks(void)
{
	long lock_chains = 0, reclaim_chains = 0;
	int err;

	tap_plan(4);
	tap_ok(migrate_kind_through(MIG_KIND_4K, "cpu"),
	       "4K pages moved to node 1 and back, every byte right");
	err = chains_scan("migrate_batch_locks", &lock_chains, &reclaim_chains);
	tap_diag("after the 4K moves: %ld chains hold migrate_batch_locks, %ld reach fs_reclaim",
		 lock_chains, reclaim_chains);
	tap_ok(migrate_kind_through(MIG_KIND_THP, "cpu"),
	       "THPs moved to node 1 and back, every byte right");
	knob_restore(&saved);
	err = err ?: chains_scan("migrate_batch_locks", &lock_chains, &reclaim_chains);
	if (err) {
		tap_ok(false, "read /proc/lockdep_chains: %s", strerror(-err));
		return tap_done();
	}
	tap_metric("batch_lock_chains", "%ld", lock_chains);
	tap_metric("batch_lock_reclaim_chains", "%ld", reclaim_chains);
	tap_ok(lock_chains > 0, "lockdep saw batches holding folio locks (%ld chains)", lock_chains);
	tap_ok(reclaim_chains == 0,
	       "no reclaim-capable allocation while a batch held a folio lock (%ld of %ld chains"
	       " reach fs_reclaim)", reclaim_chains, lock_chains);
	return tap_done();
}

int main(int argc, char **argv)
{
	enum scenario scenario = SC_WRITEBACK;
	const char *release_hold_ms;
	bool naive;

	parse_options(argc, argv, &scenario, &naive, &release_hold_ms);
	switch (scenario) {
	case SC_WRITEBACK:
	case SC_BUFFER:
		return run_rebuild(scenario, naive, release_hold_ms);
	case SC_NO_RECLAIM:
		return run_reclaim_check(false);
	case SC_ALLOC_UNDER_LOCKS:
		return run_alloc_under_locks();
	default:
		return run_reclaim_check(true);
	}
}
