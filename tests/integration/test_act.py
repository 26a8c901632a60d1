#!/usr/bin/env python3
"""Acting from the message, end to end (daemon/web/act.c and all it sets in
motion): ticklerd delivers a digest to a real SMTP server; headless
Chromium, driven through the DevTools protocol (puppeteer-core), opens the
links taken from the captured message and marks one action complete,
snoozes another for two weeks and gives progress on a third; the updates
are in the state database; at the next send time no reminder goes for the
completed or the snoozed action and the progress note is in the digest; the
snoozed action comes back when its snooze ends; `tickler report` shows the
completion and the note. An action marked complete by mistake is reopened
from the same page: its reminders go again at the next send time and the
report no longer counts it complete. A snooze ended early from the page
(resume) lets its held reminder go at the next send time, not at the
snooze's end. A link fetched three times, as a
mail scanner would, changes nothing. Screenshots of each page are kept in
the build's test-output/."""
import argparse
import base64
import calendar
import csv
import email
import email.policy
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

import harness
from harness import Daemon, tool
from test_web import mint

ARGS = None
KEY = "7f" * 32
PLAN = [("A1", "Publish the gender pay gap report"),
        ("A2", "Train every manager in inclusive recruitment"),
        ("A3", "Review the hate crime reporting protocol")]


def token_action(link):
    """The action id a link's token names (daemon/token/token.h: version,
    key id, action id, each length-prefixed; base64url without padding)."""
    tok = link.rsplit("/", 1)[1]
    raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
    kid_len = raw[1]
    act_len = raw[2 + kid_len]
    return raw[3 + kid_len:3 + kid_len + act_len].decode()


def text_part(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(preferencelist=("plain",)).get_content(), msg


class Act(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-act-")
        self.state = os.path.join(self.tmp, "state")
        self.port = harness.free_port()
        self.smtp = harness.SmtpSink()
        self.daemon = None
        self.logs = []  # of the daemons run before
        self.out = os.path.join(ARGS.build, "test-output")
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.tmp, "link.key"), "w") as f:
            f.write(KEY + "\n")
        with open(os.path.join(self.tmp, "plan.csv"), "w", newline="") as f:
            f.write("Ref,Objective,Actions,Responsibility,Timeframe,Status\r\n")
            for ref, title in PLAN:
                f.write("%s,As an employer,%s,Alpha,30/11/2026,In progress\r\n" % (ref, title))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
http = { listen = [ "127.0.0.1:%d" ]; };
links = { keys = ( { id = "k1"; file = "link.key"; } ); };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://localhost:%d"; tls = "none";
                             from = "Action plan reminders <tickler@council.example>"; }; } );
teams = ( { id = "alpha"; name = "Alpha"; recipients = { mail = [ "alpha@example.org" ]; }; } );
""" % (self.port, self.smtp.port))

    def tearDown(self):
        if self.daemon:
            self.daemon.stop()
        self.smtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_daemon(self, now, messages):
        """ticklerd at now until `messages` messages in all have arrived;
        returns the text parts of the new ones. The web face stays up."""
        if self.daemon:
            self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
            self.logs.append(self.daemon.log())
        before = len(self.smtp.received())
        self.daemon = Daemon(self.conf, self.state, "--now", now)
        self.daemon.wait_for("web face on 127.0.0.1:%d" % self.port)
        wait_until(lambda: len(self.smtp.received()) >= messages and self.waiting() == 0)
        got = self.smtp.received()[before:]
        return [text_part(raw)[0] for _, raw in got]

    def waiting(self):
        """Notices of the outbox not yet delivered (or failed for good)."""
        box = harness.outbox(self.conf, self.state)[0]
        return len([n for n in box if n["state"] in ("pending", "retrying")])

    def links(self, text):
        found = re.findall(r"http://127\.0\.0\.1:%d/a/[A-Za-z0-9_-]+" % self.port, text)
        return {token_action(u): u for u in found}

    def ids(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "actions", "--json"],
                           capture_output=True, text=True, check=True)
        return {a["title"]: a["id"] for a in json.loads(p.stdout)}

    def browser(self, url, step, name):
        shot = os.path.join(self.out, "act-%s.png" % name)
        p = subprocess.run(["node", os.path.join(ARGS.source, "tests", "integration",
                                                 "act_browser.js"),
                            ARGS.node_modules, "/usr/bin/chromium", url, step, shot],
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        print("\nscreenshot: %s" % shot, file=sys.stderr)
        return json.loads(p.stdout)

    def post_again(self, url, form):
        """POSTs form (url-encoded) to url as the page's own form would be
        sent again (the browser's back button, a retry): (status, the
        Location it answers)."""
        origin = "http://127.0.0.1:%d" % self.port
        p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                            "-H", "Origin: " + origin, "--data", "token=%s&%s" % (
                                url.rsplit("/", 1)[1], form), url],
                           capture_output=True, text=True, check=True)
        status, _, location = p.stdout.partition(" ")
        return int(status), location

    def updates(self):
        return harness.updates_rows(self.conf, self.state,
                                    "action_id, recipient, kind, rag, note, until_day")

    def report_csv(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "report", "--from", "2026-12-01", "--to", "2027-01-01",
                            "--format", "csv"], capture_output=True, text=True, check=True)
        return list(csv.reader(io.StringIO(p.stdout.lstrip("\ufeff"))))

    def test_mark_complete_snooze_and_progress_from_the_message(self):
        ids = self.ids()
        a1, a2, a3 = (ids[t] for _, t in PLAN)
        # Monday 7 December: a week overdue, one digest with three links
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        self.assertEqual(len(texts), 1)
        links = self.links(texts[0])
        self.assertEqual(set(links), {a1, a2, a3}, texts[0])

        # a mail scanner fetches every link, three times: nothing changes
        for _ in range(3):
            for u in links.values():
                status, _, _ = harness_curl(u)
                self.assertEqual(status, 200)
        self.assertEqual(self.updates(), [])

        seen = self.browser(links[a1], "look", "page")
        self.assertIn(PLAN[0][1], seen["text"])
        self.assertEqual(self.updates(), [])
        done = self.browser(links[a1], "complete", "complete")
        self.assertEqual(done["status"], 200)
        self.assertIn("complete", done["text"].lower())
        self.browser(links[a2], "snooze:2w", "snooze")
        note = "Draft with legal; <b>published</b> by January"
        self.browser(links[a3], "progress:amber:" + note, "progress")
        rows = self.updates()
        self.assertEqual([(r[0], r[2]) for r in rows], [(a1, 1), (a2, 2), (a3, 3)])
        self.assertTrue(all(r[1] == "alpha@example.org" for r in rows))
        self.assertEqual(rows[2][3:5], (2, note))  # amber, the note as typed
        # what the plan's owner sees: `tickler updates`, who, what, when
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "updates", "--json"], capture_output=True, text=True, check=True)
        seen = json.loads(p.stdout)
        self.assertEqual([(u["action_id"], u["kind"], u["who"]) for u in seen],
                         [(a1, "complete", "alpha@example.org"),
                          (a2, "snooze", "alpha@example.org"),
                          (a3, "progress", "alpha@example.org")])
        self.assertEqual(seen[1]["until"], "2026-12-21")
        self.assertEqual((seen[2]["rag"], seen[2]["note"]), ("amber", note))
        # posting the same form again records nothing more (the page now
        # offers the way back instead: "Not complete after all")
        status, location = self.post_again(links[a1], "do=complete")
        self.assertEqual((status, location), (303, links[a1] + "?same=complete"))
        self.assertEqual(len(self.updates()), 3)

        # Monday 14 December, the next send time: only A3, with its note
        texts = self.run_daemon("2026-12-14T09:00:30", 2)
        self.assertEqual(len(texts), 1)
        self.assertEqual(set(self.links(texts[0])), {a3}, texts[0])
        self.assertIn(note, " ".join(texts[0].split()))  # as typed, wrapped at 76
        self.assertNotIn(PLAN[0][1], texts[0])
        self.assertNotIn(PLAN[1][1], texts[0])

        # Monday 21 December: the snooze has ended; A1 stays complete
        texts = self.run_daemon("2026-12-21T09:00:30", 3)
        self.assertEqual(set(self.links(texts[0])), {a2, a3}, texts[0])

        # no link's token ever reached the daemon's log
        log = "\n".join(self.logs + [self.daemon.log()])
        self.assertIn("update 1 recorded", log)
        for u in links.values():
            self.assertNotIn(u.rsplit("/", 1)[1], log)

        rows = self.report_csv()
        title = rows[0].index("Agreed Actions")
        by_title = {r[title]: r for r in rows[1:] if len(r) > title}
        status = rows[0].index("Status")
        progress = [i for i, h in enumerate(rows[0]) if h.startswith("Progress")][0]
        self.assertEqual(by_title[PLAN[0][1]][status], "Complete/on schedule to deliver")
        self.assertIn(note, by_title[PLAN[2][1]][progress])

    def test_a_not_ours_that_leaves_nobody_reminded_says_so_to_report_to(self):
        """Alpha, the only team the plan names for A1, says it is not
        theirs: delivery.report_to (EDI) is told, and told that no team is
        reminded of it now and that nobody will be (no escalation team),
        until the plan changes its owners."""
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("teams = ( ", 'delivery = { report_to = "edi"; };\nteams = ( '
                                 '{ id = "edi"; name = "EDI officers"; recipients = { mail = [ '
                                 '"edi@example.org" ]; }; }, ', 1))
        a1 = self.ids()[PLAN[0][1]]
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        link = self.links(texts[0])[a1]
        status, _ = self.post_again(link, "do=not-ours&suggested=Facilities&note=Estates+run+it")
        self.assertEqual(status, 303)
        wait_until(lambda: any("edi@example.org" in r for r, _ in self.smtp.received()))
        told = [text_part(raw)[0] for r, raw in self.smtp.received() if "edi@example.org" in r]
        self.assertEqual(len(told), 1)
        said = " ".join(told[0].split())
        self.assertIn("Not ours: alpha@example.org says this action is not for Alpha; that team "
                      "gets no more reminders for it until the plan changes.", said)
        self.assertIn("No team is reminded of it now: it was the only team the plan names. "
                      "Nobody will be, until the plan changes its owners or a team takes it "
                      "back.", said)

    def joint_plan(self):
        """A1 made Alpha's and Beta's ("Beta <Estates>", beta@example.org);
        A1's id."""
        with open(os.path.join(self.tmp, "plan.csv"), "w", newline="") as f:
            f.write("Ref,Objective,Actions,Responsibility,Timeframe,Status\r\n")
            for ref, title in PLAN:
                f.write("%s,As an employer,%s,%s,30/11/2026,In progress\r\n"
                        % (ref, title, "Alpha / Beta" if ref == "A1" else "Alpha"))
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("teams = ( ", 'teams = ( { id = "beta"; name = "Beta <Estates>"; '
                                 'recipients = { mail = [ "beta@example.org" ]; }; }, ', 1))
        return self.ids()[PLAN[0][1]]

    def to(self, rcpt):
        return [raw for r, raw in self.smtp.received() if rcpt in r]

    def test_a_joint_actions_completion_is_told_to_the_other_team_with_its_own_link(self):
        """A1 is Alpha's and Beta's: Alpha's form says Beta is told, Alpha
        marks it complete from its link, and once the completion has
        stood for delivery.joint_settle_seconds (10 minutes: the daemon
        is started again 11 minutes on) Beta's inbox gets one notice
        ("Marked complete by Alpha") with Beta's own link, whose page
        shows A1 complete with "Not complete after all". Alpha is told
        nothing of its own completion."""
        a1 = self.joint_plan()
        to = self.to
        self.run_daemon("2026-12-07T09:00:30", 2)  # each team's digest
        self.assertEqual(len(to("beta@example.org")), 1)
        alpha = text_part(to("alpha@example.org")[0])[0]
        link = self.links(alpha)[a1]
        form = self.browser(link, "look", "joint-form")
        said = " ".join(form["text"].split())
        self.assertIn("the reminders of every one of them stop, and tickler tells the others "
                      "(Beta <Estates>) so, each with a link of their own to undo it.", said)
        self.assertNotIn("does not tell", said)
        done = self.browser(link, "complete", "joint-complete")
        said = " ".join(done["text"].split())
        self.assertIn("Recorded: marked complete.", said)
        self.assertIn("tickler tells the others (Beta <Estates>) so, each with a link of their "
                      "own to undo it. They hear of it once it has stood for 10 minutes; change "
                      "it again before then, and only the last change is told.", said)
        # not before it has settled
        time.sleep(1)
        self.assertEqual(self.waiting(), 0)
        self.assertEqual(len(to("beta@example.org")), 1)

        self.run_daemon("2026-12-07T09:11:30", 3)
        wait_until(lambda: len(to("beta@example.org")) == 2)
        body, msg = text_part(to("beta@example.org")[1])
        self.assertEqual(str(msg["Subject"]),
                         "Marked complete by Alpha: " + PLAN[0][1])
        said = " ".join(body.split())
        self.assertIn("Alpha marked this action complete on Monday 7 December 2026. The plan "
                      "names your team for it too, so your reminders for it have stopped. If "
                      "that is wrong, open the link below", said)
        self.assertIn("Update: Marked complete by Alpha alpha@example.org, Monday 7 December "
                      "2026", said)
        beta_links = self.links(body)
        self.assertEqual(set(beta_links), {a1}, body)
        self.assertNotEqual(beta_links[a1], link)
        html = msg.get_body(preferencelist=("html",)).get_content()
        self.assertIn("Beta &lt;Estates&gt;", html)
        self.assertNotIn("Beta <Estates>", html)
        page = self.browser(beta_links[a1], "look", "joint-told")
        said = " ".join(page["text"].split())
        self.assertIn("This page is for beta@example.org (Beta <Estates>)", said)
        self.assertIn("Not complete after all", said)
        self.assertIn("Marked complete by alpha@example.org on", said)
        self.assertIn("tickler tells the others (Alpha) so.", said)
        self.assertNotIn("Mark complete\n", page["text"])
        # told once: a restart tells nobody again, and Alpha never
        self.run_daemon("2026-12-07T09:20:30", 3)
        wait_until(lambda: self.waiting() == 0)
        time.sleep(1)
        self.assertEqual(len(to("beta@example.org")), 2)
        self.assertEqual(len(to("alpha@example.org")), 1)

    def test_a_joint_actions_completion_undone_at_once_is_told_as_the_reopen(self):
        """Alpha marks A1, Alpha's and Beta's, complete and reopens it
        within delivery.joint_settle_seconds: Beta is told nothing at
        once, and 11 minutes on only of the reopen (the completion it
        superseded is not told); the completion Alpha then leaves
        standing is told to Beta once, 11 minutes after it."""
        a1 = self.joint_plan()
        to = self.to
        self.run_daemon("2026-12-07T09:00:30", 2)
        link = self.links(text_part(to("alpha@example.org")[0])[0])[a1]
        self.browser(link, "complete", "joint-toggle-complete")
        back = self.browser(link, "reopen:Pressed too soon", "joint-toggle-reopen")
        self.assertIn("Recorded: reopened.", back["text"])
        self.assertEqual([r[2] for r in self.updates()], [1, 5])
        self.run_daemon("2026-12-07T09:12:30", 2)
        wait_until(lambda: len(to("beta@example.org")) == 2)  # its digest, the reopen
        body, msg = text_part(to("beta@example.org")[1])
        self.assertTrue(str(msg["Subject"]).startswith("Reopened by Alpha"), msg["Subject"])
        self.assertNotIn("Marked complete", body)
        time.sleep(1)
        self.assertEqual(self.waiting(), 0)
        self.assertEqual(len(to("beta@example.org")), 2)
        self.browser(link, "complete", "joint-toggle-again")
        self.run_daemon("2026-12-07T09:24:30", 3)
        wait_until(lambda: len(to("beta@example.org")) == 3)
        body, msg = text_part(to("beta@example.org")[2])
        self.assertEqual(str(msg["Subject"]), "Marked complete by Alpha: " + PLAN[0][1])
        self.run_daemon("2026-12-07T09:40:30", 3)
        time.sleep(1)
        self.assertEqual(len(to("beta@example.org")), 3)

    def test_a_link_by_hand_lasts_no_longer_than_expiry_days(self):
        """tickler link --expires-in beyond links.expiry_days (45 by
        default) is refused: the web face ends every link then."""
        args = [tool("tickler"), "-c", self.conf, "link", PLAN[0][0], "alpha@example.org"]
        p = subprocess.run(args + ["--expires-in", "46"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--expires-in 46 is longer than links.expiry_days (45)", p.stderr)
        self.assertEqual(p.stdout, "")
        p = subprocess.run(args + ["--expires-in", "45"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^http://127\.0\.0\.1:%d/a/\S+\n$" % self.port)

    def test_a_link_copied_with_closing_punctuation_opens_its_page(self):
        """A link pasted from the end of a sentence ("... from <link>.") or
        from brackets or quotes carries characters no token holds: the
        page opens at the link's own address and its buttons work; a
        link cut short, then a full stop, is still refused as damaged."""
        ids = self.ids()
        a1, a2 = ids[PLAN[0][1]], ids[PLAN[1][1]]
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        links = self.links(texts[0])
        for tail in (".", ",", ")", ">", "]", ";", ":", "!", "%22", "'", ").", "%E2%80%9D",
                     "!?"):
            status, location = self.get_no_follow(links[a1] + tail)
            self.assertEqual((status, location), (303, links[a1]), tail)
        # a question mark alone starts an empty query: the link itself
        self.assertEqual(self.get_no_follow(links[a1] + "?"), (200, ""))
        # in a browser: it lands on the link's page, and a button records
        seen = self.browser(links[a1] + ".", "look", "punctuation")
        self.assertEqual((seen["status"], seen["url"]), (200, links[a1]))
        self.assertIn(PLAN[0][1], seen["text"])
        done = self.browser(links[a2] + ")", "complete", "punctuation-complete")
        self.assertEqual(done["status"], 200)
        self.assertIn("Recorded: marked complete", done["text"])
        self.assertEqual([(r[0], r[2]) for r in self.updates()], [(a2, 1)])
        # cut short, then a full stop: damaged, nothing sent anywhere
        status, body = self.get(links[a1][:-5] + ".")
        self.assertEqual(status, 400)
        self.assertIn("incomplete or damaged", body)
        log = self.daemon.log()
        for u in links.values():
            self.assertNotIn(u.rsplit("/", 1)[1], log)

    def test_an_expired_link_names_its_action_and_whom_to_ask(self):
        """An expired link's page says which action it was for, that it
        stopped working and when, and whom to ask for a new one: the team
        that receives tickler's reports (named, no address). Pressing a
        button with it records nothing. One sent to an address no team of
        the action lists any more names neither the action nor a team."""
        with open(self.conf, "a") as f:
            f.write('delivery = { report_to = "alpha"; };\n')
        ids = self.ids()
        a1 = ids[PLAN[0][1]]
        self.run_daemon("2026-12-07T09:00:30", 1)
        now = calendar.timegm((2026, 12, 7, 9, 0, 30))  # GMT in December
        tok = mint(KEY, "k1", a1, "alpha@example.org", now - 50 * 86400, now - 5 * 86400)
        url = "http://127.0.0.1:%d/a/%s" % (self.port, tok)
        status, body = self.get(url)
        self.assertEqual(status, 410, body)
        self.assertIn("<h1>Link expired</h1>", body)
        self.assertIn("Action plan · action %s" % a1, body)
        self.assertIn("This link was for the action <strong>%s</strong>." % PLAN[0][1], body)
        self.assertIn("It has expired: it stopped working on 2 Dec 2026 09:00, so nothing can "
                      "be recorded through it.", body)
        self.assertIn("use the link in a later reminder about this action, if you have one; "
                      "if not, ask Alpha (the team that receives tickler's reports) for a "
                      "new link, or to record the update for you.", body)
        self.assertNotIn("alpha@example.org", body)
        self.assertNotIn("<form", body)
        status, _ = self.post_again(url, "do=complete")
        self.assertEqual(status, 410)
        self.assertEqual(self.updates(), [])
        self.assertNotIn(tok, self.daemon.log())
        # one sent to an address no team of the action lists any more:
        # expired, naming neither the action nor a team
        gone = mint(KEY, "k1", a1, "former@example.org", now - 50 * 86400, now - 5 * 86400)
        status, body = self.get("http://127.0.0.1:%d/a/%s" % (self.port, gone))
        self.assertEqual(status, 410, body)
        self.assertIn("This link has expired: it stopped working on 2 Dec 2026 09:00, so "
                      "nothing can be recorded through it.", body)
        self.assertIn("if not, ask the team that receives tickler's reports, or the action "
                      "plan's owner, for a new link", body)
        for named in (a1, PLAN[0][1], "Alpha"):
            self.assertNotIn(named, body)

    def test_a_link_to_an_address_taken_off_the_team_acts_no_more(self):
        """The officer behind alpha@example.org gets a digest with a link,
        opens it and fills in a progress note; before the button is pressed,
        they leave the council and the configuration, their address taken
        off Alpha, is reloaded. The press records nothing, and the link's
        page, not yet expired, names neither the action nor the team, only
        whom to ask for a link that works. The daemon's other work goes on:
        a link of the new address acts."""
        ids = self.ids()
        a1, a2 = ids[PLAN[0][1]], ids[PLAN[1][1]]
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        links = self.links(texts[0])
        seen = self.browser(links[a1], "look", "withdrawn-before")
        self.assertEqual(seen["status"], 200)
        self.assertIn(PLAN[0][1], seen["text"])
        ready = os.path.join(self.tmp, "browser-ready")
        shot = os.path.join(self.out, "act-withdrawn-press.png")
        press = subprocess.Popen(["node", os.path.join(ARGS.source, "tests", "integration",
                                                       "act_browser.js"),
                                  ARGS.node_modules, "/usr/bin/chromium", links[a1],
                                  "progress:green:Nearly there", shot, ready],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: os.path.exists(ready) or press.poll() is not None)
            if press.poll() is not None:
                self.fail("the browser stopped: " + press.communicate()[1])
            with open(self.conf) as f:
                text = f.read()
            with open(self.conf, "w") as f:
                f.write(text.replace('"alpha@example.org"', '"alex@example.org"'))
            n = len(self.daemon.lines)
            self.daemon.proc.send_signal(1)
            self.daemon.wait_for("configuration reloaded", after=n)
            open(ready + ".go", "w").close()
            out, err = press.communicate(timeout=180)
        finally:
            if press.poll() is None:
                press.kill()
                press.communicate()
        self.assertEqual(press.returncode, 0, err)
        print("\nscreenshot: %s" % shot, file=sys.stderr)
        pressed = json.loads(out)
        self.assertEqual(pressed["status"], 403, pressed["text"])
        self.assertIn("This link no longer works: the address it was sent to is no longer on "
                      "a team tickler writes to about the action, so nothing can be recorded "
                      "through it.", " ".join(pressed["text"].split()))
        self.assertEqual(self.updates(), [])
        # the page itself, and a POST sent again, of any kind: refused
        status, body = self.get(links[a1])
        self.assertEqual(status, 403, body)
        self.assertIn("<h1>Link no longer works</h1>", body)
        self.assertIn("if not, ask the action plan's owner to record the update, or for a new "
                      "link.", body)
        self.assertNotIn("<form", body)
        for named in (a1, PLAN[0][1], "Alpha", "alpha@example.org"):
            self.assertNotIn(named, body)
        for form in ("do=complete", "do=snooze&snooze=1w", "do=progress&rag=red&note=x",
                     "do=not-ours"):
            self.assertEqual(self.post_again(links[a2], form), (403, ""), form)
        self.assertEqual(self.updates(), [])
        # the address that took their place: its link acts
        p = subprocess.run([tool("tickler"), "-c", self.conf, "link", a1, "alex@example.org"],
                           capture_output=True, text=True, check=True)
        alex = p.stdout.strip()
        self.assertEqual(self.post_again(alex, "do=complete"), (303, alex + "?done=complete"))
        self.assertEqual([(r[0], r[1], r[2]) for r in self.updates()],
                         [(a1, "alex@example.org", 1)])
        log = self.daemon.log()
        for u in list(links.values()) + [alex]:
            self.assertNotIn(u.rsplit("/", 1)[1], log)

    def test_a_completion_reopened_is_reminded_again(self):
        ids = self.ids()
        a1, a2, a3 = (ids[t] for _, t in PLAN)
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        links = self.links(texts[0])
        self.assertEqual(set(links), {a1, a2, a3}, texts[0])
        done = self.browser(links[a1], "complete", "reopen-complete")
        self.assertIn("Recorded: marked complete", done["text"])
        self.assertIn("Not complete after all", done["text"])
        self.assertNotIn("Mark complete", done["text"])

        # Monday 14 December: held, as complete
        texts = self.run_daemon("2026-12-14T09:00:30", 2)
        self.assertEqual(set(self.links(texts[0])), {a2, a3}, texts[0])

        why = "Pressed by mistake: the board has not <b>signed it off</b>"
        back = self.browser(links[a1], "reopen:" + why, "reopen")
        self.assertEqual(back["status"], 200)
        self.assertIn("Recorded: reopened. Reminders for this action go on as the plan says.",
                      back["text"])
        self.assertIn("Reopened by alpha@example.org", back["text"])
        self.assertIn(why, back["text"])  # as typed, never as markup
        self.assertIn("Mark complete", back["text"])
        self.assertNotIn("Not complete after all", back["text"])
        # the same reopen again is recorded already; with nothing left to
        # reopen, another is refused and records nothing
        status, location = self.post_again(
            links[a1], "do=reopen&note=" + urllib.parse.quote(why))
        self.assertEqual((status, location), (303, links[a1] + "?same=reopen"))
        status, location = self.post_again(links[a1], "do=reopen")
        self.assertEqual((status, location), (400, ""))
        rows = self.updates()
        self.assertEqual([(r[0], r[2], r[4]) for r in rows], [(a1, 1, None), (a1, 5, why)])

        # Monday 21 December: A1 is reminded again, with the others
        texts = self.run_daemon("2026-12-21T09:00:30", 3)
        self.assertEqual(set(self.links(texts[0])), {a1, a2, a3}, texts[0])
        self.assertIn(PLAN[0][1], texts[0])

        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "updates", "--json"], capture_output=True, text=True, check=True)
        self.assertEqual([(u["kind"], u["note"]) for u in json.loads(p.stdout)],
                         [("complete", None), ("reopen", why)])
        rows = self.report_csv()
        title = rows[0].index("Agreed Actions")
        a1_row = [r for r in rows[1:] if len(r) > title and r[title] == PLAN[0][1]][0]
        status = rows[0].index("Status")
        progress = [i for i, h in enumerate(rows[0]) if h.startswith("Progress")][0]
        self.assertEqual(a1_row[status], "Ongoing/remain included in action plan")
        self.assertIn("reopened by alpha@example.org: " + why, a1_row[progress])


    def test_a_note_that_leaves_an_override_open_is_isolated(self):
        """A progress note that opens a right-to-left override (U+202E)
        and never closes it: the action's page shows it inside <bdi>, the
        override closed before </bdi>, and the next digest quotes it
        inside FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, the
        override closed (PDF) first, so neither reorders the text after
        it. The note is kept as written."""
        a1 = self.ids()[PLAN[0][1]]
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        link = self.links(texts[0])[a1]
        note = "\u062a\u0645 \u202eSigned off by the board"
        status, _ = self.post_again(link, "do=progress&rag=green&note=" + urllib.parse.quote(note))
        self.assertEqual(status, 303)
        self.assertEqual([r[4] for r in self.updates()], [note])
        status, page = self.get(link)
        self.assertEqual(status, 200)
        self.assertIn("<blockquote><bdi>" + note + "\u202c</bdi></blockquote>", page)
        texts = self.run_daemon("2026-12-14T09:00:30", 2)
        said = " ".join(texts[0].split())
        self.assertIn(": \u2068" + note + "\u202c\u2069", said)
        self.assertNotIn(note + "\u2069", said)  # closed inside the isolate first

    def test_a_snooze_resumed_early_is_reminded_at_the_next_send_time(self):
        ids = self.ids()
        a1, a2, a3 = (ids[t] for _, t in PLAN)
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        links = self.links(texts[0])
        self.assertEqual(set(links), {a1, a2, a3}, texts[0])
        page = self.browser(links[a2], "look", "resume-before")
        self.assertNotIn("Resume reminders", page["text"])
        snoozed = self.browser(links[a2], "snooze:2w", "resume-snoozed")
        self.assertIn("Resume reminders", snoozed["text"])
        self.assertIn("You snoozed this action's reminders until Monday 21 December 2026",
                      snoozed["text"])

        # Monday 14 December: A2's weekly nag is held
        texts = self.run_daemon("2026-12-14T09:00:30", 2)
        self.assertEqual(set(self.links(texts[0])), {a1, a3}, texts[0])

        why = "Back from leave <early>"
        page = self.browser(links[a2], "look", "resume-offered")
        self.assertIn("the reminder held back meanwhile comes Tuesday 15 December 2026 at 09:00",
                      page["text"])
        back = self.browser(links[a2], "resume:" + why, "resume")
        self.assertEqual(back["status"], 200)
        self.assertIn("Recorded: reminders resumed.", back["text"])
        self.assertIn("Snooze ended early by alpha@example.org", back["text"])
        self.assertIn("your team's next reminder comes Tuesday 15 December 2026 at 09:00",
                      back["text"])
        self.assertIn(why, back["text"])  # as typed, never as markup
        self.assertNotIn("Resume reminders", back["text"])
        status, location = self.post_again(
            links[a2], "do=resume&note=" + urllib.parse.quote(why))
        self.assertEqual((status, location), (303, links[a2] + "?same=resume"))
        status, location = self.post_again(links[a2], "do=resume")
        self.assertEqual((status, location), (400, ""))
        self.assertEqual([(r[0], r[2], r[4]) for r in self.updates()],
                         [(a2, 2, None), (a2, 6, why)])

        # Tuesday 15 December, the next send time: the nag held on the 14th
        # goes, A2 alone, saying why; the others wait for the 21st
        texts = self.run_daemon("2026-12-15T09:00:30", 3)
        self.assertEqual(len(texts), 1)
        self.assertEqual(set(self.links(texts[0])), {a2}, texts[0])
        self.assertIn("Reminders resumed, alpha@example.org on 14 Dec 2026: " + why,
                      " ".join(texts[0].split()))
        rows = self.report_csv()
        title = rows[0].index("Agreed Actions")
        a2_row = [r for r in rows[1:] if len(r) > title and r[title] == PLAN[1][1]][0]
        progress = [i for i, h in enumerate(rows[0]) if h.startswith("Progress")][0]
        self.assertIn("resumed reminders by alpha@example.org: " + why, a2_row[progress])

    def test_an_owners_snooze_does_not_hold_the_escalation(self):
        """Alpha's overdue actions are escalated to the EDI officers from
        their first weekly nag. Alpha snoozes A2 from its message, saying
        why: Alpha is sent no more of it until the snooze ends, but the
        EDI officers' copies go on, saying who snoozed it, until when and
        why (quoted, as text), and the page said they would; the page and
        the progress report show the why too. The EDI officers snooze A3
        from their own copy: that holds every reminder of it, theirs too.
        Nothing comes twice when the snooze ends."""
        with open(self.conf) as f:
            conf = f.read()
        conf = conf.replace(
            "schedule = { catch_up_days = 1; };",
            'schedule = { catch_up_days = 1; escalate_after_weeks = 1; escalate_to = "edi"; };')
        conf = conf.replace(
            '"alpha@example.org" ]; }; } );',
            '"alpha@example.org" ]; }; },\n          { id = "edi"; name = "EDI officers";'
            ' recipients = { mail = [ "edi@example.org" ]; }; } );')
        self.assertIn('"edi@example.org"', conf)
        with open(self.conf, "w") as f:
            f.write(conf)
        ids = self.ids()
        a1, a2, a3 = (ids[t] for _, t in PLAN)

        def by_to(texts_raw):
            got = {}
            for _, raw in texts_raw:
                text, msg = text_part(raw)
                got[msg["To"].addresses[0].addr_spec] = text
            return got

        # Monday 7 December: the first nag, escalated
        self.run_daemon("2026-12-07T09:00:30", 2)
        sent = by_to(self.smtp.received())
        self.assertEqual(set(sent), {"alpha@example.org", "edi@example.org"})
        alpha, edi = self.links(sent["alpha@example.org"]), self.links(sent["edi@example.org"])
        self.assertEqual(set(alpha), {a1, a2, a3})
        self.assertEqual(set(edi), {a1, a2, a3})

        page = self.browser(alpha[a2], "look", "escalated-snooze-before")
        self.assertIn("This action is overdue and escalated: its reminders are copied to EDI "
                      "officers as an escalation. A snooze of yours does not hold those copies",
                      page["text"])
        why = 'Waiting for "Finance" <script>alert(1)</script>\nSubject: sign-off'
        snoozed = self.browser(alpha[a2], "snooze:2w:" + why, "escalated-snooze")
        self.assertIn("Recorded: snoozed until Monday 21 December 2026.", snoozed["text"])
        self.assertIn("The copies escalated to EDI officers are not held: they go on",
                      snoozed["text"])
        # the why, as typed (never markup), with the snooze under What holds now
        held_now = snoozed["text"].split("What holds now", 1)[1].split("What you can do", 1)[0]
        self.assertIn("Snoozed by alpha@example.org", held_now)
        self.assertIn(why, held_now)
        status, body = self.get(alpha[a2])
        self.assertEqual(status, 200)
        self.assertNotIn("<script>alert(1)", body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        # the EDI officers' link is no owning team's: its snooze holds it all
        page = self.browser(edi[a3], "look", "escalation-team-snooze-before")
        self.assertIn("a snooze from it holds every reminder of this action, the copies "
                      "escalated to you included", page["text"])
        self.assertNotIn("A snooze of yours does not hold those copies", page["text"])
        held = self.browser(edi[a3], "snooze:2w", "escalation-team-snooze")
        self.assertIn("Recorded: snoozed until Monday 21 December 2026.", held["text"])
        self.assertNotIn("escalated to EDI officers are not held", held["text"])
        self.assertEqual([(r[0], r[1], r[2], r[4]) for r in self.updates()],
                         [(a2, "alpha@example.org", 2, why),
                          (a3, "edi@example.org", 2, None)])
        # a progress note on A1 whose line break would start a line of its own
        forged = "On track\nSubject: forged"
        noted = self.browser(alpha[a1], "progress:amber:" + forged, "escalated-progress")
        self.assertIn("Recorded", noted["text"])
        self.assertEqual(self.updates()[-1][4], forged)  # kept as typed

        # Monday 14 December: Alpha is sent A1 alone; the EDI officers A1
        # and A2, which says Alpha snoozed it; A3 goes to nobody
        before = len(self.smtp.received())
        self.run_daemon("2026-12-14T09:00:30", before + 2)
        sent = by_to(self.smtp.received()[before:])
        self.assertEqual(set(sent), {"alpha@example.org", "edi@example.org"})
        self.assertEqual(set(self.links(sent["alpha@example.org"])), {a1})
        self.assertEqual(set(self.links(sent["edi@example.org"])), {a1, a2})
        self.assertIn("Snoozed by its owners until Monday 21 December 2026, alpha@example.org "
                      "on 7 Dec 2026; their reminders are held until then, this escalation "
                      "goes on. Their reason: \u201cWaiting for \"Finance\" "
                      "<script>alert(1)</script> Subject: sign-off\u201d",
                      " ".join(sent["edi@example.org"].split()))
        # the message's headers and its HTML part hold the why as text only
        msg = [m for m in (text_part(r)[1] for _, r in self.smtp.received()[before:])
               if m["To"].addresses[0].addr_spec == "edi@example.org"][0]
        # the progress note, quoted in the escalation's copy, is on one line
        self.assertIn("Progress (amber), alpha@example.org on 7 Dec 2026: On track Subject: "
                      "forged", " ".join(sent["edi@example.org"].split()))
        self.assertNotIn("On track\n", sent["edi@example.org"])
        self.assertFalse(any(l.lstrip().startswith("Subject: forged")
                             for l in sent["edi@example.org"].splitlines()),
                         sent["edi@example.org"])
        self.assertNotIn("forged", str(msg["Subject"]))
        self.assertIn("On track Subject: forged",
                      msg.get_body(preferencelist=("html",)).get_content())
        self.assertNotIn("sign-off", str(msg["Subject"]))
        self.assertEqual(msg.get_all("Subject"), [msg["Subject"]])
        html = msg.get_body(preferencelist=("html",)).get_content()
        self.assertNotIn("<script>alert(1)", html)
        self.assertIn("Waiting for &quot;Finance&quot; &lt;script&gt;alert(1)&lt;/script&gt; "
                      "Subject: sign-off", html)
        # the progress report lists the snooze with its why
        rows = self.report_csv()
        title = rows[0].index("Agreed Actions")
        a2_row = [r for r in rows[1:] if len(r) > title and r[title] == PLAN[1][1]][0]
        progress = [i for i, h in enumerate(rows[0]) if h.startswith("Progress")][0]
        self.assertIn("snoozed reminders until 21 Dec 2026 by alpha@example.org: " + why,
                      a2_row[progress].replace("\r\n", "\n"))

        # Monday 21 December, the snoozes' end: every action to both, once
        before = len(self.smtp.received())
        self.run_daemon("2026-12-21T09:00:30", before + 2)
        got = self.smtp.received()[before:]
        sent = by_to(got)
        self.assertEqual(len(got), 2)
        self.assertEqual(set(self.links(sent["alpha@example.org"])), {a1, a2, a3})
        self.assertEqual(set(self.links(sent["edi@example.org"])), {a1, a2, a3})
        self.assertNotIn("Snoozed by", sent["edi@example.org"])
        for text in sent.values():
            for a in (a1, a2, a3):
                self.assertEqual(text.count(self.links(text)[a]), 1, text)
        # and nothing more was queued for either
        self.assertEqual(self.waiting(), 0)
        box = harness.outbox(self.conf, self.state)[0]
        self.assertEqual(len(box), 6, box)

    def test_a_nag_retrying_when_its_actions_are_answered_is_withdrawn(self):
        """The mail server refuses the weekly nag for a while, so it is
        retried; meanwhile the officer marks every action in it complete
        from the links of the week before. When the server takes mail
        again, the nag is withdrawn, not sent, and the outbox says why."""
        with open(self.conf, "a") as f:
            f.write("delivery = { retry_min_seconds = 1; };\n")
        ids = self.ids()
        texts = self.run_daemon("2026-12-07T09:00:30", 1)
        links = self.links(texts[0])
        self.assertEqual(set(links), set(ids.values()), texts[0])
        refusing = [True]
        self.smtp.script = lambda kind, n, address: (
            "451 4.3.0 Try again later" if refusing[0] and kind == "RCPT" else None)
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        self.logs.append(self.daemon.log())
        self.daemon = Daemon(self.conf, self.state, "--now", "2026-12-14T09:00:30")
        self.daemon.wait_for("web face on 127.0.0.1:%d" % self.port)
        box = lambda: harness.outbox(self.conf, self.state)[0]
        wait_until(lambda: any(n["state"] == "retrying" for n in box()))
        for u in links.values():
            self.assertEqual(self.post_again(u, "do=complete"), (303, u + "?done=complete"))
        self.assertEqual([r[2] for r in self.updates()], [1, 1, 1])
        refusing[0] = False
        wait_until(lambda: self.waiting() == 0)
        nag = box()[0]
        self.assertEqual(nag["state"], "withdrawn", nag)
        self.assertGreaterEqual(nag["attempts"], 1)
        self.assertEqual(nag["last_error"],
                         "not sent: every action in it was marked complete before its turn "
                         "came: %s" % ", ".join(e["item"] for e in nag["entries"]))
        self.assertEqual(sorted(e["item"] for e in nag["entries"]), sorted(ids.values()))
        self.assertEqual(len(self.smtp.received()), 1)  # the first digest only
        self.assertIn("withdrew notice; notice=%d" % nag["id"], self.daemon.log())
        # the action's page lists it among its reminders, as withdrawn
        status, body = self.get(links[ids[PLAN[0][1]]])
        self.assertEqual(status, 200)
        self.assertRegex(body, r"<li>[^<]*: overdue[^<]*, to Alpha by mail, withdrawn \(to you\)</li>")
        # tickler status counts it, and a named retry sends it only if it
        # is no longer complete: still complete, it is withdrawn again
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "status", "--json"], capture_output=True, text=True)
        self.assertEqual(json.loads(p.stdout)["withdrawn"], 1, p.stdout + p.stderr)
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "retry", str(nag["id"])], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_until(lambda: self.daemon.log().count("withdrew notice; notice=%d" % nag["id"]) == 2)
        wait_until(lambda: self.waiting() == 0)
        self.assertEqual(box()[0]["state"], "withdrawn")
        self.assertEqual(len(self.smtp.received()), 1)

    def get_no_follow(self, url):
        """(status, Location) of a GET of url, taken as it is (no globbing
        of its brackets)."""
        p = subprocess.run(["curl", "-sSg", "-o", "/dev/null", "-w",
                            "%{http_code} %{redirect_url}", url],
                           capture_output=True, text=True, check=True)
        status, _, location = p.stdout.partition(" ")
        return int(status), location

    def get(self, url):
        p = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", url],
                           capture_output=True, text=True, check=True)
        body, _, status = p.stdout.rpartition("\n")
        return int(status), body


def wait_until(cond, timeout=90):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def harness_curl(url):
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url],
                       capture_output=True, text=True, check=True)
    return int(p.stdout), None, None


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--node-modules", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest)
