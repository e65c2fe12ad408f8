#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot the test guest under QEMU TCG and turn what it says into results.

  run.py demo  --kernel K --initrd I --outdir D
        boot in demo mode, stream the guest's table to stdout
  run.py test  --kernel K --initrd I --outdir D --results F [--static F.tap]
        host self-tests, static-check results, KUnit and guest tests in one
        boot; writes F (JSON) and ends with the line "N passed, N failed"

The guest has two NUMA nodes, one socket each (node0 = cpus 0-1, node1 =
cpus 2-3). ttyS0 carries the kernel console, ttyS1 the test channel (see
tests/guest/init). A guest that never boots, times out or crashes fails.

Hangs fail fast: the kernel panics on a hung task, a soft lockup or an RCU
stall, and the first report of one on the console stops QEMU at most
HANG_GRACE_S later (status "hang"). The guest's time limit is the sum of
the manifest limits of the selected tests plus margins, at most --timeout.
"""

import argparse
import fnmatch
import importlib.machinery
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TOP)

from tools.harness import logparse  # noqa: E402

NODE_MIB = 1024
TOPOLOGY = "0:0-1:%d,1:2-3:%d" % (NODE_MIB, NODE_MIB)
PANIC_GRACE_S = 5         # after "Kernel panic": time to print the rest
HANG_GRACE_S = 10         # after a hang report: time for its backtraces
POWEROFF_GRACE_S = 60     # after HARNESS: done: time to power off
POLL_S = 0.5              # how often boot() looks at QEMU and the logs
BOOT_MARGIN_S = 300       # guest time limit: boot, KUnit and poweroff ...
TEST_MARGIN_S = 10        # ... plus this per test, beyond its own limit

TESTS = os.path.join(TOP, "tests")
KNOWN_FAILURES = os.path.join(TESTS, "known-failures")
KUNIT_SUITES = os.path.join(TESTS, "kunit-suites")


# The emulated Intel DSA (tools/qemu-dsa): one device, four work queues.
DSA_DEVICE = "intel-dsa,num-wqs=4,num-engines=4,wq-size=128"
# With it, the guest IOMMU (DMA remapping only): the DSA's DMA is translated,
# strictly, so DMA to an address the driver did not map faults.
IOMMU_DEVICE = "intel-iommu,intremap=off"
IOMMU_PARAMS = "intel_iommu=on iommu.strict=1"
# A second DSA on NUMA node 1, after the first (which keeps 0000:00:01.0 and
# stays dsa0): a PCIe expander bridge, root bus 0x80 with ACPI _PXM 1, and
# the root port a device needs on it; the DSA is 0000:81:00.0, dsa1, behind
# the same IOMMU. intx=off: MSI-X only, no INTx pin, so idxd's probe does
# not make Linux run the expander's slow ACPI _PRT loop for it (the root
# port's own lookup still takes about 30 s, once per boot, harmlessly).
DSA_NODE1_DEVICES = (
    "pxb-pcie,id=dsa1pxb,bus_nr=128,numa_node=1",
    "pcie-root-port,id=dsa1port,bus=dsa1pxb,chassis=1",
    "intel-dsa,id=dsa1,bus=dsa1port,intx=off,num-wqs=4,num-engines=4,wq-size=128",
)


def qemu_command(kernel, initrd, outdir, mode, only, manifest="manifest",
                 qemu="qemu-system-x86_64", dsa=True, copy="dsa", iommu=None,
                 dsa_node1=None, icount=False):
    """The QEMU command line: TCG only, two nodes, two serial ports, and the
    emulated DSA when the QEMU has it (dsa), behind the guest IOMMU when its
    DSA reports translation faults (iommu; by default with the DSA), and a
    second DSA on node 1 when its DSA has the intx property (dsa_node1; by
    default with the DSA). With @icount, one TCG thread counts instructions:
    guest time is the instructions run, 1 ns each (-icount shift=0), idle
    time jumps to the next timer (sleep=off), and no DSA (the measurement
    needs no device)."""
    dsa = dsa and not icount
    iommu = dsa and (dsa if iommu is None else iommu)
    dsa_node1 = dsa and (dsa if dsa_node1 is None else dsa_node1)
    append = " ".join([
        "console=ttyS0,115200", "rdinit=/init", "panic=-1", "loglevel=7",
        "printk.time=1", "transparent_hugepage=madvise", "init_on_free=1",
        # ZONE_MOVABLE, the top 384 MiB of each node: memory blocks that can
        # go offline (tests/triggers, hot-remove).
        "movablecore=768M",
        # Every KASAN report, not only the first: a negative control
        # that must make one may not hide a real one after it.
        "kasan_multi_shot",
        # A stuck kernel panics instead of waiting for the time limit.
        "hung_task_panic=1", "softlockup_panic=1",
        "sysctl.kernel.panic_on_rcu_stall=1",
        "rcupdate.rcu_cpu_stall_timeout=60",
        # A periodic tick on every vCPU. With idle ticks stopped, a TCG
        # guest was seen with a vCPU whose timers never fired again (RCU:
        # "timer wakeup didn't happen ... timer handling issue on cpu=2",
        # 4 timer softirqs in 800 s): every sleep with a timeout on that
        # CPU, sleep(1) included, hung until the test's time limit.
        "nohz=off",
        "harness.mode=" + mode,
        "harness.topology=" + TOPOLOGY, "harness.only=" + only,
        "harness.manifest=" + manifest, "harness.copy=" + copy,
    ] + ([IOMMU_PARAMS] if iommu else [])
        # Test boots start with the batched copy off: tests/guest/init
        # records that for knobs/boot-param, then turns it on for the tests.
        + (["migrate_copy=off"] if mode == "test" else []))
    cmd = [qemu, "-machine", "q35", "-accel", "tcg,thread=single" if icount else "tcg,thread=multi"]
    cmd += ["-icount", "shift=0,sleep=off"] if icount else []
    cmd += ["-cpu", "max", "-smp", "4,sockets=2,cores=2,threads=1",
           "-m", "%dM" % (2 * NODE_MIB)]
    for node, cpus in ((0, "0-1"), (1, "2-3")):
        cmd += ["-object", "memory-backend-ram,id=mem%d,size=%dM" % (node, NODE_MIB),
                "-numa", "node,nodeid=%d,cpus=%s,memdev=mem%d" % (node, cpus, node)]
    cmd += ["-kernel", kernel, "-initrd", initrd, "-append", append,
            "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", "file:" + os.path.join(outdir, "console.log"),
            "-serial", "file:" + os.path.join(outdir, "channel.log")]
    if dsa:
        # The IOMMU before any other PCI device; then dsa0, then dsa1 (node 1).
        cmd += (["-device", IOMMU_DEVICE] if iommu else []) + ["-device", DSA_DEVICE]
        for device in DSA_NODE1_DEVICES if dsa_node1 else ():
            cmd += ["-device", device]
    return cmd


class Tail:
    """Reads the complete lines appended to a file since the last call."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""

    def new_lines(self):
        try:
            with open(self.path, "r", errors="replace") as handle:
                handle.seek(self.offset)
                data = handle.read()
                self.offset = handle.tell()
        except FileNotFoundError:
            return []
        data = self.partial + data
        lines = data.split("\n")
        self.partial = lines.pop()
        return [line.rstrip("\r") for line in lines]


def stream_line(line, mode):
    """What the person at the terminal sees of one channel line."""
    if mode == "run":
        if not line.startswith("HARNESS: "):
            print(line, flush=True)
        return
    match = re.match(r"HARNESS: (begin|end) (\S+)(.*)", line)
    if match and match.group(1) == "end":
        print("  %-40s %s" % (match.group(2), match.group(3).strip()), flush=True)
    elif line.startswith("HARNESS: booted"):
        print("  guest booted: " + line.split(" ", 2)[2], flush=True)


def qemu_has_dsa(qemu):
    """Whether this QEMU offers the intel-dsa device (tools/qemu-dsa)."""
    try:
        out = subprocess.run([qemu, "-device", "help"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return '"intel-dsa"' in out


def qemu_dsa_has(qemu, prop):
    """Whether this QEMU's intel-dsa has the property prop."""
    try:
        out = subprocess.run([qemu, "-device", "intel-dsa,help"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return prop + "=" in out


def qemu_dsa_iommu(qemu):
    """Whether this QEMU's intel-dsa reports IOMMU translation faults (and
    so runs behind intel-iommu): it has the fault-xlat-every property."""
    return qemu_dsa_has(qemu, "fault-xlat-every")


def qemu_dsa_node1(qemu):
    """Whether this QEMU's intel-dsa can be the second DSA, on node 1
    (DSA_NODE1_DEVICES): it has the intx property."""
    return qemu_dsa_has(qemu, "intx")


class GuestWatch:
    """Decides, from the console, QEMU's exit code and the clock, when a
    guest run is over and how it ended: "exit", "crash", "timeout",
    "hang" or "poweroff".

    The first hung-task, soft-lockup or RCU-stall report (the HANG_KINDS
    of logparse) makes it a hang: the kernel gets HANG_GRACE_S to print
    its backtraces, or until it panics, then the run is over. A guest
    that said ``HARNESS: done`` gets POWEROFF_GRACE_S to power off (one
    whose kernel broke in a test's teardown may never do so).
    """

    def __init__(self, start, timeout):
        self.start, self.timeout = start, timeout
        self.scanner = logparse.ConsoleScanner()
        self.panic_at = None
        self.hang, self.hang_at = None, None
        self.done_at = None

    def channel(self, lines, now):
        """Note when the test channel's @lines, arrived by @now, say the
        guest is done."""
        if self.done_at is None and any(logparse.is_done_marker(line) for line in lines):
            self.done_at = now

    def console(self, lines, now):
        """Scan console @lines that arrived by @now."""
        for line in lines:
            finding = self.scanner.feed(line)
            if finding is None:
                continue
            if finding.kind == "kernel-panic" and self.panic_at is None:
                self.panic_at = now
            if finding.kind in logparse.HANG_KINDS and self.hang is None:
                self.hang, self.hang_at = finding, now

    def _panicked(self, now):
        """True once a panic has had PANIC_GRACE_S to finish printing."""
        return self.panic_at is not None and now - self.panic_at > PANIC_GRACE_S

    def status(self, rc, now):
        """How the run ended, given QEMU's exit code @rc (None while it
        runs) at time @now; None while the guest may go on."""
        if self.hang is not None:
            if rc is not None or now - self.hang_at >= HANG_GRACE_S or self._panicked(now):
                return "hang"
            return None
        if rc is not None:
            return "exit" if rc == 0 else "crash"
        if now - self.start > self.timeout:
            return "timeout"
        if self.done_at is not None and now - self.done_at > POWEROFF_GRACE_S:
            return "poweroff"
        if self._panicked(now):
            return "crash"
        return None


def boot(args, mode, kernel=None, initrd=None, outdir=None, only=None, timeout=None):
    """Run one guest (by default the one args name) for at most @timeout
    seconds (args.timeout). Returns (qemu_status, seconds), the status as
    GuestWatch decided it."""
    kernel, initrd = kernel or args.kernel, initrd or args.initrd
    outdir, only = outdir or args.outdir, only or args.only
    os.makedirs(outdir, exist_ok=True)
    for name in ("console.log", "channel.log"):
        path = os.path.join(outdir, name)
        if os.path.exists(path):
            os.unlink(path)
    dsa = qemu_has_dsa(args.qemu)
    cmd = qemu_command(kernel, initrd, outdir, mode, only, args.manifest,
                       qemu=args.qemu, dsa=dsa, copy=args.copy,
                       iommu=dsa and qemu_dsa_iommu(args.qemu),
                       dsa_node1=dsa and qemu_dsa_node1(args.qemu),
                       icount=getattr(args, "icount", False))
    with open(os.path.join(outdir, "qemu-cmdline"), "w") as handle:
        handle.write(" ".join(cmd) + "\n")
    start = time.monotonic()
    stderr = open(os.path.join(outdir, "qemu.stderr"), "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stderr,
                            stderr=subprocess.STDOUT)
    channel = Tail(os.path.join(outdir, "channel.log"))
    console = Tail(os.path.join(outdir, "console.log"))
    watch = GuestWatch(start, timeout or args.timeout)
    status, hang = None, None
    while status is None:
        time.sleep(POLL_S)
        lines = channel.new_lines()
        for line in lines:
            stream_line(line, mode)
        now = time.monotonic()
        watch.channel(lines, now)
        watch.console(console.new_lines(), now)
        if watch.hang is not None and hang is None:
            hang = watch.hang
            print("  hang detected at console line %d: %s (stopping the guest)"
                  % (hang.line_no, hang.text), flush=True)
        status = watch.status(proc.poll(), now)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    stderr.close()
    for line in channel.new_lines():
        stream_line(line, mode)
    return status, time.monotonic() - start


def read_lines(path):
    try:
        with open(path, "r", errors="replace") as handle:
            return handle.read().splitlines()
    except FileNotFoundError:
        return []


def read_list(path):
    """The words of the lines of @path, without ``#`` comments and blank
    lines; None if the file does not exist."""
    if not os.path.exists(path):
        return None
    return [line.split()[0] for line in read_lines(path)
            if line.split() and not line.lstrip().startswith("#")]


def manifest_entries(manifest="manifest"):
    """(suite/name, limit in seconds or None) of every entry of
    tests/@manifest."""
    entries = []
    for line in read_lines(os.path.join(TESTS, manifest)):
        words = line.split()
        if words and not words[0].startswith("#"):
            limit = words[1] if len(words) > 1 else ""
            entries.append((words[0], int(limit) if limit.isdigit() else None))
    return entries


def expected_tests(only, manifest="manifest"):
    """suite/name of every manifest entry that the filter selects."""
    return [name for name, _ in manifest_entries(manifest) if fnmatch.fnmatch(name, only)]


def guest_timeout(only, manifest, cap):
    """Seconds the guest may run: the limits of the selected tests of
    tests/@manifest plus BOOT_MARGIN_S and TEST_MARGIN_S per test, at most
    @cap (--timeout); @cap if a selected limit is not a number."""
    limits = [limit for name, limit in manifest_entries(manifest)
              if fnmatch.fnmatch(name, only)]
    if None in limits:
        return cap
    return min(cap, BOOT_MARGIN_S + sum(limits) + TEST_MARGIN_S * len(limits))


def all_manifest_tests():
    """suite/name of every entry of tests/manifest and tests/*-manifest."""
    names = set()
    for manifest in os.listdir(TESTS):
        if manifest == "manifest" or manifest.endswith("-manifest"):
            names.update(name for name, _ in manifest_entries(manifest))
    return names


def known_failures():
    """({"<suite>/<name>": KnownFailure}, Result harness/known-failures):
    tests/known-failures parsed and checked; an entry must name a test of
    a manifest, or compiled-out/ and a test the compiled-out boot runs."""
    entries, problems = logparse.parse_known_failures(read_lines(KNOWN_FAILURES))
    names = all_manifest_tests()
    names.update(OFF_PREFIX + name for name in expected_tests(OFF_SUITES))
    for name in sorted(entries):
        if name not in names:
            problems.append("%s is listed but is not a test of any manifest in tests/" % name)
    rel = os.path.relpath(KNOWN_FAILURES, TOP)
    details = problems or ["%s: %d known failure(s)" % (rel, len(entries))]
    result = logparse.Result("harness", "known-failures", "fail" if problems else "pass",
                             "\n".join(details))
    return entries, result


def expected_kunit_suites(args):
    """(suites, problem Result or None): the KUnit suites tests/kunit-suites
    expects, checked only in the boot of the full tests/manifest (not with
    ONLY, not for bench or stress runs, which may boot other kernels)."""
    if args.manifest != "manifest" or args.only != "*":
        return [], None
    suites = read_list(KUNIT_SUITES)
    if suites:
        return suites, None
    return [], logparse.Result("harness", "kunit-suites", "fail",
                               "%s is missing or lists no suite"
                               % os.path.relpath(KUNIT_SUITES, TOP))


class CollectingResult(unittest.TextTestResult):
    """Records every host self-test with its outcome."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = []

    def _record(self, test, status, details=""):
        self.outcomes.append((test.id().split(".")[-1], status, details))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "fail", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skip", reason)


def host_selftests():
    """The host-side tests of tests/host, as results of suite harness."""
    suite = unittest.defaultTestLoader.discover(os.path.join(TOP, "tests", "host"),
                                                top_level_dir=TOP)
    runner = unittest.TextTestRunner(stream=io.StringIO(), resultclass=CollectingResult)
    outcome = runner.run(suite)
    results = []
    for name, status, details in outcome.outcomes:
        results.append(logparse.Result("harness", "host/" + name, status, details, None))
    if not results:
        results.append(logparse.Result("harness", "host", "fail",
                                       "no host self-test was found in tests/host", None))
    return results


STATIC_CHECKS = ("static/patches-apply", "static/checkpatch", "static/kernel-doc",
                 "static/w1-sparse", "static/kernel-deb-config")


def static_results(paths):
    """Static checks write the same begin/TAP/end blocks as the guest; a
    check whose block is missing failed to run."""
    results, metrics = [], {}
    for path in paths:
        lines = read_lines(path)
        if not lines:
            results.append(logparse.Result("static", os.path.basename(path), "fail",
                                            "static check produced no output", None))
            continue
        report = logparse.parse_channel(lines)
        results += report.results
        metrics.update(report.metrics)
    seen = {"%s/%s" % (r.suite, r.name) for r in results}
    for name in STATIC_CHECKS:
        if paths and name not in seen:
            suite, check = name.split("/")
            results.append(logparse.Result(suite, check, "fail",
                                           "the check never reported (crashed?)", None))
    return results, metrics


def base_version():
    lines = read_lines(os.path.join(TOP, "build", "base-version"))
    return lines[0] if lines else "unknown"


def cmd_demo(args):
    print("Booting the two-node guest under QEMU TCG (demo mode)...", flush=True)
    status, seconds = boot(args, "run")
    channel = read_lines(os.path.join(args.outdir, "channel.log"))
    console = read_lines(os.path.join(args.outdir, "console.log"))
    findings = logparse.scan_console(console)
    demo_rc = [l for l in channel if l.startswith("HARNESS: demo rc=")]
    print("guest: %s after %.0f s; console findings: %d; logs in %s" %
          (status, seconds, len(findings), os.path.relpath(args.outdir, TOP)))
    for finding in findings[:10]:
        print("  console: " + finding.text)
    ok = status == "exit" and not findings and demo_rc == ["HARNESS: demo rc=0"]
    return 0 if ok else 1


OFF_SUITES = "harness/*"
OFF_SYMBOL = "CONFIG_MIGRATE_COPY_OFFLOAD"
OFF_PREFIX = "compiled-out/"


def compiled_out_results(args, known=None):
    """Boot the variant with our features compiled out and run the harness
    suite on it, with the same hang detection and a time limit derived the
    same way; its results go to suites compiled-out/<suite>. Entries of
    @known named compiled-out/<suite>/<name> apply to them."""
    outdir = args.outdir + "-off"
    # .../obj-off/arch/x86/boot/bzImage: the kbuild output directory.
    config = os.path.join(os.path.abspath(args.off_kernel).rsplit("/arch/", 1)[0], ".config")
    off = "# %s is not set" % OFF_SYMBOL
    config_ok = off in read_lines(config) or not any(
        l.startswith(OFF_SYMBOL + "=") for l in read_lines(config))
    results = [logparse.Result("compiled-out", "config", "pass" if config_ok else "fail",
                               "%s: %s" % (os.path.relpath(config, TOP),
                                           off if config_ok else OFF_SYMBOL + " is set"),
                               None)]
    print("Booting the variant with the feature compiled out...", flush=True)
    status, _ = boot(args, "test", args.off_kernel, args.off_initrd, outdir, OFF_SUITES,
                     timeout=guest_timeout(OFF_SUITES, "manifest", args.timeout))
    off_known = {name[len(OFF_PREFIX):]: entry for name, entry in (known or {}).items()
                 if name.startswith(OFF_PREFIX)}
    guest, _ = logparse.combine(read_lines(os.path.join(outdir, "console.log")),
                                read_lines(os.path.join(outdir, "channel.log")),
                                expected=expected_tests(OFF_SUITES), qemu_status=status,
                                known=off_known)
    for result in guest:
        if not result.suite.startswith("kunit"):
            result.suite = OFF_PREFIX + result.suite
            results.append(result)
    return results


def report(args, results, metrics, meta):
    """Write the JSON results, print every failure with its details and
    every known failure, then the summary line; the exit code."""
    logparse.write_results(args.results, results, metrics, meta)
    for result in results:
        if result.status == "fail":
            print("FAIL %s/%s" % (result.suite, result.name))
            for line in (result.details or "").splitlines()[:12]:
                print("    " + line)
    for result in results:
        if logparse.is_known_failure(result):
            issue = result.details.split(":", 1)[0].rsplit(" ", 1)[-1]
            print("XFAIL %s/%s (issue %s)" % (result.suite, result.name, issue))
    if args.manifest != "manifest":
        for key in sorted(metrics):
            print("  %-50s %s" % (key, metrics[key]))
    print("results: %s" % os.path.relpath(args.results, TOP))
    print(logparse.summary_line(results))
    return 1 if any(r.status == "fail" for r in results) else 0


MIGRATE_BENCH_PLOT = os.path.join(TOP, "tools", "migrate-bench", "migrate-bench-plot")


def migrate_bench_plot():
    """tools/migrate-bench/migrate-bench-plot as a module."""
    loader = importlib.machinery.SourceFileLoader("migrate_bench_plot", MIGRATE_BENCH_PLOT)
    spec = importlib.util.spec_from_loader("migrate_bench_plot", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def check_migrate_bench(test_id, directory, files):
    """<test>.json: the attached migrate-bench.json is migrate-bench's JSON;
    <test>.png: gnuplot draws it as a PNG (migrate-bench.png beside it)."""
    suite, name = test_id.split("/", 1)
    plot = migrate_bench_plot()
    path = os.path.join(directory, "migrate-bench.json")
    if "migrate-bench.json" not in files:
        problem = "the guest test attached no migrate-bench.json"
        return [logparse.Result(suite, name + ".json", "fail", problem),
                logparse.Result(suite, name + ".png", "fail", problem)]
    try:
        runs = [plot.load(path)]
    except plot.BadResults as error:
        return [logparse.Result(suite, name + ".json", "fail", str(error)),
                logparse.Result(suite, name + ".png", "fail", "no JSON to plot")]
    results = [logparse.Result(suite, name + ".json", "pass",
                               "%d cells" % len(runs[0]["cells"]))]
    png = os.path.join(directory, "migrate-bench.png")
    try:
        plot.render(runs, png)
    except (RuntimeError, OSError) as error:
        return results + [logparse.Result(suite, name + ".png", "fail", str(error))]
    return results + [logparse.Result(suite, name + ".png", "pass",
                                      "%d bytes" % os.path.getsize(png))]


# Guest tests whose attachments ("# attach" lines) the host checks.
ATTACHMENT_CHECKS = {"tools/migrate-bench-short": check_migrate_bench}


def attachment_results(outdir, channel, expected):
    """Write every guest test's attachments to @outdir/attachments/<suite>_<name>/
    and run ATTACHMENT_CHECKS for the tests of @expected."""
    attachments = logparse.parse_channel(channel).attachments
    # Those of an earlier run in the same directory are not this run's.
    shutil.rmtree(os.path.join(outdir, "attachments"), ignore_errors=True)
    results = []
    for test_id in sorted(set(attachments) | set(ATTACHMENT_CHECKS)):
        directory = os.path.join(outdir, "attachments", test_id.replace("/", "_"))
        files = attachments.get(test_id, {})
        if files:
            os.makedirs(directory, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        if test_id in ATTACHMENT_CHECKS and test_id in expected:
            results += ATTACHMENT_CHECKS[test_id](test_id, directory, files)
    return results


def cmd_test(args):
    wall = time.monotonic()
    results = host_selftests()
    static, metrics = static_results(args.static)
    results += static
    known, known_result = known_failures()
    results.append(known_result)
    meta = {"base": base_version(), "kernel": "", "qemu_status": "not booted",
            "only": args.only, "console_log": os.path.relpath(
                os.path.join(args.outdir, "console.log"), TOP)}
    expected = expected_tests(args.only, args.manifest)
    if not expected:
        results.append(logparse.Result("harness", "only", "fail",
                                       "ONLY=%s matches no test in tests/%s: not booting"
                                       % (args.only, args.manifest)))
        return report(args, results, metrics, meta)
    suites, suites_problem = expected_kunit_suites(args)
    results += [suites_problem] if suites_problem else []
    timeout = guest_timeout(args.only, args.manifest, args.timeout)
    print("Booting the two-node guest under QEMU TCG (test mode, at most %d s)..." % timeout,
          flush=True)
    status, seconds = boot(args, "test", timeout=timeout)
    console = read_lines(os.path.join(args.outdir, "console.log"))
    channel = read_lines(os.path.join(args.outdir, "channel.log"))
    guest_results, guest_metrics = logparse.combine(
        console, channel, expected=expected, qemu_status=status, known=known,
        kunit_suites=suites)
    results += guest_results
    results += attachment_results(args.outdir, channel, expected)
    metrics.update(guest_metrics)
    if args.off_kernel:
        results += compiled_out_results(args, known)
    metrics["harness:guest_seconds"] = round(seconds, 1)
    metrics["harness:total_seconds"] = round(time.monotonic() - wall, 1)
    meta.update(kernel=logparse.parse_channel(channel).kernel, qemu_status=status)
    return report(args, results, metrics, meta)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("demo", "test"))
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True)
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--results", default=os.path.join(TOP, "build", "test-results.json"))
    parser.add_argument("--static", action="append", default=[])
    parser.add_argument("--off-kernel", help="the kernel with our features compiled out")
    parser.add_argument("--off-initrd", help="its initramfs")
    parser.add_argument("--only", default="*", help="glob of suite/name to run")
    parser.add_argument("--manifest", default="manifest",
                        help="tests/<manifest> lists the guest programs (bench-manifest for make bench)")
    parser.add_argument("--timeout", type=float, default=2400,
                        help="the most seconds a guest may run; below it, the manifest"
                        " limits of the selected tests plus margins decide")
    parser.add_argument("--qemu", default="qemu-system-x86_64",
                        help="the QEMU binary (make qemu builds one with the emulated DSA)")
    parser.add_argument("--copy", choices=("dsa", "soft", "cpu"), default="dsa",
                        help="demo: copy through the emulated DSA, the software"
                        " DMA_MEMCPY provider, or the CPU only")
    parser.add_argument("--icount", action="store_true",
                        help="count instructions: -icount shift=0,sleep=off, one TCG thread,"
                        " no DSA (guest nanoseconds are instructions)")
    args = parser.parse_args()
    for path in (args.kernel, args.initrd, args.off_kernel or args.kernel,
                 args.off_initrd or args.initrd):
        if not os.path.exists(path):
            parser.error("%s does not exist: build it first (make build)" % path)
    if not shutil.which(args.qemu):
        parser.error("%s is missing: run make qemu (or make deps)" % args.qemu)
    if args.command == "demo":
        return cmd_demo(args)
    return cmd_test(args)


if __name__ == "__main__":
    sys.exit(main())
