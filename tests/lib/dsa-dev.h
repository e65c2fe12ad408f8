/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated Intel DSA (tools/qemu-dsa) from guest tests: finding the PCI
 * device, its emulator-only vendor window in BAR0 (fault injection and the
 * device model's counters, read through sysfs resource0), and work queues
 * configured with Debian's accel-config.
 */
#ifndef TESTS_LIB_DSA_DEV_H
#define TESTS_LIB_DSA_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Vendor window registers (tools/qemu-dsa/README.md). */
#define DSA_EMU_MAGIC		0x1000
#define DSA_EMU_ERR_EVERY	0x1008
#define DSA_EMU_ERR_STATUS	0x100c
#define DSA_EMU_DELAY_US	0x1010
#define DSA_EMU_HANG_EVERY	0x1014
#define DSA_EMU_RESET		0x1018
#define DSA_EMU_XLAT_EVERY	0x101c	/* every Nth gets an address that does not translate */
#define DSA_EMU_XLAT_TARGET	0x1020	/* which: 0 destination, 1 source */
#define DSA_EMU_BYPASS		0x1024	/* DMA that skips the IOMMU, see below */
#define DSA_EMU_HALT		0x1028	/* WO: halt the device, bits 1:0 the reset type */
#define DSA_EMU_REORDER_EVERY	0x102c	/* every Nth dispatched is held longer (0 off) */
#define DSA_EMU_REORDER_DELAY	0x1030	/* how much longer, us */
#define DSA_EMU_COUNTERS	0x1100
#define DSA_EMU_MAGIC_VALUE	0x3130554d45415344ULL	/* "DSAEMU01" */

#define DSA_XLAT_DESTINATION	0
#define DSA_XLAT_SOURCE		1
/* DSA_EMU_BYPASS: completion records, or all DMA, to guest physical addresses. */
#define DSA_BYPASS_RECORDS	0x1
#define DSA_BYPASS_ALL		0x2

/* SWERR error code of a descriptor discarded because its dedicated WQ was full. */
#define DSA_SWERR_WQ_FULL	0x53

/* DSA_EMU_HALT: the reset type the halted device asks for (GENSTS bits 3:2). */
#define DSA_HALT_RESET_SOFTWARE	0	/* a Reset Device command */
#define DSA_HALT_RESET_FLR	1	/* a function-level reset (sysfs "reset": af_flr) */
#define DSA_HALT_RESET_WARM	2	/* a system reset */
#define DSA_HALT_RESET_COLD	3

/* Architected registers the tests read: GENSTS, its halt state. */
#define DSA_REG_GENSTS		0x90
#define DSA_GENSTS_STATE_MASK	0x3
#define DSA_GENSTS_HALTED	0x3

/* The device model's counters, in the order of its vendor window. */
enum dsa_counter {
	DSA_CNT_SUBMITTED, DSA_CNT_DROPPED, DSA_CNT_COMPLETED, DSA_CNT_MEMMOVE,
	DSA_CNT_MEMMOVE_BYTES, DSA_CNT_FILL, DSA_CNT_COMPARE, DSA_CNT_NOOP,
	DSA_CNT_DRAIN, DSA_CNT_BATCH, DSA_CNT_BATCH_DESCS, DSA_CNT_COMP_INTR,
	DSA_CNT_MISC_INTR, DSA_CNT_ERRORS, DSA_CNT_INJ_ERRORS, DSA_CNT_INJ_HANGS,
	DSA_CNT_SWERR, DSA_CNT_CMDS, DSA_CNT_XLAT_FAULTS, DSA_CNT_INJ_XLAT,
	/* Appended: new counters go last, so the indexes above stay valid. */
	DSA_CNT_WQ_FULL,	/* discarded: dedicated WQ full (SWERR 0x53) */
	DSA_CNT_HALTS,		/* times the device halted */
	DSA_CNT_FLRS,		/* function-level resets */
	DSA_CNT_REORDER_DELAYED,	/* held longer by reorder injection */
	DSA_CNT_REORDERS,	/* completed before an older one of their WQ */
	DSA_CNT_HUNG_BATCHES,	/* batches held forever by a hung member */
	DSA_CNT_CACHE_CONTROL,	/* MEMMOVEs with cache control (to cache) */
	DSA_CNT_NR
};

struct dsa_dev {
	char bdf[32];			/* PCI address, e.g. 0000:00:02.0 */
	volatile uint32_t *bar0;	/* resource0, mapped */
	size_t bar0_size;
};

/*
 * Find the 8086:0b25 PCI device idxd calls dsa0 (without idxd: the one at
 * the lowest address; the guest may have a second one, dsa1 on node 1) and
 * map its BAR0. 0 or -errno.
 */
int dsa_dev_open(struct dsa_dev *dev);
/* Map BAR0 of the device idxd calls @name ("dsa1"). 0 or -errno. */
int dsa_dev_open_name(struct dsa_dev *dev, const char *name);
void dsa_dev_close(struct dsa_dev *dev);

uint32_t dsa_dev_read32(const struct dsa_dev *dev, unsigned int offset);
void dsa_dev_write32(const struct dsa_dev *dev, unsigned int offset, uint32_t value);
uint64_t dsa_dev_counter(const struct dsa_dev *dev, enum dsa_counter counter);
/* Every counter at once. */
void dsa_dev_counters(const struct dsa_dev *dev, uint64_t counters[DSA_CNT_NR]);
/* No injected faults, no delay, no reordering, no IOMMU bypass. */
void dsa_dev_faults_off(const struct dsa_dev *dev);

/* Run a shell command line, its output as diagnostics. Its exit status. */
int dsa_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Configure and enable a dedicated kernel WQ named "dmaengine" (driver
 * "dmaengine") on dsa0 with accel-config: wq0.0 in group 0 with engine 0,
 * enabling dsa0 first when it is not. 0 or accel-config's exit status.
 */
int dsa_wq_up(void);
/*
 * Disable wq0.0 (--force: even while a client holds its channel). dsa0 stays
 * enabled: 6.12.117's idxd dereferences a NULL event log when a device
 * without one (DSA 1.0) is disabled (idxd_device_evl_free). 0 or exit status.
 */
int dsa_wq_down(bool force);
/* Disable every DSA device but dsa0 (--force), as the DSA tests leave them. */
void dsa_other_devices_down(void);
/* The dmaengine channel of the enabled WQ ("dmaXchanY"). 0 or -errno. */
int dsa_wq_channel(const struct dsa_dev *dev, char *name, size_t size);

#endif /* TESTS_LIB_DSA_DEV_H */
