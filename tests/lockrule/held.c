// SPDX-License-Identifier: GPL-2.0
/*
 * held: migration of a region in which some pages carry a long-lived extra
 * reference (seed 003: no retry storm).  Such a page cannot migrate; every
 * other one must, and the kernel must give up on the held ones within
 * upstream's bound of work: a folio is unmapped at most twice per
 * migrate_pages() call (once in the first batch, once alone), whether it
 * migrates or not.
 *
 *   held --kind anon|shmem --pages N --held-every K [--via move|compact]
 *        [--rounds R]
 *
 * Every K-th page of an N-page region on node 0 is spliced into a pipe
 * nobody reads (vmsplice() takes a page reference, as GUP or a driver
 * would).  --via move (the default) then moves the whole region to node 1
 * with one synchronous move_pages(); --via compact compacts node 0
 * (/sys/devices/system/node/node0/compact, MIGRATE_SYNC) instead.
 *
 * Checks, move: move_pages() returns the number of held pages (what vanilla
 * returns: the count of pages not migrated), every held page is still on
 * node 0 and every other page on node 1; calls of try_to_migrate() (one per
 * unmap of a mapped folio, counted with a kprobe) stay within pages + held.
 * Compact: calls of try_to_migrate() stay within pgmigrate_success + 2 *
 * pgmigrate_fail.  Both: every byte of the region is as written, before and
 * after the pipes let go of their pages.
 *
 * --rounds repeats all of it with a new region R times (every check in every
 * round).  Metrics: unmaps, unmaps_per_folio, held, moved, pgmigrate_fail
 * (the largest of any round), move_ms (the median wall time of the
 * move_pages() or compaction call: under TCG a ratio against vanilla in
 * `make bench` is meaningful, the value alone is not), move_ms_min and
 * move_ms_max.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "knobs.h"
#include "kprobe-count.h"
#include "numa-util.h"
#include "tap.h"

#define PAGE_BYTES	4096UL
#define PIPE_PAGES	256	/* F_SETPIPE_SZ of 1 MiB: the default pipe-max-size */
#define MAX_PIPES	64

enum held_kind { HELD_ANON, HELD_SHMEM };
enum held_via { VIA_MOVE, VIA_COMPACT };

static const char *const kind_names[] = { "anon", "shmem" };
static const char *const via_names[] = { "move", "compact" };

struct held_region {
	char *addr;
	long nr_pages;
	long held_every;
	long nr_held;
	void **page_addrs;
	int *status;
	int pipes[MAX_PIPES][2];
	int nr_pipes;
};

static bool page_is_held(const struct held_region *region, long page)
{
	return page % region->held_every == region->held_every - 1;
}

static char *map_region(enum held_kind kind, size_t size)
{
	char *addr;
	int fd;

	if (kind == HELD_ANON) {
		addr = region_map(size, PAGE_BYTES);
		if (addr)
			region_set_thp(addr, size, false);
		return addr;
	}
	fd = memfd_create("held", 0);
	if (fd < 0 || ftruncate(fd, size)) {
		tap_diag("memfd: %s", strerror(errno));
		return NULL;
	}
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return addr == MAP_FAILED ? NULL : addr;
}

/* A pipe that holds up to PIPE_PAGES pages; -1 on failure. */
static int open_pipe(struct held_region *region)
{
	int *fds = region->pipes[region->nr_pipes];

	if (region->nr_pipes == MAX_PIPES || pipe(fds))
		return -1;
	region->nr_pipes++;
	if (fcntl(fds[1], F_SETPIPE_SZ, PIPE_PAGES * PAGE_BYTES) < 0)
		return -1;
	return fds[1];
}

/* Splice every held page into a pipe; true if every one took a reference. */
static bool hold_pages(struct held_region *region)
{
	long page, in_pipe = PIPE_PAGES;
	int fd = -1;

	for (page = 0; page < region->nr_pages; page++) {
		struct iovec iov = {
			.iov_base = region->addr + page * PAGE_BYTES,
			.iov_len = PAGE_BYTES,
		};

		if (!page_is_held(region, page))
			continue;
		if (in_pipe == PIPE_PAGES) {
			fd = open_pipe(region);
			in_pipe = 0;
		}
		if (fd < 0 || vmsplice(fd, &iov, 1, 0) != (ssize_t)PAGE_BYTES) {
			tap_diag("vmsplice of page %ld: %s", page, strerror(errno));
			return false;
		}
		in_pipe++;
		region->nr_held++;
	}
	return true;
}

static void release_pages(struct held_region *region)
{
	while (region->nr_pipes > 0) {
		region->nr_pipes--;
		close(region->pipes[region->nr_pipes][0]);
		close(region->pipes[region->nr_pipes][1]);
	}
}

/* Held pages on @held_node, the others on @free_node; diagnoses the first miss. */
static bool placement_ok(struct held_region *region, int held_node, int free_node,
			 long *moved)
{
	long page, wrong = 0;
	char why[64];

	*moved = 0;
	if (pages_query(region->page_addrs, region->nr_pages, region->status) < 0)
		return false;
	for (page = 0; page < region->nr_pages; page++) {
		int expected = page_is_held(region, page) ? held_node : free_node;

		*moved += region->status[page] == free_node && !page_is_held(region, page);
		if (region->status[page] == expected)
			continue;
		if (!wrong++)
			tap_diag("page %ld (%s): %s, expected node %d", page,
				 page_is_held(region, page) ? "held" : "not held",
				 status_describe(region->status[page], why, sizeof(why)),
				 expected);
	}
	return !wrong;
}

static bool content_ok(const struct held_region *region, uint64_t seed, const char *when)
{
	struct pattern_mismatch mismatch;

	if (pattern_verify(region->addr, region->nr_pages * PAGE_BYTES, seed, &mismatch))
		return true;
	tap_diag("%s: byte %zu of the region is wrong", when, mismatch.first_offset);
	return false;
}

static void compact_node0(uint64_t *elapsed_ns)
{
	uint64_t start = time_now_ns();

	if (knob_write("/sys/devices/system/node/node0/compact", "1"))
		tap_diag("node0/compact: %s", strerror(errno));
	*elapsed_ns = time_now_ns() - start;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s --kind anon|shmem --pages N --held-every K"
		" [--via move|compact] [--rounds R]\n", prog);
	exit(2);
}

#define MAX_ROUNDS	31

struct held_config {
	enum held_kind kind;
	enum held_via via;
	long nr_pages;
	long held_every;
};

struct held_outcome {
	long held;
	long moved;
	long long unmaps;
	long long failed;
	double move_ms;
};

/* One round: map, hold, move or compact, check (five TAP points). */
static bool run_round(const struct held_config *config, int round,
		      struct held_outcome *out)
{
	struct held_region region = {
		.nr_pages = config->nr_pages,
		.held_every = config->held_every,
	};
	size_t size = config->nr_pages * PAGE_BYTES;
	long long success, failed, unmaps;
	uint64_t seed = pattern_seed(), elapsed_ns = 0;
	struct kprobe_count probe;
	long page, ret = 0, moved = 0;
	bool ok;

	region.addr = map_region(config->kind, size);
	region.page_addrs = calloc(region.nr_pages, sizeof(*region.page_addrs));
	region.status = calloc(region.nr_pages, sizeof(*region.status));
	if (!tap_ok(region.addr && region.page_addrs && region.status,
		    "round %d: %ld %s pages mapped", round, region.nr_pages,
		    kind_names[config->kind]))
		return false;
	region_prefer_node(region.addr, size, 0);
	pattern_fill(region.addr, size, seed);
	for (page = 0; page < region.nr_pages; page++)
		region.page_addrs[page] = region.addr + page * PAGE_BYTES;
	pages_move(region.page_addrs, region.nr_pages, 0, region.status, NULL);

	ok = hold_pages(&region) && placement_ok(&region, 0, 0, &moved);
	if (!tap_ok(ok, "round %d: every %ld-th page held by a pipe (%ld), all on node 0",
		    round, region.held_every, region.nr_held))
		return false;

	if (!kprobe_count_start(&probe, "held_unmap", "try_to_migrate"))
		return false;
	success = vmstat_read("pgmigrate_success");
	failed = vmstat_read("pgmigrate_fail");
	if (config->via == VIA_MOVE)
		ret = pages_move(region.page_addrs, region.nr_pages, 1, region.status,
				 &elapsed_ns);
	else
		compact_node0(&elapsed_ns);
	unmaps = kprobe_count_read(&probe);
	success = vmstat_read("pgmigrate_success") - success;
	failed = vmstat_read("pgmigrate_fail") - failed;
	kprobe_count_stop(&probe);

	if (config->via == VIA_MOVE) {
		ok = ret == region.nr_held && placement_ok(&region, 0, 1, &moved);
		tap_ok(ok, "round %d: move_pages() returned %ld (held: %ld); %ld of %ld"
		       " other pages moved", round, ret, region.nr_held, moved,
		       region.nr_pages - region.nr_held);
		ok = unmaps >= 0 && unmaps <= region.nr_pages + region.nr_held;
		tap_ok(ok, "round %d: %lld unmaps of %ld pages, %ld held: at most %ld (each"
		       " folio at most twice, once if it migrates)", round, unmaps,
		       region.nr_pages, region.nr_held, region.nr_pages + region.nr_held);
	} else {
		moved = success;
		tap_ok(success + failed > 0, "round %d: compaction migrated %lld pages and"
		       " failed %lld", round, success, failed);
		ok = unmaps >= 0 && unmaps <= success + 2 * failed;
		tap_ok(ok, "round %d: %lld unmaps: at most %lld (pgmigrate_success + 2 *"
		       " pgmigrate_fail)", round, unmaps, success + 2 * failed);
	}
	ok = content_ok(&region, seed, "while held");
	release_pages(&region);
	ok = content_ok(&region, seed, "after release") && ok;
	tap_ok(ok, "round %d: every byte as written, while held and after the pipes let go",
	       round);

	out->held = region.nr_held;
	out->moved = moved;
	out->unmaps = unmaps;
	out->failed = failed;
	out->move_ms = elapsed_ns / 1e6;
	munmap(region.addr, size);
	free(region.page_addrs);
	free(region.status);
	return true;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "pages", required_argument, NULL, 'p' },
		{ "held-every", required_argument, NULL, 'e' },
		{ "via", required_argument, NULL, 'v' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct held_config config = {
		.kind = HELD_ANON, .via = VIA_MOVE, .nr_pages = 512, .held_every = 4,
	};
	struct held_outcome outcome[MAX_ROUNDS], worst = { 0 };
	double move_ms[MAX_ROUNDS];
	long rounds = 1, round;
	int opt, choice;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'k':
		case 'v':
			choice = parse_name(optarg, opt == 'k' ? kind_names : via_names, 2);
			if (choice < 0)
				usage(argv[0]);
			if (opt == 'k')
				config.kind = choice;
			else
				config.via = choice;
			break;
		case 'p':
			if (parse_long(optarg, 2, 65536, &config.nr_pages))
				usage(argv[0]);
			break;
		case 'e':
			if (parse_long(optarg, 2, 65536, &config.held_every))
				usage(argv[0]);
			break;
		case 'r':
			if (parse_long(optarg, 1, MAX_ROUNDS, &rounds))
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}

	tap_plan(5 * rounds);
	for (round = 0; round < rounds; round++) {
		if (!run_round(&config, round, &outcome[round]))
			return tap_done();
		move_ms[round] = outcome[round].move_ms;
		worst.held = outcome[round].held;
		worst.moved = outcome[round].moved;
		if (outcome[round].unmaps > worst.unmaps)
			worst.unmaps = outcome[round].unmaps;
		if (outcome[round].failed > worst.failed)
			worst.failed = outcome[round].failed;
	}
	qsort(move_ms, rounds, sizeof(move_ms[0]), compare_double);

	tap_metric("held", "%ld", worst.held);
	tap_metric("moved", "%ld", worst.moved);
	tap_metric("unmaps", "%lld", worst.unmaps);
	tap_metric("unmaps_per_folio", "%.2f", (double)worst.unmaps / config.nr_pages);
	tap_metric("move_ms", "%.1f", move_ms[rounds / 2]);
	tap_metric("move_ms_min", "%.1f", move_ms[0]);
	tap_metric("move_ms_max", "%.1f", move_ms[rounds - 1]);
	tap_metric("pgmigrate_fail", "%lld", worst.failed);
	return tap_done();
}
