/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and writing sysfs/debugfs knobs from guest tests, with a saved
 * copy so a test can put every knob back as it found it.
 */
#ifndef TESTS_LIB_KNOBS_H
#define TESTS_LIB_KNOBS_H

#include <stdbool.h>
#include <stddef.h>

#define KNOB_SAVE_MAX	16
#define KNOB_VALUE_MAX	256

struct knob_saved {
	unsigned int count;
	char paths[KNOB_SAVE_MAX][128];
	char values[KNOB_SAVE_MAX][KNOB_VALUE_MAX];
};

/* Write @value to @path. Returns 0 or -errno (the kernel's answer). */
int knob_write(const char *path, const char *value);

/* Read @path into @buf without the trailing newline. Returns 0 or -errno. */
int knob_read(const char *path, char *buf, size_t size);

/* Read an unsigned decimal knob. Returns 0 or -errno. */
int knob_read_u64(const char *path, unsigned long long *value);

/*
 * Remember the current value of @path, then write @value. 0 or -errno. Of
 * a knob that brackets its current choices, only those are remembered.
 */
int knob_set(struct knob_saved *saved, const char *path, const char *value);

/* Forget the remembered knobs whose path starts with @prefix. */
void knob_forget(struct knob_saved *saved, const char *prefix);

/* Write back every remembered value, newest first. Returns 0 or -errno. */
int knob_restore(struct knob_saved *saved);

/* Read the "[choice]" out of a knob such as "[auto] cpu test". */
int knob_read_choice(const char *path, char *buf, size_t size);

/* Load a module with modprobe. Returns modprobe's exit status. */
int module_load(const char *name);

/* Load a module with one "param=value" argument. modprobe's exit status. */
int module_load_with(const char *name, const char *param);

/* Unload a module with rmmod. Returns rmmod's exit status. */
int module_unload(const char *name);

/*
 * Run a shell command line: its output as TAP diagnostics and, up to @size
 * bytes, in @out. Its exit status, or -1 if it could not run or was killed.
 */
int run_capture(const char *command, char *out, size_t size);

#endif /* TESTS_LIB_KNOBS_H */
