// SPDX-License-Identifier: GPL-2.0
/*
 * dsa-setup-guest: tools/dsa-setup in the guest, on the emulated DSA.
 *
 *   dsa-setup-guest --scenario no-dsa|apply|profile
 *
 *   no-dsa  with idxd unloaded, `dsa-setup check` says that idxd is not
 *           loaded and exits 2; idxd loads again afterwards
 *   apply   from a disabled device, `dsa-setup apply` configures and
 *           enables one dedicated kernel WQ for dmaengine and the engine;
 *           `check` then finds no problem (warnings allowed: the guest has a
 *           node without a device); after moving 8 MiB of 4K pages with
 *           engine=dsa, `status` shows offloaded folios. At the end dsa0's WQ
 *           is disabled (dsa0 stays enabled, as dsa-emu leaves it) and the
 *           other devices are disabled
 *   profile accel-config load-config of tools/dsa-setup/dsa-migrate.conf
 *           (/etc/dsa-migrate.conf in the guest) sets up the same WQ, which
 *           `dsa-setup check` then finds usable; dsa0's WQ is disabled again
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsa-dev.h"
#include "knobs.h"
#include "numa-util.h"
#include "tap.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define OUTPUT_MAX	8192

static struct knob_saved saved;

static void scenario_no_dsa(void)
{
	char out[OUTPUT_MAX];
	int rc;

	/* Loaded first, so that it is this test that unloads it. */
	module_load("idxd");
	knob_write(CORE "dsa/enabled", "0");
	module_unload("idxd_migrate_copy");
	tap_ok(module_unload("idxd") == 0, "idxd unloaded");
	rc = run_capture("dsa-setup check 2>&1", out, sizeof(out));
	tap_ok(rc == 2 && strstr(out, "problem: idxd is not loaded") &&
	       strstr(out, "modprobe idxd"),
	       "dsa-setup check without idxd: exit %d (want 2), names the fix", rc);
	tap_ok(module_load("idxd") == 0, "idxd loads again");
}

/* The offloaded counter that `dsa-setup status` prints, or -1. */
static long long status_offloaded(void)
{
	char out[OUTPUT_MAX], *line;
	long long value = -1;

	if (run_capture("dsa-setup status 2>&1", out, sizeof(out)) != 0)
		return -1;
	line = strstr(out, "offloaded");
	if (line)
		sscanf(line, "offloaded %lld", &value);
	return value;
}

static void scenario_apply(void)
{
	struct mig_placement placement;
	struct mig_move_result result;
	struct mig_region region;
	char out[OUTPUT_MAX];
	long long before;
	long move_ret;
	int rc;

	module_load("idxd");
	/* A device enabled by an earlier test has another configuration. */
	run_capture("accel-config disable-device --force dsa0 2>&1", out, sizeof(out));
	rc = run_capture("dsa-setup apply 2>&1", out, sizeof(out));
	tap_ok((rc == 0 || rc == 4) && !strstr(out, "problem:") &&
	       strstr(out, "dedicated kernel WQ \"migrate\" for dmaengine, enabled"),
	       "dsa-setup apply: exit %d, one dedicated kernel WQ enabled, no problem", rc);
	rc = run_capture("dsa-setup check 2>&1", out, sizeof(out));
	tap_ok((rc == 0 || rc == 4) && !strstr(out, "problem:") &&
	       strstr(out, "dedicated kernel, name \"migrate\", driver_name \"dmaengine\""),
	       "dsa-setup check after apply: exit %d, no problem", rc);
	before = status_offloaded();
	knob_set(&saved, CORE "engine", "dsa");
	knob_set(&saved, CORE "reasons", "all");
	knob_set(&saved, CORE "min_batch_bytes", "0");
	if (tap_ok(!mig_region_create(&region, MIG_KIND_4K, 8 << 20, 0) &&
		   mig_region_place(&region, 0, &placement, &move_ret),
		   "8 MiB of 4K pages on node 0")) {
		pattern_fill(region.addr, region.size, 42);
		mig_region_move(&region, 1, &result);
		mig_region_destroy(&region);
	}
	tap_ok(before >= 0 && status_offloaded() > before,
	       "dsa-setup status: offloaded rose after the move (%lld before)", before);
	knob_restore(&saved);
	knob_write(CORE "dsa/enabled", "0");
	/* As the DSA tests leave it: dsa0 enabled with its WQ disabled, no other device. */
	dsa_wq_down(true);
	dsa_other_devices_down();
}

static void scenario_profile(void)
{
	char out[OUTPUT_MAX];
	int rc;

	module_load("idxd");
	run_capture("accel-config disable-device --force dsa0 2>&1", out, sizeof(out));
	rc = run_capture("accel-config load-config -c /etc/dsa-migrate.conf -e 2>&1", out, sizeof(out));
	tap_ok(rc == 0, "accel-config load-config -e of dsa-migrate.conf: exit %d", rc);
	rc = run_capture("dsa-setup check 2>&1", out, sizeof(out));
	tap_ok(strstr(out, "wq0.0: dedicated kernel, name \"migrate\", driver_name \"dmaengine\","
			   " size 32, enabled") && !strstr(out, "wq0.0 is") &&
	       !strstr(out, "no WQ the engine can take"),
	       "dsa-setup check finds the profile's WQ usable (exit %d)", rc);
	dsa_wq_down(true);
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--scenario")) {
		fprintf(stderr, "usage: %s --scenario no-dsa|apply|profile\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[2], "profile")) {
		tap_plan(2);
		scenario_profile();
	} else if (!strcmp(argv[2], "no-dsa")) {
		tap_plan(3);
		scenario_no_dsa();
	} else if (!strcmp(argv[2], "apply")) {
		tap_plan(4);
		scenario_apply();
	} else {
		fprintf(stderr, "usage: %s --scenario no-dsa|apply|profile\n", argv[0]);
		return 2;
	}
	return tap_done();
}
