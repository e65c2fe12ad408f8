# SPDX-License-Identifier: GPL-2.0
"""Parse what the test guest leaves on its two serial ports.

The guest (tests/guest/init) is booted with two serial ports:

ttyS0, the kernel console
    printk lines such as ``[    1.234567] text`` (the time prefix may be
    missing, a line may end in ``\\r``). Built-in KUnit suites print KTAP
    here at boot, and init copies its ``HARNESS: begin <suite>/<name>`` and
    ``HARNESS: end <suite>/<name> rc=<n>`` markers into /dev/kmsg so that
    kernel splats can be attributed to the guest test that was running.

ttyS1, the test channel
    ``HARNESS: booted kernel=<release>``, then per guest test a
    ``HARNESS: begin`` marker, the program's TAP 13 output and a
    ``HARNESS: end <suite>/<name> rc=<n> seconds=<s>`` marker, and finally
    ``HARNESS: done`` just before poweroff. Two TAP diagnostics mean
    something to the harness: ``# metric <key>=<value>`` and
    ``# expect-console <kind>`` (a report of that kind must come, and is
    accepted, in the test's console window).

Nothing passes on nothing: ``not ok ... # TODO`` fails, a test in a
console window with a finding fails, an expected test or KUnit suite that
never reported fails. Failures listed in tests/known-failures become skips
(combine(known=...)).

Everything here is a pure function of the lines it is given, except
write_results(), which writes the JSON report. Line numbers are 1-based
positions in the list of lines passed in (i.e. in the log file).

Public API: strip_prefix, classify_line, ConsoleScanner, scan_console,
group_findings, parse_ktap, parse_channel, parse_known_failures,
apply_known_failures, is_known_failure, metric_totals, combine,
write_results, summary_line, and the dataclasses Result, Finding,
FindingGroup, ChannelReport and KnownFailure.
"""

import json
import os
import re
from dataclasses import dataclass, field

STATUSES = ("pass", "fail", "skip")

# Caps that keep the JSON report readable.
MAX_DETAIL_LINES = 30
MAX_DETAIL_CHARS = 300
DIAG_CONTEXT = 4          # diag lines kept on each side of a failing point
CONSOLE_TAIL = 15         # console lines shown when the guest never booted
GROUP_GAP = 80            # findings at most this many lines apart: one splat
GROUP_SHOWN = 6           # finding lines listed per group in a report
TRACE_GAP = 400           # a backtrace at most this far after a finding: its report
TRACE_FRAMES = 4          # functions of a backtrace quoted in its finding
CALL_TRACE = "call-trace"

TIMEOUT_RCS = (124, 137)  # timeout(1) and SIGKILL: the guest's per-test limit
KSFT_SKIP = 4             # kselftest's exit code for "skipped"
KUNIT_INDENT = 4          # KUNIT_INDENT_LEN in include/kunit/test.h

# "[    1.234567] " and, with CONFIG_PRINTK_CALLER, "[    1.234567][    T1] ".
_PRINTK_PREFIX = re.compile(r"^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?")
_VERSION = re.compile(r"^(?:KTAP|TAP) version \d+\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*SKIP\b\s*(.*?))?\s*$", re.IGNORECASE)
_POINT = re.compile(
    r"^(?P<not>not )?ok (?P<num>\d+)\b\s*(?:-\s+)?(?P<desc>.*?)"
    r"\s*(?:#\s*(?P<directive>SKIP|TODO)\b\s*(?P<reason>.*?))?\s*$",
    re.IGNORECASE)
# A kunit_printk() record: "    # <test>: text"; its further lines (e.g.
# the message of a failed expectation) carry the same time stamp.
_KUNIT_MESSAGE = re.compile(r"^ {4,}# \S+: ")
_SUBTEST = re.compile(r"^# Subtest: (.+?)\s*$")
_STATS = re.compile(r"^# (?:\S+|Totals): pass:\d+ fail:\d+ skip:\d+ total:\d+\s*$")
_METRIC = re.compile(r"^#\s*metric\s+([A-Za-z0-9_.-]+)=(.*?)\s*$")
_EXPECT_CONSOLE = re.compile(r"^#\s*expect-console\s+(\S+)\s*$")
# "# attach <name> <line>": one line of a file the test hands to the host.
_ATTACH = re.compile(r"^# attach ([A-Za-z0-9_-][A-Za-z0-9_.-]*)(?: (.*))?$")
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_MARKER = re.compile(r"HARNESS: (begin|end) (\S+)")
_BOOTED = re.compile(r"^HARNESS: booted(?: kernel=(\S*))?")
_BEGIN = re.compile(r"^HARNESS: begin (\S+)\s*$")
_END = re.compile(r"^HARNESS: end (\S+)(.*)$")
_DONE = re.compile(r"^HARNESS: done\b")
_RC = re.compile(r"\brc=(-?\d+)")
_SECONDS = re.compile(r"\bseconds=(\d+(?:\.\d+)?)")

# Console patterns that mean the kernel is unwell, most specific first: a
# line gets the kind of the first pattern it matches, so the lockdep header
# "WARNING: possible circular locking ..." is "circular-locking" and an
# x86 "Oops: general protection fault ... KASAN" header is
# "general-protection-fault".
BAD_PATTERNS = tuple((kind, re.compile(regex)) for kind, regex in (
    ("kernel-panic", r"\bKernel panic\b"),
    ("circular-locking", r"possible circular locking"),
    ("recursive-locking", r"possible recursive locking"),
    ("inconsistent-lock-state", r"inconsistent lock state"),
    ("sleeping-in-atomic", r"sleeping function called from invalid context"),
    ("soft-lockup", r"soft lockup"),
    ("rcu-stall", r"rcu: .*detected stall|self-detected stall"),
    # "hung_task" as a word: "hung_task: blocked tasks" (the panic), not the
    # "hung_task_timeout_secs" hint that follows every report.
    ("hung-task", r"blocked for more than \d+ seconds|\bhung_task\b"),
    # "<comm> invoked oom-killer: ...", "oom-kill:constraint=...", "Out of
    # memory: Killed process ..." (memcg: "Memory cgroup out of memory: ...").
    ("oom", r"invoked oom-killer|\boom-kill\b|\bOut of memory\b|"
            r"\bout of memory: Killed process"),
    ("page-allocation-failure", r"page allocation failure"),
    ("general-protection-fault", r"general protection fault"),
    ("oops", r"\bOops\b"),
    ("kasan", r"\bKASAN\b"),
    ("ubsan", r"\bUBSAN\b"),
    # "refcount_t: underflow; use-after-free." before its WARNING line.
    ("refcount", r"\brefcount_t: "),
    ("list-corruption", r"\blist_(?:add|del) corruption\b|\blist_add double add\b"),
    # SLUB's slab_bug(): "BUG kmalloc-64 (Not tainted): Poison overwritten".
    ("slab-corruption", r"^BUG \S+ \((?:Not tainted|Tainted\b[^)]*)\): "),
    ("kernel-bug", r"\b[Kk]ernel BUG at\b"),
    ("unable-to-handle", r"\bUnable to handle\b"),
    ("bug", r"\bBUG:"),
    # Only at the start of a line: __warn() and lockdep print it there,
    # while e.g. "RETBleed: WARNING: ..." is a note about the host CPU.
    ("warning", r"^WARNING:"),
    # A backtrace: part of the report before it, or, alone in its group,
    # a bare dump_stack() (see FindingGroup.kind).
    (CALL_TRACE, r"^Call Trace:"),
))
KINDS = tuple(kind for kind, _ in BAD_PATTERNS)
# The kinds that mean the kernel is stuck: run.py stops the guest soon after.
HANG_KINDS = ("hung-task", "soft-lockup", "rcu-stall")
# The kind of the OOM killer's reports: a test with one in its window was
# most likely killed by it.
OOM_KIND = "oom"

# Console lines never scanned: they quote user input or test names.
_BENIGN = re.compile(
    r"^(?:Kernel command line:|Command line:|"
    r"Unknown kernel command line parameters)|HARNESS: ")


@dataclass
class Result:
    """One test outcome: status is "pass", "fail" or "skip"."""

    suite: str
    name: str
    status: str
    details: str = ""
    seconds: float | None = None

    def __post_init__(self):
        """Refuse a status outside STATUSES."""
        if self.status not in STATUSES:
            raise ValueError("status must be one of %s, not %r"
                             % (", ".join(STATUSES), self.status))

    @property
    def key(self):
        """``<suite>/<name>``, the form used by markers and expected lists."""
        return "%s/%s" % (self.suite, self.name)

    def to_json_dict(self):
        """The JSON object of this result in the report's "tests" list."""
        return {"suite": self.suite, "name": self.name, "status": self.status,
                "details": self.details, "seconds": self.seconds}


@dataclass
class Finding:
    """A console line that shows a kernel problem.

    kind is the BAD_PATTERNS name, line_no the 1-based console line, text
    the line without its time prefix, test the ``<suite>/<name>`` whose
    begin/end window holds the line (None outside any window).
    """

    kind: str
    line_no: int
    text: str
    test: str | None = None


@dataclass
class FindingGroup:
    """Findings close together in the log: usually one multi-line splat."""

    findings: list

    @property
    def headline(self):
        """The finding that names the splat: its first one that is not a
        backtrace, or the first backtrace of a bare dump_stack()."""
        for finding in self.findings:
            if finding.kind != CALL_TRACE:
                return finding
        return self.findings[0]

    @property
    def kind(self):
        """The kind of the splat: that of its headline, so "call-trace"
        only for backtraces with no other finding in the group."""
        return self.headline.kind

    @property
    def test(self):
        """The ``<suite>/<name>`` window of the splat, or None."""
        return self.findings[0].test

    def has_kind(self, kind):
        """True if any line of the splat is of @kind."""
        return any(finding.kind == kind for finding in self.findings)

    def describe(self):
        """Multi-line text for a report: headline, then the other lines
        (of backtraces only the first one)."""
        first = self.headline
        where = " during %s" % first.test if first.test else ""
        lines = ["%s at console line %d%s: %s"
                 % (first.kind, first.line_no, where, first.text)]
        others, trace = [], first.kind == CALL_TRACE
        for finding in self.findings:
            if finding is first or (finding.kind == CALL_TRACE and trace):
                continue
            trace = trace or finding.kind == CALL_TRACE
            others.append(finding)
        for finding in others[:GROUP_SHOWN - 1]:
            lines.append("    line %d: %s" % (finding.line_no, finding.text))
        hidden = len(others) - (GROUP_SHOWN - 1)
        if hidden > 0:
            lines.append("    ... %d more" % hidden)
        return "\n".join(lines)


@dataclass
class ChannelReport:
    """What the test channel says: boot, per-test results and metrics."""

    booted: bool = False
    kernel: str = ""
    done: bool = False
    results: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    # {"<suite>/<name>": [kind, ...]} from "# expect-console <kind>" lines
    expect_console: dict = field(default_factory=dict)
    # {"<suite>/<name>": {"<file name>": "text"}} from "# attach" lines
    attachments: dict = field(default_factory=dict)


# ---------------------------------------------------------------- helpers

def _split_prefix(line):
    """(printk prefix or None, rest of @line without \\r and newline)."""
    line = line.replace("\r", "").rstrip("\n")
    match = _PRINTK_PREFIX.match(line)
    if not match:
        return None, line
    return match.group(0).rstrip(), line[match.end():]


def strip_prefix(line):
    """Return @line without ``\\r``, newline and printk time prefix.

    The indentation after the prefix is kept: KTAP nesting depends on it.
    A caller id (CONFIG_PRINTK_CALLER) after the time goes too.
    """
    return _split_prefix(line)[1]


def _indent(text):
    """Number of leading spaces of @text."""
    return len(text) - len(text.lstrip(" "))


def _details(lines):
    """Join detail lines into one string, capping lines and their length."""
    lines = [line if len(line) <= MAX_DETAIL_CHARS
             else line[:MAX_DETAIL_CHARS] + "..." for line in lines]
    if len(lines) > MAX_DETAIL_LINES:
        extra = len(lines) - MAX_DETAIL_LINES
        lines = lines[:MAX_DETAIL_LINES] + ["... (%d more lines)" % extra]
    return "\n".join(lines)


def _split_id(test_id):
    """``a/b`` -> ("a", "b"): the name is what follows the last slash
    (``kunit/x/y`` -> ("kunit/x", "y")); no slash -> suite "guest"."""
    if "/" not in test_id:
        return "guest", test_id
    suite, name = test_id.rsplit("/", 1)
    return suite, name


@dataclass
class _Point:
    """One TAP/KTAP result line."""

    ok: bool
    number: int
    desc: str
    directive: str | None
    reason: str

    @property
    def status(self):
        """SKIP -> skip; ok -> pass; not ok -> fail, with ``# TODO`` too:
        an expected failure is still a failure (see tests/known-failures
        for the way to accept one)."""
        if self.directive == "SKIP":
            return "skip"
        return "pass" if self.ok else "fail"

    @property
    def todo_detail(self):
        """The detail line of a ``not ok ... # TODO``, else None."""
        if self.ok or self.directive != "TODO":
            return None
        return "TODO: %s (an expected failure is not a pass)" % (self.reason or "no reason")


def _parse_point(text):
    """A ``[not ]ok N [- ]desc [# SKIP|TODO reason]`` line, else None."""
    match = _POINT.match(text)
    if not match:
        return None
    directive = match.group("directive")
    return _Point(ok=not match.group("not"), number=int(match.group("num")),
                  desc=match.group("desc"),
                  directive=directive.upper() if directive else None,
                  reason=match.group("reason") or "")


def _parse_plan(text):
    """``1..N [# SKIP reason]`` -> (N, reason or None), else None."""
    match = _PLAN.match(text)
    if not match:
        return None
    return int(match.group(1)), match.group(2)


def _skip_detail(reason):
    """The detail line of a skip: ``SKIP: <reason>``."""
    return "SKIP: " + reason if reason else "SKIP"


def _metric_value(text):
    """A finite number as float, anything else as the string itself."""
    if _NUMBER.match(text):
        return float(text)
    return text


# ---------------------------------------------------------------- console

def _classify(text):
    """The kind of problem a console line shows, or None.

    Lines that belong to KTAP (results, plans, ``#`` diagnostics, and
    everything indented by a KTAP level or more, i.e. KUnit expectation
    messages) may name tests or quote strings, so they are not scanned;
    neither are harness markers and the kernel command line notices.
    """
    if _indent(text) >= KUNIT_INDENT:
        return None
    body = text.strip()
    if (not body or body.startswith("#") or _VERSION.match(body)
            or _PLAN.match(body) or _POINT.match(body) or _BENIGN.search(body)):
        return None
    for kind, regex in BAD_PATTERNS:
        if regex.search(body):
            return kind
    return None


class _KunitRecords:
    """Tells which console lines continue a multi-line KUnit message.

    kunit_printk() prints ``    # <case>: text`` in one printk record; when
    the text has several lines (a failed expectation and its message),
    each console line gets the same time stamp, but only the first one
    the KTAP indentation.
    """

    def __init__(self):
        self.stamp = None

    def continues(self, stamp, text):
        """True if the line (@stamp, @text) continues the KUnit message
        before it; else remember whether it starts one."""
        if stamp is not None and stamp == self.stamp:
            return True
        self.stamp = stamp if _KUNIT_MESSAGE.match(text) else None
        return False


class ConsoleScanner:
    """Scans console lines one by one, as they arrive; see scan_console().

    feed() returns the Finding of a line, or None. A ``Call Trace:``
    finding's text grows by the functions of the frames that follow it
    (up to TRACE_FRAMES, without ``?`` guesses and dump_stack itself),
    so that a bare dump_stack() says where it came from.
    """

    def __init__(self):
        self.current = None        # the test whose window is open
        self.records = _KunitRecords()
        self.trace = None          # the Call Trace finding taking frames
        self.frames = 0
        self.line_no = 0

    def _frame(self, text):
        """Add the function of frame line @text to the open backtrace;
        False when @text is no frame line (the backtrace ended)."""
        frame = text.strip()
        if not text.startswith(" ") or not frame:
            return False
        function = frame.split("+", 1)[0]
        if (self.frames < TRACE_FRAMES and not frame.startswith(("?", "<"))
                and not function.startswith("dump_stack")):
            self.trace.text += (" " if not self.frames else " < ") + function
            self.frames += 1
        return True

    def feed(self, line):
        """Scan the next console line; its Finding, or None."""
        self.line_no += 1
        stamp, text = _split_prefix(line)
        if self.records.continues(stamp, text):
            return None
        if self.trace is not None and self._frame(text):
            return None
        self.trace = None
        marker = _MARKER.search(text)
        if marker:
            self.current = marker.group(2) if marker.group(1) == "begin" else None
            return None
        kind = _classify(text)
        if not kind:
            return None
        finding = Finding(kind, self.line_no, text.strip(), self.current)
        if kind == CALL_TRACE:
            self.trace, self.frames = finding, 0
        return finding


def classify_line(line):
    """The kind of problem one console @line shows, or None (no context:
    KUnit message continuations are not recognised)."""
    return _classify(strip_prefix(line))


def scan_console(lines):
    """Return the Findings of the console log @lines, at most one per line.

    Each finding's test is the guest test whose ``HARNESS: begin``/``end``
    kmsg window contains it; a begin without an end extends to the end of
    the log (the test crashed the guest). The unindented lines of a KUnit
    message (``    # <case>: ...`` and the lines after it with the same
    time stamp, e.g. the text of a KUNIT_EXPECT_*_MSG) are KUnit's, not
    the kernel's, and are not scanned. Every ``Call Trace:`` line is a
    finding of kind "call-trace"; group_findings() decides whether it is
    part of a report or a bare dump_stack().
    """
    scanner = ConsoleScanner()
    findings = []
    for line in lines:
        finding = scanner.feed(line)
        if finding:
            findings.append(finding)
    return findings


def group_findings(findings, max_gap=GROUP_GAP, trace_gap=TRACE_GAP):
    """Group @findings into FindingGroups, one per splat.

    A finding joins the previous group when it is in the same test window
    and at most @max_gap lines after the previous finding, so that e.g.
    ``BUG: ...``, ``Oops: ...`` and ``Kernel panic - not syncing`` of one
    crash are reported together. A backtrace (``Call Trace:``) may be up
    to @trace_gap lines after it: lockdep prints its "stack backtrace"
    after the whole dependency chain.
    """
    groups = []
    for finding in findings:
        last = groups[-1].findings[-1] if groups else None
        gap = trace_gap if finding.kind == CALL_TRACE else max_gap
        if (last and last.test == finding.test
                and finding.line_no - last.line_no <= gap):
            groups[-1].findings.append(finding)
        else:
            groups.append(FindingGroup([finding]))
    return groups


# ---------------------------------------------------------------- KTAP

@dataclass
class _Suite:
    """A KUnit suite block being parsed."""

    name: str = ""
    planned: int | None = None
    seen: int = 0
    failed: int = 0
    running: str = ""     # parameterized case whose block is open
    pending: list = field(default_factory=list)


@dataclass
class _Session:
    """A top-level KTAP document: ``KTAP version 1`` and ``1..N``."""

    planned: int | None = None
    seen: int = 0


class _KtapParser:
    """State machine over console lines; see parse_ktap()."""

    def __init__(self):
        self.results = []
        self.suite = None          # the open _Suite
        self.session = None        # the open _Session
        self.orphan = []           # indented lines outside any suite
        self.records = _KunitRecords()

    # -- results

    def _add(self, name, status, lines):
        """Record a Result of the open suite (or of suite @name)."""
        suite = self.suite.name if self.suite else name
        self.results.append(Result("kunit/" + suite, name, status, _details(lines)))

    def _close_suite(self, point=None):
        """End the open suite, at its result line @point or at a crash."""
        suite = self.suite
        suite.name = suite.name or (point.desc if point else "")
        lines = []
        if suite.planned is not None and suite.seen < suite.planned or point is None:
            planned = "?" if suite.planned is None else suite.planned
            lines.append("incomplete: planned %s, saw %d (crash?)" % (planned, suite.seen))
            if point is None:
                lines.append("suite %s never printed its result line" % suite.name)
            if suite.running:
                lines.append("was running parameterized case %s" % suite.running)
        elif point.status == "fail" and not suite.failed:
            lines.append("suite reported not ok without a failing case")
        if lines:
            self._add(suite.name, "fail", lines + suite.pending)
        self.suite = None

    def _close_session(self):
        """End a top-level KTAP document: were all planned suites seen?"""
        if self.suite:
            self._close_suite()
        session = self.session
        if session and session.planned is not None and session.seen < session.planned:
            self.results.append(Result(
                "kunit", "suites", "fail", "incomplete: planned %d suites, saw %d (crash?)"
                % (session.planned, session.seen)))
        self.session = None

    def _count_suite(self):
        """One more suite of the current (maybe implicit) session."""
        if self.session is None:
            self.session = _Session()
        self.session.seen += 1

    def _open_suite(self):
        """``    KTAP version 1``: a new suite block starts."""
        if self.suite:
            self._close_suite()
        self._count_suite()
        self.suite = _Suite()
        self.orphan = []

    # -- line kinds

    def _version(self, level):
        """``KTAP version``: a document (level 0) or a suite (level 1)."""
        if level == 0:
            self._close_session()
            self.session = _Session()
        elif level == 1:
            self._open_suite()

    def _subtest(self, level, name):
        """``# Subtest: name`` of a suite or of a parameterized case."""
        if level == 1:
            if not self.suite:
                self._open_suite()
            self.suite.name = name
        elif level >= 2 and self.suite:
            self.suite.running = name

    def _plan(self, level, planned):
        """``1..N`` of the document or of the open suite."""
        if level == 0 and self.session and self.session.planned is None:
            self.session.planned = planned
        elif level == 1 and self.suite:
            self.suite.planned = planned

    def _point(self, level, point, body):
        """A result line: suite (level 0), case (1) or parameter (2+)."""
        if level == 0:
            self._suite_result(point)
        elif level == 1 and self.suite:
            self._case_result(point)
        elif level >= 2 and self.suite and point.status == "fail":
            self.suite.pending.append(body)

    def _case_result(self, point):
        """A case result: one Result with the diagnostics before it."""
        suite = self.suite
        suite.seen += 1
        lines = []
        if point.status == "skip":
            lines.append(_skip_detail(point.reason))
        elif point.status == "fail":
            suite.failed += 1
            if point.todo_detail:
                lines.append(point.todo_detail)
        self._add(point.desc, point.status, lines + suite.pending)
        suite.pending = []
        suite.running = ""

    def _suite_result(self, point):
        """A top-level result line: closes the suite it names."""
        if self.suite and self.suite.name in ("", point.desc):
            self._close_suite(point)
            return
        if self.suite:
            self._close_suite()
        # A suite without a block, e.g. after
        # "    # <suite>:     # failed to initialize (-22)".
        self._count_suite()
        if point.status != "pass":
            lines = [_skip_detail(point.reason) if point.status == "skip"
                     else "suite reported not ok without any case result"]
            self.results.append(Result("kunit/" + point.desc, point.desc,
                                       point.status, _details(lines + self.orphan)))
        self.orphan = []

    def _other(self, level, text):
        """Diagnostics: ``# <case>: ...`` and indented continuation lines."""
        if level >= 1 and not _STATS.match(text.strip()):
            self._diag(text)

    def _diag(self, text):
        """Keep a diagnostic line for the next result, less one KTAP indent."""
        if text.startswith(" " * KUNIT_INDENT):
            text = text[KUNIT_INDENT:]
        if self.suite is None:
            self.orphan = (self.orphan + [text])[-MAX_DETAIL_LINES:]
        elif self.suite.planned is not None:
            self.suite.pending.append(text)

    def feed(self, line):
        """Process one console line."""
        stamp, text = _split_prefix(line)
        text = text.rstrip()
        if self.records.continues(stamp, text):
            if text:
                self._diag(text)
            return
        level = _indent(text) // KUNIT_INDENT
        body = text.strip()
        if _VERSION.match(body) and body.startswith("KTAP"):
            self._version(level)
            return
        subtest = _SUBTEST.match(body)
        plan = _parse_plan(body)
        point = _parse_point(body)
        if subtest:
            self._subtest(level, subtest.group(1))
        elif plan:
            self._plan(level, plan[0])
        elif point:
            self._point(level, point, body)
        else:
            self._other(level, text)

    def finish(self):
        """End of the log: close what a crash left open."""
        self._close_session()
        return self.results


def parse_ktap(lines):
    """Return one Result per KUnit case found in the console log @lines.

    Results are named suite ``kunit/<suite>``, name ``<case>``; details
    hold the case's diagnostic lines (capped). A parameterized case is the
    result line after its nested block; failing parameters are listed in
    its details. A suite that ends early (fewer results than its plan, or
    no final ``ok N <suite>`` line) adds a failing Result named after the
    suite with details ``incomplete: planned M, saw K (crash?)``, and a
    top-level plan with suites missing adds ``kunit/suites``. A log
    without KTAP gives [].
    """
    parser = _KtapParser()
    for line in lines:
        parser.feed(line)
    return parser.finish()


# ---------------------------------------------------------------- channel

@dataclass
class _GuestTest:
    """One guest test between its begin and end markers."""

    test_id: str
    entries: list = field(default_factory=list)   # (point or None, text)
    plan: int | None = None
    skip_reason: str | None = None
    rc: int | None = None
    seconds: float | None = None
    ended: bool = False
    notes: list = field(default_factory=list)     # problems seen by the parser

    @property
    def points(self):
        """The test points, in order."""
        return [point for point, _ in self.entries if point]

    def context(self, index):
        """Indexes of the diag lines next to entry @index (up to DIAG_CONTEXT
        on each side, never crossing another test point)."""
        indexes = []
        for step in (-1, 1):
            position, taken = index + step, []
            while (0 <= position < len(self.entries) and len(taken) < DIAG_CONTEXT
                   and self.entries[position][0] is None):
                taken.append(position)
                position += step
            indexes += taken
        return sorted(indexes)


def _failed_points(test):
    """Detail lines for every failing point of @test, each followed by the
    diag lines around it (a diag line is shown once)."""
    lines, shown = [], set()
    for index, (point, text) in enumerate(test.entries):
        if point and point.status == "fail":
            lines.append(text)
            if point.todo_detail:
                lines.append(point.todo_detail)
            context = [i for i in test.context(index) if i not in shown]
            shown.update(context)
            lines += ["    " + test.entries[i][1] for i in context]
    return lines


def _problems(test):
    """Reasons why a finished @test does not pass, as detail lines."""
    problems = test.notes + _failed_points(test)
    ran = len(test.points)
    if test.plan is None:
        problems.append("no TAP plan was printed")
    elif test.skip_reason is None and ran != test.plan:
        problems.append("planned %d, ran %d" % (test.plan, ran))
    skipped = test.skip_reason is not None or (
        ran and all(point.status == "skip" for point in test.points))
    if test.rc != 0 and not (skipped and test.rc == KSFT_SKIP):
        problems.append("exit code rc=%s" % test.rc)
    return problems, skipped


def _cut_short(test, reason):
    """Detail lines of a test that did not run to its end."""
    tail = [text for _, text in test.entries[-DIAG_CONTEXT:]]
    return [reason] + _failed_points(test) + (["last output:"] + tail if tail else [])


def _verdict(test):
    """(status, detail lines) of one guest test."""
    if not test.ended:
        return "fail", _cut_short(test, "never finished (guest crashed or timed out?)")
    if test.rc in TIMEOUT_RCS:
        return "fail", _cut_short(test, "timed out in the guest (rc=%d after %g s)"
                                  % (test.rc, test.seconds or 0))
    problems, skipped = _problems(test)
    if problems:
        if not any(line.startswith("exit code") for line in problems):
            problems.append("rc=%s" % test.rc)
        return "fail", problems
    if skipped:
        return "skip", [_skip_detail(test.skip_reason or "every test point was skipped")]
    return "pass", []


def _test_result(test):
    """The Result of one guest test."""
    suite, name = _split_id(test.test_id)
    status, lines = _verdict(test)
    return Result(suite, name, status, _details(lines), test.seconds)


class _ChannelParser:
    """State machine over test-channel lines; see parse_channel()."""

    def __init__(self):
        self.report = ChannelReport()
        self.test = None

    def _finish_test(self):
        """Turn the open guest test, if any, into its Result."""
        if self.test:
            self.report.results.append(_test_result(self.test))
            self.test = None

    def _marker(self, text):
        """Handle a HARNESS line; False if @text is not one."""
        booted, begin = _BOOTED.match(text), _BEGIN.match(text)
        end, done = _END.match(text), _DONE.match(text)
        if booted:
            self.report.booted, self.report.kernel = True, booted.group(1) or ""
        elif begin:
            self._finish_test()
            self.test = _GuestTest(begin.group(1))
        elif end:
            self._end(end.group(1), end.group(2))
        elif done:
            self._finish_test()
            self.report.done = True
        return bool(booted or begin or end or done)

    def _end(self, test_id, rest):
        """``HARNESS: end <id> rc=<n> seconds=<s>``."""
        if self.test is None or self.test.test_id != test_id:
            self._finish_test()
            self.test = _GuestTest(test_id, notes=["end marker without begin"])
        rc, seconds = _RC.search(rest), _SECONDS.search(rest)
        self.test.rc = int(rc.group(1)) if rc else None
        self.test.seconds = float(seconds.group(1)) if seconds else None
        self.test.ended = True
        self._finish_test()

    def _output(self, text):
        """A line of the running test's TAP output."""
        test = self.test
        if _VERSION.match(text):
            return
        plan = _parse_plan(text)
        point = _parse_point(text)
        metric = _METRIC.match(text)
        expect = _EXPECT_CONSOLE.match(text)
        attach = _ATTACH.match(text)
        if attach:
            files = self.report.attachments.setdefault(test.test_id, {})
            files[attach.group(1)] = files.get(attach.group(1), "") + (
                attach.group(2) or "") + "\n"
        elif plan and test.plan is None:
            test.plan, test.skip_reason = plan
        elif point:
            test.entries.append((point, text))
        elif metric:
            key = "%s:%s" % (test.test_id, metric.group(1))
            self.report.metrics[key] = _metric_value(metric.group(2))
        elif expect:
            kinds = self.report.expect_console.setdefault(test.test_id, [])
            if expect.group(1) not in kinds:
                kinds.append(expect.group(1))
        elif text.strip():
            test.entries.append((None, text.rstrip()))

    def feed(self, line):
        """Process one channel line."""
        text = strip_prefix(line)
        if self._marker(text):
            return
        if self.test is not None:
            self._output(text)

    def finish(self):
        """End of the log: a test still open never finished."""
        self._finish_test()
        return self.report


def is_done_marker(line):
    """Whether test-channel @line is the guest's ``HARNESS: done``."""
    return _DONE.match(strip_prefix(line)) is not None


def parse_channel(lines):
    """Parse the test channel @lines into a ChannelReport.

    A guest test passes iff its rc is 0, it printed a plan, every test
    point is ok (``# SKIP`` counts as ok, ``not ok ... # TODO`` does not)
    and the number of points equals the plan. ``1..0 # SKIP reason``, or a run
    whose every point was skipped, is a skip (rc 0 or kselftest's 4).
    rc 124/137 is a timeout in the guest, a begin without an end a crash.
    Only unindented TAP lines count: nested subtests are diagnostics.
    Metrics ``# metric <key>=<value>`` become ``"<suite>/<name>:<key>"``;
    ``# expect-console <kind>`` lines go to the report's expect_console,
    ``# attach <file> <line>`` lines to its attachments, line by line.
    """
    parser = _ChannelParser()
    for line in lines:
        parser.feed(line)
    return parser.finish()


# ---------------------------------------------------------------- report

def _harness(name, problems):
    """A synthetic Result of suite harness: fail iff @problems is not empty."""
    return Result("harness", name, "fail" if problems else "pass", _details(problems))


def _boot_problems(report, console_lines):
    """guest-boot: init must have said ``HARNESS: booted``."""
    if report.booted:
        return []
    tail = [strip_prefix(line) for line in console_lines if line.strip()][-CONSOLE_TAIL:]
    if not tail:
        return ["no HARNESS: booted marker on the test channel; the console log is empty"]
    return (["no HARNESS: booted marker on the test channel; last console lines:"]
            + ["    " + line for line in tail])


def _finish_problems(report, findings, qemu_status):
    """guest-finished: ``HARNESS: done`` seen, no panic, no hang, QEMU
    exited by itself."""
    problems = []
    if not report.done:
        problems.append("no HARNESS: done marker on the test channel "
                        "(the guest did not finish its tests)")
    if qemu_status == "hang":
        problems.append(_hang_problem(findings))
    elif qemu_status == "poweroff":
        problems.append("the guest did not power off after HARNESS: done")
    elif qemu_status in ("timeout", "crash"):
        problems.append("QEMU status: %s" % qemu_status)
    panics = [f for f in findings if f.kind == "kernel-panic"]
    if panics:
        problems.append("kernel panic at console line %d: %s"
                        % (panics[0].line_no, panics[0].text))
    return problems


def _hang_problem(findings):
    """The guest-finished line of a guest that run.py stopped because the
    kernel reported a hang (qemu_status "hang")."""
    hangs = [f for f in findings if f.kind in HANG_KINDS]
    if not hangs:
        return "hang detected (but no hang report is in the console log)"
    return "hang detected: %s (console line %d)" % (hangs[0].text, hangs[0].line_no)


def _split_expected(groups, expect):
    """(accepted, others): the finding groups in the window of a test that
    announced ``# expect-console <kind>`` for the group's kind, and the
    rest."""
    accepted, others = [], []
    for group in groups:
        if group.kind in expect.get(group.test, ()):
            accepted.append(group)
        else:
            others.append(group)
    return accepted, others


def _blame(results, groups):
    """Fail every guest test whose console window holds a finding group.

    The findings go first in the details, so that capping cannot hide them;
    before them "killed by the OOM killer" if the OOM killer ran there.
    """
    for result in results:
        mine = [group for group in groups if group.test == result.key]
        if mine:
            result.status = "fail"
            oom = any(group.has_kind(OOM_KIND) for group in mine)
            head = ["killed by the OOM killer"] if oom else []
            rest = [result.details] if result.details else []
            result.details = _details(head + ["console:"]
                                      + [group.describe() for group in mine] + rest)


def _check_expectations(results, accepted, expect):
    """A test that announced ``# expect-console <kind>`` fails unless a
    finding group of that kind lies in its window (a skipped test is
    excused), or if the kind is not one of KINDS; the accepted groups are
    listed in its details."""
    for result in results:
        kinds = expect.get(result.key)
        if not kinds:
            continue
        mine = [group for group in accepted if group.test == result.key]
        problems = []
        for kind in kinds:
            if kind not in KINDS:
                problems.append("# expect-console %s: no such kind (one of %s)"
                                % (kind, ", ".join(KINDS)))
            elif result.status != "skip" and not any(g.kind == kind for g in mine):
                problems.append("expected a %s report on the console, none came" % kind)
        lines = [result.details] if result.details else []
        if mine:
            lines += ["console (expected):"] + [group.describe() for group in mine]
        if problems:
            result.status = "fail"
        result.details = _details(problems + lines)


def _never_ran(results, expected):
    """A failing Result for each ``<suite>/<name>`` of @expected that has
    no result among @results."""
    seen = {result.key for result in results}
    missing = []
    for test_id in expected:
        if test_id not in seen:
            seen.add(test_id)
            missing.append(Result(*_split_id(test_id), "fail", "never ran"))
    return missing


def _absent_suites(results, suites):
    """A failing Result ``kunit/<suite>`` for each KUnit suite of @suites
    that has no result among @results."""
    seen = {result.suite[len("kunit/"):] for result in results
            if result.suite.startswith("kunit/")}
    return [Result("kunit", suite, "fail", "expected KUnit suite never reported")
            for suite in suites if suite not in seen]


# ---------------------------------------------------------------- known failures

@dataclass
class KnownFailure:
    """An entry of tests/known-failures: a test that fails for a reason
    tracked in an issue."""

    issue: int
    reason: str

    def describe(self):
        """``known failure, issue #N: <reason>``."""
        return "known failure, issue #%d: %s" % (self.issue, self.reason)


_ISSUE = re.compile(r"^#?(\d+)$")


def parse_known_failures(lines):
    """Parse tests/known-failures: ``<suite>/<name> <issue> <reason...>``
    per line, ``#`` comments and blank lines ignored.

    Returns ({"<suite>/<name>": KnownFailure}, [problem lines]).
    """
    entries, problems = {}, []
    for number, line in enumerate(lines, 1):
        words = line.split(None, 2)
        if not words or words[0].startswith("#"):
            continue
        issue = _ISSUE.match(words[1]) if len(words) > 1 else None
        if len(words) < 3 or not issue or "/" not in words[0]:
            problems.append("line %d: not '<suite>/<name> <issue-number> <reason>': %s"
                            % (number, line.strip()))
        elif words[0] in entries:
            problems.append("line %d: %s is listed twice" % (number, words[0]))
        else:
            entries[words[0]] = KnownFailure(int(issue.group(1)), words[2].strip())
    return entries, problems


def apply_known_failures(results, known):
    """Strict expected failures: a Result listed in @known that failed
    becomes a skip whose details start with ``known failure, issue #N:
    <reason>``; one that passed fails (the entry must go). Returns the
    keys of the results that became such skips."""
    xfailed = set()
    for result in results:
        entry = known.get(result.key)
        if entry is None:
            continue
        rest = result.details.splitlines() if result.details else []
        if result.status == "fail":
            result.status = "skip"
            result.details = _details([entry.describe()] + rest)
            xfailed.add(result.key)
        elif result.status == "pass":
            result.status = "fail"
            result.details = _details(
                ["listed in tests/known-failures but passed: remove the entry (issue #%d)"
                 % entry.issue] + rest)
        else:
            result.details = _details(rest + ["(listed in tests/known-failures, issue #%d)"
                                              % entry.issue])
    return xfailed


def is_known_failure(result):
    """True for a Result that apply_known_failures() turned into a skip."""
    return result.status == "skip" and result.details.startswith("known failure, issue #")


# ---------------------------------------------------------------- metrics

TOTAL_PREFIX = "reliability_"


def metric_totals(metrics, prefix=TOTAL_PREFIX):
    """{"<key>": sum} over the numeric ``"<suite>/<name>:<key>"`` metrics of
    @metrics whose key starts with @prefix."""
    totals = {}
    for name, value in metrics.items():
        test, colon, key = name.rpartition(":")
        if (colon and test and key.startswith(prefix)
                and isinstance(value, (int, float)) and not isinstance(value, bool)):
            totals[key] = totals.get(key, 0.0) + value
    return totals


# ---------------------------------------------------------------- combine

def combine(console_lines, channel_lines, expected=None, qemu_status=None,
            known=None, kunit_suites=None):
    """Turn one guest run into (results, metrics).

    results: the synthetic harness/guest-boot, harness/guest-finished and
    harness/console-clean, the KUnit results of the console and the guest
    tests of the channel. A guest test in whose console window a finding
    group lies fails, with the group in its details, unless it announced
    ``# expect-console <kind>`` for the group's kind; such a test fails
    when no group of that kind came. Each ``<suite>/<name>`` of @expected
    that has no result fails as ``never ran``, each suite of @kunit_suites
    that printed no KTAP as ``kunit/<suite>``. @known ({"<suite>/<name>":
    KnownFailure}) turns failures into skips (apply_known_failures()); the
    findings of such a test do not fail console-clean. @qemu_status
    "timeout", "crash", "hang" or "poweroff" fails guest-finished.
    metrics: those of the channel, plus metric_totals() of them.
    """
    report = parse_channel(channel_lines)
    findings = scan_console(console_lines)
    accepted, groups = _split_expected(group_findings(findings), report.expect_console)
    _blame(report.results, groups)
    _check_expectations(report.results, accepted, report.expect_console)
    tests = parse_ktap(console_lines) + report.results
    tests += _never_ran(tests, expected or [])
    tests += _absent_suites(tests, kunit_suites or [])
    xfailed = apply_known_failures(tests, known or {})
    results = [
        _harness("guest-boot", _boot_problems(report, console_lines)),
        _harness("guest-finished", _finish_problems(report, findings, qemu_status)),
        _harness("console-clean", [group.describe() for group in groups
                                   if group.test not in xfailed]),
    ]
    metrics = dict(report.metrics)
    metrics.update(metric_totals(report.metrics))
    return results + tests, metrics


def _counts(results):
    """{"passed", "failed", "skipped"} counts of @results."""
    statuses = [result.status for result in results]
    return {"passed": statuses.count("pass"), "failed": statuses.count("fail"),
            "skipped": statuses.count("skip")}


def summary_line(results):
    """``N passed, N failed`` plus ``, N skipped`` when something skipped."""
    counts = _counts(results)
    line = "%(passed)d passed, %(failed)d failed" % counts
    if counts["skipped"]:
        line += ", %(skipped)d skipped" % counts
    return line


def write_results(path, results, metrics, meta):
    """Write the JSON report to @path (atomically: temporary file, rename).

    {"meta": meta, "tests": [...], "metrics": metrics,
     "summary": {"passed", "failed", "skipped"}}
    """
    document = {"meta": meta, "tests": [r.to_json_dict() for r in results],
                "metrics": metrics, "summary": _counts(results)}
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)
