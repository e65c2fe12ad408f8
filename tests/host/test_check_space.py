# SPDX-License-Identifier: GPL-2.0
"""tools/check-space.sh: make test, bench and run refuse to start, with a
message that names what is missing, when build/'s filesystem is too full."""

import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(TOP, "tools", "check-space.sh")


class CheckSpaceTest(unittest.TestCase):
    needs = {}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="check-space-test.")
        self.addCleanup(shutil.rmtree, self.dir)

    def run_check(self, target, **fake):
        env = dict(os.environ, BUILD=os.path.join(self.dir, "build"))
        env.pop("SPACE_CHECK", None)
        env.update({key: str(value) for key, value in fake.items()})
        return subprocess.run([SCRIPT, target], env=env, capture_output=True, text=True,
                              check=False)

    def need(self, target):
        """The script's need for a target: the least free space that passes."""
        if target in self.needs:
            return self.needs[target]
        low, high = 0, 1 << 16
        while low < high:
            middle = (low + high) // 2
            if self.run_check(target, SPACE_AVAIL_MIB=middle, SPACE_BUILD_MIB=0).returncode:
                low = middle + 1
            else:
                high = middle
        self.needs[target] = low
        return low

    def test_one_mib_short_fails_and_says_how_much(self):
        need = self.need("test")
        self.assertGreater(need, 0)
        result = self.run_check("test", SPACE_AVAIL_MIB=need - 1, SPACE_BUILD_MIB=0)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"make test needs about {need} MiB", result.stderr)
        self.assertIn("1 MiB are missing", result.stderr)
        self.assertIn("SPACE_CHECK=0", result.stderr)

    def test_what_build_holds_counts(self):
        need = self.need("test")
        self.assertEqual(self.run_check("test", SPACE_AVAIL_MIB=need - 100,
                                        SPACE_BUILD_MIB=100).returncode, 0)
        self.assertEqual(self.run_check("test", SPACE_AVAIL_MIB=need - 100,
                                        SPACE_BUILD_MIB=99).returncode, 1)

    def test_run_needs_least(self):
        # make run builds one kernel; test and bench build three or more.
        self.assertGreater(self.need("test"), self.need("run"))
        self.assertGreater(self.need("bench"), self.need("run"))

    def test_skip_and_bad_usage(self):
        self.assertEqual(self.run_check("test", SPACE_AVAIL_MIB=0, SPACE_BUILD_MIB=0,
                                        SPACE_CHECK=0).returncode, 0)
        for args in (["vanilla"], []):
            result = subprocess.run([SCRIPT] + args, capture_output=True, text=True,
                                    check=False)
            self.assertEqual(result.returncode, 2)
            self.assertIn("usage", result.stderr)

    def test_unreadable_reading_fails(self):
        result = self.run_check("test", SPACE_AVAIL_MIB="lots", SPACE_BUILD_MIB=0)
        self.assertEqual(result.returncode, 1)
        self.assertIn("could not read the free space", result.stderr)

    def test_real_df_agrees_with_statvfs(self):
        # build/ does not exist yet: nothing counts as built, and df reads the
        # nearest existing parent (the temporary directory).
        stat = os.statvfs(self.dir)
        avail = stat.f_bavail * stat.f_frsize // (1 << 20)
        need = self.need("run")
        result = self.run_check("run")
        if abs(avail - need) < 64:
            self.skipTest(f"{avail} MiB free is too close to the need of {need} MiB")
        self.assertEqual(result.returncode, 0 if avail >= need else 1, result.stderr)


if __name__ == "__main__":
    unittest.main()
