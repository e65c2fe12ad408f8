// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal TAP version 13 emitter, see tap.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static struct {
	bool header_printed;
	bool planned;
	bool skipped_all;
	unsigned int plan;
	unsigned int ran;
	unsigned int failed;
} tap_state;

static void tap_header(void)
{
	if (tap_state.header_printed)
		return;
	printf("TAP version 13\n");
	fflush(stdout);
	tap_state.header_printed = true;
}

/* Print @text with "# " in front of every line. */
static void tap_print_comment(const char *text)
{
	const char *line = text;

	do {
		const char *newline = strchr(line, '\n');
		int length = newline ? (int)(newline - line) : (int)strlen(line);

		printf("# %.*s\n", length, line);
		line = newline ? newline + 1 : NULL;
	} while (line && *line);
	fflush(stdout);
}

/*
 * A description must stay on one line and must not contain '#', which
 * would start a TAP directive.
 */
static void tap_sanitize_description(char *text)
{
	for (; *text; text++) {
		if (*text == '\n' || *text == '\r')
			*text = ' ';
		else if (*text == '#')
			*text = '_';
	}
}

void tap_header_printed(void)
{
	tap_state.header_printed = true;
}

void tap_plan(unsigned int planned)
{
	tap_header();
	printf("1..%u\n", planned);
	fflush(stdout);
	tap_state.planned = true;
	tap_state.plan = planned;
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	char description[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(description, sizeof(description), fmt, args);
	va_end(args);
	tap_sanitize_description(description);

	tap_header();
	tap_state.ran++;
	if (!cond)
		tap_state.failed++;
	printf("%sok %u - %s\n", cond ? "" : "not ", tap_state.ran, description);
	fflush(stdout);
	return cond;
}

void tap_diag(const char *fmt, ...)
{
	char message[4096];
	va_list args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);

	tap_header();
	tap_print_comment(message);
}

void tap_metric(const char *key, const char *fmt, ...)
{
	char clean_key[128];
	char value[256];
	va_list args;
	size_t i;

	for (i = 0; key[i] && i < sizeof(clean_key) - 1; i++) {
		char c = key[i];
		bool valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			     c == '-';

		clean_key[i] = valid ? c : '_';
	}
	clean_key[i] = '\0';

	va_start(args, fmt);
	vsnprintf(value, sizeof(value), fmt, args);
	va_end(args);
	for (i = 0; value[i]; i++) {
		if (value[i] == '\n' || value[i] == '\r')
			value[i] = ' ';
	}

	tap_header();
	printf("# metric %s=%s\n", clean_key, value);
	fflush(stdout);
}

void tap_skip_all(const char *reason)
{
	tap_header();
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	tap_state.skipped_all = true;
}

int tap_done(void)
{
	if (tap_state.skipped_all)
		return 0;

	if (!tap_state.planned) {
		/* Keep the output valid TAP, but a missing plan is a bug. */
		tap_header();
		printf("1..%u\n", tap_state.ran);
		fflush(stdout);
		tap_diag("no plan was printed before the test points");
		return 1;
	}
	if (tap_state.plan != tap_state.ran) {
		tap_diag("planned %u, ran %u", tap_state.plan, tap_state.ran);
		return 1;
	}

	if (tap_state.failed) {
		tap_diag("failed %u of %u", tap_state.failed, tap_state.ran);
		return 1;
	}
	return 0;
}
