// SPDX-License-Identifier: GPL-2.0
/*
 * sync-batch: how well synchronous migration batches (compass P2).  Runs the
 * same way on the vanilla kernel and on ours; `make bench` puts the two side
 * by side.
 *
 *   sync-batch [--rounds N]	(default 16)
 *
 * Each round moves 256 pages of a MAP_SHARED ext4 file (on a loop device
 * backed by tmpfs) and 256 private anonymous pages, 512 folios, to the other
 * node with one move_pages() call (MIGRATE_SYNC).  Meanwhile a flusher
 * thread keeps rewriting the file's content with pwrite() and starting its
 * writeback with sync_file_range(), so some folios are dirty, locked or under
 * writeback when they are moved.  A third thread spins on another CPU, so
 * that unmapping needs TLB-flush IPIs.
 *
 * Metrics, over all rounds:
 *   folios_per_batch   pages migrated / calls to try_to_unmap_flush() by the
 *                      moving task (one per migrate_pages_batch(), counted
 *                      with a kprobe event): the mean size of a copy batch
 *   tlb_ipis_per_1000  TLB shootdown interrupts (/proc/interrupts TLB) per
 *                      1000 pages migrated
 *   migrated, batches, tlb_ipis   the raw counts
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "knobs.h"
#include "loopfs.h"
#include "numa-util.h"
#include "tap.h"

#define TRACING		"/sys/kernel/tracing/"
#define PROBE_EVENT	"p2/unmap_flush"
#define FILE_PAGES	256
#define ANON_PAGES	256
#define NR_PAGES	(FILE_PAGES + ANON_PAGES)
#define PAGE_BYTES	4096
#define TRACE_MAX	(16 << 20)

static volatile int running = 1;

static void *spin(void *arg)
{
	(void)arg;
	while (running)
		__asm__ volatile("pause");
	return NULL;
}

struct flusher {
	int fd;
	const char *content;	/* what the file holds: rewritten as is */
};

static void *flush(void *arg)
{
	const struct flusher *flusher = arg;
	const size_t chunk = 16 * PAGE_BYTES;
	size_t offset = 0;

	while (running) {
		if (pwrite(flusher->fd, flusher->content + offset, chunk, offset) != (ssize_t)chunk)
			break;
		sync_file_range(flusher->fd, offset, chunk, SYNC_FILE_RANGE_WRITE);
		offset = (offset + chunk) % (FILE_PAGES * PAGE_BYTES);
	}
	return NULL;
}

static void pin_to_cpu(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(thread, sizeof(set), &set);
}

/* The sum of the "TLB:" line of /proc/interrupts, or -1. */
static long long tlb_shootdowns(void)
{
	static char text[65536];
	long long total = 0;
	char *line, *field, *end;

	if (read_text_file("/proc/interrupts", text, sizeof(text)) < 0)
		return -1;
	line = strstr(text, "TLB:");
	if (!line)
		return -1;
	for (field = line + 4;; field = end) {
		long long value = strtoll(field, &end, 10);

		if (end == field)
			break;
		total += value;
	}
	return total;
}

/* A kprobe event on try_to_unmap_flush(), recording only this task. */
static bool probe_start(void)
{
	char filter[64];

	if (access(TRACING "kprobe_events", F_OK) &&
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		tap_diag("mount tracefs: %s", strerror(errno));
		return false;
	}
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	return !knob_write(TRACING "kprobe_events", "p:" PROBE_EVENT " try_to_unmap_flush") &&
	       !knob_write(TRACING "events/" PROBE_EVENT "/filter", filter) &&
	       !knob_write(TRACING "trace", "") &&
	       !knob_write(TRACING "events/" PROBE_EVENT "/enable", "1");
}

/* Stop recording; the number of hits, or -1. */
static long probe_stop(void)
{
	static char text[TRACE_MAX];
	long hits = 0;
	char *line;

	knob_write(TRACING "events/" PROBE_EVENT "/enable", "0");
	if (read_text_file(TRACING "trace", text, sizeof(text)) < 0)
		hits = -1;
	for (line = text; hits >= 0 && line && *line; line = strchr(line, '\n')) {
		line += *line == '\n';
		hits += *line && *line != '#';
	}
	knob_write(TRACING "kprobe_events", "-:" PROBE_EVENT);
	return hits;
}

static bool run_rounds(char *file, char *anon, long rounds, uint64_t seed, long *moved)
{
	static void *addrs[NR_PAGES];
	static int status[NR_PAGES];
	struct pattern_mismatch mismatch;
	long round, page;

	for (page = 0; page < NR_PAGES; page++)
		addrs[page] = page < FILE_PAGES ? file + page * PAGE_BYTES :
			      anon + (page - FILE_PAGES) * PAGE_BYTES;
	*moved = 0;
	for (round = 0; round < rounds; round++) {
		struct status_summary summary;
		int node = (round + 1) & 1;

		if (pages_move(addrs, NR_PAGES, node, status, NULL) < 0)
			return false;
		status_summarize(status, NR_PAGES, node, &summary);
		*moved += summary.matching;
		if (summary.matching < NR_PAGES) {
			char why[64];

			tap_diag("round %ld: %zu of %d pages moved; page %zu: %s", round,
				 summary.matching, NR_PAGES, summary.first_other,
				 status_describe(summary.first_other_status, why, sizeof(why)));
		}
		if (!pattern_verify(file, FILE_PAGES * PAGE_BYTES, seed, &mismatch)) {
			tap_diag("round %ld: file pages wrong from %zu", round,
				 mismatch.first_offset);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	long rounds = 16, moved = 0, batches;
	long long tlb_before, migrated_before, migrated, tlb;
	static char content[FILE_PAGES * PAGE_BYTES] __attribute__((aligned(8)));
	struct pattern_mismatch mismatch;
	uint64_t seed = pattern_seed();
	struct flusher flusher;
	pthread_t spinner, flusher_thread;
	char *file, *anon;
	bool ok;
	int opt, fd;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt != 'r' || parse_long(optarg, 1, 1000, &rounds)) {
			fprintf(stderr, "usage: %s [--rounds N]\n", argv[0]);
			return 2;
		}
	}
	tap_plan(3);
	if (!tap_ok(loopfs_setup(), "ext4 on a loop device on a tmpfs file mounted"))
		return tap_done();
	fd = open(LOOPFS_EXT4_DIR "/bench", O_RDWR | O_CREAT | O_TRUNC, 0600);
	pattern_fill(content, sizeof(content), seed);
	if (fd < 0 || pwrite(fd, content, sizeof(content), 0) != sizeof(content))
		return tap_done();
	file = mmap(NULL, FILE_PAGES * PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	anon = region_map(ANON_PAGES * PAGE_BYTES, PAGE_BYTES);
	if (file == MAP_FAILED || !anon)
		return tap_done();
	madvise(anon, ANON_PAGES * PAGE_BYTES, MADV_NOHUGEPAGE);
	memset(anon, 1, ANON_PAGES * PAGE_BYTES);
	/* Map every file page: move_pages() moves only mapped pages. */
	if (!pattern_verify(file, FILE_PAGES * PAGE_BYTES, seed, &mismatch))
		return tap_done();

	pin_to_cpu(pthread_self(), 0);
	pthread_create(&spinner, NULL, spin, NULL);
	pin_to_cpu(spinner, 2);
	flusher = (struct flusher){ .fd = fd, .content = content };
	pthread_create(&flusher_thread, NULL, flush, &flusher);
	pin_to_cpu(flusher_thread, 1);
	ok = probe_start();
	tlb_before = tlb_shootdowns();
	migrated_before = vmstat_read("pgmigrate_success");
	ok = ok && run_rounds(file, anon, rounds, seed, &moved);
	migrated = vmstat_read("pgmigrate_success") - migrated_before;
	tlb = tlb_shootdowns() - tlb_before;
	batches = probe_stop();
	running = 0;
	pthread_join(spinner, NULL);
	pthread_join(flusher_thread, NULL);

	if (tap_ok(ok && batches > 0 && migrated > 0 && tlb_before >= 0,
		   "%ld rounds: %lld pages migrated in %ld batches, %lld TLB IPIs",
		   rounds, migrated, batches, tlb)) {
		tap_metric("migrated", "%lld", migrated);
		tap_metric("batches", "%ld", batches);
		tap_metric("tlb_ipis", "%lld", tlb);
		tap_metric("folios_per_batch", "%.2f", (double)migrated / batches);
		tap_metric("tlb_ipis_per_1000", "%.1f", tlb * 1000.0 / migrated);
		tap_diag("move_pages reported %ld of %ld pages on the target node",
			 moved, rounds * NR_PAGES);
	}
	munmap(file, FILE_PAGES * PAGE_BYTES);
	close(fd);
	tap_ok(loopfs_teardown(), "unmounted and detached");
	return tap_done();
}
