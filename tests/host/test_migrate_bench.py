# SPDX-License-Identifier: GPL-2.0
"""tools/migrate-bench on the host: the plot script's table, CSV, JSON and
gnuplot PNG from results it is given, its refusal of files that are not
migrate-bench's, the harness's attachment check (which must fail on a bad
attachment), and the program's answers to bad usage and to a machine it
cannot run on. The guest runs the program itself (tests/tools)."""

import csv
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from tools.harness import logparse, run

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLOT = os.path.join(TOP, "tools", "migrate-bench", "migrate-bench-plot")
ENGINES = ("cpu", "dsa", "auto", "disabled")
SIZES = (("4k", 4096), ("64k", 65536), ("2m", 2 << 20))


def results(label, engines=ENGINES, environment="QEMU TCG: function, not speed"):
    """A migrate-bench document whose numbers depend on size and engine."""
    cells = []
    for size_index, (size, folio_bytes) in enumerate(SIZES):
        for engine_index, engine in enumerate(engines):
            median = 0.1 * (size_index + 1) + 0.01 * engine_index
            cells.append({
                "size": size, "folio_bytes": folio_bytes, "engine": engine,
                "min_gbps": median * 0.9, "median_gbps": median, "max_gbps": median * 1.2,
                "requested_pages": 4096, "moved_pages": 4096, "wrong_pages": 0,
                "offload_pages": 4096 if engine == "dsa" else 0, "cpu_pages": 0,
                "fallback_pages": 0, "migrated_pages": 4096, "large_folios": 0,
                "samples": []})
    return {"tool": "migrate-bench", "format": 1, "label": label, "kernel": "6.12",
            "feature": True, "environment": environment, "from_node": 0, "to_node": 1,
            "bytes_per_move": 8 << 20, "reps": 2, "cells": cells}


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="migrate-bench-test.")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, document):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            if isinstance(document, str):
                handle.write(document)
            else:
                json.dump(document, handle)
        return path

    def plot(self, *args, env=None):
        return subprocess.run([PLOT] + list(args), capture_output=True, text=True,
                              check=False, env=env)

    def test_two_kernels_table_csv_json_png(self):
        ours = self.write("ours.json", results("ours"))
        vanilla = self.write("vanilla.json", results("vanilla", engines=("kernel",)))
        out = {kind: os.path.join(self.dir, "merged." + kind)
               for kind in ("png", "txt", "csv", "json")}
        done = self.plot("--png", out["png"], "--table", out["txt"], "--csv", out["csv"],
                         "--json", out["json"], ours, vanilla)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out["png"], "rb") as handle:
            self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(out["png"]), 5000)
        with open(out["txt"], encoding="utf-8") as handle:
            table = handle.read().splitlines()
        # A header and one row per kernel, size and engine, each labelled.
        self.assertEqual(len(table), 1 + 3 * len(ENGINES) + 3)
        for row in table[1:]:
            self.assertTrue(row.endswith("QEMU TCG: function, not speed"), row)
        self.assertIn("vanilla", table[-1])
        self.assertRegex(table[1], r"^ours\s+4k\s+cpu\s+0\.090\s+0\.100\s+0\.120")
        with open(out["csv"], encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        self.assertEqual(len(rows), 1 + 3 * len(ENGINES) + 3)
        # The environment holds a comma: still one field per column.
        self.assertEqual({len(row) for row in rows}, {len(rows[0])})
        self.assertEqual(rows[1][-1], "QEMU TCG: function, not speed")
        with open(out["json"], encoding="utf-8") as handle:
            merged = json.load(handle)
        self.assertEqual([r["label"] for r in merged["runs"]], ["ours", "vanilla"])

    def test_refuses_what_is_not_migrate_bench_json(self):
        broken = results("x")
        broken["cells"][3]["min_gbps"] = 5.0
        missing = results("x")
        del missing["cells"][0]["moved_pages"]
        cases = {
            "truncated": (json.dumps(results("x"))[:-20], "Expecting"),
            "other tool": ({"tool": "fio"}, "not the JSON of migrate-bench"),
            "no cells": (dict(results("x"), cells=[]), "no cells"),
            "min above median": (broken, "not min <= median <= max"),
            "missing field": (missing, "moved_pages is not a number"),
            "unknown size": (dict(results("x"), cells=[dict(results("x")["cells"][0],
                                                              size="1g")]),
                             "unknown size"),
        }
        for name, (document, message) in cases.items():
            with self.subTest(name):
                done = self.plot("--table", "-", self.write(name + ".json", document))
                self.assertEqual(done.returncode, 1)
                self.assertIn(message, done.stderr)
                self.assertTrue(done.stderr.startswith("migrate-bench-plot: "))

    def test_without_gnuplot(self):
        path = self.write("ours.json", results("ours"))
        env = dict(os.environ, PATH=self.dir)
        done = subprocess.run([shutil.which("python3"), PLOT, "--png",
                               os.path.join(self.dir, "x.png"), path],
                              capture_output=True, text=True, check=False, env=env)
        self.assertEqual(done.returncode, 1)
        self.assertIn("apt-get install gnuplot-nox", done.stderr)

    def test_everything_skipped(self):
        document = results("ours")
        for cell in document["cells"]:
            cell["skipped"] = "this kernel offers no such folio size"
        done = self.plot("--png", os.path.join(self.dir, "x.png"),
                         self.write("skipped.json", document))
        self.assertEqual(done.returncode, 1)
        self.assertIn("nothing to plot", done.stderr)


class AttachmentTest(unittest.TestCase):
    """The harness collects "# attach" lines and checks migrate-bench's."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="migrate-bench-attach.")
        self.addCleanup(shutil.rmtree, self.dir)

    def channel(self, text):
        lines = ["HARNESS: booted kernel=6.12", "HARNESS: begin tools/migrate-bench-short",
                 "1..1", "ok 1 - ran"]
        lines += ["# attach migrate-bench.json " + line for line in text.splitlines()]
        lines += ["HARNESS: end tools/migrate-bench-short rc=0 seconds=1", "HARNESS: done"]
        return lines

    def test_attachment_is_collected_verbatim(self):
        text = json.dumps(results("ours"), indent=2)
        report = logparse.parse_channel(self.channel(text))
        self.assertEqual(report.attachments["tools/migrate-bench-short"]["migrate-bench.json"],
                         text + "\n")
        self.assertEqual([r.status for r in report.results], ["pass"])

    def test_check_passes_on_good_and_fails_on_bad(self):
        good = run.attachment_results(self.dir, self.channel(json.dumps(results("ours"))),
                                      ["tools/migrate-bench-short"])
        self.assertEqual([(r.name, r.status) for r in good],
                         [("migrate-bench-short.json", "pass"),
                          ("migrate-bench-short.png", "pass")])
        bad = run.attachment_results(self.dir, self.channel('{"tool": "migrate-bench", '),
                                     ["tools/migrate-bench-short"])
        self.assertEqual([r.status for r in bad], ["fail", "fail"])
        none = run.attachment_results(self.dir, self.channel(""),
                                      ["tools/migrate-bench-short"])
        self.assertEqual([r.status for r in none], ["fail", "fail"])
        self.assertIn("attached no migrate-bench.json", none[0].details)


class ProgramTest(unittest.TestCase):
    """migrate-bench's answers to bad usage, built as make migrate-bench does."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="migrate-bench-build.")
        subprocess.run(["make", "-s", "-C", os.path.join(TOP, "tools", "migrate-bench"),
                        "OUT=" + cls.dir], check=True)
        cls.program = os.path.join(cls.dir, "migrate-bench")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def bench(self, *args):
        return subprocess.run([self.program] + list(args), capture_output=True, text=True,
                              check=False)

    def test_bad_usage(self):
        cases = {
            ("--sizes", "8k"): "size 8k: expected 4k, 64k or 2m",
            ("--reps", "0"): "--reps 0: expected a number from 1 to 101",
            ("--mib", "3"): "--mib 3: a multiple of 2",
            ("--mib", "x"): "--mib x: expected a number",
            ("--label", "a b"): "--label a b: letters, digits and ._+- only",
            ("--from", "-1"): "--from -1: expected a number",
            ("extra",): "unexpected argument extra",
        }
        for args, message in cases.items():
            with self.subTest(args):
                done = self.bench(*args)
                self.assertEqual(done.returncode, 1, done.stderr)
                self.assertIn("migrate-bench: " + message, done.stderr)

    def test_help(self):
        done = self.bench("--help")
        self.assertEqual(done.returncode, 0)
        self.assertIn("usage: migrate-bench", done.stdout)

    def test_machine_it_cannot_run_on(self):
        nodes = [n for n in os.listdir("/sys/devices/system/node") if n.startswith("node")] \
            if os.path.isdir("/sys/devices/system/node") else []
        if os.geteuid() != 0:
            done = self.bench("--short")
            self.assertEqual(done.returncode, 2)
            self.assertIn("run it as root", done.stderr)
        elif len(nodes) < 2:
            done = self.bench("--short")
            self.assertEqual(done.returncode, 2)
            self.assertIn("needs two NUMA nodes with memory", done.stderr)
        else:
            self.skipTest("this host has two nodes: the guest runs the program")


if __name__ == "__main__":
    unittest.main()
