#!/usr/bin/env python3
"""Integration tests of plans published as a Word table (.docx): files
written by python-docx (an independent writer), read by the real tickler
and ticklerd. Run by ctest; see tests/CMakeLists.txt."""
import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

import harness
from harness import Daemon, tool

ARGS = None

CL, EM, SP = "As a Community Leader", "As an Employer", "As a Service Provider"


def list_item(cell, text, numbered=False):
    """A list item in cell: by the List Bullet style, or (numbered) by a
    w:numPr of its own, as Word writes a list pasted into a cell."""
    if not numbered:
        return cell.add_paragraph(text, style="List Bullet")
    p = cell.add_paragraph(text)
    num = OxmlElement("w:numPr")
    for tag, val in (("w:ilvl", "0"), ("w:numId", "1")):
        e = OxmlElement(tag)
        e.set(qn("w:val"), val)
        num.append(e)
    p._p.get_or_add_pPr().append(num)
    return p


def fill(cell, items, lists=False):
    """Writes items into cell: the first in its first paragraph, each further
    one as a paragraph of its own (a numbered list item when lists). A str
    item may hold line breaks, written as w:br inside one paragraph."""
    if isinstance(items, str):
        items = [items]
    for i, text in enumerate(items):
        if i == 0 and not lists:
            p = cell.paragraphs[0]
        elif i == 0:
            cell._tc.remove(cell.paragraphs[0]._p)
            p = list_item(cell, "", numbered=True)
        else:
            p = list_item(cell, "", numbered=True) if lists else cell.add_paragraph()
        for j, line in enumerate(text.split("\n")):
            run = p.add_run(line)
            if j < len(text.split("\n")) - 1:
                run.add_break()


def spanning_row(table, text):
    """A row of one cell spanning the table (w:gridSpan)."""
    cells = table.add_row().cells
    merged = cells[0].merge(cells[-1])
    merged.paragraphs[0].text = text
    return merged


def commitment(cell, lead, bullets=()):
    fill(cell, lead)
    for b in bullets:
        list_item(cell, b)


# The Equality Objectives and Action Plan 2022-2025 as published (seed 000):
# three tables, one per objective, each with the objective, its label and
# description in rows spanning the table, then the heading row, then rows
# whose cells list several actions side by side with their owners and
# timeframes, then the connections to other plans.
PARTNERS = ("We will work closely with our partners (Voluntary and Community Sector, Anchor "
            "Institutions, Parishes and Church and Faith groups) to:",
            ["Identify opportunities for joined up working and improving our ability to share "
             "information to support and engage our wider communities",
             "Increase volunteering opportunities and participation, funding and support"])
PLAN = [
    (CL, "To lead by example, to ensure every individual resident is connected and supported.",
     "Timeframe", [
         (PARTNERS,
          ["Create join up with Housing Associations to deliver hardship payments as part of the "
           "Xantura project",
           "Implement no wrong door (local campaign to signpost to services) – increasing access "
           "to services",
           "Provide access to digital training and support at Trinity House."],
          ["Housing/Revs and Bens", "All teams (led by Inclusion board)",
           "Housing\nCommunities, Policy & Engagement team"],
          ["April 2023", "March 2023", "Review Jan 2023"]),
         (("We will undertake a review of consultation and engagement activities to ensure that "
           "they maximise resident participation and are representative of Maidstone’s "
           "demographic.", []),
          ["Increase response rates from underrepresented groups through us of Let’s Talk "
           "Maidstone (the Council’s new public engagement platform)"],
          ["Communities, Policy & Engagement team"], ["Review Jan 2023"]),
         (("We will support and promote diversity and inclusion in the borough through our "
           "communications and events – with a focus on our seldom-heard communities.", []),
          ["Expand internal Equality Diversity and Inclusion Group to provide internal direction "
           "and challenge",
           "Create Diversity Calendar - Annual calendar of events to celebrate diversity and "
           "promote inclusion in Maidstone"],
          ["Communities, Policy & Engagement team",
           "Equality, Diversity and Inclusion Officer Group"], ["Jan 2023", "March 2023"]),
         (("We will support our serving and veteran communities through our commitment to the "
           "Armed Forces Covenant and responsibilities under the Armed Forces Act 2021 with "
           "guidance provided to staff across all services.", []),
          ["Provide guidance to enable all staff to support Armed Forces Community"],
          ["Policy, Communities & Engagement team"], ["March 2023"]),
     ], ["Strategic Plan", "Communications Plan", "Recovery and Renewal Strategy",
         "Financial Inclusion Strategy"]),
    (EM, "To lead a diverse and inclusive workforce that is reflective of the borough of Maidstone "
     "where residents and colleagues feel safe, confident, and empowered to challenge and bring "
     "about change.", "Timescale", [
         (("We will train our staff so that they are skilled in inclusive practice, to work with "
           "communities who are less able, or willing, to participate in life in their local "
           "neighbourhoods.", []),
          ["Provide Staff training in Cultural Competencies"], ["HR"], ["Review Jan 2023"]),
         (("We will provide training and support to staff so they can recognise and manage "
           "unacceptable behaviours", []),
          ["Introduce Equalities Champions (including elected member and senior leadership)",
           "Deliver the Culture change project"],
          ["Policy Communities & Engagement team", "HR"], ["April 2023", "Ongoing"]),
         (("We will creating a strong, internal sense of community within the organisation.", []),
          ["Introduce Annual staff EDI survey to identify need and benchmark progress"],
          ["Policy, Communities & Engagement team"], ["Jan 2023"]),
         (("We will look after the mental health of our staff and recognise when this offer needs "
           "to change", []),
          ["Provide training and support for Mental Health Champions"], ["HR"], ["Ongoing"]),
     ], ["Strategic Plan", "Workforce Strategy"]),
    (SP, "To deliver inclusive services in accordance with Council's values.", "Timescale", [
        (("We will use specific and meaningful language when referring to diverse communities",
          []), ["Adopt of LGA Inclusive Language Guide"],
         ["Policy, Communities & Engagement team"], ["April 2023"]),
        (("We will support access to services and support through ICT process, communication and "
          "join up with partners", []),
         ["Proactively use 'neutral spaces' to increase access to support and services for "
          "residents"],
         ["Equality, Diversity and Inclusion Officer Group", "All Services"], ["Review Jan 2023"]),
        (("We will take an evidence-based approach to leading recovery in Maidstone including a "
          "specific work stream on communities.", []),
         ["Identify emerging needs from Census data"], ["Data Analytics team"],
         ["Dec 2023 (ongoing release)"]),
        (("We will review the Equalities Impact Assessment processes.", []),
         ["Include 'Poverty' as a local protected characteristic with the EqIA process"],
         ["Policy, Communities & Engagement team"], ["Jan 2023"]),
        (("We will review and identify our policies where we consider equalities impacts and "
          "identify how we can improve outcomes through revisions to policy.", []),
         ["Include Armed Forces Act 2021 in Equality, Diversity and Inclusion Policy"],
         ["Policy, Communities & Engagement team"], ["Dec 2022"]),
        # the commitment above spans this row too (w:vMerge)
        (None, ["Prioritise existing Policies by review date and implement process of review for "
                "equalities."],
         ["Policy, Communities & Engagement team"], ["Review Feb 2023"]),
    ], ["Strategic Plan", "Recovery & Renewal Strategy", "Digital Strategy"]),
]


def write_plan(path):
    """The 2022-2025 plan as the council published it, into path."""
    d = docx.Document()
    d.add_paragraph("(Draft) Equality Objectives and Action Plan 2022-2025")
    for objective, description, when, rows, connections in PLAN:
        t = d.add_table(rows=0, cols=4)
        spanning_row(t, objective)
        spanning_row(t, "Objective")
        spanning_row(t, description)
        for cell, text in zip(t.add_row().cells, ["Commitments", "Actions", "Responsibility", when]):
            cell.text = text
        above = None
        for com, actions, owners, timeframes in rows:
            cells = t.add_row().cells
            if com is None:
                above.merge(cells[0])
            else:
                commitment(cells[0], *com)
                above = cells[0]
            fill(cells[1], actions, lists=len(actions) > 1)
            fill(cells[2], owners)
            fill(cells[3], timeframes)
        spanning_row(t, "Connections to other plans")
        cell = spanning_row(t, "")
        for c in connections:
            list_item(cell, c)
        d.add_paragraph("")
    d.save(path)


def simple_plan(path, rows, heading=("Actions", "Responsibility", "Timeframe")):
    """A plan of one table: the heading row, then one row per tuple of
    cells, each cell a str or a list of paragraphs."""
    d = docx.Document()
    t = d.add_table(rows=0, cols=len(heading))
    for cell, text in zip(t.add_row().cells, heading):
        cell.text = text
    for row in rows:
        for cell, items in zip(t.add_row().cells, row):
            fill(cell, items)
    d.save(path)


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-docx-")
        self.conf = harness.copy_sample(ARGS.source, self.tmp)
        self.state = os.path.join(self.tmp, "state")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tickler(self, store, *args):
        return subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir",
                               harness.plugin_dir(), "--store", store, *args],
                              capture_output=True, text=True, timeout=120)

    def actions(self, store):
        p = self.tickler(store, "actions", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def check(self, store):
        """tickler check on store: its exit status and what it printed."""
        p = self.tickler(store, "check")
        return p.returncode, p.stdout + p.stderr


def without_place(a):
    return {k: v for k, v in a.items() if k not in ("id", "file", "line")}


class PublishedPlan(Fixture):
    def test_2022_plan_gives_the_actions_of_the_sample_csv(self):
        plan = os.path.join(self.tmp, "plan.docx")
        write_plan(plan)
        got = self.actions(plan)
        want = [a for a in self.actions(os.path.join(self.tmp, "sample-plan.csv"))
                if a["id"].startswith("EAP22-")]
        self.assertEqual(len(want), 18)
        self.assertEqual([without_place(a) for a in got], [without_place(a) for a in want])
        # each action named by its table and row (and item, when the row has several)
        self.assertEqual(got[0]["file"], plan + ": table 1, row 5, item 1")
        self.assertEqual(got[2]["file"], plan + ": table 1, row 5, item 3")
        self.assertEqual(got[3]["file"], plan + ": table 1, row 6")

    def test_directory_skips_the_lock_file_of_a_document_open_in_word(self):
        plans = os.path.join(self.tmp, "plans")
        os.mkdir(plans)
        write_plan(os.path.join(plans, "plan.docx"))
        # what Word leaves beside a document it has open: not a ZIP archive
        with open(os.path.join(plans, "~$plan.docx"), "wb") as f:
            f.write(b"\x0bJane Smith" + b"\x00" * 150)
        rc, out = self.check(plans)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("~$plan.docx", out)
        self.assertEqual(len(self.actions(plans)), 18)

    def test_check_reports_the_rows_that_are_not_actions(self):
        plan = os.path.join(self.tmp, "plan.docx")
        write_plan(plan)
        rc, out = self.check(plan)
        self.assertEqual(rc, 0, out)
        # the label and description under the objective, and the connections
        self.assertIn(plan + ": table 1, row 2: warning: [objective] \"Objective\": a label", out)
        self.assertIn(plan + ": table 1, row 3: warning: [objective] the description under the "
                      "label above; the objective stays \"As a Community Leader\"", out)
        self.assertIn(plan + ": table 1, row 9: warning: [objective] \"Connections to other "
                      "plans\": a row of its own with no action below it", out)
        self.assertNotIn("before the header row", out)
        self.assertNotIn("ambiguous", out)


class Alignment(Fixture):
    def test_ambiguous_cell_warns_with_its_place_and_says_what_was_done(self):
        plan = os.path.join(self.tmp, "plan.docx")
        simple_plan(plan, [
            ("Only action", "HR", "April 2023"),
            (["Train staff", "Survey staff", "Report to board"], ["HR", "Housing"],
             ["April 2023", "May 2023", "June 2023"]),
        ])
        rc, out = self.check(plan)
        self.assertIn(plan + ": table 1, row 3: warning: [owners] the Actions cell holds 3 items "
                      "but the Responsibility cell 2, neither one for all nor one for each: each "
                      "of the 3 actions is given the whole Responsibility cell", out)
        got = self.actions(plan)
        self.assertEqual([a["title"] for a in got],
                         ["Only action", "Train staff", "Survey staff", "Report to board"])
        self.assertEqual([a["owners"] for a in got[1:]], ["HR\nHousing"] * 3)
        self.assertEqual([a["deadline_text"] for a in got[1:]],
                         ["April 2023", "May 2023", "June 2023"])

    def test_one_owner_applies_to_every_action(self):
        plan = os.path.join(self.tmp, "plan.docx")
        simple_plan(plan, [(["Train staff", "Survey staff"], "HR", ["April 2023", "May 2023"])])
        rc, out = self.check(plan)
        self.assertNotIn("neither one for all", out)
        got = self.actions(plan)
        self.assertEqual([(a["title"], a["owners"], a["deadline_text"]) for a in got],
                         [("Train staff", "HR", "April 2023"), ("Survey staff", "HR", "May 2023")])


    def test_a_repeated_action_is_renamed_naming_the_row_of_the_first(self):
        plan = os.path.join(self.tmp, "plan.docx")
        simple_plan(plan, [("Train staff", "HR", "April 2023"), ("Train staff", "HR", "May 2023")])
        rc, out = self.check(plan)
        self.assertRegex(out, re.escape(plan + ": table 1, row 3: warning: [id] same id as "
                                        + plan + ": table 1, row 2 (") + r"a[0-9a-f]+\); this row")
        ids = [a["id"] for a in self.actions(plan)]
        self.assertEqual(ids[1], ids[0] + "-2")


class Hostile(Fixture):
    def test_specials_long_text_and_header_injection_are_read_as_text(self):
        plan = os.path.join(self.tmp, "plan.docx")
        specials = "Review <script>alert(1)</script> & \"quotes\" 'too' ]]> &amp; &#x41;"
        long_text = "Long action " + "x" * 200000
        injection = "HR\nBcc: victim@example.org\nSubject: pwned"
        simple_plan(plan, [(specials, "HR", "April 2023"), (long_text, "HR", "May 2023"),
                           ("Injected owner", injection, "June 2023")])
        got = self.actions(plan)
        self.assertEqual(len(got), 3)
        self.assertEqual(got[0]["title"], specials)
        self.assertEqual(got[1]["title"], long_text)
        # the injected lines stay inside the owners text: no team named so
        self.assertEqual(got[2]["owners"], injection)
        self.assertIn("hr", got[2]["teams"])


def bomb(path):
    """A .docx whose document expands past 256 MiB from a file of a few
    hundred KiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                    b'.org/wordprocessingml/2006/main"><w:body>')
            # text nodes under libxml2's own limit of 10 MB each
            chunk = b"<w:p/>" + b" " * (1 << 20)
            for _ in range(300):
                f.write(chunk)
            f.write(b"</w:body></w:document>")


def not_a_plan(path):
    d = docx.Document()
    d.add_paragraph("Minutes of the meeting")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text = "Name"
    t.cell(0, 1).text = "Room"
    d.save(path)


class Refused(Fixture):
    def good(self):
        plan = os.path.join(self.tmp, "plan.docx")
        write_plan(plan)
        with open(plan, "rb") as f:
            return f.read()

    def test_corrupt_bomb_and_not_a_plan_refused_with_a_clear_error(self):
        data = self.good()
        cases = {
            "corrupt.docx": (data[: len(data) // 2], "not a readable ZIP archive"),
            "bomb.docx": (None, "refused as a possible ZIP bomb"),
            "minutes.docx": (None, "none with a heading row: not a plan tickler can read"),
            "noword.docx": (None, "no word/document.xml: a ZIP archive but not a Word document"),
        }
        for name, (content, message) in cases.items():
            path = os.path.join(self.tmp, name)
            if name == "bomb.docx":
                bomb(path)
                self.assertLess(os.path.getsize(path), 2 << 20)
            elif name == "minutes.docx":
                not_a_plan(path)
            elif name == "noword.docx":
                with zipfile.ZipFile(path, "w") as z:
                    z.writestr("xl/workbook.xml", "<workbook/>")
            else:
                with open(path, "wb") as f:
                    f.write(content)
            rc, out = self.check(path)
            self.assertNotEqual(rc, 0, name)
            self.assertIn(path + ": ", out, name)
            self.assertIn(message, out, name)

    def test_running_daemon_keeps_last_good_plan_and_picks_up_a_good_edit(self):
        plan = os.path.join(self.tmp, "plan.docx")
        good = self.good()
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace('files = [ "sample-plan.csv" ];', 'files = [ "plan.docx" ];'))
        d = Daemon(self.conf, self.state)
        try:
            n = d.wait_for("started: 18 actions")
            for broken in ("corrupt", "bomb", "minutes"):
                tmp = plan + ".tmp"
                if broken == "corrupt":
                    with open(tmp, "wb") as f:
                        f.write(good[: len(good) // 2])
                elif broken == "bomb":
                    bomb(tmp)
                else:
                    not_a_plan(tmp)
                os.rename(tmp, plan)
                # the plan as last read good stays in force
                n = d.wait_for("a plan file cannot be read (see the warnings above): the file as "
                               "last read good is in force until it is mended", after=n + 1)
                n = d.wait_for("store reloaded: 18 actions, ", after=n)
                self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
            # a good edit: one more action, saved by rename as Word does
            doc = docx.Document(io.BytesIO(good))
            cells = doc.tables[1].add_row().cells
            fill(cells[1], "Publish the workforce profile")
            fill(cells[2], "HR")
            fill(cells[3], "March 2024")
            doc.save(plan + ".tmp")
            os.rename(plan + ".tmp", plan)
            d.wait_for("store reloaded: 19 actions, ", after=n + 1)
        finally:
            self.assertEqual(d.stop(), 0, d.log())


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
