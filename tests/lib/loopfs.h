/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ext4 on a loop device backed by a file on tmpfs, the setup of the seed
 * deadlocks: writeback of the ext4 goes through the loop worker, which
 * writes into shmem folios, and jbd2 holds buffer locks meanwhile.  The
 * empty ext4 image is /tests/ext4.img.gz in the initramfs.
 */
#ifndef TESTS_LIB_LOOPFS_H
#define TESTS_LIB_LOOPFS_H

#include <stdbool.h>

#define LOOPFS_EXT4_DIR	"/mnt/loopfs-ext4"

/* Mount it at LOOPFS_EXT4_DIR.  Diagnoses and returns false on failure. */
bool loopfs_setup(void);

/* Unmount it and free the loop device and the tmpfs. */
bool loopfs_teardown(void);

#endif /* TESTS_LIB_LOOPFS_H */
