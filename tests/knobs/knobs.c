// SPDX-License-Identifier: GPL-2.0
/*
 * knobs: the operator interface of the batched migration copy, through the
 * real files: the sysfs knobs of /sys/kernel/mm/migrate_copy/ and of its
 * dsa/ directory, the tracepoint migrate_copy:migrate_copy_batch in tracefs,
 * and the boot parameter migrate_copy=. Written on the kernel's kselftest
 * harness.
 *
 *   knobs [kselftest options: -l, -f fixture, -r fixture.test ...]
 *
 * core.<knob>_refuses_bad_writes_and_takes_...
 *	Each writable knob of migrate_copy/ gets bad input through write(2):
 *	a zero-length write, an empty line, blanks, 2^64, 10^30, negative
 *	numbers, unknown names, a good value mixed with an unknown one,
 *	trailing garbage, an embedded NUL, 4000 letters, 4095 and 4096 digits,
 *	5000 bytes (sysfs passes the store the first 4096), and its own bad
 *	values (out of range, hexadecimal, "10" or "offline" for a bool...).
 *	Each must fail with EINVAL and leave the file reading the same, byte
 *	for byte; a zero-length write is a no-op of sysfs (returns 0, the
 *	store never runs). Good values are taken and read back, and the value
 *	the knob had comes back at the end. A bad write a knob accepts is
 *	reported as DEFECT with the input, the value before and after, and
 *	undone.
 * core.every_writable_file_has_a_case
 *	Lists the directory: a writable file without a case in this program's
 *	table fails (so a new knob cannot escape), a case without its file
 *	fails, and a read-only file must refuse even root's open(O_WRONLY).
 * dsa.*
 *	The same for migrate_copy/dsa/ (module idxd_migrate_copy; enabled=1
 *	takes a channel of the software provider memcpy_test_dma with
 *	any_provider=1), plus: any_provider, max_channels,
 *	max_transfer_bytes and max_batch_copies fail with EBUSY while the
 *	engine is enabled and
 *	timeout_ms does not; the engine knob takes "dsa" only while the DSA
 *	engine is registered and returns to auto when it goes.
 * unprivileged.*
 *	No file of either directory has a group or other write bit, and a
 *	child running as nobody (uid/gid 65534, no capabilities) gets EACCES
 *	from open(O_WRONLY) on every one of them.
 * tracepoint.*
 *	The event's format has every documented field; with
 *	events/migrate_copy/migrate_copy_batch enabled in tracefs,
 *	move_pages(2) of 4K pages and of THPs leaves events of this task that
 *	name a registered engine, have folios > 0, bytes = folios x folio
 *	size, reason = MR_SYSCALL (from migrate:mm_migrate_pages's format) and
 *	add up to the folios moved and the migrate_copy_* counters; once the
 *	event is disabled again a move leaves none.
 * boot_param.*
 *	What init recorded from migrate_copy/enabled before any test
 *	(/run/migrate_copy.boot-enabled) is what migrate_copy=on|off on
 *	/proc/cmdline asked for; the boot log has no "migrate_copy=...:
 *	expected on or off" and the parameter did not reach init as an
 *	unknown one; init set enabled back to true for the other tests.
 *	Skipped without migrate_copy= on the command line.
 *
 * Every test skips when the feature is compiled out. Every knob is put back
 * and the modules a test loaded are unloaded at its end.
 */
#define _GNU_SOURCE	/* setresuid(), setresgid() */
#include "kselftest_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "knobs.h"
#include "numa-util.h"

#define CORE		"/sys/kernel/mm/migrate_copy/"
#define DSA_DIR		"dsa"
#define PROVIDER_MODULE	"memcpy_test_dma"
#define ENGINE_MODULE	"idxd_migrate_copy"
#define TEST_ENGINE_MODULE	"migrate_copy_test_engine"
#define TRACEFS		"/sys/kernel/tracing"
#define EVENT		TRACEFS "/events/migrate_copy/migrate_copy_batch"
#define MIGRATE_FORMAT	TRACEFS "/events/migrate/mm_migrate_pages/format"
#define BOOT_RECORD	"/run/migrate_copy.boot-enabled"
#define BOOT_DMESG	"/run/migrate_copy.boot-dmesg"
#define NOBODY		65534
#define COMPILED_OUT	CORE " does not exist: the feature is compiled out"

/* enum migrate_reason of Linux 6.12: MR_COMPACTION 0 ... MR_SYSCALL 3. */
#define MR_SYSCALL_612	3

#define RAW_MAX		8192	/* a knob's value, read whole */
#define PAGE		4096
#define MAX_FILES	64
#define MAX_INPUTS	48

static struct knob_saved saved;
static unsigned int failures;	/* of the running test's checks */

/* ---- output -------------------------------------------------------------- */

/* A "# " line on stdout, flushed: the test's process ends with _exit(). */
static __printf(1, 2) void note(const char *fmt, ...)
{
	va_list args;

	printf("# ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
}

/* One check of the running test: "# pass: ..." or "# FAIL: ...". */
static __printf(2, 3) bool check(bool cond, const char *fmt, ...)
{
	char text[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	note("%s: %s", cond ? "pass" : "FAIL", text);
	if (!cond)
		failures++;
	return cond;
}

/* ---- raw file access ----------------------------------------------------- */

/* The whole file, byte for byte. Returns 0 or -errno. */
static int read_raw(const char *path, char *buf, size_t size, size_t *len)
{
	ssize_t got;
	int fd, err = 0;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (*len == size) {
			err = -EFBIG;
			break;
		}
		got = read(fd, buf + *len, size - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			err = -errno;
		if (got <= 0)
			break;
		*len += got;
	}
	close(fd);
	return err;
}

/* One write(2) of @len bytes on a fresh descriptor: its value, or -errno. */
static ssize_t write_raw(const char *path, const char *data, size_t len)
{
	ssize_t ret;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, data, len);
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* "\"1\\0garbage\"": at most 24 characters escaped, then "...(N bytes)". */
static const char *quote(const char *data, size_t len, char *buf, size_t size)
{
	size_t i, out = 0;

	buf[out++] = '"';
	for (i = 0; i < len && out + 8 < size && i < 24; i++) {
		unsigned char c = data[i];

		if (c == '\n')
			out += snprintf(buf + out, size - out, "\\n");
		else if (c == '\t')
			out += snprintf(buf + out, size - out, "\\t");
		else if (c == '\0')
			out += snprintf(buf + out, size - out, "\\0");
		else if (c < 0x20 || c >= 0x7f)
			out += snprintf(buf + out, size - out, "\\x%02x", c);
		else
			buf[out++] = c;
	}
	buf[out++] = '"';
	buf[out] = '\0';
	if (i < len)
		snprintf(buf + out, size - out, "...(%zu bytes)", len);
	return buf;
}

static const char *errno_text(ssize_t ret, char *buf, size_t size)
{
	if (ret >= 0)
		snprintf(buf, size, "%zd", ret);
	else
		errno_describe(-ret, buf, size);
	return buf;
}

static void strip_newline(char *text)
{
	size_t len = strlen(text);

	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
}

/* The words in brackets of "[auto] cpu" or "[compaction] memory_failure". */
static void bracketed_words(const char *value, char *out, size_t size)
{
	const char *open_bracket, *close_bracket;
	size_t len = 0;

	out[0] = '\0';
	while ((open_bracket = strchr(value, '[')) != NULL &&
	       (close_bracket = strchr(open_bracket, ']')) != NULL) {
		len += snprintf(out + len, len < size ? size - len : 0, "%s%.*s",
				len ? " " : "", (int)(close_bracket - open_bracket - 1),
				open_bracket + 1);
		value = close_bracket + 1;
	}
}

/* Every word of "[auto] cpu dsa", without brackets, blank separated. */
static void all_words(const char *value, char *out, size_t size)
{
	size_t i, len = 0;

	for (i = 0; value[i] && len + 1 < size; i++)
		if (value[i] != '[' && value[i] != ']' && value[i] != '\n')
			out[len++] = value[i];
	out[len] = '\0';
}

/* The registered engines of the engine knob: its words but auto. */
static void engine_names(const char *value, char *out, size_t size)
{
	char words[KNOB_VALUE_MAX], *word, *cursor = words;
	size_t len = 0;

	out[0] = '\0';
	all_words(value, words, sizeof(words));
	while ((word = strsep(&cursor, " ")) != NULL)
		if (*word && strcmp(word, "auto"))
			len += snprintf(out + len, len < size ? size - len : 0, "%s%s",
					len ? " " : "", word);
}

static bool word_in(const char *word, const char *words)
{
	size_t len = strlen(word);
	const char *at = words;

	while (len && (at = strstr(at, word)) != NULL) {
		if ((at == words || at[-1] == ' ') && (at[len] == ' ' || !at[len]))
			return true;
		at += len;
	}
	return false;
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

static void knob_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, CORE "%s", name);
}

/* ---- the table of knobs -------------------------------------------------- */

/* How a value reads back: the whole text, or its bracketed words. */
enum readback { READ_EXACT, READ_CHOICES };

struct bad_input {
	const char *data;
	size_t len;
	const char *label;
};

#define BAD(text, what)	{ text, sizeof(text) - 1, what }

struct good_value {
	const char *write;
	const char *expect;	/* read back, without the newline */
};

struct knob_case {
	const char *name;	/* relative to /sys/kernel/mm/migrate_copy/ */
	enum readback readback;
	const char *valid;	/* a good value, to build bad inputs from */
	const struct bad_input *bad;	/* ends with data == NULL */
	const struct good_value *good;	/* ends with write == NULL */
	bool needs_provider;	/* 1 takes a channel: any_provider=1 first */
};

/* What a bool knob must refuse although kstrtobool() alone takes it. */
static const struct bad_input bool_bad[] = {
	BAD("2", "a number other than 0 and 1"),
	BAD("10", "10 (kstrtobool looks at the 1 only)"),
	BAD("yes please", "yes with a trailing word"),
	BAD("offline", "offline (kstrtobool looks at of only)"),
	BAD("onion", "onion (kstrtobool looks at on only)"),
	BAD("tru", "a truncated true"),
	BAD("0x1", "hexadecimal"),
	BAD("1 0", "two values"),
	{ NULL, 0, NULL },
};

static const struct good_value core_enabled_good[] = {
	{ "0", "false" }, { "1", "true" }, { "false\n", "false" }, { "true\n", "true" },
	{ "off", "false" }, { "on", "true" }, { "n", "false" }, { "Y", "true" },
	{ "no\n", "false" }, { "yes", "true" }, { NULL, NULL },
};

static const struct bad_input engine_bad[] = {
	BAD("CPU", "an engine name in capitals"),
	BAD("auto cpu", "two engines"),
	BAD("cpu,auto", "two engines, comma separated"),
	BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "an unknown 31-character name"),
	BAD("cpuaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a name longer than the store's buffer"),
	{ NULL, 0, NULL },
};

static const struct good_value engine_good[] = {
	{ "cpu", "cpu" }, { "auto\n", "auto" }, { "cpu\n", "cpu" }, { "auto", "auto" },
	{ NULL, NULL },
};

static const struct bad_input reasons_bad[] = {
	BAD("Syscall", "a reason name in capitals"),
	BAD("all syscall_or_cpuset", "all mixed with a name"),
	BAD("none,compaction", "none mixed with a name"),
	BAD("all none", "all and none"),
	BAD(",", "only a separator"),
	BAD(" , ,\t", "only separators and blanks"),
	BAD("syscall_or_cpuset bogus compaction", "an unknown name between good ones"),
	BAD("syscall", "a shortened name (syscall_or_cpuset is the name)"),
	{ NULL, 0, NULL },
};

#define ALL_REASONS "compaction memory_failure memory_hotplug syscall_or_cpuset mempolicy_mbind " \
		    "numa_misplaced contig_range longterm_pin demotion damon"

static const struct good_value reasons_good[] = {
	{ "syscall_or_cpuset", "syscall_or_cpuset" },
	{ "compaction,syscall_or_cpuset\n", "compaction syscall_or_cpuset" },
	{ "numa_misplaced demotion\tdamon", "numa_misplaced demotion damon" },
	{ "all", ALL_REASONS },
	{ "none\n", "" },
	{ "memory_failure", "memory_failure" },
	{ NULL, NULL },
};

static const struct bad_input min_bytes_bad[] = {
	BAD("1073741825", "1 GiB + 1, above the maximum"),
	BAD("4294967296", "2^32"),
	BAD("0x1000", "hexadecimal"),
	BAD("1e3", "an exponent"),
	BAD("1.5", "a fraction"),
	BAD("4096 4096", "two values"),
	{ NULL, 0, NULL },
};

static const struct good_value min_bytes_good[] = {
	{ "0", "0" }, { "4096\n", "4096" }, { "1073741824", "1073741824" }, { "65536", "65536" },
	{ NULL, NULL },
};

static const struct good_value dsa_bool_good[] = {
	{ "1", "1" }, { "0", "0" }, { "on", "1" }, { "off\n", "0" }, { "true", "1" },
	{ "false", "0" }, { "y\n", "1" }, { "N", "0" }, { NULL, NULL },
};

static const struct bad_input max_channels_bad[] = {
	BAD("0", "0, below the minimum 1"),
	BAD("65", "65, above the maximum 64"),
	BAD("4294967296", "2^32"),
	BAD("0x4", "hexadecimal"),
	BAD("4 4", "two values"),
	{ NULL, 0, NULL },
};

static const struct good_value max_channels_good[] = {
	{ "1", "1" }, { "64\n", "64" }, { "2", "2" }, { NULL, NULL },
};

static const struct bad_input timeout_bad[] = {
	BAD("0", "0, below the minimum 1"),
	BAD("60001", "60001, above the maximum 60000"),
	BAD("4294967296", "2^32"),
	BAD("0x10", "hexadecimal"),
	BAD("1.5", "a fraction"),
	{ NULL, 0, NULL },
};

static const struct good_value timeout_good[] = {
	{ "1", "1" }, { "60000\n", "60000" }, { "2500", "2500" }, { NULL, NULL },
};

static const struct bad_input max_transfer_bad[] = {
	BAD("4095", "4095, below the minimum 4096"),
	BAD("1073741825", "1 GiB + 1, above the maximum"),
	BAD("4294967296", "2^32"),
	BAD("0x1000", "hexadecimal"),
	BAD("64K", "a unit suffix"),
	{ NULL, 0, NULL },
};

static const struct good_value max_transfer_good[] = {
	{ "4096", "4096" }, { "1073741824\n", "1073741824" }, { "65536", "65536" },
	{ NULL, NULL },
};

static const struct bad_input max_batch_copies_bad[] = {
	BAD("0", "0, below the minimum 1"),
	BAD("513", "513, above the maximum 512"),
	BAD("4294967296", "2^32"),
	BAD("0x20", "hexadecimal"),
	BAD("-1", "negative"),
	{ NULL, 0, NULL },
};

static const struct good_value max_batch_copies_good[] = {
	{ "1", "1" }, { "512\n", "512" }, { "32", "32" }, { NULL, NULL },
};

static const struct bad_input dst_hint_bad[] = {
	BAD("Cache", "a hint in capitals"),
	BAD("cache memory", "two hints"),
	BAD("llc", "an unknown hint"),
	BAD(" cache", "a leading blank"),
	BAD("cache\n\n", "two newlines"),
	{ NULL, 0, NULL },
};

static const struct good_value dst_hint_good[] = {
	{ "cache", "cache" }, { "memory\n", "memory" }, { "auto", "auto" }, { NULL, NULL },
};

/* Every writable file of migrate_copy/ and dsa/: a new one needs a case here. */
static const struct knob_case knob_cases[] = {
	{ "enabled", READ_EXACT, "1", bool_bad, core_enabled_good, false },
	{ "engine", READ_CHOICES, "cpu", engine_bad, engine_good, false },
	{ "reasons", READ_CHOICES, "syscall_or_cpuset", reasons_bad, reasons_good, false },
	{ "min_batch_bytes", READ_EXACT, "4096", min_bytes_bad, min_bytes_good, false },
	{ "dsa/any_provider", READ_EXACT, "1", bool_bad, dsa_bool_good, false },
	{ "dsa/max_channels", READ_EXACT, "2", max_channels_bad, max_channels_good, false },
	{ "dsa/timeout_ms", READ_EXACT, "500", timeout_bad, timeout_good, false },
	{ "dsa/max_transfer_bytes", READ_EXACT, "65536", max_transfer_bad, max_transfer_good,
	  false },
	{ "dsa/max_batch_copies", READ_EXACT, "16", max_batch_copies_bad, max_batch_copies_good,
	  false },
	{ "dsa/dst_hint", READ_CHOICES, "memory", dst_hint_bad, dst_hint_good, false },
	{ "dsa/enabled", READ_EXACT, "1", bool_bad, dsa_bool_good, true },
};

static const struct knob_case *knob_case_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(knob_cases); i++)
		if (!strcmp(knob_cases[i].name, name))
			return &knob_cases[i];
	return NULL;
}

/* ---- bad inputs ------------------------------------------------------------ */

struct input {
	char label[96];
	char *data;
	size_t len;
};

static void input_set(struct input *in, const char *label, const char *data, size_t len)
{
	snprintf(in->label, sizeof(in->label), "%s", label);
	in->data = malloc(len + 1);
	if (!in->data) {
		perror("malloc");
		exit(1);
	}
	memcpy(in->data, data, len);
	in->data[len] = '\0';
	in->len = len;
}

/* @prefix, then @count times @fill, then @suffix. */
static void input_fill(struct input *in, const char *label, const char *prefix, char fill,
		       size_t count, const char *suffix)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	char *data = malloc(plen + count + slen);

	if (!data) {
		perror("malloc");
		exit(1);
	}
	memcpy(data, prefix, plen);
	memset(data + plen, fill, count);
	memcpy(data + plen + count, suffix, slen);
	input_set(in, label, data, plen + count + slen);
	free(data);
}

/*
 * The bad inputs of one knob: those every knob must refuse, some built
 * around its good value, then its own. Returns how many.
 */
static unsigned int build_inputs(const struct knob_case *kc, struct input *in)
{
	const char *valid = kc->valid;
	size_t vlen = strlen(valid);
	unsigned int n = 0, i;
	char text[128];

	input_set(&in[n++], "a zero-length write(2)", "", 0);
	input_set(&in[n++], "an empty line", "\n", 1);
	input_set(&in[n++], "a blank", " ", 1);
	input_set(&in[n++], "only whitespace", " \t \n", 4);
	input_set(&in[n++], "2^64", "18446744073709551616", 20);
	input_set(&in[n++], "10^30", "1000000000000000000000000000000", 31);
	input_set(&in[n++], "a negative number", "-1", 2);
	input_set(&in[n++], "a negative good value", text,
		  snprintf(text, sizeof(text), "-%s", valid));
	input_set(&in[n++], "an unknown name", "bogus", 5);
	input_set(&in[n++], "a good value and an unknown name", text,
		  snprintf(text, sizeof(text), "%s bogus", valid));
	input_set(&in[n++], "a good value, a comma, an unknown name", text,
		  snprintf(text, sizeof(text), "%s,bogus", valid));
	input_set(&in[n++], "a good value with trailing garbage", text,
		  snprintf(text, sizeof(text), "%sgarbage", valid));
	input_set(&in[n++], "a good value, a newline, garbage", text,
		  snprintf(text, sizeof(text), "%s\ngarbage", valid));
	memcpy(text, valid, vlen);
	memcpy(text + vlen, "\0garbage", 8);
	input_set(&in[n++], "a good value, an embedded NUL, garbage", text, vlen + 8);
	text[0] = '\0';
	memcpy(text + 1, valid, vlen);
	input_set(&in[n++], "a NUL, then a good value", text, vlen + 1);
	input_fill(&in[n++], "4000 letters", "", 'x', 4000, "");
	input_fill(&in[n++], "a good value glued to 4000 letters", valid, 'x', 4000, "");
	input_fill(&in[n++], "4095 nines (PAGE_SIZE-1)", "", '9', PAGE - 1, "");
	input_fill(&in[n++], "4096 ones (PAGE_SIZE)", "", '1', PAGE, "");
	input_fill(&in[n++], "5000 letters (sysfs passes the first 4096)", "", 'x', 5000, "");
	input_fill(&in[n++], "5000 bytes: a good value, blanks, then garbage", valid, ' ',
		   4992 - vlen, "garbage\n");
	for (i = 0; kc->bad[i].data; i++)
		input_set(&in[n++], kc->bad[i].label, kc->bad[i].data, kc->bad[i].len);
	return n;
}

static void free_inputs(struct input *in, unsigned int count)
{
	while (count--)
		free(in[count].data);
}

/* ---- checking one knob --------------------------------------------------- */

/* What a value reads back as, comparable with good_value.expect. */
static void readback_of(const struct knob_case *kc, const char *raw, char *out, size_t size)
{
	if (kc->readback == READ_CHOICES) {
		bracketed_words(raw, out, size);
	} else {
		snprintf(out, size, "%s", raw);
		strip_newline(out);
	}
}

/* Write back the value @raw read earlier (the choices of a bracketed knob). */
static ssize_t write_back(const struct knob_case *kc, const char *path, const char *raw)
{
	char value[RAW_MAX + 1];

	readback_of(kc, raw, value, sizeof(value));
	if (kc->readback == READ_CHOICES && !value[0])
		snprintf(value, sizeof(value), "none");
	return write_raw(path, value, strlen(value));
}

static void check_bad_input(const struct knob_case *kc, const char *path,
			    const struct input *in)
{
	char before[RAW_MAX + 1], after[RAW_MAX + 1], shown[96], result[64];
	size_t before_len, after_len;
	bool same, ok;
	ssize_t ret;

	if (read_raw(path, before, RAW_MAX, &before_len)) {
		check(false, "%s: cannot read it before writing %s", kc->name, in->label);
		return;
	}
	before[before_len] = '\0';
	ret = write_raw(path, in->data, in->len);
	if (read_raw(path, after, RAW_MAX, &after_len))
		after_len = (size_t)-1;
	same = after_len == before_len && !memcmp(before, after, before_len);
	after[after_len == (size_t)-1 ? 0 : after_len] = '\0';
	quote(in->data, in->len, shown, sizeof(shown));
	if (!in->len)
		/* sysfs_kf_write() returns 0 for it without calling the store. */
		ok = check(ret == 0 && same, "%s: %s is a no-op (sysfs returns 0 without"
			   " calling the store), value unchanged", kc->name, in->label);
	else
		ok = check(ret == -EINVAL && same,
			   "%s: %s %s fails with EINVAL, value unchanged", kc->name, in->label,
			   shown);
	if (ok)
		return;
	strip_newline(before);
	strip_newline(after);
	note("%s%s: write(2) of %s (%zu bytes) returned %s; before \"%s\", after \"%s\"",
	     ret >= 0 ? "DEFECT: accepted by " : "", path, shown, in->len,
	     errno_text(ret, result, sizeof(result)), before, after);
	if (!same && write_back(kc, path, before) < 0)
		note("putting back \"%s\" failed", before);
}

static void check_good_value(const struct knob_case *kc, const char *path,
			     const struct good_value *good)
{
	char raw[RAW_MAX + 1], value[RAW_MAX + 1], shown[96], result[64];
	size_t len = strlen(good->write), raw_len = 0;
	ssize_t ret;
	int err;

	ret = write_raw(path, good->write, len);
	err = read_raw(path, raw, RAW_MAX, &raw_len);
	raw[raw_len] = '\0';
	readback_of(kc, raw, value, sizeof(value));
	quote(good->write, len, shown, sizeof(shown));
	if (!check(ret == (ssize_t)len && !err && !strcmp(value, good->expect),
		   "%s: takes %s and reads back \"%s\"", kc->name, shown, good->expect))
		note("write(2) returned %s; it reads \"%s\"",
		     errno_text(ret, result, sizeof(result)), value);
}

/* Bad inputs, good values, and the value it had back: the failures. */
static unsigned int check_knob(const char *name)
{
	const struct knob_case *kc = knob_case_find(name);
	char path[256], original[RAW_MAX + 1], now[RAW_MAX + 1];
	size_t original_len = 0, now_len = 0;
	struct input in[MAX_INPUTS];
	unsigned int n, i;
	struct stat st;
	int err;

	knob_path(name, path, sizeof(path));
	if (!check(kc && !stat(path, &st) && (st.st_mode & S_IWUSR),
		   "%s: exists, is writable and has a case", name))
		return failures;
	if (kc->needs_provider) {
		err = knob_set(&saved, CORE "dsa/any_provider", "1");
		if (err)
			note("any_provider=1: %s", strerror(-err));
	}
	err = read_raw(path, original, RAW_MAX, &original_len);
	original[err ? 0 : original_len] = '\0';
	n = build_inputs(kc, in);
	note("%s reads \"%.*s\"", name, (int)strcspn(original, "\n"), original);
	for (i = 0; i < n; i++)
		check_bad_input(kc, path, &in[i]);
	free_inputs(in, n);
	for (i = 0; kc->good[i].write; i++)
		check_good_value(kc, path, &kc->good[i]);
	write_back(kc, path, original);
	err = err ?: read_raw(path, now, RAW_MAX, &now_len);
	check(!err && now_len == original_len && !memcmp(now, original, now_len),
	      "%s: the value it had before the test is back, byte for byte", name);
	return failures;
}

/* ---- discovering the files ----------------------------------------------- */

struct found_file {
	char name[128];		/* relative to /sys/kernel/mm/migrate_copy/ */
	mode_t mode;
};

struct found {
	unsigned int count;
	struct found_file files[MAX_FILES];
};

/* Every regular file under CORE@sub, recursively, but for @skip. */
static int discover(const char *sub, const char *skip, struct found *found)
{
	char path[512], name[384];
	struct dirent *entry;
	struct stat st;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), CORE "%s", sub);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (entry = readdir(dir)) != NULL) {
		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		snprintf(name, sizeof(name), "%s%s%s", sub, *sub ? "/" : "", entry->d_name);
		snprintf(path, sizeof(path), CORE "%s", name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (!skip || strcmp(name, skip))
				err = discover(name, skip, found);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (found->count == MAX_FILES || strlen(name) >= sizeof(found->files[0].name)) {
			err = -ENOSPC;
			break;
		}
		strcpy(found->files[found->count].name, name);
		found->files[found->count++].mode = st.st_mode;
	}
	closedir(dir);
	return err;
}

static bool writable(mode_t mode)
{
	return mode & (S_IWUSR | S_IWGRP | S_IWOTH);
}

/*
 * The files of migrate_copy/@sub (or of migrate_copy/ without dsa/) against
 * the table: every writable file has a case, every case its file, and a
 * read-only file refuses even root's open(O_WRONLY). Returns the failures.
 */
static unsigned int check_coverage(const char *sub)
{
	bool dsa = *sub != '\0';
	struct found found = { 0 };
	char path[256], result[64];
	unsigned int i, j, writables = 0;
	ssize_t ret;
	int err;

	err = discover(sub, dsa ? NULL : DSA_DIR, &found);
	if (!check(!err && found.count, "listing " CORE "%s finds %u files", sub, found.count))
		return failures;
	for (i = 0; i < found.count; i++) {
		const struct found_file *file = &found.files[i];
		mode_t mode = file->mode & 07777;

		knob_path(file->name, path, sizeof(path));
		if (writable(file->mode)) {
			writables++;
			check(knob_case_find(file->name) != NULL, "%s: writable (mode %04o), has a"
			      " case in the knobs table", file->name, mode);
			continue;
		}
		ret = write_raw(path, "0", 1);
		check(ret == -EACCES, "%s: read only (mode %04o), root's open(O_WRONLY) fails"
		      " with EACCES (%s)", file->name, mode, errno_text(ret, result, sizeof(result)));
	}
	for (i = 0; i < ARRAY_SIZE(knob_cases); i++) {
		bool in_dir = !strncmp(knob_cases[i].name, DSA_DIR "/", strlen(DSA_DIR) + 1);
		bool present = false;

		if (in_dir != dsa)
			continue;
		for (j = 0; j < found.count; j++)
			present |= !strcmp(found.files[j].name, knob_cases[i].name) &&
				   writable(found.files[j].mode);
		check(present, "%s: the table's case has its writable file", knob_cases[i].name);
	}
	note("%u files, %u writable", found.count, writables);
	return failures;
}

/* ---- core/ ----------------------------------------------------------------- */

FIXTURE(core) {
	int unused;
};

FIXTURE_SETUP(core)
{
	if (access(CORE, F_OK))
		SKIP(return, COMPILED_OUT);
	failures = 0;
}

FIXTURE_TEARDOWN(core)
{
	knob_restore(&saved);
}

TEST_F_TIMEOUT(core, enabled_refuses_bad_writes_and_takes_bools, 120)
{
	EXPECT_EQ(0, check_knob("enabled"));
}

TEST_F_TIMEOUT(core, engine_refuses_bad_writes_and_takes_auto_and_engine_names, 120)
{
	EXPECT_EQ(0, check_knob("engine"));
}

TEST_F_TIMEOUT(core, reasons_refuses_bad_writes_and_takes_reason_lists, 120)
{
	EXPECT_EQ(0, check_knob("reasons"));
}

TEST_F_TIMEOUT(core, min_batch_bytes_refuses_bad_writes_and_takes_0_to_1GiB, 120)
{
	EXPECT_EQ(0, check_knob("min_batch_bytes"));
}

TEST_F_TIMEOUT(core, every_writable_file_has_a_case, 60)
{
	EXPECT_EQ(0, check_coverage(""));
}

/* ---- dsa/ ------------------------------------------------------------------ */

FIXTURE(dsa) {
	bool loaded_provider, loaded_engine;
};

FIXTURE_SETUP(dsa)
{
	int status, err;

	if (access(CORE, F_OK))
		SKIP(return, COMPILED_OUT);
	failures = 0;
	self->loaded_provider = !module_loaded(PROVIDER_MODULE);
	self->loaded_engine = !module_loaded(ENGINE_MODULE);
	status = module_load(PROVIDER_MODULE);
	ASSERT_EQ(0, status) TH_LOG("modprobe " PROVIDER_MODULE);
	status = module_load(ENGINE_MODULE);
	ASSERT_EQ(0, status) TH_LOG("modprobe " ENGINE_MODULE);
	/* From the disabled engine: any_provider and co. change only then. */
	err = knob_set(&saved, CORE "dsa/enabled", "0");
	ASSERT_EQ(0, err) TH_LOG("dsa/enabled=0: %s", strerror(-err));
	/* The engine knob comes back too (engine_takes_dsa... changes it). */
	err = knob_set(&saved, CORE "engine", "auto");
	ASSERT_EQ(0, err) TH_LOG("engine=auto: %s", strerror(-err));
}

FIXTURE_TEARDOWN(dsa)
{
	knob_write(CORE "dsa/enabled", "0");
	knob_restore(&saved);
	if (self->loaded_engine)
		module_unload(ENGINE_MODULE);
	if (self->loaded_provider)
		module_unload(PROVIDER_MODULE);
}

TEST_F_TIMEOUT(dsa, any_provider_refuses_bad_writes_and_takes_bools, 120)
{
	EXPECT_EQ(0, check_knob("dsa/any_provider"));
}

TEST_F_TIMEOUT(dsa, max_channels_refuses_bad_writes_and_takes_1_to_64, 120)
{
	EXPECT_EQ(0, check_knob("dsa/max_channels"));
}

TEST_F_TIMEOUT(dsa, timeout_ms_refuses_bad_writes_and_takes_1_to_60000, 120)
{
	EXPECT_EQ(0, check_knob("dsa/timeout_ms"));
}

TEST_F_TIMEOUT(dsa, max_transfer_bytes_refuses_bad_writes_and_takes_4096_to_1GiB, 120)
{
	EXPECT_EQ(0, check_knob("dsa/max_transfer_bytes"));
}

TEST_F_TIMEOUT(dsa, max_batch_copies_refuses_bad_writes_and_takes_1_to_512, 120)
{
	EXPECT_EQ(0, check_knob("dsa/max_batch_copies"));
}

TEST_F_TIMEOUT(dsa, dst_hint_refuses_bad_writes_and_takes_its_names, 120)
{
	EXPECT_EQ(0, check_knob("dsa/dst_hint"));
}

TEST_F_TIMEOUT(dsa, enabled_refuses_bad_writes_and_takes_bools, 180)
{
	EXPECT_EQ(0, check_knob("dsa/enabled"));
}

TEST_F_TIMEOUT(dsa, every_writable_file_has_a_case, 60)
{
	EXPECT_EQ(0, check_coverage(DSA_DIR));
}

/* Writing @value to @name fails with @expected and changes nothing. */
static bool refuses(const char *name, const char *value, int expected)
{
	char path[256], before[RAW_MAX], after[RAW_MAX], result[64];
	size_t before_len = 0, after_len = 0;
	ssize_t ret;

	knob_path(name, path, sizeof(path));
	read_raw(path, before, sizeof(before), &before_len);
	ret = write_raw(path, value, strlen(value));
	read_raw(path, after, sizeof(after), &after_len);
	if (ret == -expected && before_len == after_len && !memcmp(before, after, after_len))
		return true;
	note("%s: writing \"%s\" returned %s; before \"%.*s\", after \"%.*s\"", name, value,
	     errno_text(ret, result, sizeof(result)), (int)strcspn(before, "\n"), before,
	     (int)strcspn(after, "\n"), after);
	return false;
}

static bool dsa_enable(void)
{
	int err = knob_set(&saved, CORE "dsa/any_provider", "1") ?:
		  knob_set(&saved, CORE "dsa/enabled", "1");

	return check(!err, "dsa/enabled: 1 takes a channel of " PROVIDER_MODULE
		     " with any_provider=1 (%s)", err ? strerror(-err) : "ok");
}

TEST_F_TIMEOUT(dsa, apply_at_enable_knobs_are_busy_while_enabled, 120)
{
	char value[64] = "";
	bool up = dsa_enable();
	int err;

	check(up && refuses("dsa/any_provider", "0", EBUSY),
	      "dsa/any_provider: fails with EBUSY while the engine is enabled, value unchanged");
	check(up && refuses("dsa/max_channels", "3", EBUSY),
	      "dsa/max_channels: fails with EBUSY while the engine is enabled, value unchanged");
	check(up && refuses("dsa/max_transfer_bytes", "8192", EBUSY),
	      "dsa/max_transfer_bytes: fails with EBUSY while the engine is enabled,"
	      " value unchanged");
	check(up && refuses("dsa/max_batch_copies", "8", EBUSY),
	      "dsa/max_batch_copies: fails with EBUSY while the engine is enabled,"
	      " value unchanged");
	err = knob_set(&saved, CORE "dsa/timeout_ms", "1500");
	check(up && !err && !knob_read(CORE "dsa/timeout_ms", value, sizeof(value)) &&
	      !strcmp(value, "1500"), "dsa/timeout_ms: changes while the engine is enabled");
	EXPECT_EQ(0, failures);
}

TEST_F_TIMEOUT(dsa, engine_takes_dsa_only_while_registered, 120)
{
	char choice[64] = "", engines[256] = "";
	bool up;
	int err;

	check(refuses("engine", "dsa", EINVAL),
	      "engine: dsa fails with EINVAL before the DSA engine is enabled");
	up = dsa_enable();
	knob_read(CORE "engine", engines, sizeof(engines));
	err = knob_write(CORE "engine", "dsa");
	knob_read_choice(CORE "engine", choice, sizeof(choice));
	check(up && !err && !strcmp(choice, "dsa"),
	      "engine: lists and takes dsa while the DSA engine is registered (%s)", engines);
	err = knob_write(CORE "dsa/enabled", "0");
	choice[0] = '\0';
	knob_read_choice(CORE "engine", choice, sizeof(choice));
	check(!err && !strcmp(choice, "auto"),
	      "engine: back to auto when dsa/enabled=0 unregisters the chosen engine (%s)",
	      choice);
	check(refuses("engine", "dsa", EINVAL),
	      "engine: dsa fails with EINVAL once the DSA engine is unregistered");
	EXPECT_EQ(0, failures);
}

/* ---- unprivileged ---------------------------------------------------------- */

FIXTURE(unprivileged) {
	bool loaded_engine;
	struct found found;
};

FIXTURE_SETUP(unprivileged)
{
	int status, err;

	if (access(CORE, F_OK))
		SKIP(return, COMPILED_OUT);
	failures = 0;
	self->loaded_engine = !module_loaded(ENGINE_MODULE);
	status = module_load(ENGINE_MODULE);
	ASSERT_EQ(0, status) TH_LOG("modprobe " ENGINE_MODULE);
	err = discover("", NULL, &self->found);
	ASSERT_EQ(0, err) TH_LOG("listing " CORE ": %s", strerror(-err));
	ASSERT_EQ(0, access(CORE DSA_DIR "/enabled", F_OK)) TH_LOG("no dsa/ directory");
	note("%u files in " CORE " and its dsa/", self->found.count);
}

FIXTURE_TEARDOWN(unprivileged)
{
	if (self->loaded_engine)
		module_unload(ENGINE_MODULE);
}

TEST_F_TIMEOUT(unprivileged, no_file_has_a_group_or_other_write_bit, 60)
{
	unsigned int i;

	for (i = 0; i < self->found.count; i++)
		check(!(self->found.files[i].mode & (S_IWGRP | S_IWOTH)),
		      "%s: mode %04o, no group or other write bit", self->found.files[i].name,
		      self->found.files[i].mode & 07777);
	EXPECT_EQ(0, failures);
}

/* As nobody: the errno of open(O_WRONLY) of every file, into @fd. */
static void __attribute__((noreturn)) nobody_child(const struct found *found, int fd)
{
	char path[256];
	unsigned int i;
	int result;

	result = setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		 setresuid(NOBODY, NOBODY, NOBODY) ? errno : 0;
	/* Without privilege now: getting root back must fail. */
	if (!result && (geteuid() != NOBODY || getegid() != NOBODY || !setresuid(0, 0, 0)))
		result = -1;
	if (write(fd, &result, sizeof(result)) != sizeof(result))
		_exit(1);
	for (i = 0; i < found->count; i++) {
		int open_fd;

		knob_path(found->files[i].name, path, sizeof(path));
		open_fd = open(path, O_WRONLY | O_CLOEXEC);
		result = open_fd < 0 ? errno : 0;
		if (open_fd >= 0)
			close(open_fd);
		if (write(fd, &result, sizeof(result)) != sizeof(result))
			_exit(1);
	}
	_exit(0);
}

TEST_F_TIMEOUT(unprivileged, nobody_gets_eacces_opening_any_file_for_writing, 60)
{
	int pipe_fds[2], result, status;
	char text[64];
	unsigned int i;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipe_fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipe_fds[0]);
		nobody_child(&self->found, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	if (read(pipe_fds[0], &result, sizeof(result)) != sizeof(result))
		result = -2;
	check(!result, "a child runs as uid and gid %d and cannot become root again (%s)",
	      NOBODY, result > 0 ? errno_describe(result, text, sizeof(text)) :
	      result ? "failed" : "ok");
	for (i = 0; i < self->found.count; i++) {
		if (read(pipe_fds[0], &result, sizeof(result)) != sizeof(result))
			result = -1;
		check(result == EACCES, "%s: open(O_WRONLY) as uid %d fails with EACCES (%s)",
		      self->found.files[i].name, NOBODY,
		      result > 0 ? errno_describe(result, text, sizeof(text)) :
		      result ? "no answer" : "it opened");
	}
	close(pipe_fds[0]);
	waitpid(pid, &status, 0);
	EXPECT_EQ(0, failures);
}

/* ---- tracepoint ------------------------------------------------------------ */

struct batch_event {
	char engine[32];
	unsigned int folios, failures;
	unsigned long long bytes, ns;
	int reason;
};

#define MAX_EVENTS	256

/* The migrate_copy_batch events of task @pid in the trace buffer, or -errno. */
static int read_events(pid_t pid, struct batch_event *events, unsigned int max,
		       unsigned int *others)
{
	static char trace[1 << 20];
	char *line, *next, *at, *dash, *bracket;
	unsigned int n = 0;
	long len;

	*others = 0;
	len = read_text_file(TRACEFS "/trace", trace, sizeof(trace));
	if (len < 0)
		return len;
	for (line = trace; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#')
			continue;
		at = strstr(line, "migrate_copy_batch: ");
		bracket = strchr(line, '[');
		if (!at || !bracket || bracket > at)
			continue;
		*bracket = '\0';
		dash = strrchr(line, '-');
		if (!dash || atoi(dash + 1) != pid) {
			(*others)++;
			continue;
		}
		if (n == max)
			return -ENOSPC;
		if (sscanf(at, "migrate_copy_batch: engine=%31s folios=%u bytes=%llu ns=%llu"
			   " failures=%u reason=%d", events[n].engine, &events[n].folios,
			   &events[n].bytes, &events[n].ns, &events[n].failures,
			   &events[n].reason) != 6) {
			note("unparsed event: %s", at);
			return -EINVAL;
		}
		n++;
	}
	return n;
}

static int clear_trace(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * MR_SYSCALL's number in the print format of migrate:mm_migrate_pages,
 * whose __print_symbolic() the kernel rewrote to numbers at boot
 * ("{ 3, \"syscall_or_cpuset\" }"); -1 when it is not there.
 */
static int mr_syscall_from_format(void)
{
	static char format[16384];
	char *at;
	int value;

	if (read_text_file(MIGRATE_FORMAT, format, sizeof(format)) < 0)
		return -1;
	at = strstr(format, "\"syscall_or_cpuset\"");
	if (!at)
		return -1;
	while (at > format && *at != '{')
		at--;
	if (sscanf(at, "{ %d,", &value) != 1)
		return -1;
	return value;
}

/* The position of syscall in the reasons knob, which lists them in enum order. */
static int mr_syscall_from_reasons(void)
{
	char reasons[KNOB_VALUE_MAX], words[KNOB_VALUE_MAX], *word, *cursor;
	int index = 0;

	if (knob_read(CORE "reasons", reasons, sizeof(reasons)))
		return -1;
	all_words(reasons, words, sizeof(words));
	for (cursor = words; (word = strsep(&cursor, " ")) != NULL; index++)
		if (!strcmp(word, "syscall_or_cpuset"))
			return index;
	return -1;
}

static bool region_is_thp(struct mig_region *region)
{
	long long kb = 0;

	return !smaps_vma_field_kb(region->addr, "AnonHugePages", &kb, NULL, NULL) &&
	       kb == (long long)(region->size >> 10);
}

static const char *const event_fields[] = {
	"__data_loc char[] engine;", "unsigned int folios;", "size_t bytes;", "u64 ns;",
	"unsigned int failures;", "int reason;",
};

FIXTURE(tracepoint) {
	char tracing_on[16];
	char engines[KNOB_VALUE_MAX];
	int mr_syscall;
	bool loaded_test_engine;
};

FIXTURE_SETUP(tracepoint)
{
	char value[KNOB_VALUE_MAX] = "";
	int mr_format, mr_reasons, err;

	if (access(CORE, F_OK))
		SKIP(return, COMPILED_OUT);
	failures = 0;
	if (access(TRACEFS "/events", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		note("mount -t tracefs tracefs " TRACEFS ": %s", strerror(errno));
	ASSERT_EQ(0, access(EVENT "/enable", F_OK))
		TH_LOG("no " EVENT " in tracefs");
	/* With the CPU engine alone, auto copies nothing ahead: no event. */
	self->loaded_test_engine = !module_loaded(TEST_ENGINE_MODULE);
	if (module_load(TEST_ENGINE_MODULE))
		SKIP(return, "no " TEST_ENGINE_MODULE " module: with the CPU engine alone"
		     " nothing is copied ahead, so no batch is traced");
	mr_format = mr_syscall_from_format();
	mr_reasons = mr_syscall_from_reasons();
	self->mr_syscall = mr_format >= 0 ? mr_format : MR_SYSCALL_612;
	check(self->mr_syscall == MR_SYSCALL_612 && mr_reasons == self->mr_syscall,
	      "MR_SYSCALL is %d in migrate:mm_migrate_pages's format (%d), in the order of"
	      " reasons (%d) and in 6.12's enum (%d)", self->mr_syscall, mr_format,
	      mr_reasons, MR_SYSCALL_612);
	err = knob_set(&saved, CORE "enabled", "true") ?:
	      knob_set(&saved, CORE "reasons", "all") ?:
	      knob_set(&saved, CORE "min_batch_bytes", "0") ?:
	      knob_set(&saved, CORE "engine", "auto");
	ASSERT_EQ(0, err) TH_LOG("setting the knobs: %s", strerror(-err));
	knob_read(CORE "engine", value, sizeof(value));
	engine_names(value, self->engines, sizeof(self->engines));
	knob_read(TRACEFS "/tracing_on", self->tracing_on, sizeof(self->tracing_on));
	if (strcmp(self->tracing_on, "1"))
		knob_write(TRACEFS "/tracing_on", "1");
	clear_trace();
}

FIXTURE_TEARDOWN(tracepoint)
{
	knob_write(EVENT "/enable", "0");
	if (self->tracing_on[0] && strcmp(self->tracing_on, "1"))
		knob_write(TRACEFS "/tracing_on", self->tracing_on);
	knob_restore(&saved);
	if (self->loaded_test_engine)
		module_unload(TEST_ENGINE_MODULE);
}

TEST_F_TIMEOUT(tracepoint, format_has_every_documented_field, 60)
{
	char format[8192], field[64];
	unsigned int i;

	if (read_text_file(EVENT "/format", format, sizeof(format)) < 0)
		format[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(event_fields); i++) {
		snprintf(field, sizeof(field), "field:%s", event_fields[i]);
		check(strstr(format, field) != NULL, "format has the field %.*s",
		      (int)strlen(event_fields[i]) - 1, event_fields[i]);
	}
	check(strstr(format, "engine=%s folios=%u bytes=%zu ns=%llu failures=%u reason=%d"),
	      "format prints engine, folios, bytes, ns, failures and reason");
	EXPECT_EQ(0, failures);
}

static bool event_enable(const char *value)
{
	char now[16] = "";
	int err;

	err = knob_write(EVENT "/enable", value);
	knob_read(EVENT "/enable", now, sizeof(now));
	return check(!err && !strcmp(now, value), "events/migrate_copy/migrate_copy_batch/enable"
		     " takes %s and reads %s", value, now);
}

/* Move a fresh region from node 0 to 1 with the event on, check its events. */
static void traced_move(const FIXTURE_DATA(tracepoint) *self, enum mig_kind kind,
			size_t size)
{
	struct vmstat_set before = { 0 }, after;
	struct batch_event events[MAX_EVENTS];
	const char *kname = mig_kind_name(kind);
	long long copied = 0, cpu = -1, offload = -1, fallback = -1;
	unsigned long long folios = 0, failed = 0, max_ns = 0;
	unsigned int i, others, bad_engine = 0, bad_folios = 0, bad_bytes = 0,
		     bad_reason = 0;
	struct mig_placement placement = { 0 };
	struct mig_move_result result;
	struct mig_region region;
	bool ready, moved;
	int n, err;

	vmstat_set_add(&before, "migrate_copy_cpu");
	vmstat_set_add(&before, "migrate_copy_offload");
	vmstat_set_add(&before, "migrate_copy_fallback");
	after = before;
	err = mig_region_create(&region, kind, size, 0);
	ready = !err && mig_region_place(&region, 0, &placement, &result.ret);
	check(ready && (kind == MIG_KIND_4K || region_is_thp(&region)),
	      "%s: %zu folios of %zu bytes on node 0 (%s)", kname, region.nr_folios,
	      region.folio_size, err ? strerror(-err) : "ok");
	if (!ready)
		return;
	event_enable("1");
	vmstat_set_snapshot(&before);
	mig_region_move(&region, 1, &result);
	vmstat_set_snapshot(&after);
	mig_region_query(&region, 1, &placement);
	moved = placement.status.matching == region.nr_pages;
	check(moved, "%s: move_pages moved them to node 1 (%zu of %zu pages there)", kname,
	      placement.status.matching, region.nr_pages);
	n = read_events(getpid(), events, MAX_EVENTS, &others);
	if (n < 0) {
		note("reading the trace: %s", strerror(-n));
		n = 0;
	}
	for (i = 0; i < (unsigned int)n; i++) {
		const struct batch_event *ev = &events[i];

		note("%s: engine=%s folios=%u bytes=%llu ns=%llu failures=%u reason=%d", kname,
		     ev->engine, ev->folios, ev->bytes, ev->ns, ev->failures, ev->reason);
		bad_engine += !word_in(ev->engine, self->engines);
		bad_folios += !ev->folios || ev->failures > ev->folios;
		bad_bytes += !ev->bytes ||
			     ev->bytes != (unsigned long long)ev->folios * region.folio_size;
		bad_reason += ev->reason != self->mr_syscall;
		folios += ev->folios;
		failed += ev->failures;
		copied += ev->folios - ev->failures;
		if (ev->ns > max_ns)
			max_ns = ev->ns;
	}
	if (others)
		note("%u events of other tasks left out", others);
	vmstat_set_delta(&before, &after, "migrate_copy_cpu", &cpu);
	vmstat_set_delta(&before, &after, "migrate_copy_offload", &offload);
	vmstat_set_delta(&before, &after, "migrate_copy_fallback", &fallback);
	check(n > 0, "%s: %d migrate_copy_batch events of this task in the trace", kname, n);
	check(n > 0 && !bad_engine, "%s: every event names a registered engine (%s)", kname,
	      self->engines);
	check(n > 0 && !bad_folios, "%s: every event has folios > 0 and failures <= folios",
	      kname);
	check(n > 0 && !bad_bytes, "%s: every event has bytes = folios x %zu (the folio size)",
	      kname, region.folio_size);
	check(n > 0 && !bad_reason, "%s: every event's reason is MR_SYSCALL (%d)", kname,
	      self->mr_syscall);
	check(n > 0 && max_ns < 60ULL * 1000000000ULL,
	      "%s: every event's ns is below 60 s (largest %llu)", kname, max_ns);
	check(n > 0 && folios == region.nr_folios && copied == cpu + offload &&
	      (long long)failed == fallback,
	      "%s: the events' %llu folios are the %zu moved, and their copies and failures"
	      " the migrate_copy_cpu + offload (+%lld) and fallback (+%lld) counted", kname,
	      folios, region.nr_folios, cpu + offload, fallback);
	mig_region_destroy(&region);
}

TEST_F_TIMEOUT(tracepoint, move_pages_4k_batches_are_traced_with_sane_fields, 120)
{
	traced_move(self, MIG_KIND_4K, 64 * SIZE_4K);
	EXPECT_EQ(0, failures);
}

TEST_F_TIMEOUT(tracepoint, move_pages_thp_batches_are_traced_with_sane_fields, 120)
{
	traced_move(self, MIG_KIND_THP, 2 * SIZE_2M);
	EXPECT_EQ(0, failures);
}

/*
 * With @engine chosen, move 64 4K pages from node 0 to 1 with the event on:
 * true if they moved, with the number of this task's events in @events and
 * the rise of migrate_copy_cpu + offload + fallback in @counted.
 */
static bool move_counting_copies(const char *engine, int *events_seen, long long *counted)
{
	struct vmstat_set before = { 0 }, after;
	struct batch_event events[MAX_EVENTS];
	struct mig_placement placement = { 0 };
	struct mig_move_result result;
	long long cpu = 0, offload = 0, fallback = 0;
	struct mig_region region;
	unsigned int others;
	bool moved = false;
	int err;

	vmstat_set_add(&before, "migrate_copy_cpu");
	vmstat_set_add(&before, "migrate_copy_offload");
	vmstat_set_add(&before, "migrate_copy_fallback");
	after = before;
	err = knob_write(CORE "engine", engine);
	if (!check(!err, "engine takes %s", engine))
		return false;
	err = mig_region_create(&region, MIG_KIND_4K, 64 * SIZE_4K, 0);
	if (!check(!err && mig_region_place(&region, 0, &placement, &result.ret),
		   "%s: 64 4K pages on node 0 (%s)", engine, err ? strerror(-err) : "ok")) {
		if (!err)
			mig_region_destroy(&region);
		return false;
	}
	event_enable("1");
	clear_trace();
	vmstat_set_snapshot(&before);
	mig_region_move(&region, 1, &result);
	vmstat_set_snapshot(&after);
	event_enable("0");
	mig_region_query(&region, 1, &placement);
	moved = check(placement.status.matching == region.nr_pages,
		      "%s: move_pages moved them to node 1 (%zu of %zu pages there)", engine,
		      placement.status.matching, region.nr_pages);
	mig_region_destroy(&region);
	*events_seen = read_events(getpid(), events, MAX_EVENTS, &others);
	vmstat_set_delta(&before, &after, "migrate_copy_cpu", &cpu);
	vmstat_set_delta(&before, &after, "migrate_copy_offload", &offload);
	vmstat_set_delta(&before, &after, "migrate_copy_fallback", &fallback);
	*counted = cpu + offload + fallback;
	return moved;
}

/* With @engine the CPU would copy every batch: nothing is copied ahead. */
static void check_nothing_copied_ahead(const char *engine, const char *what)
{
	long long counted = -1;
	int events = -1;

	if (move_counting_copies(engine, &events, &counted))
		check(events == 0 && counted == 0,
		      "%s: no batch copied ahead (%d events, counters +%lld)", what, events,
		      counted);
}

TEST_F_TIMEOUT(tracepoint, cpu_engine_alone_copies_nothing_ahead, 120)
{
	char value[KNOB_VALUE_MAX] = "";
	long long counted = -1;
	int events = -1;
	bool unloaded;

	/* The negative control: another engine copies ahead, and it shows. */
	if (move_counting_copies("test", &events, &counted))
		check(events > 0 && counted >= 64,
		      "engine test: batches copied ahead (%d events, counters +%lld, at least"
		      " the 64 moved)", events, counted);
	check_nothing_copied_ahead("cpu", "engine cpu");
	if (!self->loaded_test_engine) {
		note("the test engine was loaded before this test: auto alone not tried");
		EXPECT_EQ(0, failures);
		return;
	}
	unloaded = module_unload(TEST_ENGINE_MODULE) == 0;
	self->loaded_test_engine = !unloaded;
	if (unloaded && !knob_write(CORE "engine", "auto") &&
	    !knob_read(CORE "engine", value, sizeof(value)) && !strcmp(value, "[auto] cpu"))
		check_nothing_copied_ahead("auto", "auto with the CPU engine alone");
	else
		note("engines after unloading the test engine: %s; auto alone not tried", value);
	EXPECT_EQ(0, failures);
}

TEST_F_TIMEOUT(tracepoint, disabled_event_traces_nothing, 120)
{
	struct batch_event events[MAX_EVENTS];
	struct mig_placement placement;
	struct mig_move_result result;
	struct mig_region region;
	unsigned int others;
	int err, n;

	event_enable("1");
	event_enable("0");
	clear_trace();
	err = mig_region_create(&region, MIG_KIND_4K, 16 * SIZE_4K, 0);
	if (!err) {
		mig_region_place(&region, 0, &placement, &result.ret);
		mig_region_move(&region, 1, &result);
		mig_region_query(&region, 1, &placement);
		check(placement.status.matching == region.nr_pages,
		      "move_pages moved 16 pages to node 1");
		mig_region_destroy(&region);
	}
	n = read_events(getpid(), events, MAX_EVENTS, &others);
	check(!err && n == 0, "with the event disabled, the move left no event (%d)", n);
	EXPECT_EQ(0, failures);
}

/* ---- boot parameter -------------------------------------------------------- */

FIXTURE(boot_param) {
	char cmdline[4096];
	const char *param;	/* the value of the last migrate_copy= */
};

FIXTURE_SETUP(boot_param)
{
	char *word, *cursor = self->cmdline;

	if (access(CORE "enabled", F_OK))
		SKIP(return, COMPILED_OUT);
	failures = 0;
	self->param = NULL;
	ASSERT_LE(0, read_text_file("/proc/cmdline", self->cmdline, sizeof(self->cmdline)));
	while ((word = strsep(&cursor, " \t\n")) != NULL)
		if (!strncmp(word, "migrate_copy=", 13))
			self->param = word + 13;
	if (!self->param)
		SKIP(return, "no migrate_copy= on the kernel command line");
}

FIXTURE_TEARDOWN(boot_param)
{
}

TEST_F_TIMEOUT(boot_param, init_recorded_the_value_the_cmdline_asked_for, 60)
{
	const char *expected = !strcmp(self->param, "on") ? "true" :
			       !strcmp(self->param, "off") ? "false" : NULL;
	char record[64] = "";
	int err;

	err = knob_read(BOOT_RECORD, record, sizeof(record));
	check(!err, "init recorded enabled at boot in " BOOT_RECORD " (\"%s\")", record);
	check(expected && !strcmp(record, expected),
	      "migrate_copy=%s on the command line: enabled read %s after boot", self->param,
	      expected ? expected : "? (only on and off are tested)");
	EXPECT_EQ(0, failures);
}

/* Whether @log reaches back to "Kernel command line:" and has no complaint. */
static bool boot_log_clean(const char *log, const char *source)
{
	const char *complaint = strstr(log, "expected on or off");
	const char *unknown = strstr(log, "Unknown kernel command line parameters");
	const char *ours = unknown ? strstr(unknown, "migrate_copy=") : NULL;
	bool whole = strstr(log, "Kernel command line:") != NULL;

	if (ours && strchr(unknown, '\n') && ours > strchr(unknown, '\n'))
		ours = NULL;
	if (!whole)
		note("%s does not reach back to \"Kernel command line:\"", source);
	if (complaint) {
		while (complaint > log && complaint[-1] != '\n')
			complaint--;
		note("%s: %.*s", source, (int)strcspn(complaint, "\n"), complaint);
	}
	if (ours)
		note("%s: %.*s", source, (int)strcspn(unknown, "\n"), unknown);
	return whole && !complaint && !ours;
}

TEST_F_TIMEOUT(boot_param, kernel_took_it_without_complaint, 60)
{
	static char log[1 << 18], environ_text[8192];
	const char *source = BOOT_DMESG;
	bool in_environ = false;
	long len, i;
	int fd, size;

	/* init's copy of the boot log first: the ring buffer may have wrapped. */
	len = read_text_file(BOOT_DMESG, log, sizeof(log));
	if (len < 0 || !strstr(log, "Kernel command line:")) {
		source = "the kernel log buffer";
		size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
		len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log,
			      size > 0 && size < (int)sizeof(log) ? size : (int)sizeof(log) - 1);
		log[len > 0 ? len : 0] = '\0';
	}
	check(boot_log_clean(log, source), "the boot log (%s) has no \"migrate_copy=...:"
	      " expected on or off\" and does not call migrate_copy= unknown", source);

	/* The kernel hands the parameters it did not take to init's environment. */
	fd = open("/proc/1/environ", O_RDONLY | O_CLOEXEC);
	len = fd < 0 ? -1 : read(fd, environ_text, sizeof(environ_text) - 1);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < len; i += strlen(environ_text + i) + 1)
		if (!strncmp(environ_text + i, "migrate_copy=", 13))
			in_environ = true;
	check(len > 0 && !in_environ, "migrate_copy=%s is not in PID 1's environment, where"
	      " the parameters the kernel did not take go", self->param);
	EXPECT_EQ(0, failures);
}

TEST_F_TIMEOUT(boot_param, init_set_enabled_back_to_true, 60)
{
	char now[64] = "";

	knob_read(CORE "enabled", now, sizeof(now));
	check(!strcmp(now, "true"), "enabled reads true, as init left it for the other tests"
	      " (\"%s\")", now);
	EXPECT_EQ(0, failures);
}

TEST_HARNESS_MAIN
