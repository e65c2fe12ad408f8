/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memory the reliability tests migrate, one kind per region:
 *
 *   anon   private anonymous 4K pages (MADV_NOHUGEPAGE)
 *   thp    private anonymous 2 MiB THPs (2 MiB aligned, MADV_HUGEPAGE)
 *   shmem  a memfd mapped MAP_SHARED (shmem page cache)
 *   ext4   a file on ext4 mapped MAP_SHARED (ext4 page cache, with buffer
 *          heads), on a loop device backed by tmpfs (tests/lib/loopfs.h)
 *
 * with the address arrays move_pages() needs: one per folio to move (the
 * head of each THP), one per 4K page to ask where it is.
 * Included once, by reliability.c.
 */
#ifndef TESTS_RELIABILITY_REL_REGION_H
#define TESTS_RELIABILITY_REL_REGION_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loopfs.h"
#include "numa-util.h"

#define REL_EXT4_FILE	LOOPFS_EXT4_DIR "/reliability.dat"

enum rel_kind { REL_ANON, REL_THP, REL_SHMEM, REL_EXT4 };

static const char *const rel_kind_names[] = {
	[REL_ANON] = "anon", [REL_THP] = "thp", [REL_SHMEM] = "shmem", [REL_EXT4] = "ext4",
};

struct rel_region {
	enum rel_kind kind;
	char *addr;
	size_t size;
	size_t folio_size;
	size_t nr_folios;
	size_t nr_pages;		/* 4K pages */
	void **folio_addrs;
	void **page_addrs;
	int *status;			/* nr_pages entries, scratch */
	int *node;			/* each 4K page's node at the last look */
	int fd;
	bool loopfs;
};

static void rel_region_destroy(struct rel_region *r)
{
	if (r->addr)
		munmap(r->addr, r->size);
	if (r->fd >= 0)
		close(r->fd);
	if (r->kind == REL_EXT4)
		unlink(REL_EXT4_FILE);
	if (r->loopfs && !loopfs_teardown())
		ksft_print_msg("tearing down the ext4 on loop failed\n");
	free(r->folio_addrs);
	free(r->page_addrs);
	free(r->status);
	free(r->node);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Where is every 4K page? Into r->node. Returns how many are on @node. */
static size_t rel_region_where(struct rel_region *r, int node)
{
	size_t i, on = 0;

	if (pages_query(r->page_addrs, r->nr_pages, r->status) < 0)
		return 0;
	for (i = 0; i < r->nr_pages; i++) {
		r->node[i] = r->status[i];
		on += r->status[i] == node;
	}
	return on;
}

/*
 * Map @size bytes of @kind, fault every page in on node 0 (by writing
 * zeros) and make sure all are there. 0, 1 when the kind is unavailable
 * (a skip), -1 on an error; @why says which.
 */
static int rel_region_create(struct rel_region *r, enum rel_kind kind, size_t size,
			     char *why, size_t why_size)
{
	long long huge_kb = 0;
	size_t i;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->kind = kind;
	r->size = size;
	r->folio_size = kind == REL_THP ? SIZE_2M : SIZE_4K;
	switch (kind) {
	case REL_ANON:
	case REL_THP:
		if (kind == REL_THP && access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK)) {
			rel_why(why, why_size, "the kernel has no transparent huge pages");
			return 1;
		}
		r->addr = region_map(size, r->folio_size);
		if (!r->addr || region_set_thp(r->addr, size, kind == REL_THP)) {
			rel_why(why, why_size, "mapping %zu bytes: %s", size, strerror(errno));
			goto fail;
		}
		break;
	case REL_SHMEM:
		r->fd = memfd_create("reliability-shmem", MFD_CLOEXEC);
		break;
	case REL_EXT4:
		if (!loopfs_setup()) {
			rel_why(why, why_size, "mounting ext4 on a loop device on tmpfs failed");
			loopfs_teardown();
			goto fail;
		}
		r->loopfs = true;
		r->fd = open(REL_EXT4_FILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		break;
	}
	if (kind == REL_SHMEM || kind == REL_EXT4) {
		void *addr = MAP_FAILED;

		if (r->fd >= 0 && !ftruncate(r->fd, size))
			addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (addr == MAP_FAILED) {
			rel_why(why, why_size, "a %zu-byte %s mapping: %s", size,
				rel_kind_names[kind], strerror(errno));
			goto fail;
		}
		r->addr = addr;
	}
	/* First touch on node 0 (the page cache follows the task's policy). */
	region_prefer_node(r->addr, size, 0);
	memset(r->addr, 0, size);

	r->nr_pages = size / SIZE_4K;
	r->nr_folios = size / r->folio_size;
	r->folio_addrs = calloc(r->nr_folios, sizeof(void *));
	r->page_addrs = calloc(r->nr_pages, sizeof(void *));
	r->status = calloc(r->nr_pages, sizeof(int));
	r->node = calloc(r->nr_pages, sizeof(int));
	if (!r->folio_addrs || !r->page_addrs || !r->status || !r->node) {
		rel_why(why, why_size, "out of memory");
		goto fail;
	}
	for (i = 0; i < r->nr_folios; i++)
		r->folio_addrs[i] = r->addr + i * r->folio_size;
	for (i = 0; i < r->nr_pages; i++)
		r->page_addrs[i] = r->addr + i * SIZE_4K;
	if (kind == REL_THP &&
	    (smaps_vma_field_kb(r->addr, "AnonHugePages", &huge_kb, NULL, NULL) || !huge_kb)) {
		rel_why(why, why_size, "no THP could be allocated for the region");
		ret = 1;
		goto fail;
	}
	if (rel_region_where(r, 0) != r->nr_pages) {
		pages_move(r->folio_addrs, r->nr_folios, 0, r->status, NULL);
		if (rel_region_where(r, 0) != r->nr_pages) {
			rel_why(why, why_size, "not every page of the region is on node 0");
			goto fail;
		}
	}
	if (kind == REL_THP)
		ksft_print_msg("thp: %lld of %zu KiB in huge pages\n", huge_kb, size >> 10);
	return 0;
fail:
	rel_region_destroy(r);
	return ret;
}

#endif /* TESTS_RELIABILITY_REL_REGION_H */
