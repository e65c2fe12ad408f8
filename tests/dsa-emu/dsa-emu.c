// SPDX-License-Identifier: GPL-2.0
/*
 * dsa-emu: the unmodified idxd driver, Debian's accel-config, dmatest and
 * our DSA copy engine (drivers/dma/idxd/migrate_copy.c) on the emulated
 * Intel DSA of tools/qemu-dsa. The device model's counters, read from its
 * emulator-only vendor window, prove which path ran.
 *
 *   dsa-emu --scenario NAME [--kind 4k|thp] [--mib N | --pages N]
 *
 *   probe       idxd binds the 8086:0b25 device; /sys/bus/dsa shows dsa0
 *               with the device's capabilities
 *   accel-config accel-config enables a dedicated kernel WQ "dmaengine"; a
 *               dmaengine channel appears; disabling it removes it
 *   dmatest     dmatest passes on that channel; the device ran its copies
 *   descriptors raw descriptors written with MOVDIR64B from user space to the
 *               WQ's portal (BAR2): NOOP, FILL, MEMMOVE, COMPARE, BATCH,
 *               DRAIN, and the errors for a bad opcode, a transfer over
 *               the WQ's maximum, a batch of one, no completion record.
 *               User space knows only physical addresses: the device's
 *               emulator-only IOMMU bypass is on for it
 *   offload     move_pages node 0 -> 1 -> 0 through the engine with only
 *               idxd channels (any_provider=0): bytes verified, the device's
 *               MEMMOVE bytes equal the bytes of the folios it offloaded
 *   error       the device fails every 4th copy (batch members included):
 *               those folios fall back to the CPU, every byte right
 *   batch       migrating N 4K folios through a WQ whose batches take B
 *               members takes ceil(N / B) portal writes and interrupts
 *   batch-errors the same with every 5th member failing: exactly those
 *               folios fall back, with no more portal writes or interrupts
 *   dst-hint    dst_hint=cache sets DSA's cache control flag on every
 *               MEMMOVE, memory on none, auto on none for move_pages
 *   counts      a benchmark: per 1000 folios, the portal writes,
 *               interrupts, engine callbacks and DMA map calls of a move
 *               with one descriptor per copy and with batch descriptors
 *   late        every descriptor completes after the engine's timeout: the
 *               copies time out, the late completions release them
 *   hang        every 64th descriptor never completes: those copies time
 *               out and are retried; disabling the WQ aborts them
 *   wq-disable  accel-config disables the WQ while a child migrates and
 *               verifies in a loop: no crash, the CPU takes over
 *   iommu-fault with the guest IOMMU (intel-iommu, strict): raw descriptors
 *               whose source, destination or descriptor list is not mapped
 *               complete with DSA's page fault statuses and the faulting
 *               address, and write nothing; one whose completion record is
 *               not mapped goes to SWERR (0x1a), which idxd logs; then the
 *               device gives every 4th descriptor of the engine's a
 *               destination (then a source) that does not translate:
 *               idxd reports them failed, those folios fall back to the
 *               CPU, every byte right
 *
 * Everything is put back at the end: knobs, faults, the WQ disabled. The
 * device stays enabled (see dsa_wq_down()).
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

#include "dsa-dev.h"
#include "knobs.h"
#include "kprobe-count.h"
#include "numa-util.h"
#include "tap.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define ENGINE		"/sys/kernel/mm/migrate_copy/dsa/"
#define DSA_BUS		"/sys/bus/dsa/devices/"
#define ENGINE_MODULE	"idxd_migrate_copy"
#define MOVES		8

enum scenario {
	SC_PROBE, SC_ACCEL_CONFIG, SC_DMATEST, SC_DESCRIPTORS, SC_OFFLOAD, SC_ERROR, SC_LATE,
	SC_HANG, SC_GONE, SC_IOMMU_FAULT, SC_UNLOAD, SC_SMALL_WQ, SC_XFER, SC_HALT, SC_NODE,
	SC_REORDER, SC_BATCH, SC_BATCH_ERRORS, SC_COUNTS, SC_DST_HINT, SC_COUNT
};

static const char *const names[SC_COUNT] = {
	"probe", "accel-config", "dmatest", "descriptors", "offload", "error", "late", "hang",
	"gone", "iommu-fault", "unload", "small-wq", "xfer", "halt", "node", "reorder",
	"batch", "batch-errors", "counts", "dst-hint",
};

/* How the WQ goes away under the engine in scenario "gone". */
enum gone_how { GONE_WQ_DISABLE, GONE_DEVICE_DISABLE, GONE_UNBIND, GONE_PCI_REMOVE,
		GONE_IDXD_UNLOAD, GONE_COUNT };

static const char *const gone_names[GONE_COUNT] = {
	"wq-disable", "device-disable", "unbind", "pci-remove", "idxd-unload",
};

static struct dsa_dev dev;
static struct knob_saved saved;

struct run {
	enum scenario scenario;
	enum gone_how how;
	unsigned int xfer_kib;
	unsigned int max_batch;	/* the WQ's max batch size; 0: idxd's default */
	enum mig_kind kind;
	size_t size;
	struct mig_region region;
	uint64_t seed;
};

/* Engine and device counters around one move. */
struct counts {
	long long offload, fallback, cpu, pgmigrate;
	unsigned long long offloaded, failed, timed_out;
	uint64_t device[DSA_CNT_NR];
};

static unsigned long long engine_counter(const char *name)
{
	char path[128];
	unsigned long long value = 0;

	snprintf(path, sizeof(path), ENGINE "%s", name);
	if (knob_read_u64(path, &value))
		tap_diag("cannot read %s", path);
	return value;
}

static void counts_take(struct counts *c)
{
	c->offload = vmstat_read("migrate_copy_offload");
	c->fallback = vmstat_read("migrate_copy_fallback");
	c->cpu = vmstat_read("migrate_copy_cpu");
	c->pgmigrate = vmstat_read("pgmigrate_success");
	c->offloaded = engine_counter("offloaded");
	c->failed = engine_counter("failed");
	c->timed_out = engine_counter("timed_out");
	dsa_dev_counters(&dev, c->device);
}

/* @after -= @before, field by field. */
static void counts_since(struct counts *after, const struct counts *before)
{
	unsigned int i;

	after->offload -= before->offload;
	after->fallback -= before->fallback;
	after->cpu -= before->cpu;
	after->pgmigrate -= before->pgmigrate;
	after->offloaded -= before->offloaded;
	after->failed -= before->failed;
	after->timed_out -= before->timed_out;
	for (i = 0; i < DSA_CNT_NR; i++)
		after->device[i] -= before->device[i];
	tap_diag("engine: offload +%lld fallback +%lld cpu +%lld (offloaded +%llu failed +%llu"
		 " timed_out +%llu); device: memmove +%llu bytes +%llu errors +%llu hangs +%llu"
		 " interrupts +%llu", after->offload, after->fallback, after->cpu,
		 after->offloaded, after->failed, after->timed_out,
		 (unsigned long long)after->device[DSA_CNT_MEMMOVE],
		 (unsigned long long)after->device[DSA_CNT_MEMMOVE_BYTES],
		 (unsigned long long)after->device[DSA_CNT_INJ_ERRORS],
		 (unsigned long long)after->device[DSA_CNT_INJ_HANGS],
		 (unsigned long long)after->device[DSA_CNT_COMP_INTR]);
}

/* Move the region to @node (up to @max_moves moves), then verify it. */
static bool move_verified(struct run *run, int node, int max_moves, struct counts *delta)
{
	struct pattern_mismatch mismatch;
	struct mig_placement placement;
	struct mig_move_result result;
	struct counts before;
	int moves;

	counts_take(&before);
	for (moves = 1; ; moves++) {
		mig_region_move(&run->region, node, &result);
		mig_region_query(&run->region, node, &placement);
		if (placement.status.matching == run->region.nr_pages || moves == max_moves)
			break;
	}
	counts_take(delta);
	counts_since(delta, &before);
	tap_ok(placement.status.matching == run->region.nr_pages,
	       "-> node %d: every page arrived (%d move(s))", node, moves);
	return tap_ok(pattern_verify(run->region.addr, run->region.size, run->seed, &mismatch),
		      "-> node %d: every byte right", node);
}

/*
 * Move the region to @node while the device hangs on some copies: a folio
 * whose copy is quarantined keeps its source referenced until the device
 * lets go of it, so it cannot migrate until then. Every other page must
 * arrive, and every byte be right.
 */
static long long engine_held(void);

/* Destination pages the engine holds for copies it gave up on. */
static long long engine_held_pages(void)
{
	return engine_counter("quarantined_pages");
}

static void move_held_back(struct run *run, int node, struct counts *delta)
{
	struct pattern_mismatch mismatch;
	struct mig_placement placement;
	struct mig_move_result result;
	struct counts before;
	long long missing, held, timed_out_pages;
	int moves;

	counts_take(&before);
	for (moves = 0; moves < MOVES; moves++)
		mig_region_move(&run->region, node, &result);
	mig_region_query(&run->region, node, &placement);
	counts_take(delta);
	counts_since(delta, &before);
	missing = run->region.nr_pages - placement.status.matching;
	held = engine_held_pages();
	/*
	 * A late completion may release its quarantined destination before
	 * quarantined_pages is read: the pages of the copies that timed out
	 * during these moves bound what may be missing too.
	 */
	timed_out_pages = delta->timed_out * (run->region.folio_size / SIZE_4K);
	tap_ok(missing <= held || missing <= timed_out_pages,
	       "-> node %d: every page arrived but those of the %lld pages of quarantined"
	       " copies (%lld held, %lld of copies that timed out; %lld did not)", node,
	       held > timed_out_pages ? held : timed_out_pages, held, timed_out_pages, missing);
	tap_ok(pattern_verify(run->region.addr, run->region.size, run->seed, &mismatch),
	       "-> node %d: every byte right", node);
}

/*
 * What holds for every move through the engine. The device moved exactly
 * the offloaded folios' bytes; when some of a folio's descriptors failed or
 * timed out, the ones that succeeded moved bytes the CPU then copied again.
 */
static void check_accounting(const struct run *run, const struct counts *d, int node)
{
	unsigned long long bytes = d->offloaded * run->region.folio_size;
	uint64_t moved = d->device[DSA_CNT_MEMMOVE_BYTES];
	bool exact = !d->failed && !d->timed_out;

	tap_ok(d->offload == (long long)d->offloaded && d->fallback == (long long)d->failed,
	       "-> node %d: vmstat offload/fallback equal the engine's offloaded/failed", node);
	tap_ok((exact ? moved == bytes : moved >= bytes) && d->device[DSA_CNT_MEMMOVE] >=
	       d->offloaded, "-> node %d: the device moved the %llu bytes of the %llu folios"
	       " offloaded (%s), in %llu descriptors", node, bytes, d->offloaded,
	       exact ? "exactly" : "and more", (unsigned long long)d->device[DSA_CNT_MEMMOVE]);
}

static bool engine_setup(const char *timeout_ms)
{
	int err;

	if (module_load(ENGINE_MODULE))
		return false;
	err = knob_set(&saved, ENGINE "any_provider", "0") ?:
	      knob_set(&saved, ENGINE "timeout_ms", timeout_ms) ?:
	      knob_set(&saved, ENGINE "enabled", "1") ?:
	      knob_set(&saved, CORE "engine", "dsa") ?:
	      knob_set(&saved, CORE "reasons", "all") ?:
	      knob_set(&saved, CORE "min_batch_bytes", "0") ?:
	      knob_set(&saved, CORE "enabled", "true");
	if (err)
		tap_diag("setting the engine's knobs failed: %s", strerror(-err));
	return !err;
}

static bool region_setup(struct run *run)
{
	struct mig_placement placement;
	long ret;

	if (mig_region_create(&run->region, run->kind, run->size, 0))
		return false;
	if (!mig_region_place(&run->region, 0, &placement, &ret))
		return false;
	run->seed = pattern_seed();
	pattern_fill(run->region.addr, run->region.size, run->seed);
	return true;
}

static void scenario_probe(void)
{
	char text[64], driver[256], path[128];
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev.bdf);
	len = readlink(path, driver, sizeof(driver) - 1);
	driver[len > 0 ? len : 0] = 0;
	tap_ok(strstr(driver, "/idxd") != NULL, "%s is bound to idxd (%s)", dev.bdf, driver);
	tap_ok(access(DSA_BUS "dsa0", F_OK) == 0, "/sys/bus/dsa shows dsa0");
	tap_ok(!knob_read(DSA_BUS "dsa0/max_work_queues", text, sizeof(text)) &&
	       !strcmp(text, "4"), "dsa0 has the device's 4 work queues (%s)", text);
	tap_ok(!knob_read(DSA_BUS "dsa0/version", text, sizeof(text)) &&
	       !strcmp(text, "0x100"), "dsa0 is DSA version 1.0 (%s)", text);
	tap_ok(access(DSA_BUS "wq0.3", F_OK) == 0 && access(DSA_BUS "engine0.3", F_OK) == 0,
	       "wq0.0-wq0.3 and engine0.0-engine0.3 are listed");
	tap_ok(dsa_dev_counter(&dev, DSA_CNT_CMDS) > 0,
	       "the device saw idxd's commands (%llu)",
	       (unsigned long long)dsa_dev_counter(&dev, DSA_CNT_CMDS));
}

static void scenario_accel_config(void)
{
	char text[64], chan[64];
	uint64_t cmds = dsa_dev_counter(&dev, DSA_CNT_CMDS);

	tap_ok(dsa_wq_up() == 0, "accel-config configured and enabled dsa0/wq0.0");
	tap_ok(!knob_read(DSA_BUS "wq0.0/state", text, sizeof(text)) && !strcmp(text, "enabled"),
	       "wq0.0 is enabled (%s)", text);
	tap_ok(!knob_read(DSA_BUS "wq0.0/driver_name", text, sizeof(text)) &&
	       !strcmp(text, "dmaengine"), "its driver_name is dmaengine (%s)", text);
	tap_ok(!dsa_wq_channel(&dev, chan, sizeof(chan)), "it offers dmaengine channel %s", chan);
	tap_ok(dsa_dev_counter(&dev, DSA_CNT_CMDS) >= cmds + 2,
	       "the device executed the enable commands");
	tap_ok(dsa_wq_down(false) == 0, "accel-config disabled the WQ");
	tap_ok(dsa_wq_channel(&dev, chan, sizeof(chan)) == -ENOENT, "the channel is gone");
}

/* dmatest's summary line for @chan in the kernel log after @since. */
static bool dmatest_summary(int kmsg, const char *chan, unsigned int *tests,
			    unsigned int *failures)
{
	char record[1024], *line, *at;
	bool found = false;
	ssize_t len;

	while ((len = read(kmsg, record, sizeof(record) - 1)) > 0 || (len < 0 && errno == EPIPE)) {
		if (len < 0)
			continue;
		record[len] = 0;
		line = strchr(record, ';');
		if (!line || !strstr(line, chan) || !(at = strstr(line, "summary ")))
			continue;
		tap_diag("%s", line + 1);
		found = sscanf(at, "summary %u tests, %u failures", tests, failures) == 2;
	}
	return found;
}

static void scenario_dmatest(void)
{
	unsigned int tests = 0, failures = 1;
	bool found;
	int i;
	char chan[64] = "", text[16];
	uint64_t memmove;
	int kmsg;

	if (!tap_ok(dsa_wq_up() == 0 && !dsa_wq_channel(&dev, chan, sizeof(chan)),
		    "a dedicated kernel WQ offers channel %s", chan))
		return;
	memmove = dsa_dev_counter(&dev, DSA_CNT_MEMMOVE);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	lseek(kmsg, 0, SEEK_END);
	tap_ok(module_load_with("dmatest", "iterations=200") == 0 &&
	       !knob_write("/sys/module/dmatest/parameters/channel", chan) &&
	       !knob_write("/sys/module/dmatest/parameters/run", "1") &&
	       !knob_read("/sys/module/dmatest/parameters/wait", text, sizeof(text)),
	       "dmatest ran 200 copies on %s", chan);
	/* "wait" returns at once if read before the thread starts: poll the log. */
	for (i = 0, found = false; i < 1200 && !found; i++) {
		found = dmatest_summary(kmsg, chan, &tests, &failures);
		if (!found)
			usleep(100 * 1000);
	}
	tap_ok(found && tests == 200 && failures == 0, "dmatest: %u tests, %u failures", tests,
	       failures);
	close(kmsg);
	tap_ok(dsa_dev_counter(&dev, DSA_CNT_MEMMOVE) - memmove >= 200,
	       "the device executed them (%llu MEMMOVE descriptors)",
	       (unsigned long long)(dsa_dev_counter(&dev, DSA_CNT_MEMMOVE) - memmove));
	tap_ok(module_unload("dmatest") == 0 && dsa_wq_down(false) == 0,
	       "dmatest unloaded, WQ disabled");
}

/* ---- raw descriptors from user space ---- */

struct hw_desc {
	uint32_t pasid;
	uint32_t flags_op;
	uint64_t completion;
	uint64_t src;
	uint64_t dst;
	uint32_t size;
	uint16_t int_handle;
	uint16_t rsvd;
	uint64_t rest[3];
} __attribute__((packed, aligned(64)));

struct completion_record {
	volatile uint8_t status;
	uint8_t result;
	uint16_t rsvd;
	uint32_t bytes_completed;
	uint64_t fault_addr;
	uint64_t rest[2];
} __attribute__((packed, aligned(32)));

/* Completion statuses (include/uapi/linux/idxd.h) */
#define COMP_PAGE_FAULT_NOBOF	0x03
#define COMP_BATCH_PAGE_FAULT	0x06
#define COMP_CRA_XLAT		0x1a
#define COMP_STATUS_WRITE	0x80

#define OP(op, flags)	((uint32_t)(op) << 24 | (flags))
#define CRAV_RCR	(0x0004 | 0x0008)

/* The pinned pages descriptors work on, and their physical addresses. */
struct desc_pages {
	struct completion_record *records;	/* page 0 */
	uint8_t *src, *dst;			/* pages 1 and 2 */
	struct hw_desc *list;			/* page 3: a batch's descriptors */
	uint64_t phys[4];
	volatile void *portal;
};

static uint64_t phys_of(void *addr)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &entry, sizeof(entry), (uintptr_t)addr / SIZE_4K * 8) != 8)
			entry = 0;
		close(fd);
	}
	if (!(entry >> 63) || !(entry & ((1ULL << 55) - 1)))
		return 0;
	return (entry & ((1ULL << 55) - 1)) * SIZE_4K + (uintptr_t)addr % SIZE_4K;
}

static bool desc_pages_setup(struct desc_pages *p)
{
	char path[128];
	uint8_t *base = region_map(4 * SIZE_4K, SIZE_4K);
	void *portal;
	int i, fd;

	if (!base || mlock(base, 4 * SIZE_4K))
		return false;
	memset(base, 0, 4 * SIZE_4K);
	p->records = (void *)base;
	p->src = base + SIZE_4K;
	p->dst = base + 2 * SIZE_4K;
	p->list = (void *)(base + 3 * SIZE_4K);
	for (i = 0; i < 4; i++)
		if (!(p->phys[i] = phys_of(base + i * SIZE_4K)))
			return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource2", dev.bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return false;
	/* wq0.0's portal: the first 4 KiB of BAR2. */
	portal = mmap(NULL, SIZE_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	p->portal = portal == MAP_FAILED ? NULL : portal;
	return p->portal != NULL;
}

/*
 * Submit @desc with MOVDIR64B and wait for the status of record @rec;
 * 0 when none came within two seconds.
 */
static uint8_t desc_run(struct desc_pages *p, struct hw_desc *desc, int rec)
{
	int i;

	p->records[rec].status = 0;
	if (desc->flags_op & 0x0004)
		desc->completion = p->phys[0] + rec * sizeof(*p->records);
	__sync_synchronize();
	asm volatile(".byte 0x66, 0x0f, 0x38, 0xf8, 0x02" /* movdir64b (%rdx), %rax */
		     : : "a"(p->portal), "d"(desc) : "memory");
	for (i = 0; i < 2000 && !p->records[rec].status; i++)
		usleep(1000);
	return p->records[rec].status;
}

/*
 * A dedicated WQ holds at most its size: fill wq0.0 with slow FILLs
 * (nothing completes for two seconds), one more than it holds. The device
 * discards the last and reports it in SWERR (0x53), as DSA does.
 */
static void desc_overfill(struct desc_pages *p)
{
	unsigned long long size = 0, i;
	uint64_t full = dsa_dev_counter(&dev, DSA_CNT_WQ_FULL);
	uint64_t swerr = dsa_dev_counter(&dev, DSA_CNT_SWERR);
	struct hw_desc d = { .flags_op = OP(4, 0), .dst = p->phys[2], .size = 64 };

	knob_read_u64(DSA_BUS "wq0.0/size", &size);
	dsa_dev_write32(&dev, DSA_EMU_DELAY_US, 2000000);
	for (i = 0; i <= size; i++)
		asm volatile(".byte 0x66, 0x0f, 0x38, 0xf8, 0x02" /* movdir64b (%rdx), %rax */
			     : : "a"(p->portal), "d"(&d) : "memory");
	tap_ok(size && dsa_dev_counter(&dev, DSA_CNT_WQ_FULL) == full + 1 &&
	       dsa_dev_counter(&dev, DSA_CNT_SWERR) == swerr + 1,
	       "a %llu-slot dedicated WQ refuses descriptor %llu: SWERR, not queued", size,
	       size + 1);
	dsa_dev_write32(&dev, DSA_EMU_DELAY_US, 0);
}

/* Submit @desc and check that record @rec gets status @want. */
static void desc_expect(struct desc_pages *p, struct hw_desc *desc, int rec, uint8_t want,
			const char *what)
{
	uint8_t status = desc_run(p, desc, rec);

	tap_ok(status == want, "%s (status %#x, expected %#x)", what, status, want);
}

static void scenario_descriptors(void)
{
	struct desc_pages p = { 0 };
	struct hw_desc d;
	uint64_t pattern = 0x0123456789abcdefULL, batches, swerr;
	uint8_t status, st[3];
	bool same = true;
	size_t i;

	if (!tap_ok(dsa_wq_up() == 0 && desc_pages_setup(&p),
		    "wq0.0 enabled, its portal mapped, four pinned pages"))
		return;
	/* Physical addresses are no IOVAs when the guest IOMMU translates. */
	dsa_dev_write32(&dev, DSA_EMU_BYPASS, DSA_BYPASS_ALL);
	memset(&d, 0, sizeof(d));
	d.flags_op = OP(0, CRAV_RCR);
	desc_expect(&p, &d, 0, 1, "NOOP completes");

	d = (struct hw_desc){ .flags_op = OP(4, CRAV_RCR), .src = pattern,
			      .dst = p.phys[2], .size = SIZE_4K };
	status = desc_run(&p, &d, 1);
	for (i = 0; i < SIZE_4K; i++)
		same &= p.dst[i] == (uint8_t)(pattern >> (i % 8 * 8));
	tap_ok(status == 1 && same, "FILL writes the 8-byte pattern (status %#x)", status);

	pattern_fill(p.src, SIZE_4K, 42);
	d = (struct hw_desc){ .flags_op = OP(3, CRAV_RCR), .src = p.phys[1],
			      .dst = p.phys[2], .size = SIZE_4K };
	status = desc_run(&p, &d, 2);
	tap_ok(status == 1 && !memcmp(p.src, p.dst, SIZE_4K), "MEMMOVE copies (status %#x)",
	       status);

	p.dst[100] ^= 0xff;
	d = (struct hw_desc){ .flags_op = OP(5, CRAV_RCR), .src = p.phys[1],
			      .dst = p.phys[2], .size = SIZE_4K };
	status = desc_run(&p, &d, 3);
	tap_ok(status == 1 && p.records[3].result == 1 && p.records[3].bytes_completed == 100,
	       "COMPARE finds the difference at byte 100 (status %#x result %u at %u)", status,
	       p.records[3].result, p.records[3].bytes_completed);

	batches = dsa_dev_counter(&dev, DSA_CNT_BATCH);
	memset(p.list, 0, 3 * sizeof(*p.list));
	p.list[0].flags_op = OP(0, CRAV_RCR);
	p.list[0].completion = p.phys[0] + 5 * sizeof(*p.records);
	p.list[1] = (struct hw_desc){ .flags_op = OP(4, CRAV_RCR), .src = 0,
				      .dst = p.phys[2], .size = 64,
				      .completion = p.phys[0] + 6 * sizeof(*p.records) };
	p.list[2] = (struct hw_desc){ .flags_op = OP(3, CRAV_RCR), .src = p.phys[1],
				      .dst = p.phys[2] + 64, .size = 64,
				      .completion = p.phys[0] + 7 * sizeof(*p.records) };
	for (i = 5; i < 8; i++)
		p.records[i].status = 0;
	d = (struct hw_desc){ .flags_op = OP(1, CRAV_RCR), .src = p.phys[3], .size = 3 };
	status = desc_run(&p, &d, 4);
	for (i = 0; i < 3; i++)
		st[i] = p.records[5 + i].status;
	tap_ok(status == 1 && st[0] == 1 && st[1] == 1 && st[2] == 1 &&
	       !p.dst[0] && !memcmp(p.dst + 64, p.src, 64) &&
	       dsa_dev_counter(&dev, DSA_CNT_BATCH) == batches + 1,
	       "a BATCH of NOOP, FILL and MEMMOVE completes them all (status %#x: %#x %#x %#x)",
	       status, st[0], st[1], st[2]);

	d = (struct hw_desc){ .flags_op = OP(2, CRAV_RCR) };
	desc_expect(&p, &d, 8, 1, "DRAIN completes");

	d = (struct hw_desc){ .flags_op = OP(0x3f, CRAV_RCR) };
	desc_expect(&p, &d, 9, 0x10, "an unknown opcode fails");

	/* idxd sets the WQ's maximum transfer to 2 MiB by default. */
	d = (struct hw_desc){ .flags_op = OP(3, CRAV_RCR), .src = p.phys[1],
			      .dst = p.phys[2], .size = 4 << 20 };
	desc_expect(&p, &d, 10, 0x13, "a transfer over the WQ's maximum fails");

	d = (struct hw_desc){ .flags_op = OP(1, CRAV_RCR), .src = p.phys[3], .size = 1 };
	desc_expect(&p, &d, 11, 0x14, "a batch of one fails");

	swerr = dsa_dev_counter(&dev, DSA_CNT_SWERR);
	d = (struct hw_desc){ .flags_op = OP(0x3f, 0) };
	desc_run(&p, &d, 12);
	tap_ok(dsa_dev_counter(&dev, DSA_CNT_SWERR) == swerr + 1,
	       "an error without a completion record goes to SWERR");
	desc_overfill(&p);
	dsa_dev_write32(&dev, DSA_EMU_BYPASS, 0);
	tap_ok(dsa_wq_down(true) == 0, "WQ disabled");
}

static void scenario_offload(struct run *run)
{
	struct counts d;
	int node;

	for (node = 1; node >= 0; node--) {
		move_verified(run, node, 1, &d);
		check_accounting(run, &d, node);
		tap_ok(d.offloaded == run->region.nr_folios && d.failed == 0 &&
		       d.device[DSA_CNT_ERRORS] == 0, "-> node %d: all %zu folios offloaded",
		       node, run->region.nr_folios);
	}
}

static void scenario_error(struct run *run)
{
	struct counts d;

	/* A THP takes one descriptor on a 2 MiB WQ: fail some THPs, not all. */
	dsa_dev_write32(&dev, DSA_EMU_ERR_EVERY, run->kind == MIG_KIND_4K ? 4 : 3);
	move_verified(run, 1, 1, &d);
	check_accounting(run, &d, 1);
	tap_ok(d.failed > 0 && d.offloaded + d.failed == run->region.nr_folios,
	       "-> node 1: %llu folios fell back after device errors, %llu offloaded",
	       d.failed, d.offloaded);
	tap_ok(d.failed <= d.device[DSA_CNT_INJ_ERRORS] && (run->kind != MIG_KIND_4K ||
	       d.failed == d.device[DSA_CNT_INJ_ERRORS]),
	       "-> node 1: every fallback follows an injected device error (%llu)",
	       (unsigned long long)d.device[DSA_CNT_INJ_ERRORS]);
	dsa_dev_faults_off(&dev);
	move_verified(run, 0, 1, &d);
	check_accounting(run, &d, 0);
}

/*
 * Descriptors the device accepted and has neither completed nor dropped as
 * injected hangs (batch members complete without being submitted; a batch
 * whose member hangs never completes either).
 */
static long long device_outstanding(void)
{
	return dsa_dev_counter(&dev, DSA_CNT_SUBMITTED) + dsa_dev_counter(&dev, DSA_CNT_BATCH_DESCS) -
	       dsa_dev_counter(&dev, DSA_CNT_COMPLETED) - dsa_dev_counter(&dev, DSA_CNT_INJ_HANGS) -
	       dsa_dev_counter(&dev, DSA_CNT_HUNG_BATCHES);
}

/* Copies the engine gave up on and still holds the destinations of. */
static long long engine_held(void)
{
	return engine_counter("quarantined") - engine_counter("released");
}

/*
 * Wait until the device has nothing left to complete and the engine holds
 * no destination. Also what makes unloading the engine safe afterwards: a
 * late callback must never find its module gone.
 */
static void wait_released(void)
{
	long long held = 1, busy = 1;
	int i;

	for (i = 0; i < 100 && (held || busy); i++) {
		usleep(100 * 1000);
		held = engine_held();
		busy = device_outstanding();
	}
	tap_ok(!held && !busy, "every late completion arrived and released its destination"
	       " (%lld held, %lld descriptors outstanding)", held, busy);
}

static void scenario_late(struct run *run)
{
	struct counts d;

	/*
	 * 300 ms per descriptor, the engine waits 50 ms. A folio whose copy
	 * is late stays put until the late completion released its source.
	 */
	dsa_dev_write32(&dev, DSA_EMU_DELAY_US, 300000);
	move_held_back(run, 1, &d);
	tap_ok(d.timed_out > 0, "-> node 1: copies timed out (%llu)", d.timed_out);
	wait_released();
	dsa_dev_faults_off(&dev);
	move_verified(run, 1, MOVES, &d);
	move_verified(run, 0, MOVES, &d);
	check_accounting(run, &d, 0);
}

/*
 * Unload the engine once nothing holds it: the module references of
 * released copies are dropped by a work item shortly after their release.
 */
static int engine_unload(void)
{
	unsigned long long refs = 1;
	int i;

	for (i = 0; i < 50 && refs; i++) {
		if (knob_read_u64("/sys/module/" ENGINE_MODULE "/refcnt", &refs))
			break;
		if (refs)
			usleep(100 * 1000);
	}
	return module_unload(ENGINE_MODULE);
}

/* Channels the engine holds. */
static long long engine_channels(void)
{
	return (long long)engine_counter("nr_channels");
}

/* Wait up to 10 s until the engine holds @want channels. */
static bool engine_channels_become(long long want)
{
	int i;

	for (i = 0; i < 100 && engine_channels() != want; i++)
		usleep(100 * 1000);
	return engine_channels() == want;
}

/*
 * After a WQ came back (@back: bringing it back worked): the engine takes
 * its channel again and the next move to @node is offloaded whole.
 */
static void check_offload_resumes(struct run *run, bool back, const char *what, int node)
{
	struct counts d;
	long long moved;

	tap_ok(back && engine_channels_become(1), "%s: the engine took its channel again", what);
	move_verified(run, node, 1, &d);
	/*
	 * Folios whose copies were quarantined stayed where they were and may
	 * be on @node already: every folio that moved must have been offloaded.
	 */
	moved = d.pgmigrate / (long long)(run->region.folio_size / SIZE_4K);
	tap_ok(d.offloaded > 0 && (long long)d.offloaded == moved,
	       "-> node %d: offload resumed (%llu of the %lld folios that moved; %llu failed,"
	       " %llu timed out)", node, d.offloaded, moved, d.failed, d.timed_out);
}

/*
 * Configure dsa0 from scratch with one dedicated kernel WQ, with extra
 * config-wq @options (sizes and transfer limits change only while the
 * device is disabled), and enable it. Engine 0.1 joins group 0 too when
 * @two_engines: the device then runs the WQ's descriptors concurrently.
 */
static int wq_configure(const char *options, bool two_engines)
{
	char state[32] = "";

	if (!knob_read(DSA_BUS "wq0.0/state", state, sizeof(state)) && !strcmp(state, "enabled"))
		dsa_run("accel-config disable-wq --force dsa0/wq0.0");
	if (!knob_read(DSA_BUS "dsa0/state", state, sizeof(state)) && !strcmp(state, "enabled"))
		dsa_run("accel-config disable-device --force dsa0");
	return dsa_run("accel-config config-engine dsa0/engine0.0 --group-id=0") ?:
	       (two_engines ? dsa_run("accel-config config-engine dsa0/engine0.1 --group-id=0") : 0) ?:
	       dsa_run("accel-config config-wq dsa0/wq0.0 --group-id=0 --mode=dedicated"
		       " --type=kernel --name=dmaengine --driver-name=dmaengine --priority=10 %s",
		       options) ?:
	       dsa_run("accel-config enable-device dsa0") ?:
	       dsa_run("accel-config enable-wq dsa0/wq0.0");
}

static int wq_reconfigure(const char *options)
{
	return wq_configure(options, false);
}

static void scenario_hang(struct run *run)
{
	struct counts d;

	dsa_dev_write32(&dev, DSA_EMU_HANG_EVERY, 64);
	move_held_back(run, 1, &d);
	tap_ok(d.timed_out > 0 && d.device[DSA_CNT_INJ_HANGS] > 0,
	       "-> node 1: copies the device never completed timed out (%llu, %llu hung)",
	       d.timed_out, (unsigned long long)d.device[DSA_CNT_INJ_HANGS]);
	dsa_dev_faults_off(&dev);
	move_held_back(run, 0, &d);
	tap_ok(engine_held() > 0, "their folios are quarantined (%lld)", engine_held());
	tap_ok(dsa_wq_down(true) == 0, "accel-config --force disabled the WQ under the engine");
	/*
	 * idxd drops the descriptors still pending on a disabled WQ without
	 * calling back; the engine learns from the dsa bus that the WQ was
	 * reset, after which the device cannot touch them: it lets them go.
	 */
	tap_ok(device_outstanding() == 0, "the device has nothing outstanding (%lld)",
	       device_outstanding());
	tap_ok(engine_held() == 0 && engine_channels() == 0,
	       "the engine released every quarantined copy and gave the channel back (%lld held)",
	       engine_held());
	move_verified(run, 0, 1, &d);
	/* Without injected hangs, a TCG guest under load needs more than 100 ms. */
	knob_write(ENGINE "timeout_ms", "2000");
	check_offload_resumes(run, dsa_wq_up() == 0, "the WQ enabled again", 1);
}

/* A shell command in the background; a forked copy of us would share the region. */
static pid_t spawn(const char *command)
{
	pid_t child = fork();

	if (!child) {
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	return child;
}

/* What migrate_while() saw. */
struct loop {
	int status;	/* the child's wait status */
	int rounds;	/* moves done */
	int bad;	/* moves after which some byte was wrong */
	int node;	/* where the next move would go: where the region is not */
};

/*
 * Run @command in the background and migrate the region back and forth,
 * verifying every round, until @after rounds past the command's end (or
 * @seconds); a command still running then is killed.
 */
static void migrate_while(struct run *run, const char *command, int after, int seconds,
			  struct loop *loop)
{
	uint64_t deadline = time_now_ns() + seconds * 1000000000ULL;
	struct pattern_mismatch mismatch;
	struct mig_move_result result;
	pid_t child = spawn(command);

	*loop = (struct loop){ .status = -1, .node = 1 };
	while (after > 0 && time_now_ns() < deadline) {
		mig_region_move(&run->region, loop->node, &result);
		if (!pattern_verify(run->region.addr, run->region.size, run->seed, &mismatch))
			loop->bad++;
		loop->node = !loop->node;
		loop->rounds++;
		if (loop->status == -1 && waitpid(child, &loop->status, WNOHANG) != child)
			loop->status = -1;
		if (loop->status != -1)
			after--;
	}
	if (loop->status == -1) {
		kill(child, SIGKILL);
		waitpid(child, &loop->status, 0);
	}
}

/* The shell command that takes the WQ (or its device) away. */
static void gone_command(enum gone_how how, char *command, size_t size)
{
	static const char *const commands[GONE_COUNT] = {
		[GONE_WQ_DISABLE] = "accel-config disable-wq --force dsa0/wq0.0",
		[GONE_DEVICE_DISABLE] = "accel-config disable-device --force dsa0",
		[GONE_UNBIND] = "echo wq0.0 > /sys/bus/dsa/drivers/dmaengine/unbind",
		[GONE_PCI_REMOVE] = "echo 1 > /sys/bus/pci/devices/%s/remove",
		[GONE_IDXD_UNLOAD] = "rmmod idxd",
	};
	char format[128];

	snprintf(format, sizeof(format), "sleep 1.5; { %s; } > /tmp/gone.log 2>&1", commands[how]);
	snprintf(command, size, format, dev.bdf);
}

/* Bring the WQ back after it went away; after a PCI remove, the device too. */
static bool gone_come_back(enum gone_how how)
{
	if (how == GONE_PCI_REMOVE) {
		dsa_dev_close(&dev);
		if (dsa_run("echo 1 > /sys/bus/pci/rescan") || dsa_dev_open(&dev))
			return false;
		return !wq_reconfigure("--wq-size=32");
	}
	return !dsa_wq_up();
}

/*
 * Migrate back and forth, verifying every round, while a child takes the
 * WQ away (the engine holds its channel), and a few rounds after. The
 * engine must give the channel back before idxd frees it, the CPU take
 * over, and offload resume when the WQ is back. idxd's module cannot go:
 * a dmaengine client's channel holds a reference on its provider.
 */
static void scenario_gone(struct run *run)
{
	unsigned long long offloaded = engine_counter("offloaded");
	bool refused = run->how == GONE_IDXD_UNLOAD;
	struct counts d, back;
	char command[256];
	struct loop loop;

	gone_command(run->how, command, sizeof(command));
	migrate_while(run, command, 3, 60, &loop);
	dsa_run("cat /tmp/gone.log");
	tap_ok(WIFEXITED(loop.status) && (WEXITSTATUS(loop.status) == 0) != refused,
	       "%s %s mid-loop (status %#x)", gone_names[run->how],
	       refused ? "was refused" : "went through", loop.status);
	tap_ok(!loop.bad && loop.rounds >= 3,
	       "%d rounds of migration, every byte right in each (%d bad)", loop.rounds, loop.bad);
	tap_ok(engine_counter("offloaded") > offloaded,
	       "the device copied during the loop (%llu folios)",
	       engine_counter("offloaded") - offloaded);
	if (refused) {
		tap_ok(engine_channels() == 1, "the engine kept its channel");
		move_verified(run, loop.node, 1, &d);
		tap_ok(d.offloaded == run->region.nr_folios, "offload goes on (%llu folios)",
		       d.offloaded);
		return;
	}
	tap_ok(engine_channels_become(0), "the engine gave the channel back");
	move_verified(run, 0, MOVES, &d);
	move_verified(run, 1, MOVES, &back);
	/* The engine stays chosen with no channel: its folios fall back. */
	tap_ok(d.offloaded + back.offloaded == 0 && d.device[DSA_CNT_SUBMITTED] +
	       back.device[DSA_CNT_SUBMITTED] == 0 && d.cpu + d.fallback + back.cpu +
	       back.fallback >= (long long)run->region.nr_folios,
	       "the CPU took over: %lld folios, none through the device",
	       d.cpu + d.fallback + back.cpu + back.fallback);
	check_offload_resumes(run, gone_come_back(run->how), "the WQ is back", 0);
}

/*
 * The device's engines complete a WQ's descriptors out of order, as real
 * DSA does: each folio's result comes from its own descriptors.
 */
static void scenario_reorder(struct run *run)
{
	struct counts d;
	int node;

	dsa_dev_write32(&dev, DSA_EMU_REORDER_EVERY, 3);
	dsa_dev_write32(&dev, DSA_EMU_REORDER_DELAY, 2000);
	for (node = 1; node >= 0; node--) {
		move_verified(run, node, 1, &d);
		check_accounting(run, &d, node);
		tap_ok(d.offloaded == run->region.nr_folios && d.device[DSA_CNT_REORDERS] > 0,
		       "-> node %d: all %llu folios offloaded, %llu completions out of order",
		       node, d.offloaded, (unsigned long long)d.device[DSA_CNT_REORDERS]);
	}
}

/* Configure and enable dsa1's WQ like dsa0's. */
static int dsa1_wq_up(void)
{
	return dsa_run("accel-config config-engine dsa1/engine1.0 --group-id=0") ?:
	       dsa_run("accel-config config-wq dsa1/wq1.0 --group-id=0 --mode=dedicated"
		       " --type=kernel --name=dmaengine --driver-name=dmaengine --priority=10"
		       " --wq-size=32") ?:
	       dsa_run("accel-config enable-device dsa1") ?:
	       dsa_run("accel-config enable-wq dsa1/wq1.0");
}

/*
 * Two devices: dsa1 on node 1, dsa0 on no node (the guest's first PCI
 * root bus has none). Copies to node 1 go to dsa1 only; copies to node 0,
 * which no device is on, spread over both.
 */
static void scenario_node(struct run *run)
{
	unsigned long long before0, before1, to0, to1;
	struct dsa_dev dev1;
	char node[16] = "";
	struct counts d;

	if (!tap_ok(!dsa_dev_open_name(&dev1, "dsa1") &&
		    !knob_read(DSA_BUS "dsa1/numa_node", node, sizeof(node)) &&
		    !strcmp(node, "1") && !dsa1_wq_up(),
		    "dsa1 on node 1 found, its WQ enabled (node %s)", node))
		return;
	tap_ok(engine_channels_become(2),
	       "the engine took the new WQ's channel: it holds one of each device (%lld)",
	       engine_channels());

	before0 = dsa_dev_counter(&dev, DSA_CNT_MEMMOVE);
	before1 = dsa_dev_counter(&dev1, DSA_CNT_MEMMOVE);
	move_verified(run, 1, 1, &d);
	to0 = dsa_dev_counter(&dev, DSA_CNT_MEMMOVE) - before0;
	to1 = dsa_dev_counter(&dev1, DSA_CNT_MEMMOVE) - before1;
	tap_ok(d.offloaded == run->region.nr_folios && to1 == run->region.nr_folios && !to0,
	       "-> node 1: all %llu copies on dsa1 (node 1), none on dsa0 (%llu, %llu)",
	       d.offloaded, to1, to0);

	before0 += to0;
	before1 += to1;
	move_verified(run, 0, 1, &d);
	to0 = dsa_dev_counter(&dev, DSA_CNT_MEMMOVE) - before0;
	to1 = dsa_dev_counter(&dev1, DSA_CNT_MEMMOVE) - before1;
	tap_ok(d.offloaded == run->region.nr_folios && to0 && to1 &&
	       to0 + to1 == run->region.nr_folios,
	       "-> node 0 (no device there): the copies spread over both (dsa0 %llu, dsa1 %llu)",
	       to0, to1);
	knob_write(ENGINE "enabled", "0");
	tap_ok(!dsa_run("accel-config disable-wq --force dsa1/wq1.0") &&
	       !dsa_run("accel-config disable-device --force dsa1"), "dsa1 disabled again");
	dsa_dev_close(&dev1);
}

/*
 * The device halts (a fatal error, software-reset type) while the engine
 * migrates through it, descriptors in flight: idxd's halt path runs, the
 * engine gives the channel back and the CPU copies, every byte right.
 * idxd 6.12 cannot reset a halted device itself (it sends no command to
 * it): the WQ's unbind releases the quarantine, an FLR through sysfs
 * clears the halt, and the WQ enabled again brings offload back.
 */
static void scenario_halt(struct run *run)
{
	unsigned long long halts = dsa_dev_counter(&dev, DSA_CNT_HALTS);
	struct counts d, before;
	char command[160];
	struct loop loop;

	/* Slow descriptors: the halt finds some in flight. */
	counts_take(&before);
	dsa_dev_write32(&dev, DSA_EMU_DELAY_US, 1000);
	snprintf(command, sizeof(command), "sleep 1.5; exec /proc/%d/exe --halt-device %u",
		 getpid(), DSA_HALT_RESET_SOFTWARE);
	migrate_while(run, command, 2, 90, &loop);
	dsa_dev_write32(&dev, DSA_EMU_DELAY_US, 0);
	counts_take(&d);
	counts_since(&d, &before);
	tap_ok(WIFEXITED(loop.status) && !WEXITSTATUS(loop.status) &&
	       dsa_dev_counter(&dev, DSA_CNT_HALTS) == halts + 1 &&
	       (dsa_dev_read32(&dev, DSA_REG_GENSTS) & DSA_GENSTS_STATE_MASK) == DSA_GENSTS_HALTED,
	       "the device halted mid-loop (status %#x)", loop.status);
	tap_ok(!loop.bad && loop.rounds >= 2,
	       "%d rounds of migration, every byte right in each (%d bad)", loop.rounds, loop.bad);
	tap_ok(engine_channels_become(0), "the engine gave the halted device's channel back");
	move_held_back(run, 0, &d);
	tap_ok(d.offloaded == 0 && d.device[DSA_CNT_SUBMITTED] == 0,
	       "-> node 0: the CPU copied, nothing went to the halted device");
	/* idxd cleared the WQ's state: accel-config sees it disabled already. */
	tap_ok(!dsa_run("echo wq0.0 > /sys/bus/dsa/drivers/dmaengine/unbind") && engine_held() == 0,
	       "the WQ unbound: the copies the halt abandoned released (%lld held)",
	       engine_held());
	tap_ok(!dsa_run("echo dsa0 > /sys/bus/dsa/drivers/idxd/unbind") &&
	       !dsa_run("echo 1 > /sys/bus/pci/devices/%s/reset", dev.bdf) &&
	       !(dsa_dev_read32(&dev, DSA_REG_GENSTS) & DSA_GENSTS_STATE_MASK),
	       "idxd's device driver unbound and an FLR cleared the halt");
	check_offload_resumes(run, !wq_reconfigure("--wq-size=32"),
			      "the device and its WQ enabled again", 1);
}

/*
 * Copies the device never completes are quarantined: they pin the module.
 * rmmod must fail while they are held, and succeed once the WQ was reset
 * and they were let go. Few hang (at most 16 of the 8 moves' 8192
 * descriptors), fewer than the WQ's 32 slots: the moves never need a slot
 * a hung copy holds, so what is checked is the unload alone.
 */
static void scenario_unload(struct run *run)
{
	struct counts d;

	dsa_dev_write32(&dev, DSA_EMU_HANG_EVERY, 512);
	move_held_back(run, 1, &d);
	tap_ok(engine_held() > 0, "copies the device never completed are quarantined (%lld)",
	       engine_held());
	dsa_dev_faults_off(&dev);
	tap_ok(module_unload(ENGINE_MODULE) != 0 && !access(ENGINE, F_OK),
	       "rmmod " ENGINE_MODULE " is refused while they are held");
	knob_restore(&saved);
	tap_ok(engine_held() > 0, "disabling the engine keeps them held (%lld)", engine_held());
	tap_ok(dsa_wq_down(true) == 0 && engine_held() == 0,
	       "the WQ reset: every one released (%lld held)", engine_held());
	tap_ok(engine_unload() == 0, "rmmod " ENGINE_MODULE " then succeeds");
	tap_ok(module_load(ENGINE_MODULE) == 0, "and it loads again");
}

/*
 * A WQ of 4 slots whose descriptors never complete: idxd's prep would
 * sleep for a fifth slot forever. The engine never has more than 4
 * outstanding, so every move ends, the CPU copying what the device cannot.
 */
static void scenario_small_wq(struct run *run)
{
	unsigned long long submitted, max_batch = 1, most_held;
	long long copied_by_cpu;
	struct counts d;

	knob_read_u64(DSA_BUS "wq0.0/max_batch_size", &max_batch);
	dsa_dev_write32(&dev, DSA_EMU_HANG_EVERY, 1);
	move_held_back(run, 1, &d);
	submitted = d.device[DSA_CNT_SUBMITTED];
	tap_ok(submitted > 0 && submitted <= 4,
	       "-> node 1: the device got at most 4 descriptors (%llu), all hung (%llu)",
	       submitted, (unsigned long long)d.device[DSA_CNT_INJ_HANGS]);
	/* Each hung descriptor holds at most a batch of copies; the CPU copies the rest. */
	most_held = submitted * (max_batch ? max_batch : 1);
	copied_by_cpu = d.cpu + d.fallback;
	tap_ok(d.offloaded == 0 && copied_by_cpu > 0 &&
	       copied_by_cpu >= (long long)(run->region.nr_folios - most_held),
	       "-> node 1: the CPU copied the rest (%lld folios; at most %llu copies in the hung"
	       " descriptors)", copied_by_cpu, most_held);
	move_held_back(run, 0, &d);
	tap_ok(d.device[DSA_CNT_SUBMITTED] == 0,
	       "-> node 0: nothing more went to the full WQ (%llu)",
	       (unsigned long long)d.device[DSA_CNT_SUBMITTED]);
	dsa_dev_faults_off(&dev);
	tap_ok(dsa_wq_down(true) == 0 && engine_held() == 0,
	       "the WQ reset: the quarantined copies released (%lld held)", engine_held());
	move_verified(run, 0, 1, &d);
}

/* Each folio goes in copies of the WQ's max transfer size. */
static void scenario_xfer(struct run *run)
{
	unsigned long long per_folio = run->region.folio_size / (run->xfer_kib * 1024ULL);
	unsigned long long want = run->region.nr_folios * per_folio;
	unsigned long long copies = engine_counter("copies");
	struct counts d;

	move_verified(run, 1, 1, &d);
	copies = engine_counter("copies") - copies;
	tap_ok(d.offloaded == run->region.nr_folios, "-> node 1: every folio offloaded (%llu)",
	       d.offloaded);
	tap_ok(copies == want && d.device[DSA_CNT_MEMMOVE] == want,
	       "-> node 1: %llu copies per %zu KiB folio on a %u KiB WQ: %llu (device %llu)",
	       per_folio, run->region.folio_size >> 10, run->xfer_kib, copies,
	       (unsigned long long)d.device[DSA_CNT_MEMMOVE]);
	check_accounting(run, &d, 1);
}

/*
 * What one folio batch costs the device: migrating N 4K folios through a WQ
 * whose max batch size is B should take ceil(N / B) portal writes (one
 * BATCH descriptor each) and as many completion interrupts, not one of
 * each per folio. The detector of #13: until the engine submits batch
 * descriptors, it fails (tests/known-failures), and its metrics record
 * what a batch costs today.
 */
static void scenario_batch(struct run *run)
{
	unsigned long long batches = engine_counter("batches");
	unsigned long long portal_writes, interrupts, max_batch = 0;
	unsigned int want, nr = run->region.nr_folios;
	struct counts d;

	knob_read_u64(DSA_BUS "wq0.0/max_batch_size", &max_batch);
	want = max_batch ? (nr + max_batch - 1) / max_batch : 0;
	move_verified(run, 1, 1, &d);
	batches = engine_counter("batches") - batches;
	tap_ok(batches == 1 && d.offloaded == nr,
	       "-> node 1: the engine got the %u folios in one batch (%llu batches, %llu offloaded)",
	       nr, batches, d.offloaded);
	portal_writes = d.device[DSA_CNT_SUBMITTED] + d.device[DSA_CNT_WQ_FULL] +
			d.device[DSA_CNT_DROPPED];
	interrupts = d.device[DSA_CNT_COMP_INTR];
	if (!run->max_batch) {
		tap_metric("dsa_batch_portal_writes", "%llu", portal_writes);
		tap_metric("dsa_batch_interrupts", "%llu", interrupts);
	}
	tap_ok(max_batch >= 2 && portal_writes == want,
	       "-> node 1: %llu portal writes for %u folios, WQ max batch %llu: want %u",
	       portal_writes, nr, max_batch, want);
	tap_ok(max_batch >= 2 && interrupts == want,
	       "-> node 1: %llu completion interrupts, want %u: none per folio", interrupts, want);
	tap_ok(d.device[DSA_CNT_BATCH] == want && d.device[DSA_CNT_BATCH_DESCS] == nr,
	       "-> node 1: the device ran %llu batch descriptors of %llu members in all",
	       (unsigned long long)d.device[DSA_CNT_BATCH],
	       (unsigned long long)d.device[DSA_CNT_BATCH_DESCS]);
}

/*
 * Members failing inside batches: the device fails every 5th copy, so the
 * batches that hold one complete with status 0x05 and the failed members'
 * completion records. Exactly those folios must fall back (not every folio
 * of a failed batch), and the failures must cost no extra portal write or
 * interrupt: nothing is resubmitted to the device.
 */
static void scenario_batch_errors(struct run *run)
{
	unsigned long long portal_writes, interrupts, max_batch = 0;
	unsigned int want, nr = run->region.nr_folios;
	struct counts d;

	knob_read_u64(DSA_BUS "wq0.0/max_batch_size", &max_batch);
	want = max_batch ? (nr + max_batch - 1) / max_batch : 0;
	dsa_dev_write32(&dev, DSA_EMU_ERR_EVERY, 5);
	move_verified(run, 1, 1, &d);
	portal_writes = d.device[DSA_CNT_SUBMITTED] + d.device[DSA_CNT_WQ_FULL] +
			d.device[DSA_CNT_DROPPED];
	interrupts = d.device[DSA_CNT_COMP_INTR];
	tap_ok(d.failed > 0 && d.failed == d.device[DSA_CNT_INJ_ERRORS] &&
	       d.offloaded + d.failed == nr,
	       "-> node 1: the %llu folios whose member failed fell back, no more (%llu offloaded,"
	       " %llu errors injected)", d.failed, d.offloaded,
	       (unsigned long long)d.device[DSA_CNT_INJ_ERRORS]);
	tap_ok(max_batch >= 2 && portal_writes == want && interrupts == want,
	       "-> node 1: %llu portal writes and %llu interrupts for %u folios, want %u each",
	       portal_writes, interrupts, nr, want);
	dsa_dev_faults_off(&dev);
	move_verified(run, 0, 1, &d);
	check_accounting(run, &d, 0);
}

/*
 * Where the device writes the destinations: the cache control flag on
 * every copy with dst_hint=cache, on none with memory, and on none with
 * auto for move_pages() (MR_SYSCALL: not read soon).
 */
static void dst_hint_move(struct run *run, const char *hint, int node, bool cache)
{
	unsigned long long memmoves, flagged;
	struct counts d;

	tap_ok(!knob_set(&saved, ENGINE "dst_hint", hint), "dst_hint=%s taken", hint);
	move_verified(run, node, 1, &d);
	memmoves = d.device[DSA_CNT_MEMMOVE];
	flagged = d.device[DSA_CNT_CACHE_CONTROL];
	tap_ok(memmoves >= run->region.nr_folios && flagged == (cache ? memmoves : 0),
	       "-> node %d: dst_hint=%s: %llu of %llu MEMMOVEs asked for the cache, want %s",
	       node, hint, flagged, memmoves, cache ? "all" : "none");
}

static void scenario_dst_hint(struct run *run)
{
	dst_hint_move(run, "cache", 1, true);
	dst_hint_move(run, "memory", 0, false);
	dst_hint_move(run, "auto", 1, false);
}

/*
 * Set the engine's max_batch_copies, which takes effect when it is
 * enabled; the core's engine choice falls back to auto while the DSA
 * engine is away, so choose it again.
 */
static int engine_set_batch_copies(const char *copies)
{
	return knob_write(ENGINE "enabled", "0") ?:
	       knob_write(ENGINE "max_batch_copies", copies) ?:
	       knob_write(ENGINE "enabled", "1") ?:
	       knob_write(CORE "engine", "dsa");
}

/* Work per 1000 folios, rounded to a tenth. */
static double per_1000(unsigned long long count, unsigned int folios)
{
	return folios ? count * 1000.0 / folios : 0;
}

/*
 * One row of the counts table: move the region to node 1 with the engine
 * putting at most @copies copies in a descriptor, counting what it cost,
 * then move it back (not counted).
 */
static void counts_row(struct run *run, const char *copies, const char *name, const char *label)
{
	unsigned long long descriptors, portal_writes, interrupts;
	unsigned int nr = run->region.nr_folios;
	const char *kind = mig_kind_name(run->kind);
	struct kprobe_count maps;
	long long map_calls = -1;
	char key[96];
	bool counting;
	struct counts d;

	if (!tap_ok(!engine_set_batch_copies(copies), "%s: max_batch_copies=%s taken", label,
		    copies))
		return;
	counting = kprobe_count_start(&maps, "dsa_counts_map", "dma_map_page_attrs");
	descriptors = engine_counter("descriptors");
	move_verified(run, 1, 1, &d);
	if (counting) {
		map_calls = kprobe_count_read(&maps);
		kprobe_count_stop(&maps);
	}
	descriptors = engine_counter("descriptors") - descriptors;
	portal_writes = d.device[DSA_CNT_SUBMITTED] + d.device[DSA_CNT_WQ_FULL] +
			d.device[DSA_CNT_DROPPED];
	interrupts = d.device[DSA_CNT_COMP_INTR];
	tap_ok(d.offloaded == nr, "-> node 1: %s: the engine copied all %u folios (%llu)", label,
	       nr, d.offloaded);
	tap_diag("| %-4s | %-34s | %10.1f | %10.1f | %10.1f | %10.1f |", kind, label,
		 per_1000(portal_writes, nr), per_1000(interrupts, nr), per_1000(descriptors, nr),
		 map_calls < 0 ? -1.0 : per_1000(map_calls, nr));
	snprintf(key, sizeof(key), "%s_%s_per_1000_folios", kind, name);
	tap_metric(key, "portal_writes=%.1f interrupts=%.1f callbacks=%.1f dma_map_calls=%.1f",
		   per_1000(portal_writes, nr), per_1000(interrupts, nr),
		   per_1000(descriptors, nr), map_calls < 0 ? -1.0 : per_1000(map_calls, nr));
	if (run->kind == MIG_KIND_4K && nr == 512) {
		snprintf(key, sizeof(key), "submissions_per_512_folio_batch_%s", name);
		tap_metric(key, "%llu", portal_writes);
	}
	move_verified(run, 0, 1, &d);
}

/*
 * The counts table (a benchmark): the same move with one descriptor per
 * copy, as before batch descriptors, and with batch descriptors. Emulated
 * time is not DSA time; these counts are what decides hardware speed.
 */
static void scenario_counts(struct run *run)
{
	unsigned long long max_batch = 0;
	char saved_copies[KNOB_VALUE_MAX] = "512";

	knob_read_u64(DSA_BUS "wq0.0/max_batch_size", &max_batch);
	knob_read(ENGINE "max_batch_copies", saved_copies, sizeof(saved_copies));
	tap_diag("%zu %s folios, WQ max batch size %llu; per 1000 folios (QEMU TCG: counts, not"
		 " speed):", run->region.nr_folios, mig_kind_name(run->kind), max_batch);
	tap_diag("| kind | %-34s | %10s | %10s | %10s | %10s |", "descriptors", "portal wr",
		 "interrupts", "callbacks", "dma maps");
	counts_row(run, "1", "one_per_copy", "one per copy (before)");
	counts_row(run, "512", "batched", "batch descriptors (after)");
	if (run->kind == MIG_KIND_4K && max_batch)
		tap_diag("submissions per 512-folio batch: want ceil(512 / %llu) = %llu", max_batch,
			 (512 + max_batch - 1) / max_batch);
	tap_ok(!engine_set_batch_copies(saved_copies), "max_batch_copies back to %s",
	       saved_copies);
}

/* ---- the guest IOMMU ---- */

/*
 * The IOMMU domain type of the device's group: "DMA" when the IOMMU
 * translates in strict mode (every unmap invalidates at once), "DMA-FQ"
 * lazy, "identity" passthrough; "" without an IOMMU.
 */
static void iommu_domain_type(char *type, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group/type", dev.bdf);
	if (knob_read(path, type, size))
		type[0] = 0;
}

/* idxd's report of a software error: its "err[N]: 0x..." lines since @kmsg's offset. */
static bool idxd_swerr_logged(int kmsg, unsigned long long err[4])
{
	char record[1024], *line, *at;
	unsigned int seen = 0, i;
	unsigned long long value;
	ssize_t len;

	while ((len = read(kmsg, record, sizeof(record) - 1)) > 0 || (len < 0 && errno == EPIPE)) {
		if (len < 0)
			continue;
		record[len] = 0;
		line = strchr(record, ';');
		if (!line || !strstr(line, dev.bdf) || !(at = strstr(line, "err[")))
			continue;
		tap_diag("%s", strsep(&line, "\n") + 1);
		if (sscanf(at, "err[%u]: %llx", &i, &value) == 2 && i < 4) {
			err[i] = value;
			seen |= 1U << i;
		}
	}
	return seen == 0xf;
}

static bool page_is(const uint8_t *page, uint8_t byte)
{
	size_t i;

	for (i = 0; i < SIZE_4K; i++)
		if (page[i] != byte)
			return false;
	return true;
}

/*
 * Raw descriptors through the IOMMU. User space has no IOVA of its own: the
 * physical addresses of its pinned pages are addresses the IOMMU does not
 * translate for the device, so every access to them must fault. To read
 * their completion records, records alone bypass the IOMMU (emulator only);
 * the last descriptor's record does not.
 */
static void iommu_raw_descriptors(void)
{
	struct desc_pages p = { 0 };
	struct completion_record *rec;
	unsigned long long err[4] = { 0 };
	uint64_t xlat, swerr;
	struct hw_desc d;
	uint8_t status;
	bool logged = false;
	int i, kmsg;

	if (!tap_ok(desc_pages_setup(&p), "wq0.0's portal mapped, four pinned pages")) {
		for (i = 0; i < 6; i++)
			tap_ok(false, "skipped: no pages");
		return;
	}
	xlat = dsa_dev_counter(&dev, DSA_CNT_XLAT_FAULTS);
	dsa_dev_write32(&dev, DSA_EMU_BYPASS, DSA_BYPASS_RECORDS);

	/* MEMMOVE from a source that does not translate. */
	memset(p.src, 0x5a, SIZE_4K);
	memset(p.dst, 0xc3, SIZE_4K);
	d = (struct hw_desc){ .flags_op = OP(3, CRAV_RCR), .src = p.phys[1],
			      .dst = p.phys[2], .size = SIZE_4K };
	status = desc_run(&p, &d, 0);
	rec = &p.records[0];
	tap_ok(status == COMP_PAGE_FAULT_NOBOF && rec->fault_addr == p.phys[1] &&
	       !rec->bytes_completed && page_is(p.dst, 0xc3),
	       "MEMMOVE from an unmapped source: page fault on read (status %#x), fault_addr"
	       " %#llx (source %#llx), %u bytes completed, destination untouched", status,
	       (unsigned long long)rec->fault_addr, (unsigned long long)p.phys[1],
	       rec->bytes_completed);

	/* FILL of a destination that does not translate. */
	d = (struct hw_desc){ .flags_op = OP(4, CRAV_RCR), .src = 0x1122334455667788ULL,
			      .dst = p.phys[2], .size = SIZE_4K };
	status = desc_run(&p, &d, 1);
	rec = &p.records[1];
	tap_ok(status == (COMP_PAGE_FAULT_NOBOF | COMP_STATUS_WRITE) &&
	       rec->fault_addr == p.phys[2] && !rec->bytes_completed && page_is(p.dst, 0xc3),
	       "FILL of an unmapped destination: page fault on write (status %#x), fault_addr"
	       " %#llx (destination %#llx), nothing written", status,
	       (unsigned long long)rec->fault_addr, (unsigned long long)p.phys[2]);

	/* A BATCH whose descriptor list does not translate. */
	memset(p.list, 0, 2 * sizeof(*p.list));
	p.list[0] = (struct hw_desc){ .flags_op = OP(4, CRAV_RCR), .dst = p.phys[2],
				      .size = 64, .completion = p.phys[0] + 3 * sizeof(*rec) };
	p.list[1] = p.list[0];
	p.records[3].status = 0;
	d = (struct hw_desc){ .flags_op = OP(1, CRAV_RCR), .src = p.phys[3], .size = 2 };
	status = desc_run(&p, &d, 2);
	rec = &p.records[2];
	tap_ok(status == COMP_BATCH_PAGE_FAULT && rec->fault_addr == p.phys[3] &&
	       !rec->bytes_completed && !p.records[3].status && page_is(p.dst, 0xc3),
	       "BATCH with an unmapped descriptor list: batch page fault (status %#x),"
	       " fault_addr %#llx (list %#llx), no member ran", status,
	       (unsigned long long)rec->fault_addr, (unsigned long long)p.phys[3]);

	/* The same MEMMOVE with all DMA untranslated: the IOMMU was what stopped it. */
	dsa_dev_write32(&dev, DSA_EMU_BYPASS, DSA_BYPASS_ALL);
	d = (struct hw_desc){ .flags_op = OP(3, CRAV_RCR), .src = p.phys[1],
			      .dst = p.phys[2], .size = SIZE_4K };
	status = desc_run(&p, &d, 4);
	tap_ok(status == 1 && page_is(p.dst, 0x5a),
	       "control: the same MEMMOVE, bypassing the IOMMU, copies (status %#x)", status);

	/* A completion record that does not translate: SWERR, which idxd reads and logs. */
	dsa_dev_write32(&dev, DSA_EMU_BYPASS, 0);
	swerr = dsa_dev_counter(&dev, DSA_CNT_SWERR);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	lseek(kmsg, 0, SEEK_END);
	d = (struct hw_desc){ .flags_op = OP(0, CRAV_RCR) };
	status = desc_run(&p, &d, 5);
	for (i = 0; i < 50 && !logged; i++) {
		logged = idxd_swerr_logged(kmsg, err);
		if (!logged)
			usleep(100 * 1000);
	}
	close(kmsg);
	tap_ok(!status && dsa_dev_counter(&dev, DSA_CNT_SWERR) == swerr + 1 && logged &&
	       ((err[0] >> 8) & 0xff) == COMP_CRA_XLAT && (err[0] & 0x21) == 0x21 &&
	       err[2] == p.phys[0] + 5 * sizeof(*rec),
	       "NOOP with an unmapped completion record: no record (status %#x), SWERR error"
	       " %#llx (completion record translation), write, fault address %#llx: idxd"
	       " logged err[0] %#llx err[2] %#llx", status, (err[0] >> 8) & 0xff, err[2],
	       err[0], err[2]);
	xlat = dsa_dev_counter(&dev, DSA_CNT_XLAT_FAULTS) - xlat;
	tap_ok(xlat == 4, "the device counted 4 accesses the IOMMU refused (%llu)",
	       (unsigned long long)xlat);
}

/*
 * Descriptors idxd submits for the engine, every 4th given a @target
 * address that does not translate: genuine IOMMU faults, reported in
 * idxd's completion records (mapped); idxd completes them with
 * DMA_TRANS_WRITE_FAILED and the engine falls back for those folios.
 */
static void iommu_engine_faults(struct run *run, int node, uint32_t target)
{
	const char *what = target == DSA_XLAT_SOURCE ? "source" : "destination";
	struct counts d;
	uint64_t injected;

	dsa_dev_write32(&dev, DSA_EMU_XLAT_TARGET, target);
	dsa_dev_write32(&dev, DSA_EMU_XLAT_EVERY, 4);
	move_verified(run, node, 1, &d);
	dsa_dev_write32(&dev, DSA_EMU_XLAT_EVERY, 0);
	check_accounting(run, &d, node);
	injected = d.device[DSA_CNT_INJ_XLAT];
	/* Error completions: the faulted copies, and the batches that held them. */
	tap_ok(injected > 0 && d.failed > 0 && d.offloaded + d.failed == run->region.nr_folios &&
	       d.failed == injected && d.device[DSA_CNT_ERRORS] >= injected &&
	       d.device[DSA_CNT_ERRORS] <= injected + d.device[DSA_CNT_BATCH] &&
	       d.device[DSA_CNT_XLAT_FAULTS] >= injected,
	       "-> node %d: %llu copies with an unmapped %s faulted (%llu refused accesses,"
	       " %llu error completions in %llu batches), idxd failed them: %llu folios fell"
	       " back, %llu offloaded", node, (unsigned long long)injected, what,
	       (unsigned long long)d.device[DSA_CNT_XLAT_FAULTS],
	       (unsigned long long)d.device[DSA_CNT_ERRORS],
	       (unsigned long long)d.device[DSA_CNT_BATCH], d.failed, d.offloaded);
}

static void scenario_iommu_fault(struct run *run)
{
	char type[32];

	iommu_domain_type(type, sizeof(type));
	tap_ok(!strcmp(type, "DMA"), "the guest IOMMU translates %s's DMA, strict (domain %s)",
	       dev.bdf, type[0] ? type : "none");
	iommu_raw_descriptors();
	dsa_dev_faults_off(&dev);
	iommu_engine_faults(run, 1, DSA_XLAT_DESTINATION);
	iommu_engine_faults(run, 0, DSA_XLAT_SOURCE);
}

/* The WQ of the scenario: idxd's defaults (2 MiB transfers), or small. */
static int wq_setup(const struct run *run)
{
	char options[96];

	if (run->scenario == SC_SMALL_WQ)
		return wq_reconfigure("--wq-size=4");
	if (run->scenario == SC_REORDER)
		return wq_configure("--wq-size=32", true);
	if (run->scenario == SC_XFER) {
		snprintf(options, sizeof(options), "--wq-size=32 --max-transfer-size=%u",
			 run->xfer_kib * 1024);
		return wq_reconfigure(options);
	}
	if (run->scenario == SC_BATCH || run->scenario == SC_BATCH_ERRORS ||
	    run->scenario == SC_COUNTS) {
		if (!run->max_batch)
			return wq_reconfigure("--wq-size=32");
		snprintf(options, sizeof(options), "--wq-size=32 --max-batch-size=%u",
			 run->max_batch);
		return wq_reconfigure(options);
	}
	return dsa_wq_up();
}

/* What scenario "halt" runs in a process of its own: halt the device. */
static int halt_device(unsigned int reset_type)
{
	if (dsa_dev_open(&dev))
		return 1;
	dsa_dev_write32(&dev, DSA_EMU_HALT, reset_type);
	dsa_dev_close(&dev);
	return 0;
}

static int plan_for(enum scenario scenario, enum gone_how how)
{
	static const int plans[SC_COUNT] = {
		[SC_PROBE] = 6, [SC_ACCEL_CONFIG] = 7, [SC_DMATEST] = 5, [SC_DESCRIPTORS] = 13,
		[SC_OFFLOAD] = 2 * 5, [SC_ERROR] = 4 + 2 + 4, [SC_LATE] = 2 + 1 + 1 + 2 + 2 + 2,
		[SC_HANG] = 2 + 1 + 2 + 1 + 1 + 1 + 1 + 2 + 1 + 2 + 1,
		[SC_GONE] = 3 + 1 + 2 + 2 + 1 + 1 + 2 + 1,
		[SC_IOMMU_FAULT] = 1 + 7 + 2 * 5, [SC_UNLOAD] = 2 + 1 + 1 + 1 + 1 + 1 + 1,
		[SC_SMALL_WQ] = 2 + 2 + 2 + 1 + 1 + 2, [SC_XFER] = 2 + 2 + 2,
		[SC_HALT] = 3 + 2 + 1 + 1 + 1 + 1 + 2 + 1,
		[SC_NODE] = 1 + 1 + 2 + 1 + 2 + 1 + 1, [SC_REORDER] = 2 * 5,
		[SC_BATCH] = 2 + 4, [SC_BATCH_ERRORS] = 2 + 2 + 2 + 2,
		[SC_COUNTS] = 2 * (1 + 2 + 1 + 2) + 1, [SC_DST_HINT] = 3 * (1 + 2 + 1),
	};

	/* The first point, and for the engine's scenarios setup and teardown. */
	return plans[scenario] + 1 + (scenario >= SC_OFFLOAD ? 4 : 0) -
	       (scenario == SC_GONE && how == GONE_IDXD_UNLOAD ? 6 : 0);
}

static void usage(const char *program)
{
	fprintf(stderr, "usage: %s --scenario NAME [--kind 4k|thp] [--mib N | --pages N]"
		" [--how HOW] [--xfer-kib N] [--max-batch N]\n", program);
	print_names("scenarios", names, SC_COUNT);
	print_names("how (gone)", gone_names, GONE_COUNT);
	exit(2);
}

static void parse_options(int argc, char **argv, struct run *run)
{
	static const struct option options[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "mib", required_argument, NULL, 'm' },
		{ "pages", required_argument, NULL, 'p' },
		{ "how", required_argument, NULL, 'h' },
		{ "xfer-kib", required_argument, NULL, 'x' },
		{ "max-batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	long value;
	int opt;

	run->scenario = SC_COUNT;
	run->how = GONE_WQ_DISABLE;
	run->xfer_kib = 2048;
	run->max_batch = 0;
	run->kind = MIG_KIND_4K;
	run->size = 8 * SIZE_MIB;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			value = parse_name(optarg, names, SC_COUNT);
			run->scenario = value < 0 ? SC_COUNT : value;
			break;
		case 'k':
			if (mig_kind_parse(optarg, &run->kind))
				usage(argv[0]);
			break;
		case 'm':
			if (parse_region_mib(optarg, &value))
				usage(argv[0]);
			run->size = value * SIZE_MIB;
			break;
		case 'p':
			if (parse_long(optarg, 1, 65536, &value))
				usage(argv[0]);
			run->size = value * SIZE_4K;
			break;
		case 'h':
			value = parse_name(optarg, gone_names, GONE_COUNT);
			if (value < 0)
				usage(argv[0]);
			run->how = value;
			break;
		case 'x':
			if (parse_long(optarg, 4, 2048, &value) || (value & (value - 1)))
				usage(argv[0]);
			run->xfer_kib = value;
			break;
		case 'b':
			if (parse_long(optarg, 2, 32768, &value) || (value & (value - 1)))
				usage(argv[0]);
			run->max_batch = value;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (run->scenario == SC_COUNT || optind != argc)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	char state[32] = "";
	struct run run;
	bool ready;
	int err;

	if (argc == 3 && !strcmp(argv[1], "--halt-device"))
		return halt_device(atoi(argv[2]));
	parse_options(argc, argv, &run);
	if (run.scenario == SC_IOMMU_FAULT && access("/sys/class/iommu/dmar0", F_OK)) {
		tap_skip_all("no guest IOMMU: the harness adds intel-iommu only for a QEMU whose"
			     " intel-dsa reports translation faults");
		return tap_done();
	}
	tap_plan(plan_for(run.scenario, run.how));
	tap_diag("scenario %s, kind %s, %zu KiB", names[run.scenario],
		 mig_kind_name(run.kind), run.size >> 10);
	err = module_load("idxd") ? -ENOENT : dsa_dev_open(&dev);
	if (!tap_ok(!err && dsa_dev_read32(&dev, DSA_EMU_MAGIC) == (uint32_t)DSA_EMU_MAGIC_VALUE,
		    "idxd loaded, emulated DSA %s found, vendor window mapped", dev.bdf))
		return tap_done();
	dsa_dev_faults_off(&dev);
	if (run.scenario < SC_OFFLOAD) {
		if (run.scenario == SC_PROBE)
			scenario_probe();
		else if (run.scenario == SC_ACCEL_CONFIG)
			scenario_accel_config();
		else if (run.scenario == SC_DESCRIPTORS)
			scenario_descriptors();
		else
			scenario_dmatest();
		return tap_done();
	}

	ready = tap_ok(wq_setup(&run) == 0, "setup: a dedicated kernel WQ is enabled");
	ready = tap_ok(ready && engine_setup(run.scenario == SC_LATE ? "50" :
					     run.scenario == SC_HANG ? "100" : "2000"),
		       "setup: engine with idxd channels only (any_provider=0)") && ready;
	ready = tap_ok(ready && region_setup(&run), "setup: %zu KiB of %s folios on node 0",
		       run.size >> 10, mig_kind_name(run.kind)) && ready;
	if (ready) {
		switch (run.scenario) {
		case SC_OFFLOAD:
			scenario_offload(&run);
			break;
		case SC_ERROR:
			scenario_error(&run);
			break;
		case SC_LATE:
			scenario_late(&run);
			break;
		case SC_HANG:
			scenario_hang(&run);
			break;
		case SC_IOMMU_FAULT:
			scenario_iommu_fault(&run);
			break;
		case SC_GONE:
			scenario_gone(&run);
			break;
		case SC_UNLOAD:
			scenario_unload(&run);
			break;
		case SC_SMALL_WQ:
			scenario_small_wq(&run);
			break;
		case SC_HALT:
			scenario_halt(&run);
			break;
		case SC_NODE:
			scenario_node(&run);
			break;
		case SC_REORDER:
			scenario_reorder(&run);
			break;
		case SC_BATCH:
			scenario_batch(&run);
			break;
		case SC_BATCH_ERRORS:
			scenario_batch_errors(&run);
			break;
		case SC_COUNTS:
			scenario_counts(&run);
			break;
		case SC_DST_HINT:
			scenario_dst_hint(&run);
			break;
		default:
			scenario_xfer(&run);
			break;
		}
		mig_region_destroy(&run.region);
	}
	dsa_dev_faults_off(&dev);
	err = knob_restore(&saved);
	/* Resetting the WQ lets the engine release what it quarantined. */
	if (!knob_read(DSA_BUS "wq0.0/state", state, sizeof(state)) && !strcmp(state, "enabled"))
		err = err ?: dsa_wq_down(true);
	/* A WQ configured for this scenario only: back to idxd's defaults. */
	if (run.scenario == SC_SMALL_WQ || run.scenario == SC_XFER || run.scenario == SC_HALT ||
	    run.scenario == SC_REORDER || run.scenario == SC_BATCH ||
	    run.scenario == SC_BATCH_ERRORS || run.scenario == SC_COUNTS)
		err = err ?: dsa_run("accel-config disable-device --force dsa0");
	err = err ?: engine_unload();
	tap_ok(!err, "teardown: knobs restored, WQ disabled, engine unloaded");
	dsa_dev_close(&dev);
	return tap_done();
}
