// SPDX-License-Identifier: GPL-2.0
/*
 * loop-stress: the load under which the seed deadlocks were found, all at
 * once, for a while: ext4 on a loop device backed by a file on tmpfs, so
 * its writeback needs shmem folio locks and jbd2 holds buffer locks.
 *
 *   loop-stress [--seconds N]	(default 90)
 *
 * Workers, each until the deadline:
 *   writer      rewrites files on the ext4 with fresh patterns, fsyncs every
 *               other round, and checks what it wrote the round before
 *   syncer      sync() every 50 ms
 *   compactor   writes 1 to /proc/sys/vm/compact_memory every 100 ms
 *   shmem-mover move_pages() of shared anonymous (shmem) pages between the
 *               nodes, redirtying and checking them every round
 *   ext4-mover  the same on a MAP_SHARED mapping of an ext4 file, with an
 *               asynchronous msync() each round so some pages are under
 *               writeback when they are moved
 *
 * Every worker must finish in time with every byte right; the harness
 * fails the test on any hung-task report (hung_task_timeout_secs is 30).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loopfs.h"
#include "numa-util.h"
#include "tap.h"

#define EXT4_DIR	LOOPFS_EXT4_DIR
#define WRITER_FILES	4
#define WRITER_BYTES	(1 << 20)
#define MOVER_BYTES	(4 << 20)
#define PAGE_BYTES	4096
#define EXIT_GRACE_S	60

enum worker { W_WRITER, W_SYNCER, W_COMPACTOR, W_SHMEM, W_EXT4, W_COUNT };

static const char *const worker_names[W_COUNT] = {
	"writer", "syncer", "compactor", "shmem-mover", "ext4-mover",
};

static bool before(uint64_t deadline)
{
	return time_now_ns() < deadline;
}

static bool write_file(const char *path, void *buf, uint64_t seed, bool sync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	bool ok;

	if (fd < 0)
		return false;
	pattern_fill(buf, WRITER_BYTES, seed);
	ok = write(fd, buf, WRITER_BYTES) == WRITER_BYTES && (!sync || !fsync(fd));
	return !close(fd) && ok;
}

static bool check_file(const char *path, void *buf, uint64_t seed)
{
	struct pattern_mismatch mismatch;
	int fd = open(path, O_RDONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = read(fd, buf, WRITER_BYTES) == WRITER_BYTES &&
	     pattern_verify(buf, WRITER_BYTES, seed, &mismatch);
	close(fd);
	if (!ok)
		fprintf(stderr, "%s: wrong from offset %zu\n", path, mismatch.first_offset);
	return ok;
}

static int run_writer(uint64_t deadline, uint64_t seed)
{
	static char buf[WRITER_BYTES] __attribute__((aligned(8)));
	char path[64];
	unsigned int round, file;

	for (round = 0; before(deadline); round++) {
		for (file = 0; file < WRITER_FILES; file++) {
			snprintf(path, sizeof(path), EXT4_DIR "/file%u", file);
			if (round && !check_file(path, buf, seed + (round - 1) * WRITER_FILES + file))
				return 1;
			if (!write_file(path, buf, seed + round * WRITER_FILES + file, round & 1))
				return 1;
		}
	}
	return 0;
}

static int run_periodic(uint64_t deadline, enum worker worker)
{
	while (before(deadline)) {
		if (worker == W_SYNCER) {
			sync();
			usleep(50 * 1000);
		} else {
			int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);

			if (fd < 0 || write(fd, "1", 1) != 1)
				return 1;
			close(fd);
			usleep(100 * 1000);
		}
	}
	return 0;
}

/* A shared mapping: shmem when @fd < 0, else the file @fd. */
static char *map_shared(int fd)
{
	char *addr;

	if (fd >= 0 && ftruncate(fd, MOVER_BYTES))
		return NULL;
	addr = mmap(NULL, MOVER_BYTES, PROT_READ | PROT_WRITE,
		    fd < 0 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED, fd, 0);
	return addr == MAP_FAILED ? NULL : addr;
}

static int run_mover(uint64_t deadline, uint64_t seed, bool on_ext4)
{
	static void *addrs[MOVER_BYTES / PAGE_BYTES];
	static int status[MOVER_BYTES / PAGE_BYTES];
	struct pattern_mismatch mismatch;
	unsigned int round, page;
	int fd = -1;
	char *addr;

	if (on_ext4)
		fd = open(EXT4_DIR "/mapped", O_RDWR | O_CREAT | O_TRUNC, 0600);
	addr = map_shared(fd);
	if (!addr)
		return 1;
	for (page = 0; page < MOVER_BYTES / PAGE_BYTES; page++)
		addrs[page] = addr + (size_t)page * PAGE_BYTES;
	for (round = 0; before(deadline); round++) {
		pattern_fill(addr, MOVER_BYTES, seed + round);
		if (on_ext4)
			msync(addr, MOVER_BYTES, MS_ASYNC);
		if (pages_move(addrs, MOVER_BYTES / PAGE_BYTES, round & 1, status, NULL) < 0)
			return 1;
		if (!pattern_verify(addr, MOVER_BYTES, seed + round, &mismatch)) {
			fprintf(stderr, "%s: wrong from offset %zu after round %u\n",
				worker_names[on_ext4 ? W_EXT4 : W_SHMEM],
				mismatch.first_offset, round);
			return 1;
		}
	}
	munmap(addr, MOVER_BYTES);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int run_worker(enum worker worker, uint64_t deadline, uint64_t seed)
{
	switch (worker) {
	case W_WRITER:
		return run_writer(deadline, seed);
	case W_SYNCER:
	case W_COMPACTOR:
		return run_periodic(deadline, worker);
	default:
		return run_mover(deadline, seed, worker == W_EXT4);
	}
}

/* Wait for every worker until @limit: one test point each. */
static void reap(pid_t *pids, uint64_t limit)
{
	unsigned int left = W_COUNT, i;
	int status;

	while (left && before(limit)) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0) {
			usleep(100 * 1000);
			continue;
		}
		for (i = 0; i < W_COUNT; i++) {
			if (pids[i] != pid)
				continue;
			tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			       "%s finished, every byte right", worker_names[i]);
			pids[i] = 0;
			left--;
		}
	}
	for (i = 0; i < W_COUNT; i++)
		if (pids[i])
			tap_ok(false, "%s still running %d s after the deadline",
			       worker_names[i], EXIT_GRACE_S);
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	long seconds = 90, migrated;
	pid_t pids[W_COUNT] = { 0 };
	uint64_t deadline, seed = pattern_seed();
	unsigned int i;
	int opt;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt != 's' || parse_long(optarg, 1, 3600, &seconds)) {
			fprintf(stderr, "usage: %s [--seconds N]\n", argv[0]);
			return 2;
		}
	}
	tap_plan(W_COUNT + 2);
	if (!tap_ok(loopfs_setup(), "ext4 on a loop device on a tmpfs file mounted"))
		return tap_done();

	migrated = vmstat_read("pgmigrate_success");
	deadline = time_now_ns() + (uint64_t)seconds * 1000000000ull;
	for (i = 0; i < W_COUNT; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(run_worker(i, deadline, seed + i * 1000003ull));
		if (pids[i] < 0) {
			tap_ok(false, "fork %s: %s", worker_names[i], strerror(errno));
			pids[i] = 0;
		}
	}
	reap(pids, deadline + EXIT_GRACE_S * 1000000000ull);
	tap_metric("pages_migrated", "%lld", vmstat_read("pgmigrate_success") - migrated);
	tap_ok(loopfs_teardown(), "unmounted and detached");
	return tap_done();
}
