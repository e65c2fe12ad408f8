// SPDX-License-Identifier: GPL-2.0
/*
 * migrate-bench-guest: tools/migrate-bench in the guest.
 *
 *   migrate-bench-guest --scenario short|lying-engine|bench
 *
 *   short         with the emulated DSA set up (dsa-setup apply), a short run
 *                 of every size and engine: exit 0; every row of numbers
 *                 says "QEMU TCG: function, not speed"; every cell moved all
 *                 its pages with no wrong word; the DSA row was offloaded,
 *                 and the cpu and disabled rows copied by neither engine
 *                 (the CPU alone copies nothing ahead). Its JSON and CSV go
 *                 to the channel as attachments, which the harness parses
 *                 and plots.
 *   lying-engine  the negative control of migrate-bench's data check: with
 *                 the test engine damaging one byte of every page it copies,
 *                 migrate-bench must exit 3 and count every page wrong
 *   bench         the make-bench run: 32 MiB per move, 3 repetitions, every
 *                 size and engine (on a kernel without the feature, its one
 *                 row); the JSON and CSV as attachments
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsa-dev.h"
#include "knobs.h"
#include "tap.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define TEST_ENGINE	"/sys/kernel/debug/migrate_copy_test/"
#define QEMU_LABEL	"QEMU TCG: function, not speed"
#define JSON_PATH	"/tmp/migrate-bench.json"
#define CSV_PATH	"/tmp/migrate-bench.csv"
#define OUTPUT_MAX	16384
#define CSV_FIELDS	18

static struct knob_saved saved;

/* @path's lines on the channel as "# attach NAME LINE"; 0 or -1. */
static int attach(const char *path, const char *name)
{
	FILE *file = fopen(path, "r");
	size_t size = 0;
	char *line = NULL;

	if (!file)
		return -1;
	while (getline(&line, &size, file) >= 0)
		printf("# attach %s %.*s\n", name, (int)strcspn(line, "\n"), line);
	free(line);
	fclose(file);
	fflush(stdout);
	return 0;
}

/* Table rows with numbers: those whose second word is an engine and third a number. */
static int check_rows_labelled(const char *out, unsigned int *rows)
{
	const char *line = out;
	int unlabelled = 0;

	*rows = 0;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		int len = end ? end - line : (int)strlen(line);
		char size[8], engine[32];
		double value;

		if (sscanf(line, "%7s %31s %lf", size, engine, &value) == 3 &&
		    (!strcmp(size, "4k") || !strcmp(size, "64k") || !strcmp(size, "2m"))) {
			(*rows)++;
			if (!memmem(line, len, QEMU_LABEL, strlen(QEMU_LABEL))) {
				unlabelled++;
				tap_diag("row without the QEMU label: %.*s", len, line);
			}
		}
		line = end ? end + 1 : NULL;
	}
	return unlabelled;
}

/* One CSV row of migrate-bench, the fields this test looks at. */
struct csv_row {
	char size[8], engine[32], skipped[128];
	unsigned long requested, moved, wrong, large_folios;
	unsigned long long offload, cpu, migrated;
};

/*
 * Split an RFC 4180 line in place into at most @max fields (quotes removed,
 * doubled quotes made single); the number of fields, or -1 if malformed.
 */
static int split_csv(char *line, char **fields, int max)
{
	char *in = line, *out = line;
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (;;) {
		if (n == max)
			return -1;
		fields[n++] = out;
		if (*in == '"') {
			for (in++; *in && !(in[0] == '"' && in[1] != '"'); in++, out++) {
				if (in[0] == '"')
					in++;
				*out = *in;
			}
			if (*in++ != '"')
				return -1;
		} else {
			while (*in && *in != ',')
				*out++ = *in++;
		}
		if (!*in) {
			*out = '\0';
			return n;
		}
		if (*in != ',')
			return -1;
		*out++ = '\0';
		in++;
	}
}

static int parse_csv_row(char *line, struct csv_row *row)
{
	char *fields[CSV_FIELDS + 1];

	if (split_csv(line, fields, CSV_FIELDS + 1) != CSV_FIELDS) {
		tap_diag("CSV row without exactly %d fields", CSV_FIELDS);
		return -1;
	}
	if (strcmp(fields[CSV_FIELDS - 1], QEMU_LABEL)) {
		tap_diag("CSV environment \"%s\", not \"" QEMU_LABEL "\"", fields[CSV_FIELDS - 1]);
		return -1;
	}
	snprintf(row->size, sizeof(row->size), "%s", fields[2]);
	snprintf(row->engine, sizeof(row->engine), "%s", fields[3]);
	row->requested = strtoul(fields[8], NULL, 10);
	row->moved = strtoul(fields[9], NULL, 10);
	row->wrong = strtoul(fields[10], NULL, 10);
	row->offload = strtoull(fields[11], NULL, 10);
	row->cpu = strtoull(fields[12], NULL, 10);
	row->migrated = strtoull(fields[14], NULL, 10);
	row->large_folios = strtoul(fields[15], NULL, 10);
	snprintf(row->skipped, sizeof(row->skipped), "%s", fields[16]);
	return 0;
}

/* What each engine's row must show; the number of rows that do not. */
static int check_csv(unsigned int *rows, unsigned int *dsa_rows)
{
	char line[1024];
	FILE *file = fopen(CSV_PATH, "r");
	int bad = 0;

	*rows = *dsa_rows = 0;
	if (!file)
		return -1;
	if (!fgets(line, sizeof(line), file)) {
		fclose(file);
		return -1;
	}
	while (fgets(line, sizeof(line), file)) {
		struct csv_row row;
		bool ok;

		if (parse_csv_row(line, &row)) {
			bad++;
			continue;
		}
		(*rows)++;
		if (row.skipped[0]) {
			tap_diag("%s %s skipped: %s", row.size, row.engine, row.skipped);
			continue;
		}
		ok = row.requested && row.moved == row.requested && !row.wrong &&
		     row.migrated >= row.requested;
		/* Every folio of the 64k and 2m rows was as large as its row says. */
		if (!strcmp(row.size, "64k"))
			ok = ok && row.large_folios * 16 == row.requested;
		else if (!strcmp(row.size, "2m"))
			ok = ok && row.large_folios * 512 == row.requested;
		if (!strcmp(row.engine, "dsa")) {
			(*dsa_rows)++;
			ok = ok && row.offload == row.migrated;
		} else if (!strcmp(row.engine, "cpu") || !strcmp(row.engine, "disabled")) {
			/* The CPU alone copies nothing ahead: the move copies. */
			ok = ok && !row.offload && !row.cpu;
		}
		tap_diag("%s %-8s moved %lu/%lu wrong %lu offload %llu cpu %llu of %llu, %lu large folios: %s",
			 row.size, row.engine, row.moved, row.requested, row.wrong, row.offload,
			 row.cpu, row.migrated, row.large_folios,
			 ok ? "as expected" : "NOT as expected");
		bad += !ok;
	}
	fclose(file);
	return bad;
}

static void setup_dsa(void)
{
	char out[OUTPUT_MAX];
	int rc;

	module_load("idxd");
	run_capture("accel-config disable-device --force dsa0 2>&1", out, sizeof(out));
	rc = run_capture("dsa-setup apply 2>&1", out, sizeof(out));
	tap_ok((rc == 0 || rc == 4) && !strstr(out, "problem:"),
	       "dsa-setup apply: exit %d, no problem", rc);
}

/* As the DSA tests leave it: dsa0 enabled with its WQ disabled, no other device. */
static void teardown_dsa(void)
{
	knob_write(CORE "dsa/enabled", "0");
	dsa_wq_down(true);
	dsa_other_devices_down();
}

static void scenario_short(void)
{
	unsigned int rows, csv_rows, dsa_rows;
	char out[OUTPUT_MAX];
	int rc, unlabelled, bad;

	setup_dsa();
	rc = run_capture("migrate-bench --short --label guest-short --json " JSON_PATH
		 " --csv " CSV_PATH " 2>&1", out, sizeof(out));
	tap_ok(rc == 0, "migrate-bench --short: exit %d (want 0)", rc);
	unlabelled = check_rows_labelled(out, &rows);
	tap_ok(rows >= 12 && !unlabelled,
	       "%u table rows with numbers, %d without \"" QEMU_LABEL "\"", rows, unlabelled);
	bad = check_csv(&csv_rows, &dsa_rows);
	tap_ok(bad == 0 && csv_rows == rows && dsa_rows == 3,
	       "CSV: %u rows (%u dsa), %d not as expected", csv_rows, dsa_rows, bad);
	tap_ok(!attach(JSON_PATH, "migrate-bench.json") && !attach(CSV_PATH, "migrate-bench.csv"),
	       "JSON and CSV attached for the harness");
	teardown_dsa();
}

static void scenario_lying_engine(void)
{
	char out[OUTPUT_MAX];
	unsigned long wrong = 0, behind = 0;
	const char *summary;
	int rc;

	tap_ok(module_load("migrate_copy_test_engine") == 0, "test engine loaded");
	knob_set(&saved, TEST_ENGINE "corrupt", "Y");
	rc = run_capture("migrate-bench --sizes 4k --engines test --reps 1 --mib 4 2>&1", out,
		 sizeof(out));
	summary = strstr(out, "migrate-bench: ");
	while (summary && !strstr(summary, "copied wrong"))
		summary = strstr(summary + 1, "migrate-bench: ");
	if (summary)
		sscanf(summary, "migrate-bench: %lu pages copied wrong, %lu pages left behind",
		       &wrong, &behind);
	tap_ok(rc == 3 && wrong == 1024 && behind == 0,
	       "with a corrupting engine: exit %d (want 3), %lu of 1024 pages wrong", rc, wrong);
	knob_restore(&saved);
	module_unload("migrate_copy_test_engine");
}

static void scenario_bench(void)
{
	bool feature = access(CORE "enabled", F_OK) == 0;
	char out[OUTPUT_MAX];
	int rc;

	if (feature)
		setup_dsa();
	rc = run_capture("migrate-bench --mib 32 --reps 3 --json " JSON_PATH " --csv " CSV_PATH
		 " --label $(test -e " CORE "enabled && echo ours || echo vanilla) 2>&1",
		 out, sizeof(out));
	tap_ok(rc == 0, "migrate-bench, 32 MiB per move, 3 repetitions: exit %d", rc);
	tap_ok(!attach(JSON_PATH, "migrate-bench.json") && !attach(CSV_PATH, "migrate-bench.csv"),
	       "JSON and CSV attached for make bench");
	if (feature)
		teardown_dsa();
}

int main(int argc, char **argv)
{
	const char *scenario = argc == 3 && !strcmp(argv[1], "--scenario") ? argv[2] : "";

	if (!strcmp(scenario, "short")) {
		tap_plan(5);
		scenario_short();
	} else if (!strcmp(scenario, "lying-engine")) {
		tap_plan(2);
		scenario_lying_engine();
	} else if (!strcmp(scenario, "bench")) {
		tap_plan(access(CORE "enabled", F_OK) == 0 ? 3 : 2);
		scenario_bench();
	} else {
		fprintf(stderr, "usage: %s --scenario short|lying-engine|bench\n", argv[0]);
		return 2;
	}
	return tap_done();
}
