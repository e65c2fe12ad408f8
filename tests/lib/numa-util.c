// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the guest test programs, see numa-util.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "numa-util.h"

#define BITS_PER_ULONG	(8 * sizeof(unsigned long))

/* ---- time, files, numbers ------------------------------------------- */

uint64_t time_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

long read_text_file(const char *path, char *buf, size_t size)
{
	size_t length = 0;
	int err = 0;
	int fd;

	if (size == 0)
		return -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	for (;;) {
		ssize_t n;

		if (length == size - 1) {
			char extra;

			/* Full: only fine if the file ends exactly here. */
			n = read(fd, &extra, 1);
			if (n > 0)
				err = -EFBIG;
			else if (n < 0)
				err = -errno;
			break;
		}
		n = read(fd, buf + length, size - 1 - length);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		length += (size_t)n;
	}
	close(fd);
	if (err)
		return err;

	while (length > 0 && isspace((unsigned char)buf[length - 1]))
		length--;
	buf[length] = '\0';
	return (long)length;
}

int parse_name(const char *text, const char *const *names, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		if (!strcmp(text, names[i]))
			return i;
	return -EINVAL;
}

void print_names(const char *intro, const char *const *names, unsigned int count)
{
	unsigned int i;

	fprintf(stderr, "%s:", intro);
	for (i = 0; i < count; i++)
		fprintf(stderr, " %s", names[i]);
	fputc('\n', stderr);
}

int parse_long(const char *text, long min, long max, long *value)
{
	char *end;
	long parsed;

	if (!text || !*text || isspace((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	parsed = strtol(text, &end, 10);
	if (errno || *end || parsed < min || parsed > max)
		return -EINVAL;
	*value = parsed;
	return 0;
}

static const char *errno_name(int err)
{
	switch (err) {
	case EPERM:	return "EPERM";
	case ENOENT:	return "ENOENT";
	case ESRCH:	return "ESRCH";
	case EINTR:	return "EINTR";
	case EIO:	return "EIO";
	case E2BIG:	return "E2BIG";
	case EAGAIN:	return "EAGAIN";
	case ENOMEM:	return "ENOMEM";
	case EACCES:	return "EACCES";
	case EFAULT:	return "EFAULT";
	case EBUSY:	return "EBUSY";
	case EEXIST:	return "EEXIST";
	case ENODEV:	return "ENODEV";
	case EINVAL:	return "EINVAL";
	case EFBIG:	return "EFBIG";
	case ENOSPC:	return "ENOSPC";
	case ENOSYS:	return "ENOSYS";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	default:	return NULL;
	}
}

const char *errno_describe(int err, char *buf, size_t size)
{
	const char *name = errno_name(err);

	if (name)
		snprintf(buf, size, "%s (%s)", name, strerror(err));
	else
		snprintf(buf, size, "errno %d (%s)", err, strerror(err));
	return buf;
}

/* ---- /proc/vmstat ---------------------------------------------------- */

#define VMSTAT_PATH		"/proc/vmstat"
#define VMSTAT_BUF_SIZE		(64 * 1024)

/*
 * Call @found for every "name value" line of /proc/vmstat.  Returns 0 or
 * -errno.
 */
static int vmstat_parse(void (*found)(const char *name, size_t name_length,
				      long long value, void *data),
			void *data)
{
	char *text = malloc(VMSTAT_BUF_SIZE);
	char *line;
	long length;

	if (!text)
		return -ENOMEM;
	length = read_text_file(VMSTAT_PATH, text, VMSTAT_BUF_SIZE);
	if (length < 0) {
		free(text);
		return (int)length;
	}

	for (line = text; line && *line; ) {
		char *newline = strchr(line, '\n');
		char *space = strchr(line, ' ');

		if (newline)
			*newline = '\0';
		if (space)
			found(line, (size_t)(space - line),
			      strtoll(space + 1, NULL, 10), data);
		line = newline ? newline + 1 : NULL;
	}
	free(text);
	return 0;
}

struct vmstat_lookup {
	const char *name;
	long long value;
};

static void vmstat_lookup_one(const char *name, size_t name_length,
			      long long value, void *data)
{
	struct vmstat_lookup *lookup = data;

	if (strlen(lookup->name) == name_length &&
	    !strncmp(lookup->name, name, name_length))
		lookup->value = value;
}

long long vmstat_read(const char *name)
{
	struct vmstat_lookup lookup = { .name = name, .value = VMSTAT_ABSENT };

	if (vmstat_parse(vmstat_lookup_one, &lookup))
		return VMSTAT_ABSENT;
	return lookup.value;
}

static int vmstat_set_index(const struct vmstat_set *set, const char *name)
{
	unsigned int i;

	for (i = 0; i < set->count; i++) {
		if (!strcmp(set->names[i], name))
			return (int)i;
	}
	return -ENOENT;
}

int vmstat_set_add(struct vmstat_set *set, const char *name)
{
	int index = vmstat_set_index(set, name);

	if (index >= 0)
		return index;
	if (set->count == VMSTAT_SET_MAX)
		return -ENOSPC;
	set->names[set->count] = name;
	set->values[set->count] = VMSTAT_ABSENT;
	return (int)set->count++;
}

static void vmstat_set_one(const char *name, size_t name_length,
			   long long value, void *data)
{
	struct vmstat_set *set = data;
	unsigned int i;

	for (i = 0; i < set->count; i++) {
		if (strlen(set->names[i]) == name_length &&
		    !strncmp(set->names[i], name, name_length))
			set->values[i] = value;
	}
}

int vmstat_set_snapshot(struct vmstat_set *set)
{
	unsigned int i;

	for (i = 0; i < set->count; i++)
		set->values[i] = VMSTAT_ABSENT;
	return vmstat_parse(vmstat_set_one, set);
}

bool vmstat_set_delta(const struct vmstat_set *before,
		      const struct vmstat_set *after, const char *name,
		      long long *delta)
{
	int index_before = vmstat_set_index(before, name);
	int index_after = vmstat_set_index(after, name);

	if (index_before < 0 || index_after < 0)
		return false;
	if (before->values[index_before] == VMSTAT_ABSENT ||
	    after->values[index_after] == VMSTAT_ABSENT)
		return false;
	*delta = after->values[index_after] - before->values[index_before];
	return true;
}

/* ---- kernel command line --------------------------------------------- */

#define CMDLINE_PATH		"/proc/cmdline"
#define CMDLINE_BUF_SIZE	8192
#define CMDLINE_PREFIX		"harness."

/*
 * Split off the next parameter of @cursor the way the kernel does: spaces
 * separate parameters except inside double quotes, and the quotes are
 * dropped.  The parameter is copied into @param.  Returns the position
 * after it, or NULL at the end.
 */
static const char *cmdline_next_param(const char *cursor, char *param,
				      size_t size)
{
	bool in_quotes = false;
	size_t length = 0;

	while (*cursor && isspace((unsigned char)*cursor))
		cursor++;
	if (!*cursor)
		return NULL;

	for (; *cursor; cursor++) {
		if (*cursor == '"') {
			in_quotes = !in_quotes;
			continue;
		}
		if (!in_quotes && isspace((unsigned char)*cursor))
			break;
		if (length < size - 1)
			param[length++] = *cursor;
	}
	param[length] = '\0';
	return cursor;
}

int cmdline_harness_get(const char *key, char *value, size_t size)
{
	const char *from_env = getenv("HARNESS_CMDLINE");
	size_t key_length = strlen(key);
	char *param = NULL, *text = NULL;
	const char *cursor;
	int ret = -ENOENT;

	text = malloc(CMDLINE_BUF_SIZE);
	param = malloc(CMDLINE_BUF_SIZE);
	if (!text || !param) {
		ret = -ENOMEM;
		goto out;
	}

	if (from_env) {
		snprintf(text, CMDLINE_BUF_SIZE, "%s", from_env);
	} else {
		long length = read_text_file(CMDLINE_PATH, text,
					     CMDLINE_BUF_SIZE);

		if (length < 0) {
			ret = (int)length;
			goto out;
		}
	}

	cursor = text;
	while ((cursor = cmdline_next_param(cursor, param, CMDLINE_BUF_SIZE))) {
		const char *rest;

		if (strncmp(param, CMDLINE_PREFIX, strlen(CMDLINE_PREFIX)))
			continue;
		rest = param + strlen(CMDLINE_PREFIX);
		if (strncmp(rest, key, key_length) || rest[key_length] != '=')
			continue;
		rest += key_length + 1;
		if (strlen(rest) >= size) {
			ret = -ENAMETOOLONG;
			continue;
		}
		snprintf(value, size, "%s", rest);
		ret = 0;
	}
out:
	free(param);
	free(text);
	return ret;
}

/* ---- node and cpu lists ------------------------------------------------ */

void id_set_add(struct id_set *set, unsigned int id)
{
	if (id < ID_SET_MAX)
		set->bits[id / BITS_PER_ULONG] |= 1UL << (id % BITS_PER_ULONG);
}

bool id_set_test(const struct id_set *set, unsigned int id)
{
	if (id >= ID_SET_MAX)
		return false;
	return set->bits[id / BITS_PER_ULONG] & (1UL << (id % BITS_PER_ULONG));
}

bool id_set_equal(const struct id_set *a, const struct id_set *b)
{
	return !memcmp(a->bits, b->bits, sizeof(a->bits));
}

unsigned int id_set_count(const struct id_set *set)
{
	unsigned int id, count = 0;

	for (id = 0; id < ID_SET_MAX; id++)
		count += id_set_test(set, id);
	return count;
}

/* Parse an unsigned number below ID_SET_MAX at *cursor and advance it. */
static int id_parse_number(const char **cursor, unsigned int *id)
{
	unsigned long value;
	char *end;

	if (!isdigit((unsigned char)**cursor))
		return -EINVAL;
	errno = 0;
	value = strtoul(*cursor, &end, 10);
	if (errno || value >= ID_SET_MAX)
		return -EINVAL;
	*cursor = end;
	*id = (unsigned int)value;
	return 0;
}

int id_set_parse(const char *text, struct id_set *set)
{
	const char *cursor = text;

	memset(set, 0, sizeof(*set));
	if (!*text)
		return 0;

	for (;;) {
		unsigned int first, last, id;

		if (id_parse_number(&cursor, &first))
			return -EINVAL;
		last = first;
		if (*cursor == '-') {
			cursor++;
			if (id_parse_number(&cursor, &last) || last < first)
				return -EINVAL;
		}
		for (id = first; id <= last; id++)
			id_set_add(set, id);

		if (!*cursor)
			return 0;
		if (*cursor != ',')
			return -EINVAL;
		cursor++;
	}
}

void id_set_format(const struct id_set *set, char *buf, size_t size)
{
	size_t used = 0;
	unsigned int id = 0;

	buf[0] = '\0';
	while (id < ID_SET_MAX) {
		unsigned int first;
		int n;

		if (!id_set_test(set, id)) {
			id++;
			continue;
		}
		first = id;
		while (id + 1 < ID_SET_MAX && id_set_test(set, id + 1))
			id++;
		if (first == id)
			n = snprintf(buf + used, size - used, "%s%u",
				     used ? "," : "", first);
		else
			n = snprintf(buf + used, size - used, "%s%u-%u",
				     used ? "," : "", first, id);
		if (n < 0 || (size_t)n >= size - used)
			return;		/* truncated */
		used += (size_t)n;
		id++;
	}
}

/* ---- data pattern ------------------------------------------------------ */

#define GOLDEN_GAMMA	0x9e3779b97f4a7c15ULL

static inline uint64_t splitmix64_mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Expected content of the 8-byte word number @word (byte offset / 8). */
static inline uint64_t pattern_word(uint64_t seed, uint64_t word)
{
	return splitmix64_mix(seed + (word + 1) * GOLDEN_GAMMA);
}

void pattern_fill(void *buf, size_t size, uint64_t seed)
{
	uint64_t *words = buf;
	size_t nr_words = size / 8, i;

	for (i = 0; i < nr_words; i++)
		words[i] = pattern_word(seed, i);
	if (size % 8) {
		uint64_t last = pattern_word(seed, nr_words);

		memcpy((char *)buf + nr_words * 8, &last, size % 8);
	}
}

/* Record the differing bytes of a word that starts at byte @offset. */
static void pattern_note_mismatch(struct pattern_mismatch *mismatch,
				  size_t offset, const unsigned char *seen,
				  const unsigned char *expected, size_t length)
{
	size_t i;

	for (i = 0; i < length; i++) {
		if (seen[i] == expected[i])
			continue;
		if (mismatch->first_offset == SIZE_MAX)
			mismatch->first_offset = offset + i;
		mismatch->bad_bytes++;
	}
}

bool pattern_verify(const void *buf, size_t size, uint64_t seed,
		    struct pattern_mismatch *mismatch)
{
	const uint64_t *words = buf;
	size_t nr_words = size / 8, i;

	mismatch->first_offset = SIZE_MAX;
	mismatch->bad_bytes = 0;

	for (i = 0; i < nr_words; i++) {
		uint64_t expected = pattern_word(seed, i);

		if (words[i] != expected)
			pattern_note_mismatch(mismatch, i * 8,
					      (const unsigned char *)&words[i],
					      (const unsigned char *)&expected,
					      8);
	}
	if (size % 8) {
		uint64_t expected = pattern_word(seed, nr_words);

		pattern_note_mismatch(mismatch, nr_words * 8,
				      (const unsigned char *)buf + nr_words * 8,
				      (const unsigned char *)&expected,
				      size % 8);
	}
	return mismatch->bad_bytes == 0;
}

uint64_t pattern_seed(void)
{
	return splitmix64_mix(time_now_ns() ^ ((uint64_t)getpid() << 32));
}

uint64_t pattern_word_at(uint64_t seed, size_t offset)
{
	return pattern_word(seed, offset / 8);
}

/* ---- move_pages() ------------------------------------------------------ */

static void status_reset(int *status, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		status[i] = STATUS_UNSET;
}

long pages_move(void *const *addrs, size_t count, int node, int *status,
		uint64_t *elapsed_ns)
{
	uint64_t start;
	int *nodes;
	size_t i;
	long ret;

	nodes = malloc(count * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (i = 0; i < count; i++)
		nodes[i] = node;
	status_reset(status, count);

	start = time_now_ns();
	ret = syscall(SYS_move_pages, 0, (unsigned long)count, addrs, nodes,
		      status, MPOL_MF_MOVE);
	if (elapsed_ns)
		*elapsed_ns = time_now_ns() - start;
	if (ret < 0)
		ret = -errno;

	free(nodes);
	return ret;
}

long pages_query(void *const *addrs, size_t count, int *status)
{
	long ret;

	status_reset(status, count);
	ret = syscall(SYS_move_pages, 0, (unsigned long)count, addrs, NULL,
		      status, 0);
	return ret < 0 ? -errno : ret;
}

void status_summarize(const int *status, size_t count, int expected,
		      struct status_summary *summary)
{
	size_t i;

	summary->matching = 0;
	summary->first_other = count;
	summary->first_other_status = STATUS_UNSET;
	for (i = 0; i < count; i++) {
		if (status[i] == expected) {
			summary->matching++;
		} else if (summary->first_other == count) {
			summary->first_other = i;
			summary->first_other_status = status[i];
		}
	}
}

const char *status_describe(int status, char *buf, size_t size)
{
	char err[64];

	if (status == STATUS_UNSET)
		snprintf(buf, size, "not set by the kernel");
	else if (status >= 0)
		snprintf(buf, size, "node %d", status);
	else
		snprintf(buf, size, "-%s", errno_describe(-status, err,
							  sizeof(err)));
	return buf;
}

/* ---- memory regions ---------------------------------------------------- */

void *region_map(size_t size, size_t align)
{
	size_t map_size, head, tail;
	uintptr_t start, aligned;
	void *map;

	if (align < SIZE_4K)
		align = SIZE_4K;
	if (size == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}

	/* Over-allocate, then trim to an aligned window. */
	map_size = size + align - SIZE_4K;
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;

	start = (uintptr_t)map;
	aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	head = aligned - start;
	tail = map_size - head - size;
	if (head)
		munmap(map, head);
	if (tail)
		munmap((void *)(aligned + size), tail);
	return (void *)aligned;
}

void region_unmap(void *addr, size_t size)
{
	if (addr)
		munmap(addr, size);
}

int region_set_thp(void *addr, size_t size, bool huge)
{
	if (madvise(addr, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		return -errno;
	return 0;
}

int region_prefer_node(void *addr, size_t size, int node)
{
	unsigned long mask[ID_SET_MAX / BITS_PER_ULONG] = { 0 };

	if (node < 0 || node >= ID_SET_MAX)
		return -EINVAL;
	mask[node / BITS_PER_ULONG] = 1UL << (node % BITS_PER_ULONG);
	/* maxnode counts one more than the bits the kernel reads. */
	if (syscall(SYS_mbind, addr, size, MPOL_PREFERRED, mask,
		    (unsigned long)ID_SET_MAX + 1, 0))
		return -errno;
	return 0;
}

int smaps_vma_field_kb(const void *addr, const char *field, long long *kb,
		       unsigned long *vma_start, unsigned long *vma_end)
{
	unsigned long target = (unsigned long)addr;
	size_t field_length = strlen(field);
	bool in_vma = false;
	char line[8192];
	int ret = -ENOENT;
	FILE *smaps;

	smaps = fopen("/proc/self/smaps", "re");
	if (!smaps)
		return -errno;

	while (fgets(line, sizeof(line), smaps)) {
		unsigned long start, end;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			/* A VMA header line. */
			if (in_vma)
				break;		/* field missing */
			in_vma = target >= start && target < end;
			if (in_vma && vma_start)
				*vma_start = start;
			if (in_vma && vma_end)
				*vma_end = end;
			continue;
		}
		if (!in_vma || strncmp(line, field, field_length) ||
		    line[field_length] != ':')
			continue;
		*kb = strtoll(line + field_length + 1, NULL, 10);
		ret = 0;
		break;
	}
	fclose(smaps);
	return ret;
}

/* ---- migration test regions -------------------------------------------- */

const char *mig_kind_name(enum mig_kind kind)
{
	return kind == MIG_KIND_THP ? "thp" : "4k";
}

int mig_kind_parse(const char *text, enum mig_kind *kind)
{
	if (!strcmp(text, "4k")) {
		*kind = MIG_KIND_4K;
		return 0;
	}
	if (!strcmp(text, "thp")) {
		*kind = MIG_KIND_THP;
		return 0;
	}
	return -EINVAL;
}

static int mig_region_alloc_arrays(struct mig_region *region)
{
	size_t i;

	region->folio_addrs = calloc(region->nr_folios, sizeof(void *));
	region->page_addrs = calloc(region->nr_pages, sizeof(void *));
	region->status = calloc(region->nr_pages, sizeof(int));
	if (!region->folio_addrs || !region->page_addrs || !region->status)
		return -ENOMEM;

	for (i = 0; i < region->nr_folios; i++)
		region->folio_addrs[i] = region->addr + i * region->folio_size;
	for (i = 0; i < region->nr_pages; i++)
		region->page_addrs[i] = region->addr + i * SIZE_4K;
	return 0;
}

static void mig_region_fault_in(struct mig_region *region)
{
	volatile char *byte = region->addr;
	size_t offset;

	for (offset = 0; offset < region->size; offset += SIZE_4K)
		byte[offset] = 1;
}

int mig_region_create(struct mig_region *region, enum mig_kind kind,
		      size_t size, int node)
{
	bool thp = kind == MIG_KIND_THP;
	int ret;

	memset(region, 0, sizeof(*region));
	region->kind = kind;
	region->folio_size = thp ? SIZE_2M : SIZE_4K;
	if (size == 0 || size % region->folio_size)
		return -EINVAL;
	region->size = size;
	region->nr_folios = size / region->folio_size;
	region->nr_pages = size / SIZE_4K;

	region->addr = region_map(size, region->folio_size);
	if (!region->addr) {
		ret = -errno;
		goto fail;
	}
	ret = region_set_thp(region->addr, size, thp);
	if (ret)
		goto fail;
	/*
	 * Only a preference: if it fails (no such node) the placement check
	 * that follows reports it.
	 */
	region_prefer_node(region->addr, size, node);

	ret = mig_region_alloc_arrays(region);
	if (ret)
		goto fail;

	mig_region_fault_in(region);
	return 0;

fail:
	mig_region_destroy(region);
	return ret;
}

void mig_region_destroy(struct mig_region *region)
{
	region_unmap(region->addr, region->size);
	free(region->folio_addrs);
	free(region->page_addrs);
	free(region->status);
	memset(region, 0, sizeof(*region));
}

void mig_region_move(struct mig_region *region, int node,
		     struct mig_move_result *result)
{
	result->ret = pages_move(region->folio_addrs, region->nr_folios, node,
				 region->status, &result->elapsed_ns);
	status_summarize(region->status, region->nr_folios, node,
			 &result->status);
}

void mig_region_query(struct mig_region *region, int node,
		      struct mig_placement *placement)
{
	placement->ret = pages_query(region->page_addrs, region->nr_pages,
				     region->status);
	status_summarize(region->status, region->nr_pages, node,
			 &placement->status);
}

bool mig_region_place(struct mig_region *region, int node,
		      struct mig_placement *placement, long *move_ret)
{
	struct mig_move_result move;

	*move_ret = 0;
	mig_region_query(region, node, placement);
	if (placement->ret == 0 &&
	    placement->status.matching == region->nr_pages)
		return true;

	mig_region_move(region, node, &move);
	*move_ret = move.ret;
	mig_region_query(region, node, placement);
	return placement->ret == 0 &&
	       placement->status.matching == region->nr_pages;
}

double mib_per_second(size_t bytes, uint64_t ns)
{
	if (ns == 0)
		return 0.0;
	return ((double)bytes / SIZE_MIB) / ((double)ns / 1e9);
}

int parse_region_mib(const char *text, long *mib)
{
	long value;

	if (parse_long(text, 2, 1024, &value) || value % 2)
		return -EINVAL;
	*mib = value;
	return 0;
}
