// SPDX-License-Identifier: GPL-2.0
/* Count calls of a kernel function with a kprobe event: see kprobe-count.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "knobs.h"
#include "kprobe-count.h"
#include "numa-util.h"
#include "tap.h"

#define TRACING		"/sys/kernel/tracing/"
#define PROBE_GROUP	"count"

/* The hit count of @name in kprobe_profile ("  name  hits  misses"), or -1. */
static long long kprobe_profile_hits(const char *name)
{
	static char text[65536];
	size_t len = strlen(name);
	char *line;

	if (read_text_file(TRACING "kprobe_profile", text, sizeof(text)) < 0)
		return -1;
	for (line = text; line && *line; line = strchr(line, '\n')) {
		line += *line == '\n';
		line += strspn(line, " ");
		if (!strncmp(line, name, len) && line[len] == ' ')
			return strtoll(line + len, NULL, 10);
	}
	return -1;
}

bool kprobe_count_start(struct kprobe_count *probe, const char *name,
			const char *symbol)
{
	char definition[160], path[160];

	if (access(TRACING "kprobe_events", F_OK) &&
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		tap_diag("mount tracefs: %s", strerror(errno));
		return false;
	}
	snprintf(probe->event, sizeof(probe->event), PROBE_GROUP "/%s", name);
	snprintf(definition, sizeof(definition), "p:%s %s", probe->event, symbol);
	snprintf(path, sizeof(path), TRACING "events/%s/enable", probe->event);
	if (knob_write(TRACING "kprobe_events", definition) || knob_write(path, "1")) {
		tap_diag("kprobe on %s: cannot place or enable it", symbol);
		return false;
	}
	probe->start = kprobe_profile_hits(name);
	if (probe->start < 0) {
		tap_diag("kprobe %s: not in kprobe_profile", probe->event);
		return false;
	}
	return true;
}

long long kprobe_count_read(const struct kprobe_count *probe)
{
	long long hits = kprobe_profile_hits(strchr(probe->event, '/') + 1);

	return hits < 0 ? -1 : hits - probe->start;
}

void kprobe_count_stop(struct kprobe_count *probe)
{
	char path[160], removal[80];

	snprintf(path, sizeof(path), TRACING "events/%s/enable", probe->event);
	snprintf(removal, sizeof(removal), "-:%s", probe->event);
	knob_write(path, "0");
	knob_write(TRACING "kprobe_events", removal);
}
