# SPDX-License-Identifier: GPL-2.0
"""Self-tests of tools/harness/run.py: the QEMU command line, hang
detection, the guest's time limit, ONLY=, expected KUnit suites and known
failures, up to a whole `run.py test` against fake_qemu.py, a stand-in for
QEMU that plays sample logs (no kernel, no guest).

Run from the top of the repository:
    python3 -m unittest discover -s tests/host -t .
"""

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
from unittest import mock

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from tools.harness import logparse, run  # noqa: E402

FAKE_QEMU = os.path.join(TOP, "tests", "host", "fake_qemu.py")
MANIFEST = """# a manifest for the self-tests
harness/boot              60  boot
harness/bulk-migrate-4k  600  bulk-migrate --kind 4k
harness/bulk-migrate-thp 600  bulk-migrate --kind thp
"""
CHANNEL = [
    "HARNESS: booted kernel=6.12.117-dsa-migrate",
    "HARNESS: begin harness/boot", "1..1", "ok 1 - nodes",
    "# metric reliability_bytes_moved=4096",
    "HARNESS: end harness/boot rc=0 seconds=0",
    "HARNESS: begin harness/bulk-migrate-4k", "1..1", "ok 1 - moved",
    "# metric reliability_bytes_moved=8192",
    "HARNESS: end harness/bulk-migrate-4k rc=0 seconds=12",
    "HARNESS: begin harness/bulk-migrate-thp", "1..1", "ok 1 - moved",
    "HARNESS: end harness/bulk-migrate-thp rc=0 seconds=1",
    "HARNESS: done"]


class QemuCommandTest(unittest.TestCase):
    """qemu_command(): a stuck kernel panics instead of waiting."""

    def test_panic_on_hangs(self):
        cmd = run.qemu_command("bzImage", "initrd", "/tmp/out", "test", "*")
        append = cmd[cmd.index("-append") + 1].split()
        for word in ("init_on_free=1", "kasan_multi_shot", "hung_task_panic=1",
                     "softlockup_panic=1",
                     "sysctl.kernel.panic_on_rcu_stall=1",
                     "rcupdate.rcu_cpu_stall_timeout=60", "panic=-1"):
            self.assertIn(word, append)
        self.assertIn("-no-reboot", cmd)


class GuestWatchTest(unittest.TestCase):
    """GuestWatch: when a run is over, and how it ended."""

    def watch(self, timeout=100):
        return run.GuestWatch(start=0.0, timeout=timeout)

    def test_exit_crash_timeout(self):
        watch = self.watch()
        self.assertIsNone(watch.status(None, 50))
        self.assertEqual(watch.status(0, 50), "exit")
        self.assertEqual(watch.status(1, 50), "crash")
        self.assertEqual(watch.status(None, 101), "timeout")

    def test_panic_gets_a_grace_period(self):
        watch = self.watch()
        watch.console(["[   9.0] Kernel panic - not syncing: Fatal exception"], 10)
        self.assertIsNone(watch.status(None, 10 + run.PANIC_GRACE_S - 1))
        self.assertEqual(watch.status(None, 10 + run.PANIC_GRACE_S + 1), "crash")

    def test_each_hang_kind_stops_the_guest(self):
        for line in ("INFO: task bulk-migrate:118 blocked for more than 30 seconds.",
                     "watchdog: BUG: soft lockup - CPU#2 stuck for 22s! [dma-engine:142]",
                     "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"):
            with self.subTest(line=line):
                watch = self.watch()
                watch.console(["[   20.000000] boot line", "[   62.1] " + line + "\r"], 20)
                self.assertEqual(watch.hang.text, line)
                self.assertIsNone(watch.status(None, 20 + run.HANG_GRACE_S - 1))
                self.assertEqual(watch.status(None, 20 + run.HANG_GRACE_S), "hang")

    def test_hang_then_kernel_panic_and_exit(self):
        watch = self.watch()
        watch.console(["[ 62.1] INFO: task x:1 blocked for more than 30 seconds.",
                       "[ 62.2] Kernel panic - not syncing: hung_task: blocked tasks"], 20)
        # panic=-1 and -no-reboot: QEMU exits 0 right after the panic.
        self.assertEqual(watch.status(0, 21), "hang")
        self.assertEqual(self.watch().status(0, 21), "exit")

    def test_hang_beats_the_time_limit(self):
        watch = self.watch(timeout=10)
        watch.console(["[ 9.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [x:1]"], 9)
        self.assertIsNone(watch.status(None, 9.5))
        self.assertEqual(watch.status(None, 9 + run.HANG_GRACE_S), "hang")

    def test_done_guest_gets_time_to_power_off(self):
        watch = self.watch()
        watch.channel(["ok 3 - teardown", "HARNESS: end x/y rc=1 seconds=2"], 10)
        self.assertIsNone(watch.status(None, 10 + run.POWEROFF_GRACE_S + 1))
        watch.channel(["HARNESS: done"], 20)
        self.assertIsNone(watch.status(None, 20 + run.POWEROFF_GRACE_S))
        self.assertEqual(watch.status(0, 20 + run.POWEROFF_GRACE_S), "exit")
        self.assertEqual(watch.status(None, 20 + run.POWEROFF_GRACE_S + 1), "poweroff")

    def test_hint_line_is_no_hang(self):
        watch = self.watch()
        watch.console(['[ 62.1] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables',
                       "[ 62.2]     # case: blocked for more than 30 seconds (KUnit text)"], 20)
        self.assertIsNone(watch.hang)
        self.assertIsNone(watch.status(None, 20 + run.HANG_GRACE_S + 1))


class TestsDirCase(unittest.TestCase):
    """A temporary tests/ directory (manifest, kunit-suites,
    known-failures) and a fake QEMU; stdout captured."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        tests = os.path.join(self.dir, "tests")
        os.mkdir(tests)
        self.write("tests/manifest", MANIFEST)
        self.write("tests/stress-manifest", "lockrule/loop-stress-long 900 loop-stress\n")
        self.write("tests/kunit-suites", "# suites\nmigrate_copy_auto\n")
        self.write("tests/known-failures", "# none\n")
        self.qemu = self.write("qemu", '#!/bin/sh\nexec "%s" "%s" "$@"\n'
                               % (sys.executable, FAKE_QEMU))
        os.chmod(self.qemu, 0o755)
        self.argv = os.path.join(self.dir, "qemu-argv")
        for name, value in (("TESTS", tests),
                            ("KNOWN_FAILURES", os.path.join(tests, "known-failures")),
                            ("KUNIT_SUITES", os.path.join(tests, "kunit-suites")),
                            ("POLL_S", 0.05), ("HANG_GRACE_S", 1.0)):
            patcher = mock.patch.object(run, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def args(self, **kwargs):
        values = dict(kernel="bzImage", initrd="initrd", outdir=os.path.join(self.dir, "guest"),
                      only="*", manifest="manifest", qemu=self.qemu, copy="dsa",
                      timeout=2400, results=os.path.join(self.dir, "results.json"),
                      static=[], off_kernel=None, off_initrd=None)
        values.update(kwargs)
        return argparse.Namespace(**values)

    def plan(self, *steps):
        """Make the fake QEMU play @steps (see fake_qemu.py)."""
        patcher = mock.patch.dict(os.environ, {"FAKE_QEMU": json.dumps(
            {"argv": self.argv, "steps": list(steps)})})
        patcher.start()
        self.addCleanup(patcher.stop)

    def results(self):
        with open(os.path.join(self.dir, "results.json")) as handle:
            document = json.load(handle)
        return {"%s/%s" % (t["suite"], t["name"]): t for t in document["tests"]}, document

    def cmd_test(self, args):
        """run.cmd_test(@args) without the host self-tests (they would run
        this file again): (exit code, stdout)."""
        out = io.StringIO()
        with mock.patch.object(run, "host_selftests", return_value=[]), \
                contextlib.redirect_stdout(out):
            code = run.cmd_test(args)
        return code, out.getvalue()


class GuestTimeoutTest(TestsDirCase):
    """guest_timeout(): the selected tests' limits plus margins, capped."""

    def test_derived_from_the_manifest(self):
        margin = run.BOOT_MARGIN_S
        self.assertEqual(run.guest_timeout("*", "manifest", 5000),
                         margin + 1260 + 3 * run.TEST_MARGIN_S)
        self.assertEqual(run.guest_timeout("harness/boot", "manifest", 5000),
                         margin + 60 + run.TEST_MARGIN_S)
        self.assertEqual(run.guest_timeout("*", "manifest", 900), 900)

    def test_unknown_limit_keeps_the_cap(self):
        self.write("tests/manifest", "a/b 60 x\na/c soon y\n")
        self.assertEqual(run.guest_timeout("*", "manifest", 2400), 2400)
        self.assertEqual(run.guest_timeout("a/b", "manifest", 2400),
                         run.BOOT_MARGIN_S + 60 + run.TEST_MARGIN_S)


class BootTest(TestsDirCase):
    """boot() against the fake QEMU: hangs stop the guest fast."""

    def boot(self, **kwargs):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            start = time.monotonic()
            status, _ = run.boot(self.args(), "test", **kwargs)
        return status, time.monotonic() - start, out.getvalue()

    def test_hang_is_stopped_after_the_grace_period(self):
        self.plan(["console", "console_soft_lockup.log"], ["sleep", 60])
        status, seconds, out = self.boot()
        self.assertEqual(status, "hang")
        self.assertLess(seconds, 10)
        self.assertIn("hang detected at console line", out)
        with open(self.argv) as handle:
            self.assertIn("hung_task_panic=1", handle.read())

    def test_hang_then_exit(self):
        self.plan(["console", "console_hung_task.log"], ["sleep", 0.3])
        self.assertEqual(self.boot()[0], "hang")

    def test_clean_exit(self):
        self.plan(["console", "console_clean.log"], ["channel", "channel_good.log"])
        self.assertEqual(self.boot()[0], "exit")

    def test_timeout_argument(self):
        self.plan(["sleep", 60])
        status, seconds, _ = self.boot(timeout=0.5)
        self.assertEqual(status, "timeout")
        self.assertLess(seconds, 10)


class CmdTestTest(TestsDirCase):
    """run.py test end to end against the fake QEMU."""

    def test_only_matching_nothing_fails_before_booting(self):
        self.plan(["exit", 0])
        code, out = self.cmd_test(self.args(only="harnes/*"))
        self.assertEqual(code, 1)
        self.assertFalse(os.path.exists(self.argv), "QEMU must not have been started")
        table, document = self.results()
        self.assertEqual(table["harness/only"]["status"], "fail")
        self.assertEqual(table["harness/only"]["details"],
                         "ONLY=harnes/* matches no test in tests/manifest: not booting")
        self.assertIn("FAIL harness/only", out)
        self.assertEqual(document["meta"]["qemu_status"], "not booted")

    def test_full_run(self):
        self.write("tests/known-failures",
                   "harness/bulk-migrate-4k 7 the warning of issue 7\n")
        self.plan(["console", "console_warning.log"], ["channel", CHANNEL])
        boot = mock.patch.object(run, "boot", wraps=run.boot)
        spy = boot.start()
        self.addCleanup(boot.stop)
        code, out = self.cmd_test(self.args())
        table, document = self.results()
        # Expected KUnit suite absent.
        self.assertEqual(table["kunit/migrate_copy_auto"]["details"],
                         "expected KUnit suite never reported")
        self.assertIn("FAIL kunit/migrate_copy_auto", out)
        # Known failure: a skip, printed as XFAIL, console-clean passes.
        self.assertEqual(table["harness/bulk-migrate-4k"]["status"], "skip")
        self.assertIn("XFAIL harness/bulk-migrate-4k (issue #7)", out)
        self.assertEqual(table["harness/console-clean"]["status"], "pass")
        self.assertEqual(table["harness/known-failures"]["status"], "pass")
        # Totals of reliability_* metrics.
        self.assertEqual(document["metrics"]["reliability_bytes_moved"], 12288.0)
        # The time limit derived from the manifest.
        self.assertEqual(spy.call_args.kwargs["timeout"],
                         run.BOOT_MARGIN_S + 1260 + 3 * run.TEST_MARGIN_S)
        self.assertEqual(code, 1)
        self.assertEqual(out.splitlines()[-1], "6 passed, 1 failed, 1 skipped")

    def test_only_skips_the_kunit_suites_check(self):
        self.plan(["console", "console_clean.log"], ["channel", "channel_good.log"])
        code, out = self.cmd_test(self.args(only="harness/*"))
        table, _ = self.results()
        self.assertNotIn("kunit/migrate_copy_auto", table)
        self.assertEqual(code, 0, out)

    def test_missing_kunit_suites_list_fails(self):
        os.unlink(os.path.join(self.dir, "tests", "kunit-suites"))
        self.plan(["console", "console_clean.log"], ["channel", "channel_good.log"])
        self.cmd_test(self.args())
        table, _ = self.results()
        self.assertEqual(table["harness/kunit-suites"]["status"], "fail")

    def test_known_failure_of_no_test_fails(self):
        self.write("tests/known-failures", "harness/boot 3 numa\nharness/gone 4 renamed\n"
                   "lockrule/loop-stress-long 5 a stress test\n"
                   "compiled-out/harness/boot 6 the compiled-out boot\n")
        self.plan(["console", "console_clean.log"], ["channel", "channel_good.log"])
        self.cmd_test(self.args())
        table, _ = self.results()
        known = table["harness/known-failures"]
        self.assertEqual(known["status"], "fail")
        self.assertEqual(known["details"],
                         "harness/gone is listed but is not a test of any manifest in tests/")
        self.assertIn("but passed: remove the entry", table["harness/boot"]["details"])

    def test_compiled_out_boot_gets_hang_detection_and_limit(self):
        self.write("tests/known-failures", "compiled-out/harness/bulk-migrate-4k 9 hangs\n")
        self.plan(["console", "console_hung_task.log"],
                  ["channel", load_until("HARNESS: begin harness/bulk-migrate-4k")],
                  ["sleep", 60])
        off = os.path.join(self.dir, "obj-off", "arch", "x86", "boot", "bzImage")
        boot = mock.patch.object(run, "boot", wraps=run.boot)
        spy = boot.start()
        self.addCleanup(boot.stop)
        with contextlib.redirect_stdout(io.StringIO()):
            known, _ = run.known_failures()
            results = run.compiled_out_results(self.args(off_kernel=off, off_initrd="i"),
                                               known)
        table = {r.key: r for r in results}
        finished = table["compiled-out/harness/guest-finished"]
        self.assertIn("hang detected: INFO: task bulk-migrate:118", finished.details)
        self.assertEqual(spy.call_args.kwargs["timeout"],
                         run.guest_timeout(run.OFF_SUITES, "manifest", 2400))
        xfail = table["compiled-out/harness/bulk-migrate-4k"]
        self.assertEqual(xfail.status, "skip")
        self.assertTrue(logparse.is_known_failure(xfail))
        self.assertEqual(table["compiled-out/harness/bulk-migrate-thp"].details, "never ran")


def load_until(fragment):
    """channel_good.log up to and with the line holding @fragment."""
    with open(os.path.join(TOP, "tests", "host", "samples", "channel_good.log")) as handle:
        lines = [line for line in handle.read().splitlines() if not line.startswith("# SPDX")]
    return lines[:next(i for i, line in enumerate(lines) if fragment in line) + 1]


if __name__ == "__main__":
    unittest.main()
