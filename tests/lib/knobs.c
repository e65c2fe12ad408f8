// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and writing sysfs/debugfs knobs from guest tests.
 */
#include "knobs.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int knob_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t written;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	written = write(fd, value, len);
	if (written < 0)
		err = -errno;
	else if ((size_t)written != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int knob_read(const char *path, char *buf, size_t size)
{
	ssize_t got;
	int fd;

	if (size < 2)
		return -EINVAL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	got = read(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return -errno;
	buf[got] = '\0';
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		buf[--got] = '\0';
	return 0;
}

int knob_read_u64(const char *path, unsigned long long *value)
{
	char buf[64], *end;
	int err;

	err = knob_read(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*value = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int knob_read_choice(const char *path, char *buf, size_t size)
{
	char all[KNOB_VALUE_MAX], *open_bracket, *close_bracket;
	int err;

	err = knob_read(path, all, sizeof(all));
	if (err)
		return err;
	open_bracket = strchr(all, '[');
	close_bracket = open_bracket ? strchr(open_bracket, ']') : NULL;
	if (!close_bracket || (size_t)(close_bracket - open_bracket) > size)
		return -EINVAL;
	*close_bracket = '\0';
	snprintf(buf, size, "%s", open_bracket + 1);
	return 0;
}

/*
 * A knob that shows its choices with the chosen ones in brackets ("[auto]
 * cpu test", "[compaction] memory_failure [syscall]") takes back only the
 * chosen ones: keep "auto", "compaction syscall".
 */
static void keep_bracketed_words(char *value)
{
	char *read = value, *write = value, *close_bracket;

	if (!strchr(value, '['))
		return;
	while ((read = strchr(read, '[')) != NULL) {
		close_bracket = strchr(read, ']');
		if (!close_bracket)
			break;
		if (write != value)
			*write++ = ' ';
		memmove(write, read + 1, close_bracket - read - 1);
		write += close_bracket - read - 1;
		read = close_bracket + 1;
	}
	*write = '\0';
	if (write == value)
		snprintf(value, KNOB_VALUE_MAX, "none");
}

int knob_set(struct knob_saved *saved, const char *path, const char *value)
{
	unsigned int slot = saved->count;
	int err;

	if (slot >= KNOB_SAVE_MAX)
		return -ENOSPC;
	err = knob_read(path, saved->values[slot], KNOB_VALUE_MAX);
	if (err)
		return err;
	keep_bracketed_words(saved->values[slot]);
	snprintf(saved->paths[slot], sizeof(saved->paths[slot]), "%s", path);
	saved->count++;
	return knob_write(path, value);
}

void knob_forget(struct knob_saved *saved, const char *prefix)
{
	unsigned int slot, kept = 0;

	for (slot = 0; slot < saved->count; slot++) {
		if (!strncmp(saved->paths[slot], prefix, strlen(prefix)))
			continue;
		if (kept != slot) {
			memcpy(saved->paths[kept], saved->paths[slot], sizeof(saved->paths[0]));
			memcpy(saved->values[kept], saved->values[slot], sizeof(saved->values[0]));
		}
		kept++;
	}
	saved->count = kept;
}

int knob_restore(struct knob_saved *saved)
{
	int err = 0;

	while (saved->count) {
		unsigned int slot = --saved->count;
		int ret = knob_write(saved->paths[slot], saved->values[slot]);

		if (ret && !err)
			err = ret;
	}
	return err;
}

static int run_command(const char *program, const char *argument, const char *extra)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execlp(program, program, argument, extra, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int module_load(const char *name)
{
	return run_command("modprobe", name, NULL);
}

int module_load_with(const char *name, const char *param)
{
	return run_command("modprobe", name, param);
}

int module_unload(const char *name)
{
	return run_command("rmmod", name, NULL);
}

int run_capture(const char *command, char *out, size_t size)
{
	size_t len = 0;
	FILE *pipe;
	int status;

	out[0] = '\0';
	pipe = popen(command, "r");
	if (!pipe)
		return -1;
	while (len + 1 < size && fgets(out + len, size - len, pipe)) {
		tap_diag("  %.*s", (int)strcspn(out + len, "\n"), out + len);
		len += strlen(out + len);
	}
	status = pclose(pipe);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
