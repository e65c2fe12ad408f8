// SPDX-License-Identifier: GPL-2.0
/*
 * reliability: can migration lose a write or a byte while it copies through
 * a copy engine? Written on the kernel's kselftest harness.
 *
 *   reliability [--mib N] [--seconds N] [--region-mib N] [--writers N]
 *               [--emu-hangs N] [--seed N]
 *               [kselftest options: -l, -r fixture.variant.test ...]
 *
 * writers.<engine>_<kind>.sequence
 *	A region (--region-mib, 8 MiB) migrates back and forth between node 0
 *	and node 1 (move_pages by the test's main thread, pass after pass)
 *	until --mib (32) MiB have moved or --seconds (60) have passed, while
 *	--writers (3) threads keep writing it. Every 4K page has 8 slots of 8
 *	bytes, 512 bytes apart; each writer owns some slots of every page,
 *	stores (writer, slot, sequence number) into them and remembers the last
 *	value it stored. On every visit it first checks that the slot still
 *	holds exactly that value: a write lost by a copy is seen, not repaired
 *	by the next write. The rest of every page holds a seeded pattern that
 *	is checked after each pass (wrong bytes), and once more at the end; an
 *	ext4 file is also read back through read() after its page cache was
 *	dropped. Engines: cpu, soft (the DSA engine on the memcpy_test_dma
 *	provider with faults picked per pass: errors, delays, reordering, NULL
 *	preps, descriptors that never complete) and emu (the DSA engine on a
 *	dedicated WQ of the emulated DSA, with the device's injected errors
 *	and delays; descriptors that never complete only with --emu-hangs N,
 *	because disabling a WQ that still holds one makes 6.12's idxd write a
 *	freed channel, see rel-engine.h). Kinds: anon 4K pages, THPs, shmem,
 *	ext4 page cache.
 *	Passes with no wrong byte, no lost write, and counters that agree:
 *	migrate_copy_offload/fallback equal the DSA engine's offloaded/failed
 *	folios, with the CPU engine chosen nothing is copied ahead (the move
 *	phase copies) and no migrate_copy counter rises, pgmigrate_success
 *	covers the pages seen moving, and (with the page counters) the pages
 *	copied by the other engines cover them too.
 *
 * control.{skip_write,corrupt,late_write}.caught
 *	Negative controls on the test engine, which lies on purpose: it skips
 *	the copy, or corrupts one byte per page, and reports success; the
 *	data checks must find wrong bytes (and, for skip_write, lost writes),
 *	or the control fails. late_write writes destinations freed after a
 *	failed copy: the test says "expect-console kasan" and KASAN must
 *	report the use-after-free.
 *
 * faulters.offload_vs_cpu
 *	Threads keep read- and write-faulting random pages of a region while
 *	it migrates, alternately copied by the CPU and by a slow DSA engine
 *	(software provider, delay_us): pages whose copy is in flight are
 *	touched all the time. Migration failures (pages not moved) with
 *	offload must stay within twice those of the CPU, plus 8.
 *
 * Metrics (summed over the tests the run ran), on the TAP channel:
 * reliability_bytes_moved, _bytes_verified, _wrong_bytes, _lost_writes,
 * _faults_injected; the controls' and the faulters' under their own names.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dsa-dev.h"
#include "knobs.h"
#include "loopfs.h"
#include "numa-util.h"
#include "tap.h"

#include "rel-engine.h"
#include "rel-region.h"

#define REL_SLOTS		8	/* slots per 4K page */
#define REL_SLOT_STRIDE		512	/* bytes between a page's slots */
#define REL_MAX_WRITERS		REL_SLOTS
#define REL_REPORTS		5	/* mismatches described per checker */
#define REL_WRITER_PAUSE_US	1000	/* between two sweeps of a writer */
#define NSEC			1000000000ULL

/* ---- options and the run's totals ---- */

static struct {
	long mib;		/* MiB to move per writers test */
	long seconds;		/* at most this long per writers test */
	long region_mib;
	long writers;
	long emu_hangs;		/* hung descriptors the emulated DSA may inject */
	uint64_t seed;
	bool seed_given;
} rel_opts = { .mib = 32, .seconds = 60, .region_mib = 8, .writers = 3 };

/* Shared with the forked tests; printed as metrics when the run ends. */
struct rel_totals {
	unsigned long long tests, bytes_moved, bytes_verified, wrong_bytes, lost_writes,
			   faults_injected;
	unsigned long long controls, control_wrong_bytes, control_lost_writes,
			   control_lied_folios, control_late_writes, control_kasan_reports;
	unsigned long long faulters, faulters_touches, faulters_cpu_failures,
			   faulters_offload_failures, faulters_cpu_pgmigrate_fail,
			   faulters_offload_pgmigrate_fail, faulters_offload_timed_out,
			   faulters_cpu_ms, faulters_offload_ms;
};

static struct rel_totals *rel_totals;

static uint64_t rel_test_seed(void)
{
	uint64_t seed = rel_opts.seed_given ? rel_opts.seed : pattern_seed();

	ksft_print_msg("seed %#llx (--seed %#llx replays the same faults and pattern)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

/* ---- the workload: writers that check their slots, a pattern ---- */

struct rel_work;

struct rel_writer {
	pthread_t thread;
	unsigned int id;
	struct rel_work *work;
	uint64_t *last;		/* last value written, per slot of the region */
	unsigned long long writes, checks, lost, sweeps;
	unsigned int reported;
};

struct rel_work {
	struct rel_region *region;
	struct rel_engine *engine;
	uint64_t seed;
	unsigned int nr_writers;
	int stop;
	struct rel_writer writers[REL_MAX_WRITERS];
	/* Results. */
	unsigned long long moved, verified, wrong, lost, faults, passes, failed_folios,
			   untried_folios;
	unsigned int wrong_reported;
	uint64_t ns;
};

static uint64_t rel_slot_value(unsigned int writer, size_t slot, uint64_t seq)
{
	return (uint64_t)(writer + 1) << 56 | (uint64_t)(slot & 0xffffff) << 32 |
	       (seq & 0xffffffff);
}

static size_t rel_slot_offset(size_t slot)
{
	return slot / REL_SLOTS * SIZE_4K + slot % REL_SLOTS * REL_SLOT_STRIDE;
}

static bool rel_is_slot(size_t offset)
{
	return offset % REL_SLOT_STRIDE == 0;
}

/* Compare a slot with the last value its writer stored; count and describe a miss. */
static void rel_check_slot(struct rel_writer *w, size_t slot, uint64_t seen, const char *when)
{
	uint64_t want = w->last[slot];
	const char *what;

	w->checks++;
	if (seen == want)
		return;
	w->lost++;
	if (w->reported++ >= REL_REPORTS)
		return;
	if (seen >> 32 == want >> 32 && (uint32_t)seen < (uint32_t)want)
		what = "an older value of its own: a lost write";
	else if (!seen)
		what = "zero";
	else if (seen == pattern_word_at(w->work->seed, rel_slot_offset(slot)))
		what = "the pattern: none of its writes";
	else
		what = "a foreign value";
	ksft_print_msg("writer %u, %s: page %zu offset %zu holds %#llx, its last write was"
		       " %#llx (%s)\n", w->id, when, slot / REL_SLOTS,
		       slot % REL_SLOTS * REL_SLOT_STRIDE, (unsigned long long)seen,
		       (unsigned long long)want, what);
}

static void *rel_writer_main(void *arg)
{
	struct rel_writer *w = arg;
	struct rel_work *work = w->work;
	struct rel_region *r = work->region;
	size_t page, k;

	while (!__atomic_load_n(&work->stop, __ATOMIC_RELAXED)) {
		for (page = 0; page < r->nr_pages; page++) {
			if (__atomic_load_n(&work->stop, __ATOMIC_RELAXED))
				break;
			for (k = w->id; k < REL_SLOTS; k += work->nr_writers) {
				size_t slot = page * REL_SLOTS + k;
				uint64_t *word = (uint64_t *)(r->addr + rel_slot_offset(slot));
				uint64_t next;

				rel_check_slot(w, slot, __atomic_load_n(word, __ATOMIC_RELAXED),
					       "during migration");
				next = rel_slot_value(w->id, slot, w->last[slot] + 1);
				__atomic_store_n(word, next, __ATOMIC_RELAXED);
				w->last[slot] = next;
				w->writes++;
			}
		}
		w->sweeps++;
		usleep(REL_WRITER_PAUSE_US);
	}
	return NULL;
}

static unsigned int rel_bytes_differing(uint64_t x)
{
	unsigned int n = 0;

	for (; x; x >>= 8)
		n += (x & 0xff) != 0;
	return n;
}

/* Check the pattern of every non-slot word of @base (the region's layout). */
static unsigned long long rel_verify_pattern(struct rel_work *work, const char *base,
					     const char *when)
{
	const struct rel_region *r = work->region;
	unsigned long long bad = 0;
	size_t offset;

	for (offset = 0; offset < r->size; offset += 8) {
		uint64_t seen, want;

		if (rel_is_slot(offset))
			continue;
		seen = *(const uint64_t *)(base + offset);
		want = pattern_word_at(work->seed, offset);
		if (seen == want)
			continue;
		bad += rel_bytes_differing(seen ^ want);
		if (work->wrong_reported++ < REL_REPORTS)
			ksft_print_msg("%s: page %zu offset %zu holds %#llx, not %#llx\n", when,
				       offset / SIZE_4K, offset % SIZE_4K,
				       (unsigned long long)seen, (unsigned long long)want);
	}
	work->verified += r->size - r->nr_pages * REL_SLOTS * 8;
	work->wrong += bad;
	return bad;
}

/* Pattern everywhere, every slot written once; then start the writers. */
static int rel_work_start(struct rel_work *work, struct rel_region *region,
			  struct rel_engine *engine, uint64_t seed, unsigned int nr_writers)
{
	size_t slot, nr_slots = region->nr_pages * REL_SLOTS;
	unsigned int i;

	memset(work, 0, sizeof(*work));
	work->region = region;
	work->engine = engine;
	work->seed = seed;
	work->nr_writers = nr_writers;
	pattern_fill(region->addr, region->size, seed);
	for (i = 0; i < nr_writers; i++) {
		struct rel_writer *w = &work->writers[i];

		w->id = i;
		w->work = work;
		w->last = calloc(nr_slots, sizeof(uint64_t));
		if (!w->last)
			return -ENOMEM;
	}
	for (slot = 0; slot < nr_slots; slot++) {
		struct rel_writer *w = &work->writers[slot % REL_SLOTS % nr_writers];

		w->last[slot] = rel_slot_value(w->id, slot, 1);
		*(uint64_t *)(region->addr + rel_slot_offset(slot)) = w->last[slot];
	}
	for (i = 0; i < nr_writers; i++) {
		int err = pthread_create(&work->writers[i].thread, NULL, rel_writer_main,
					 &work->writers[i]);

		if (err) {
			__atomic_store_n(&work->stop, 1, __ATOMIC_RELAXED);
			while (i--)
				pthread_join(work->writers[i].thread, NULL);
			return -err;
		}
	}
	return 0;
}

/* Check every slot against its writer's last value, in @base. */
static void rel_check_all_slots(struct rel_work *work, const char *base, const char *when)
{
	size_t slot, nr_slots = work->region->nr_pages * REL_SLOTS;

	for (slot = 0; slot < nr_slots; slot++) {
		struct rel_writer *w = &work->writers[slot % REL_SLOTS % work->nr_writers];

		rel_check_slot(w, slot, *(const uint64_t *)(base + rel_slot_offset(slot)), when);
	}
}

/* Stop the writers, then check every slot and the pattern once more. */
static void rel_work_stop(struct rel_work *work)
{
	unsigned int i;

	__atomic_store_n(&work->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < work->nr_writers; i++)
		pthread_join(work->writers[i].thread, NULL);
	rel_check_all_slots(work, work->region->addr, "at the end");
	rel_verify_pattern(work, work->region->addr, "at the end");
}

static unsigned long long rel_work_lost(const struct rel_work *work)
{
	unsigned long long lost = 0;
	unsigned int i;

	for (i = 0; i < work->nr_writers; i++)
		lost += work->writers[i].lost;
	return lost;
}

static void rel_work_free(struct rel_work *work)
{
	unsigned int i;

	for (i = 0; i < work->nr_writers; i++)
		free(work->writers[i].last);
	free(work);
}

/*
 * The ext4 file once more, from the disk: write it back, unmap it, drop its
 * page cache and read it with read(): the pattern and every slot's last
 * write must have reached the file.
 */
static void rel_ext4_readback(struct rel_work *work)
{
	struct rel_region *r = work->region;
	unsigned long long wrong = work->wrong, lost = rel_work_lost(work);
	size_t done = 0;
	char *buf;

	if (msync(r->addr, r->size, MS_SYNC) || fsync(r->fd))
		ksft_print_msg("ext4: writing the file back failed: %s\n", strerror(errno));
	munmap(r->addr, r->size);
	r->addr = NULL;
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_DONTNEED);
	buf = malloc(r->size);
	while (buf && done < r->size) {
		ssize_t got = pread(r->fd, buf + done, r->size - done, done);

		if (got <= 0)
			break;
		done += got;
	}
	if (!buf || done != r->size) {
		ksft_print_msg("ext4: reading the file back failed (%zu of %zu bytes)\n", done,
			       r->size);
		work->wrong += r->size;
		free(buf);
		return;
	}
	rel_check_all_slots(work, buf, "read back from ext4");
	rel_verify_pattern(work, buf, "read back from ext4");
	work->verified += r->nr_pages * REL_SLOTS * 8;
	ksft_print_msg("ext4: read back %zu KiB after dropping the page cache: %llu wrong bytes,"
		       " %llu lost writes\n", r->size >> 10, work->wrong - wrong,
		       rel_work_lost(work) - lost);
	free(buf);
}

/*
 * Migrate the region back and forth, pass after pass, until @target_bytes
 * moved, @deadline_ns or @max_passes (0: no limit); the pattern is checked
 * after every pass.
 */
static void rel_move_loop(struct rel_work *work, unsigned long long target_bytes,
			  uint64_t deadline_ns, unsigned int max_passes)
{
	struct rel_region *r = work->region;
	uint64_t start = time_now_ns();
	unsigned int pass;
	int to = 1;

	for (pass = 0; ; pass++) {
		unsigned long long injected, bad;
		size_t i, moved = 0, failed = 0, untried = 0;
		int first_err = 0;
		uint64_t ns = 0, begin = time_now_ns(), verify_ns;
		char faults[192];
		long ret;

		rel_faults_begin(work->engine, faults, sizeof(faults));
		/*
		 * Start writeback of a quarter of the file, another each pass
		 * (MS_ASYNC does nothing): some pages move under writeback.
		 */
		if (r->kind == REL_EXT4)
			sync_file_range(r->fd, pass % 4 * (r->size / 4), r->size / 4,
					SYNC_FILE_RANGE_WRITE);
		ret = pages_move(r->folio_addrs, r->nr_folios, to, r->status, &ns);
		/* move_pages() gives up the rest of a call at its first failed folio. */
		for (i = 0; i < r->nr_folios; i++) {
			if (r->status[i] == STATUS_UNSET) {
				untried++;
			} else if (r->status[i] < 0) {
				failed++;
				first_err = first_err ?: r->status[i];
			}
		}
		injected = rel_faults_end(work->engine);
		if (pages_query(r->page_addrs, r->nr_pages, r->status) >= 0) {
			for (i = 0; i < r->nr_pages; i++) {
				moved += r->status[i] == to && r->node[i] != to;
				r->node[i] = r->status[i];
			}
		}
		verify_ns = time_now_ns();
		bad = rel_verify_pattern(work, r->addr, "after a pass");
		verify_ns = time_now_ns() - verify_ns;
		work->moved += moved * SIZE_4K;
		work->failed_folios += failed;
		work->untried_folios += untried;
		work->faults += injected;
		work->passes++;
		if (pass < 6 || pass % 16 == 0 || failed || untried || bad || ret < 0)
			ksft_print_msg("pass %u -> node %d: %zu pages moved in %llu ms (pass %llu"
				       " ms, check %llu ms), move_pages %ld, %zu folios failed"
				       " (first %d), %zu not tried; %llu wrong bytes; %s%s%llu"
				       " faults\n", pass, to, moved,
				       (unsigned long long)(ns / 1000000),
				       (unsigned long long)((time_now_ns() - begin) / 1000000),
				       (unsigned long long)(verify_ns / 1000000), ret, failed,
				       first_err, untried, bad, faults, faults[0] ? ": " : "",
				       injected);
		if (work->moved >= target_bytes || time_now_ns() >= deadline_ns ||
		    (max_passes && pass + 1 >= max_passes))
			break;
		to = !to;
	}
	work->ns = time_now_ns() - start;
}

static void rel_work_summary(const char *name, const struct rel_work *work)
{
	unsigned long long sweeps = 0, checks = 0;
	double seconds = work->ns / 1e9;
	unsigned int i;

	for (i = 0; i < work->nr_writers; i++) {
		sweeps += work->writers[i].sweeps;
		checks += work->writers[i].checks;
	}
	ksft_print_msg("%s: %.1f MiB moved in %llu passes, %.1f s (%.1f MiB/s); %.1f MiB of"
		       " pattern and %llu slots checked; %llu wrong bytes, %llu lost writes;"
		       " %llu folios failed to move, %llu not tried; %u writers, %llu sweeps\n",
		       name, work->moved / (double)SIZE_MIB, work->passes, seconds,
		       seconds > 0 ? work->moved / (double)SIZE_MIB / seconds : 0.0,
		       work->verified / (double)SIZE_MIB, checks, work->wrong, rel_work_lost(work),
		       work->failed_folios, work->untried_folios, work->nr_writers, sweeps);
}

static void rel_engine_summary(const struct rel_engine *e, const struct rel_counts *d)
{
	bool pages = rel_vm_pages_present(d);

	ksft_print_msg("vmstat: pgmigrate_success +%lld pgmigrate_fail +%lld; migrate_copy"
		       " offload +%lld cpu +%lld fallback +%lld folios%s", d->vm[VM_SUCCESS],
		       d->vm[VM_FAIL], d->vm[VM_OFFLOAD], d->vm[VM_CPU], d->vm[VM_FALLBACK],
		       pages ? "" : " (no page counters)\n");
	if (pages)
		printf(", offload +%lld cpu +%lld fallback +%lld pages\n", d->vm[VM_OFFLOAD_PAGES],
		       d->vm[VM_CPU_PAGES], d->vm[VM_FALLBACK_PAGES]);
	if (e->dsa_loaded)
		ksft_print_msg("dsa engine: offloaded +%llu failed +%llu timed_out +%llu"
			       " quarantined +%llu released +%llu; faults in %u passes, %llu"
			       " injected, engine restarted %u times (%u for dropped channels)\n",
			       d->dsa[DSA_OFFLOADED], d->dsa[DSA_FAILED], d->dsa[DSA_TIMED_OUT],
			       d->dsa[DSA_QUARANTINED], d->dsa[DSA_RELEASED], e->fault_passes,
			       e->injected, e->cycles, e->drops);
	if (e->dev_open)
		ksft_print_msg("emulated DSA: memmove +%llu descriptors, +%llu bytes; injected"
			       " errors +%llu hangs +%llu\n",
			       (unsigned long long)d->device[DSA_CNT_MEMMOVE],
			       (unsigned long long)d->device[DSA_CNT_MEMMOVE_BYTES],
			       (unsigned long long)d->device[DSA_CNT_INJ_ERRORS],
			       (unsigned long long)d->device[DSA_CNT_INJ_HANGS]);
	if (e->test_loaded)
		ksft_print_msg("test engine: folios +%llu failed +%llu lied +%llu\n",
			       d->test[TE_FOLIOS], d->test[TE_FAILED], d->test[TE_LIED]);
}

/*
 * Do the counters agree? The folios an engine saw are offloaded, failed
 * (fallen back to the CPU) or timed out; the vmstat counters must say the
 * same. Folios with buffer heads (ext4's) are never copied ahead.
 */
static void rel_check_counters(struct __test_metadata *_metadata, const struct rel_engine *e,
			       enum rel_kind kind, const struct rel_counts *d,
			       const struct rel_work *work)
{
	long long moved_pages = work->moved / SIZE_4K;
	bool eligible = kind != REL_EXT4;

	EXPECT_GE(d->vm[VM_SUCCESS], moved_pages)
		TH_LOG("pgmigrate_success rose by %lld, less than the %lld pages seen moving",
		       d->vm[VM_SUCCESS], moved_pages);
	if (rel_vm_pages_present(d) && eligible && e->kind != REL_CPU) {
		long long copied = d->vm[VM_OFFLOAD_PAGES] + d->vm[VM_CPU_PAGES] +
				   d->vm[VM_FALLBACK_PAGES];

		EXPECT_GE(copied, moved_pages)
			TH_LOG("engines copied %lld pages, fewer than the %lld seen moving",
			       copied, moved_pages);
	}
	switch (e->kind) {
	case REL_CPU:
		/* The CPU alone copies nothing ahead: the move phase copies. */
		EXPECT_EQ(0, d->vm[VM_OFFLOAD] + d->vm[VM_CPU] + d->vm[VM_FALLBACK])
			TH_LOG("with the CPU engine chosen, folios were copied ahead:"
			       " offload +%lld cpu +%lld fallback +%lld", d->vm[VM_OFFLOAD],
			       d->vm[VM_CPU], d->vm[VM_FALLBACK]);
		break;
	case REL_SOFT:
	case REL_EMU:
		EXPECT_EQ((long long)d->dsa[DSA_OFFLOADED], d->vm[VM_OFFLOAD])
			TH_LOG("the engine offloaded %llu folios, migrate_copy_offload says %lld",
			       d->dsa[DSA_OFFLOADED], d->vm[VM_OFFLOAD]);
		EXPECT_EQ((long long)d->dsa[DSA_FAILED], d->vm[VM_FALLBACK])
			TH_LOG("the engine failed %llu folios, migrate_copy_fallback says %lld",
			       d->dsa[DSA_FAILED], d->vm[VM_FALLBACK]);
		if (eligible)
			EXPECT_LT(0ULL, d->dsa[DSA_OFFLOADED]) TH_LOG("the engine copied nothing");
		if (e->kind == REL_EMU && rel_vm_pages_present(d))
			EXPECT_GE((long long)d->device[DSA_CNT_MEMMOVE_BYTES],
				  d->vm[VM_OFFLOAD_PAGES] * (long long)SIZE_4K)
				TH_LOG("the device moved fewer bytes than the pages offloaded");
		break;
	case REL_TEST:
		EXPECT_EQ((long long)d->test[TE_FOLIOS], d->vm[VM_OFFLOAD] + d->vm[VM_FALLBACK])
			TH_LOG("the test engine saw %llu folios, offload + fallback say %lld",
			       d->test[TE_FOLIOS], d->vm[VM_OFFLOAD] + d->vm[VM_FALLBACK]);
		EXPECT_EQ((long long)d->test[TE_FAILED], d->vm[VM_FALLBACK]);
		break;
	}
}

/* ---- writers: every engine, every kind ---- */

FIXTURE(writers) {
	struct rel_engine engine;
	struct rel_region region;
	bool engine_ready;
};

FIXTURE_VARIANT(writers) {
	enum rel_engine_kind engine;
	enum rel_kind kind;
};

FIXTURE_VARIANT_ADD(writers, cpu_anon) { .engine = REL_CPU, .kind = REL_ANON };
FIXTURE_VARIANT_ADD(writers, cpu_thp) { .engine = REL_CPU, .kind = REL_THP };
FIXTURE_VARIANT_ADD(writers, cpu_shmem) { .engine = REL_CPU, .kind = REL_SHMEM };
FIXTURE_VARIANT_ADD(writers, cpu_ext4) { .engine = REL_CPU, .kind = REL_EXT4 };
FIXTURE_VARIANT_ADD(writers, soft_anon) { .engine = REL_SOFT, .kind = REL_ANON };
FIXTURE_VARIANT_ADD(writers, soft_thp) { .engine = REL_SOFT, .kind = REL_THP };
FIXTURE_VARIANT_ADD(writers, soft_shmem) { .engine = REL_SOFT, .kind = REL_SHMEM };
FIXTURE_VARIANT_ADD(writers, soft_ext4) { .engine = REL_SOFT, .kind = REL_EXT4 };
FIXTURE_VARIANT_ADD(writers, emu_anon) { .engine = REL_EMU, .kind = REL_ANON };
FIXTURE_VARIANT_ADD(writers, emu_thp) { .engine = REL_EMU, .kind = REL_THP };
FIXTURE_VARIANT_ADD(writers, emu_shmem) { .engine = REL_EMU, .kind = REL_SHMEM };
FIXTURE_VARIANT_ADD(writers, emu_ext4) { .engine = REL_EMU, .kind = REL_EXT4 };

FIXTURE_SETUP(writers)
{
	char why[256] = "";
	int ret;

	self->region.fd = -1;
	ret = rel_engine_setup(&self->engine, variant->engine, "all", pattern_seed(), why,
			       sizeof(why));
	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	self->engine_ready = true;
	ret = rel_region_create(&self->region, variant->kind, rel_opts.region_mib * SIZE_MIB,
				why, sizeof(why));
	if (ret) {
		rel_engine_teardown(&self->engine);
		self->engine_ready = false;
	}
	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(writers)
{
	rel_region_destroy(&self->region);
	if (self->engine_ready)
		rel_engine_teardown(&self->engine);
}

TEST_F_TIMEOUT(writers, sequence, 300)
{
	struct rel_work *work = calloc(1, sizeof(*work));
	struct rel_counts before, d;
	uint64_t seed = rel_test_seed();
	char name[64];

	ASSERT_NE(NULL, work);
	self->engine.rng = seed;
	self->engine.max_hangs = rel_opts.emu_hangs;
	snprintf(name, sizeof(name), "%s engine, %s", rel_engine_names[variant->engine],
		 rel_kind_names[variant->kind]);
	ksft_print_msg("%s: %ld MiB region, %ld writers, until %ld MiB moved or %ld s\n",
		       name, rel_opts.region_mib, rel_opts.writers, rel_opts.mib,
		       rel_opts.seconds);
	rel_counts_take(&self->engine, &before);
	ASSERT_EQ(0, rel_work_start(work, &self->region, &self->engine, seed, rel_opts.writers));
	rel_move_loop(work, rel_opts.mib * SIZE_MIB, time_now_ns() + rel_opts.seconds * NSEC, 0);
	rel_work_stop(work);
	if (variant->kind == REL_EXT4)
		rel_ext4_readback(work);
	rel_counts_take(&self->engine, &d);
	rel_counts_since(&d, &before);
	rel_work_summary(name, work);
	rel_engine_summary(&self->engine, &d);

	__atomic_add_fetch(&rel_totals->tests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->bytes_moved, work->moved, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->bytes_verified, work->verified, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->wrong_bytes, work->wrong, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->lost_writes, rel_work_lost(work), __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faults_injected, work->faults, __ATOMIC_RELAXED);

	EXPECT_EQ(0ULL, work->wrong) TH_LOG("%llu bytes of the pattern were wrong", work->wrong);
	EXPECT_EQ(0ULL, rel_work_lost(work)) TH_LOG("%llu writes were lost", rel_work_lost(work));
	EXPECT_LT(0ULL, work->moved) TH_LOG("nothing moved");
	rel_check_counters(_metadata, &self->engine, variant->kind, &d, work);
	rel_work_free(work);
}

/* ---- negative controls: the checks must catch a lying engine ---- */

FIXTURE(control) {
	struct rel_engine engine;
	struct rel_region region;
	bool engine_ready;
};

FIXTURE_VARIANT(control) {
	const char *knob;
	const char *value;
	size_t pages;
};

FIXTURE_VARIANT_ADD(control, skip_write) { .knob = "skip_write", .value = "Y", .pages = 512 };
FIXTURE_VARIANT_ADD(control, corrupt) { .knob = "corrupt", .value = "Y", .pages = 512 };
/* The test engine remembers 64 failed destinations at a time. */
FIXTURE_VARIANT_ADD(control, late_write) { .knob = "late_write_ms", .value = "500", .pages = 64 };

FIXTURE_SETUP(control)
{
	char why[256] = "", path[128];
	int ret;

	self->region.fd = -1;
	/* Only move_pages goes through the lying engine, nothing of the kernel's. */
	ret = rel_engine_setup(&self->engine, REL_TEST, "syscall_or_cpuset", 0, why, sizeof(why));
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	self->engine_ready = true;
	snprintf(path, sizeof(path), REL_TEST_ENGINE "%s", variant->knob);
	if (access(path, F_OK)) {
		rel_engine_teardown(&self->engine);
		self->engine_ready = false;
	}
	ASSERT_EQ(0, access(path, F_OK))
		TH_LOG("the test engine has no %s knob (mm/migrate_copy_test_engine.c):"
		       " this control cannot run", variant->knob);
	ret = rel_region_create(&self->region, REL_ANON, variant->pages * SIZE_4K, why,
				sizeof(why));
	if (ret) {
		rel_engine_teardown(&self->engine);
		self->engine_ready = false;
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(control)
{
	rel_region_destroy(&self->region);
	if (self->engine_ready)
		rel_engine_teardown(&self->engine);
}

static bool rel_kernel_has_kasan(void)
{
	char line[256];
	bool found = false;
	FILE *syms = fopen("/proc/kallsyms", "re");

	while (syms && !found && fgets(line, sizeof(line), syms))
		found = strstr(line, " kasan_report") != NULL;
	if (syms)
		fclose(syms);
	return found;
}

/* Read the kernel log records from @kmsg on; the first KASAN report line. */
static bool rel_kmsg_find(int kmsg, const char *needle, char *found, size_t size)
{
	char record[1024];
	bool hit = false;
	ssize_t len;

	while ((len = read(kmsg, record, sizeof(record) - 1)) > 0 || (len < 0 && errno == EPIPE)) {
		char *text;

		if (len < 0)
			continue;
		record[len] = 0;
		text = strchr(record, ';');
		if (!hit && text && strstr(text, needle)) {
			snprintf(found, size, "%s", text + 1);
			found[strcspn(found, "\n")] = 0;
			hit = true;
		}
	}
	return hit;
}

static void rel_control_late_write(struct __test_metadata *_metadata,
				   FIXTURE_DATA(control) *self)
{
	struct rel_region *r = &self->region;
	unsigned long long late, skipped, failed;
	struct pattern_mismatch mismatch;
	size_t on1, on0;
	char report[256] = "";
	bool kasan, data_ok, reported;
	uint64_t seed = rel_test_seed();
	int kmsg;

	/* The harness then requires, and accepts, a KASAN report in this test. */
	ksft_print_msg("expect-console kasan\n");
	fflush(stdout);
	kasan = rel_kernel_has_kasan();
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	pattern_fill(r->addr, r->size, seed);
	ASSERT_EQ(0, knob_write(REL_TEST_ENGINE "reset", "1") ?:
		     knob_write(REL_TEST_ENGINE "fail_every", "1") ?:
		     knob_write(REL_TEST_ENGINE "late_write_ms", "500"));
	/* Every copy fails: the CPU copies, the engine writes each destination later. */
	pages_move(r->folio_addrs, r->nr_folios, 1, r->status, NULL);
	on1 = rel_region_where(r, 1);
	/* Move back at once: those destinations are freed before the late writes. */
	knob_write(REL_TEST_ENGINE "fail_every", "0");
	pages_move(r->folio_addrs, r->nr_folios, 0, r->status, NULL);
	on0 = rel_region_where(r, 0);
	/*
	 * The work item counts its writes only after the last one, and each
	 * write to a freed page prints a KASAN report first, which takes
	 * seconds under TCG: wait until it has accounted for every page.
	 */
	usleep(1500 * 1000);
	for (int waited_ms = 0; waited_ms < 60000; waited_ms += 250) {
		late = rel_read_u64(REL_TEST_ENGINE, "late_writes");
		skipped = rel_read_u64(REL_TEST_ENGINE, "late_writes_skipped");
		if (late + skipped >= r->nr_folios)
			break;
		usleep(250 * 1000);
	}
	failed = rel_read_u64(REL_TEST_ENGINE, "failed");
	knob_write(REL_TEST_ENGINE "late_write_ms", "0");
	data_ok = pattern_verify(r->addr, r->size, seed, &mismatch);
	reported = kmsg >= 0 && rel_kmsg_find(kmsg, "KASAN", report, sizeof(report));
	if (kmsg >= 0)
		close(kmsg);
	ksft_print_msg("%zu pages to node 1 (%llu copies failed), %zu back to node 0; %llu freed"
		       " destinations written late, %llu left alone (in use again); KASAN %s;"
		       " report: %s\n", on1, failed, on0, late, skipped,
		       kasan ? "built in" : "absent", reported ? report : "none");
	__atomic_add_fetch(&rel_totals->controls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->control_late_writes, late, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->control_kasan_reports, reported, __ATOMIC_RELAXED);

	EXPECT_EQ(r->nr_pages, on1) TH_LOG("not every page reached node 1");
	EXPECT_EQ(r->nr_pages, on0) TH_LOG("not every page came back to node 0");
	EXPECT_EQ(r->nr_folios, failed) TH_LOG("the engine did not fail every copy");
	EXPECT_TRUE(data_ok) TH_LOG("the region's own data is wrong from offset %zu",
				    mismatch.first_offset);
	EXPECT_LT(0ULL, late) TH_LOG("the engine wrote no freed destination late");
	ASSERT_TRUE(kasan) TH_LOG("the kernel has no KASAN: the use-after-free goes unseen");
	EXPECT_TRUE(reported) TH_LOG("no KASAN report after %llu late writes to freed pages",
				     late);
}

TEST_F_TIMEOUT(control, caught, 120)
{
	struct rel_work *work;
	struct rel_counts before, d;
	unsigned long long lied;
	uint64_t seed;
	char path[128];

	if (!strcmp(variant->knob, "late_write_ms")) {
		rel_control_late_write(_metadata, self);
		return;
	}
	work = calloc(1, sizeof(*work));
	ASSERT_NE(NULL, work);
	seed = rel_test_seed();
	snprintf(path, sizeof(path), REL_TEST_ENGINE "%s", variant->knob);
	rel_counts_take(&self->engine, &before);
	ASSERT_EQ(0, rel_work_start(work, &self->region, &self->engine, seed,
				    rel_opts.writers));
	ASSERT_EQ(0, knob_write(path, variant->value));
	rel_move_loop(work, ~0ULL, time_now_ns() + 60 * NSEC, 2);
	knob_write(path, "N");
	rel_work_stop(work);
	rel_counts_take(&self->engine, &d);
	rel_counts_since(&d, &before);
	lied = d.test[TE_LIED];
	rel_work_summary(variant->knob, work);
	rel_engine_summary(&self->engine, &d);
	__atomic_add_fetch(&rel_totals->controls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->control_wrong_bytes, work->wrong, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->control_lost_writes, rel_work_lost(work),
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->control_lied_folios, lied, __ATOMIC_RELAXED);

	/* Inverted: the control passes only when the checks caught the lies. */
	EXPECT_LT(0ULL, lied) TH_LOG("the engine told no lie: did it see the migration?");
	EXPECT_LT(0ULL, work->wrong)
		TH_LOG("the pattern check found no wrong byte after %llu lies: it cannot fail",
		       lied);
	if (!strcmp(variant->knob, "skip_write"))
		EXPECT_LT(0ULL, rel_work_lost(work))
			TH_LOG("no lost write found after %llu skipped copies: the check cannot"
			       " fail", lied);
	rel_check_counters(_metadata, &self->engine, REL_ANON, &d, work);
	rel_work_free(work);
}

/* ---- faulters: touching pages whose copy is in flight ---- */

#define REL_FAULTERS		2
#define REL_FAULTERS_MIB	4
#define REL_FAULTERS_ROUNDS	5	/* each: 2 passes on the CPU, 2 offloaded */
#define REL_FAULTERS_DELAY_US	"200"
#define REL_FAULTERS_SLACK	8

struct rel_faulter {
	pthread_t thread;
	struct rel_region *region;
	uint64_t rng;
	int *stop;
	unsigned long long reads, writes;
};

static void *rel_faulter_main(void *arg)
{
	struct rel_faulter *f = arg;

	while (!__atomic_load_n(f->stop, __ATOMIC_RELAXED)) {
		uint64_t x = rel_rand(&f->rng);
		uint64_t *word = (uint64_t *)(f->region->addr +
					      (x >> 8) % (f->region->size / 8) * 8);

		if (x & 1) {
			(void)*(volatile uint64_t *)word;
			f->reads++;
		} else {
			/* A write access that changes nothing. */
			__atomic_fetch_or(word, 0, __ATOMIC_RELAXED);
			f->writes++;
		}
	}
	return NULL;
}

struct rel_phase {
	const char *name;
	unsigned long long pages_moved, failures, passes, ns;
	struct rel_counts sum;
};

FIXTURE(faulters) {
	struct rel_engine engine;
	struct rel_region region;
	bool engine_ready;
};

FIXTURE_SETUP(faulters)
{
	char why[256] = "";
	int ret;

	self->region.fd = -1;
	ret = rel_engine_setup(&self->engine, REL_SOFT, "all", 0, why, sizeof(why));
	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	self->engine_ready = true;
	ret = rel_region_create(&self->region, REL_ANON, REL_FAULTERS_MIB * SIZE_MIB, why,
				sizeof(why));
	if (ret) {
		rel_engine_teardown(&self->engine);
		self->engine_ready = false;
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(faulters)
{
	rel_region_destroy(&self->region);
	if (self->engine_ready)
		rel_engine_teardown(&self->engine);
}

/* One pass to @to on the current engine, accounted to @phase. */
static unsigned long long rel_faulters_pass(struct rel_engine *e, struct rel_region *r,
					    struct rel_phase *phase, int to, uint64_t seed)
{
	struct pattern_mismatch mismatch;
	struct rel_counts before, d;
	unsigned long long failures = 0;
	uint64_t ns = 0;
	unsigned int i;
	size_t p;

	rel_counts_take(e, &before);
	pages_move(r->folio_addrs, r->nr_folios, to, r->status, &ns);
	rel_counts_take(e, &d);
	rel_counts_since(&d, &before);
	if (pages_query(r->page_addrs, r->nr_pages, r->status) >= 0) {
		for (p = 0; p < r->nr_pages; p++) {
			phase->pages_moved += r->status[p] == to && r->node[p] != to;
			failures += r->status[p] != to;
			r->node[p] = r->status[p];
		}
	}
	for (i = 0; i < VM_NR; i++)
		phase->sum.vm[i] += d.vm[i];
	for (i = 0; i < DSA_NR; i++)
		phase->sum.dsa[i] += d.dsa[i];
	phase->failures += failures;
	phase->passes++;
	phase->ns += ns;
	return pattern_verify(r->addr, r->size, seed, &mismatch) ? 0 : mismatch.bad_bytes;
}

TEST_F_TIMEOUT(faulters, offload_vs_cpu, 300)
{
	struct rel_phase phases[2] = { { .name = "cpu" }, { .name = "offload" } };
	struct rel_faulter faulters[REL_FAULTERS];
	struct rel_region *r = &self->region;
	unsigned long long wrong = 0, touches = 0, budget;
	uint64_t seed = rel_test_seed();
	unsigned int round, i, n;
	int stop = 0, to = 1;

	pattern_fill(r->addr, r->size, seed);
	for (i = 0; i < REL_FAULTERS; i++) {
		faulters[i] = (struct rel_faulter){ .region = r, .rng = seed + i, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&faulters[i].thread, NULL, rel_faulter_main,
					    &faulters[i]));
	}
	for (round = 0; round < REL_FAULTERS_ROUNDS; round++) {
		for (n = 0; n < 2; n++) {
			knob_write(REL_CORE "engine", n ? "dsa" : "cpu");
			knob_write(REL_PROVIDER "delay_us", n ? REL_FAULTERS_DELAY_US : "0");
			for (i = 0; i < 2; i++, to = !to)
				wrong += rel_faulters_pass(&self->engine, r, &phases[n], to, seed);
		}
	}
	knob_write(REL_PROVIDER "delay_us", "0");
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < REL_FAULTERS; i++) {
		pthread_join(faulters[i].thread, NULL);
		touches += faulters[i].reads + faulters[i].writes;
	}
	for (n = 0; n < 2; n++) {
		struct rel_phase *p = &phases[n];

		ksft_print_msg("%s: %llu passes, %llu pages moved in %llu ms, %llu pages not moved;"
			       " pgmigrate_success +%lld pgmigrate_fail +%lld; migrate_copy offload"
			       " +%lld cpu +%lld fallback +%lld; dsa offloaded +%llu failed +%llu"
			       " timed_out +%llu\n", p->name, p->passes, p->pages_moved,
			       p->ns / 1000000, p->failures, p->sum.vm[VM_SUCCESS],
			       p->sum.vm[VM_FAIL], p->sum.vm[VM_OFFLOAD], p->sum.vm[VM_CPU],
			       p->sum.vm[VM_FALLBACK], p->sum.dsa[DSA_OFFLOADED],
			       p->sum.dsa[DSA_FAILED], p->sum.dsa[DSA_TIMED_OUT]);
	}
	ksft_print_msg("%llu touches by %d faulters; %llu wrong bytes\n", touches, REL_FAULTERS,
		       wrong);
	__atomic_add_fetch(&rel_totals->faulters, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->tests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->bytes_moved,
			   (phases[0].pages_moved + phases[1].pages_moved) * SIZE_4K,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->bytes_verified,
			   (phases[0].passes + phases[1].passes) * r->size, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->wrong_bytes, wrong, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_touches, touches, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_cpu_failures, phases[0].failures,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_offload_failures, phases[1].failures,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_cpu_pgmigrate_fail, phases[0].sum.vm[VM_FAIL],
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_offload_pgmigrate_fail,
			   phases[1].sum.vm[VM_FAIL], __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_offload_timed_out,
			   phases[1].sum.dsa[DSA_TIMED_OUT], __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_cpu_ms, phases[0].ns / 1000000,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&rel_totals->faulters_offload_ms, phases[1].ns / 1000000,
			   __ATOMIC_RELAXED);

	budget = 2 * phases[0].failures + REL_FAULTERS_SLACK;
	EXPECT_EQ(0ULL, wrong) TH_LOG("%llu bytes were wrong after passes", wrong);
	EXPECT_LT(0ULL, touches) TH_LOG("the faulters touched nothing");
	EXPECT_LT(0ULL, phases[1].sum.dsa[DSA_OFFLOADED])
		TH_LOG("the slow engine offloaded nothing: the pages were never in flight there");
	EXPECT_LE(phases[1].failures, budget)
		TH_LOG("with offload %llu pages failed to move, more than 2 x %llu (CPU) + %d",
		       phases[1].failures, phases[0].failures, REL_FAULTERS_SLACK);
}

/* ---- main: our options, then the kselftest harness ---- */

static void rel_print_totals(void)
{
	const struct rel_totals *t = rel_totals;

	if (!t || !(t->tests + t->controls))
		return;
	printf("# metric reliability_bytes_moved=%llu\n", t->bytes_moved);
	printf("# metric reliability_bytes_verified=%llu\n", t->bytes_verified);
	printf("# metric reliability_wrong_bytes=%llu\n", t->wrong_bytes);
	printf("# metric reliability_lost_writes=%llu\n", t->lost_writes);
	printf("# metric reliability_faults_injected=%llu\n", t->faults_injected);
	if (t->controls) {
		printf("# metric reliability_control_wrong_bytes=%llu\n", t->control_wrong_bytes);
		printf("# metric reliability_control_lost_writes=%llu\n", t->control_lost_writes);
		printf("# metric reliability_control_lied_folios=%llu\n", t->control_lied_folios);
		printf("# metric reliability_control_late_writes=%llu\n", t->control_late_writes);
		printf("# metric reliability_control_kasan_reports=%llu\n",
		       t->control_kasan_reports);
	}
	if (t->faulters) {
		printf("# metric reliability_faulters_touches=%llu\n", t->faulters_touches);
		printf("# metric reliability_faulters_cpu_failures=%llu\n",
		       t->faulters_cpu_failures);
		printf("# metric reliability_faulters_offload_failures=%llu\n",
		       t->faulters_offload_failures);
		printf("# metric reliability_faulters_cpu_pgmigrate_fail=%llu\n",
		       t->faulters_cpu_pgmigrate_fail);
		printf("# metric reliability_faulters_offload_pgmigrate_fail=%llu\n",
		       t->faulters_offload_pgmigrate_fail);
		printf("# metric reliability_faulters_offload_timed_out=%llu\n",
		       t->faulters_offload_timed_out);
		printf("# metric reliability_faulters_cpu_ms=%llu\n", t->faulters_cpu_ms);
		printf("# metric reliability_faulters_offload_ms=%llu\n", t->faulters_offload_ms);
	}
	fflush(stdout);
}

static void rel_usage(const char *program)
{
	fprintf(stderr, "usage: %s [--mib N] [--seconds N] [--region-mib N] [--writers N]"
		" [--emu-hangs N] [--seed N] [kselftest options, -h for them]\n", program);
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	char **args = calloc(argc + 1, sizeof(char *));
	int nargs = 0, i;

	if (!args)
		return KSFT_FAIL;
	args[nargs++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(opt, "--mib")) {
			if (!value || parse_long(value, 1, 1 << 20, &rel_opts.mib))
				rel_usage(argv[0]);
		} else if (!strcmp(opt, "--seconds")) {
			if (!value || parse_long(value, 1, 24 * 3600, &rel_opts.seconds))
				rel_usage(argv[0]);
		} else if (!strcmp(opt, "--region-mib")) {
			if (!value || parse_region_mib(value, &rel_opts.region_mib) ||
			    rel_opts.region_mib > 64)
				rel_usage(argv[0]);
		} else if (!strcmp(opt, "--writers")) {
			if (!value || parse_long(value, 1, REL_MAX_WRITERS, &rel_opts.writers))
				rel_usage(argv[0]);
		} else if (!strcmp(opt, "--emu-hangs")) {
			if (!value || parse_long(value, 0, REL_EMU_MAX_HANGS, &rel_opts.emu_hangs))
				rel_usage(argv[0]);
		} else if (!strcmp(opt, "--seed")) {
			if (!value)
				rel_usage(argv[0]);
			errno = 0;
			rel_opts.seed = strtoull(value, &end, 0);
			if (errno || *end || !*value)
				rel_usage(argv[0]);
			rel_opts.seed_given = true;
		} else {
			args[nargs++] = argv[i];
			continue;
		}
		i++;
	}
	rel_totals = mmap(NULL, sizeof(*rel_totals), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rel_totals == MAP_FAILED)
		return KSFT_FAIL;
	memset(rel_totals, 0, sizeof(*rel_totals));
	/* A longer run needs a longer per-test timeout than the default. */
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			if (t->timeout < rel_opts.seconds + 240)
				t->timeout = rel_opts.seconds + 240;
	/* kselftest prints the TAP header; the library's diagnostics must not. */
	tap_header_printed();
	atexit(rel_print_totals);
	return test_harness_run(nargs, args);
}
