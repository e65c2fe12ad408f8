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
 * Metrics: unmaps, unmaps_per_folio, held, moved, move_ms (wall time of the
 * move_pages() call: under TCG a ratio against vanilla in `make bench` is
 * meaningful, the value alone is not).
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
		" [--via move|compact]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "pages", required_argument, NULL, 'p' },
		{ "held-every", required_argument, NULL, 'e' },
		{ "via", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct held_region region = { .nr_pages = 512, .held_every = 4 };
	enum held_kind kind = HELD_ANON;
	enum held_via via = VIA_MOVE;
	long long success, failed, unmaps;
	uint64_t seed = pattern_seed(), elapsed_ns = 0;
	struct kprobe_count probe;
	long page, ret = 0, moved = 0;
	int opt, choice;
	bool ok;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'k':
		case 'v':
			choice = parse_name(optarg, opt == 'k' ? kind_names : via_names, 2);
			if (choice < 0)
				usage(argv[0]);
			if (opt == 'k')
				kind = choice;
			else
				via = choice;
			break;
		case 'p':
			if (parse_long(optarg, 2, 65536, &region.nr_pages))
				usage(argv[0]);
			break;
		case 'e':
			if (parse_long(optarg, 2, 65536, &region.held_every))
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}

	tap_plan(5);
	region.addr = map_region(kind, region.nr_pages * PAGE_BYTES);
	region.page_addrs = calloc(region.nr_pages, sizeof(*region.page_addrs));
	region.status = calloc(region.nr_pages, sizeof(*region.status));
	if (!tap_ok(region.addr && region.page_addrs && region.status,
		    "%ld %s pages mapped", region.nr_pages, kind_names[kind]))
		return tap_done();
	region_prefer_node(region.addr, region.nr_pages * PAGE_BYTES, 0);
	pattern_fill(region.addr, region.nr_pages * PAGE_BYTES, seed);
	for (page = 0; page < region.nr_pages; page++)
		region.page_addrs[page] = region.addr + page * PAGE_BYTES;
	pages_move(region.page_addrs, region.nr_pages, 0, region.status, NULL);

	ok = hold_pages(&region) && placement_ok(&region, 0, 0, &moved);
	if (!tap_ok(ok, "every %ld-th page held by a pipe (%ld), all on node 0",
		    region.held_every, region.nr_held))
		return tap_done();

	if (!kprobe_count_start(&probe, "held_unmap", "try_to_migrate"))
		return tap_done();
	success = vmstat_read("pgmigrate_success");
	failed = vmstat_read("pgmigrate_fail");
	if (via == VIA_MOVE)
		ret = pages_move(region.page_addrs, region.nr_pages, 1, region.status,
				 &elapsed_ns);
	else
		compact_node0(&elapsed_ns);
	unmaps = kprobe_count_read(&probe);
	success = vmstat_read("pgmigrate_success") - success;
	failed = vmstat_read("pgmigrate_fail") - failed;
	kprobe_count_stop(&probe);

	if (via == VIA_MOVE) {
		ok = ret == region.nr_held && placement_ok(&region, 0, 1, &moved);
		tap_ok(ok, "move_pages() returned %ld (held: %ld); %ld of %ld other pages moved",
		       ret, region.nr_held, moved, region.nr_pages - region.nr_held);
		ok = unmaps >= 0 && unmaps <= region.nr_pages + region.nr_held;
		tap_ok(ok, "%lld unmaps of %ld pages, %ld held: at most %ld (each folio"
		       " at most twice, once if it migrates)", unmaps, region.nr_pages,
		       region.nr_held, region.nr_pages + region.nr_held);
	} else {
		tap_ok(success + failed > 0, "compaction migrated %lld pages and failed %lld",
		       success, failed);
		ok = unmaps >= 0 && unmaps <= success + 2 * failed;
		tap_ok(ok, "%lld unmaps: at most %lld (pgmigrate_success + 2 * pgmigrate_fail)",
		       unmaps, success + 2 * failed);
	}
	ok = content_ok(&region, seed, "while held");
	release_pages(&region);
	ok = content_ok(&region, seed, "after release") && ok;
	tap_ok(ok, "every byte as written, while held and after the pipes let go");

	tap_metric("held", "%ld", region.nr_held);
	tap_metric("moved", "%ld", via == VIA_MOVE ? moved : (long)success);
	tap_metric("unmaps", "%lld", unmaps);
	tap_metric("unmaps_per_folio", "%.2f", (double)unmaps / region.nr_pages);
	tap_metric("move_ms", "%.1f", elapsed_ns / 1e6);
	tap_metric("pgmigrate_fail", "%lld", failed);
	return tap_done();
}
