#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot several kernels in turn, the same tests on each, and put the metrics
side by side: medians, minima and maxima over the boots, and each kernel's
median over the reference kernel's (compass P1 and P2).

    alternate.py --qemu QEMU --manifest M --only GLOB --boots N
                 --kernel LABEL=BZIMAGE:INITRD [--kernel ...] --reference LABEL
                 --outdir DIR --results OUT.json [--table OUT.txt] [--icount]

Boot i runs the kernels in the order given, rotated by i (two kernels:
ours, vanilla; vanilla, ours; ...), so that neither always runs first on a
warm or cold host. Every boot is run.py test with its own output directory
(DIR/LABEL-i) and results (DIR/LABEL-i.json). With --icount the guests run
under QEMU -icount shift=0,sleep=off (run.py --icount): their nanoseconds
are instructions, and one boot per kernel is enough for a deterministic
count (more boots show how deterministic it is).

The table has, per test metric and kernel: the median, min and max over the
boots and the median divided by the reference kernel's median. OUT.json
holds the same: {"boots", "icount", "reference", "metrics": {"TEST:METRIC":
{LABEL: {"values", "median", "min", "max", "ratio"}}}}, from the tests that
passed. Exits 1 when a test failed, never ran or left no metric in some boot.
"""

import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TOP)

from tools.harness import run  # noqa: E402


def parse_kernel(text):
    """LABEL=BZIMAGE:INITRD -> (label, bzimage, initrd)."""
    label, _, paths = text.partition("=")
    kernel, _, initrd = paths.partition(":")
    if not label or not kernel or not initrd:
        raise argparse.ArgumentTypeError("%r: expected LABEL=BZIMAGE:INITRD" % text)
    return label, kernel, initrd


def boot_order(kernels, boot):
    """The kernels of boot number @boot: the list rotated by @boot."""
    shift = boot % len(kernels)
    return kernels[shift:] + kernels[:shift]


def one_boot(args, label, kernel, initrd, boot):
    """Run the tests on @kernel once; the path of its results."""
    outdir = os.path.join(args.outdir, "%s-%d" % (label, boot))
    results = outdir + ".json"
    command = [sys.executable, os.path.join(TOP, "tools", "harness", "run.py"), "test",
               "--qemu", args.qemu, "--kernel", kernel, "--initrd", initrd,
               "--outdir", outdir, "--results", results, "--manifest", args.manifest,
               "--only", args.only] + (["--icount"] if args.icount else [])
    print("alternate: boot %d, %s" % (boot + 1, label), flush=True)
    # A results file of an earlier run must not pass for this boot's.
    if os.path.exists(results):
        os.unlink(results)
    subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
    return results


def boot_metrics(path, tests):
    """({"TEST:METRIC": value}, [problem]) of one boot's results."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        return {}, ["%s: %s" % (path, error)]
    statuses = {"%s/%s" % (t["suite"], t["name"]): t["status"] for t in document["tests"]}
    passed = [test for test in tests if statuses.get(test) == "pass"]
    problems = ["%s: %s %s" % (path, test, statuses.get(test, "never ran"))
                for test in tests if test not in passed]
    # Only the metrics of tests that passed: a failed test's numbers mean nothing.
    metrics = {key: value for key, value in document.get("metrics", {}).items()
               if key.split(":")[0] in passed and isinstance(value, (int, float))}
    problems += ["%s: %s left no metric" % (path, test) for test in passed
                 if not any(key.split(":")[0] == test for key in metrics)]
    return metrics, problems


def summarise(values_by_label, reference):
    """{LABEL: {"values", "median", "min", "max", "ratio"}} of one metric."""
    summary = {}
    for label, values in values_by_label.items():
        summary[label] = {"values": values, "median": statistics.median(values),
                          "min": min(values), "max": max(values)}
    base = summary.get(reference, {}).get("median")
    for label in summary:
        median = summary[label]["median"]
        summary[label]["ratio"] = round(median / base, 4) if base else None
    return summary


def table(metrics, labels, reference, boots):
    lines = ["%-48s %-9s %12s %12s %12s %9s" % (
        "test:metric (%d boot%s each)" % (boots, "" if boots == 1 else "s"), "kernel",
        "median", "min", "max", "/" + reference)]
    for key in sorted(metrics):
        for label in labels:
            if label not in metrics[key]:
                continue
            cell = metrics[key][label]
            lines.append("%-48s %-9s %12.6g %12.6g %12.6g %9s" % (
                key, label, cell["median"], cell["min"], cell["max"],
                "-" if cell["ratio"] is None else "%.4f" % cell["ratio"]))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--only", default="*")
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--kernel", type=parse_kernel, action="append", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--icount", action="store_true")
    parser.add_argument("--table", help="write the table there too")
    args = parser.parse_args(argv)
    labels = [label for label, _, _ in args.kernel]
    if args.reference not in labels or len(set(labels)) != len(labels) or args.boots < 1:
        parser.error("--reference must be one of the kernels' distinct labels; --boots >= 1")
    tests = [name for name, _ in run.manifest_entries(args.manifest)
             if fnmatch.fnmatch(name, args.only)]
    if not tests:
        parser.error("--only %s matches no test of tests/%s" % (args.only, args.manifest))
    os.makedirs(args.outdir, exist_ok=True)
    values, problems = {}, []
    for boot in range(args.boots):
        for label, kernel, initrd in boot_order(args.kernel, boot):
            metrics, found = boot_metrics(one_boot(args, label, kernel, initrd, boot), tests)
            problems += found
            for key, value in metrics.items():
                values.setdefault(key, {}).setdefault(label, []).append(value)
    summary = {key: summarise(by_label, args.reference) for key, by_label in values.items()}
    lines = table(summary, labels, args.reference, args.boots)
    print("\n".join(lines))
    if args.table:
        with open(args.table, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    with open(args.results, "w", encoding="utf-8") as handle:
        json.dump({"boots": args.boots, "icount": args.icount, "reference": args.reference,
                   "kernels": labels, "metrics": summary}, handle, indent=2)
        handle.write("\n")
    for problem in problems:
        print("alternate: %s" % problem, file=sys.stderr)
    return 1 if problems or not summary else 0


if __name__ == "__main__":
    sys.exit(main())
