// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "loopfs.h"
#include "tap.h"

#define LOOPFS_TMPFS_DIR	"/mnt/loopfs-tmpfs"
#define LOOPFS_IMAGE_GZ		"/tests/ext4.img.gz"
#define LOOPFS_DEVICE		"/dev/loop0"

static bool shell(const char *command)
{
	int status = system(command);

	if (status)
		tap_diag("'%s' failed (status %d)", command, status);
	return status == 0;
}

bool loopfs_setup(void)
{
	return shell("mkdir -p " LOOPFS_TMPFS_DIR " " LOOPFS_EXT4_DIR) &&
	       shell("mount -t tmpfs -o size=96m tmpfs " LOOPFS_TMPFS_DIR) &&
	       shell("gunzip -c " LOOPFS_IMAGE_GZ " > " LOOPFS_TMPFS_DIR "/ext4.img") &&
	       shell("losetup " LOOPFS_DEVICE " " LOOPFS_TMPFS_DIR "/ext4.img") &&
	       shell("mount -t ext4 " LOOPFS_DEVICE " " LOOPFS_EXT4_DIR);
}

bool loopfs_teardown(void)
{
	bool ok = shell("umount " LOOPFS_EXT4_DIR);

	ok &= shell("losetup -d " LOOPFS_DEVICE);
	ok &= shell("umount " LOOPFS_TMPFS_DIR);
	return ok;
}
