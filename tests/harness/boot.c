// SPDX-License-Identifier: GPL-2.0
/*
 * boot: check that the NUMA topology the guest sees is the one the harness
 * asked QEMU for, passed on the kernel command line as
 *
 *	harness.topology=<node>:<cpulist>:<MiB>[,<node>:<cpulist>:<MiB>...]
 *
 * e.g. harness.topology=0:0-1:1024,1:2-3:1024.  A cpulist may itself contain
 * commas ("0:0-1,4:1024") since it always ends at the next ':'.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa-util.h"
#include "tap.h"

#define NODE_SYSFS		"/sys/devices/system/node"
#define TOPOLOGY_KEY		"topology"
#define TOPOLOGY_MAX_NODES	64
#define TOPOLOGY_TEXT_MAX	2048
/*
 * The kernel keeps some of each node for itself; on the test kernel,
 * KASAN's shadow (an eighth of all RAM) is taken from node 0 alone, which
 * leaves it about 70% of its memory.
 */
#define MEMTOTAL_MIN_PERCENT	60

struct expected_node {
	unsigned int id;
	struct id_set cpus;
	char cpulist[256];
	unsigned long mib;
};

struct topology {
	unsigned int nr_nodes;
	struct expected_node nodes[TOPOLOGY_MAX_NODES];
};

static void usage(const char *program)
{
	fprintf(stderr,
		"usage: %s\n"
		"Checks the NUMA topology against harness.topology=<node>:<cpulist>:<MiB>[,...]\n"
		"on the kernel command line (or in $HARNESS_CMDLINE).\n",
		program);
}

/* Copy the text at *cursor up to @stop (or the end) and advance past it. */
static int take_field(const char **cursor, char stop, char *field,
		      size_t size, bool stop_required)
{
	const char *end = strchr(*cursor, stop);
	size_t length;

	if (!end) {
		if (stop_required)
			return -EINVAL;
		end = *cursor + strlen(*cursor);
	}
	length = (size_t)(end - *cursor);
	if (length >= size)
		return -EINVAL;
	memcpy(field, *cursor, length);
	field[length] = '\0';
	*cursor = *end ? end + 1 : end;
	return 0;
}

static int parse_one_node(const char **cursor, struct expected_node *node)
{
	char number[32];
	long value;

	if (take_field(cursor, ':', number, sizeof(number), true) ||
	    parse_long(number, 0, ID_SET_MAX - 1, &value))
		return -EINVAL;
	node->id = (unsigned int)value;

	if (take_field(cursor, ':', node->cpulist, sizeof(node->cpulist), true) ||
	    id_set_parse(node->cpulist, &node->cpus))
		return -EINVAL;

	if (take_field(cursor, ',', number, sizeof(number), false) ||
	    parse_long(number, 0, 1L << 30, &value))
		return -EINVAL;
	node->mib = (unsigned long)value;
	return 0;
}

static int parse_topology(const char *text, struct topology *topology)
{
	const char *cursor = text;
	struct id_set seen = { { 0 } };

	memset(topology, 0, sizeof(*topology));
	while (*cursor) {
		struct expected_node *node;

		if (topology->nr_nodes == TOPOLOGY_MAX_NODES)
			return -E2BIG;
		node = &topology->nodes[topology->nr_nodes];
		if (parse_one_node(&cursor, node))
			return -EINVAL;
		if (id_set_test(&seen, node->id))
			return -EEXIST;
		id_set_add(&seen, node->id);
		topology->nr_nodes++;
	}
	return topology->nr_nodes ? 0 : -EINVAL;
}

static void diag_sysfs_list(const char *name)
{
	char path[256], text[1024];
	long ret;

	snprintf(path, sizeof(path), NODE_SYSFS "/%s", name);
	ret = read_text_file(path, text, sizeof(text));
	if (ret < 0)
		tap_diag("seen: %s unreadable: %s", path, strerror((int)-ret));
	else
		tap_diag("seen: %s = \"%s\"", path, text);
}

static void check_online_nodes(const struct topology *topology)
{
	struct id_set expected = { { 0 } }, online;
	char expected_text[512], online_text[1024];
	unsigned int i;
	long ret;

	for (i = 0; i < topology->nr_nodes; i++)
		id_set_add(&expected, topology->nodes[i].id);
	id_set_format(&expected, expected_text, sizeof(expected_text));

	ret = read_text_file(NODE_SYSFS "/online", online_text,
			     sizeof(online_text));
	if (ret < 0) {
		tap_diag("cannot read " NODE_SYSFS "/online: %s",
			 strerror((int)-ret));
		tap_ok(false, "online nodes are %s", expected_text);
		return;
	}
	if (id_set_parse(online_text, &online)) {
		tap_diag("cannot parse " NODE_SYSFS "/online \"%s\"", online_text);
		tap_ok(false, "online nodes are %s", expected_text);
		return;
	}
	tap_diag("online nodes: seen \"%s\", expected \"%s\"", online_text,
		 expected_text);
	tap_ok(id_set_equal(&online, &expected), "online nodes are %s",
	       expected_text);
}

static void check_node_cpulist(const struct expected_node *node)
{
	char path[256], seen_text[1024];
	struct id_set seen;
	long ret;

	snprintf(path, sizeof(path), NODE_SYSFS "/node%u/cpulist", node->id);
	ret = read_text_file(path, seen_text, sizeof(seen_text));
	if (ret < 0) {
		tap_diag("node%u: cannot read %s: %s", node->id, path,
			 strerror((int)-ret));
	} else if (id_set_parse(seen_text, &seen)) {
		tap_diag("node%u: cannot parse %s \"%s\"", node->id, path,
			 seen_text);
		ret = -EINVAL;
	} else {
		tap_diag("node%u: cpulist seen \"%s\", expected \"%s\"",
			 node->id, seen_text, node->cpulist);
	}
	tap_ok(ret >= 0 && id_set_equal(&seen, &node->cpus),
	       "node%u cpulist is \"%s\"", node->id, node->cpulist);
}

/* MemTotal of a node in kB from its sysfs meminfo, or -errno. */
static long long node_memtotal_kb(unsigned int node_id)
{
	char path[256], text[8192];
	const char *field;
	long ret;

	snprintf(path, sizeof(path), NODE_SYSFS "/node%u/meminfo", node_id);
	ret = read_text_file(path, text, sizeof(text));
	if (ret < 0)
		return ret;
	/* "Node 0 MemTotal:        1027364 kB" */
	field = strstr(text, "MemTotal:");
	if (!field)
		return -ENOENT;
	return strtoll(field + strlen("MemTotal:"), NULL, 10);
}

static void check_node_memtotal(const struct expected_node *node)
{
	unsigned long long expected_kb = node->mib * 1024ULL;
	unsigned long long min_kb = expected_kb * MEMTOTAL_MIN_PERCENT / 100;
	long long seen_kb = node_memtotal_kb(node->id);

	if (seen_kb < 0)
		tap_diag("node%u: cannot read MemTotal from "
			 NODE_SYSFS "/node%u/meminfo: %s", node->id, node->id,
			 strerror((int)-seen_kb));
	else
		tap_diag("node%u: MemTotal seen %lld kB (%lld MiB), expected %llu-%llu kB",
			 node->id, seen_kb, seen_kb / 1024, min_kb, expected_kb);

	tap_ok(seen_kb >= 0 && (unsigned long long)seen_kb >= min_kb &&
	       (unsigned long long)seen_kb <= expected_kb,
	       "node%u MemTotal is %d-100%% of %lu MiB", node->id,
	       MEMTOTAL_MIN_PERCENT, node->mib);
}

int main(int argc, char **argv)
{
	static struct topology topology;
	char text[TOPOLOGY_TEXT_MAX];
	unsigned int i;
	int ret;

	if (argc > 1) {
		usage(argv[0]);
		return 2;
	}

	ret = cmdline_harness_get(TOPOLOGY_KEY, text, sizeof(text));
	if (ret) {
		tap_plan(1);
		if (ret == -ENOENT)
			tap_diag("harness.topology= is missing from the kernel command line");
		else if (ret == -ENAMETOOLONG)
			tap_diag("harness.topology= is longer than %d bytes",
				 TOPOLOGY_TEXT_MAX - 1);
		else
			tap_diag("cannot read the kernel command line: %s",
				 strerror(-ret));
		tap_ok(false, "harness.topology is present and valid");
		return tap_done();
	}
	ret = parse_topology(text, &topology);
	if (ret) {
		tap_plan(1);
		tap_diag("harness.topology=\"%s\" is invalid (%s); expected <node>:<cpulist>:<MiB>[,<node>:<cpulist>:<MiB>...] with distinct nodes",
			 text,
			 ret == -EEXIST ? "a node is listed twice" :
			 ret == -E2BIG ? "too many nodes" : "syntax");
		tap_ok(false, "harness.topology is present and valid");
		return tap_done();
	}

	tap_plan(1 + 2 * topology.nr_nodes);
	tap_diag("expected: harness.topology=%s", text);
	diag_sysfs_list("possible");
	diag_sysfs_list("has_memory");
	diag_sysfs_list("has_cpu");

	check_online_nodes(&topology);
	for (i = 0; i < topology.nr_nodes; i++) {
		check_node_cpulist(&topology.nodes[i]);
		check_node_memtotal(&topology.nodes[i]);
	}
	return tap_done();
}
