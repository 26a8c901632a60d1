#!/usr/bin/env python3
"""Plans kept as spreadsheets: the seed plan and hostile cells written into
.xlsx (python3-openpyxl) and .ods (python3-odf) give the same actions as the
same plan in CSV; a named sheet; a corrupt ZIP, a ZIP bomb and a huge sheet
refused with a clear error, and a running ticklerd keeping its last good
plan through them and taking the next good edit."""
import argparse
import calendar
import csv
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import openpyxl
import xlsxwriter
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import CoveredTableCell, Table, TableCell, TableRow
from odf.text import P

import harness
from harness import Daemon, tool

ARGS = None
HEADER = ["Ref", "Objective", "Commitments", "Actions", "Responsibility", "Timeframe", "Status",
          "Progress"]
MONTHS = {m.lower(): i for names in (calendar.month_name, calendar.month_abbr)
          for i, m in enumerate(names) if m}
MONTHS["sept"] = 9
MONTH_YEAR = re.compile(r"^([A-Za-z]+) (\d{4})$")
LONG = "Review every policy for its effect on each protected characteristic. " * 440

# Rows no cell of which may be taken for markup, a formula or a header.
HOSTILE = [
    ["EAP99-01", "As an Employer", "We will <b>not</b> & \"quote\" 'it' ]]> <![CDATA[x]]>",
     "Publish the <script>alert(1)</script> & <tag attr=\"v\"> report", "HR", "2024/25", "", ""],
    ["EAP99-02", "As an Employer", "=HYPERLINK(\"http://evil.example\",\"click\")",
     "=1+2", "+SUM(A1:A9)", "@cmd", "-2+3", "=cmd|' /C calc'!A0"],
    ["EAP99-03", "As an Employer", "Headers", "Subject: x\nBcc: victim@example.org",
     "HR\nX-Injected: yes", "March 2024", "", ""],
    ["EAP99-04", "As an Employer", "Long", LONG, "HR", "Q3 2024", "", LONG],
    ["EAP99-05", "As an Employer", "Équipe — «non-ASCII» ✓", "Übersetzung 日本語 😀 ﬁnish",
     "Communities, Policy & Engagement team", "30/09/2024", "", "Ça va"],
]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def seed_rows():
    with open(os.path.join(ARGS.source, "etc", "sample-plan.csv"), encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == HEADER, rows[0]
    return rows[1:]


def as_date(text):
    """The last day of a "March 2023" deadline, or None."""
    m = MONTH_YEAR.match(text)
    if not m or m.group(1).lower() not in MONTHS:
        return None
    y, mo = int(m.group(2)), MONTHS[m.group(1).lower()]
    return datetime.date(y, mo, calendar.monthrange(y, mo)[1])


def runs(rows, col):
    """(start, length) of the runs of equal cells in column col (merged
    when a run is longer than one row)."""
    out, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][col] != rows[start][col] or rows[i][1] != rows[start][1]:
            out.append((start, i - start))
            start = i
    return out


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER] + rows)


def write_xlsx(path, rows, sheet="Actions", epoch=None, before=(), first=True):
    """The plan as Excel keeps it: commitments and objectives merged over
    their actions, "March 2023" deadlines as dates (serial numbers)."""
    wb = openpyxl.Workbook()
    if epoch:
        wb.epoch = epoch
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "Equality action plan 2022-25"
    for name in before:
        wb.create_sheet(name)["A1"] = name
    ws = wb.create_sheet(sheet)
    ws.append(HEADER)
    for r, row in enumerate(rows, 2):
        for c, text in enumerate(row, 1):
            cell = ws.cell(row=r, column=c)
            day = as_date(text) if c == 6 else None
            if day:
                cell.value = datetime.datetime(day.year, day.month, day.day)
                cell.number_format = "mmm yyyy"
            elif text:
                cell.value = text
                cell.data_type = "s"  # "=1+2" is text in the plan, not a formula
    for col in (2, 3):
        for start, n in runs(rows, col - 1):
            if n > 1:
                ws.merge_cells(start_row=start + 2, start_column=col, end_row=start + n + 1,
                               end_column=col)
    if first:
        wb.move_sheet(ws, offset=-len(wb.sheetnames) + 1)
    wb.save(path)


def write_xlsx_shared(path, rows, epoch=None):
    """The plan as XlsxWriter (a second, independent writer) keeps it: shared
    strings, each action's first word in bold (a rich text run), deadlines
    in the built-in date format 14, commitments and objectives merged."""
    wb = xlsxwriter.Workbook(path, {"date_1904": epoch is not None,
                                    "strings_to_numbers": False})
    ws = wb.add_worksheet("Actions")
    date, bold = wb.add_format({"num_format": 14}), wb.add_format({"bold": True})
    for c, h in enumerate(HEADER):
        ws.write_string(0, c, h)
    merged = {}
    for col in (1, 2):
        for start, n in runs(rows, col):
            if n > 1 and rows[start][col]:
                merged[(start, col)] = n
                for k in range(start + 1, start + n):
                    merged[(k, col)] = 0
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            day = as_date(text) if c == 5 else None
            span = merged.get((r, c), 1)
            if span == 0:
                continue
            if span > 1:
                ws.merge_range(r + 1, c, r + span, c, text)
            elif day:
                ws.write_datetime(r + 1, c, datetime.datetime(day.year, day.month, day.day), date)
            elif c == 3 and " " in text.strip():
                first, rest = text.split(" ", 1)
                ws.write_rich_string(r + 1, c, bold, first, " " + rest)
            elif text:
                ws.write_string(r + 1, c, text)
    wb.close()


def write_ods(path, rows, sheet="Actions", first=True):
    """The plan as LibreOffice keeps it: merged commitments (covered cells
    below them), dates as office:date-value, a paragraph per line, and the
    million blank rows LibreOffice ends a sheet with."""
    doc = OpenDocumentSpreadsheet()
    notes = Table(name="Notes")
    tr = TableRow()
    tc = TableCell(valuetype="string")
    tc.addElement(P(text="Read me first"))
    tr.addElement(tc)
    notes.addElement(tr)
    t = Table(name=sheet)
    spans = {}
    for col in (1, 2):
        for start, n in runs(rows, col):
            spans[(start, col)] = n
            for k in range(start + 1, start + n):
                spans[(k, col)] = 0
    for r, row in enumerate([HEADER] + rows):
        tr = TableRow()
        for c, text in enumerate(row):
            span = spans.get((r - 1, c), 1) if r else 1
            if span == 0:
                tr.addElement(CoveredTableCell())
                continue
            day = as_date(text) if c == 5 and r else None
            args = {"numberrowsspanned": span} if span > 1 else {}
            if day:
                tc = TableCell(valuetype="date", datevalue=day.isoformat(), **args)
                tc.addElement(P(text=day.strftime("%b %Y")))
            elif text:
                tc = TableCell(valuetype="string", **args)
                for line in text.split("\n"):
                    tc.addElement(P(text=line))
            else:
                tc = TableCell(**args)
            tr.addElement(tc)
        tr.addElement(TableCell(numbercolumnsrepeated=16384 - len(row)))
        t.addElement(tr)
    t.addElement(TableRow(numberrowsrepeated=1048576 - len(rows) - 1))
    for table in (t, notes) if first else (notes, t):
        doc.spreadsheet.addElement(table)
    doc.save(path)


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-sheets-")
        self.conf = harness.copy_sample(ARGS.source, self.tmp)
        self.state = os.path.join(self.tmp, "state")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def tickler(self, store, *args):
        return subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                               "--store", store, *args], capture_output=True, text=True,
                              timeout=300)

    def actions(self, store):
        p = self.tickler(store, "actions", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def refused(self, store, *texts):
        p = self.tickler(store, "check")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        for t in texts:
            self.assertIn(t, p.stdout + p.stderr)
        return p.stdout + p.stderr


def comparable(actions, dated):
    """The actions without their places; the deadline text of the ids in
    dated (a date cell in the workbook, its text in the CSV) left out, its
    day and kind kept."""
    out = []
    for a in actions:
        a = dict(a)
        del a["file"], a["line"]
        if a["id"] in dated:
            del a["deadline_text"]
        out.append(a)
    return out


class SameAsCsv(Fixture):
    def check_same(self, write, ext, rows):
        write_csv(self.path("plan.csv"), rows)
        write(self.path("plan" + ext), rows)
        dated = {r[0] for r in rows if as_date(r[5])}
        self.assertGreater(len(dated), 3)
        # the file holds what the test is about: merged cells, date cells
        with zipfile.ZipFile(self.path("plan" + ext)) as z:
            xml = b"".join(z.read(n) for n in z.namelist() if n.endswith(".xml"))
        if ext == ".xlsx":
            self.assertIn(b"<mergeCell ", xml)
            self.assertTrue(b'formatCode="mmm yyyy"' in xml or b'<xf numFmtId="14"' in xml)
        else:
            self.assertIn(b"<table:covered-table-cell", xml)
            self.assertIn(b'office:date-value="2023-04-30"', xml)
        want = self.actions(self.path("plan.csv"))
        got = self.actions(self.path("plan" + ext))
        self.assertEqual(len(got), len(rows))
        self.assertEqual(comparable(got, dated), comparable(want, dated))
        for a in got:
            self.assertEqual(a["file"], self.path("plan" + ext) + ":Actions")
        return got

    def test_seed_plan_xlsx(self):
        got = self.check_same(write_xlsx, ".xlsx", seed_rows())
        self.assertEqual([a["line"] for a in got], list(range(2, len(got) + 2)))
        first = got[0]
        # a date shown as "mmm yyyy" reads as the month's text, as in the CSV
        self.assertEqual(first["deadline_text"], "April 2023")
        self.assertEqual(first["deadline"], "2023-04-30")

    def test_seed_plan_xlsx_1904_dates(self):
        rows = seed_rows()
        self.check_same(lambda p, r: write_xlsx(p, r, epoch=CALENDAR_MAC_1904), ".xlsx", rows)

    def test_seed_plan_xlsx_shared_strings(self):
        self.check_same(write_xlsx_shared, ".xlsx", seed_rows())
        with zipfile.ZipFile(self.path("plan.xlsx")) as z:
            self.assertIn(b"<r><rPr><b/>", z.read("xl/sharedStrings.xml"))

    def test_seed_plan_xlsx_shared_strings_1904(self):
        self.check_same(lambda p, r: write_xlsx_shared(p, r, epoch=1904), ".xlsx", seed_rows())

    def test_seed_plan_ods(self):
        self.check_same(write_ods, ".ods", seed_rows())

    def test_hostile_cells(self):
        rows = seed_rows()[:6] + HOSTILE
        for write, ext in ((write_xlsx, ".xlsx"), (write_xlsx_shared, ".xlsx"),
                           (write_ods, ".ods")):
            with self.subTest(write.__name__):
                got = self.check_same(write, ext, rows)
                by_id = {a["id"]: a for a in got}
                self.assertEqual(by_id["EAP99-02"]["title"], "=1+2")
                self.assertIn("<script>", by_id["EAP99-01"]["title"])
                self.assertEqual(len(by_id["EAP99-04"]["progress"]), len(LONG.strip()))


class MergedTimeframes(Fixture):
    """Three actions sharing one Timeframe and one Responsibility cell merged
    down over their rows, the Timeframe a month typed into Excel (the 1st
    of March shown "mmm-yy"): each action is due on 31 March and owned by
    that team, as in the same plan kept as CSV."""

    def rows(self):
        rows = [list(r) for r in seed_rows()[:3]]
        for r in rows:
            r[4], r[5] = rows[0][4], "March 2024"
        return rows

    def test_xlsx(self):
        rows = self.rows()
        write_csv(self.path("plan.csv"), rows)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Actions"
        ws.append(HEADER)
        for r, row in enumerate(rows, 2):
            for c, text in enumerate(row, 1):
                if c in (5, 6) and r > 2:
                    continue  # only a merge's top-left cell holds its value
                cell = ws.cell(row=r, column=c)
                if c == 6:
                    cell.value = datetime.datetime(2024, 3, 1)
                    cell.number_format = "mmm-yy"
                elif text:
                    cell.value = text
        for col in ("E", "F"):
            ws.merge_cells(f"{col}2:{col}4")
        wb.save(self.path("plan.xlsx"))
        with zipfile.ZipFile(self.path("plan.xlsx")) as z:
            self.assertIn(b'<mergeCell ref="F2:F4"', z.read("xl/worksheets/sheet1.xml"))
        self.check(rows)

    def test_ods(self):
        rows = self.rows()
        write_csv(self.path("plan.csv"), rows)
        doc = OpenDocumentSpreadsheet()
        t = Table(name="Actions")
        for r, row in enumerate([HEADER] + rows):
            tr = TableRow()
            for c, text in enumerate(row):
                if c in (4, 5) and r > 1:
                    tr.addElement(CoveredTableCell())
                    continue
                args = {"numberrowsspanned": 3} if c in (4, 5) and r == 1 else {}
                if c == 5 and r:
                    tc = TableCell(valuetype="date", datevalue="2024-03-31", **args)
                else:
                    tc = TableCell(valuetype="string", **args)
                tc.addElement(P(text=text))
                tr.addElement(tc)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
        doc.save(self.path("plan.ods"))
        self.check(rows, ".ods")

    def check(self, rows, ext=".xlsx"):
        want = self.actions(self.path("plan.csv"))
        got = self.actions(self.path("plan" + ext))
        self.assertEqual(len(got), 3)
        for a in got:
            self.assertEqual(a["deadline"], "2024-03-31", a)
            self.assertEqual(a["owners"], rows[0][4], a)
            self.assertEqual(a["warnings"], [], a)
        ids = {r[0] for r in rows} if ext == ".ods" else set()
        self.assertEqual(comparable(got, ids), comparable(want, ids))
        p = self.tickler(self.path("plan" + ext), "check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("undated", p.stdout + p.stderr)
        self.assertNotIn("fallback", p.stdout + p.stderr)


class Places(Fixture):
    def test_warnings_name_the_cell(self):
        rows = seed_rows()[:3]
        rows[1][5] = "sometime soon"
        rows[2][6] = "Pending review"
        for write, ext in ((write_xlsx, ".xlsx"), (write_ods, ".ods")):
            with self.subTest(ext):
                write(self.path("plan" + ext), rows)
                p = self.tickler(self.path("plan" + ext), "check")
                place = self.path("plan" + ext) + ":Actions!"
                self.assertIn(place + "F3: warning: [deadline] \"sometime soon\"", p.stdout + p.stderr)
                self.assertIn(place + "G4: warning: [status] \"Pending review\"", p.stdout + p.stderr)

    def test_named_sheet(self):
        rows = seed_rows()
        write_xlsx(self.path("book.xlsx"), rows, sheet="Plan 2022-25", before=("Other",),
                   first=False)
        write_ods(self.path("book.ods"), rows, sheet="Plan 2022-25", first=False)
        for ext in (".xlsx", ".ods"):
            with self.subTest(ext):
                got = self.actions(self.path("book" + ext) + "#Plan 2022-25")
                self.assertEqual(len(got), len(rows))
                self.assertEqual(got[0]["file"], self.path("book" + ext) + ":Plan 2022-25")
                err = self.refused(self.path("book" + ext) + "#Plan 2023", "no sheet named \"Plan 2023\"")
                self.assertIn("\"Plan 2022-25\"", err)
                self.assertIn("\"Other\"" if ext == ".xlsx" else "\"Notes\"", err)
        # the first sheet, "Cover", has no header row
        self.refused(self.path("book.xlsx"), "book.xlsx:Cover: error: [title] no header row")


def zip_bomb(path, part="_rels/.rels"):
    """A small workbook whose one part (the first an .xlsx reader reads, or
    an .ods file's content.xml) expands past 256 MiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(part, "w") as f:
            f.write(b"<Relationships>")
            chunk = b"<x/>" + b" " * (1 << 20)  # text nodes within libxml2's limit
            for _ in range(260):
                f.write(chunk)
            f.write(b"</Relationships>")


def huge_sheet(path):
    """A valid workbook with a value in row 1,048,577."""
    write_xlsx(path, seed_rows())
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = max((n for n in parts if n.startswith("xl/worksheets/")), key=lambda n: len(parts[n]))
    parts[name] = parts[name].replace(
        b"</sheetData>",
        b'<row r="1048577"><c r="D1048577" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def many_cells(path):
    """An .ods with a row of 16,384 values repeated 100 times."""
    doc = OpenDocumentSpreadsheet()
    t = Table(name="Actions")
    tr = TableRow()
    for h in HEADER:
        tc = TableCell(valuetype="string")
        tc.addElement(P(text=h))
        tr.addElement(tc)
    t.addElement(tr)
    tr = TableRow(numberrowsrepeated=100)
    tc = TableCell(valuetype="string", numbercolumnsrepeated=16384)
    tc.addElement(P(text="x"))
    tr.addElement(tc)
    t.addElement(tr)
    doc.spreadsheet.addElement(t)
    doc.save(path)


class Refused(Fixture):
    def test_corrupt_zip(self):
        write_xlsx(self.path("good.xlsx"), seed_rows())
        data = read_bytes(self.path("good.xlsx"))
        write_bytes(self.path("plan.xlsx"), data[: len(data) // 2])
        write_bytes(self.path("plan.ods"), b"PK\x03\x04 this is no archive")
        self.refused(self.path("plan.xlsx"), "plan.xlsx: error: not a readable ZIP archive")
        self.refused(self.path("plan.ods"), "plan.ods: error: not a readable ZIP archive")

    def test_zip_bomb(self):
        zip_bomb(self.path("bomb.xlsx"))
        self.assertLess(os.path.getsize(self.path("bomb.xlsx")), 1 << 20)
        self.refused(self.path("bomb.xlsx"), "[_rels/.rels] expands past 256 MiB",
                     "refused as a possible ZIP bomb")

    def test_huge_sheet(self):
        huge_sheet(self.path("huge.xlsx"))
        self.refused(self.path("huge.xlsx"), "huge.xlsx:Actions:1048577: error:",
                     "a value in row 1048577; a sheet has at most 1,048,576 rows")
        many_cells(self.path("wide.ods"))
        self.refused(self.path("wide.ods"), "wide.ods:Actions",
                     "more than 200,000 cells with a value; a plan's sheet may hold at most "
                     "200,000 (a row repeated 100 times): the sheet is refused as too large")


class Daemon_(Fixture):
    def run_daemon(self, entry, plan, write, bad):
        with open(self.conf) as f:
            text = f.read().replace('files = [ "sample-plan.csv" ];', 'files = [ "%s" ];' % entry)
        with open(self.conf, "w") as f:
            f.write(text)
        rows = seed_rows()
        write(plan, rows)
        d = Daemon(self.conf, self.state)
        try:
            n = d.wait_for("started: 39 actions")
            # broken, saved by rename as an office suite saves: the plan as
            # last read good stays in force
            bad(plan + ".tmp")
            os.rename(plan + ".tmp", plan)
            n = d.wait_for("a plan file cannot be read (see the warnings above): the file as last "
                           "read good is in force until it is mended", after=n)
            n = d.wait_for("store reloaded: 39 actions, ", after=n)
            self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
            # a good edit: one action's deadline moves
            rows[0][5] = "Jan 2025"
            write(plan + ".tmp", rows)
            os.rename(plan + ".tmp", plan)
            n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
            self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
            return d.log()
        finally:
            self.assertEqual(d.stop(), 0)

    def test_a_sheet_that_breaks_keeps_its_workbook_as_last_read_good(self):
        """Two sheets of one workbook in store.files: when one can no
        longer be read, the other sheet read good must not replace the copy
        of the workbook, which the broken sheet is read from."""
        book = self.path("book.xlsx")

        def write(more_header):
            rows = seed_rows()
            write_xlsx(book, rows[:20])
            wb = openpyxl.load_workbook(book)
            more = wb.create_sheet("More")
            if more_header:
                more.append(HEADER)
            for row in rows[20:]:
                more.append(row)
            wb.save(book)

        with open(self.conf) as f:
            text = f.read().replace('files = [ "sample-plan.csv" ];',
                                    'files = [ "book.xlsx#Actions", "book.xlsx#More" ];')
        with open(self.conf, "w") as f:
            f.write(text)
        write(True)
        check = [tool("ticklerd"), "--check-config", "-c", self.conf, "-p", harness.plugin_dir(),
                 "--state-dir", self.state]
        run = [tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
               self.state, "--now", "2023-03-01T09:00", "--oneshot"]
        p = subprocess.run(run, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        write(False)  # More loses its header row
        for _ in range(2):  # the second after a run that read Actions good
            p = subprocess.run(check, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("configuration ok: 39 actions", p.stdout)
            self.assertIn("book.xlsx#More: warning: cannot be read, so the file as last read good",
                          p.stderr)
            p = subprocess.run(run, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("a plan file cannot be read (see the warnings above)", p.stderr)

    def test_xlsx_corrupt_then_good(self):
        plan = self.path("plan.xlsx")

        def corrupt(p):
            write_bytes(p, read_bytes(plan)[:1000])

        log = self.run_daemon("plan.xlsx", plan, write_xlsx, corrupt)
        self.assertIn("not a readable ZIP archive", log)

    def test_ods_named_sheet_bomb_then_good(self):
        log = self.run_daemon("plan.ods#Actions", self.path("plan.ods"), write_ods,
                              lambda p: zip_bomb(p, "content.xml"))
        self.assertIn("refused as a possible ZIP bomb", log)

    def test_xlsx_huge_then_good(self):
        log = self.run_daemon("plan.xlsx", self.path("plan.xlsx"), write_xlsx, huge_sheet)
        self.assertIn("a sheet has at most 1,048,576 rows", log)


class Libraries(Fixture):
    """libxml2 and libzip are loaded when a spreadsheet is read, and only
    then; libpq when the PostgreSQL backend is read (daemon/dynlib/). What
    the dynamic loader reports opening."""

    LIBS = re.compile(r"file=(lib(?:xml2|zip|pq|curl[-a-z]*)\.so[.0-9]*) ")

    def loaded(self, store, *command):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                            "--store", store, *command],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, LD_DEBUG="files"))
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        return p.stdout, {re.sub(r"\.so.*", "", x) for x in self.LIBS.findall(p.stderr)}

    def test_only_a_spreadsheet_loads_its_libraries(self):
        rows = seed_rows()
        write_csv(self.path("plan.csv"), rows)
        write_xlsx(self.path("plan.xlsx"), rows)
        # actions --json reads the officers' updates too: on PostgreSQL,
        # through libpq
        state = {"libpq"} if harness.BACKEND == "postgresql" else set()
        out, libs = self.loaded(self.path("plan.csv"), "actions", "--json")
        self.assertEqual(len(json.loads(out)), len(rows))
        self.assertEqual(libs, state)
        out, libs = self.loaded(self.path("plan.xlsx"), "actions", "--json")
        self.assertEqual(len(json.loads(out)), len(rows))
        self.assertEqual(libs, {"libxml2", "libzip"} | state)

    def test_upcoming_loads_libpq_only_on_postgresql(self):
        write_csv(self.path("plan.csv"), seed_rows())
        out, libs = self.loaded(self.path("plan.csv"), "upcoming", "--days", "400")
        self.assertRegex(out[:200], r"^20\d\d-\d\d-\d\dT09:00")  # it listed reminders
        self.assertEqual(libs, {"libpq"} if harness.BACKEND == "postgresql" else set())

    def hidden(self, libs, *args):
        """tickler args run as on a machine where libs (file names'
        beginnings) are not installed: tests/preload/hide_library.c makes
        their dlopen fail."""
        env = dict(os.environ, TICKLER_TEST_HIDE=",".join(libs),
                   LD_PRELOAD=os.path.join(harness.BUILD, "tests", "preload", "hide_library.so"),
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        return subprocess.run([tool("tickler"), "--plugin-dir", harness.plugin_dir(), *args],
                              capture_output=True, text=True, timeout=300, env=env)

    def without(self, libs, store, *command):
        """tickler command on store, libs hidden (hidden)."""
        return self.hidden(libs, "-c", self.conf, "--store", store, *command)

    def test_a_missing_library_is_named_and_stops_the_read(self):
        rows = seed_rows()
        write_xlsx(self.path("plan.xlsx"), rows)
        write_ods(self.path("plan.ods"), rows)
        for lib, pkg in (("libzip.so", "libzip4"), ("libxml2.so", "libxml2")):
            for plan in ("plan.xlsx", "plan.ods"):
                p = self.without([lib], self.path(plan), "check")
                out = p.stdout + p.stderr
                self.assertEqual(p.returncode, 1, out)
                self.assertIn(self.path(plan), out)
                self.assertRegex(out, r"Reading spreadsheets and Word documents or writing a Word report needs %s\.\d+ "
                                 r"\(Debian package %s\), which cannot be loaded: .*hidden by "
                                 r"the test" % (re.escape(lib), pkg))
                # that alone: not a second, wrong reason
                self.assertNotIn("not a readable ZIP archive", out)
                self.assertNotIn("this part is missing", out)
        # the CSV export of the same plan needs neither
        write_csv(self.path("plan.csv"), rows)
        p = self.without(["libzip.so", "libxml2.so"], self.path("plan.csv"), "actions", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)), len(rows))
        # its progress report as a Word document needs both, and says so,
        # writing nothing; as HTML, neither
        for lib, pkg in (("libzip.so", "libzip4"), ("libxml2.so", "libxml2")):
            docx = self.path("report.docx")
            p = self.without([lib], self.path("plan.csv"), "--state-dir", self.path("."),
                             "report", "--format", "docx", "-o", docx)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertRegex(p.stderr, r"tickler report: Reading spreadsheets and Word documents "
                             r"or writing a Word report needs %s\.\d+ \(Debian package %s\)"
                             % (re.escape(lib), pkg))
            self.assertFalse(os.path.exists(docx))
        p = self.without(["libzip.so", "libxml2.so"], self.path("plan.csv"), "--state-dir",
                         self.path("."), "report", "-o", self.path("report.html"))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_without_libcurl_a_plan_at_a_url_says_why(self):
        """The sample's notifier (maildir) needs no libcurl, so it can be
        hidden: a plan at a URL, in the configuration or given with
        --store, is refused naming the library; a CSV plan is read."""
        url = "https://plans.example.org/plan.csv"
        with open(self.conf) as f:
            text = f.read()
        conf = self.path("url.conf")
        with open(conf, "w") as f:
            f.write(re.sub(r"(?m)^  files = \[.*\];", '  files = [ "%s" ];' % url, text, count=1))
        want = ("Network transfers (links, notifiers, the web face) needs libcurl.so.4 (Debian "
                "package libcurl4), which cannot be loaded")
        for command in (["-c", conf, "check"], ["-c", self.conf, "--store", url, "check"]):
            p = self.hidden(["libcurl.so"], *command)
            out = p.stdout + p.stderr
            self.assertEqual(p.returncode, 1, out)
            self.assertIn(want, out)
            self.assertNotIn("a URL tickler cannot read", out)
        write_csv(self.path("plan.csv"), seed_rows())
        p = self.without(["libcurl.so"], self.path("plan.csv"), "check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    @unittest.skipUnless(harness.BACKEND == "postgresql", "the state is on PostgreSQL")
    def test_without_libpq_the_shared_state_is_an_error_not_an_empty_one(self):
        write_csv(self.path("plan.csv"), seed_rows())
        for command in (("status",), ("upcoming", "--days", "30"), ("updates",)):
            p = self.without(["libpq.so"], self.path("plan.csv"), *command)
            out = p.stdout + p.stderr
            self.assertEqual(p.returncode, 1, (command, out[-2000:]))
            self.assertIn("The PostgreSQL backend needs libpq.so.5 (Debian package libpq5), "
                          "which cannot be loaded", out)
            self.assertNotIn("no ticklerd has run", out)
            self.assertNotIn("no updates recorded", out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
