# SPDX-License-Identifier: GPL-2.0
"""tools/harness/alternate.py: boot order, the summary over boots, the
problems it reports, and run.py's -icount command line."""

import json
import os
import shutil
import tempfile
import unittest

from tools.harness import alternate, run


class AlternateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="alternate-test.")
        self.addCleanup(shutil.rmtree, self.dir)

    def test_boot_order_rotates(self):
        kernels = ["ours", "vanilla", "off"]
        self.assertEqual([alternate.boot_order(kernels, boot)[0] for boot in range(4)],
                         ["ours", "vanilla", "off", "ours"])

    def test_summary_medians_and_ratios(self):
        summary = alternate.summarise({"ours": [3.0, 1.0, 2.0], "vanilla": [4.0, 4.0, 5.0]},
                                      "vanilla")
        self.assertEqual((summary["ours"]["median"], summary["ours"]["min"],
                          summary["ours"]["max"]), (2.0, 1.0, 3.0))
        self.assertEqual(summary["ours"]["ratio"], 0.5)
        self.assertEqual(summary["vanilla"]["ratio"], 1.0)
        self.assertIsNone(alternate.summarise({"ours": [1.0], "vanilla": [0.0]},
                                              "vanilla")["ours"]["ratio"])

    def write(self, tests, metrics):
        path = os.path.join(self.dir, "boot.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"tests": tests, "metrics": metrics}, handle)
        return path

    def test_boot_metrics_and_problems(self):
        path = self.write([{"suite": "icount", "name": "move-4k-cpu", "status": "pass"},
                           {"suite": "icount", "name": "move-thp-cpu", "status": "fail"}],
                          {"icount/move-4k-cpu:insns_per_page_median": 1200.5,
                           "icount/move-4k-cpu:note": "text",
                           "other/test:x": 1})
        metrics, problems = alternate.boot_metrics(
            path, ["icount/move-4k-cpu", "icount/move-thp-cpu", "icount/held"])
        self.assertEqual(metrics, {"icount/move-4k-cpu:insns_per_page_median": 1200.5})
        self.assertEqual(len(problems), 2)
        self.assertIn("icount/move-thp-cpu fail", problems[0])
        self.assertIn("icount/held never ran", problems[1])
        _, problems = alternate.boot_metrics(os.path.join(self.dir, "absent.json"), [])
        self.assertEqual(len(problems), 1)

    def test_kernel_argument(self):
        self.assertEqual(alternate.parse_kernel("off=/a/bzImage:/a/initrd"),
                         ("off", "/a/bzImage", "/a/initrd"))
        with self.assertRaises(Exception):
            alternate.parse_kernel("off=/a/bzImage")

    def test_icount_command_line(self):
        plain = run.qemu_command("bz", "rd", self.dir, "test", "*")
        counted = run.qemu_command("bz", "rd", self.dir, "test", "*", icount=True)
        self.assertNotIn("-icount", plain)
        self.assertEqual(counted[counted.index("-icount") + 1], "shift=0,sleep=off")
        self.assertIn("tcg,thread=single", counted)
        self.assertNotIn("intel-dsa", " ".join(counted))


if __name__ == "__main__":
    unittest.main()
