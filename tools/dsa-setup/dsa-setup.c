// SPDX-License-Identifier: GPL-2.0
/*
 * dsa-setup: check, set up and watch Intel DSA for the batched migration
 * copy (Documentation/admin-guide/mm/migrate_copy_dsa.rst).
 *
 *   dsa-setup [--sysfs DIR] check   what is there, and each known pitfall
 *                                   in one line that names the fix
 *   dsa-setup apply [DEVICE...]     one dedicated kernel WQ "migrate" with
 *                                   driver_name dmaengine per DSA device (or
 *                                   the ones named), enabled; the feature
 *                                   and the DSA engine on; then check
 *   dsa-setup [--sysfs DIR] status  the feature, the engine, its channels
 *                                   and counters
 *
 * The devices and work queues come from libaccel-config, except with
 * --sysfs DIR, which reads a sysfs tree at DIR instead of /sys (the tests'
 * fake trees). accfg_new() succeeds without idxd, so /sys/bus/dsa/drivers/idxd
 * is checked first (idxd_bus alone registers /sys/bus/dsa).
 *
 * Exit codes of check (and of apply, which ends with it):
 *   0  healthy: a usable work queue, the feature and the engine on
 *   1  bad usage, or an error of the tool itself
 *   2  no usable DSA: idxd not loaded, no device, or no work queue the
 *      engine can take
 *   3  DSA is usable but the kernel side is off or missing: the feature or
 *      the engine disabled, or a kernel without them
 *   4  working, with warnings (a node without a device, a small transfer
 *      size, a work queue claimed by another client)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <accel-config/libaccel_config.h>

#define MAX_DEVICES	16
#define MAX_WQS		16
#define MAX_NODES	64
#define TWO_MIB		(2ULL << 20)

enum exit_code {
	EXIT_HEALTHY = 0,
	EXIT_USAGE = 1,
	EXIT_NO_DSA = 2,
	EXIT_KERNEL_OFF = 3,
	EXIT_WARNINGS = 4,
};

struct wq_info {
	char dev[32];		/* "wq0.0" */
	char mode[16];		/* dedicated, shared */
	char type[16];		/* kernel, user, none */
	char name[64];
	char driver_name[32];
	char state[16];		/* enabled, disabled, ... */
	unsigned long size;
	unsigned long long max_xfer;
	unsigned int max_batch;
	int clients;
};

struct device_info {
	char dev[32];		/* "dsa0" */
	char state[16];		/* enabled, disabled, halted */
	int node;
	int pasid_enabled;
	unsigned long long max_xfer;
	unsigned int max_batch;
	int nr_wqs;
	struct wq_info wqs[MAX_WQS];
};

struct snapshot {
	bool dsa_bus;		/* /sys/bus/dsa/drivers/idxd exists: idxd is loaded */
	int nr_devices;
	struct device_info devices[MAX_DEVICES];
	bool feature;		/* /sys/kernel/mm/migrate_copy exists */
	int feature_on;
	bool engine;		/* .../migrate_copy/dsa exists */
	int engine_on;
	int channels;
	bool memory_node[MAX_NODES];
};

static const char *sysfs = "/sys";
static int worst = EXIT_HEALTHY;

/* ---- reading ---- */

static int read_text(char *out, size_t size, const char *fmt, ...)
{
	char path[512];
	va_list args;
	size_t len;
	FILE *file;

	va_start(args, fmt);
	vsnprintf(path, sizeof(path), fmt, args);
	va_end(args);
	out[0] = '\0';
	file = fopen(path, "r");
	if (!file)
		return -errno;
	if (!fgets(out, size, file))
		out[0] = '\0';
	fclose(file);
	len = strcspn(out, "\n");
	out[len] = '\0';
	return 0;
}

static long long read_number(long long fallback, const char *fmt, const char *a,
			     const char *b)
{
	char text[64];

	if (read_text(text, sizeof(text), fmt, sysfs, a, b) || !text[0])
		return fallback;
	return strtoll(text, NULL, 0);
}

/* "true", "1", "Y" (sysfs spells booleans several ways) */
static int read_bool(const char *fmt, const char *a, const char *b)
{
	char text[64];

	if (read_text(text, sizeof(text), fmt, sysfs, a, b))
		return 0;
	return !strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "Y");
}

static bool exists(const char *fmt, ...)
{
	char path[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(path, sizeof(path), fmt, args);
	va_end(args);
	return access(path, F_OK) == 0;
}

/* "0-1,3" -> memory_node[0], [1], [3] */
static void parse_node_list(const char *list, bool *nodes)
{
	const char *p = list;

	while (*p) {
		char *end;
		long first = strtol(p, &end, 10), last = first;

		if (end == p)
			break;
		if (*end == '-')
			last = strtol(end + 1, &end, 10);
		for (; first <= last && first < MAX_NODES; first++)
			if (first >= 0)
				nodes[first] = true;
		p = *end == ',' ? end + 1 : end;
		if (!*end || *end == '\n')
			break;
	}
}

/* A work queue from sysfs files (--sysfs). */
static void read_wq_files(const char *dev, struct wq_info *wq)
{
	const char *base = "%s/bus/dsa/devices/%s/%s";

	snprintf(wq->dev, sizeof(wq->dev), "%s", dev);
	read_text(wq->mode, sizeof(wq->mode), "%s/bus/dsa/devices/%s/mode", sysfs, dev);
	read_text(wq->type, sizeof(wq->type), "%s/bus/dsa/devices/%s/type", sysfs, dev);
	read_text(wq->name, sizeof(wq->name), "%s/bus/dsa/devices/%s/name", sysfs, dev);
	read_text(wq->driver_name, sizeof(wq->driver_name), "%s/bus/dsa/devices/%s/driver_name",
		  sysfs, dev);
	read_text(wq->state, sizeof(wq->state), "%s/bus/dsa/devices/%s/state", sysfs, dev);
	wq->size = read_number(0, base, dev, "size");
	wq->max_xfer = read_number(0, base, dev, "max_transfer_size");
	wq->max_batch = read_number(0, base, dev, "max_batch_size");
	wq->clients = read_number(0, base, dev, "clients");
}

/* Devices and work queues from a sysfs tree (--sysfs). */
static void read_devices_files(struct snapshot *snap)
{
	const char *base = "%s/bus/dsa/devices/%s/%s";
	char dir[512];
	struct dirent *entry;
	DIR *devices;

	snprintf(dir, sizeof(dir), "%s/bus/dsa/devices", sysfs);
	devices = opendir(dir);
	if (!devices)
		return;
	while ((entry = readdir(devices)) && snap->nr_devices < MAX_DEVICES) {
		struct device_info *device;
		unsigned int id;
		int wq_id;

		if (sscanf(entry->d_name, "dsa%u", &id) != 1)
			continue;
		device = &snap->devices[snap->nr_devices++];
		snprintf(device->dev, sizeof(device->dev), "dsa%u", id);
		read_text(device->state, sizeof(device->state), base, sysfs, device->dev, "state");
		device->node = read_number(-1, base, device->dev, "numa_node");
		device->pasid_enabled = read_number(0, base, device->dev, "pasid_enabled");
		device->max_xfer = read_number(0, base, device->dev, "max_transfer_size");
		device->max_batch = read_number(0, base, device->dev, "max_batch_size");
		for (wq_id = 0; wq_id < MAX_WQS; wq_id++) {
			char wq[32];

			snprintf(wq, sizeof(wq), "wq%u.%d", id, wq_id);
			if (!exists("%s/bus/dsa/devices/%s", sysfs, wq))
				continue;
			read_wq_files(wq, &device->wqs[device->nr_wqs++]);
		}
	}
	closedir(devices);
}

static const char *wq_mode_name(enum accfg_wq_mode mode)
{
	return mode == ACCFG_WQ_DEDICATED ? "dedicated" : mode == ACCFG_WQ_SHARED ? "shared" :
	       "unknown";
}

static const char *wq_type_name(enum accfg_wq_type type)
{
	return type == ACCFG_WQT_KERNEL ? "kernel" : type == ACCFG_WQT_USER ? "user" : "none";
}

static const char *wq_state_name(enum accfg_wq_state state)
{
	switch (state) {
	case ACCFG_WQ_ENABLED:
		return "enabled";
	case ACCFG_WQ_DISABLED:
		return "disabled";
	case ACCFG_WQ_QUIESCING:
		return "quiescing";
	case ACCFG_WQ_LOCKED:
		return "locked";
	default:
		return "unknown";
	}
}

static void copy_string(char *out, size_t size, const char *value)
{
	snprintf(out, size, "%s", value ? value : "");
}

/* Devices and work queues through libaccel-config. */
static int read_devices_accfg(struct snapshot *snap)
{
	struct accfg_device *device;
	struct accfg_ctx *ctx;
	struct accfg_wq *wq;

	if (accfg_new(&ctx) < 0) {
		fprintf(stderr, "dsa-setup: libaccel-config cannot read /sys/bus/dsa\n");
		return -1;
	}
	accfg_device_foreach(ctx, device) {
		struct device_info *info;

		if (accfg_device_get_type(device) != ACCFG_DEVICE_DSA ||
		    snap->nr_devices == MAX_DEVICES)
			continue;
		info = &snap->devices[snap->nr_devices++];
		copy_string(info->dev, sizeof(info->dev), accfg_device_get_devname(device));
		/* "halted" too, which accfg_device_get_state() does not tell. */
		if (read_text(info->state, sizeof(info->state), "%s/bus/dsa/devices/%s/state",
			      sysfs, info->dev))
			copy_string(info->state, sizeof(info->state), "unknown");
		info->node = accfg_device_get_numa_node(device);
		info->pasid_enabled = accfg_device_get_pasid_enabled(device);
		info->max_xfer = accfg_device_get_max_transfer_size(device);
		info->max_batch = accfg_device_get_max_batch_size(device);
		accfg_wq_foreach(device, wq) {
			struct wq_info *w;

			if (info->nr_wqs == MAX_WQS)
				break;
			w = &info->wqs[info->nr_wqs++];
			copy_string(w->dev, sizeof(w->dev), accfg_wq_get_devname(wq));
			copy_string(w->mode, sizeof(w->mode), wq_mode_name(accfg_wq_get_mode(wq)));
			copy_string(w->type, sizeof(w->type), wq_type_name(accfg_wq_get_type(wq)));
			copy_string(w->name, sizeof(w->name), accfg_wq_get_type_name(wq));
			copy_string(w->driver_name, sizeof(w->driver_name),
				    accfg_wq_get_driver_name(wq));
			copy_string(w->state, sizeof(w->state), wq_state_name(accfg_wq_get_state(wq)));
			w->size = accfg_wq_get_size(wq);
			w->max_xfer = accfg_wq_get_max_transfer_size(wq);
			w->max_batch = accfg_wq_get_max_batch_size(wq);
			w->clients = accfg_wq_get_clients(wq);
		}
	}
	accfg_unref(ctx);
	return 0;
}

static int read_snapshot(struct snapshot *snap, bool fake)
{
	char text[256];

	memset(snap, 0, sizeof(*snap));
	/* idxd_bus registers the bus; idxd is loaded when its driver is there. */
	snap->dsa_bus = exists("%s/bus/dsa/drivers/idxd", sysfs);
	if (snap->dsa_bus) {
		if (fake)
			read_devices_files(snap);
		else if (read_devices_accfg(snap))
			return -1;
	}
	snap->feature = exists("%s/kernel/mm/migrate_copy", sysfs);
	snap->feature_on = read_bool("%s/kernel/mm/migrate_copy/%s%s", "enabled", "");
	snap->engine = exists("%s/kernel/mm/migrate_copy/dsa", sysfs);
	snap->engine_on = read_bool("%s/kernel/mm/migrate_copy/%s%s", "dsa/", "enabled");
	snap->channels = read_number(0, "%s/kernel/mm/migrate_copy/%s%s", "dsa/", "nr_channels");
	if (!read_text(text, sizeof(text), "%s/devices/system/node/has_memory", sysfs))
		parse_node_list(text, snap->memory_node);
	return 0;
}

/* ---- diagnosis ---- */

/* How serious an exit code is: no DSA, then the kernel side, then warnings. */
static int severity(int code)
{
	switch (code) {
	case EXIT_NO_DSA:
		return 3;
	case EXIT_KERNEL_OFF:
		return 2;
	case EXIT_WARNINGS:
		return 1;
	default:
		return 0;
	}
}

/* One finding, one line; the exit code is the most serious finding's. */
static void report(int code, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	printf(code == EXIT_WARNINGS ? "warning: " : code ? "problem: " : "ok: ");
	vprintf(fmt, args);
	printf("\n");
	va_end(args);
	if (severity(code) > severity(worst))
		worst = code;
}

static bool wq_is_ours(const struct wq_info *wq)
{
	return !strcmp(wq->type, "kernel") && !strcmp(wq->driver_name, "dmaengine");
}

/* Whether the engine can take this work queue; if not, say why, once. */
static bool check_wq(const struct device_info *device, const struct wq_info *wq)
{
	const char *cfg = "accel-config config-wq";

	if (!wq_is_ours(wq) && strcmp(wq->type, "kernel"))
		return false;	/* a user WQ: not for us, not a problem */
	if (!strcmp(wq->mode, "shared")) {
		report(device->pasid_enabled ? EXIT_WARNINGS : EXIT_NO_DSA,
		       "%s is shared%s: the engine takes dedicated WQs only: %s %s/%s --mode=dedicated",
		       wq->dev, device->pasid_enabled ? "" : " and PASID is off, so it cannot work",
		       cfg, device->dev, wq->dev);
		return false;
	}
	if (!wq->name[0]) {
		report(EXIT_NO_DSA, "%s has no name: %s %s/%s --name=migrate", wq->dev, cfg,
		       device->dev, wq->dev);
		return false;
	}
	if (strcmp(wq->driver_name, "dmaengine")) {
		report(EXIT_NO_DSA, "%s has driver_name \"%s\", not dmaengine: %s %s/%s"
		       " --driver-name=dmaengine", wq->dev, wq->driver_name, cfg, device->dev,
		       wq->dev);
		return false;
	}
	if (strcmp(wq->state, "enabled")) {
		report(EXIT_NO_DSA, "%s is %s: accel-config enable-wq %s/%s", wq->dev, wq->state,
		       device->dev, wq->dev);
		return false;
	}
	if (wq->max_xfer && wq->max_xfer < TWO_MIB)
		report(EXIT_WARNINGS, "%s takes %llu bytes per transfer, a THP needs %llu"
		       " descriptors: %s %s/%s --max-transfer-size=2097152 (WQ disabled first)",
		       wq->dev, wq->max_xfer, (TWO_MIB + wq->max_xfer - 1) / wq->max_xfer, cfg,
		       device->dev, wq->dev);
	return true;
}

static void check_nodes(const struct snapshot *snap, const bool *usable_node)
{
	int node;

	for (node = 0; node < MAX_NODES; node++)
		if (snap->memory_node[node] && !usable_node[node])
			report(EXIT_WARNINGS, "node %d has memory but no usable DSA work queue:"
			       " copies to it use a device on another node (or the CPU)", node);
}

static void check_kernel(const struct snapshot *snap, int usable)
{
	if (!snap->feature) {
		report(EXIT_KERNEL_OFF, "this kernel has no batched migration copy"
		       " (/sys/kernel/mm/migrate_copy): install the dsa-migrate kernel"
		       " (make kernel-deb)");
		return;
	}
	if (!snap->feature_on)
		report(EXIT_KERNEL_OFF, "the batched migration copy is off:"
		       " echo 1 > /sys/kernel/mm/migrate_copy/enabled");
	if (!snap->engine) {
		report(EXIT_KERNEL_OFF, "the DSA engine is not loaded: modprobe idxd_migrate_copy");
		return;
	}
	if (!snap->engine_on) {
		report(EXIT_KERNEL_OFF, "the DSA engine is disabled:"
		       " echo 1 > /sys/kernel/mm/migrate_copy/dsa/enabled");
		return;
	}
	if (!snap->channels && usable)
		report(EXIT_KERNEL_OFF, "the DSA engine holds no channel although %d WQ(s) are"
		       " usable: echo 0, then 1, > /sys/kernel/mm/migrate_copy/dsa/enabled", usable);
}

/* The channels the engine holds, from debugfs when it is mounted. */
static void print_channels(void)
{
	char path[512], line[256];
	FILE *file;

	snprintf(path, sizeof(path), "%s/kernel/debug/migrate_copy_dsa/channels", sysfs);
	file = fopen(path, "r");
	if (!file)
		return;
	while (fgets(line, sizeof(line), file))
		printf("  channel %s", line);
	fclose(file);
}

static void print_inventory(const struct snapshot *snap)
{
	int i, j;

	for (i = 0; i < snap->nr_devices; i++) {
		const struct device_info *d = &snap->devices[i];

		printf("%s: %s, node %d, pasid_enabled %d, max transfer %llu, max batch %u\n",
		       d->dev, d->state, d->node, d->pasid_enabled, d->max_xfer, d->max_batch);
		for (j = 0; j < d->nr_wqs; j++) {
			const struct wq_info *w = &d->wqs[j];

			printf("  %s: %s %s, name \"%s\", driver_name \"%s\", size %lu, %s,"
			       " max transfer %llu, max batch %u, clients %d\n", w->dev, w->mode,
			       w->type, w->name, w->driver_name, w->size, w->state, w->max_xfer,
			       w->max_batch, w->clients);
		}
	}
	if (snap->engine)
		printf("engine: %s, %d channel(s)\n", snap->engine_on ? "enabled" : "disabled",
		       snap->channels);
	print_channels();
}

static int check(const struct snapshot *snap)
{
	bool usable_node[MAX_NODES] = { false };
	int i, j, usable = 0, claimed = 0;

	worst = EXIT_HEALTHY;
	if (!snap->dsa_bus) {
		report(EXIT_NO_DSA, "idxd is not loaded (no %s/bus/dsa/drivers/idxd): modprobe idxd",
		       sysfs);
		check_kernel(snap, 0);
		return worst;
	}
	if (!snap->nr_devices) {
		report(EXIT_NO_DSA, "no DSA device: idxd found none (BIOS: VT-d on? lspci -d 8086:0b25)");
		check_kernel(snap, 0);
		return worst;
	}
	print_inventory(snap);
	for (i = 0; i < snap->nr_devices; i++) {
		const struct device_info *device = &snap->devices[i];
		int device_usable = 0;

		if (strcmp(device->state, "enabled")) {
			report(EXIT_NO_DSA, "%s is %s: %s", device->dev, device->state,
			       !strcmp(device->state, "halted") ?
			       "reset it (echo 1 > /sys/bus/pci/devices/<bdf>/reset) and configure again" :
			       "configure a WQ and accel-config enable-device");
			continue;
		}
		for (j = 0; j < device->nr_wqs; j++) {
			const struct wq_info *wq = &device->wqs[j];

			if (!check_wq(device, wq))
				continue;
			usable++;
			device_usable++;
			if (device->node >= 0 && device->node < MAX_NODES)
				usable_node[device->node] = true;
			claimed += wq->clients;
		}
		if (device_usable && (device->node < 0 || device->node >= MAX_NODES))
			report(EXIT_WARNINGS, "%s reports no NUMA node (numa_node %d): the engine"
			       " cannot tell which memory it is close to", device->dev, device->node);
	}
	if (!usable)
		report(EXIT_NO_DSA, "no WQ the engine can take: dsa-setup apply, or accel-config"
		       " config-wq DEV/WQ --mode=dedicated --type=kernel --name=migrate"
		       " --driver-name=dmaengine --wq-size=32, then enable-device and enable-wq");
	else
		check_nodes(snap, usable_node);
	if (usable && claimed > snap->channels)
		report(EXIT_WARNINGS, "%d client(s) hold the usable WQs but the engine holds %d"
		       " channel(s): another client (dmatest?) claimed a WQ", claimed, snap->channels);
	check_kernel(snap, usable);
	if (worst == EXIT_HEALTHY)
		report(EXIT_HEALTHY, "%d usable WQ(s), the engine holds %d channel(s)", usable,
		       snap->channels);
	return worst;
}

/* ---- status ---- */

static int status(const struct snapshot *snap)
{
	static const char *const counters[] = { "offloaded", "failed", "timed_out",
		"quarantined_pages", "batches", "descriptors", "copies" };
	char value[256];
	size_t i;

	if (!snap->feature) {
		printf("this kernel has no batched migration copy\n");
		return EXIT_KERNEL_OFF;
	}
	read_text(value, sizeof(value), "%s/kernel/mm/migrate_copy/engine", sysfs);
	printf("feature: %s, engine choice: %s\n", snap->feature_on ? "on" : "off", value);
	if (!snap->engine) {
		printf("DSA engine: not loaded\n");
		return EXIT_KERNEL_OFF;
	}
	printf("DSA engine: %s, %d channel(s)\n", snap->engine_on ? "enabled" : "disabled",
	       snap->channels);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		read_text(value, sizeof(value), "%s/kernel/mm/migrate_copy/dsa/%s", sysfs,
			  counters[i]);
		printf("  %-18s %s\n", counters[i], value[0] ? value : "?");
	}
	return EXIT_HEALTHY;
}

/* ---- apply ---- */

static bool named(const char *dev, int argc, char **argv)
{
	int i;

	if (!argc)
		return true;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], dev))
			return true;
	return false;
}

static int write_text(const char *path, const char *value)
{
	FILE *file = fopen(path, "w");
	int err = 0;

	if (!file)
		return -errno;
	if (fputs(value, file) < 0)
		err = -EIO;
	if (fclose(file))
		err = -errno;
	return err;
}

/* The first WQ and engine of @device, configured and enabled for the engine. */
static int apply_device(struct accfg_device *device)
{
	const char *dev = accfg_device_get_devname(device);
	struct accfg_engine *engine = accfg_engine_get_first(device);
	struct accfg_wq *wq = accfg_wq_get_first(device);
	int err;

	if (!wq || !engine) {
		fprintf(stderr, "dsa-setup: %s has no WQ or no engine\n", dev);
		return -ENODEV;
	}
	if (accfg_wq_get_state(wq) == ACCFG_WQ_ENABLED && accfg_wq_get_type(wq) == ACCFG_WQT_KERNEL &&
	    !strcmp(accfg_wq_get_driver_name(wq) ?: "", "dmaengine")) {
		printf("%s/%s: already a dmaengine WQ, left as it is\n", dev,
		       accfg_wq_get_devname(wq));
		return 0;
	}
	if (accfg_device_get_state(device) == ACCFG_DEVICE_ENABLED) {
		fprintf(stderr, "dsa-setup: %s is enabled with another configuration:"
			" accel-config disable-device %s first (it stops its other users)\n", dev,
			dev);
		return -EBUSY;
	}
	err = accfg_engine_set_group_id(engine, 0) ?:
	      accfg_wq_set_group_id(wq, 0) ?:
	      accfg_wq_set_mode(wq, ACCFG_WQ_DEDICATED) ?:
	      accfg_wq_set_str_type(wq, "kernel") ?:
	      accfg_wq_set_str_name(wq, "migrate") ?:
	      accfg_wq_set_str_driver_name(wq, "dmaengine") ?:
	      accfg_wq_set_priority(wq, 10) ?:
	      accfg_wq_set_size(wq, 32) ?:
	      accfg_wq_set_max_batch_size(wq, 32) ?:
	      accfg_wq_set_max_transfer_size(wq, TWO_MIB);
	if (err) {
		fprintf(stderr, "dsa-setup: configuring %s failed: %s\n", dev, strerror(-err));
		return err;
	}
	err = accfg_device_enable(device) ?: accfg_wq_enable(wq);
	if (err) {
		fprintf(stderr, "dsa-setup: enabling %s/%s failed: %s (%s)\n", dev,
			accfg_wq_get_devname(wq), strerror(-err),
			accfg_device_get_cmd_status_str(device) ?: "no command status");
		return err;
	}
	printf("%s/%s: dedicated kernel WQ \"migrate\" for dmaengine, enabled\n", dev,
	       accfg_wq_get_devname(wq));
	return 0;
}

static int apply(int argc, char **argv)
{
	struct accfg_device *device;
	struct accfg_ctx *ctx;
	char path[512];
	int failed = 0, done = 0;

	if (!exists("%s/bus/dsa/drivers/idxd", sysfs)) {
		printf("problem: idxd is not loaded (no %s/bus/dsa/drivers/idxd): modprobe idxd\n",
		       sysfs);
		return EXIT_NO_DSA;
	}
	if (accfg_new(&ctx) < 0) {
		fprintf(stderr, "dsa-setup: libaccel-config cannot read /sys/bus/dsa\n");
		return EXIT_USAGE;
	}
	accfg_device_foreach(ctx, device) {
		if (accfg_device_get_type(device) != ACCFG_DEVICE_DSA ||
		    !named(accfg_device_get_devname(device), argc, argv))
			continue;
		if (apply_device(device))
			failed++;
		else
			done++;
	}
	accfg_unref(ctx);
	if (!done && !failed)
		printf("problem: no DSA device%s\n", argc ? " of those named" : "");
	if (done && !exists("%s/kernel/mm/migrate_copy/dsa", sysfs) &&
	    system("modprobe idxd_migrate_copy"))
		fprintf(stderr, "dsa-setup: modprobe idxd_migrate_copy failed\n");
	snprintf(path, sizeof(path), "%s/kernel/mm/migrate_copy/enabled", sysfs);
	if (done && write_text(path, "1"))
		fprintf(stderr, "dsa-setup: cannot turn the feature on (%s)\n", path);
	snprintf(path, sizeof(path), "%s/kernel/mm/migrate_copy/dsa/enabled", sysfs);
	if (done && write_text(path, "1"))
		fprintf(stderr, "dsa-setup: cannot enable the DSA engine (%s; modprobe"
			" idxd_migrate_copy?)\n", path);
	return failed ? EXIT_NO_DSA : EXIT_HEALTHY;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: dsa-setup [--sysfs DIR] check|status\n"
		"       dsa-setup apply [DEVICE...]\n");
	exit(EXIT_USAGE);
}

int main(int argc, char **argv)
{
	struct snapshot snap;
	bool fake = false;
	int ret;

	if (argc > 2 && !strcmp(argv[1], "--sysfs")) {
		sysfs = argv[2];
		fake = true;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "apply")) {
		if (fake)
			usage();
		ret = apply(argc - 2, argv + 2);
		if (ret == EXIT_USAGE)
			return ret;
	} else if (strcmp(argv[1], "check") && strcmp(argv[1], "status")) {
		usage();
	} else if (argc != 2) {
		usage();
	}
	if (read_snapshot(&snap, fake))
		return EXIT_USAGE;
	if (!strcmp(argv[1], "status"))
		return status(&snap);
	ret = check(&snap);
	return ret;
}
