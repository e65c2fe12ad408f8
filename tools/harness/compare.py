#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Put the benchmark metrics of the vanilla kernel next to ours.

    compare.py [--only GLOB] OURS.json VANILLA.json TEST [TEST...]

For every metric of each TEST (``suite/name``) that both result files have,
prints vanilla, ours and ours/vanilla, and stores them in OURS.json under
"comparison": {"TEST:metric": {"vanilla": v, "ours": o, "ratio": o / v}}.
Exits 1 when a TEST has no metric in one of the files (it did not run or
did not pass there). --only compares only the TESTs the glob matches (make
bench ONLY=...).
"""

import fnmatch
import json
import os
import sys


def test_metrics(document, test):
    prefix = test + ":"
    return {key[len(prefix):]: value for key, value in document.get("metrics", {}).items()
            if key.startswith(prefix) and isinstance(value, (int, float))}


def compare(ours_path, vanilla_path, tests):
    with open(ours_path, encoding="utf-8") as handle:
        ours = json.load(handle)
    with open(vanilla_path, encoding="utf-8") as handle:
        vanilla = json.load(handle)
    comparison, missing = {}, []
    print("%-40s %12s %12s %10s" % ("metric", "vanilla", "ours", "ours/van"))
    for test in tests:
        mine, theirs = test_metrics(ours, test), test_metrics(vanilla, test)
        if not mine or not theirs:
            missing.append(test)
            continue
        for name in sorted(set(mine) & set(theirs)):
            ratio = mine[name] / theirs[name] if theirs[name] else None
            comparison["%s:%s" % (test, name)] = {
                "vanilla": theirs[name], "ours": mine[name],
                "ratio": None if ratio is None else round(ratio, 3)}
            print("%-40s %12g %12g %10s" % ("%s:%s" % (test, name), theirs[name], mine[name],
                                             "-" if ratio is None else "%.3f" % ratio))
    ours["comparison"] = comparison
    temporary = ours_path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(ours, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, ours_path)
    for test in missing:
        print("compare: %s has no metrics in %s" % (
            test, vanilla_path if test_metrics(ours, test) else ours_path), file=sys.stderr)
    return 1 if missing else 0


def main(argv):
    only = "*"
    if len(argv) > 2 and argv[1] == "--only":
        only, argv = argv[2], argv[:1] + argv[3:]
    if len(argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return compare(argv[1], argv[2], [t for t in argv[3:] if fnmatch.fnmatch(t, only)])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
