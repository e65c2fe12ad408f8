// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated Intel DSA from guest tests: see dsa-dev.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dsa-dev.h"
#include "numa-util.h"
#include "tap.h"

#define PCI_DEVICES	"/sys/bus/pci/devices"

static bool pci_id_is(const char *bdf, const char *file, const char *want)
{
	char path[PATH_MAX], text[32];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, file);
	return read_text_file(path, text, sizeof(text)) > 0 && !strcmp(text, want);
}

/* Whether idxd named the PCI device @bdf's DSA @name ("dsa0"). */
static bool pci_dsa_is(const char *bdf, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, name);
	return access(path, F_OK) == 0;
}

static int dsa_dev_map(struct dsa_dev *dev);

/*
 * The guest may have more than one (dsa1 on node 1): take the one idxd
 * calls dsa0, else (idxd not loaded) the lowest address, the one idxd
 * probes first. readdir() order is sysfs hash order, not address order.
 */
int dsa_dev_open(struct dsa_dev *dev)
{
	struct dirent *entry;
	DIR *dir;

	if (!dsa_dev_open_name(dev, "dsa0"))
		return 0;
	dir = opendir(PCI_DEVICES);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.' || strlen(entry->d_name) >= sizeof(dev->bdf) ||
		    !pci_id_is(entry->d_name, "vendor", "0x8086") ||
		    !pci_id_is(entry->d_name, "device", "0x0b25"))
			continue;
		if (!dev->bdf[0] || strcmp(entry->d_name, dev->bdf) < 0)
			strcpy(dev->bdf, entry->d_name);
	}
	closedir(dir);
	if (!dev->bdf[0])
		return -ENODEV;
	return dsa_dev_map(dev);
}

int dsa_dev_open_name(struct dsa_dev *dev, const char *name)
{
	struct dirent *entry;
	DIR *dir;

	memset(dev, 0, sizeof(*dev));
	dir = opendir(PCI_DEVICES);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] != '.' && strlen(entry->d_name) < sizeof(dev->bdf) &&
		    pci_dsa_is(entry->d_name, name)) {
			strcpy(dev->bdf, entry->d_name);
			break;
		}
	}
	closedir(dir);
	if (!dev->bdf[0])
		return -ENODEV;
	return dsa_dev_map(dev);
}

/* Map BAR0 of the device named by dev->bdf. */
static int dsa_dev_map(struct dsa_dev *dev)
{
	char path[PATH_MAX];
	struct stat st;
	void *map;
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource0", dev->bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	dev->bar0 = map;
	dev->bar0_size = st.st_size;
	return 0;
}

void dsa_dev_close(struct dsa_dev *dev)
{
	if (dev->bar0)
		munmap((void *)dev->bar0, dev->bar0_size);
	dev->bar0 = NULL;
}

uint32_t dsa_dev_read32(const struct dsa_dev *dev, unsigned int offset)
{
	return dev->bar0[offset / 4];
}

void dsa_dev_write32(const struct dsa_dev *dev, unsigned int offset, uint32_t value)
{
	dev->bar0[offset / 4] = value;
}

uint64_t dsa_dev_counter(const struct dsa_dev *dev, enum dsa_counter counter)
{
	unsigned int offset = DSA_EMU_COUNTERS + counter * 8;

	return dsa_dev_read32(dev, offset) |
	       (uint64_t)dsa_dev_read32(dev, offset + 4) << 32;
}

void dsa_dev_counters(const struct dsa_dev *dev, uint64_t counters[DSA_CNT_NR])
{
	unsigned int i;

	for (i = 0; i < DSA_CNT_NR; i++)
		counters[i] = dsa_dev_counter(dev, i);
}

void dsa_dev_faults_off(const struct dsa_dev *dev)
{
	dsa_dev_write32(dev, DSA_EMU_ERR_EVERY, 0);
	dsa_dev_write32(dev, DSA_EMU_HANG_EVERY, 0);
	dsa_dev_write32(dev, DSA_EMU_DELAY_US, 0);
	dsa_dev_write32(dev, DSA_EMU_XLAT_EVERY, 0);
	dsa_dev_write32(dev, DSA_EMU_XLAT_TARGET, DSA_XLAT_DESTINATION);
	dsa_dev_write32(dev, DSA_EMU_BYPASS, 0);
	dsa_dev_write32(dev, DSA_EMU_REORDER_EVERY, 0);
	dsa_dev_write32(dev, DSA_EMU_RESET, 2);
}

int dsa_run(const char *fmt, ...)
{
	char command[512], line[256];
	va_list args;
	FILE *out;
	int status;

	va_start(args, fmt);
	vsnprintf(command, sizeof(command), fmt, args);
	va_end(args);
	tap_diag("$ %s", command);
	strncat(command, " 2>&1", sizeof(command) - strlen(command) - 1);
	out = popen(command, "r");
	if (!out)
		return -errno;
	while (fgets(line, sizeof(line), out)) {
		line[strcspn(line, "\n")] = 0;
		tap_diag("  %s", line);
	}
	status = pclose(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* "enabled", "disabled"... of a /sys/bus/dsa device; "" if unreadable. */
static const char *dsa_state(const char *name, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/dsa/devices/%s/state", name);
	if (read_text_file(path, buf, size) < 0)
		buf[0] = 0;
	return buf;
}

int dsa_wq_up(void)
{
	const char *config = "accel-config config-wq dsa0/wq0.0 --group-id=0 --mode=dedicated"
			     " --type=kernel --name=dmaengine --driver-name=dmaengine"
			     " --priority=10";
	char state[32];

	/*
	 * Disabling a WQ clears its name and type: configure it each time.
	 * Engines and WQ sizes can only change while the device is disabled.
	 */
	if (!strcmp(dsa_state("dsa0", state, sizeof(state)), "enabled"))
		return dsa_run("%s", config) ?: dsa_run("accel-config enable-wq dsa0/wq0.0");
	return dsa_run("accel-config config-engine dsa0/engine0.0 --group-id=0") ?:
	       dsa_run("%s --wq-size=32", config) ?:
	       dsa_run("accel-config enable-device dsa0") ?:
	       dsa_run("accel-config enable-wq dsa0/wq0.0");
}

int dsa_wq_down(bool force)
{
	return dsa_run("accel-config disable-wq%s dsa0/wq0.0", force ? " --force" : "");
}

void dsa_other_devices_down(void)
{
	dsa_run("for d in /sys/bus/dsa/devices/dsa*; do d=${d##*/}; [ $d = dsa0 ] ||"
		" accel-config disable-device --force $d; done");
}

int dsa_wq_channel(const struct dsa_dev *dev, char *name, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX], under[64];
	struct dirent *entry;
	DIR *dir = opendir("/sys/class/dma");
	int err = -ENOENT;

	if (!dir)
		return -errno;
	/* idxd registers its channels under the PCI device. */
	snprintf(under, sizeof(under), "/%s/dma/", dev->bdf);
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/dma/%s", entry->d_name);
		if (realpath(path, real) && strstr(real, under)) {
			snprintf(name, size, "%s", entry->d_name);
			err = 0;
			break;
		}
	}
	closedir(dir);
	return err;
}
