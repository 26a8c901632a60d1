#!/usr/bin/env python3
"""The progress report and the updates export on the shipped sample plan
with a few officers' updates recorded in the state database: `tickler
report --format csv` has the council's columns (seed 001) and the sample
plan's objectives, each action once, grouped, read back by Python's csv
module as Excel would (byte order mark, CRLF, a formula in a note guarded);
the HTML report rendered by headless Chromium (a screenshot and a PDF
kept in the build's test-output/; the PDF on A4, the hostile note shown
as text); /report served by ticklerd is what `tickler report` prints for
the same period, in each format, with a 304 for a current copy; `tickler
updates` as CSV and JSON; and without a state database the report is the
plan alone and no database is created."""
import argparse
import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import datetime as dt

import harness
from harness import Daemon, tool

ARGS = None
TZ = "Europe/London"
OBJECTIVES = ["As a Community Leader", "As an Employer", "As a Service Provider"]
HOSTILE = '=HYPERLINK("http://evil.example","click") <b>bold</b> | pipe'
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
WORDS = {"complete": "Complete/on schedule to deliver",
         "ongoing": "Ongoing/remain included in action plan",
         "incomplete": "Incomplete/cannot be carried forward"}


def curl(url, *args):
    """(status, headers dict lower-cased, body bytes) from the curl tool."""
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", "--max-time", "30", *args, url],
                       capture_output=True, check=True)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def chromium(*args):
    """Runs Debian's chromium headless; returns its stdout."""
    p = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                        *args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("chromium failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    return p.stdout


def sample_actions(source):
    """(Ref, Objective, Actions) of each row of the shipped sample plan."""
    with open(os.path.join(source, "etc", "sample-plan.csv"), encoding="utf-8-sig",
              newline="") as f:
        return [(r["Ref"], r["Objective"], r["Actions"]) for r in csv.DictReader(f)]


def instant(day, hour=10):
    """Seconds since the epoch of hour o'clock on day (YYYY-MM-DD) in London."""
    os.environ["TZ"] = TZ
    time.tzset()
    return int(time.mktime(dt.datetime.fromisoformat("%sT%02d:00:00" % (day, hour)).timetuple()))


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-report-")
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state)
        self.port = harness.free_port()
        self.conf = harness.copy_sample(ARGS.source, self.tmp, self.port)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tickler(self, *args, check=True):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state, *args],
                           capture_output=True, check=False)
        if check and p.returncode != 0:
            raise AssertionError("tickler %s: %d\n%s" % (args, p.returncode, p.stderr.decode()))
        return p

    def actions(self):
        """The sample plan as tickler reads it, by id."""
        out = self.tickler("actions", "--json").stdout
        return {a["id"]: a for a in json.loads(out)}

    def record(self, *updates):
        """Records updates (action id, kind, who, day, rag, note, until)
        in the state database, the plan as it stands, as ticklerd records
        an officer's answer."""
        if not (harness.pg_sql(self.conf, "SELECT to_regclass('updates') IS NOT NULL") == "t"
                if harness.PG else os.path.exists(os.path.join(self.state, "tickler.db"))):
            # ticklerd makes the state database with its tables; tickler
            # only reads it
            d = Daemon(self.conf, self.state)
            d.wait_for("schema version" if harness.PG else
                       "web face on 127.0.0.1:%d" % self.port)
            self.assertEqual(d.stop(), 0, d.log())
        plan = self.actions()
        rows = [update_row(aid, who, kind, instant(day), rag, note, until, plan[aid])
                for (aid, kind, who, day, rag, note, until) in updates]
        harness.insert_rows(self.conf, self.state, "updates", UPDATE_COLUMNS, rows)

    def with_updates(self):
        self.record(
            ("EAP22-01", "complete", "housing@maidstone.example", "2026-03-02", None, None, None),
            ("EAP23-03", "progress", "data@maidstone.example", "2026-04-01", "amber",
             "Licence bought", None),
            ("EAP23-03", "progress", "data@maidstone.example", "2026-09-01", "green",
             "Profiles live for every ward", None),
            ("EAP23-01", "progress", "housing@maidstone.example", "2026-06-01", "red", HOSTILE,
             None),
            ("EAP23-06", "snooze", "pce@maidstone.example", "2026-11-20", None, None,
             "2026-12-14"),
            ("EAP22-05", "progress", "pce@maidstone.example", "2025-06-01", "green",
             "Last year's news", None))


KINDS = {"complete": 1, "snooze": 2, "progress": 3, "not-ours": 4}  # enum tkl_update_kind
RAGS = {None: 0, "red": 1, "amber": 2, "green": 3}  # enum tkl_rag


UPDATE_COLUMNS = ("action_id", "recipient", "team_id", "kind", "at", "link_issued_at",
                  "until_day", "rag", "note", "suggested_team", "plan_deadline_day",
                  "plan_deadline_text", "plan_status", "plan_owners")


def update_row(aid, who, kind, at, rag, note, until, a):
    """One row of the updates table (UPDATE_COLUMNS), as
    tkl_outbox_add_update writes it."""
    until_day = (dt.date.fromisoformat(until) - dt.date(1970, 1, 1)).days if until else None
    deadline = a["deadline"]
    deadline_day = ((dt.date.fromisoformat(deadline) - dt.date(1970, 1, 1)).days
                    if deadline else None)
    return (aid, who, a["teams"][0] if a["teams"] else None, KINDS[kind], at, at - 86400,
            until_day, RAGS[rag], note, None, deadline_day, a["deadline_text"],
            a["status_text"], a["owners"])


class Report(Fixture):
    def test_csv_has_the_councils_columns_and_the_sample_plans_groups(self):
        self.with_updates()
        db = os.path.join(self.state, "tickler.db")
        with open(db, "rb") as f:
            before = f.read()
        p = self.tickler("report", "--format", "csv", "--from", "2026-01-01", "--to", "2026-12-31")
        with open(db, "rb") as f:
            self.assertEqual(f.read(), before, "the report changes nothing")
        raw = p.stdout
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), raw[:20])
        self.assertTrue(raw.endswith(b"\r\n"))
        self.assertIn(b",Status,Why\r\n", raw)
        self.assertIn(b"progress 2026: 39 actions", p.stderr)
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        self.assertEqual(rows[0], ["Ref", "Objective", "Commitment", "Agreed Actions",
                                   "Responsibility", "Timeframe", "Progress \u2013 2026", "Status",
                                   "Why"])
        body = rows[1:]
        # every action of the sample plan once, grouped by objective in the
        # plan's order
        plan = sample_actions(ARGS.source)
        self.assertEqual(sorted((r[1], r[3]) for r in body),
                         sorted((o, t) for _, o, t in plan))
        seen = []
        for r in body:
            if not seen or seen[-1] != r[1]:
                seen.append(r[1])
        self.assertEqual(seen, OBJECTIVES)
        # each commitment's rows together within its objective
        groups = [(r[1], " ".join(r[2].split())) for r in body]
        runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
        self.assertEqual(len(runs), len(set(runs)))
        by_title = {}
        for r in body:
            by_title.setdefault(r[3], []).append(r)
        (xantura,) = by_title["Create join up with Housing Associations to deliver hardship "
                              "payments as part of the Xantura project"]
        self.assertEqual(xantura[6], "2 Mar 2026: marked complete by housing@maidstone.example")
        self.assertEqual(xantura[7], WORDS["complete"])
        (insight,) = [r for t, v in by_title.items() if t.startswith("Develop a greater") for r in v]
        self.assertEqual(insight[6], "1 Apr 2026, Amber, data@maidstone.example: Licence bought\n"
                                     "1 Sep 2026, Green, data@maidstone.example: Profiles live "
                                     "for every ward")
        # green, but no date to hold it to: it stays in the plan, and says why
        self.assertEqual(insight[7], WORDS["ongoing"])
        self.assertEqual(insight[8], "Latest update Green, 1 Sep 2026, but the plan gives no "
                                     "date to hold it to.")
        self.assertEqual(insight[0], "EAP23-03")  # the plan's Ref, as tickler updates names it
        (one_view,) = by_title["Delivery of One View project"]
        self.assertEqual(one_view[6], "1 Jun 2026, Red, housing@maidstone.example: " + HOSTILE)
        self.assertEqual(one_view[7], WORDS["ongoing"])
        # last year's note is not this year's progress; a snooze is an
        # answer, listed
        (expand,) = by_title["Expand internal Equality Diversity and Inclusion Group to provide "
                             "internal direction and challenge"]
        self.assertEqual(expand[6], "No update this period")
        (grants,) = by_title["Delivery of Community Grants and support to Community Groups"]
        snoozed, plan = grants[6].split("\n")  # a snooze says nothing of the work: the plan's too
        self.assertEqual(snoozed, "20 Nov 2026: snoozed reminders until 14 Dec 2026 by "
                                  "pce@maidstone.example")
        self.assertTrue(plan.startswith("From the plan: Continue to ensure"), plan)
        # a cell Excel would read as a formula is guarded
        for r in body:
            for cell in r:
                self.assertFalse(cell[:1] in ("=", "+", "-", "@"), cell)

    def test_html_in_chromium_with_a_screenshot_and_an_a4_pdf(self):
        self.with_updates()
        page = os.path.join(self.tmp, "report.html")
        self.tickler("report", "--from", "2026-01-01", "--to", "2026-12-31", "-o", page)
        out = os.path.join(os.path.abspath(ARGS.build), "test-output")
        os.makedirs(out, exist_ok=True)
        shot, pdf = os.path.join(out, "report.png"), os.path.join(out, "report.pdf")
        for f in (shot, pdf):
            if os.path.exists(f):
                os.unlink(f)
        chromium("--screenshot=" + shot, "--window-size=1280,1800", "file://" + page)
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        chromium("--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + page)
        with open(pdf, "rb") as f:
            data = f.read()
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        self.assertGreater(len(boxes), 2, "several pages")
        for w, h in boxes:  # A4: 210 x 297 mm
            self.assertAlmostEqual(float(w), 595, delta=1.5)
            self.assertAlmostEqual(float(h), 842, delta=1.5)
        print("\nscreenshot of the report: %s\nprinted: %s" % (shot, pdf), file=sys.stderr)
        dom = chromium("--dump-dom", "file://" + page)
        for o in OBJECTIVES:
            self.assertIn("<h2>%s</h2>" % o, dom)
        self.assertIn("Progress \u2013 2026", dom)
        # the note is text: its markup escaped, no element made of it
        self.assertIn("&lt;b&gt;bold&lt;/b&gt;", dom)
        self.assertNotIn("<b>bold</b>", dom)
        self.assertNotIn("<script", dom)
        m = re.search(r'<p class="summary">(\d+) actions: <span class="s0">(\d+) ', dom)
        self.assertEqual(m.group(1), "39")
        self.assertGreaterEqual(int(m.group(2)), 1)  # EAP22-01, marked complete

    def test_a_word_document_python_docx_reads_in_the_councils_layout(self):
        self.with_updates()
        out = os.path.join(os.path.abspath(ARGS.build), "test-output")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "report.docx")
        if os.path.exists(path):
            os.unlink(path)
        p = self.tickler("report", "--format", "docx", "--from", "2026-01-01", "--to",
                         "2026-12-31", "-o", path)
        self.assertIn(b"progress 2026: 39 actions", p.stderr)
        print("\nthe report as a Word document: %s" % path, file=sys.stderr)
        # read by python-docx, an implementation of the format of its own
        import docx  # pylint: disable=import-outside-toplevel
        d = docx.Document(path)
        self.assertEqual(d.core_properties.title,
                         "Equality action plan: progress report: progress \u2013 2026")
        heads = [q.text for q in d.paragraphs if q.style.name == "Heading 1"]
        self.assertEqual(heads, OBJECTIVES)
        self.assertEqual(d.paragraphs[0].style.name, "Title")
        self.assertTrue(d.paragraphs[1].text.startswith("Progress \u2013 2026, as at "),
                        d.paragraphs[1].text)
        self.assertTrue(d.paragraphs[2].text.startswith("39 actions: "), d.paragraphs[2].text)
        self.assertEqual(len(d.tables), len(OBJECTIVES))
        rows = []
        for t in d.tables:
            head = [c.text for c in t.rows[0].cells]
            self.assertEqual(head, ["Agreed Actions", "Progress \u2013 2026", "Status"])
            # the header row is repeated on every page it runs onto
            self.assertIsNotNone(t.rows[0]._tr.find(docx.oxml.ns.qn("w:trPr")).find(
                docx.oxml.ns.qn("w:tblHeader")))
            for r in t.rows[1:]:
                cells = [c.text for c in r.cells]
                if len({id(c._tc) for c in r.cells}) == 3:  # not a commitment's row
                    rows.append(cells)
        # every action of the sample plan once
        plan = sample_actions(ARGS.source)
        self.assertEqual(sorted(r[0].split("\n")[0] for r in rows), sorted(t for _, _, t in plan))
        by_title = {r[0].split("\n")[0]: r for r in rows}
        xantura = by_title["Create join up with Housing Associations to deliver hardship "
                           "payments as part of the Xantura project"]
        self.assertEqual(xantura[1], "2 Mar 2026: marked complete by housing@maidstone.example")
        self.assertTrue(xantura[2].startswith(WORDS["complete"] + "\n"), xantura[2])
        one_view = by_title["Delivery of One View project"]
        # the note is text, its markup and formula as the officer wrote them
        self.assertEqual(one_view[1], "1 Jun 2026, Red, housing@maidstone.example\n" + HOSTILE)
        self.assertTrue(one_view[2].startswith(WORDS["ongoing"]))
        self.assertIn("Responsibility: ", one_view[0])
        # to a terminal it is refused, not printed, whether standard output
        # is named by -o or not, and when -o names a terminal standard
        # output is not on
        import pty  # pylint: disable=import-outside-toplevel
        for output in ([], ["-o", "/dev/stdout"], ["-o", None]):
            master, slave = pty.openpty()
            try:
                if output[1:] == [None]:
                    output = ["-o", os.ttyname(slave)]
                    stdout = open(os.path.join(self.tmp, "elsewhere.docx"), "wb")
                else:
                    stdout = os.fdopen(os.dup(slave), "wb")
                with stdout:
                    q = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir",
                                        self.state, "report", "--format", "docx", *output],
                                       stdout=stdout, stderr=subprocess.PIPE, check=False)
                os.set_blocking(master, False)
                try:
                    shown = os.read(master, 65536)
                except BlockingIOError:
                    shown = b""
            finally:
                os.close(slave)
                os.close(master)
            self.assertEqual(shown, b"", output)
            self.assertEqual(q.returncode, 2, output)
            self.assertIn(b"tickler report: a Word document is not for a terminal: give -o FILE "
                          b"(progress-report.docx) or redirect the output\n", q.stderr)
            self.assertNotIn(b"progress ", q.stderr)

    def test_o_replaces_the_file_only_with_a_whole_report(self):
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        path = os.path.join(out, "progress.md")
        self.tickler("report", "--format", "md", "-o", path)
        with open(path, "rb") as f:
            earlier = f.read()
        self.assertIn(b"## As an Employer", earlier)
        self.assertGreater(len(earlier), 4096)

        def small_files(umask=0o027):
            """A file size limit the report outgrows (a shell's ulimit
            -f: SIGXFSZ as its default has it): a write past it fails
            (EFBIG) as on a full disk, after -o's file was made."""
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
            os.umask(umask)

        def report(target, limit):
            return subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                   "report", "--format", "html", "-o", target],
                                  capture_output=True, check=False,
                                  preexec_fn=small_files if limit else lambda: os.umask(0o027))

        for target in (path, os.path.join(out, "new.html")):
            p = report(target, True)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(("tickler report: cannot write the report to %s: File too large"
                           % target).encode(), p.stderr)
            self.assertNotIn(b"progress ", p.stderr)  # no report to count
            # the earlier report whole, nothing left beside it
            with open(path, "rb") as f:
                self.assertEqual(f.read(), earlier)
            self.assertEqual(os.listdir(out), ["progress.md"])
        # a new file is made as any other, under the umask; a file replaced
        # keeps its mode
        p = report(os.path.join(out, "new.html"), False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(os.path.join(out, "new.html")).st_mode & 0o777, 0o640)
        os.chmod(path, 0o600)
        p = report(path, False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, "rb") as f:
            self.assertIn(b"<h2>As an Employer</h2>", f.read())
        self.assertEqual(sorted(os.listdir(out)), ["new.html", "progress.md"])

    def test_standard_output_that_cannot_take_the_report_is_said_so(self):
        """Without -o, a report standard output's file cannot take (the
        file size limit, a full disk) fails with why in plain words, and
        nothing counts it as written."""
        def report(stdout, limit=False):
            def small_files():  # a shell's ulimit -f
                signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
                resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
            return subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                   "report", "--format", "html"], stdout=stdout,
                                  stderr=subprocess.PIPE, check=False,
                                  preexec_fn=small_files if limit else None)

        def failed(p, why):
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b"tickler report: cannot write the report to standard output: " + why,
                          p.stderr)
            self.assertNotIn(b"Input/output error", p.stderr)
            self.assertNotIn(b"progress ", p.stderr)  # no report to count

        with open(os.path.join(self.tmp, "limited.html"), "wb") as f:
            failed(report(f, limit=True),
                   b"the file it is on would pass the file size limit of this process "
                   b"(ulimit -f) (File too large)\n")
        if os.geteuid() != 0:
            return  # a full disk needs a small file system of the test's own
        small = harness.small_fs(self, self.tmp)
        with open(os.path.join(small, "report.html"), "wb") as f:
            harness.fill(small)
            failed(report(f), b"the disk holding the file it is on is full "
                              b"(No space left on device)\n")

    def test_standard_output_closed_is_a_failure_said_so(self):
        """tickler report >&-: no report goes nowhere with exit 0; -o still
        writes its file."""
        def report(*args):
            return subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                   "report", *args], stderr=subprocess.PIPE, check=False,
                                  preexec_fn=lambda: os.close(1))

        p = report()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"tickler report: standard output is closed, so the report would go "
                      b"nowhere; redirect it to a file, or name one with -o FILE\n", p.stderr)
        out = os.path.join(self.tmp, "closed.csv")
        p = report("-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.getsize(out) > 0)
        # -o /dev/null asks for nowhere, and gets it; standard output by any
        # name is refused
        for null in ("/dev/null", "/dev/./null"):
            p = report("-o", null)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn(b"standard output is closed", p.stderr)
        for name in ("/dev/stdout", "//dev/stdout", "/dev/./stdout", "/proc/thread-self/fd/1",
                     "/dev/fd/./1"):
            p = report("-o", name)
            self.assertEqual(p.returncode, 1, name)
            self.assertIn(b"standard output is closed", p.stderr)

    def test_o_keeps_what_it_cannot_replace_as_it_was(self):
        """-o writes in place where replacing would change what the file
        is: standard output's own file, a file with another name (a hard
        link), a symbolic link to nothing yet; with standard input closed
        it leaves nothing beside the file; a file of another user keeps
        its owner."""
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)

        def report(target, **kw):
            return subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                   "report", "--format", "md", "-o", target],
                                  check=False, capture_output="stdout" not in kw, **kw)

        log = os.path.join(out, "cron.log")
        with open(log, "w") as f:
            f.write("before\n")
        ino = os.stat(log).st_ino
        with open(log, "a") as f:
            self.assertEqual(report("/dev/stdout", stdout=f, stderr=subprocess.DEVNULL).returncode, 0)
            f.write("after\n")
        with open(log) as f:
            text = f.read()
        self.assertEqual(os.stat(log).st_ino, ino)
        self.assertTrue(text.startswith("before\n# ") and text.endswith("after\n"), text[-200:])
        # a hard link: both names keep one file
        first = os.path.join(out, "first.md")
        with open(first, "w") as f:
            f.write("old")
        os.link(first, os.path.join(out, "second.md"))
        self.assertEqual(report(first).returncode, 0)
        with open(os.path.join(out, "second.md")) as f:
            self.assertIn("## As an Employer", f.read())
        # a symbolic link to a file still to be made: made, the link kept
        os.symlink("made.md", os.path.join(out, "link.md"))
        self.assertEqual(report(os.path.join(out, "link.md")).returncode, 0)
        self.assertTrue(os.path.islink(os.path.join(out, "link.md")))
        self.assertTrue(os.path.isfile(os.path.join(out, "made.md")))
        # standard input closed: the hidden file is not taken for it
        p = report(first, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(out)),
                         ["cron.log", "first.md", "link.md", "made.md", "second.md"])
        if os.geteuid() == 0:  # root replacing another user's file keeps its owner
            theirs = os.path.join(out, "theirs.md")
            with open(theirs, "w") as f:
                f.write("old")
            os.chown(theirs, 65534, 65534)
            os.chmod(theirs, 0o600)
            self.assertEqual(report(theirs).returncode, 0)
            st = os.stat(theirs)
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (65534, 65534, 0o600))

    def test_the_web_face_serves_what_tickler_report_prints(self):
        self.with_updates()
        self.daemon = Daemon(self.conf, self.state)
        self.daemon.wait_for("web face on 127.0.0.1:%d" % self.port)
        base = "http://127.0.0.1:%d/report" % self.port
        # until the officers' updates are read (on PostgreSQL, once
        # connected) the report is 503: it would say no one answered
        deadline = harness.deadline(60)
        while True:
            status, h, body = curl(base)
            if status != 503:
                break
            self.assertEqual(h["retry-after"], "1")
            self.assertLess(time.monotonic(), deadline, self.daemon.log())
            time.sleep(0.2)
        for fmt, ctype in (("html", "text/html; charset=utf-8"),
                           ("csv", "text/csv; charset=utf-8"),
                           ("md", "text/markdown; charset=utf-8"),
                           ("docx", DOCX_TYPE)):
            for period in ((), ("2026-04-01", "2027-03-31")):
                query, args = "?format=" + fmt, ["--format", fmt]
                if period:
                    query += "&from=%s&to=%s" % period
                    args += ["--from", period[0], "--to", period[1]]
                status, h, body = curl(base + query)
                self.assertEqual(status, 200, body[:300])
                self.assertEqual(h["content-type"], ctype)
                self.assertEqual(body, self.tickler("report", *args).stdout, query)
                if fmt in ("csv", "docx"):
                    self.assertEqual(h["content-disposition"],
                                     'attachment; filename="progress-report.%s"' % fmt)
                # a current copy is not sent again
                status, _, again = curl(base + query, "-H", "If-None-Match: " + h["etag"])
                self.assertEqual((status, again), (304, b""))
        self.assertEqual(curl(base + "?format=pdf")[0], 400)
        self.assertEqual(curl(base + "?from=2026-02-30")[0], 400)
        self.assertEqual(curl(base + "?team=hr")[0], 400)
        # the index names it, and its Word document
        index = curl("http://127.0.0.1:%d/" % self.port)[2]
        self.assertIn(b"/report", index)
        self.assertIn(b"/report?format=docx", index)


class Updates(Fixture):
    def test_csv_and_json_of_every_update(self):
        self.with_updates()
        p = self.tickler("updates", "--csv")
        self.assertTrue(p.stdout.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.DictReader(io.StringIO(p.stdout.decode("utf-8-sig"), newline="")))
        self.assertEqual(len(rows), 6)
        self.assertEqual([r["Kind"] for r in rows],
                         ["complete", "progress", "progress", "progress", "snooze", "progress"])
        red = rows[3]
        self.assertEqual(red["Action"], "EAP23-01")
        self.assertEqual(red["Action title"], "Delivery of One View project")
        self.assertEqual(red["Note"], "'" + HOSTILE)  # guarded, whole
        self.assertEqual(red["RAG"], "red")
        self.assertEqual(red["Plan deadline"], "Ongoing Project")
        self.assertEqual(red["Holds now"], "yes")
        self.assertEqual(rows[4]["Snooze until"], "2026-12-14")
        since = self.tickler("updates", "--csv", "--since", "2026-06-01").stdout
        self.assertEqual(len(list(csv.reader(io.StringIO(since.decode("utf-8-sig"))))), 1 + 3)
        doc = json.loads(self.tickler("updates", "--json").stdout)
        self.assertEqual(len(doc), 6)
        self.assertEqual(doc[3]["note"], HOSTILE)
        self.assertEqual(doc[3]["who"], "housing@maidstone.example")
        self.assertEqual(doc[4]["until"], "2026-12-14")
        self.assertEqual(doc[0]["plan"]["deadline"], "2023-04-30")
        self.assertIs(doc[0]["holds"], True)
        text = self.tickler("updates").stdout.decode()
        self.assertEqual(len(text.splitlines()), 6)
        self.assertEqual(self.tickler("updates", "--json", "--csv", check=False).returncode, 2)

    def test_updates_of_an_action_taken_out_of_the_plan_are_kept_and_said(self):
        self.with_updates()
        plan = os.path.join(self.tmp, "sample-plan.csv")
        with open(plan, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        kept = [r for r in rows if r[0] != "EAP23-03"]
        self.assertEqual(len(kept), len(rows) - 1)  # the test can fail
        with open(plan, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(kept)
        p = self.tickler("report", "--from", "2026-01-01", "--format", "csv")
        self.assertIn("tickler report: 2 updates of the period for EAP23-03, which the plan no "
                      "longer has, listed at the end of the report", p.stderr.decode())
        last = list(csv.reader(io.StringIO(p.stdout.decode("utf-8-sig"), newline="")))[-1]
        self.assertEqual(last[:2], ["EAP23-03", "Not in the plan"])
        self.assertEqual(last[6].splitlines(),
                         ["1 Apr 2026, Amber, data@maidstone.example: Licence bought",
                          "1 Sep 2026, Green, data@maidstone.example: Profiles live for every ward"])
        html = self.tickler("report", "--from", "2026-01-01").stdout.decode()
        self.assertIn("<h2>Updates for actions no longer in the plan</h2>", html)
        # an id the plan held with a terminal's escape in it is named on
        # the terminal without it
        a = self.actions()["EAP23-01"]
        harness.insert_rows(self.conf, self.state, "updates", UPDATE_COLUMNS, [update_row(
            "OLD\x1b]0;owned\x07\x1b[2J-1", "pce@maidstone.example", "progress",
            instant("2026-05-01"), None, "moved", None, a)])
        err = self.tickler("report", "--from", "2026-01-01", "--format", "csv").stderr.decode()
        self.assertIn("1 update of the period for OLD ]0;owned  [2J-1, which", err)
        self.assertNotIn("\x1b", err)

    def test_days_are_the_configured_zones_not_the_servers(self):
        """The report's default period and --since are days in the
        configured time zone (Europe/London), whatever the server's: an
        update at 00:30 London time on 2 June 2026 (23:30 UTC the day
        before) is since 2 June."""
        self.record(("EAP22-01", "progress", "housing@maidstone.example", "2026-06-01", None,
                     "before", None))
        a = self.actions()["EAP22-01"]
        at = instant("2026-06-02", 0) + 30 * 60
        harness.insert_rows(self.conf, self.state, "updates", UPDATE_COLUMNS,
                            [update_row("EAP22-01", "housing@maidstone.example", "progress", at,
                                        None, "after midnight", None, a)])

        def run(tz, *args):
            env = dict(os.environ, TZ=tz)
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                *args], capture_output=True, env=env, check=True)
            return p.stdout

        for tz in ("UTC", "Pacific/Pago_Pago", "Pacific/Kiritimati"):
            doc = json.loads(run(tz, "updates", "--json", "--since", "2026-06-02"))
            self.assertEqual([u["note"] for u in doc], ["after midnight"], tz)
        # 25 hours apart: never the same day, so a period taken from the
        # server's day would differ between them
        self.assertEqual(run("Pacific/Pago_Pago", "report", "--format", "md"),
                         run("Pacific/Kiritimati", "report", "--format", "md"))

    def test_no_database_the_plan_alone_and_none_created(self):
        p = self.tickler("report", "--format", "md")
        self.assertIn(b"the database holds no tickler state yet" if harness.PG else
                      b"no state database", p.stderr)
        self.assertIn(b"## As an Employer", p.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.state, "tickler.db")))
        p = self.tickler("updates", "--json")
        self.assertEqual(json.loads(p.stdout), [])
        self.assertFalse(os.path.exists(os.path.join(self.state, "tickler.db")))
        p = self.tickler("report", "--from", "2026-12-31", "--to", "2026-01-01", check=False)
        self.assertEqual(p.returncode, 2)
        if harness.PG:
            return
        # a mistyped --state-dir is an error, not a plan with no updates
        wrong = os.path.join(self.tmp, "stat")
        for cmd in (("report",), ("updates",)):
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", wrong, *cmd],
                               capture_output=True, check=False)
            self.assertEqual((p.returncode, p.stdout), (1, b""), cmd)
            self.assertIn(("tickler %s: --state-dir %s: no such directory" % (cmd[0], wrong))
                          .encode(), p.stderr)
        self.assertFalse(os.path.exists(wrong))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
