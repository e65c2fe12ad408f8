// SPDX-License-Identifier: GPL-2.0
/*
 * migrate-bench: move_pages() throughput between two NUMA nodes, per folio
 * size and per copy engine of the batched migration copy
 * (Documentation/admin-guide/mm/migrate_copy.rst).
 *
 *   migrate-bench [--from NODE] [--to NODE] [--sizes LIST] [--engines LIST]
 *                 [--mib N] [--reps N] [--short] [--label TEXT]
 *                 [--csv FILE] [--json FILE]
 *
 * Each move faults --mib MiB of anonymous memory on the source node in
 * folios of one size (4k, 64k mTHP, 2m THP), moves it with one
 * move_pages() call to the target node, and times that call only. Then it
 * checks that every page is on the target node and holds what was written
 * (every word), and reads from /proc/vmstat which engine copied it.
 *
 * Engines: "cpu" (nothing copied ahead: the move copies, as when disabled),
 * each registered engine, "auto" (the kernel picks) and
 * "disabled" (the feature off: migration copies folio by folio), by default
 * all of them; on a kernel without the feature, one row, "kernel". Every
 * repetition runs the engines in another order (rotated by one). The table
 * has the minimum, median and maximum GB/s (10^9 bytes per second) of each
 * cell. Engine, feature and THP settings are restored at exit.
 *
 * Under QEMU every number is labelled: a guest's time is not the
 * hardware's. Under TCG: "QEMU TCG: function, not speed".
 *
 * Exit codes: 0 every move complete and correct; 1 bad usage or an error
 * of the tool; 2 the machine cannot run it (not root, fewer than two nodes
 * with memory); 3 a move left pages behind or a copy was wrong.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#define CORE_DIR	"/sys/kernel/mm/migrate_copy/"
#define THP_DIR		"/sys/kernel/mm/transparent_hugepage/"
#define PAGE_SIZE_4K	4096UL
#define PMD_SIZE_2M	(2UL << 20)
#define MAX_ENGINES	16
#define MAX_SIZES	3
#define MAX_REPS	101
#define NAME_MAX_LEN	32
#define TEXT_MAX	256
#define LABEL_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"

enum exit_code {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CANNOT_RUN = 2,
	EXIT_WRONG = 3,
};

struct folio_size {
	const char *name;	/* "4k", "64k", "2m" */
	unsigned long bytes;
	const char *thp_dir;	/* hugepages-<n>kB, NULL for 4k */
};

static const struct folio_size all_sizes[MAX_SIZES] = {
	{ "4k", PAGE_SIZE_4K, NULL },
	{ "64k", 64UL << 10, "hugepages-64kB" },
	{ "2m", PMD_SIZE_2M, "hugepages-2048kB" },
};

/* One move: what it took and what it did. */
struct sample {
	double seconds;
	double gbps;
	unsigned long moved_pages;	/* 4K pages on the target afterwards */
	unsigned long wrong_pages;	/* pages whose content is not what was written */
	unsigned long large_folios;	/* folios of the cell's size faulted */
	unsigned long long offload_pages, cpu_pages, fallback_pages, migrated_pages;
};

struct cell {
	const struct folio_size *size;
	char engine[NAME_MAX_LEN];
	const char *skipped;	/* why the cell did not run, or NULL */
	unsigned int nr_samples;
	struct sample samples[MAX_REPS];
	double min_gbps, median_gbps, max_gbps;
};

struct options {
	int from, to;
	unsigned long bytes;
	unsigned int reps;
	bool short_mode;
	const char *label;
	const char *csv_path, *json_path;
	bool sizes[MAX_SIZES];
	char engines[MAX_ENGINES][NAME_MAX_LEN];
	unsigned int nr_engines;
};

/* The settings this run changes, restored at exit. */
struct saved_setting {
	char path[TEXT_MAX];
	char value[NAME_MAX_LEN];
};

static struct saved_setting saved[64];
static unsigned int nr_saved;
static volatile sig_atomic_t stop_signal;
static bool feature_present;
static const char *environment_label;	/* NULL on bare metal */

static void die(enum exit_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void restore_settings(void);

static void die(enum exit_code code, const char *fmt, ...)
{
	va_list args;

	fputs("migrate-bench: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	restore_settings();
	exit(code);
}

/* The first line of @path, without its newline, in @buf; 0 or -errno. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *file = fopen(path, "r");
	int ret = 0;

	if (!file)
		return -errno;
	if (!fgets(buf, size, file))
		ret = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(file);
	return ret;
}

static int write_value(const char *path, const char *value)
{
	FILE *file = fopen(path, "w");
	int ret = 0;

	if (!file)
		return -errno;
	if (fputs(value, file) < 0)
		ret = -errno;
	if (fclose(file) && !ret)
		ret = -errno;
	return ret;
}

/* The bracketed choice of a sysfs choice file ("[auto] cpu dsa"). */
static int read_choice(const char *path, char *buf, size_t size)
{
	char line[TEXT_MAX], *open, *close;
	int ret = read_line(path, line, sizeof(line));

	if (ret)
		return ret;
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return -EINVAL;
	*close = '\0';
	snprintf(buf, size, "%s", open + 1);
	return 0;
}

/* Remember @path's current setting once, then write @value; dies on error. */
static void set_value(const char *path, const char *value)
{
	char old[NAME_MAX_LEN];
	unsigned int i;
	int ret;

	for (i = 0; i < nr_saved && strcmp(saved[i].path, path); i++)
		;
	if (i == nr_saved) {
		if (nr_saved == sizeof(saved) / sizeof(saved[0]))
			die(EXIT_USAGE, "too many settings to restore");
		if (read_choice(path, old, sizeof(old)) &&
		    read_line(path, old, sizeof(old)))
			die(EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
		snprintf(saved[nr_saved].path, sizeof(saved[nr_saved].path), "%s", path);
		snprintf(saved[nr_saved].value, sizeof(saved[nr_saved].value), "%s", old);
		nr_saved++;
	}
	ret = write_value(path, value);
	if (ret)
		die(EXIT_USAGE, "cannot write \"%s\" to %s: %s", value, path, strerror(-ret));
}

/* In reverse order: the engine choice before the feature's switch. */
static void restore_settings(void)
{
	while (nr_saved) {
		nr_saved--;
		if (write_value(saved[nr_saved].path, saved[nr_saved].value))
			fprintf(stderr, "migrate-bench: could not restore %s to \"%s\"\n",
				saved[nr_saved].path, saved[nr_saved].value);
	}
}

/* Only noted here: the settings are restored between two moves. */
static void on_signal(int signo)
{
	stop_signal = signo;
}

static void catch_signals(void)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction action = { .sa_handler = on_signal };
	unsigned int i;

	sigemptyset(&action.sa_mask);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &action, NULL);
}

/* After a signal: restore, then die of it. */
static void stop_if_signalled(void)
{
	int signo = stop_signal;

	if (!signo)
		return;
	fprintf(stderr, "migrate-bench: stopped by signal %d; settings restored\n", signo);
	restore_settings();
	signal(signo, SIG_DFL);
	raise(signo);
}

/* The first "model name" of /proc/cpuinfo, or "". */
static void cpu_model(char *buf, size_t size)
{
	char line[TEXT_MAX], *colon;
	FILE *file = fopen("/proc/cpuinfo", "r");

	buf[0] = '\0';
	if (!file)
		return;
	while (fgets(line, sizeof(line), file)) {
		colon = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, size, "%s", colon + 1 + (colon[1] == ' '));
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(file);
}

/*
 * "QEMU TCG: function, not speed" and its kin, or NULL on bare metal: from
 * the hypervisor bit and signature of CPUID, the DMI vendor (CONFIG_DMIID)
 * and the CPU model ("QEMU TCG CPU" under TCG with -cpu max).
 */
static const char *detect_environment(void)
{
	unsigned int eax, ebx, ecx, edx;
	char vendor[TEXT_MAX] = "", model[TEXT_MAX], signature[13] = "";
	bool hypervisor, kvm, qemu;

	read_line("/sys/class/dmi/id/sys_vendor", vendor, sizeof(vendor));
	cpu_model(model, sizeof(model));
	__cpuid(1, eax, ebx, ecx, edx);
	hypervisor = ecx & (1U << 31);
	if (hypervisor) {
		__cpuid(0x40000000, eax, ebx, ecx, edx);
		memcpy(signature, &ebx, 4);
		memcpy(signature + 4, &ecx, 4);
		memcpy(signature + 8, &edx, 4);
	}
	kvm = !strncmp(signature, "KVMKVMKVM", 9);
	qemu = !strcmp(vendor, "QEMU") || strstr(model, "QEMU");
	if (!strncmp(signature, "TCGTCGTCGTCG", 12) || strstr(model, "QEMU TCG") ||
	    (qemu && !kvm))
		return "QEMU TCG: function, not speed";
	if (kvm)
		return "KVM virtual machine: not bare-metal speed";
	if (hypervisor || qemu)
		return "virtual machine: not bare-metal speed";
	return NULL;
}

static unsigned long long vmstat(const char *name)
{
	char line[TEXT_MAX];
	size_t len = strlen(name);
	unsigned long long value = 0;
	FILE *file = fopen("/proc/vmstat", "r");

	if (!file)
		return 0;
	while (fgets(line, sizeof(line), file)) {
		if (!strncmp(line, name, len) && line[len] == ' ') {
			value = strtoull(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(file);
	return value;
}

static unsigned long long mthp_faults(const struct folio_size *size)
{
	char path[TEXT_MAX], line[NAME_MAX_LEN];

	if (!size->thp_dir)
		return 0;
	snprintf(path, sizeof(path), THP_DIR "%s/stats/anon_fault_alloc", size->thp_dir);
	if (read_line(path, line, sizeof(line)))
		return 0;
	return strtoull(line, NULL, 10);
}

static bool size_offered(const struct folio_size *size)
{
	char path[TEXT_MAX];

	if (!size->thp_dir)
		return true;
	snprintf(path, sizeof(path), THP_DIR "%s/enabled", size->thp_dir);
	return access(path, W_OK) == 0;
}

/* Every THP size the kernel has "never", except @size's, "madvise". */
static void select_folio_size(const struct folio_size *size)
{
	char path[TEXT_MAX];
	struct dirent *entry;
	DIR *dir = opendir(THP_DIR);

	if (!dir)
		return;
	while ((entry = readdir(dir))) {
		if (strncmp(entry->d_name, "hugepages-", 10))
			continue;
		if (snprintf(path, sizeof(path), THP_DIR "%s/enabled", entry->d_name) >=
		    (int)sizeof(path) || access(path, W_OK))
			continue;
		set_value(path, size->thp_dir && !strcmp(entry->d_name, size->thp_dir) ?
			  "madvise" : "never");
	}
	closedir(dir);
}

static void select_engine(const char *engine)
{
	if (!feature_present)
		return;
	if (!strcmp(engine, "disabled")) {
		set_value(CORE_DIR "enabled", "0");
		return;
	}
	set_value(CORE_DIR "enabled", "1");
	set_value(CORE_DIR "engine", engine);
}

static uint64_t pattern_word(unsigned int seed, unsigned long word)
{
	uint64_t value = ((uint64_t)seed << 40) ^ word;

	return value * 0x9e3779b97f4a7c15ULL + 1;
}

static unsigned long count_wrong_pages(const uint64_t *words, unsigned long bytes,
				       unsigned int seed)
{
	unsigned long per_page = PAGE_SIZE_4K / sizeof(uint64_t);
	unsigned long page, word, wrong = 0;

	for (page = 0; page < bytes / PAGE_SIZE_4K; page++) {
		for (word = page * per_page; word < (page + 1) * per_page; word++) {
			if (words[word] != pattern_word(seed, word)) {
				wrong++;
				break;
			}
		}
	}
	return wrong;
}

/*
 * 4K pages of @addr that are on @node now; @pages and @status have room for
 * every 4K page of @bytes.
 */
static unsigned long pages_on_node(char *addr, unsigned long bytes, int node, void **pages,
				   int *status)
{
	unsigned long nr = bytes / PAGE_SIZE_4K, i, on = 0;

	for (i = 0; i < nr; i++)
		pages[i] = addr + i * PAGE_SIZE_4K;
	if (numa_move_pages(0, nr, pages, NULL, status, 0) == 0)
		for (i = 0; i < nr; i++)
			on += status[i] == node;
	return on;
}

/* A 2 MiB-aligned anonymous region of @bytes, faulted on @node in @size folios. */
static char *fault_region(const struct options *opts, const struct folio_size *size,
			  unsigned int seed, void **map, size_t *map_len)
{
	unsigned long nodemask = 1UL << opts->from;
	uint64_t *words;
	unsigned long i;
	char *addr;

	*map_len = opts->bytes + PMD_SIZE_2M;
	*map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED)
		die(EXIT_USAGE, "mmap of %lu bytes: %s", (unsigned long)*map_len, strerror(errno));
	addr = (char *)(((uintptr_t)*map + PMD_SIZE_2M - 1) & ~(PMD_SIZE_2M - 1));
	if (mbind(addr, opts->bytes, MPOL_BIND, &nodemask, sizeof(nodemask) * 8, 0))
		die(EXIT_USAGE, "mbind to node %d: %s", opts->from, strerror(errno));
	if (madvise(addr, opts->bytes, size->thp_dir ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die(EXIT_USAGE, "madvise: %s", strerror(errno));
	words = (uint64_t *)addr;
	for (i = 0; i < opts->bytes / sizeof(uint64_t); i++)
		words[i] = pattern_word(seed, i);
	return addr;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One move of @cell's size with @cell's engine: one sample. */
static void run_move(const struct options *opts, struct cell *cell, unsigned int seed)
{
	const struct folio_size *size = cell->size;
	unsigned long stride = size->bytes, nr = opts->bytes / stride, i;
	unsigned long long faults, offload, cpu, fallback, migrated;
	struct sample *sample = &cell->samples[cell->nr_samples++];
	void **pages = calloc(opts->bytes / PAGE_SIZE_4K, sizeof(*pages));
	int *nodes = calloc(opts->bytes / PAGE_SIZE_4K, sizeof(*nodes));
	int *status = calloc(opts->bytes / PAGE_SIZE_4K, sizeof(*status));
	double start;
	size_t map_len;
	void *map;
	char *addr;
	long ret;

	if (!pages || !nodes || !status)
		die(EXIT_USAGE, "out of memory");
	select_folio_size(size);
	select_engine(cell->engine);
	faults = mthp_faults(size);
	addr = fault_region(opts, size, seed, &map, &map_len);
	sample->large_folios = mthp_faults(size) - faults;
	/*
	 * One address per folio: the others of a large folio would be -EBUSY.
	 * If some folios came out smaller, every 4K page's address, so that
	 * those move too (the table notes the shortfall).
	 */
	if (sample->large_folios < nr) {
		stride = PAGE_SIZE_4K;
		nr = opts->bytes / stride;
	}
	for (i = 0; i < nr; i++) {
		pages[i] = addr + i * stride;
		nodes[i] = opts->to;
	}
	offload = vmstat("migrate_copy_offload_pages");
	cpu = vmstat("migrate_copy_cpu_pages");
	fallback = vmstat("migrate_copy_fallback_pages");
	migrated = vmstat("pgmigrate_success");
	start = now_seconds();
	ret = numa_move_pages(0, nr, pages, nodes, status, MPOL_MF_MOVE);
	sample->seconds = now_seconds() - start;
	if (ret < 0)
		die(EXIT_USAGE, "move_pages of %lu folios to node %d: %s", nr, opts->to,
		    strerror(errno));
	sample->offload_pages = vmstat("migrate_copy_offload_pages") - offload;
	sample->cpu_pages = vmstat("migrate_copy_cpu_pages") - cpu;
	sample->fallback_pages = vmstat("migrate_copy_fallback_pages") - fallback;
	sample->migrated_pages = vmstat("pgmigrate_success") - migrated;
	sample->moved_pages = pages_on_node(addr, opts->bytes, opts->to, pages, status);
	sample->wrong_pages = count_wrong_pages((uint64_t *)addr, opts->bytes, seed);
	sample->gbps = sample->moved_pages * PAGE_SIZE_4K / sample->seconds / 1e9;
	munmap(map, map_len);
	free(pages);
	free(nodes);
	free(status);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarise(struct cell *cell)
{
	double values[MAX_REPS];
	unsigned int i, n = cell->nr_samples;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		values[i] = cell->samples[i].gbps;
	qsort(values, n, sizeof(values[0]), compare_doubles);
	cell->min_gbps = values[0];
	cell->max_gbps = values[n - 1];
	cell->median_gbps = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* Totals over a cell's samples. */
struct cell_totals {
	unsigned long requested, moved, wrong, large_folios;
	unsigned long long offload, cpu, fallback, migrated;
};

static struct cell_totals cell_totals(const struct options *opts, const struct cell *cell)
{
	struct cell_totals totals = { 0 };
	unsigned int i;

	for (i = 0; i < cell->nr_samples; i++) {
		const struct sample *sample = &cell->samples[i];

		totals.requested += opts->bytes / PAGE_SIZE_4K;
		totals.moved += sample->moved_pages;
		totals.wrong += sample->wrong_pages;
		totals.large_folios += sample->large_folios;
		totals.offload += sample->offload_pages;
		totals.cpu += sample->cpu_pages;
		totals.fallback += sample->fallback_pages;
		totals.migrated += sample->migrated_pages;
	}
	return totals;
}

static double share(unsigned long long part, unsigned long long whole)
{
	return whole ? 100.0 * part / whole : 0;
}

static void print_table(const struct options *opts, struct cell *cells, unsigned int nr_cells)
{
	const char *label = environment_label ? environment_label : "";
	struct utsname uts;
	unsigned int i;

	uname(&uts);
	printf("migrate-bench: %s, kernel %s, %lu MiB per move, node %d -> %d, %u repetitions\n",
	       opts->label, uts.release, opts->bytes >> 20, opts->from, opts->to, opts->reps);
	if (environment_label)
		printf("%s\n", environment_label);
	printf("%-5s %-9s %9s %9s %9s %13s %9s %9s %6s  %s\n", "size", "engine", "min GB/s",
	       "median", "max", "moved pages", "offload%", "engine%", "wrong", "");
	for (i = 0; i < nr_cells; i++) {
		struct cell *cell = &cells[i];
		struct cell_totals totals = cell_totals(opts, cell);

		if (cell->skipped) {
			printf("%-5s %-9s skipped: %s\n", cell->size->name, cell->engine, cell->skipped);
			continue;
		}
		printf("%-5s %-9s %9.3f %9.3f %9.3f %6lu/%-6lu %9.1f %9.1f %6lu  %s\n",
		       cell->size->name, cell->engine, cell->min_gbps, cell->median_gbps,
		       cell->max_gbps, totals.moved, totals.requested,
		       share(totals.offload, totals.migrated),
		       share(totals.offload + totals.cpu, totals.migrated), totals.wrong, label);
		if (feature_present && strcmp(cell->engine, "disabled") &&
		    !totals.offload && !totals.cpu)
			printf("      note: no page of this row was copied in a batch: see %sreasons,"
			       " min_batch_bytes and the engine's own switch\n", CORE_DIR);
		if (cell->size->thp_dir && totals.large_folios * cell->size->bytes <
		    cell->nr_samples * opts->bytes)
			printf("      note: %lu of %lu folios were %s (the rest smaller)\n",
			       totals.large_folios,
			       cell->nr_samples * opts->bytes / cell->size->bytes,
			       cell->size->name);
	}
	printf("offload%%: pages an engine other than the CPU copied; engine%%: pages copied "
	       "in a batch by any engine (of pgmigrate_success)\n");
}

/* @text as one CSV field: quoted, quotes doubled (RFC 4180). */
static void csv_string(FILE *file, const char *text, const char *separator)
{
	fputc('"', file);
	for (; *text; text++) {
		if (*text == '"')
			fputc('"', file);
		fputc(*text, file);
	}
	fprintf(file, "\"%s", separator);
}

/* @text as a JSON string: quotes, backslashes and control characters escaped. */
static void json_string(FILE *file, const char *key, const char *text, const char *after)
{
	fprintf(file, "\"%s\": \"", key);
	for (; *text; text++) {
		if (*text == '"' || *text == '\\')
			fprintf(file, "\\%c", *text);
		else if ((unsigned char)*text < 0x20)
			fprintf(file, "\\u%04x", *text);
		else
			fputc(*text, file);
	}
	fprintf(file, "\"%s", after);
}

static FILE *open_output(const char *path)
{
	FILE *file = strcmp(path, "-") ? fopen(path, "w") : stdout;

	if (!file)
		die(EXIT_USAGE, "cannot write %s: %s", path, strerror(errno));
	return file;
}

static void close_output(FILE *file, const char *path)
{
	if (file == stdout ? fflush(file) : fclose(file))
		die(EXIT_USAGE, "writing %s: %s", path, strerror(errno));
}

static void write_csv(const struct options *opts, struct cell *cells, unsigned int nr_cells)
{
	FILE *file = open_output(opts->csv_path);
	unsigned int i;

	fprintf(file, "label,kernel_feature,size,engine,reps,min_gbps,median_gbps,max_gbps,"
		"requested_pages,moved_pages,wrong_pages,offload_pages,cpu_pages,"
		"fallback_pages,migrated_pages,large_folios,skipped,environment\n");
	for (i = 0; i < nr_cells; i++) {
		struct cell_totals totals = cell_totals(opts, &cells[i]);

		csv_string(file, opts->label, ",");
		fprintf(file, "%s,%s,", feature_present ? "yes" : "no", cells[i].size->name);
		csv_string(file, cells[i].engine, ",");
		fprintf(file, "%u,%.6f,%.6f,%.6f,%lu,%lu,%lu,%llu,%llu,%llu,%llu,%lu,",
			cells[i].nr_samples, cells[i].min_gbps, cells[i].median_gbps,
			cells[i].max_gbps, totals.requested, totals.moved, totals.wrong,
			totals.offload, totals.cpu, totals.fallback, totals.migrated,
			totals.large_folios);
		csv_string(file, cells[i].skipped ? cells[i].skipped : "", ",");
		csv_string(file, environment_label ? environment_label : "bare metal", "\n");
	}
	close_output(file, opts->csv_path);
}

static void write_json(const struct options *opts, struct cell *cells, unsigned int nr_cells)
{
	FILE *file = open_output(opts->json_path);
	struct utsname uts;
	unsigned int i, j;

	uname(&uts);
	fprintf(file, "{\n  \"tool\": \"migrate-bench\",\n  \"format\": 1,\n");
	fputs("  ", file);
	json_string(file, "label", opts->label, ",\n  ");
	json_string(file, "kernel", uts.release, ",\n");
	fprintf(file, "  \"feature\": %s,\n  ", feature_present ? "true" : "false");
	json_string(file, "environment", environment_label ? environment_label : "bare metal",
		    ",\n");
	fprintf(file, "  \"from_node\": %d,\n  \"to_node\": %d,\n", opts->from, opts->to);
	fprintf(file, "  \"bytes_per_move\": %lu,\n  \"reps\": %u,\n", opts->bytes, opts->reps);
	fprintf(file, "  \"cells\": [");
	for (i = 0; i < nr_cells; i++) {
		struct cell *cell = &cells[i];
		struct cell_totals totals = cell_totals(opts, cell);

		fprintf(file, "%s\n    {\"size\": \"%s\", \"folio_bytes\": %lu, ",
			i ? "," : "", cell->size->name, cell->size->bytes);
		json_string(file, "engine", cell->engine, ",");
		if (cell->skipped) {
			fputc(' ', file);
			json_string(file, "skipped", cell->skipped, ", \"samples\": []}");
			continue;
		}
		fprintf(file, " \"min_gbps\": %.6f, \"median_gbps\": %.6f, \"max_gbps\": %.6f,",
			cell->min_gbps, cell->median_gbps, cell->max_gbps);
		fprintf(file, " \"requested_pages\": %lu, \"moved_pages\": %lu, \"wrong_pages\": %lu,",
			totals.requested, totals.moved, totals.wrong);
		fprintf(file, " \"offload_pages\": %llu, \"cpu_pages\": %llu, \"fallback_pages\": %llu,"
			" \"migrated_pages\": %llu, \"large_folios\": %lu,", totals.offload,
			totals.cpu, totals.fallback, totals.migrated, totals.large_folios);
		fprintf(file, "\n     \"samples\": [");
		for (j = 0; j < cell->nr_samples; j++)
			fprintf(file, "%s{\"seconds\": %.9f, \"gbps\": %.6f, \"moved_pages\": %lu,"
				" \"wrong_pages\": %lu}", j ? ", " : "", cell->samples[j].seconds,
				cell->samples[j].gbps, cell->samples[j].moved_pages,
				cell->samples[j].wrong_pages);
		fprintf(file, "]}");
	}
	fprintf(file, "\n  ]\n}\n");
	close_output(file, opts->json_path);
}

/* The engines of the feature's engine file, plus auto and disabled. */
static void default_engines(struct options *opts)
{
	char line[TEXT_MAX], *word, *save = NULL;

	if (!feature_present) {
		snprintf(opts->engines[opts->nr_engines++], NAME_MAX_LEN, "kernel");
		return;
	}
	if (read_line(CORE_DIR "engine", line, sizeof(line)))
		die(EXIT_USAGE, "cannot read " CORE_DIR "engine: %s", strerror(errno));
	for (word = strtok_r(line, " []", &save); word && opts->nr_engines < MAX_ENGINES - 2;
	     word = strtok_r(NULL, " []", &save)) {
		if (strcmp(word, "auto"))
			snprintf(opts->engines[opts->nr_engines++], NAME_MAX_LEN, "%s", word);
	}
	snprintf(opts->engines[opts->nr_engines++], NAME_MAX_LEN, "auto");
	snprintf(opts->engines[opts->nr_engines++], NAME_MAX_LEN, "disabled");
}

static void check_engine(const char *engine)
{
	char line[TEXT_MAX], choices[TEXT_MAX], *word, *save = NULL;

	if (!feature_present) {
		if (strcmp(engine, "kernel"))
			die(EXIT_USAGE, "engine %s: this kernel has no %s (no batched migration "
			    "copy); the only engine is \"kernel\"", engine, CORE_DIR);
		return;
	}
	if (!strcmp(engine, "disabled"))
		return;
	if (read_line(CORE_DIR "engine", line, sizeof(line)))
		die(EXIT_USAGE, "cannot read " CORE_DIR "engine: %s", strerror(errno));
	snprintf(choices, sizeof(choices), "%s", line);
	for (word = strtok_r(line, " []", &save); word; word = strtok_r(NULL, " []", &save))
		if (!strcmp(word, engine))
			return;
	die(EXIT_USAGE, "engine %s is not registered (the choices: %s, disabled)", engine,
	    choices);
}

static void parse_list(char *list, void (*each)(struct options *, const char *),
		       struct options *opts)
{
	char *word, *save = NULL;

	for (word = strtok_r(list, ",", &save); word; word = strtok_r(NULL, ",", &save))
		each(opts, word);
}

static void add_size(struct options *opts, const char *name)
{
	unsigned int i;

	for (i = 0; i < MAX_SIZES; i++) {
		if (!strcmp(all_sizes[i].name, name)) {
			opts->sizes[i] = true;
			return;
		}
	}
	die(EXIT_USAGE, "size %s: expected 4k, 64k or 2m", name);
}

static void add_engine(struct options *opts, const char *name)
{

	if (opts->nr_engines == MAX_ENGINES)
		die(EXIT_USAGE, "at most %d engines", MAX_ENGINES);
	if (strlen(name) >= NAME_MAX_LEN || !*name)
		die(EXIT_USAGE, "engine name \"%s\": 1 to %d characters", name, NAME_MAX_LEN - 1);
	snprintf(opts->engines[opts->nr_engines++], NAME_MAX_LEN, "%s", name);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: migrate-bench [--from NODE] [--to NODE] [--sizes 4k,64k,2m]\n"
		"                     [--engines cpu,dsa,auto,disabled] [--mib N] [--reps N]\n"
		"                     [--short] [--label TEXT] [--csv FILE] [--json FILE]\n"
		"  --from, --to  source and target node (default: the first two nodes with memory)\n"
		"  --sizes       folio sizes (default all: 4k, 64k mTHP, 2m THP)\n"
		"  --engines     engines to compare (default: each registered, auto, disabled)\n"
		"  --mib         MiB per move (default 256; --short: 8)\n"
		"  --reps        repetitions per cell, 1 to %d (default 5; --short: 2)\n"
		"  --label       the name of this kernel in the outputs (default: kernel release)\n"
		"  --csv, --json write the results there (\"-\": standard output)\n"
		"exit: 0 all moves complete and correct, 1 usage or error, 2 cannot run here,\n"
		"      3 pages left behind or copied wrong\n", MAX_REPS);
}

static long parse_number(const char *text, const char *what, long min, long max)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || *end || end == text || value < min || value > max)
		die(EXIT_USAGE, "%s %s: expected a number from %ld to %ld", what, text, min, max);
	return value;
}

static void parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option long_options[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "engines", required_argument, NULL, 'e' },
		{ "mib", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "short", no_argument, NULL, 'S' },
		{ "label", required_argument, NULL, 'l' },
		{ "csv", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long mib = -1, reps = -1;
	unsigned int e;
	int option;

	opts->from = opts->to = -1;
	while ((option = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (option) {
		case 'f':
			opts->from = parse_number(optarg, "--from", 0, 1023);
			break;
		case 't':
			opts->to = parse_number(optarg, "--to", 0, 1023);
			break;
		case 's':
			parse_list(optarg, add_size, opts);
			break;
		case 'e':
			e = opts->nr_engines;
			parse_list(optarg, add_engine, opts);
			if (opts->nr_engines == e)
				die(EXIT_USAGE, "--engines %s: names no engine", optarg);
			break;
		case 'm':
			mib = parse_number(optarg, "--mib", 2, 1L << 20);
			break;
		case 'r':
			reps = parse_number(optarg, "--reps", 1, MAX_REPS);
			break;
		case 'S':
			opts->short_mode = true;
			break;
		case 'l':
			if (!*optarg || strspn(optarg, LABEL_CHARS) != strlen(optarg))
				die(EXIT_USAGE, "--label %s: letters, digits and ._+- only", optarg);
			opts->label = optarg;
			break;
		case 'c':
			opts->csv_path = optarg;
			break;
		case 'j':
			opts->json_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		usage(stderr);
		die(EXIT_USAGE, "unexpected argument %s", argv[optind]);
	}
	if (mib > 0 && mib % 2)
		die(EXIT_USAGE, "--mib %ld: a multiple of 2 (whole THPs)", mib);
	opts->bytes = (unsigned long)(mib > 0 ? mib : opts->short_mode ? 8 : 256) << 20;
	opts->reps = reps > 0 ? reps : opts->short_mode ? 2 : 5;
	if (!opts->sizes[0] && !opts->sizes[1] && !opts->sizes[2])
		opts->sizes[0] = opts->sizes[1] = opts->sizes[2] = true;
}

/* The first two nodes with memory, unless given. */
static void choose_nodes(struct options *opts)
{
	int node, max = numa_max_node(), found = 0, nodes[2] = { -1, -1 };

	for (node = 0; node <= max && found < 2; node++)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, node) &&
		    numa_node_size64(node, NULL) > 0)
			nodes[found++] = node;
	if (opts->from < 0)
		opts->from = nodes[0] == opts->to ? nodes[1] : nodes[0];
	if (opts->to < 0)
		opts->to = nodes[0] == opts->from ? nodes[1] : nodes[0];
	if (opts->from < 0 || opts->to < 0)
		die(EXIT_CANNOT_RUN, "needs two NUMA nodes with memory; this machine has %d", found);
	if (opts->from == opts->to)
		die(EXIT_USAGE, "--from and --to are both node %d", opts->from);
	if (opts->from > max || opts->to > max ||
	    numa_node_size64(opts->from, NULL) <= 0 || numa_node_size64(opts->to, NULL) <= 0)
		die(EXIT_CANNOT_RUN, "node %d or %d has no memory (numactl -H)", opts->from,
		    opts->to);
}

/* Cells in table order: size-major, engines as given. */
static unsigned int make_cells(const struct options *opts, struct cell *cells)
{
	unsigned int s, e, n = 0;

	for (s = 0; s < MAX_SIZES; s++) {
		if (!opts->sizes[s])
			continue;
		for (e = 0; e < opts->nr_engines; e++, n++) {
			cells[n].size = &all_sizes[s];
			snprintf(cells[n].engine, NAME_MAX_LEN, "%s", opts->engines[e]);
			if (!size_offered(&all_sizes[s]))
				cells[n].skipped = "this kernel offers no such folio size";
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct cell cells[MAX_SIZES * MAX_ENGINES];
	struct options opts = { 0 };
	unsigned int nr_cells, rep, s, e;
	unsigned long wrong = 0, behind = 0;
	struct utsname uts;
	unsigned int i;

	parse_options(argc, argv, &opts);
	if (numa_available() < 0)
		die(EXIT_CANNOT_RUN, "this kernel has no NUMA support (numa_available)");
	if (geteuid())
		die(EXIT_CANNOT_RUN, "run it as root: it switches engines and THP sizes in sysfs");
	uname(&uts);
	if (!opts.label)
		opts.label = uts.release;
	feature_present = access(CORE_DIR "enabled", F_OK) == 0;
	environment_label = detect_environment();
	choose_nodes(&opts);
	if (!opts.nr_engines)
		default_engines(&opts);
	for (e = 0; e < opts.nr_engines; e++)
		check_engine(opts.engines[e]);
	catch_signals();
	nr_cells = make_cells(&opts, cells);
	for (rep = 0; rep < opts.reps; rep++) {
		for (s = 0; s < nr_cells; s += opts.nr_engines) {
			for (e = 0; e < opts.nr_engines; e++) {
				struct cell *cell = &cells[s + (e + rep) % opts.nr_engines];

				if (!cell->skipped)
					run_move(&opts, cell, rep * 131 + s + e + 1);
				stop_if_signalled();
			}
		}
	}
	restore_settings();
	for (i = 0; i < nr_cells; i++) {
		summarise(&cells[i]);
		struct cell_totals totals = cell_totals(&opts, &cells[i]);

		wrong += totals.wrong;
		behind += totals.requested - totals.moved;
	}
	print_table(&opts, cells, nr_cells);
	if (opts.csv_path)
		write_csv(&opts, cells, nr_cells);
	if (opts.json_path)
		write_json(&opts, cells, nr_cells);
	if (wrong || behind) {
		fprintf(stderr, "migrate-bench: %lu pages copied wrong, %lu pages left behind\n",
			wrong, behind);
		return EXIT_WRONG;
	}
	return EXIT_OK;
}
