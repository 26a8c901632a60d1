#!/usr/bin/env python3
"""Update requests end to end (daemon/report/request_updates.c): ticklerd
with report.request_updates = [ "03-01" ] and a real SMTP server (aiosmtpd),
its clock set by --now. On Monday 1 March 2027 each team that owns actions
gets one message listing them and the "by" date; after one team answers
(an update row written into the state database, as the action page writes
it), the follow-up of 15 March goes only to the others; on 23 March, the
morning after the "by" date, report_to's summary names who answered for
every action, who for some and who not at all, with the actions still
without an answer. A restart sends nothing twice, and `tickler upcoming`
lists the requests ahead. The same on PostgreSQL (integration_requests_pg),
the answers written into the shared updates table."""
import argparse
import email
import email.policy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

import harness
from harness import Daemon, tool

ARGS = None
# (ref, title, owner)
PLAN = [("A1", "Publish the gender pay gap report", "Alpha"),
        ("A2", "Train every manager in inclusive recruitment", "Alpha"),
        ("B1", "Review the hate crime reporting protocol", "Beta"),
        ("G1", "Translate the consultation leaflets", "Gamma")]


def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg["Subject"], msg.get_body(preferencelist=("plain",)).get_content()


class Requests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-requests-")
        self.state = os.path.join(self.tmp, "state")
        self.smtp = harness.SmtpSink()
        with open(os.path.join(self.tmp, "link.key"), "w") as f:
            f.write("5a" * 32 + "\n")
        with open(os.path.join(self.tmp, "plan.csv"), "w", newline="") as f:
            f.write("Ref,Objective,Actions,Responsibility,Timeframe,Status\r\n")
            for ref, title, owner in PLAN:
                f.write("%s,As an employer,%s,%s,31/12/2027,In progress\r\n" % (ref, title, owner))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        teams = ",\n".join(
            '  { id = "%s"; name = "%s"; recipients = { mail = [ "%s@example.org" ]; }; }'
            % (t.lower(), t, t.lower()) for t in ("Alpha", "Beta", "Gamma", "EDI"))
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
delivery = { report_to = "edi"; };
report = { request_updates = [ "03-01" ];
           status_words = { ongoing = "Still in the plan"; }; title = "Our plan: progress"; };
http = { listen = [ "127.0.0.1:%d" ]; };
links = { keys = ( { id = "k1"; file = "link.key"; } ); };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://localhost:%d"; tls = "none";
                             from = "Action plan <tickler@council.example>"; }; } );
teams = (
%s
);
""" % (harness.free_port(), self.smtp.port, teams))

    def tearDown(self):
        self.smtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_once(self, now):
        """ticklerd --oneshot at now: what is due is sent, then it stops.
        Returns {recipient: (subject, text)} of the messages it sent."""
        before = len(self.smtp.received())
        d = Daemon(self.conf, self.state, "--now", now, "--oneshot")
        self.assertEqual(d.wait(timeout=120), 0, d.log())
        got = {}
        for rcpts, raw in self.smtp.received()[before:]:
            self.assertEqual(len(rcpts), 1)
            self.assertNotIn(rcpts[0], got, "two messages to %s" % rcpts[0])
            got[rcpts[0]] = parse(raw)
        return got

    def ids(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "actions", "--json"],
                           capture_output=True, text=True, check=True)
        data = json.loads(p.stdout)
        actions = data["actions"] if isinstance(data, dict) else data
        return {a["title"]: a["id"] for a in actions}

    def answer(self, title, who, team, at):
        """Records a progress note on the action titled title, as the
        action page does: a row of the updates table (at: an ISO date-time
        in UTC, which is London's time in March)."""
        import datetime
        t = int(datetime.datetime.fromisoformat(at + "+00:00").timestamp())
        row = (self.ids()[title], who, team, t, t - 3600, "On track", "31/12/2027",
               "In progress", team.capitalize())
        if harness.PG:  # the shared updates table, as a node's action page writes it
            harness.pg_sql(self.conf, "INSERT INTO updates(action_id, recipient, team_id, kind, "
                           "at, link_issued_at, rag, note, plan_deadline_text, plan_status, "
                           "plan_owners) VALUES('%s', '%s', '%s', 3, %d, %d, 3, '%s', '%s', '%s', "
                           "'%s')" % row)
            return
        db = sqlite3.connect(os.path.join(self.state, "tickler.db"))
        try:
            with db:
                db.execute("INSERT INTO updates(action_id, recipient, team_id, kind, at, "
                           "link_issued_at, rag, note, plan_deadline_text, plan_status, "
                           "plan_owners) VALUES(?,?,?,3,?,?,3,?,?,?,?)", row)
        finally:
            db.close()

    def test_request_follow_up_and_summary(self):
        # Monday 1 March 2027: one message per owning team, its actions and the "by" date
        got = self.run_once("2027-03-01T09:00:30")
        self.assertEqual(set(got), {"alpha@example.org", "beta@example.org",
                                    "gamma@example.org"})
        subject, text = got["alpha@example.org"]
        self.assertEqual(subject, "Update request: 2 actions for Alpha")
        self.assertIn("Please give your progress on each action below by Monday 22 March 2027",
                      text)
        self.assertIn(PLAN[0][1], text)
        self.assertIn(PLAN[1][1], text)
        self.assertNotIn(PLAN[2][1], text)
        subject, text = got["gamma@example.org"]
        self.assertEqual(subject, "Update request: " + PLAN[3][1])
        self.assertIn(PLAN[3][1], text)

        # once: a restart the same day sends nothing more
        self.assertEqual(self.run_once("2027-03-01T11:00"), {})

        # Beta answers; Alpha and Gamma do not
        self.answer(PLAN[2][1], "beta@example.org", "beta", "2027-03-05T10:12")
        got = self.run_once("2027-03-15T09:00:30")
        self.assertEqual(set(got), {"alpha@example.org", "gamma@example.org"})
        subject, text = got["alpha@example.org"]
        self.assertIn("On Monday 1 March 2027 we asked for your progress", text)
        self.assertIn(PLAN[0][1], text)
        self.assertIn(PLAN[1][1], text)

        # Alpha answers for one of its two; Gamma never does
        self.answer(PLAN[0][1], "alpha@example.org", "alpha", "2027-03-22T16:40")
        self.assertEqual(self.run_once("2027-03-22T17:00"), {})  # the "by" day itself
        got = self.run_once("2027-03-23T09:00:30")
        self.assertEqual(set(got), {"edi@example.org"})
        subject, text = got["edi@example.org"]
        self.assertEqual(subject, "Update request summary: 2 actions without an answer")
        flat = " ".join(text.split())
        self.assertIn("Answers to the update request of Monday 1 March 2027, due by Monday 22 "
                      "March 2027: 3 teams were asked about 4 actions.", flat)
        self.assertIn("Answered for every action: Beta.", flat)
        self.assertIn("Answered for some: Alpha (1 of 2).", flat)
        self.assertIn("Not answered: Gamma.", flat)
        self.assertIn(PLAN[1][1], text)
        self.assertIn(PLAN[3][1], text)
        self.assertNotIn(PLAN[0][1], text)
        self.assertNotIn(PLAN[2][1], text)
        self.assertEqual(self.run_once("2027-03-24T09:00:30"), {})

    def test_a_summary_of_every_team_answering_offers_no_link(self):
        """Every team answered: the summary's one line stands for the
        request, not an action, so it has no link (one would open a page
        saying the action left the plan), no action id, no timeframe."""
        self.run_once("2027-03-01T09:00:30")
        for i, who in ((0, "alpha"), (1, "alpha"), (2, "beta"), (3, "gamma")):
            self.answer(PLAN[i][1], "%s@example.org" % who, who, "2027-03-05T10:1%d" % i)
        got = self.run_once("2027-03-23T09:00:30")
        self.assertEqual(set(got), {"edi@example.org"})
        subject, text = got["edi@example.org"]
        self.assertEqual(subject,
                         "Update request summary: Every team answered for every action it was asked about")
        self.assertIn("Answered for every action: Alpha; Beta; Gamma.", " ".join(text.split()))
        self.assertIn("Officers' answers", text)
        for absent in ("/a/", "Action id", "Timeframe", "request:2027", "Check-ins", "Not ours"):
            self.assertNotIn(absent, text)

    def test_upcoming_lists_the_requests(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "upcoming", "--from", "2027-02-25",
                            "--days", "10", "--json"], capture_output=True, text=True, check=True)
        rows = [(r["at"], r["stage"], r["team"], r["title"]) for r in json.loads(p.stdout)]
        self.assertEqual(rows, [("2027-03-01T09:00:00+00:00", "request", owner.lower(), title)
                                for _, title, owner in PLAN])
        p = subprocess.run([tool("tickler"), "-c", self.conf, "upcoming", "--from", "2027-02-25",
                            "--days", "10", "--owner", "Beta"],
                           capture_output=True, text=True, check=True)
        self.assertIn("request", p.stdout)
        self.assertIn("-> mail:beta@example.org", p.stdout)
        self.assertNotIn("alpha", p.stdout)

    def test_the_report_speaks_the_configured_words(self):
        # the report group's words and title reach tickler report (with a
        # state directory, as ticklerd's package makes it: one named that
        # does not exist is refused)
        os.makedirs(self.state, exist_ok=True)
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state, "report",
                            "--format", "md"], capture_output=True, text=True, check=True)
        self.assertTrue(p.stdout.startswith("# Our plan: progress\n"), p.stdout)
        self.assertIn("Still in the plan", p.stdout)
        self.assertNotIn("Ongoing/remain included in action plan", p.stdout)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest)
