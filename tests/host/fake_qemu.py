#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A stand-in for qemu-system-x86_64 in the host self-tests of run.py.

It takes QEMU's command line as run.py builds it, finds the two
``-serial file:<path>`` logs (console first, then channel) and plays the
plan in the environment variable FAKE_QEMU, a JSON object:

    {"argv": "<path>",            # optional: write the argv there, one a line
     "steps": [["console", "<sample>" | [lines]],   # append to ttyS0
               ["channel", "<sample>" | [lines]],   # append to ttyS1
               ["sleep", seconds],
               ["exit", code]]}                     # else exit 0 at the end

A <sample> names a file of tests/host/samples (its SPDX line dropped).
``-device help`` (run.py asking for the emulated DSA) prints nothing.
"""

import json
import os
import sys
import time

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples")


def sample_lines(what):
    """@what itself if it is a list of lines, else the lines of a sample."""
    if isinstance(what, list):
        return what
    with open(os.path.join(SAMPLES, what), newline="") as handle:
        lines = handle.read().split("\n")
    return [line for line in lines if line and not line.startswith("# SPDX")]


def append(path, lines):
    """Append @lines to @path at once, as a serial port would write them."""
    with open(path, "a", newline="") as handle:
        handle.write("".join(line + "\n" for line in lines))


def main(argv):
    if argv[1:] == ["-device", "help"]:
        return 0
    plan = json.loads(os.environ.get("FAKE_QEMU", '{"steps": []}'))
    if plan.get("argv"):
        with open(plan["argv"], "w") as handle:
            handle.write("\n".join(argv) + "\n")
    serials = [arg[len("file:"):] for arg in argv if arg.startswith("file:")]
    ports = {"console": serials[0], "channel": serials[1]}
    for step, value in plan["steps"]:
        if step in ports:
            append(ports[step], sample_lines(value))
        elif step == "sleep":
            time.sleep(value)
        elif step == "exit":
            return value
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
