#!/usr/bin/env python3
"""Integration tests of ticklerd and tickler: the real binaries, real files
on disk, real signals. Run by ctest; see tests/CMakeLists.txt."""
import argparse
import datetime
import email
import email.policy
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import Daemon, tool

ARGS = None


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-it-")
        self.conf = harness.copy_sample(ARGS.source, self.tmp)
        self.plan = os.path.join(self.tmp, "sample-plan.csv")
        self.state = os.path.join(self.tmp, "state")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def small_fs(self):
        return harness.small_fs(self, self.tmp)

    def run_tool(self, *args, check=True):
        p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            self.fail("%s exited %d:\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
        return p

    def oneshot(self, now):
        return self.run_tool(tool("ticklerd"), "-c", self.conf, "-p",
                             harness.plugin_dir(), "--state-dir", self.state,
                             "--now", now, "--oneshot")

    def start(self, now):
        """ticklerd running from now, killed if a test fails."""
        d = Daemon(self.conf, self.state, "--now", now)
        self.addCleanup(lambda: d.proc.poll() is None and d.kill())
        return d

    def write_plan(self, text):
        """The plan replaced by text, saved as editors save (a new file
        renamed over it)."""
        tmp = self.plan + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, self.plan)

    def messages(self):
        d = os.path.join(self.state, "maildir", "new")
        out = []
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.strict))
        return out


def text_of(msg):
    """The plain text of a message the maildir notifier wrote."""
    return msg.get_body(("plain",)).get_content()


class CheckConfig(Fixture):
    def test_shipped_config_passes(self):
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c",
                          os.path.join(ARGS.source, "etc", "tickler.conf"),
                          "-p", harness.plugin_dir())
        self.assertIn("configuration ok: 39 actions", p.stdout)

    def test_notices_queued_for_a_renamed_notifier_are_warned_of(self):
        """ticklerd --check-config run by hand on the SQLite state names the
        notifier a renamed configuration no longer has and how many notices
        wait for it, as a warning: it passes (exit 0), counting it among
        its warnings. The state on PostgreSQL is not read: nothing said."""
        with open(os.path.join(self.tmp, "hook.url"), "w") as f:
            f.write("http://127.0.0.1:%d/refused\n" % harness.free_port())  # nothing listens
        os.chmod(os.path.join(self.tmp, "hook.url"), 0o600)
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "O1,Ops action,Ops,03/03/2023,\nH1,HR action,HR,03/03/2023,\n")
        conf = """
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 600; };
notifiers = ( { name = "NAME"; plugin = "webhook";
                settings = { destinations = ( { name = "ops"; url_file = "hook.url"; },
                                              { name = "hr"; url_file = "hook.url"; } ); }; } );
teams = ( { id = "ops"; name = "Ops"; recipients = { NAME = [ "ops" ]; }; },
          { id = "hr"; name = "HR"; recipients = { NAME = [ "hr" ]; }; } );
"""
        with open(self.conf, "w") as f:
            f.write(conf.replace("NAME", "hook"))
        self.oneshot("2023-03-03T09:00:30")  # both notices wait for a retry
        with open(self.conf, "w") as f:
            f.write(conf.replace("NAME", "relay"))
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}  # run by hand
        p = subprocess.run([tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                            harness.plugin_dir(), "--state-dir", self.state],
                           capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        warning = ("warning: %s/tickler.db: 2 notices queued for notifier hook, which this "
                   "configuration does not have (renamed or removed?): ticklerd keeps them until "
                   "48 hours old, then fails and reports them; name a notifier hook again to "
                   "send them\n" % self.state)
        if harness.PG:
            self.assertNotIn("queued for notifier", p.stderr)
            return
        self.assertIn(warning, p.stderr)
        self.assertIn("configuration ok: 2 actions", p.stdout)
        self.assertRegex(p.stdout, r"\(1 warning\)\n$")

    def warnings(self):
        """What tickler check and ticklerd --check-config say, each with its
        count of warnings; the two must agree."""
        c = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                          "check")
        d = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir())
        n = int(re.search(r"(\d+) warnings?\n", c.stdout).group(1))
        self.assertEqual(int(re.search(r"\((\d+) warnings?\)", d.stdout).group(1)), n)
        return c.stdout, d.stderr, n

    def test_check_lists_the_names_that_match_no_team(self):
        """tickler check lists the owner names of the plan that match no
        team, each once with its actions, apart from the teams observances
        name that match none, and counts only the first."""
        with open(self.plan, "a", encoding="utf-8") as f:
            for n in (1, 2):
                f.write("EAP99-0%d,As an employer,We will,Plant trees %d,Parks Team,March 2027,,\n"
                        % (n, n))
        text = Path(self.conf).read_text()
        museums = '{ id = "museums"; name = "Museums";'
        self.assertIn(museums, text)
        Path(self.conf).write_text(text.replace(
            museums, '{ id = "museum-service"; name = "Museum service";'))
        out = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir",
                            harness.plugin_dir(), "check").stdout
        # the row naming Museums among its owners no longer matches either
        self.assertIn('owner names that match no team (their actions go to the fallback team '
                      '"edi-officers"): "L&D, Comms and Events, Museums, Civic team, Economic '
                      'Development, Communities lead" (1 action), "Parks Team" (2 actions)\n', out)
        self.assertRegex(out, r'teams named by observances that match none: (.*, )?"museums" '
                              r'\(\d+ observances?\)')
        self.assertNotIn('"museums"', out.split("owner names that match no team")[1].split("\n")[0])
        self.assertRegex(out, r"ok: 41 actions, \d+ observances, 18 teams, 2 owner names matched "
                              r"no team, \d+ warnings?\n")

    def test_a_team_no_one_can_reach_is_a_warning_counted_as_one(self):
        _, _, fine = self.warnings()
        text = Path(self.conf).read_text()
        reach = 'recipients = { email = [ "museum@maidstone.example" ]; }; }'
        self.assertIn(reach, text)
        Path(self.conf).write_text(text.replace(reach, "recipients = { }; }"))
        line = [i for i, t in enumerate(Path(self.conf).read_text().splitlines(), 1)
                if 'id = "museums"' in t][0]
        said = '%s:%d: warning: team "museums" has no recipients; its reminders go nowhere' % (
            self.conf, line)
        check, daemon, warned = self.warnings()
        self.assertIn(said, check)
        self.assertIn(said, daemon)
        self.assertEqual(warned, fine + 1)

    def test_a_secret_every_user_can_read_is_a_warning_where_others_can_enter(self):
        _, _, fine = self.warnings()
        url = os.path.join(self.tmp, "hook.url")
        Path(url).write_text("https://hooks.example/secret-path-do-not-print\n")
        text = Path(self.conf).read_text()
        self.assertEqual(text.count("\nnotifiers = (\n"), 1)
        Path(self.conf).write_text(text.replace(
            "\nnotifiers = (\n", '\nnotifiers = ( { name = "hook"; plugin = "webhook"; settings = '
            '{ destinations = ( { name = "d"; url_file = "hook.url"; } ); }; },\n'))
        if not harness.PG:  # a conninfo file beside SQLite is never read: nothing said of it
            Path(self.tmp, "pg.conninfo").write_text("host=db password=do-not-print\n")
            os.chmod(os.path.join(self.tmp, "pg.conninfo"), 0o644)
            with open(self.conf, "a") as f:
                f.write('state = { conninfo_file = "pg.conninfo"; };\n')
        os.chmod(url, 0o644)
        os.chmod(self.tmp, 0o700)  # as /etc/tickler/credentials: no one else may enter
        self.assertEqual(self.warnings()[2], fine)
        os.chmod(self.tmp, 0o755)
        check, daemon, warned = self.warnings()
        said = ("%s: warning: this secret's mode is 0644: every user of this machine can read "
                "it; make it 0600" % url)
        self.assertIn(said, check)
        self.assertIn(said, daemon)
        self.assertEqual(warned, fine + 1)
        self.assertNotIn("secret-path-do-not-print", check + daemon)
        self.assertNotIn("pg.conninfo", check + daemon)
        os.chmod(url, 0o600)
        self.assertEqual(self.warnings()[2], fine)

    def test_unknown_key_and_syntax_error_name_file_and_line(self):
        with open(self.conf, "a") as f:
            f.write("\nfrobnicate = 1;\n")
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, check=False)
        self.assertNotEqual(p.returncode, 0)
        with open(self.conf) as f:  # the last but a state group the harness may add after it
            line = [i for i, text in enumerate(f, 1) if text.startswith("frobnicate")][0]
        self.assertIn("%s:%d: error: [frobnicate] unknown key" % (self.conf, line), p.stderr)
        with open(self.conf, "a") as f:
            f.write("schedule = {\n")
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"%s:\d+: error: syntax error" % self.conf)

    def test_under_the_journal_each_problem_has_its_priority(self):
        with open(self.conf, "a") as f:
            f.write("\nfrobnicate = 1;\n")
        err = os.path.join(self.tmp, "stderr")
        for stream, prefixed in ((None, True), ("1:1", False)):
            with open(err, "w") as f:
                st = os.fstat(f.fileno())
                env = dict(os.environ, JOURNAL_STREAM=stream or "%d:%d" % (st.st_dev, st.st_ino))
                p = subprocess.run([tool("ticklerd"), "--check-config", "-c", self.conf],
                                   stdout=subprocess.PIPE, stderr=f, env=env, text=True)
            self.assertEqual(p.returncode, 1)
            text = Path(err).read_text()
            # the journal's stream: the line at its priority; an inherited
            # JOURNAL_STREAM naming another stream: plain
            self.assertIn(("<3>" if prefixed else "") + "%s:" % self.conf, text)
            if not prefixed:
                self.assertNotIn("<3>%s:" % self.conf, text)

    def test_under_the_journal_a_check_that_passes_leaves_its_warnings_to_the_daemon(self):
        """The unit's ExecStartPre and ExecReload check, then the daemon
        loads and logs the warnings: each is in the journal once. A
        terminal, or a check that fails, has every warning."""
        text = Path(self.conf).read_text().replace(
            "teams = (", 'teams = (\n  { id = "nobody"; name = "Nobody reachable"; },', 1)
        Path(self.conf).write_text(text)
        err = os.path.join(self.tmp, "stderr")

        def check(journal):
            with open(err, "w") as f:
                st = os.fstat(f.fileno())
                env = dict(os.environ)
                env.pop("JOURNAL_STREAM", None)
                if journal:
                    env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
                p = subprocess.run([tool("ticklerd"), "--check-config", "-c", self.conf],
                                   stdout=subprocess.PIPE, stderr=f, env=env, text=True)
            return p, Path(err).read_text()

        said = 'team "nobody" has no recipients; its reminders go nowhere'
        p, text = check(journal=False)
        self.assertEqual(p.returncode, 0, text)
        self.assertIn(said, text)
        m = re.search(r"\((\d+) warnings?[,)]", p.stdout)
        self.assertTrue(m and int(m.group(1)) >= 1, p.stdout)
        p, text = check(journal=True)
        self.assertEqual(p.returncode, 0, text)
        self.assertEqual(text, "")  # the warning, and the calendars' counts of events
        n = int(m.group(1))
        self.assertIn("(%d warning%s, which ticklerd logs as it loads the configuration)"
                      % (n, "" if n == 1 else "s"), p.stdout)
        # the daemon logs it, once
        d = Daemon(self.conf, self.state)
        try:
            d.wait_for("started: ")
            self.assertEqual(sum(said in l for l in d.lines), 1, d.log())
        finally:
            self.assertEqual(d.stop(), 0)
        # a check that fails has every warning beside its error
        with open(self.conf, "a") as f:
            f.write("\nfrobnicate = 1;\n")
        p, text = check(journal=True)
        self.assertEqual(p.returncode, 1, text)
        self.assertIn("frobnicate", text)
        self.assertIn(said, text)

    def test_missing_plugin_is_named(self):
        text = Path(self.conf).read_text().replace('plugin = "maildir"', 'plugin = "smtpx"')
        Path(self.conf).write_text(text)
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir(), check=False)
        self.assertNotEqual(p.returncode, 0)
        # at its line of the configuration, with the plugins there
        m = re.search(r'^%s:(\d+): error: \[plugin\] no plugin "smtpx" in %s \(there: (.*)\)$'
                      % (re.escape(self.conf), re.escape(harness.plugin_dir())), p.stderr, re.M)
        self.assertTrue(m, p.stderr)
        lines = Path(self.conf).read_text().splitlines()
        self.assertIn('plugin = "smtpx"', lines[int(m.group(1)) - 1])
        self.assertIn("maildir", m.group(2).split(", "))


    def test_an_unreadable_url_file_is_named_as_the_file_read(self):
        """A relative url_file is read beside the configuration; when it
        cannot be, the error names it as written and as that file."""
        text = Path(self.conf).read_text()
        self.assertEqual(text.count("\nnotifiers = (\n"), 1)
        Path(self.conf).write_text(text.replace(
            "\nnotifiers = (\n",
            '\nnotifiers = (\n  { name = "hook"; plugin = "webhook"; settings = {\n'
            '    destinations = ( { name = "feed"; url_file = "secrets/hook.url"; } ); }; },\n'))
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir(), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('destination "feed": cannot read url_file secrets/hook.url (%s/secrets/'
                      'hook.url): No such file or directory'
                      % os.path.dirname(os.path.abspath(self.conf)), p.stderr)

    def add_webhook(self, url_file):
        """Adds the notifier "hook" (webhook) with the destination "feed",
        its URL in url_file beside the configuration; returns that file's
        path."""
        text = Path(self.conf).read_text()
        Path(self.conf).write_text(text.replace(
            "\nnotifiers = (\n",
            '\nnotifiers = (\n  { name = "hook"; plugin = "webhook"; settings = {\n'
            '    destinations = ( { name = "feed"; url_file = "%s"; } ); }; },\n' % url_file))
        return Path(os.path.dirname(os.path.abspath(self.conf))) / url_file

    def test_a_secret_file_not_one_line_is_said_once_as_what_it_is(self):
        """An empty url_file, or one of two lines, is an error saying so, at
        the notifier's line, printed once (not also as the plugin's log
        line)."""
        url = self.add_webhook("hook.url")
        for content, why in (("", "the file is empty (it must hold the secret, on one line)"),
                             ("https://a.example/\nhttps://b.example/\n",
                              "the file holds more than the secret on one line")):
            url.write_text(content)
            url.chmod(0o600)
            for argv in ([tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                          harness.plugin_dir()],
                         [tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                          "check"]):
                p = self.run_tool(*argv, check=False)
                out = p.stdout + p.stderr  # `tickler check` reports on stdout
                self.assertEqual(p.returncode, 1, out)
                self.assertRegex(out, r"tickler\.conf:\d+: error: \[settings\] notifier "
                                 r"\"hook\" \(plugin webhook\) rejected its settings: line \d+: "
                                 r"destination \"feed\": cannot read url_file hook\.url \(")
                self.assertIn(why, out)
                self.assertEqual(out.count("cannot read url_file"), 1, out)
                self.assertNotIn("Invalid argument", out)

    def test_a_webhook_in_clear_only_to_this_machine(self):
        """An http:// destination is refused unless it is this machine: its
        address is a secret and the body the officers' data. The error
        names the host, never the address's secret part."""
        url = self.add_webhook("hook.url")
        url.write_text("http://hooks.example.org/in/s3cr3t-t0ken?sig=abcdef123456\n")
        url.chmod(0o600)
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                          harness.plugin_dir(), check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn('destination "feed": hook.url holds an http:// URL to hooks.example.org: '
                      "its secret address and the officers' data would cross the network "
                      "unencrypted; use https://", p.stderr)
        self.assertNotIn("s3cr3t", p.stdout + p.stderr)
        self.assertNotIn("abcdef123456", p.stdout + p.stderr)
        for ok in ("http://127.0.0.1:9/in/s3cr3t", "https://hooks.example.org/in/s3cr3t"):
            url.write_text(ok + "\n")
            p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                              harness.plugin_dir(), check=False)
            self.assertEqual(p.returncode, 0, ok + ": " + p.stderr)

    def test_a_recipient_the_channel_cannot_use_is_named_with_its_line(self):
        # the shipped notifier made real e-mail, and one team given a name
        # where an address belongs
        text = Path(self.conf).read_text()
        text = text.replace('plugin = "maildir";', 'plugin = "email";', 1).replace(
            'path = "maildir";                            # relative to the state directory',
            'url = "smtp://localhost:2525"; tls = "none";', 1)
        text = text.replace('recipients = { email = [ "housing@maidstone.example" ]; }',
                            'recipients = { email = [ "housing-team" ]; }', 1)
        Path(self.conf).write_text(text)
        line = [i for i, l in enumerate(text.splitlines(), 1) if '"housing-team"' in l][0]
        want = ('%s:%d: error: [recipients] team "housing": email cannot deliver to '
                '"housing-team": "housing-team" is not an email address' % (self.conf, line))
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir(), check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(want, p.stderr)
        self.assertIn("configuration has 1 error\n", p.stdout)
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                          "check", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(want, p.stdout)
        # the daemon refuses to start with it: nothing would reach Housing
        p = self.run_tool(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                          "--state-dir", self.state, "--oneshot", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(want, p.stderr)
        self.assertIn("cannot start: 1 error above, in %s or the files it names" % self.conf,
                      p.stderr)
        # an address whose domain is no host name: refused alike
        for bad in ("housing@x..example", "housing@x.example."):
            Path(self.conf).write_text(text.replace('"housing-team"', '"%s"' % bad))
            p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                              "-p", harness.plugin_dir(), check=False)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn('email cannot deliver to "%s": "%s" is not an email address (no '
                          'leading, trailing or doubled dot in the domain)' % (bad, bad), p.stderr)


class Headings(Fixture):
    """tickler check says which heading of each plan file it took for which
    field; headings councils use are read by meaning."""

    SAMPLE = ('sample-plan.csv:1: headings: id \u2190 "Ref" (column 1), objective \u2190 '
              '"Objective" (column 2), commitment \u2190 "Commitments" (column 3), title \u2190 '
              '"Actions" (column 4), owners \u2190 "Responsibility" (column 5), deadline \u2190 '
              '"Timeframe" (column 6), status \u2190 "Status" (column 7), progress \u2190 '
              '"Progress" (column 8)')

    def check(self):
        return self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir",
                             harness.plugin_dir(), "check")

    def test_check_names_the_heading_of_each_field(self):
        p = self.check()
        self.assertIn("%s/%s\n" % (self.tmp, self.SAMPLE), p.stdout)
        self.assertIn("ok: 39 actions", p.stdout)

    def test_another_councils_headings_beside_the_sample(self):
        plans = os.path.join(self.tmp, "plans")
        os.mkdir(plans)
        shutil.move(self.plan, plans)
        with open(os.path.join(plans, "other.csv"), "w", newline="") as f:
            f.write("Equality Action Plan 2026-29,,,,,,\r\n"
                    "Aim:,Action,Responsible Officer,Owner(s),Target date,"
                    "Measure of success,Budget\r\n"
                    "Fair pay,Publish the gender pay gap,Housing,Inclusion Board,March 2027,"
                    "Gap published on the website,none\r\n")
        with open(self.conf) as f:
            text = f.read()
        self.assertIn('files = [ "sample-plan.csv" ];', text)
        with open(self.conf, "w") as f:
            f.write(text.replace('files = [ "sample-plan.csv" ];', 'files = [ "plans" ];'))
        p = self.check()
        other = os.path.join(plans, "other.csv")
        self.assertIn('%s:2: headings: objective \u2190 "Aim:" (column 1), title \u2190 "Action" '
                      '(column 2), owners \u2190 "Responsible Officer" (column 3), deadline '
                      '\u2190 "Target date" (column 5), measure \u2190 "Measure of success" '
                      '(column 6); not read: "Owner(s)" (column 4), "Budget" (column 7)\n' % other,
                      p.stdout)
        self.assertIn("%s/%s\n" % (plans, self.SAMPLE), p.stdout)
        # the ambiguity as before: the first owners column, with a warning
        self.assertIn('%s:2: warning: [owners] column 4 ("Owner(s)") repeats the owners '
                      'column 3; the first is used' % other, p.stdout)
        self.assertIn("ok: 40 actions", p.stdout)
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir",
                          harness.plugin_dir(), "actions", "--json")
        a = [x for x in json.loads(p.stdout) if x["file"] == other][0]
        self.assertEqual((a["title"], a["objective"], a["teams"], a["deadline"], a["measure"]),
                         ("Publish the gender pay gap", "Fair pay", ["housing"], "2027-03-31",
                          "Gap published on the website"))


class MainJob(Fixture):
    def test_the_escalation_team_is_told_which_actions_are_copies(self):
        self.oneshot("2023-03-01T09:00")
        by_to = {m["To"].addresses[0].addr_spec: m for m in self.messages()}
        edi = text_of(by_to["edi.officers@maidstone.example"])
        said = re.search(r"Copied to you, the team their reminders escalate to, as they are "
                         r"other\s+teams' and long overdue: ([^.]*)\. The other is your team's\.",
                         edi)
        self.assertTrue(said, edi[:800])
        copies = re.split(r",\s+|\s+and\s+", said.group(1))
        self.assertIn("EAP22-17", copies)  # Policy, Communities & Engagement's
        self.assertEqual(len(copies), 7)
        # the owning teams' own messages are theirs
        for to, m in by_to.items():
            if to != "edi.officers@maidstone.example":
                self.assertNotIn("Copied to you", text_of(m), to)

    def test_a_sender_named_in_any_language_keeps_its_address(self):
        text = Path(self.conf).read_text()
        sample = 'from = "tickler <tickler@maidstone.example>";'
        self.assertIn(sample, text)
        Path(self.conf).write_text(text.replace(
            sample, 'from = "\u00c9quipe \u00c9galit\u00e9 \u2013 Maidstone <tickler@maidstone.example>";'))
        self.oneshot("2023-03-03T09:00")
        msgs = self.messages()
        self.assertTrue(msgs)
        for m in msgs:
            sender = m["From"].addresses
            self.assertEqual(len(sender), 1)
            self.assertEqual(sender[0].addr_spec, "tickler@maidstone.example")
            self.assertEqual(sender[0].display_name, "\u00c9quipe \u00c9galit\u00e9 \u2013 Maidstone")
        # a sender that is no address is refused by the check, naming it
        Path(self.conf).write_text(text.replace(sample, 'from = "Equality team <nobody>";'))
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir(), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('from must be \"Name <address>\" or an address (got \"Equality team <nobody>\")',
                      p.stdout + p.stderr)

    def test_sample_plan_reminders_reach_the_maildir_once(self):
        self.oneshot("2023-03-03T09:00")
        msgs = self.messages()
        self.assertEqual(len(msgs), 6)
        by_to = {m["To"].addresses[0].addr_spec: m for m in msgs}
        pce = by_to["policy@maidstone.example"]
        self.assertEqual(pce["Subject"],
                         "Reminder: 8 actions for Policy, Communities and Engagement (7 overdue)")
        for h in ("Date", "From", "To", "Subject", "Message-ID"):
            self.assertEqual(len(pce.get_all(h)), 1, h)
        body = text_of(pce)
        self.assertIn("Include Armed Forces Act 2021", body)
        # the HTML the email notifier would send, beside the text
        self.assertEqual(pce.get_content_type(), "multipart/alternative")
        html = pce.get_body(("html",)).get_content()
        self.assertIn("<h1", html)
        self.assertIn("Include Armed Forces Act 2021", html)
        self.assertIn("Saturday 31 December 2022", html)
        self.assertIn("Deadline: Dec 2022 (Saturday 31 December 2022), 62 days overdue", body)
        self.assertLess(body.index("\nOverdue\n"), body.index("\nComing up\n"))
        self.assertEqual(pce["To"].addresses[0].display_name, "Policy, Communities and Engagement")
        # a second run at the same moment sends nothing again
        self.oneshot("2023-03-03T09:00")
        self.assertEqual(len(self.messages()), 6)
        # a week later, only what fell due since
        self.oneshot("2023-03-10T09:00")
        later = self.messages()[6:]
        self.assertTrue(later)
        ids = {h for m in later for h in [m["Message-ID"]]}
        self.assertEqual(len(ids), len(later))
        status = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                               "status").stdout
        self.assertRegex(status, r"pending: +0\n")
        self.assertRegex(status, r"failed: +0\n")
        self.assertRegex(status, r"\(%d in all\)" % (6 + len(later)))

    @unittest.skipIf(harness.PG, "the state is an unreachable PostgreSQL of its own")
    def test_a_plan_edited_while_postgresql_is_unreachable_leaves_the_daemon_responsive(self):
        """The shared last run cannot be read, so no schedule is built; a
        plan edit meanwhile schedules its action, whose send time then
        passes: the daemon neither queues it nor spins, and stops at once
        on SIGTERM."""
        ci = os.path.join(self.tmp, "pg.conninfo")
        with open(ci, "w") as f:
            f.write("host=127.0.0.1 port=9 dbname=nothing user=nobody connect_timeout=2\n")
        os.chmod(ci, 0o600)
        with open(self.conf, "a") as f:
            f.write('\nstate = { backend = "postgresql"; conninfo_file = "%s"; node = "a"; };\n'
                    % ci)
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T08:59:56")
        try:
            d.wait_for("started")
            text = Path(self.plan).read_text()
            row = '"Policy, Communities & Engagement team",March 2023,,\n'
            self.assertIn(row, text)
            Path(self.plan).write_text(text.replace(
                row, '"Policy, Communities & Engagement team",March 2023,,Draft guidance\n'))
            d.wait_for("store reloaded")
            # the send time, 09:00 by the daemon's clock, passes meanwhile
            time.sleep(6)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertNotIn("queued notice", d.log())

    def test_a_long_unbroken_text_wraps_in_the_html_on_a_phone(self):
        """A pasted web address in a progress note (no spaces) wraps in the
        HTML part at a phone's width (390 px, as Chromium lays it out; its
        headless window is at least 500 px wide, so the page is held to
        390), so the action's card does not run off the screen."""
        url = "https://maidstone.example/" + "/".join("section-%02d-armed-forces-covenant" % i
                                                      for i in range(12))
        text = Path(self.plan).read_text()
        row = next(line for line in text.split("\n") if "Include Armed Forces Act 2021" in line)
        self.assertTrue(row.endswith(",,"), row)
        Path(self.plan).write_text(text.replace(row, row[:-1] + url + ","))
        self.oneshot("2023-03-03T09:00")
        pce = {m["To"].addresses[0].addr_spec: m for m in self.messages()}["policy@maidstone.example"]
        html = pce.get_body(("html",)).get_content()
        self.assertIn(url, html)
        page = os.path.join(self.tmp, "digest.html")
        probe = ("<script>document.body.setAttribute('data-width', "
                 "document.body.scrollWidth + ' ' + document.body.clientWidth)</script>")
        Path(page).write_text(html.replace("</head>", "<style>html{width:390px}</style></head>")
                              .replace("</body>", probe + "</body>"))
        p = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                            "--window-size=390,2000", "--dump-dom", "file://" + page],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        scroll, client = map(int, re.search(r'data-width="(\d+) (\d+)"', p.stdout).groups())
        self.assertLessEqual(client, 390)
        self.assertLessEqual(scroll, client)  # nothing wider than the page

    def test_actions_json_and_upcoming(self):
        out = self.run_tool(tool("tickler"), "-c", self.conf, "actions", "--json").stdout
        actions = {a["id"]: a for a in json.loads(out)}
        self.assertEqual(len(actions), 39)
        a = actions["EAP22-15"]
        self.assertEqual(a["deadline"], "2023-12-31")
        self.assertEqual(a["kind"], "date")
        self.assertEqual(a["teams"], ["data-analytics"])
        self.assertEqual(actions["EAP22-03"]["kind"], "review")
        self.assertEqual(actions["EAP23-01"]["teams"], ["housing", "revenues-benefits", "pce"])
        # where each stands today (the sample plan's dates are all past)
        self.assertEqual(a["standing"], "overdue")
        self.assertEqual(actions["EAP23-01"]["standing"], "undated")  # "Ongoing Project"
        self.assertLessEqual({x["standing"] for x in actions.values()},
                             {"overdue", "due-soon", "on-track", "complete", "closed", "undated"})
        up = json.loads(self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir",
                                      harness.plugin_dir(), "upcoming", "--from",
                                      "2023-03-01", "--days", "7", "--json").stdout)
        self.assertTrue(up)
        for e in up:
            self.assertRegex(e["at"], r"^2023-03-0[1-7]T09:00:00\+00:00$")
            self.assertTrue(e["recipients"])
        self.assertIn({"at": "2023-03-03T09:00:00+00:00", "item": "EAP22-07", "stage": "lead-28"},
                      [{k: e[k] for k in ("at", "item", "stage")} for e in up])

    @unittest.skipUnless(os.geteuid() == 0, "needs root, as a sysadmin runs it")
    def test_retry_by_root_leaves_the_wakeup_file_to_the_service_user(self):
        """tickler retry run by root gives the wake-up file it touches to the
        state directory's owner (the service's user), who can then touch
        it too."""
        if harness.PG:
            self.skipTest("on PostgreSQL the database wakes the daemons: no file")
        self.oneshot("2023-03-03T09:00")
        os.chown(self.state, 65534, 65534)
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state, "retry",
                          "--failed")
        self.assertIn("0 notices queued again", p.stdout)
        st = os.stat(os.path.join(self.state, "wakeup"))
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))
        self.assertEqual(st.st_mode & 0o777, 0o600)

    def test_actions_lines_up_ids_of_any_width(self):
        """tickler actions pads its id column to the widest id, counted in
        characters, so the deadlines line up."""
        Path(self.plan).write_text(
            "Ref,Actions,Responsibility,Timeframe\n"
            "B1,One,Human Resources,30/06/2027\n"
            "B1-2,Two,Human Resources,30/04/2023\n"
            ",A row without a reference,Human Resources,30/04/2023\n"
            "\u00c91,Accented,Human Resources,01/01/2024\n", encoding="utf-8")
        p = self.run_tool(tool("tickler"), "-c", self.conf, "actions")
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 4, p.stdout)
        # where each deadline starts, in characters
        at = {re.search(r" \d{4}-\d{2}-\d{2} ", line).start() for line in lines}
        self.assertEqual(len(at), 1, p.stdout)
        self.assertTrue(lines[0].startswith("B1  "), lines[0])
        self.assertIn("4 actions, ", p.stderr)

    def test_plan_text_cannot_drive_the_terminal(self):
        # a title holding terminal escapes (erase the line above, write the
        # clipboard) is printed with them made harmless
        with open(self.plan, encoding="utf-8") as f:
            text = f.read()
        evil = "Provide guidance\x1b[1A\x1b[2K\x1b]52;c;QUJD\x07 to enable all staff"
        text = text.replace("Provide guidance to enable all staff", evil, 1)
        self.assertIn(evil, text)
        # in a heading, and in a cell a warning quotes (C1's CSI too)
        text = text.replace(",Progress\n", ",Progress\u009b2K\n", 1)
        text = text.replace("senior leadership),Policy Communities & Engagement team,April 2023",
                            "senior leadership),Policy Communities & Engagement team,"
                            "Marchish\x1b[2K 2023", 1)
        self.assertIn("Marchish", text)
        with open(self.plan, "w", encoding="utf-8") as f:
            f.write(text)
        runs = [["actions"], ["upcoming", "--from", "2023-03-01", "--days", "7"], ["check"]]
        for args in runs:
            p = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir",
                              harness.plugin_dir(), *args, check=False)
            for stream in (p.stdout, p.stderr):
                self.assertNotIn("\x1b", stream, args)
                self.assertNotIn("\x07", stream, args)
                self.assertNotIn("\u009b", stream, args)
            if args[0] != "check":
                self.assertIn("Provide guidance [1A [2K ]52;c;QUJD ", p.stdout, args)
            else:
                self.assertIn("\"Progress  2K\" (column 8)", p.stdout + p.stderr)
                self.assertIn("Marchish [2K 2023", p.stdout + p.stderr)

    def test_a_state_moved_to_postgresql_is_not_run_on(self):
        # tickler migrate marks the SQLite state it moved: sending from it
        # again would repeat what the PostgreSQL nodes sent since
        self.oneshot("2023-03-06T09:00")
        import sqlite3
        db = sqlite3.connect(os.path.join(self.state, "tickler.db"))
        with db:
            db.execute("INSERT INTO meta VALUES('moved_to_postgresql_at', 1700000000)")
        db.close()
        before = len(self.messages())
        p = subprocess.run([tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                            "--state-dir", self.state, "--now", "2023-03-07T09:00", "--oneshot"],
                           capture_output=True, text=True, timeout=120)
        if harness.PG:
            # with state.backend = "postgresql" (what the refusal asks for)
            # the moved SQLite state is not sent from, and the node runs
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("was moved to PostgreSQL", p.stderr)
            return
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("was moved to PostgreSQL by tickler migrate at 2023-11-14T22:13:20",
                      p.stderr)
        self.assertIn('set state.backend = "postgresql"', p.stderr)
        self.assertEqual(len(self.messages()), before)

    def test_upcoming_says_when_its_output_is_refused(self):
        # a full disk (or a closed pipe) must not pass for a short list
        for fmt in ([], ["--json"]):
            with open("/dev/full", "w") as full:
                p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir",
                                    harness.plugin_dir(), "upcoming", "--from", "2023-03-01",
                                    "--days", "7", *fmt], stdout=full, stderr=subprocess.PIPE,
                                   text=True, timeout=120)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("tickler upcoming: a reminder could not be listed", p.stderr)
        for args in (["actions"], ["actions", "--json"], ["holidays", "--year", "2023"]):
            with open("/dev/full", "w") as full:
                p = subprocess.run([tool("tickler"), "-c", self.conf, *args], stdout=full,
                                   stderr=subprocess.PIPE, text=True, timeout=120)
            self.assertEqual(p.returncode, 1, (args, p.stderr))
            self.assertIn("cannot write", p.stderr, args)

    def test_a_year_overdue_is_nagged_monthly(self):
        # EAP22-17 was due "Dec 2022" (Saturday 31 December 2022). A year
        # on, its nags come monthly on the month's last day (the deadline's
        # 31st, clamped), moved back to a working day, all escalated: 11 in
        # the 365 days from 31 December 2023, not 52.
        up = json.loads(self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir",
                                      harness.plugin_dir(), "upcoming", "--from",
                                      "2023-12-31", "--days", "365", "--json").stdout)
        nags = [e for e in up if e["item"] == "EAP22-17"]
        self.assertEqual([(e["at"][:10], e["stage"]) for e in nags], [
            ("2024-01-31", "overdue-m13"),
            ("2024-02-29", "overdue-m14"),
            ("2024-03-28", "overdue-m15"),  # Sun 31 March: Easter, Good Friday
            ("2024-04-30", "overdue-m16"),
            ("2024-05-31", "overdue-m17"),
            ("2024-06-28", "overdue-m18"),  # Sunday 30 June
            ("2024-07-31", "overdue-m19"),
            ("2024-08-30", "overdue-m20"),  # Saturday 31 August
            ("2024-09-30", "overdue-m21"),
            ("2024-10-31", "overdue-m22"),
            ("2024-11-29", "overdue-m23"),  # Saturday 30 November
        ])
        for e in nags:
            self.assertTrue(e["escalated"])
            self.assertEqual(e["deadline"], "2022-12-31")
            self.assertEqual({r["team"] for r in e["recipients"]}, {"pce", "edi-officers"})
        # every action a year overdue or more: monthly nags only, 12 at most
        per = {}
        for e in up:
            if e["deadline"] and e["deadline"] <= "2022-12-31":
                self.assertRegex(e["stage"], r"^overdue-m\d+$")
                per[(e["item"], e["team"])] = per.get((e["item"], e["team"]), 0) + 1
        self.assertTrue(per)
        self.assertLessEqual(max(per.values()), 12)


def civil_day(text):
    """Days since 1970-01-01 of YYYY-MM-DD, as the state database keeps them."""
    y, m, d = map(int, text.split("-"))
    return datetime.date(y, m, d).toordinal() - datetime.date(1970, 1, 1).toordinal()


def flat(text):
    """text with its line breaks and runs of spaces as one space: what a
    reader sees of a wrapped paragraph."""
    return " ".join(text.split())


class Answers(Fixture):
    """Officers' updates recorded in the state database: reminders listen
    to them, and the plan wins."""

    PLAN = ("Ref,Objective,Actions,Responsibility,Timeframe,Status,Progress\r\n"
            "L1,As an employer,Review the pay gap,HR,30/11/2026,In progress,\r\n"
            "L2,As an employer,Publish the workforce report,HR,30/11/2026,In progress,\r\n")

    def setUp(self):
        super().setUp()
        with open(self.plan, "w", encoding="utf-8") as f:
            f.write(self.PLAN)

    def actions(self):
        out = self.run_tool(tool("tickler"), "-c", self.conf, "actions", "--json").stdout
        return {a["title"]: a for a in json.loads(out)}

    def record(self, action, kind, who, at, until_day=None):
        """Records an update as the action page does: a row of the updates
        table with the plan as it stands (the shared database's on
        PostgreSQL)."""
        columns = ("action_id", "recipient", "team_id", "kind", "at", "link_issued_at",
                   "until_day", "plan_deadline_day", "plan_deadline_text", "plan_status",
                   "plan_owners")
        values = (action["id"], who, action["teams"][0], kind, at, at - 3600, until_day,
                  civil_day(action["deadline"]), action["deadline_text"],
                  action["status_text"], action["owners"])
        harness.insert_rows(self.conf, self.state, "updates", columns, [values])

    def upcoming(self, *args):
        return self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                             "--plugin-dir", harness.plugin_dir(), "upcoming", *args)

    def to_hr(self, msgs):
        return [flat(text_of(m)) for m in msgs
                if m["To"].addresses[0].addr_spec == "hr@maidstone.example"]

    def test_a_completed_action_is_not_reminded_until_the_plan_says_otherwise(self):
        # Monday 7 December: both a week overdue, in one digest
        self.oneshot("2026-12-07T09:00:30")
        first = self.to_hr(self.messages())
        self.assertEqual(len(first), 1)
        self.assertIn("Review the pay gap", first[0])
        self.assertIn("Publish the workforce report", first[0])
        acts = self.actions()
        # an officer marks L1 complete at 10:00 that day
        at = int(datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.timezone.utc).timestamp())
        self.record(acts["Review the pay gap"], 1, "hr@maidstone.example", at)

        # tickler upcoming leaves it out, and says so
        p = self.upcoming("--from", "2026-12-14", "--days", "7", "--owner", "hr", "--json")
        items = [e["item"] for e in json.loads(p.stdout)]
        self.assertEqual(items, ["L2"])
        self.assertIn("1 reminder held back by officers' updates (tickler upcoming --held "
                      "lists them)", p.stderr)
        held = json.loads(self.upcoming("--from", "2026-12-14", "--days", "7", "--owner", "hr",
                                        "--held", "--json").stdout)
        self.assertEqual([(e["item"], e["held"]) for e in held],
                         [("L1", "complete"), ("L2", None)])

        # the next send time, a running ticklerd: only L2
        d = Daemon(self.conf, self.state, "--now", "2026-12-14T08:59:58")
        d.wait_for("delivered notice: 1 action(s) to hr@maidstone.example")
        d.wait_for("reminder held back by an officer's update (complete): Review the pay gap")
        self.assertEqual(d.stop(), 0, d.log())
        second = self.to_hr(self.messages())[1:]
        self.assertEqual(len(second), 1)
        self.assertIn("Publish the workforce report", second[0])
        self.assertNotIn("Review the pay gap", second[0])

        # the plan moves L1's deadline: the plan wins, and the digest says so
        with open(self.plan, "w", encoding="utf-8") as f:
            f.write(self.PLAN.replace("L1,As an employer,Review the pay gap,HR,30/11/2026",
                                      "L1,As an employer,Review the pay gap,HR,31/12/2026"))
        self.oneshot("2026-12-17T09:00:30")
        third = self.to_hr(self.messages())[2:]
        self.assertEqual(len(third), 1)
        self.assertIn("Review the pay gap", third[0])
        self.assertIn("Latest update: hr@maidstone.example marked it complete on Monday 7 "
                      "December 2026; the plan now gives the deadline as 31/12/2026 and the "
                      "status as In progress, so reminders go on.", third[0])

    def test_a_snooze_holds_reminders_until_its_day_and_ends_with_one(self):
        self.oneshot("2026-12-07T09:00:30")
        acts = self.actions()
        at = int(datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.timezone.utc).timestamp())
        # snoozed until Wednesday 16 December: the nag of Monday 14th is
        # held, and the snooze ends with a reminder on the 16th
        self.record(acts["Review the pay gap"], 2, "hr@maidstone.example", at,
                    civil_day("2026-12-16"))
        up = json.loads(self.upcoming("--from", "2026-12-08", "--days", "10", "--owner", "hr",
                                      "--json").stdout)
        self.assertEqual([(e["at"][:10], e["item"], e["stage"]) for e in up], [
            ("2026-12-14", "L2", "overdue-2"),
            ("2026-12-16", "L1", "overdue-2"),
        ])
        # and so does ticklerd
        self.oneshot("2026-12-14T09:00:30")
        self.oneshot("2026-12-16T09:00:30")
        got = self.to_hr(self.messages())[1:]
        self.assertEqual(len(got), 2)
        self.assertIn("Publish the workforce report", got[0])
        self.assertNotIn("Review the pay gap", got[0])
        self.assertIn("Review the pay gap", got[1])
        self.assertNotIn("Publish the workforce report", got[1])
        self.assertNotIn("this reminder is late", got[1])

    def test_a_weekly_team_gets_one_message_a_week(self):
        plan = ["Ref,Objective,Actions,Responsibility,Timeframe,Status,Progress"]
        for i, day in enumerate(["08", "09", "10", "11", "15", "16", "17", "18"]):
            plan.append("W%d,As an employer,Task %d,HR,%s/12/2026,In progress," % (i, i, day))
        with open(self.plan, "w", encoding="utf-8") as f:
            f.write("\r\n".join(plan) + "\r\n")
        args = ("--from", "2026-12-07", "--days", "14", "--owner", "hr", "--json")
        daily = json.loads(self.upcoming(*args).stdout)
        self.assertGreater(len({e["at"][:10] for e in daily}), 4)  # the test can fail
        with open(self.conf) as f:
            text = f.read()
        hr = '{ id = "hr"; name = "Human Resources"; aliases = [ "HR" ];'
        self.assertIn(hr, text)
        with open(self.conf, "w") as f:
            f.write(text.replace(hr, hr[:-1] + ' digest = "weekly"; digest_day = "monday";'))
        weekly = json.loads(self.upcoming(*args).stdout)
        self.assertEqual(sorted({e["at"][:10] for e in weekly}), ["2026-12-07", "2026-12-14"])
        self.assertEqual({e["item"] for e in weekly}, {"W%d" % i for i in range(8)})
        # the daemon, run at each working day's send time: one message a week
        for day in range(7, 19):
            if datetime.date(2026, 12, day).weekday() < 5:
                self.oneshot("2026-12-%02dT09:00:30" % day)
        got = [m for m in self.messages()
               if m["To"].addresses[0].addr_spec == "hr@maidstone.example"]
        self.assertEqual([m["Date"].datetime.date().isoformat() for m in got],
                         ["2026-12-07", "2026-12-14"])
        for i in range(8):
            self.assertIn("Task %d" % i, flat(text_of(got[0])) + flat(text_of(got[1])))


class SendingHours(Fixture):
    """A start outside the sending hours (schedule.catch_up_until) keeps
    what it missed while stopped until the next send time, and decides it
    there."""

    PLAN = ("Ref,Objective,Actions,Responsibility,Timeframe,Status,Progress\r\n"
            "L1,As an employer,Review the pay gap,HR,04/12/2026,In progress,\r\n")
    to_hr = Answers.to_hr

    def catch_up_any_time(self):
        with open(self.conf) as f:
            text = f.read()
        self.assertIn('# catch_up_until = "17:00";', text)
        with open(self.conf, "w") as f:
            f.write(text.replace('# catch_up_until = "17:00";', 'catch_up_until = "any time";'))

    def sent_to_hr(self, d, after=0):
        """Once d has delivered HR's message (logged after line after), d
        stopped cleanly: every message HR has had, as text."""
        d.wait_for("delivered notice: 1 action(s) to hr@maidstone.example", after=after)
        self.assertEqual(d.stop(), 0, d.log())
        return self.to_hr(self.messages())

    def setUp(self):
        super().setUp()
        with open(self.plan, "w", encoding="utf-8") as f:
            f.write(self.PLAN)
        # Wednesday 2 December: the reminder of 7 days before goes (a first
        # start catches it up); then Thursday's and Friday's are missed
        self.oneshot("2026-12-02T09:00:30")
        self.assertEqual(len(self.to_hr(self.messages())), 1)

    def test_a_start_at_night_waits_for_the_next_send_time(self):
        d = self.start("2026-12-05T02:00")
        # since the last run, the --oneshot's round a moment after 09:00:30
        n = d.wait_for("outside the sending hours (schedule.catch_up_until): what was missed "
                       "while stopped, since 2026-12-02T09:00:")
        self.assertTrue(d.lines[n].endswith(" waits for the next send time, "
                                            "2026-12-07T09:00:00+00:00, and is decided then"),
                        d.lines[n])
        d.wait_for("started: 1 actions, ")
        if not harness.PG:  # there, it is built once the shared last run is read
            d.wait_for("the schedule is built at the next send time, 2026-12-07T09:00:00+00:00")
        time.sleep(2 * harness.SLOWDOWN)  # a round would have run at once
        self.assertEqual(d.stop(), 0, d.log())
        self.assertNotIn("queued notice", d.log())
        self.assertEqual(len(self.to_hr(self.messages())), 1)
        # the stop kept the last run: Monday's start still catches up, at 09:00
        d = self.start("2026-12-07T08:59:45")
        d.wait_for("waits for the next send time, 2026-12-07T09:00:00+00:00")
        n = d.wait_for("the sending hours have begun: ")
        # the next reminder is one missed, sent now, not one yet to come
        # (PostgreSQL: in the line of the schedule built once the shared
        # last run is read)
        built = d.wait_for("schedule built from the shared last run: ", after=n) if harness.PG else n
        self.assertRegex(d.lines[built], r", next 2026-12-0[1-4]T\S+ \(due now\)$")
        got = self.sent_to_hr(d, after=n)
        self.assertEqual(len(got), 2)
        # the latest missed, Friday's, marked late
        self.assertIn("Review the pay gap", got[1])
        self.assertIn("this reminder is late", got[1])
        self.assertIn("Friday 4 December 2026", got[1])

    @unittest.skipIf(harness.PG, "setUp's run wrote the shared last run: no first start")
    def test_a_first_start_keeps_its_catch_up_point_while_it_waits(self):
        """A first start looks back catch_up_days from itself, not from
        the send time it waits for; a stop meanwhile keeps that point."""
        self.state = os.path.join(self.tmp, "fresh")
        with open(self.plan, "w", encoding="utf-8") as f:  # 28 days before: Monday 30 November
            f.write(self.PLAN.replace("04/12/2026", "28/12/2026"))
        d = self.start("2026-12-05T02:00")  # Saturday: back to Saturday 28 November
        n = d.wait_for("what was missed while stopped, since 2026-11-2")
        since = re.search(r"since (\S+), waits for the next send time, "
                          r"2026-12-07T09:00:00\+00:00", d.lines[n])
        self.assertIsNotNone(since, d.lines[n])
        # 7 days before the start: the second its load began, or the one
        # before, while its clock (set once the configuration is read) says
        # 02:00:00
        point = datetime.datetime.fromisoformat(since.group(1))
        week = datetime.datetime.fromisoformat("2026-11-28T02:00:00+00:00")
        self.assertTrue(week - datetime.timedelta(seconds=30) <= point <= week, d.lines[n])
        d.wait_for("started: 1 actions, ")  # its signals handled from here
        self.assertEqual(d.stop(), 0, d.log())
        # Tuesday: a first start again would look back to Tuesday 1 December
        d = self.start("2026-12-08T08:59:45")
        d.wait_for("what was missed while stopped, since %s, waits for the next send time, "
                   "2026-12-08T09:00:00+00:00" % since.group(1))
        n = d.wait_for("the sending hours have begun: ")
        got = self.sent_to_hr(d, after=n)
        self.assertEqual(len(got), 1)
        self.assertIn("Review the pay gap", got[0])
        self.assertIn("this reminder is late", got[0])

    def test_what_waits_is_decided_on_the_plan_at_the_send_time(self):
        d = self.start("2026-12-07T08:59:40")
        d.wait_for("waits for the next send time, 2026-12-07T09:00:00+00:00")
        d.wait_for("started: 1 actions, ")
        # the action is renamed while it waits, saved as editors save
        self.write_plan(self.PLAN.replace("Review the pay gap", "Review the gender pay gap"))
        n = d.wait_for("store reloaded: 1 actions, ")
        n = d.wait_for("the sending hours have begun", after=n)
        got = self.sent_to_hr(d, after=n)
        self.assertEqual(len(got), 2)
        self.assertIn("Review the gender pay gap", got[1])

    def test_a_reload_while_it_waits_decides_again(self):
        d = self.start("2026-12-05T02:00")
        d.wait_for("waits for the next send time, 2026-12-07T09:00:00+00:00")
        d.wait_for("started: 1 actions, ")
        self.catch_up_any_time()
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("configuration reloaded: 1 actions")
        got = self.sent_to_hr(d, after=n)
        self.assertEqual(len(got), 2)
        self.assertIn("this reminder is late", got[1])

    def test_in_the_hours_and_with_oneshot_it_catches_up_at_once(self):
        d = self.start("2026-12-07T10:00")
        self.assertEqual(len(self.sent_to_hr(d)), 2)
        self.assertNotIn("sending hours", d.log())
        self.oneshot("2026-12-12T02:00")  # Saturday: a late-night --oneshot sends
        self.assertEqual(len(self.to_hr(self.messages())), 3)

    def test_any_time_catches_up_at_once(self):
        self.catch_up_any_time()
        d = self.start("2026-12-05T02:00")
        self.assertEqual(len(self.sent_to_hr(d)), 2)


class WallClock(Fixture):
    """The daemon's timers follow the wall clock when it is set."""

    PLAN = ("Ref,Objective,Actions,Responsibility,Timeframe,Status,Progress\r\n"
            "Z1,As an employer,Publish the workforce report,HR,31/03/2027,In progress,\r\n")
    # due Tuesday 15 December: its reminder of 7 days before is Tuesday 8th
    ADDED = "A1,As an employer,Review the pay gap,HR,15/12/2026,In progress,\r\n"
    to_hr = Answers.to_hr

    def test_a_clock_set_is_followed(self):
        self.write_plan(self.PLAN)
        self.oneshot("2026-12-08T08:00")  # the last run, so nothing is caught up
        self.write_plan(self.PLAN + self.ADDED)
        d = self.start("2026-12-08T08:59:56")  # the reminder of 7 days before at 09:00
        d.wait_for("started: 2 actions, ")
        try:  # to what it reads: back by a microsecond, a set all the same
            time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME))
        except PermissionError:
            d.stop()
            self.skipTest("the clock cannot be set here")
        d.wait_for("the wall clock moved on its own (the machine slept, or the clock was set): "
                   "the timers follow it")
        d.wait_for("delivered notice: 1 action(s) to hr@maidstone.example")
        self.assertEqual(d.stop(), 0, d.log())
        got = self.to_hr(self.messages())
        self.assertEqual(len(got), 1, got)
        self.assertIn("Review the pay gap", got[0])


class DiskFull(Fixture):
    """A full disk under the state directory: the error of the notices
    that could not be queued says so and names the outbox's file."""

    PLAN = WallClock.PLAN
    ADDED = WallClock.ADDED

    @unittest.skipUnless(os.geteuid() == 0 and not harness.PG,
                         "needs root, to mount a small file system; the SQLite state")
    def test_a_full_disk_is_named_with_the_outbox(self):
        small = self.small_fs()
        self.state = os.path.join(small, "state")
        self.write_plan(self.PLAN)
        self.oneshot("2026-12-08T08:00")  # the last run, so nothing is caught up
        self.write_plan(self.PLAN + self.ADDED)
        d = self.start("2026-12-08T08:59:50")  # the reminder of 7 days before at 09:00
        d.wait_for("started: 2 actions, ")
        # the outbox open, then its file system filled to the last byte
        harness.fill(small)
        i = d.wait_for("cannot commit")
        outbox = os.path.realpath(os.path.join(self.state, "tickler.db"))
        self.assertIn("to the outbox: the disk holding %s, or SQLite's temporary files, is full "
                      "(No space left on device)" % outbox, d.lines[i])
        d.kill()


class Signals(Fixture):
    def test_sigterm_exits_zero_with_every_handle_closed(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started:")
        rc = d.stop()
        self.assertEqual(rc, 0, "\n".join(d.lines))
        self.assertTrue(any("stopped" in l for l in d.lines))
        self.assertFalse(any("handles left open" in l for l in d.lines))

    def test_no_web_face_is_said(self):
        """No http group and no sockets from systemd (ticklerd.socket
        stopped with the service and not started again): the log says
        there is no web face, and why."""
        text = Path(self.conf).read_text()
        stripped = re.sub(r"^http = \{.*?^\};\n", "", text, count=1, flags=re.S | re.M)
        self.assertNotEqual(stripped, text)
        Path(self.conf).write_text(stripped)
        d = Daemon(self.conf, self.state)
        d.wait_for("no web face: the configuration has no http group and systemd passed no "
                   "sockets (is ticklerd.socket started?)")
        d.wait_for("started:")
        self.assertEqual(d.stop(), 0, d.log())

    def test_store_edit_break_restore_while_running(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started: 39 actions")
        good = Path(self.plan).read_text(encoding="utf-8")
        # an edit saved by rename, as editors do: one deadline changes
        edited = good.replace("Dec 2023 (ongoing release)", "Jan 2024", 1)
        self.write_plan(edited)
        n = d.wait_for("store reloaded: 39 actions, ")
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        # broken: an unclosed quote, which ends the file as a save caught
        # half way would: read again twice, then reported with its line,
        # and the file as last read good (the edit) stays in force
        Path(self.plan).write_text(edited + '"EAP99,never closed\n', encoding="utf-8")
        n = d.wait_for("keeping the last good store of 39 actions and reading it again", after=n)
        n = d.wait_for("keeping the last good store of 39 actions and reading it again",
                       after=n + 1)
        n = d.wait_for("never closed", after=n)
        bad_line = edited.count("\n") + 1
        self.assertIn(":%d: warning: a quoted field is never closed" % bad_line, d.lines[n])
        n = d.wait_for("sample-plan.csv: warning: cannot be read, so the file as last read good "
                       "(saved ", after=n)
        n = d.wait_for("a plan file cannot be read (see the warnings above): the file as last read "
                       "good is in force until it is mended", after=n)
        self.assertTrue(d.lines[n].startswith("<3>"), d.lines[n])
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
        # restored, without a restart
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        self.assertEqual(d.stop(), 0)

    def test_a_start_with_a_plan_saved_broken_runs_on_the_plan_as_last_read_good(self):
        """A plan saved broken while ticklerd was stopped (or before a
        reboot): the unit's check passes on the copy ticklerd kept of the
        plan as it last read it good, and the start runs on it, saying so;
        tickler check, which a person runs after an edit, still fails."""
        self.oneshot("2023-03-01T09:00")
        good = Path(self.plan).read_text(encoding="utf-8")
        Path(self.plan).write_text(good + '"EAP99,never closed\n', encoding="utf-8")
        bad_line = good.count("\n") + 1
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                          harness.plugin_dir(), "--state-dir", self.state)
        self.assertIn("configuration ok: 39 actions", p.stdout)
        self.assertIn("sample-plan.csv:%d: warning: a quoted field is never closed" % bad_line,
                      p.stderr)
        self.assertIn("sample-plan.csv: warning: cannot be read, so the file as last read good",
                      p.stderr)
        c = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                          "--state-dir", self.state, "check", check=False)
        self.assertEqual(c.returncode, 1, c.stdout + c.stderr)
        self.assertIn("sample-plan.csv:%d: error: a quoted field is never closed" % bad_line,
                      c.stdout + c.stderr)
        d = self.start("2023-03-02T08:00")
        n = d.wait_for("a plan file cannot be read (see the warnings above): the file as last read "
                       "good is in force until it is mended")
        d.wait_for("started: 39 actions", after=n)
        # mended while running: read as it is, and kept as the new copy
        self.write_plan(good.replace("Dec 2023 (ongoing release)", "Jan 2024", 1))
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("cannot keep a copy", d.log())
        # a state directory without a copy: the start is refused, as before
        shutil.rmtree(os.path.join(self.state, "plans"))
        Path(self.plan).write_text(good + '"EAP99,never closed\n', encoding="utf-8")
        d = Daemon(self.conf, self.state, "--now", "2023-03-02T08:00")
        self.assertEqual(d.wait(), 1)
        self.assertIn("cannot start: 1 error above", d.log())

    def test_plan_read_mid_save_keeps_the_last_good_store(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started: 39 actions")
        good = Path(self.plan).read_text(encoding="utf-8")
        # caught while being saved: the file ends inside its last row
        cut = good[:good.rindex(',"Policy, Communities')]
        Path(self.plan).write_text(cut, encoding="utf-8")
        n = d.wait_for("keeping the last good store of 39 actions and reading it again in 1000 ms")
        self.assertTrue(any(":%d: warning: the file ends inside this row" % (cut.count("\n") + 1)
                            in l for l in d.lines[:n]), "\n".join(d.lines))
        # saved whole: nothing changed from the store kept
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
        self.assertFalse(any("putting it in force" in l for l in d.lines), "\n".join(d.lines))
        # a file that really ends so is put in force at the third read
        Path(self.plan).write_text(cut, encoding="utf-8")
        n = d.wait_for("keeping the last good store of 39 actions", after=n + 1)
        n = d.wait_for("keeping the last good store of 39 actions", after=n + 1)
        n = d.wait_for("still ends inside a row after 3 reads: putting it in force", after=n + 1)
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        # a configuration reload puts it in force with the configuration,
        # and reads it again soon: saved whole meanwhile, that is in force
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
        Path(self.plan).write_text(cut, encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("configuration reloaded: 39 actions", after=n + 1)
        n = d.wait_for("the plan ends inside a row, as if it was read while being saved: reading it "
                       "again in 1000 ms", after=n)
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        self.assertEqual(d.stop(), 0)

    def test_plan_read_mid_save_inside_a_quoted_cell_keeps_the_last_good_store(self):
        """A plan caught while being saved inside a quoted cell (its last
        row's cell of two lines, every field begun) is held as one that
        ends inside a row is, not refused at once as a quote never closed
        with the copy as last read good put in force; saved whole, it is
        read with nothing lost or read twice. One that stays so is refused
        at the third read, as a quote never closed."""
        d = Daemon(self.conf, self.state)
        d.wait_for("started: 39 actions")
        good = Path(self.plan).read_text(encoding="utf-8")
        cut = good[:good.rindex("\nWork with Service Managers") + len("\nWork with")]
        line = cut[:cut.rindex(',"Prioritise existing')].count("\n") + 1
        Path(self.plan).write_text(cut, encoding="utf-8")
        n = d.wait_for("the plan ends inside a row, as if it was read while being saved: keeping "
                       "the last good store of 39 actions and reading it again in 1000 ms")
        self.assertTrue(any(":%d: warning: the file ends inside a quoted field of this row" % line
                            in l for l in d.lines[:n]), "\n".join(d.lines))
        # saved whole: nothing changed from the store kept
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
        self.assertFalse(any(l.startswith("<3>") or "never closed" in l or "last read good" in l
                             for l in d.lines), "\n".join(d.lines))
        # a file that really ends so: held twice, then refused, and the
        # file as last read good is in force
        Path(self.plan).write_text(cut, encoding="utf-8")
        n = d.wait_for("keeping the last good store of 39 actions", after=n + 1)
        n = d.wait_for("keeping the last good store of 39 actions", after=n + 1)
        n = d.wait_for(":%d: warning: a quoted field is never closed" % line, after=n + 1)
        n = d.wait_for("a plan file cannot be read (see the warnings above): the file as last read "
                       "good is in force until it is mended", after=n)
        self.assertTrue(d.lines[n].startswith("<3>"), d.lines[n])
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
        self.assertEqual(d.stop(), 0)

    def test_a_plan_emptied_is_held_then_put_in_force(self):
        """A plan saved with its header alone (or read between its
        truncation and its writing) would stop every reminder at once: the
        last good store serves while it is read again, and a plan that
        stays empty is put in force at the third read."""
        d = Daemon(self.conf, self.state)
        d.wait_for("started: 39 actions")
        good = Path(self.plan).read_text(encoding="utf-8")
        header = good[:good.index("\n") + 1]
        Path(self.plan).write_text(header, encoding="utf-8")
        n = d.wait_for("the plan has no action left, as if it was read while being saved: "
                       "keeping the last good store of 39 actions and reading it again in 1000 ms")
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 0 changed"), d.lines[n])
        Path(self.plan).write_text(header, encoding="utf-8")
        n = d.wait_for("keeping the last good store of 39 actions", after=n + 1)
        n = d.wait_for("keeping the last good store of 39 actions", after=n + 1)
        n = d.wait_for("the plan still has no action after 3 reads: putting it in force", after=n)
        n = d.wait_for("store reloaded: 0 actions, ", after=n)
        self.assertEqual(d.stop(), 0)

    def test_plan_read_mid_save_at_the_start_is_read_again(self):
        good = Path(self.plan).read_text(encoding="utf-8")
        Path(self.plan).write_text(good[:good.rindex(',"Policy, Communities')], encoding="utf-8")
        d = Daemon(self.conf, self.state)
        n = d.wait_for("started: 39 actions")
        n = d.wait_for("the plan ends inside a row, as if it was read while being saved: reading it "
                       "again in 1000 ms")
        # read again still cut: what it keeps is the cut store in force,
        # not a last good one (there is none)
        n = d.wait_for("the plan still ends inside a row, as if it was read while being saved: "
                       "keeping the store in force (39 actions, read so at the start or "
                       "configuration reload) and reading it again in 1000 ms", after=n + 1)
        self.assertFalse(any("last good store" in l for l in d.lines), "\n".join(d.lines))
        # saved whole: in force at the read again, or at the change seen
        Path(self.plan).write_text(good, encoding="utf-8")
        n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        self.assertEqual(d.stop(), 0)

    def test_a_second_daemon_on_the_state_directory_is_refused(self):
        """Two daemons on one outbox would each send the other's notices in
        flight again: the second is refused, naming the first, and the
        first runs on; so is tickler migrate. Once the first has stopped,
        one may start there again."""
        d = Daemon(self.conf, self.state)
        d.wait_for("started: 39 actions")
        second = self.run_tool(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                               "--state-dir", self.state, "--now", "2023-03-01T09:00",
                               "--oneshot", check=False)
        self.assertEqual(second.returncode, 1, second.stderr)
        self.assertIn("another ticklerd (pid %d) is running on the state directory %s"
                      % (d.proc.pid, self.state), second.stderr)
        conninfo = os.path.join(self.tmp, "conninfo")
        Path(conninfo).write_text("dbname=none\n")
        moved = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                              "migrate", "--from", "sqlite", "--to", "postgresql",
                              "--conninfo-file", conninfo, check=False)
        self.assertEqual(moved.returncode, 1, moved.stderr)
        self.assertIn("ticklerd (pid %d) is running on %s: stop it first"
                      % (d.proc.pid, self.state), moved.stderr)
        self.assertIsNone(d.proc.poll())
        self.assertEqual(d.stop(), 0)
        again = Daemon(self.conf, self.state)
        again.wait_for("started: 39 actions")
        self.assertEqual(again.stop(), 0)

    def test_sighup_keeps_old_config_when_new_is_invalid(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started:")
        good = Path(self.conf).read_text()
        Path(self.conf).write_text(good.replace('send_time = "09:00"', 'send_time = "9am"'))
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("reload refused: 1 error above, in %s or the files it names; the"
                       " previous configuration stays in force" % self.conf)
        self.assertIn("send_time must be HH:MM", d.lines[n - 1])
        self.assertIsNone(d.proc.poll())
        # libconfig itself would end the process on this line
        Path(self.conf).write_text(good + '@include ""\n')
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("reload refused: 1 error above", after=n + 1)
        self.assertIn("@include needs a file name", d.lines[n - 1])
        # an error the notifier's plugin logs of its own settings counts too
        Path(self.conf).write_text(good.replace('from = "tickler <tickler@maidstone.example>"',
                                                'form = "tickler <tickler@maidstone.example>"'))
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("reload refused: 1 error above", after=n + 1)
        self.assertIn('unknown setting "form"', d.log())
        self.assertNotIn("Invalid argument", d.log())
        self.assertIsNone(d.proc.poll())
        Path(self.conf).write_text(good)
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("configuration reloaded: 39 actions", after=n)
        # the notifier and the calendar source, unchanged, keep running
        self.assertIn("1 notifier and 1 source (2 of these plugins kept running)", d.lines[n])
        # a changed setting: the maildir notifier takes it over in place
        Path(self.conf).write_text(good.replace('from = "tickler <tickler@maidstone.example>"',
                                                'from = "EDI reminders <edi@maidstone.example>"'))
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("configuration reloaded: 39 actions", after=n + 1)
        self.assertIn("1 notifier and 1 source (2 of these plugins kept running)", d.lines[n])
        # the kept calendar serves the store's next reading (observances)
        plan = os.path.join(os.path.dirname(self.conf), "sample-plan.csv")
        text = Path(plan).read_text()
        with open(plan + ".new", "w") as f:
            f.write(text)
        os.rename(plan + ".new", plan)
        n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
        self.assertNotIn(" 0 observances", d.lines[n])
        self.assertEqual(d.stop(), 0)


COMMANDS = {"actions", "check", "upcoming", "holidays", "status", "outbox", "retry", "send-test",
            "calendar", "report", "updates", "link", "migrate"}


class Cli(Fixture):
    """tickler refuses what it does not know, before it reads or writes
    anything: exit 2, naming the command and the option, with the usage."""

    def tickler(self, *args):
        return self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state, *args,
                             check=False)

    def assert_usage_error(self, p, message, cmd=None):
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        who = "tickler %s" % cmd if cmd else "tickler"
        self.assertEqual(p.stderr.splitlines()[0], "%s: %s" % (who, message))
        self.assertIn("Usage: tickler [OPTIONS] %s" % (cmd or "COMMAND"), p.stderr)
        self.assertIn("tickler --help", p.stderr)

    def test_every_command_refuses_an_unknown_option(self):
        h = self.run_tool(tool("tickler"), "--help").stdout
        cmds = re.findall(r"^  ([a-z-]+)(?: |$)", h.split("Options:")[0], re.M)
        self.assertEqual(set(cmds), COMMANDS)
        for cmd in cmds:
            self.assert_usage_error(self.tickler(cmd, "--bogus"), "unknown option '--bogus'", cmd)
            self.assert_usage_error(self.tickler(cmd, "-z"), "unknown option '-z'", cmd)
            p = self.tickler(cmd, "--help")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(p.stdout.startswith("Usage: tickler [OPTIONS] %s" % cmd), p.stdout)
        # after options it knows, and after its arguments
        self.assert_usage_error(self.tickler("outbox", "--json", "--failed", "--bogus"),
                                "unknown option '--bogus'", "outbox")
        self.assert_usage_error(self.tickler("send-test", "maildir", "--to", "x@example.org",
                                             "--bogus"), "unknown option '--bogus'", "send-test")
        self.assert_usage_error(self.tickler("retry", "12", "--bogus"),
                                "unknown option '--bogus'", "retry")
        # a command that does not exist; the words for what commands do
        # name the commands
        self.assert_usage_error(self.tickler("frobnicate"), "unknown command 'frobnicate'")
        p = self.tickler("preview", "--days", "7")
        self.assert_usage_error(p, "unknown command 'preview'")
        self.assertEqual(p.stderr.splitlines()[1],
                         "To preview, use: tickler upcoming (the reminders that would be sent).")
        p = self.tickler("export")
        self.assertIn("To export, use: tickler calendar (the observances), report", p.stderr)
        # tickler's own options
        self.assert_usage_error(self.tickler("--bogus", "status"), "unknown option '--bogus'")
        self.assert_usage_error(self.run_tool(tool("tickler"), "-c", check=False),
                                "option '-c' needs a value")
        self.assertFalse(os.path.exists(self.state))

    def test_upcoming_for_an_owner_no_team_is_said_so(self):
        p = self.tickler("upcoming", "--owner", "Nobdy")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn('tickler upcoming: --owner "Nobdy" matches no team (by id, name or alias); '
                      "the teams: pce, housing", p.stderr)
        # by a team's name, any case, it is known
        p = self.tickler("upcoming", "--owner", "human resources", "--days", "3")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_missing_values_and_unexpected_arguments(self):
        for args in (["upcoming", "--days"], ["upcoming", "--from"], ["upcoming", "--owner"],
                     ["holidays", "--year"], ["calendar", "--format"], ["calendar", "--to"],
                     ["calendar", "--from"], ["send-test", "maildir", "--to"],
                     ["report", "--from"], ["report", "--format"], ["report", "-o"],
                     ["updates", "--since"], ["migrate", "--from"], ["migrate", "--to"],
                     ["migrate", "--conninfo-file"]):
            self.assert_usage_error(self.tickler(*args), "option '%s' needs a value" % args[-1],
                                    args[0])
        for args in (["status", "now"], ["check", "all"], ["actions", "x.csv"],
                     ["outbox", "5"], ["holidays", "2026"], ["report", "2026"],
                     ["updates", "all"],
                     ["send-test", "maildir", "again", "--to", "x@example.org"]):
            self.assert_usage_error(self.tickler(*args), "unexpected argument '%s'" % args[-1]
                                    if args[0] != "send-test" else "unexpected argument 'again'",
                                    args[0])
        self.assert_usage_error(self.tickler("status", "--json=yes"),
                                "option '--json' takes no value", "status")
        # no abbreviations: `retry --f` must not re-send every failed notice
        self.assert_usage_error(self.tickler("retry", "--f"), "unknown option '--f'", "retry")
        self.assert_usage_error(self.tickler("status", "--js"), "unknown option '--js'", "status")
        self.assert_usage_error(self.tickler("retry", "--failed", "3"),
                                "either ids or --failed, not both", "retry")
        for args, message in ((["link"], "which action?"),
                              (["link", "A1"], "for whom? (RECIPIENT)"),
                              (["link", "A1", "x@example.org", "y"], "too many arguments (at most 2)"),
                              (["link", "A1", "x@example.org", "--expires-in"],
                               "option '--expires-in' needs a value"),
                              (["link", "A1", "x@example.org", "--expires-in", "0"],
                               "--expires-in must be 1 to 366 days"),
                              (["link", "A1", "x@example.org", "--expires-in", "1y"],
                               "--expires-in must be 1 to 366 days")):
            self.assert_usage_error(self.tickler(*args), message, "link")
        self.assertFalse(os.path.exists(self.state))

    def test_ticklerd_refuses_a_bad_now_as_usage(self):
        """ticklerd --now that is not a date or an instant is bad usage
        (exit 2, ticklerd(8)), found before the configuration is read."""
        for now in ("garbage", "2026-02-30x", "@12x", ""):
            p = self.run_tool(tool("ticklerd"), "-c", self.conf, "--state-dir", self.state,
                              "--now", now, "--oneshot", check=False)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertEqual(p.stdout, "")
            self.assertEqual(p.stderr, "ticklerd: --now \"%s\" is not YYYY-MM-DD[THH:MM[:SS]] "
                             "or @EPOCH\n" % now)
        self.assertFalse(os.path.exists(self.state))


def make_peer(answers):
    """An HTTP server on 127.0.0.1 answering a POST to /NAME with the
    status answers gives NAME (202 when it names none)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = answers.get(self.path.strip("/"), 202)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Status(Fixture):
    """tickler status: healthy (exit 0) when no notice failed and none waits
    longer than delivery.max_age_hours, else exit 1 saying why; --json says
    the same to a monitoring script."""

    def status(self):
        text = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                             "status", check=False)
        js = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                           "status", "--json", check=False)
        self.assertEqual(js.returncode, text.returncode, js.stderr)
        return text, json.loads(js.stdout), js.returncode

    def status_when_running(self, running):
        """status() once its "running" is running (a node's session ends
        just after the node exits)."""
        deadline = time.monotonic() + 60
        while True:
            text, js, rc = self.status()
            if js["running"] == running or time.monotonic() > deadline:
                return text, js, rc
            time.sleep(0.1)

    def run_sql(self, sql):
        """Runs sql on the state of the backend under test."""
        if harness.PG:
            harness.pg_sql(self.conf, sql)
            return
        import sqlite3
        db = sqlite3.connect(os.path.join(self.state, "tickler.db"))
        try:
            with db:
                db.execute(sql)
        finally:
            db.close()

    def webhook_setup(self, answers):
        """A configuration whose teams Alpha and Bravo are reached through
        the webhook destinations alpha and bravo of a peer answering with
        answers; one action each, due on 3 March 2023."""
        server = make_peer(answers)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        for name in ("alpha", "bravo"):
            with open(os.path.join(self.tmp, name + ".url"), "w") as f:
                f.write("http://127.0.0.1:%d/%s\n" % (server.server_address[1], name))
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 600; max_age_hours = 5; };
notifiers = ( { name = "hook"; plugin = "webhook"; settings = { timeout_seconds = 10;
    destinations = ( { name = "alpha"; url_file = "alpha.url"; },
                     { name = "bravo"; url_file = "bravo.url"; } ); }; } );
teams = ( { id = "alpha"; name = "Alpha"; recipients = { hook = [ "alpha" ]; }; },
          { id = "bravo"; name = "Bravo"; recipients = { hook = [ "bravo" ]; }; } );
""")
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "A1,First action,Alpha,03/03/2023,\nB1,Second action,Bravo,03/03/2023,\n")
        self.run_tool(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                      "--state-dir", self.state, "--now", "2023-03-03T09:00:30", "--oneshot")

    def test_everything_delivered_is_healthy(self):
        self.oneshot("2023-03-03T09:00")
        text, js, rc = self.status_when_running(False)
        self.assertEqual(rc, 0, text.stdout + text.stderr)
        self.assertRegex(text.stdout, r"\nhealth: +ok\n")
        self.assertNotIn("not healthy", text.stdout)
        if not harness.PG:  # nothing waits: that no ticklerd runs is no fault
            self.assertRegex(text.stdout, r"\nticklerd: +not running\n")
        # the round ran at the --now instant, give or take the time it took
        self.assertRegex(js.pop("last_run"), r"^2023-03-03T09:0\d:\d\d\+00:00$")
        if not harness.PG:  # the room where the state is (PostgreSQL's is its server's)
            self.assertGreater(js.pop("disk_free_bytes"), 16 * 1024 * 1024)
            self.assertRegex(text.stdout, r"\ndisk free: +\d+\.\d [kMGTP]B where the state is\n")
        if harness.PG:  # the shared database's, and the node that ran
            self.assertEqual(js.pop("backend"), "postgresql")
            self.assertEqual([(n["id"], n["leases"]) for n in js.pop("nodes")],
                             [(socket.gethostname(), 0)])
        self.assertEqual(js, {"pending": 0, "retrying": 0, "failed": 0, "delivered_today": 0,
                              "delivered": 6, "withdrawn": 0, "next_attempt": None,
                              "oldest_pending": None, "stuck": 0, "max_age_hours": 48,
                              "running": False, "due_since": None, "healthy": True,
                              "retrying_since": None, "last_error": None,
                              "waiting_for_notifier": {}})

    @unittest.skipUnless(os.geteuid() == 0 and not harness.PG,
                         "needs root, to mount a small file system; the SQLite state")
    def test_a_state_directory_out_of_room_is_not_healthy(self):
        """A full disk stops ticklerd committing notices, which it cannot
        then record; tickler status sees the room left itself."""
        self.state = os.path.join(self.small_fs(), "state")
        self.oneshot("2023-03-03T09:00")
        text, js, rc = self.status()
        self.assertEqual(rc, 1, text.stdout + text.stderr)
        self.assertFalse(js["healthy"])
        self.assertLess(js["disk_free_bytes"], 8 * 1024 * 1024)
        self.assertEqual((js["failed"], js["stuck"]), (0, 0))  # the room alone
        self.assertRegex(text.stdout, r"\nnot healthy: +the state directory's file system has "
                                      r"\d+\.\d [kM]B free: ticklerd may soon be unable to "
                                      r"commit new notices")
        self.assertNotIn("health:           ok", text.stdout)

    @unittest.skipUnless(os.geteuid() == 0 and not harness.PG,
                         "needs root, to run tickler as another user; the SQLite state")
    def test_a_user_refused_the_state_is_told_to_run_as_root(self):
        """ticklerd's state directory is its own (mode 0700 under systemd):
        tickler status and outbox run by another user say so, and what to
        do, where SQLite says only "unable to open database file"."""
        self.oneshot("2023-03-03T09:00")
        # the program and the configuration readable by anyone, the state not
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        prog = shutil.copy(tool("tickler"), bin_dir)
        for d in (self.tmp, bin_dir):
            os.chmod(d, 0o755)
        os.chmod(self.conf, 0o644)
        os.chmod(self.state, 0o700)
        for command, said in ((["status"], "tickler: cannot read the state database"),
                              (["outbox"], "tickler: cannot open the outbox"),
                              (["report", "-o", os.devnull], "tickler report: cannot read the "
                                                             "updates"),
                              (["updates"], "tickler updates: cannot read the updates")):
            p = self.run_tool("runuser", "-u", "nobody", "--", prog, "-c", self.conf,
                              "--state-dir", self.state, *command, check=False)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn(said, p.stderr)
            self.assertIn("this user cannot read it: run tickler as root (sudo)", p.stderr)
        # as root it reads
        p = self.run_tool(prog, "-c", self.conf, "--state-dir", self.state, "status")
        self.assertRegex(p.stdout, r"\nhealth: +ok\n")

    @unittest.skipUnless(os.geteuid() == 0 and not harness.PG,
                         "needs root, to run tickler as another user and to set the immutable "
                         "attribute; the SQLite state")
    def test_a_state_directory_tickler_cannot_write_is_named_with_what_to_do(self):
        """A state directory another user may read but not write, or one
        even root cannot write (immutable): tickler retry and status name
        the database and what is needed, not SQLite's bare words."""
        self.oneshot("2023-03-03T09:00")
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        prog = shutil.copy(tool("tickler"), bin_dir)
        for d in (self.tmp, bin_dir, self.state):
            os.chmod(d, 0o755)
        for f in (self.conf, os.path.join(self.state, "tickler.db")):
            os.chmod(f, 0o644)
        db = os.path.join(self.state, "tickler.db")

        def run(*args, user=None):
            p = self.run_tool(*(["runuser", "-u", user, "--"] if user else []), prog, "-c",
                              self.conf, "--state-dir", self.state, *args, check=False)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            return p.stderr

        said = run("retry", "--failed", user="nobody")
        self.assertIn("tickler: cannot open the outbox %s: " % db, said)
        self.assertIn("; this user cannot write to the state directory or its tickler.db: run "
                      "tickler as root (sudo), as ticklerd's state is its own\n", said)
        chattr = subprocess.run(["chattr", "+i", self.state], capture_output=True, text=True)
        if chattr.returncode != 0:
            self.skipTest("the immutable attribute cannot be set here: " + chattr.stderr)
        try:
            for args, head in ((["retry", "--failed"], "tickler: cannot open the outbox %s: "),
                               (["status"], "tickler: cannot read the state database %s: ")):
                said = run(*args)
                self.assertIn(head % db, said)
                self.assertIn("; even root cannot write to the state directory or its "
                              "tickler.db: is it immutable (lsattr -d)? tickler needs to write "
                              "there (chattr -i)\n", said)
        finally:
            subprocess.run(["chattr", "-i", self.state], check=True)

    def test_a_failed_notice_is_not_healthy_until_retried(self):
        answers = {"bravo": 404}
        self.webhook_setup(answers)
        text, js, rc = self.status()
        self.assertEqual(rc, 1, text.stdout + text.stderr)
        self.assertEqual((js["failed"], js["delivered"], js["pending"], js["retrying"]), (1, 1, 0, 0))
        self.assertEqual((js["stuck"], js["healthy"], js["oldest_pending"]), (0, False, None))
        self.assertRegex(text.stdout, r"\nnot healthy: +1 notice failed \(tickler outbox --failed")
        self.assertNotIn("health:", text.stdout)
        # sent again: waiting for the daemon, no failure while one runs to
        # send it, nor for a while (a restart, a timer's next run) while none
        # does
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state, "retry",
                          "--failed")
        self.assertIn("1 notice queued again", p.stdout)
        text, js, rc = self.status_when_running(False)
        self.assertEqual(rc, 0, text.stdout + text.stderr)
        self.assertEqual((js["failed"], js["pending"] + js["retrying"], js["stuck"], js["healthy"]),
                         (0, 1, 0, True))
        self.assertRegex(js["oldest_pending"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
        self.assertIsNotNone(js["next_attempt"])
        # a ticklerd runs: the notice waits for it (a server now busy)
        answers["bravo"] = 503
        d = self.start("2023-03-03T09:00:30")
        d.wait_for("started")
        text, js, rc = self.status_when_running(True)
        self.assertEqual(rc, 0, text.stdout + text.stderr)
        self.assertEqual((js["failed"], js["pending"] + js["retrying"], js["stuck"], js["healthy"]),
                         (0, 1, 0, True))
        if not harness.PG:
            self.assertRegex(text.stdout, r"\nticklerd: +running \(pid %d\)\n" % d.proc.pid)
        else:
            self.assertEqual([n["connected"] for n in js["nodes"]], [True])
        self.assertEqual(d.stop(), 0, d.log())
        # stopped, with the notice due half an hour ago: nothing sends it
        self.run_sql("UPDATE notices SET created_at = created_at - 1800 WHERE state = 0")
        text, js, rc = self.status_when_running(False)
        self.assertEqual(rc, 1, text.stdout + text.stderr)
        self.assertEqual((js["stuck"], js["running"], js["healthy"]), (0, False, False))
        self.assertRegex(text.stdout, r"\nnot healthy: +notices due since \S+ and no ticklerd %s "
                         r"to send them \(systemctl start ticklerd" % (
                             "connected to the database" if harness.PG
                             else "running on this state directory"))
        if not harness.PG:
            self.assertRegex(text.stdout, r"\nticklerd: +not running\n")
        self.assertNotIn("retrying", text.stdout.split("health")[1])
        # failing for over an hour (a server down): not healthy, with its
        # error, while ticklerd runs as before it stopped
        self.run_sql("UPDATE notices SET created_at = created_at - 3600 WHERE state = 0")
        text, js, rc = self.status()  # tried once: a failure, not yet an outage
        self.assertEqual(rc, 1, text.stdout + text.stderr)  # unsent, as above
        self.assertNotIn("retrying, one due since", text.stdout)
        self.run_sql("UPDATE notices SET attempts = 2 WHERE state = 0")
        text, js, rc = self.status()
        self.assertEqual(rc, 1, text.stdout + text.stderr)
        self.assertRegex(text.stdout, r"\nnot healthy: +1 notice retrying, one due since \S+ and "
                         r"tried more than once, the last error: \"[^\"\n]*503[^\"\n]*\" "
                         r"\(tickler outbox\)\n")
        self.assertIn("503", js["last_error"])
        self.assertRegex(js["retrying_since"], r"^\d{4}-\d\d-\d\dT")
        if harness.PG:  # what follows is a broken SQLite file
            return
        # a state database that cannot be read is not healthy either
        bad = os.path.join(self.tmp, "bad-state")
        os.mkdir(bad)
        with open(os.path.join(bad, "tickler.db"), "w") as f:
            f.write("not a database\n" * 100)
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", bad, "status",
                          "--json", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read the state database %s/tickler.db" % bad, p.stderr)

    @unittest.skipUnless(harness.PG, "the state is on PostgreSQL")
    def test_a_conninfo_file_that_is_not_there_is_an_error_not_an_empty_state(self):
        """Moved or mistyped, it says so and fails (exit 1), where an empty
        database is "none yet" (exit 3) and updates "none recorded"."""
        conninfo = harness.pg_database(self.conf)[1]
        os.rename(conninfo, conninfo + ".away")
        try:
            for args in (["status"], ["updates"], ["upcoming", "--days", "30"]):
                p = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                  *args, check=False)
                out = p.stdout + p.stderr
                self.assertEqual(p.returncode, 1, (args, out[-2000:]))
                self.assertIn("cannot use the conninfo: No such file or directory", out)
                self.assertNotIn("none yet", out)
                self.assertNotIn("no updates recorded", out)
        finally:
            os.rename(conninfo + ".away", conninfo)

    def test_before_the_first_run_there_is_no_state(self):
        """A fresh install: no state database yet. Said plainly, with what
        to do, exit 3 (documented), and nothing is created."""
        state = os.path.join(self.tmp, "fresh", "state")
        for args, out in ((["status"], None), (["status", "--json"], None)):
            p = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", state, *args,
                              check=False)
            self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
            if harness.PG:  # an empty database: no ticklerd has made its tables
                self.assertIn("no state yet in the PostgreSQL database of %s: ticklerd creates "
                              "it when it first runs" % harness.pg_database(self.conf)[1],
                              p.stderr)
                self.assertIn("systemctl start ticklerd", p.stderr)
                if "--json" in args:
                    self.assertEqual(json.loads(p.stdout), {"state": "none",
                                                            "backend": "postgresql",
                                                            "healthy": False})
                else:
                    self.assertRegex(p.stdout, r"^state: +none yet")
                continue
            self.assertIn("no state yet in %s: ticklerd creates it when it first runs" % state,
                          p.stderr)
            self.assertIn("systemctl start ticklerd", p.stderr)
            self.assertNotIn("unable to open", p.stdout + p.stderr)
            if "--json" in args:
                self.assertEqual(json.loads(p.stdout), {"state": "none", "state_directory": state,
                                                        "healthy": False})
            else:
                self.assertRegex(p.stdout, r"^state: +none yet")
        # the outbox, too, says so instead of SQLite's "unable to open"
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--state-dir", state, "outbox",
                          check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(harness.NO_PG_STATE if harness.PG else
                      "no state yet: %s does not exist" % state, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "fresh")))

    def test_a_notice_waiting_longer_than_max_age_is_stuck(self):
        # Bravo's peer is down (503: tried again later); the notice was
        # committed on 3 March 2023, far longer than max_age_hours (5) ago
        self.webhook_setup({"bravo": 503})
        text, js, rc = self.status()
        self.assertEqual(rc, 1, text.stdout + text.stderr)
        self.assertEqual((js["failed"], js["delivered"], js["retrying"]), (0, 1, 1))
        self.assertEqual((js["stuck"], js["max_age_hours"], js["healthy"]), (1, 5, False))
        self.assertTrue(js["oldest_pending"].startswith("2023-03-03T09:0"), js)
        self.assertRegex(text.stdout, r"\nnot healthy: +1 notice waiting longer than 5 hours "
                         r"\(delivery\.max_age_hours\)")
        self.assertRegex(text.stdout, r"\nfailed: +0\n")


class Idle(Fixture):
    def activity(self, pid):
        """(context switches of all the daemon's threads, whether every one
        of them is asleep)."""
        total, asleep = 0, True
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("State:"):
                        asleep = asleep and line.split()[1] == "S"
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        return total, asleep

    def wait_until_idle(self, d, quiet=1.0, timeout=120):
        """Waits until the start-up work (first delivery round, outbox) is
        done: every thread asleep and none run for quiet seconds in a row.
        A daemon that is runnable but waits for a CPU on a loaded machine is
        not asleep, so it is not taken for idle. Returns the switch count."""
        deadline = time.monotonic() + timeout
        last, since = None, None
        while time.monotonic() < deadline:
            n, asleep = self.activity(d.proc.pid)
            now = time.monotonic()
            if not asleep or n != last:
                last, since = (n if asleep else None), now
            elif now - since >= quiet:
                return n
            time.sleep(0.1)
        self.fail("the daemon was never idle for %.1f s in %d s; log:\n%s"
                  % (quiet, timeout, d.log()))

    def cold_maps(self, pid):
        """The daemon's mappings of files of its state directory that have
        no name (its cold memory): a list of their sizes in bytes."""
        state = os.path.realpath(self.state) + "/"
        sizes = []
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split(None, 5)
                path = parts[5].rstrip("\n") if len(parts) > 5 else ""
                if parts[1] == "rw-s" and path.startswith(state) and path.endswith(" (deleted)"):
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    sizes.append(hi - lo)
        return sizes

    def test_the_plan_is_held_in_the_state_directory_not_in_private_memory(self):
        """The loaded plan (actions and texts) is cold memory: pages of
        files of the state directory that have no name, which the kernel
        can write back and drop; no reload leaves more of them than the
        loads it keeps, and nothing is left in the directory when the
        daemon is killed."""
        rows = ["Action %d,HR,2030/31" % i for i in range(10000)]
        with open(self.plan, "w", newline="", encoding="utf-8") as f:
            f.write("Actions,Responsibility,Timeframe\n" + "\n".join(rows) + "\n")
        csv_bytes = os.path.getsize(self.plan)
        # in the build tree, on the disk the unit tests need ext4 or XFS of
        # (tests/unit/cold_fixture.h), wherever the temporary directory is
        self.state = tempfile.mkdtemp(prefix="state-", dir=harness.BUILD)
        self.addCleanup(shutil.rmtree, self.state, True)
        d = Daemon(self.conf, self.state, "--now", "2026-01-05T10:00")
        try:
            n = d.wait_for("started: 10000 actions, ")
            said = [l for l in d.lines[:n] if "the plan is kept in unnamed files of" in l]
            self.assertEqual(len(said), 1, d.log())
            self.assertTrue(said[0].startswith("<6>the plan is kept in unnamed files of %s ("
                                               % self.state), said[0])
            names = sorted(os.listdir(self.state))
            first = self.cold_maps(d.proc.pid)
            self.assertGreater(sum(first), csv_bytes, first)
            counts = []
            for i in range(2 * 8 + 2):  # past the loads a store keeps (row.h)
                rows[5000 + i] = "Action %d,HR,2031/32" % (5000 + i)
                with open(self.plan + ".new", "w", newline="", encoding="utf-8") as f:
                    f.write("Actions,Responsibility,Timeframe\n" + "\n".join(rows) + "\n")
                os.replace(self.plan + ".new", self.plan)
                n = d.wait_for("store reloaded: 10000 actions, ", after=n + 1)
                self.assertTrue(d.lines[n].endswith(" 1 changed"), d.lines[n])
                counts.append(len(self.cold_maps(d.proc.pid)))
            self.assertLessEqual(max(counts), len(first) + 8 + 2, counts)
            self.assertLessEqual(counts[-1], max(counts[:9]), counts)
            self.assertEqual(sorted(os.listdir(self.state)), names)
        finally:
            d.kill()
        self.assertEqual(sorted(os.listdir(self.state)), names)

    def test_a_state_directory_in_memory_keeps_the_plan_in_private_memory_and_says_why(self):
        """tmpfs (where /dev/shm is) gains nothing from cold memory: the plan
        is in private memory, and the log says so once."""
        import stat as stat_mod
        shm = "/dev/shm"
        if not os.path.isdir(shm) or subprocess.run(
                ["stat", "-f", "-c", "%T", shm], capture_output=True, text=True).stdout.strip() != "tmpfs":
            self.skipTest("no tmpfs at /dev/shm")
        self.state = tempfile.mkdtemp(prefix="tickler-state-", dir=shm)
        self.addCleanup(shutil.rmtree, self.state, True)
        d = Daemon(self.conf, self.state, "--now", "2026-01-05T10:00")
        try:
            n = d.wait_for("started: 39 actions, ")
            said = [l for l in d.lines[:n] if "the plan is kept in private memory" in l]
            self.assertEqual(len(said), 1, d.log())
            # nothing to be done but move the state directory: info, not notice
            self.assertEqual(said[0], "<6>the plan is kept in private memory: %s is on tmpfs (in "
                             "memory), and only ext4 and XFS keep it in files (ticklerd(8), "
                             "FILES)" % self.state)
            self.assertEqual(self.cold_maps(d.proc.pid), [])
            os.kill(d.proc.pid, signal.SIGHUP)  # a reload says it again only if it changes
            d.wait_for("configuration reloaded: ", after=n)
            self.assertEqual(sum("kept in private memory" in l for l in d.lines), 1, d.log())
        finally:
            self.assertEqual(d.stop(), 0)

    def test_plan_memory_private_keeps_the_plan_out_of_files(self):
        """daemon.plan_memory = "private" turns the files off, and the log
        says so once, at info; a value it does not know is an error at its
        line."""
        text = Path(self.conf).read_text()
        Path(self.conf).write_text(text.replace("daemon:\n{", 'daemon:\n{\n  plan_memory = "none";', 1))
        p = subprocess.run([tool("ticklerd"), "--check-config", "-c", self.conf],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        line = [i for i, t in enumerate(Path(self.conf).read_text().splitlines(), 1)
                if 'plan_memory = "none"' in t][0]
        self.assertIn('%s:%d: error: [plan_memory] must be "files" or "private" (got "none")'
                      % (self.conf, line), p.stderr)
        Path(self.conf).write_text(text.replace("daemon:\n{", 'daemon:\n{\n  plan_memory = "private";', 1))
        self.state = tempfile.mkdtemp(prefix="state-", dir=harness.BUILD)
        self.addCleanup(shutil.rmtree, self.state, True)
        d = Daemon(self.conf, self.state, "--now", "2026-01-05T10:00")
        try:
            n = d.wait_for("started: 39 actions, ")
            self.assertEqual(self.cold_maps(d.proc.pid), [])
            said = [l for l in d.lines[:n] if "the plan is kept" in l]
            self.assertEqual(said, ['<6>the plan is kept in private memory (daemon.plan_memory = '
                                    '"private")'], d.log())
            # back to files by a reload: said once more, the other way
            Path(self.conf).write_text(text)
            os.kill(d.proc.pid, signal.SIGHUP)
            n = d.wait_for("configuration reloaded: ", after=n)
            self.assertNotEqual(self.cold_maps(d.proc.pid), [])
            said = [l for l in d.lines[:n] if "the plan is kept" in l]
            self.assertEqual(len(said), 2, d.log())
            self.assertTrue(said[1].startswith("<6>the plan is kept in unnamed files of "), said)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_idle_daemon_with_10000_actions_does_not_wake(self):
        """Not timed: counts how often the kernel ran the daemon while
        nothing was due (the next reminder is 23 hours away)."""
        with open(self.plan, "w", newline="", encoding="utf-8") as f:
            f.write("Actions,Responsibility,Timeframe\n")
            for i in range(10000):
                f.write("Action %d,HR,2030/31\n" % i)
        d = Daemon(self.conf, self.state, "--now", "2026-01-05T10:00")
        try:
            n = d.wait_for("started: 10000 actions, ")
            observances = int(re.search(r"(\d+) observances", d.lines[n]).group(1))
            if harness.PG:  # the schedule waits for the shared last run
                n = d.wait_for("schedule built from the shared last run: ")
            # one reminder per action, one or more (per team) per observance
            m = re.search(r"(\d+) reminders scheduled", d.lines[n])
            self.assertGreater(observances, 50)
            self.assertGreaterEqual(int(m.group(1)), 10000 + observances)
            before = self.wait_until_idle(d)
            time.sleep(5)  # the span watched, not a wait for the daemon
            after, _ = self.activity(d.proc.pid)
            self.assertEqual(after - before, 0, "the idle daemon was woken %d times"
                             % (after - before))
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
