# SPDX-License-Identifier: GPL-2.0
"""Self-tests of tools/harness/logparse.py over the logs in samples/.

The console samples are written as QEMU captures them (CRLF line ends,
printk time prefixes), the channel samples as init writes them. Each
sample starts with an SPDX comment line, which load() drops, so line
numbers below count from the first real log line; they are looked up by
content (line_of) rather than written down.

Run from the top of the repository:
    python3 -m unittest discover -s tests/host -t .
    python3 tests/host/test_logparse.py
"""

import json
import os
import shutil
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from tools.harness import logparse  # noqa: E402

SAMPLES = os.path.join(TOP, "tests", "host", "samples")
SPDX = "# SPDX-License-Identifier:"
MANIFEST = ["harness/boot", "harness/bulk-migrate-4k", "harness/bulk-migrate-thp"]


def load(name):
    """Lines of samples/@name as the serial port wrote them (``\\r`` kept)."""
    with open(os.path.join(SAMPLES, name), newline="") as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line for line in lines if not line.startswith(SPDX)]


def line_of(lines, fragment):
    """1-based number of the first line of @lines containing @fragment."""
    for number, line in enumerate(lines, 1):
        if fragment in line:
            return number
    raise AssertionError("%r is not in the sample" % fragment)


def by_key(results):
    """{"<suite>/<name>": Result}, failing on duplicate keys."""
    table = {}
    for result in results:
        assert result.key not in table, "duplicate result %s" % result.key
        table[result.key] = result
    return table


def statuses(results):
    """{"<suite>/<name>": status}."""
    return {key: result.status for key, result in by_key(results).items()}


def channel_until(name, fragment):
    """The channel sample @name cut off after the line holding @fragment:
    what is left when the guest dies there."""
    lines = load(name)
    return lines[:line_of(lines, fragment)]


class StripPrefixTest(unittest.TestCase):
    """strip_prefix(): time prefix and \\r go, indentation stays."""

    def test_time_prefix_and_carriage_return(self):
        self.assertEqual(logparse.strip_prefix("[    1.101876]     KTAP version 1\r"),
                         "    KTAP version 1")

    def test_large_timestamp(self):
        self.assertEqual(logparse.strip_prefix("[12345.000001] reboot: Power down\r\n"),
                         "reboot: Power down")

    def test_caller_id(self):
        self.assertEqual(logparse.strip_prefix("[    0.000000][    T0] Linux version 6.12"),
                         "Linux version 6.12")

    def test_line_without_prefix(self):
        self.assertEqual(logparse.strip_prefix("  ok 1 - x\r"), "  ok 1 - x")

    def test_other_brackets_stay(self):
        self.assertEqual(logparse.strip_prefix("[drm] Initialized bochs 1.0.0"),
                         "[drm] Initialized bochs 1.0.0")


class ScanConsoleTest(unittest.TestCase):
    """scan_console(): kinds, line numbers and test windows of findings."""

    def scan(self, name):
        lines = load(name)
        return lines, logparse.scan_console(lines)

    def test_clean_boot_has_no_findings(self):
        lines, findings = self.scan("console_clean.log")
        # The sample does contain the words the scanner must not fall for.
        self.assertGreaterEqual(sum("KASAN" in line for line in lines), 5)
        self.assertEqual(findings, [])

    def test_kunit_failures_are_not_console_findings(self):
        lines, findings = self.scan("console_kunit_fail.log")
        # The message of a failed expectation, unindented, quotes "BUG: KASAN".
        self.assertIn("[    1.102790] BUG: KASAN report", lines[line_of(lines, "BUG: KASAN") - 1])
        self.assertEqual(findings, [])

    def test_same_stamp_only_continues_kunit_messages(self):
        lines = ["[    3.000001]     # case: EXPECTATION FAILED at x.c:1",
                 "[    3.000001] WARNING: quoted by the test",
                 "[    3.000002] WARNING: CPU: 0 PID: 1 at x.c:2 f+0x1/0x2",
                 "[    3.000002] BUG: same stamp, but no KUnit message before it"]
        self.assertEqual([f.line_no for f in logparse.scan_console(lines)], [3, 4])

    def test_warning_in_test_window(self):
        lines, findings = self.scan("console_warning.log")
        self.assertEqual([f.kind for f in findings], ["warning", "call-trace"])
        finding = findings[0]
        self.assertEqual(finding.kind, "warning")
        self.assertEqual(finding.test, "harness/bulk-migrate-4k")
        self.assertEqual(finding.line_no, line_of(lines, "WARNING: CPU: 1 PID: 97"))
        self.assertTrue(finding.text.startswith(
            "WARNING: CPU: 1 PID: 97 at mm/migrate.c:1130 migrate_folio_move"))

    def test_lockdep_circular_locking(self):
        lines, findings = self.scan("console_lockdep.log")
        self.assertEqual([(f.kind, f.test) for f in findings],
                         [("circular-locking", "harness/bulk-migrate-thp"),
                          ("call-trace", "harness/bulk-migrate-thp")])
        self.assertEqual(findings[0].line_no, line_of(lines, "possible circular locking"))

    def test_hung_task_in_unfinished_window(self):
        lines, findings = self.scan("console_hung_task.log")
        self.assertEqual([(f.kind, f.test) for f in findings],
                         [("hung-task", "harness/bulk-migrate-4k"),
                          ("call-trace", "harness/bulk-migrate-4k")])
        self.assertIn("bulk-migrate:118 blocked for more than 30 seconds", findings[0].text)

    def test_oops_then_panic(self):
        lines, findings = self.scan("console_oops_panic.log")
        self.assertEqual([f.kind for f in findings], [
            "general-protection-fault", "call-trace", "kernel-panic", "kernel-panic"])
        self.assertEqual({f.test for f in findings}, {"harness/bulk-migrate-thp"})
        self.assertEqual(findings[2].line_no,
                         line_of(lines, "Kernel panic - not syncing: Fatal exception"))

    def test_crash_during_kunit_is_boot_time(self):
        _, findings = self.scan("console_kunit_crash.log")
        self.assertEqual([f.kind for f in findings],
                         ["bug", "oops", "call-trace", "kernel-panic", "kernel-panic"])
        self.assertEqual({f.test for f in findings}, {None})

    def test_sleeping_bug_after_last_end(self):
        lines, findings = self.scan("console_sleeping_bug.log")
        self.assertEqual([f.kind for f in findings], ["sleeping-in-atomic", "call-trace"])
        self.assertIsNone(findings[0].test)
        self.assertGreater(findings[0].line_no,
                           line_of(lines, "HARNESS: end harness/bulk-migrate-thp"))

    def test_every_pattern(self):
        cases = {
            "watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [bulk-migrate:97]":
                "soft-lockup",
            "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:": "rcu-stall",
            "rcu: INFO: rcu_preempt self-detected stall on CPU": "rcu-stall",
            "UBSAN: array-index-out-of-bounds in mm/migrate.c:812:20": "ubsan",
            "kernel BUG at mm/migrate.c:412!": "kernel-bug",
            "Unable to handle kernel NULL pointer dereference at virtual address 0": (
                "unable-to-handle"),
            "BUG: KASAN: slab-use-after-free in dsa_batch_complete+0x2b/0x60": "kasan",
            "WARNING: inconsistent lock state": "inconsistent-lock-state",
            "WARNING: possible recursive locking detected": "recursive-locking",
            "Kernel panic - not syncing: hung_task: blocked tasks": "kernel-panic",
            "BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 31s!":
                "bug",
        }
        for text, kind in cases.items():
            with self.subTest(text=text):
                findings = logparse.scan_console(["[   20.000000] " + text + "\r"])
                self.assertEqual([f.kind for f in findings], [kind])

    def test_false_positives(self):
        lines = [
            "[    0.000000] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable",
            "[    1.110000]     ok 3 warns_on_BUG_in_KASAN_mode # SKIP no KASAN",
            "[    1.110000] not ok 4 hung_task",
            "[    2.000000] HARNESS: begin locking/hung_task",
            '[    9.000000] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables',
            "[    9.100000] DEBUG: Oopsie-free run",
            # KUnit message lines without time stamps (printk.time=0).
            "    # kmalloc_oob_right: EXPECTATION FAILED at mm/kasan/kasan_test_c.c:170",
            "    KASAN failure expected in \"ptr[size] = 'x'\", but none occurred",
        ]
        self.assertEqual(logparse.scan_console(lines), [])


class GroupFindingsTest(unittest.TestCase):
    """group_findings(): one group per splat, describe() for reports."""

    def test_one_crash_is_one_group(self):
        findings = logparse.scan_console(load("console_kunit_crash.log"))
        groups = logparse.group_findings(findings)
        self.assertEqual(len(groups), 1)
        self.assertEqual(groups[0].kind, "bug")
        text = groups[0].describe()
        self.assertIn("NULL pointer dereference", text.splitlines()[0])
        self.assertIn("Fatal exception in interrupt", text)

    def test_distant_or_other_test_findings_split(self):
        findings = [logparse.Finding("warning", 10, "WARNING: a", "s/a"),
                    logparse.Finding("bug", 20, "BUG: b", "s/a"),
                    logparse.Finding("bug", 500, "BUG: c", "s/a"),
                    logparse.Finding("oops", 505, "Oops: d", "s/b")]
        groups = logparse.group_findings(findings)
        self.assertEqual([[f.line_no for f in g.findings] for g in groups],
                         [[10, 20], [500], [505]])
        self.assertIn("during s/b", groups[2].describe())

    def test_describe_caps_long_groups(self):
        findings = [logparse.Finding("warning", n, "WARNING: %d" % n, None)
                    for n in range(1, 21)]
        text = logparse.group_findings(findings)[0].describe()
        self.assertIn("... %d more" % (20 - logparse.GROUP_SHOWN), text)
        self.assertNotIn("WARNING: 20", text)


class ParseKtapTest(unittest.TestCase):
    """parse_ktap(): one Result per KUnit case, plus crash markers."""

    def test_clean_suites(self):
        results = logparse.parse_ktap(load("console_clean.log"))
        self.assertEqual(statuses(results), {
            "kunit/dsa_migrate_batch/batch_split_test": "pass",
            "kunit/dsa_migrate_batch/batch_sizes_test": "pass",
            "kunit/dsa_migrate_batch/batch_dsa_offload_test": "skip",
            "kunit/dsa_migrate_copy/copy_no_KASAN_report_test": "pass",
            "kunit/dsa_migrate_copy/copy_preserves_contents_test": "pass",
        })
        skip = by_key(results)["kunit/dsa_migrate_batch/batch_dsa_offload_test"]
        self.assertEqual(skip.details,
                         "SKIP: no DSA work queue: idxd cannot probe under TCG")

    def test_same_without_time_prefix(self):
        lines = load("console_clean.log")
        plain = [logparse.strip_prefix(line) for line in lines]
        self.assertEqual(logparse.parse_ktap(plain), logparse.parse_ktap(lines))

    def test_expectation_failure(self):
        table = by_key(logparse.parse_ktap(load("console_kunit_fail.log")))
        split = table["kunit/dsa_migrate_batch/batch_split_test"]
        self.assertEqual(split.status, "fail")
        self.assertEqual(split.details.splitlines(), [
            "# batch_split_test: EXPECTATION FAILED at mm/dsa_migrate_kunit.c:58",
            "Expected nr_batches == 3, but",
            "    nr_batches == 2 (0x2)",
            "# batch_split_test: EXPECTATION FAILED at mm/dsa_migrate_kunit.c:61",
            "Expected report_found to be false, but is true",
            "BUG: KASAN report while splitting a batch of 512 pages"])

    def test_failing_parameter(self):
        table = by_key(logparse.parse_ktap(load("console_kunit_fail.log")))
        sizes = table["kunit/dsa_migrate_batch/batch_sizes_test"]
        self.assertEqual(sizes.status, "fail")
        self.assertIn("ASSERTION FAILED at mm/dsa_migrate_kunit.c:91", sizes.details)
        self.assertIn("not ok 2 64k", sizes.details)
        self.assertNotIn("nr_batches", sizes.details)
        self.assertNotIn("pass:2", sizes.details)
        self.assertEqual(table["kunit/dsa_migrate_batch/batch_dsa_offload_test"].status,
                         "skip")

    def test_suite_that_failed_to_initialize(self):
        table = by_key(logparse.parse_ktap(load("console_kunit_fail.log")))
        self.assertEqual(len(table), 4)
        suite = table["kunit/dsa_migrate_wq/dsa_migrate_wq"]
        self.assertEqual(suite.status, "fail")
        self.assertIn("failed to initialize (-19)", suite.details)

    def test_truncated_by_crash(self):
        results = logparse.parse_ktap(load("console_kunit_crash.log"))
        self.assertEqual(statuses(results), {
            "kunit/dsa_migrate_copy/copy_no_KASAN_report_test": "pass",
            "kunit/dsa_migrate_copy/copy_preserves_contents_test": "pass",
            "kunit/dsa_migrate_batch/batch_split_test": "pass",
            "kunit/dsa_migrate_batch/dsa_migrate_batch": "fail",
            "kunit/suites": "fail",
        })
        table = by_key(results)
        incomplete = table["kunit/dsa_migrate_batch/dsa_migrate_batch"].details
        self.assertTrue(incomplete.startswith("incomplete: planned 4, saw 1 (crash?)"))
        self.assertIn("batch_sizes_test", incomplete)
        self.assertEqual(table["kunit/suites"].details,
                         "incomplete: planned 3 suites, saw 2 (crash?)")

    def test_suite_without_final_line(self):
        lines = ["KTAP version 1", "1..1", "    KTAP version 1",
                 "    # Subtest: s", "    1..2", "    ok 1 a", "    ok 2 b"]
        results = logparse.parse_ktap(lines)
        self.assertEqual(statuses(results),
                         {"kunit/s/a": "pass", "kunit/s/b": "pass", "kunit/s/s": "fail"})
        self.assertIn("incomplete: planned 2, saw 2", results[-1].details)
        self.assertIn("never printed its result line", results[-1].details)

    def test_fewer_cases_than_planned(self):
        lines = ["    KTAP version 1", "    # Subtest: s", "    1..3", "    ok 1 a",
                 "    ok 2 b", "not ok 1 s"]
        results = logparse.parse_ktap(lines)
        self.assertEqual(statuses(results),
                         {"kunit/s/a": "pass", "kunit/s/b": "pass", "kunit/s/s": "fail"})
        self.assertEqual(results[-1].details, "incomplete: planned 3, saw 2 (crash?)")

    def test_no_ktap(self):
        self.assertEqual(logparse.parse_ktap(load("console_warning.log")), [])
        self.assertEqual(logparse.parse_ktap(load("empty.log")), [])

    def test_details_are_capped(self):
        lines = (["KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: s",
                  "    1..1"] + ["    # noisy: line %d" % n for n in range(200)]
                 + ["    not ok 1 noisy", "not ok 1 s"])
        details = logparse.parse_ktap(lines)[0].details.splitlines()
        self.assertEqual(len(details), logparse.MAX_DETAIL_LINES + 1)
        self.assertEqual(details[-1], "... (%d more lines)" % (200 - logparse.MAX_DETAIL_LINES))


class ParseChannelTest(unittest.TestCase):
    """parse_channel(): guest test verdicts, boot/done markers, metrics."""

    @staticmethod
    def parse(lines):
        return logparse.parse_channel(["HARNESS: booted kernel=k"] + lines)

    def single(self, lines, rc=0):
        """The one Result of a test t/x with @lines of output and @rc."""
        report = self.parse(["HARNESS: begin t/x"] + lines
                            + ["HARNESS: end t/x rc=%d seconds=1" % rc])
        self.assertEqual(len(report.results), 1)
        return report.results[0]

    def test_good_log(self):
        report = logparse.parse_channel(load("channel_good.log"))
        self.assertTrue(report.booted)
        self.assertTrue(report.done)
        self.assertEqual(report.kernel, "6.12.117-dsa-migrate")
        self.assertEqual([(r.suite, r.name, r.status) for r in report.results], [
            ("harness", "boot", "pass"),
            ("harness", "bulk-migrate-4k", "pass"),
            ("harness", "bulk-migrate-thp", "skip")])
        self.assertEqual(report.results[1].seconds, 12.0)
        self.assertEqual(report.results[2].details,
                         "SKIP: transparent hugepages are disabled")

    def test_metrics(self):
        report = logparse.parse_channel(load("channel_good.log"))
        self.assertEqual(report.metrics, {
            "harness/bulk-migrate-4k:pages": 16384.0,
            "harness/bulk-migrate-4k:seconds_per_gib": 0.82,
            "harness/bulk-migrate-4k:copy_engine": "cpu"})
        self.assertIsInstance(report.metrics["harness/bulk-migrate-4k:pages"], float)

    def test_bad_log(self):
        report = logparse.parse_channel(load("channel_bad.log"))
        self.assertTrue(report.booted)
        self.assertFalse(report.done)
        self.assertEqual([r.status for r in report.results], ["fail"] * 4)
        self.assertEqual([r.key for r in report.results], [
            "harness/boot", "harness/bulk-migrate-4k", "harness/bulk-migrate-thp",
            "harness/numa-stress"])

    def test_failing_point_with_its_diagnostics(self):
        boot = logparse.parse_channel(load("channel_bad.log")).results[0]
        self.assertEqual(boot.details.splitlines(), [
            "not ok 2 - node1 has cpus 2-3",
            "    # reading /sys/devices/system/node/node1/cpulist",
            '    # node1 cpulist is "2", expected "2-3"',
            "exit code rc=1"])

    def test_plan_mismatch_despite_rc_0(self):
        mismatch = logparse.parse_channel(load("channel_bad.log")).results[1]
        self.assertEqual(mismatch.details.splitlines(), ["planned 5, ran 3", "rc=0"])

    def test_timeout_and_crash(self):
        results = logparse.parse_channel(load("channel_bad.log")).results
        self.assertTrue(results[2].details.startswith(
            "timed out in the guest (rc=124 after 600 s)"))
        self.assertIn("# migrating 32 THPs to node 1", results[2].details)
        self.assertTrue(results[3].details.startswith(
            "never finished (guest crashed or timed out?)"))
        self.assertIsNone(results[3].seconds)

    def test_diagnostics_between_failures_shown_once(self):
        result = self.single(["1..2", "not ok 1 - a", "# between", "not ok 2 - b"], rc=1)
        self.assertEqual(result.details.splitlines(), [
            "not ok 1 - a", "    # between", "not ok 2 - b", "exit code rc=1"])

    def test_sigkill_is_a_timeout(self):
        result = self.single(["TAP version 13", "1..1"], rc=137)
        self.assertEqual(result.status, "fail")
        self.assertIn("timed out in the guest", result.details)

    def test_missing_plan(self):
        result = self.single(["TAP version 13", "ok 1 - a"])
        self.assertEqual(result.status, "fail")
        self.assertIn("no TAP plan was printed", result.details)

    def test_nonzero_exit(self):
        result = self.single(["1..1", "ok 1 - a"], rc=2)
        self.assertEqual((result.status, result.details), ("fail", "exit code rc=2"))

    def test_skip_directive_counts_as_ok(self):
        result = self.single(["1..2", "ok 1 - a", "ok 2 - b # SKIP no device"])
        self.assertEqual(result.status, "pass")

    def test_todo_is_not_a_pass(self):
        result = self.single(["1..2", "ok 1 - a", "not ok 2 - c # TODO later"])
        self.assertEqual(result.status, "fail")
        self.assertEqual(result.details.splitlines()[:2], [
            "not ok 2 - c # TODO later",
            "TODO: later (an expected failure is not a pass)"])
        # A TODO point that passes is an ordinary pass.
        self.assertEqual(self.single(["1..1", "ok 1 - a # TODO later"]).status, "pass")

    def test_all_points_skipped_is_a_skip(self):
        result = self.single(["1..2", "ok 1 - a # SKIP x", "ok 2 - b # SKIP y"])
        self.assertEqual(result.status, "skip")
        result = self.single(["1..0 # SKIP no hardware"], rc=logparse.KSFT_SKIP)
        self.assertEqual((result.status, result.details), ("skip", "SKIP: no hardware"))

    def test_nested_points_are_not_counted(self):
        result = self.single(["1..1", "    1..2", "    not ok 1 - inner",
                              "    ok 2 - inner", "ok 1 - outer"])
        self.assertEqual(result.status, "pass")

    def test_begin_without_end_then_next_test(self):
        report = self.parse(["HARNESS: begin t/a", "1..1",
                             "HARNESS: begin t/b", "1..1", "ok 1 - b",
                             "HARNESS: end t/b rc=0 seconds=2", "HARNESS: done"])
        self.assertEqual(statuses(report.results), {"t/a": "fail", "t/b": "pass"})
        self.assertIn("never finished", report.results[0].details)
        self.assertTrue(report.done)

    def test_end_without_begin(self):
        report = self.parse(["HARNESS: end t/z rc=0 seconds=0"])
        self.assertEqual(report.results[0].status, "fail")
        self.assertIn("end marker without begin", report.results[0].details)

    def test_metric_values(self):
        report = self.parse(["HARNESS: begin t/m", "# metric a=1e3", "# metric b=-2.5",
                             "# metric c=12ms", "# metric d=nan",
                             "HARNESS: end t/m rc=0 seconds=0"])
        self.assertEqual(report.metrics, {"t/m:a": 1000.0, "t/m:b": -2.5,
                                          "t/m:c": "12ms", "t/m:d": "nan"})

    def test_never_booted(self):
        report = logparse.parse_channel(load("empty.log"))
        self.assertEqual((report.booted, report.done, report.results, report.metrics),
                         (False, False, [], {}))


class CombineTest(unittest.TestCase):
    """combine(): everything one guest run says, as results and metrics."""

    def combine(self, console, channel, **kwargs):
        console = load(console) if isinstance(console, str) else console
        channel = load(channel) if isinstance(channel, str) else channel
        return logparse.combine(console, channel, **kwargs)

    def test_clean_run(self):
        results, metrics = self.combine("console_clean.log", "channel_good.log",
                                        expected=MANIFEST, qemu_status="exit")
        table = statuses(results)
        self.assertEqual(len(table), 11)
        self.assertEqual([k for k, v in table.items() if v == "skip"], [
            "kunit/dsa_migrate_batch/batch_dsa_offload_test", "harness/bulk-migrate-thp"])
        for name in ("guest-boot", "guest-finished", "console-clean"):
            self.assertEqual(table["harness/" + name], "pass")
        self.assertEqual(logparse.summary_line(results), "9 passed, 0 failed, 2 skipped")
        self.assertEqual(metrics["harness/bulk-migrate-4k:pages"], 16384.0)

    def test_warning_fails_its_test(self):
        results, _ = self.combine("console_warning.log", "channel_good.log")
        table = by_key(results)
        lines = load("console_warning.log")
        blamed = table["harness/bulk-migrate-4k"]
        self.assertEqual(blamed.status, "fail")
        self.assertIn("warning at console line %d during harness/bulk-migrate-4k"
                      % line_of(lines, "WARNING: CPU"), blamed.details)
        self.assertIn("mm/migrate.c:1130", blamed.details)
        self.assertEqual(table["harness/boot"].status, "pass")
        self.assertEqual(table["harness/guest-finished"].status, "pass")
        self.assertEqual(table["harness/console-clean"].status, "fail")
        self.assertIn("mm/migrate.c:1130", table["harness/console-clean"].details)

    def test_lockdep_turns_a_skip_into_a_fail(self):
        results, _ = self.combine("console_lockdep.log", "channel_good.log")
        thp = by_key(results)["harness/bulk-migrate-thp"]
        self.assertEqual(thp.status, "fail")
        self.assertIn("circular-locking", thp.details)
        self.assertIn("SKIP: transparent hugepages are disabled", thp.details)

    def test_panic_in_a_test(self):
        channel = channel_until("channel_good.log", "HARNESS: begin harness/bulk-migrate-thp")
        results, _ = self.combine("console_oops_panic.log", channel,
                                  expected=MANIFEST, qemu_status="crash")
        table = by_key(results)
        thp = table["harness/bulk-migrate-thp"]
        self.assertEqual(thp.status, "fail")
        self.assertIn("never finished", thp.details)
        self.assertIn("general-protection-fault", thp.details)
        finished = table["harness/guest-finished"]
        self.assertEqual(finished.status, "fail")
        self.assertIn("no HARNESS: done", finished.details)
        self.assertIn("QEMU status: crash", finished.details)
        self.assertIn("kernel panic at console line %d" % line_of(
            load("console_oops_panic.log"), "Kernel panic"), finished.details)
        self.assertEqual(table["harness/guest-boot"].status, "pass")
        self.assertEqual(table["harness/boot"].status, "pass")

    def test_hung_task_and_qemu_timeout(self):
        channel = channel_until("channel_good.log", "HARNESS: begin harness/bulk-migrate-4k")
        results, metrics = self.combine("console_hung_task.log", channel,
                                        expected=MANIFEST, qemu_status="timeout")
        table = statuses(results)
        self.assertEqual(table["harness/bulk-migrate-4k"], "fail")
        self.assertEqual(table["harness/bulk-migrate-thp"], "fail")
        self.assertEqual(by_key(results)["harness/bulk-migrate-thp"].details, "never ran")
        self.assertIn("QEMU status: timeout", by_key(results)["harness/guest-finished"].details)
        self.assertEqual(metrics, {})

    def test_guest_that_never_powers_off(self):
        results, _ = self.combine("console_clean.log", "channel_good.log",
                                  expected=MANIFEST, qemu_status="poweroff")
        finished = by_key(results)["harness/guest-finished"]
        self.assertEqual(finished.status, "fail")
        self.assertIn("did not power off", finished.details)
        self.assertEqual(statuses(results)["harness/bulk-migrate-4k"], "pass")

    def test_kunit_results_are_included(self):
        results, _ = self.combine("console_kunit_fail.log", "channel_good.log")
        self.assertEqual(logparse.summary_line(results), "5 passed, 3 failed, 2 skipped")

    def test_crash_during_kunit(self):
        results, _ = self.combine("console_kunit_crash.log", "empty.log")
        table = by_key(results)
        boot = table["harness/guest-boot"]
        self.assertEqual(boot.status, "fail")
        self.assertIn("end Kernel panic - not syncing", boot.details.splitlines()[-1])
        self.assertEqual(table["kunit/dsa_migrate_batch/dsa_migrate_batch"].status, "fail")
        self.assertIn("bug at console line", table["harness/console-clean"].details)

    def test_sleeping_bug_blames_no_test(self):
        results, _ = self.combine("console_sleeping_bug.log", "channel_good.log")
        table = statuses(results)
        self.assertEqual(table["harness/console-clean"], "fail")
        self.assertEqual([k for k, v in table.items() if v == "fail"],
                         ["harness/console-clean"])

    def test_never_booted(self):
        results, metrics = self.combine("empty.log", "empty.log",
                                        expected=MANIFEST, qemu_status="timeout")
        table = by_key(results)
        self.assertIn("console log is empty", table["harness/guest-boot"].details)
        self.assertEqual(table["harness/console-clean"].status, "pass")
        for name in MANIFEST:
            self.assertEqual((table[name].status, table[name].details), ("fail", "never ran"))
        self.assertEqual(logparse.summary_line(results), "1 passed, 5 failed")
        self.assertEqual(metrics, {})

    def test_expected_tests_that_ran_are_not_doubled(self):
        expected = MANIFEST + ["harness/numa-stress", "harness/bulk-migrate-huge"]
        results, _ = self.combine("console_clean.log", "channel_bad.log", expected=expected)
        keys = [r.key for r in results]
        self.assertEqual(keys.count("harness/numa-stress"), 1)
        self.assertEqual(by_key(results)["harness/bulk-migrate-huge"].details, "never ran")


class ReportTest(unittest.TestCase):
    """Result, summary_line() and write_results()."""

    def setUp(self):
        self.results = [logparse.Result("a", "one", "pass"),
                        logparse.Result("a", "two", "fail", "boom", 1.5),
                        logparse.Result("b", "three", "skip", "SKIP: x")]

    def test_summary_line(self):
        self.assertEqual(logparse.summary_line(self.results), "1 passed, 1 failed, 1 skipped")
        self.assertEqual(logparse.summary_line(self.results[:2]), "1 passed, 1 failed")
        self.assertEqual(logparse.summary_line([]), "0 passed, 0 failed")

    def test_result(self):
        self.assertEqual(self.results[1].to_json_dict(), {
            "suite": "a", "name": "two", "status": "fail", "details": "boom",
            "seconds": 1.5})
        self.assertEqual(self.results[1].key, "a/two")
        with self.assertRaises(ValueError):
            logparse.Result("a", "b", "ok")

    def test_write_results(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "results.json")
        logparse.write_results(path, self.results, {"a/one:x": 2.0}, {"kernel": "k"})
        with open(path) as handle:
            document = json.load(handle)
        self.assertEqual(os.listdir(directory), ["results.json"])
        self.assertEqual(document["meta"], {"kernel": "k"})
        self.assertEqual(document["metrics"], {"a/one:x": 2.0})
        self.assertEqual(document["summary"], {"passed": 1, "failed": 1, "skipped": 1})
        self.assertEqual([t["name"] for t in document["tests"]], ["one", "two", "three"])
        self.assertEqual(set(document["tests"][0]),
                         {"suite", "name", "status", "details", "seconds"})



def channel(*tests, done=True):
    """Channel lines of a booted guest that ran @tests: (id, [TAP lines], rc)."""
    lines = ["HARNESS: booted kernel=6.12.117-dsa-migrate"]
    for test_id, output, rc in tests:
        lines += (["HARNESS: begin " + test_id] + output
                  + ["HARNESS: end %s rc=%d seconds=1" % (test_id, rc)])
    return lines + (["HARNESS: done"] if done else [])


class NewPatternsTest(unittest.TestCase):
    """The console kinds added for OOM, allocation failures, UBSAN,
    refcounts, list and slab corruption, and bare backtraces."""

    def kinds(self, text):
        return [f.kind for f in logparse.scan_console(["[   20.000000] " + text + "\r"])]

    def test_every_new_pattern(self):
        cases = {
            "bulk-migrate invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE), order=0":
                "oom",
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=bulk-migrate,pid=131":
                "oom",
            "Out of memory: Killed process 131 (bulk-migrate) total-vm:2099200kB": "oom",
            "Memory cgroup out of memory: Killed process 140 (stress) total-vm:1024kB": "oom",
            "copy-engine: page allocation failure: order:9, mode:0x140cca(GFP_HIGHUSER_MOVABLE)":
                "page-allocation-failure",
            "UBSAN: shift-out-of-bounds in mm/migrate_copy.c:212:9": "ubsan",
            "refcount_t: underflow; use-after-free.": "refcount",
            "refcount_t: saturated; leaking memory.": "refcount",
            "list_del corruption, ffff888004a1d200->next is LIST_POISON1 (dead000000000100)":
                "list-corruption",
            "list_add corruption. prev->next should be next (ffff888004a1d230), but was 0":
                "list-corruption",
            "list_add double add: new=ffff888004a1d200, prev=ffff888004a1d200, next=0":
                "list-corruption",
            "BUG kmalloc-64 (Not tainted): Poison overwritten": "slab-corruption",
            "BUG kmalloc-1k (Tainted: G    B   W          ): Object already free":
                "slab-corruption",
            "Call Trace:": "call-trace",
        }
        for text, kind in cases.items():
            with self.subTest(text=text):
                self.assertEqual(self.kinds(text), [kind])

    def test_benign_lines_stay_clean(self):
        for text in ["RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable",
                     "Memory: 2012345K/2096632K available (18432K kernel code)",
                     "kasan: KernelAddressSanitizer initialized (generic)",
                     "[  pid  ]   uid  tgid total_vm      rss oom_score_adj name",
                     "BUGS: none known", "refcount_t tests skipped",
                     "stack backtrace:", "    Call Trace: quoted by a KUnit case"]:
            with self.subTest(text=text):
                self.assertEqual(self.kinds(text), [])

    def test_clean_samples_stay_clean(self):
        for name in ("console_clean.log", "console_kunit_fail.log"):
            with self.subTest(sample=name):
                self.assertEqual(logparse.scan_console(load(name)), [])

    def test_call_trace_quotes_its_functions(self):
        lines = load("console_kasan_control.log")
        traces = [f for f in logparse.scan_console(lines) if f.kind == "call-trace"]
        # "?" guesses and dump_stack_lvl are left out.
        self.assertEqual([f.text for f in traces], [
            "Call Trace: print_report < kasan_report < mc_test_copy_folio < migrate_copy_run",
            "Call Trace: mc_test_copy_batch < migrate_copy_run"])

    def test_incremental_scanner_matches_scan_console(self):
        lines = load("console_oops_panic.log")
        scanner = logparse.ConsoleScanner()
        fed = [scanner.feed(line) for line in lines]
        self.assertEqual([f for f in fed if f], logparse.scan_console(lines))
        self.assertEqual(logparse.classify_line(lines[line_of(lines, "Kernel panic") - 1]),
                         "kernel-panic")


class CallTraceGroupTest(unittest.TestCase):
    """A backtrace belongs to the report before it; alone it is a
    "call-trace" finding (a bare dump_stack())."""

    def test_bare_dump_stack_is_a_call_trace_group(self):
        groups = logparse.group_findings(logparse.scan_console(load("console_kasan_control.log")))
        self.assertEqual([(g.kind, g.test) for g in groups],
                         [("kasan", "core/kasan-control"), ("call-trace", "core/offload-4k")])
        self.assertIn("call-trace at console line", groups[1].describe())

    def test_trace_joins_a_long_report(self):
        findings = [logparse.Finding("circular-locking", 10, "WARNING: possible circular", "t/a"),
                    logparse.Finding("call-trace", 10 + logparse.GROUP_GAP + 50,
                                     "Call Trace: f", "t/a")]
        groups = logparse.group_findings(findings)
        self.assertEqual([g.kind for g in groups], ["circular-locking"])
        far = [findings[0], logparse.Finding("call-trace", 10 + logparse.TRACE_GAP + 1,
                                             "Call Trace: g", "t/a")]
        self.assertEqual([g.kind for g in logparse.group_findings(far)],
                         ["circular-locking", "call-trace"])

    def test_report_after_a_trace_names_the_group(self):
        findings = [logparse.Finding("call-trace", 5, "Call Trace: f", None),
                    logparse.Finding("warning", 9, "WARNING: CPU: 0 PID: 1 at x.c:2", None)]
        group = logparse.group_findings(findings)[0]
        self.assertEqual(group.kind, "warning")
        self.assertTrue(group.describe().startswith("warning at console line 9"))

    def test_describe_shows_one_trace(self):
        group = logparse.group_findings(logparse.scan_console(load("console_soft_lockup.log")))[0]
        text = group.describe()
        self.assertEqual(text.count("Call Trace"), 1)
        self.assertIn("Call Trace: mc_dsa_wait_batch < mc_dsa_copy_batch", text)
        self.assertIn("Kernel panic - not syncing: softlockup: hung tasks", text)


class TodoTest(unittest.TestCase):
    """``not ok ... # TODO`` is a failure in KTAP too."""

    def test_ktap_todo_fails(self):
        lines = ["    KTAP version 1", "    # Subtest: s", "    1..2", "    ok 1 a",
                 "    not ok 2 b # TODO not done", "not ok 1 s"]
        table = by_key(logparse.parse_ktap(lines))
        self.assertEqual(table["kunit/s/b"].status, "fail")
        self.assertEqual(table["kunit/s/b"].details,
                         "TODO: not done (an expected failure is not a pass)")
        self.assertNotIn("kunit/s/s", table)

    def test_channel_todo_fails_its_test(self):
        results, _ = logparse.combine([], channel(
            ("t/x", ["1..1", "not ok 1 - y # TODO flaky"], 0)))
        result = by_key(results)["t/x"]
        self.assertEqual(result.status, "fail")
        self.assertIn("TODO: flaky (an expected failure is not a pass)", result.details)


class HangTest(unittest.TestCase):
    """qemu_status "hang": run.py stopped the guest after a hang report."""

    def test_hang_fails_the_running_test_and_guest_finished(self):
        lines = load("console_soft_lockup.log")
        results, _ = logparse.combine(
            lines, channel(("harness/boot", ["1..1", "ok 1 - b"], 0), done=False)
            + ["HARNESS: begin dma/timeout-4k", "1..3", "ok 1 - a"],
            expected=["harness/boot", "dma/timeout-4k", "dma/late-4k"], qemu_status="hang")
        table = by_key(results)
        finished = table["harness/guest-finished"].details
        self.assertIn("hang detected: watchdog: BUG: soft lockup - CPU#2 stuck for 22s! "
                      "[dma-engine:142] (console line %d)"
                      % line_of(lines, "soft lockup"), finished)
        self.assertNotIn("QEMU status", finished)
        running = table["dma/timeout-4k"]
        self.assertEqual(running.status, "fail")
        self.assertIn("soft-lockup at console line", running.details)
        self.assertIn("never finished", running.details)
        self.assertEqual(table["dma/late-4k"].details, "never ran")
        self.assertEqual(table["harness/boot"].status, "pass")

    def test_hung_task_named(self):
        results, _ = logparse.combine(load("console_hung_task.log"), [], qemu_status="hang")
        self.assertIn("hang detected: INFO: task bulk-migrate:118 blocked for more than",
                      by_key(results)["harness/guest-finished"].details)

    def test_hang_without_report(self):
        results, _ = logparse.combine([], [], qemu_status="hang")
        self.assertIn("hang detected (but no hang report",
                      by_key(results)["harness/guest-finished"].details)


class OomTest(unittest.TestCase):
    """An OOM kill in a test's window is named as such."""

    def test_oom_kill_named_first(self):
        results, _ = logparse.combine(load("console_oom.log"), channel(
            ("harness/boot", ["1..1", "ok 1 - b"], 0),
            ("harness/bulk-migrate-4k", ["1..1", "ok 1 - m"], 0),
            ("harness/bulk-migrate-thp", ["1..2", "ok 1 - a"], 137)))
        table = by_key(results)
        thp = table["harness/bulk-migrate-thp"]
        self.assertEqual(thp.status, "fail")
        self.assertEqual(thp.details.splitlines()[:2],
                         ["killed by the OOM killer", "console:"])
        self.assertIn("timed out in the guest (rc=137", thp.details)
        self.assertEqual(table["harness/bulk-migrate-4k"].status, "pass")
        self.assertEqual(table["harness/console-clean"].status, "fail")

    def test_other_findings_are_not_called_oom(self):
        results, _ = logparse.combine(load("console_warning.log"), load("channel_good.log"))
        self.assertNotIn("OOM", by_key(results)["harness/bulk-migrate-4k"].details)


class ExpectConsoleTest(unittest.TestCase):
    """``# expect-console <kind>``: negative controls that need a report."""

    CONTROL = ("core/kasan-control", ["1..1", "# expect-console kasan",
                                      "ok 1 - the engine wrote a freed page"], 0)
    OTHER = ("core/offload-4k", ["1..1", "ok 1 - offloaded"], 0)

    def run_control(self, console, control=CONTROL):
        results, _ = logparse.combine(load(console), channel(control, self.OTHER))
        return by_key(results)

    def test_expected_report_is_accepted(self):
        table = self.run_control("console_kasan_control.log")
        control = table["core/kasan-control"]
        self.assertEqual(control.status, "pass")
        self.assertIn("console (expected):", control.details)
        self.assertIn("BUG: KASAN: slab-use-after-free", control.details)
        # The bare dump_stack() in the other test still fails it, and only it
        # is left in console-clean.
        self.assertEqual(table["core/offload-4k"].status, "fail")
        self.assertIn("call-trace", table["core/offload-4k"].details)
        clean = table["harness/console-clean"]
        self.assertEqual(clean.status, "fail")
        self.assertNotIn("KASAN", clean.details)
        self.assertIn("call-trace", clean.details)

    def test_parse_channel_records_expectations(self):
        report = logparse.parse_channel(channel(self.CONTROL))
        self.assertEqual(report.expect_console, {"core/kasan-control": ["kasan"]})
        self.assertEqual(report.results[0].status, "pass")

    def test_without_announcement_the_report_fails(self):
        plain = ("core/kasan-control", ["1..1", "ok 1 - the engine wrote a freed page"], 0)
        table = self.run_control("console_kasan_control.log", plain)
        self.assertEqual(table["core/kasan-control"].status, "fail")
        self.assertIn("KASAN", table["harness/console-clean"].details)

    def test_missing_report_fails(self):
        table = self.run_control("console_clean.log")
        control = table["core/kasan-control"]
        self.assertEqual(control.status, "fail")
        self.assertEqual(control.details,
                         "expected a kasan report on the console, none came")

    def test_other_kinds_still_fail(self):
        control = ("core/kasan-control", ["1..1", "# expect-console oops", "ok 1 - x"], 0)
        details = self.run_control("console_kasan_control.log", control)[
            "core/kasan-control"].details
        self.assertIn("expected a oops report on the console, none came", details)
        self.assertIn("kasan at console line", details)

    def test_unknown_kind_fails(self):
        control = ("core/kasan-control", ["1..1", "# expect-console kasn", "ok 1 - x"], 0)
        result = self.run_control("console_kasan_control.log", control)["core/kasan-control"]
        self.assertEqual(result.status, "fail")
        self.assertIn("# expect-console kasn: no such kind", result.details)


class KnownFailuresTest(unittest.TestCase):
    """tests/known-failures: strict expected failures."""

    def test_parse(self):
        entries, problems = logparse.parse_known_failures([
            "# comment", "", "harness/bulk-migrate-4k 7 DSA timeout under TCG  ",
            "dma/late-4k #12 races the quarantine", "dma/error-4k x12 bad issue",
            "dma/delay-4k 3", "nosuite 4 reason", "dma/late-4k 13 again"])
        self.assertEqual(entries, {
            "harness/bulk-migrate-4k": logparse.KnownFailure(7, "DSA timeout under TCG"),
            "dma/late-4k": logparse.KnownFailure(12, "races the quarantine")})
        self.assertEqual([p.split(":")[0] for p in problems],
                         ["line 5", "line 6", "line 7", "line 8"])
        self.assertIn("listed twice", problems[-1])

    def test_apply(self):
        results = [logparse.Result("a", "fails", "fail", "rc=1"),
                   logparse.Result("a", "passes", "pass"),
                   logparse.Result("a", "skips", "skip", "SKIP: x"),
                   logparse.Result("a", "other", "fail", "boom")]
        known = {"a/%s" % name: logparse.KnownFailure(4, "why")
                 for name in ("fails", "passes", "skips")}
        self.assertEqual(logparse.apply_known_failures(results, known), {"a/fails"})
        table = by_key(results)
        self.assertEqual((table["a/fails"].status, table["a/fails"].details),
                         ("skip", "known failure, issue #4: why\nrc=1"))
        self.assertTrue(logparse.is_known_failure(table["a/fails"]))
        self.assertEqual(table["a/passes"].status, "fail")
        self.assertEqual(table["a/passes"].details,
                         "listed in tests/known-failures but passed: remove the entry (issue #4)")
        self.assertEqual(table["a/skips"].status, "skip")
        self.assertFalse(logparse.is_known_failure(table["a/skips"]))
        self.assertEqual(table["a/other"].status, "fail")

    def test_console_findings_of_a_known_failure(self):
        known = {"harness/bulk-migrate-4k": logparse.KnownFailure(7, "DSA timeout")}
        results, _ = logparse.combine(load("console_warning.log"), load("channel_good.log"),
                                      known=known)
        table = by_key(results)
        xfail = table["harness/bulk-migrate-4k"]
        self.assertEqual(xfail.status, "skip")
        self.assertTrue(xfail.details.startswith("known failure, issue #7: DSA timeout\n"))
        self.assertIn("warning at console line", xfail.details)
        self.assertEqual(table["harness/console-clean"].status, "pass")
        self.assertEqual(logparse.summary_line(results).split(",")[1], " 0 failed")

    def test_listed_test_that_passes_fails(self):
        known = {"harness/boot": logparse.KnownFailure(3, "numa")}
        results, _ = logparse.combine(load("console_clean.log"), load("channel_good.log"),
                                      known=known)
        self.assertIn("but passed: remove the entry", by_key(results)["harness/boot"].details)
        self.assertEqual(by_key(results)["harness/boot"].status, "fail")


class KunitSuitesTest(unittest.TestCase):
    """combine(kunit_suites=...): an expected suite that printed nothing fails."""

    def test_absent_suite_fails(self):
        results, _ = logparse.combine(
            load("console_clean.log"), load("channel_good.log"),
            kunit_suites=["dsa_migrate_batch", "dsa_migrate_copy", "list-kunit-test"])
        table = by_key(results)
        self.assertEqual((table["kunit/list-kunit-test"].status,
                          table["kunit/list-kunit-test"].details),
                         ("fail", "expected KUnit suite never reported"))
        self.assertNotIn("kunit/dsa_migrate_batch", table)

    def test_failed_suite_counts_as_reported(self):
        results, _ = logparse.combine(load("console_kunit_fail.log"), [],
                                      kunit_suites=["dsa_migrate_wq", "dsa_migrate_batch"])
        self.assertEqual([r.key for r in results if r.details ==
                          "expected KUnit suite never reported"], [])

    def test_no_ktap_at_all(self):
        results, _ = logparse.combine(load("empty.log"), [], kunit_suites=["a", "b"])
        self.assertEqual([r.key for r in results if r.suite == "kunit"], ["kunit/a", "kunit/b"])


class MetricTotalsTest(unittest.TestCase):
    """reliability_* metrics are summed over tests into a top-level metric."""

    def test_metric_totals(self):
        metrics = {"r/a:reliability_bytes_moved": 100.0, "r/b:reliability_bytes_moved": 28.0,
                   "r/b:reliability_faults": 2.0, "r/c:reliability_note": "n/a",
                   "r/a:pages": 5.0, "harness:guest_seconds": 3.0}
        self.assertEqual(logparse.metric_totals(metrics),
                         {"reliability_bytes_moved": 128.0, "reliability_faults": 2.0})

    def test_combine_adds_totals(self):
        _, metrics = logparse.combine([], channel(
            ("r/a", ["1..1", "ok 1 - x", "# metric reliability_bytes_moved=4096"], 0),
            ("r/b", ["1..1", "ok 1 - y", "# metric reliability_bytes_moved=8192",
                     "# metric pages=2"], 0)))
        self.assertEqual(metrics["reliability_bytes_moved"], 12288.0)
        self.assertEqual(metrics["r/a:reliability_bytes_moved"], 4096.0)
        self.assertNotIn("pages", metrics)


if __name__ == "__main__":
    unittest.main()
