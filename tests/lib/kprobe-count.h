/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Count the calls of a kernel function with a kprobe event, from its hit
 * count in /sys/kernel/tracing/kprobe_profile: no trace buffer to overflow,
 * every task counted.
 */
#ifndef KPROBE_COUNT_H
#define KPROBE_COUNT_H

#include <stdbool.h>

struct kprobe_count {
	char event[64];		/* "<group>/<name>" */
	long long start;	/* hits when counting started */
};

/*
 * Place a kprobe event @name (group "count") on @symbol and enable it.
 * false (with a TAP diagnostic) if tracefs or kprobe events are missing.
 */
bool kprobe_count_start(struct kprobe_count *probe, const char *name,
			const char *symbol);

/* Hits since kprobe_count_start(), or -1. */
long long kprobe_count_read(const struct kprobe_count *probe);

/* Disable and remove the event. */
void kprobe_count_stop(struct kprobe_count *probe);

#endif
