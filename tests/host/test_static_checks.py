# SPDX-License-Identifier: GPL-2.0
"""Self-tests of the static checks: each checker must pass a good sample and
fail a bad one, so a green static/ result means something.

They run the real tools: tools/kernel-tree.sh apply-strict, and the base
tree's scripts/checkpatch.pl and scripts/kernel-doc (build/pristine, made by
`make source`). Without the base tree the checker tests are skipped.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(TOP, "tests", "host", "static-samples")
PRISTINE = os.path.join(os.environ.get("BUILD", os.path.join(TOP, "build")),
                        "pristine", "linux-source-6.12")
KERNEL_TREE = os.path.join(TOP, "tools", "kernel-tree.sh")

ORIGINAL = "".join("line %d\n" % n for n in range(1, 21))


def one_hunk_patch(claimed_start):
    """Replace "line 6" by "line six", with the hunk header claiming the
    change sits at line claimed_start + 1 (the file really has it at 6)."""
    return ("--- a/file.txt\n+++ b/file.txt\n"
            "@@ -%d,3 +%d,3 @@\n line 5\n-line 6\n+line six\n line 7\n"
            % (claimed_start, claimed_start))


class ApplyStrictTest(unittest.TestCase):
    """kernel-tree.sh apply-strict: exact patches apply, drift is refused."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        with open(os.path.join(self.dir, "file.txt"), "w") as handle:
            handle.write(ORIGINAL)

    def apply(self, patch_text):
        path = os.path.join(self.dir, "change.patch")
        with open(path, "w") as handle:
            handle.write(patch_text)
        return subprocess.run([KERNEL_TREE, "apply-strict", path, self.dir],
                              capture_output=True, text=True)

    def content(self):
        with open(os.path.join(self.dir, "file.txt")) as handle:
            return handle.read()

    def test_exact_patch_applies(self):
        proc = self.apply(one_hunk_patch(5))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("line six\n", self.content())
        self.assertNotIn("line 6\n", self.content())

    def test_offset_is_refused(self):
        proc = self.apply(one_hunk_patch(9))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("offset or fuzz", proc.stderr)
        self.assertEqual(self.content(), ORIGINAL, "a refused patch must change nothing")

    def test_fuzz_is_refused(self):
        text = ("--- a/file.txt\n+++ b/file.txt\n@@ -5,3 +5,3 @@\n"
                " line 5\n-line 6\n+line six\n line seven\n")
        proc = self.apply(text)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(self.content(), ORIGINAL)

    def test_missing_patch_is_named(self):
        proc = subprocess.run([KERNEL_TREE, "apply-strict",
                               os.path.join(self.dir, "nope.patch"), self.dir],
                              capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("nope.patch", proc.stderr)


@unittest.skipUnless(os.path.isdir(PRISTINE), "no base tree: run make source")
class KernelCheckersTest(unittest.TestCase):
    """checkpatch.pl and kernel-doc -Wall, run as static-checks.sh runs them."""

    def checkpatch(self, name):
        return subprocess.run(["perl", "scripts/checkpatch.pl", "--no-tree", "--terse",
                               "--show-types", os.path.join(SAMPLES, name)],
                              cwd=PRISTINE, capture_output=True, text=True)

    def kernel_doc(self, name):
        return subprocess.run(["perl", os.path.join(PRISTINE, "scripts", "kernel-doc"),
                               "-Wall", "-none", os.path.join(SAMPLES, name)],
                              capture_output=True, text=True)

    def test_checkpatch_passes_good_patch(self):
        proc = self.checkpatch("good-style.patch")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_checkpatch_fails_bad_patch(self):
        proc = self.checkpatch("bad-style.patch")
        self.assertNotEqual(proc.returncode, 0)
        for kind in ("MISSING_SIGN_OFF", "TRAILING_WHITESPACE", "SPACING"):
            self.assertIn(kind, proc.stdout)

    def test_kernel_doc_passes_good_file(self):
        proc = self.kernel_doc("good-doc.c")
        self.assertEqual(proc.stdout + proc.stderr, "")

    def test_kernel_doc_fails_bad_file(self):
        proc = self.kernel_doc("bad-doc.c")
        output = proc.stdout + proc.stderr
        self.assertIn("factor", output)
        self.assertIn("sample_scale", output)
        self.assertRegex(output, "(?i)warning")


if __name__ == "__main__":
    unittest.main()
