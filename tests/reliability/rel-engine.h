/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The copy engines the reliability tests migrate through, and the faults
 * they inject into them:
 *
 *   cpu   the built-in CPU engine (engine=cpu)
 *   soft  the DSA engine (idxd_migrate_copy) on the software DMA_MEMCPY
 *         provider memcpy_test_dma (any_provider=1), whose debugfs faults
 *         are picked per pass from a seeded generator
 *   emu   the DSA engine on a dedicated kernel WQ of the emulated Intel DSA
 *         (tools/qemu-dsa) configured with accel-config, with the device
 *         model's error injection (vendor window, tests/lib/dsa-dev.h)
 *   test  the test engine (migrate_copy_test_engine), for the negative
 *         controls
 *
 * Everything a setup changes is put back by rel_engine_teardown().
 * Included once, by reliability.c.
 */
#ifndef TESTS_RELIABILITY_REL_ENGINE_H
#define TESTS_RELIABILITY_REL_ENGINE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dsa-dev.h"
#include "knobs.h"
#include "numa-util.h"

#define REL_CORE		"/sys/kernel/mm/migrate_copy/"
#define REL_DSA			"/sys/kernel/mm/migrate_copy/dsa/"
#define REL_PROVIDER		"/sys/kernel/debug/memcpy_test_dma/"
#define REL_TEST_ENGINE		"/sys/kernel/debug/migrate_copy_test/"
#define REL_PROVIDER_MODULE	"memcpy_test_dma"
#define REL_DSA_MODULE		"idxd_migrate_copy"
#define REL_TEST_MODULE		"migrate_copy_test_engine"

/*
 * The DSA engine waits this long for a batch. Small, so that a descriptor
 * that never completes costs little, and large enough that a batch of 512
 * 4K folios copied by the provider's CPU under KASAN and TCG is in time.
 */
#define REL_SOFT_TIMEOUT_MS	"1000"
#define REL_EMU_TIMEOUT_MS	"1000"
/*
 * Never-completing descriptors of the emulated DSA stay quarantined for
 * good (idxd cannot terminate them) and 16 on one channel make the engine
 * drop it: at most this many per test, and none unless asked for
 * (--emu-hangs): when the WQ is disabled with one still pending, 6.12's
 * idxd_dmaengine_drv_remove() frees the channel before
 * idxd_wq_free_irq() completes the pending descriptors, whose
 * dma_cookie_complete() then writes the freed channel (a KASAN
 * slab-use-after-free in idxd_dma_complete_txd).
 */
#define REL_EMU_MAX_HANGS	6

enum rel_engine_kind { REL_CPU, REL_SOFT, REL_EMU, REL_TEST };

static const char *const rel_engine_names[] = {
	[REL_CPU] = "cpu", [REL_SOFT] = "soft", [REL_EMU] = "emu", [REL_TEST] = "test",
};

/* /proc/vmstat counters every test reads. */
enum rel_vm {
	VM_SUCCESS, VM_FAIL, VM_OFFLOAD, VM_CPU, VM_FALLBACK, VM_OFFLOAD_PAGES,
	VM_CPU_PAGES, VM_FALLBACK_PAGES, VM_NR
};

static const char *const rel_vm_names[VM_NR] = {
	"pgmigrate_success", "pgmigrate_fail", "migrate_copy_offload", "migrate_copy_cpu",
	"migrate_copy_fallback", "migrate_copy_offload_pages", "migrate_copy_cpu_pages",
	"migrate_copy_fallback_pages",
};

/* The DSA engine's counters (sysfs dsa/). */
enum rel_dsa { DSA_OFFLOADED, DSA_FAILED, DSA_TIMED_OUT, DSA_QUARANTINED, DSA_RELEASED, DSA_NR };

static const char *const rel_dsa_names[DSA_NR] = {
	"offloaded", "failed", "timed_out", "quarantined", "released",
};

/* The test engine's counters (debugfs migrate_copy_test/). */
enum rel_test { TE_FOLIOS, TE_FAILED, TE_LIED, TE_NR };

static const char *const rel_test_names[TE_NR] = { "folios", "failed", "lied" };

/* Counters at one moment; -1 (vm) or 0 (the others) when absent. */
struct rel_counts {
	long long vm[VM_NR];
	unsigned long long dsa[DSA_NR];
	unsigned long long test[TE_NR];
	uint64_t device[DSA_CNT_NR];
};

struct rel_engine {
	enum rel_engine_kind kind;
	struct knob_saved saved;
	struct dsa_dev dev;
	bool dev_open, wq_up, dsa_loaded, provider_loaded, test_loaded;
	uint64_t rng;
	unsigned int channels;		/* the engine's channels after setup */
	/* Fault injection. */
	unsigned long long injected;	/* error, hung and NULL-prep descriptors */
	unsigned int fault_passes, hangs, max_hangs, cycles, drops;
	unsigned long long descs_per_pass;
	unsigned int error_rate, error_every, delay_us, reorder, never_every, null_every;
	unsigned long long base_prep, base_descs, base_errors, base_hangs;
};

/* ---- small helpers ---- */

static uint64_t rel_rand(uint64_t *state)
{
	uint64_t x = (*state += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned int rel_rnd(struct rel_engine *e, unsigned int bound)
{
	return bound ? rel_rand(&e->rng) % bound : 0;
}

static void __printf(3, 4) rel_why(char *why, size_t size, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(why, size, fmt, args);
	va_end(args);
}

static unsigned long long rel_read_u64(const char *dir, const char *name)
{
	unsigned long long value = 0;
	char path[160];

	snprintf(path, sizeof(path), "%s%s", dir, name);
	if (knob_read_u64(path, &value))
		return 0;
	return value;
}

static int rel_write_u(const char *dir, const char *name, unsigned long long value)
{
	char path[160], text[32];

	snprintf(path, sizeof(path), "%s%s", dir, name);
	snprintf(text, sizeof(text), "%llu", value);
	return knob_write(path, text);
}

/* How many channels the engine holds (0 if unreadable). */
static unsigned int rel_dsa_channels(void)
{
	unsigned long long count = 0;

	if (knob_read_u64(REL_DSA "nr_channels", &count))
		return 0;
	return count;
}

static bool rel_vm_pages_present(const struct rel_counts *c)
{
	return c->vm[VM_OFFLOAD_PAGES] >= 0 && c->vm[VM_CPU_PAGES] >= 0 &&
	       c->vm[VM_FALLBACK_PAGES] >= 0;
}

static void rel_counts_take(const struct rel_engine *e, struct rel_counts *c)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < VM_NR; i++)
		c->vm[i] = vmstat_read(rel_vm_names[i]);
	if (e->dsa_loaded)
		for (i = 0; i < DSA_NR; i++)
			c->dsa[i] = rel_read_u64(REL_DSA, rel_dsa_names[i]);
	if (e->test_loaded)
		for (i = 0; i < TE_NR; i++)
			c->test[i] = rel_read_u64(REL_TEST_ENGINE, rel_test_names[i]);
	if (e->dev_open)
		dsa_dev_counters(&e->dev, c->device);
}

/* @after - @before, field by field, into @after. */
static void rel_counts_since(struct rel_counts *after, const struct rel_counts *before)
{
	unsigned int i;

	for (i = 0; i < VM_NR; i++)
		after->vm[i] = after->vm[i] < 0 || before->vm[i] < 0 ? -1 :
			       after->vm[i] - before->vm[i];
	for (i = 0; i < DSA_NR; i++)
		after->dsa[i] -= before->dsa[i];
	for (i = 0; i < TE_NR; i++)
		after->test[i] -= before->test[i];
	for (i = 0; i < DSA_CNT_NR; i++)
		after->device[i] -= before->device[i];
}

/* ---- fault knobs ---- */

static const char *const rel_soft_faults[] = {
	"error_rate", "error_every", "delay_us", "reorder", "never_complete_every",
	"prep_null_every", "disabled",
};

static void rel_soft_faults_off(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rel_soft_faults); i++)
		rel_write_u(REL_PROVIDER, rel_soft_faults[i], 0);
}

/*
 * Give the engine its channels back: held descriptors are terminated. The
 * engine unregisters meanwhile, which puts the core's selection back to
 * auto: choose it again.
 */
static void rel_dsa_cycle(struct rel_engine *e)
{
	knob_write(REL_DSA "enabled", "0");
	knob_write(REL_DSA "enabled", "1");
	if (knob_write(REL_CORE "engine", "dsa"))
		ksft_print_msg("the DSA engine did not come back after a restart\n");
	e->cycles++;
}

/* ---- setup and teardown ---- */

static void rel_engine_teardown(struct rel_engine *e)
{
	char state[32];

	if (e->provider_loaded)
		rel_soft_faults_off();
	if (e->dev_open)
		dsa_dev_faults_off(&e->dev);
	if (e->test_loaded) {
		knob_write(REL_TEST_ENGINE "fail_every", "0");
		if (!access(REL_TEST_ENGINE "skip_write", F_OK))
			knob_write(REL_TEST_ENGINE "skip_write", "N");
		if (!access(REL_TEST_ENGINE "corrupt", F_OK))
			knob_write(REL_TEST_ENGINE "corrupt", "N");
		if (!access(REL_TEST_ENGINE "late_write_ms", F_OK))
			knob_write(REL_TEST_ENGINE "late_write_ms", "0");
	}
	if (knob_restore(&e->saved))
		ksft_print_msg("restoring the knobs failed\n");
	e->saved.count = 0;
	if (e->test_loaded && module_unload(REL_TEST_MODULE))
		ksft_print_msg("rmmod %s failed\n", REL_TEST_MODULE);
	if (e->dsa_loaded && module_unload(REL_DSA_MODULE))
		/* It keeps itself loaded while it holds never-completed copies. */
		ksft_print_msg("rmmod %s failed (pinned by quarantined copies?)\n",
			       REL_DSA_MODULE);
	if (e->provider_loaded && module_unload(REL_PROVIDER_MODULE))
		ksft_print_msg("rmmod %s failed\n", REL_PROVIDER_MODULE);
	if (e->wq_up && !knob_read("/sys/bus/dsa/devices/wq0.0/state", state, sizeof(state)) &&
	    !strcmp(state, "enabled") && dsa_wq_down(false) && dsa_wq_down(true))
		ksft_print_msg("accel-config could not disable dsa0/wq0.0\n");
	if (e->dev_open)
		dsa_dev_close(&e->dev);
	e->test_loaded = e->dsa_loaded = e->provider_loaded = e->wq_up = e->dev_open = false;
}

static int rel_core_knobs(struct rel_engine *e, const char *engine, const char *reasons)
{
	return knob_set(&e->saved, REL_CORE "engine", engine) ?:
	       knob_set(&e->saved, REL_CORE "reasons", reasons) ?:
	       knob_set(&e->saved, REL_CORE "min_batch_bytes", "0") ?:
	       knob_set(&e->saved, REL_CORE "enabled", "true");
}

/*
 * The engine's knobs, set while it is disabled (a test that crashed may
 * have left it enabled, and any_provider cannot change then). Restored
 * newest first: disabled, the knobs, then enabled as it was.
 */
static int rel_dsa_knobs(struct rel_engine *e, const char *any_provider, const char *timeout)
{
	return knob_set(&e->saved, REL_DSA "enabled", "0") ?:
	       knob_set(&e->saved, REL_DSA "any_provider", any_provider) ?:
	       knob_set(&e->saved, REL_DSA "timeout_ms", timeout) ?:
	       knob_set(&e->saved, REL_DSA "enabled", "1");
}

/*
 * Load and configure engine @kind; migrations for @reasons go through it.
 * 0 when ready; 1 when its hardware or module is absent (a skip); -1 on
 * an error. @why says which. On anything but 0 nothing is left changed.
 */
static int rel_engine_setup(struct rel_engine *e, enum rel_engine_kind kind,
			    const char *reasons, uint64_t seed, char *why, size_t why_size)
{
	int err = 0;

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->rng = seed;
	switch (kind) {
	case REL_CPU:
		err = rel_core_knobs(e, "cpu", reasons);
		break;
	case REL_TEST:
		if (module_load(REL_TEST_MODULE)) {
			rel_why(why, why_size, "modprobe %s failed", REL_TEST_MODULE);
			return -1;
		}
		e->test_loaded = true;
		err = knob_write(REL_TEST_ENGINE "fail_every", "0") ?:
		      knob_write(REL_TEST_ENGINE "reset", "1") ?:
		      rel_core_knobs(e, "test", reasons);
		break;
	case REL_SOFT:
		if (module_load(REL_PROVIDER_MODULE)) {
			rel_why(why, why_size, "the software DMA provider %s is not available"
				" (modprobe failed)", REL_PROVIDER_MODULE);
			return 1;
		}
		e->provider_loaded = true;
		if (module_load(REL_DSA_MODULE)) {
			rel_why(why, why_size, "modprobe %s failed", REL_DSA_MODULE);
			rel_engine_teardown(e);
			return -1;
		}
		e->dsa_loaded = true;
		rel_soft_faults_off();
		err = knob_write(REL_PROVIDER "reset_counters", "1") ?:
		      rel_dsa_knobs(e, "1", REL_SOFT_TIMEOUT_MS) ?:
		      rel_core_knobs(e, "dsa", reasons);
		break;
	case REL_EMU:
		if (module_load("idxd") || dsa_dev_open(&e->dev)) {
			rel_why(why, why_size, "no emulated Intel DSA (PCI 8086:0b25 with idxd):"
				" this QEMU has no intel-dsa device (make qemu)");
			return 1;
		}
		e->dev_open = true;
		if (dsa_dev_read32(&e->dev, DSA_EMU_MAGIC) != (uint32_t)DSA_EMU_MAGIC_VALUE) {
			rel_why(why, why_size, "%s is a DSA without the emulator's fault window:"
				" real hardware, not injected into", e->dev.bdf);
			rel_engine_teardown(e);
			return 1;
		}
		dsa_dev_faults_off(&e->dev);
		if (dsa_wq_up()) {
			rel_why(why, why_size, "accel-config could not enable dsa0/wq0.0");
			rel_engine_teardown(e);
			return -1;
		}
		e->wq_up = true;
		if (module_load(REL_DSA_MODULE)) {
			rel_why(why, why_size, "modprobe %s failed", REL_DSA_MODULE);
			rel_engine_teardown(e);
			return -1;
		}
		e->dsa_loaded = true;
		err = rel_dsa_knobs(e, "0", REL_EMU_TIMEOUT_MS) ?:
		      rel_core_knobs(e, "dsa", reasons);
		break;
	}
	if (err) {
		rel_why(why, why_size, "setting the %s engine's knobs failed: %s",
			rel_engine_names[kind], strerror(-err));
		rel_engine_teardown(e);
		return -1;
	}
	if (kind == REL_SOFT || kind == REL_EMU) {
		e->channels = rel_dsa_channels();
		if (!e->channels) {
			rel_why(why, why_size, "the DSA engine took no channel");
			rel_engine_teardown(e);
			return -1;
		}
	}
	return 0;
}

/* ---- faults, per pass ---- */

static const unsigned int rel_primes[] = { 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };

/*
 * Pick this pass's faults (soft and emu engines; none for the others) and
 * describe them in @desc. Every fault is on for a whole pass only.
 */
static void rel_faults_begin(struct rel_engine *e, char *desc, size_t size)
{
	unsigned long long descs = e->descs_per_pass ?: 1024;

	desc[0] = 0;
	if (e->kind == REL_SOFT) {
		e->reorder = rel_rnd(e, 2);
		e->delay_us = rel_rnd(e, 100) < 40 ? 1 + rel_rnd(e, 100) : 0;
		e->error_rate = rel_rnd(e, 100) < 30 ? 1 + rel_rnd(e, 15) : 0;
		/* A prime: never the same channel NULL eight times in a row. */
		e->null_every = rel_rnd(e, 100) < 25 ? rel_primes[rel_rnd(e, 10)] : 0;
		/* One to three held descriptors in a pass. */
		e->never_every = rel_rnd(e, 100) < 20 ?
				 (unsigned int)(descs / (1 + rel_rnd(e, 3)) ?: 2) : 0;
		if (e->never_every < 2 && e->never_every)
			e->never_every = 2;
		rel_write_u(REL_PROVIDER, "reorder", e->reorder);
		rel_write_u(REL_PROVIDER, "delay_us", e->delay_us);
		rel_write_u(REL_PROVIDER, "error_rate", e->error_rate);
		rel_write_u(REL_PROVIDER, "prep_null_every", e->null_every);
		rel_write_u(REL_PROVIDER, "never_complete_every", e->never_every);
		/* The every-N sequences count from here. */
		knob_write(REL_PROVIDER "reset_counters", "1");
		e->base_prep = rel_read_u64(REL_PROVIDER, "prep_calls");
		e->base_descs = rel_read_u64(REL_PROVIDER, "descriptors");
		e->base_errors = rel_read_u64(REL_PROVIDER, "errors");
		snprintf(desc, size, "reorder=%u delay_us=%u error_rate=%u prep_null_every=%u"
			 " never_complete_every=%u", e->reorder, e->delay_us, e->error_rate,
			 e->null_every, e->never_every);
		e->fault_passes += e->reorder || e->delay_us || e->error_rate ||
				   e->null_every || e->never_every;
	} else if (e->kind == REL_EMU) {
		e->error_every = rel_rnd(e, 100) < 35 ? rel_primes[rel_rnd(e, 10)] : 0;
		e->delay_us = rel_rnd(e, 100) < 40 ? 1 + rel_rnd(e, 100) : 0;
		e->never_every = e->hangs < e->max_hangs && rel_rnd(e, 100) < 15 ?
				 (unsigned int)(descs ?: 2) : 0;
		dsa_dev_faults_off(&e->dev);	/* restarts the fault sequence */
		dsa_dev_write32(&e->dev, DSA_EMU_ERR_EVERY, e->error_every);
		dsa_dev_write32(&e->dev, DSA_EMU_DELAY_US, e->delay_us);
		dsa_dev_write32(&e->dev, DSA_EMU_HANG_EVERY, e->never_every);
		e->base_descs = dsa_dev_counter(&e->dev, DSA_CNT_SUBMITTED) +
				dsa_dev_counter(&e->dev, DSA_CNT_BATCH_DESCS);
		e->base_errors = dsa_dev_counter(&e->dev, DSA_CNT_INJ_ERRORS);
		e->base_hangs = dsa_dev_counter(&e->dev, DSA_CNT_INJ_HANGS);
		snprintf(desc, size, "device error_every=%u delay_us=%u hang_every=%u",
			 e->error_every, e->delay_us, e->never_every);
		e->fault_passes += e->error_every || e->delay_us || e->never_every;
	}
}

/* Every fault off; count what this pass injected. Returns that count. */
static unsigned long long rel_faults_end(struct rel_engine *e)
{
	unsigned long long injected = 0, prep, descs;

	if (e->kind == REL_SOFT) {
		rel_soft_faults_off();
		prep = rel_read_u64(REL_PROVIDER, "prep_calls") - e->base_prep;
		descs = rel_read_u64(REL_PROVIDER, "descriptors") - e->base_descs;
		injected = rel_read_u64(REL_PROVIDER, "errors") - e->base_errors;
		if (e->null_every)
			injected += prep / e->null_every;
		if (e->never_every)
			injected += descs / e->never_every;
		if (descs)
			e->descs_per_pass = descs;
		/*
		 * Held descriptors stay quarantined until the channel is
		 * terminated, and a channel that lost 16 completions or
		 * took 8 NULL preps in a row is dropped: start afresh.
		 */
		if (rel_read_u64(REL_PROVIDER, "never_completed") ||
		    rel_dsa_channels() < e->channels) {
			e->drops += rel_dsa_channels() < e->channels;
			rel_dsa_cycle(e);
		}
	} else if (e->kind == REL_EMU) {
		dsa_dev_faults_off(&e->dev);
		descs = dsa_dev_counter(&e->dev, DSA_CNT_SUBMITTED) +
			dsa_dev_counter(&e->dev, DSA_CNT_BATCH_DESCS) - e->base_descs;
		injected = dsa_dev_counter(&e->dev, DSA_CNT_INJ_ERRORS) - e->base_errors;
		e->hangs += dsa_dev_counter(&e->dev, DSA_CNT_INJ_HANGS) - e->base_hangs;
		injected += dsa_dev_counter(&e->dev, DSA_CNT_INJ_HANGS) - e->base_hangs;
		if (descs)
			e->descs_per_pass = descs;
		if (rel_dsa_channels() < e->channels) {
			e->drops++;
			rel_dsa_cycle(e);
		}
	}
	e->injected += injected;
	return injected;
}

#endif /* TESTS_RELIABILITY_REL_ENGINE_H */
