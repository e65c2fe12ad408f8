/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP version 13 emitter for the guest test programs.
 *
 * Every line goes to stdout and is flushed at once: in the guest stdout is
 * a serial console and a test that hangs or panics the kernel must still
 * leave every line it printed so far.
 */
#ifndef TESTS_LIB_TAP_H
#define TESTS_LIB_TAP_H

#include <stdbool.h>

#ifndef __printf
#define __printf(fmt_index, args_index) \
	__attribute__((format(printf, fmt_index, args_index)))
#endif

/* Print the "TAP version 13" header and the plan line "1..planned". */
void tap_plan(unsigned int planned);

/*
 * Another emitter (the kernel's kselftest harness) prints the header and
 * the plan: tap_diag() and the library's diagnostics must not print it.
 */
void tap_header_printed(void);

/* Print "ok N - desc" or "not ok N - desc"; returns @cond. */
bool tap_ok(bool cond, const char *fmt, ...) __printf(2, 3);

/* Print a diagnostic; every line of the message is prefixed by "# ". */
void tap_diag(const char *fmt, ...) __printf(1, 2);

/*
 * Print "# metric <key>=<value>".  Characters of @key outside
 * [A-Za-z0-9_.-] are replaced by '_'.
 */
void tap_metric(const char *key, const char *fmt, ...) __printf(2, 3);

/* Print the header and "1..0 # SKIP reason"; tap_done() then returns 0. */
void tap_skip_all(const char *reason);

/*
 * Finish the run.  Returns the process exit code: 0 iff every test point
 * passed and the number of points matched the plan, 1 otherwise.
 */
int tap_done(void);

#endif /* TESTS_LIB_TAP_H */
