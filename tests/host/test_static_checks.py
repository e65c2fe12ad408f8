# SPDX-License-Identifier: GPL-2.0
"""Self-tests of the static checks: each checker must pass a good sample and
fail a bad one, so a green static/ result means something.

They run the real tools: tools/kernel-tree.sh apply-strict, and the base
tree's scripts/checkpatch.pl and scripts/kernel-doc (build/pristine, made by
`make source`). Without the base tree the checker tests are skipped. The
functions of tools/static-checks.sh and tools/object-checks.sh are run by
sourcing the scripts: every check must fail when it finds nothing to
check, and the W=1/sparse comparison must fail on a planted warning
(gcc -Wall -Wextra and sparse on a small C file, as kbuild's W=1 C=2 would
run them).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from tools.harness import logparse  # noqa: E402

SAMPLES = os.path.join(TOP, "tests", "host", "static-samples")
STATIC_CHECKS = os.path.join(TOP, "tools", "static-checks.sh")
OBJECT_CHECKS = os.path.join(TOP, "tools", "object-checks.sh")
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


def bash(script, *args):
    """Run bash @script with positional @args, in the C locale."""
    return subprocess.run(["bash", "-c", script, "bash"] + list(args),
                          capture_output=True, text=True,
                          env=dict(os.environ, LC_ALL="C", LANG="C"))


def one_result(tap):
    """The only Result of a static check's TAP block @tap."""
    results = logparse.parse_channel(tap.splitlines()).results
    assert len(results) == 1, tap
    return results[0]


class NothingToCheckTest(unittest.TestCase):
    """static-checks.sh: a check that found nothing to check fails."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        os.mkdir(os.path.join(self.dir, "pristine"))

    def check(self, producer, name, nothing):
        """Run @producer | check @name @nothing with TOP and BUILD in an
        empty directory (no patches, no series, no overlay, no git)."""
        script = ('source "%s"; TOP="%s"; BUILD="$TOP"; PRISTINE="$BUILD/pristine"; '
                  '%s | check %s "%s"' % (STATIC_CHECKS, self.dir, producer, name, nothing))
        proc = bash(script)
        return one_result(proc.stdout)

    def assert_fails_on_nothing(self, result, nothing):
        self.assertEqual(result.status, "fail")
        self.assertIn("not ok 1 - found no %s to check" % nothing, result.details)

    def test_each_check_fails_on_nothing(self):
        cases = [("patches_apply", "patches-apply", "patch in patches/series"),
                 ("checkpatch", "checkpatch", "patch in build/series"),
                 ("kernel_doc", "kernel-doc", ".c or .h file in mm drivers include"),
                 ("printf ''", "w1-sparse", "object")]
        for producer, name, nothing in cases:
            with self.subTest(check=name):
                result = self.check(producer, name, nothing)
                self.assertEqual(result.key, "static/" + name)
                self.assert_fails_on_nothing(result, nothing)

    def test_object_checks_without_new_objects(self):
        producer = '( source "%s"; TOP="%s"; main )' % (OBJECT_CHECKS, self.dir)
        result = self.check(producer, "w1-sparse", "object")
        self.assertEqual(result.status, "fail")
        self.assertIn("found no new .c file in mm drivers to check", result.details)

    def test_rows_still_pass(self):
        result = self.check("printf 'ok\\tthing\\t\\n'", "kernel-doc", "file")
        self.assertEqual((result.status, result.details), ("pass", ""))


@unittest.skipUnless(shutil.which("gcc") and shutil.which("sparse"),
                     "needs gcc and sparse (make deps)")
class PlantedWarningTest(unittest.TestCase):
    """object-checks.sh on a planted warning: the checker must fail."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)

    def warnings_of(self, path):
        """What filter_warnings makes of gcc -Wall -Wextra and sparse on @path."""
        script = ('source "%s"; { gcc -Wall -Wextra -c "$1" -o /dev/null; sparse "$1"; } 2>&1 '
                  '| filter_warnings' % OBJECT_CHECKS)
        return bash(script, path).stdout

    def copy(self, name, where, lines_before=0):
        """static-samples/@name as @where/migrate.c, shifted down by
        @lines_before blank lines."""
        os.makedirs(os.path.join(self.dir, where), exist_ok=True)
        path = os.path.join(self.dir, where, "migrate.c")
        with open(os.path.join(SAMPLES, name)) as source, open(path, "w") as target:
            target.write("\n" * lines_before + source.read())
        return path

    def row(self, function, *args):
        """The row object-checks.sh's @function prints, through check."""
        script = ('source "%s"; source "%s"; %s "$@" | check w1-sparse object'
                  % (OBJECT_CHECKS, STATIC_CHECKS, function))
        return one_result(bash(script, *args).stdout)

    def test_planted_warnings_are_found_without_line_numbers(self):
        found = self.warnings_of(self.copy("w1-planted.c", "ours")).splitlines()
        self.assertEqual(found, [
            "migrate.c: warning: symbol 'planted_global' was not declared. "
            "Should it be static?",
            "migrate.c: warning: unused variable 'planted_unused' [-Wunused-variable]"])

    def test_new_object_with_a_warning_fails(self):
        found = self.warnings_of(self.copy("w1-planted.c", "ours"))
        result = self.row("new_row", "mm/migrate_copy.o", found)
        self.assertEqual(result.status, "fail")
        self.assertIn("planted_unused", result.details)
        self.assertIn("planted_global", result.details)

    def test_clean_new_object_passes(self):
        found = self.warnings_of(self.copy("w1-clean.c", "ours"))
        self.assertEqual(found, "")
        self.assertEqual(self.row("new_row", "mm/migrate_copy.o", found).status, "pass")

    def test_patched_object_fails_only_on_new_warnings(self):
        ours = self.warnings_of(self.copy("w1-planted.c", "ours"))
        same = self.warnings_of(self.copy("w1-planted.c", "theirs", lines_before=7))
        self.assertEqual(self.row("patched_row", "mm/migrate.o", ours, same).status, "pass")
        base = self.warnings_of(self.copy("w1-clean.c", "base"))
        result = self.row("patched_row", "mm/migrate.o", ours, base)
        self.assertEqual(result.status, "fail")
        self.assertIn("pristine tree's 0", result.details)
        self.assertIn("planted_unused", result.details)

    def test_up_to_date_object_still_reports(self):
        # A make that, like kbuild, compiles only a missing object:
        # "make -C <src> O=<obj> ... <object>".
        self.copy("w1-planted.c", "src/mm")
        script = ('source "%s"; '
                  'make() { local src=$2 obj=${3#O=}; [ -e "$obj/mm/migrate.o" ] && return 0; '
                  'mkdir -p "$obj/mm"; gcc -Wall -Wextra -c "$src/mm/migrate.c" '
                  '-o "$obj/mm/migrate.o"; }; '
                  'warnings "$1" "$2" mm/migrate.o; echo --; warnings "$1" "$2" mm/migrate.o'
                  % OBJECT_CHECKS)
        out = bash(script, os.path.join(self.dir, "src"), os.path.join(self.dir, "obj")).stdout
        first, second = out.split("--\n")
        self.assertIn("unused variable 'planted_unused'", first)
        self.assertEqual(second, first)

    def test_object_that_does_not_build_fails(self):
        script = ('source "%s"; make() { echo "make[3]: *** No rule to make target"; return 2; }; '
                  'warnings src obj mm/migrate_copy.o' % OBJECT_CHECKS)
        found = bash(script).stdout
        self.assertEqual(found, "mm/migrate_copy.o: does not build (make exit code 2)\n")
        self.assertEqual(self.row("new_row", "mm/migrate_copy.o", found).status, "fail")


if __name__ == "__main__":
    unittest.main()
