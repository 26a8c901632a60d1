#!/usr/bin/env python3
"""Integration tests of ticklerd and tickler: the real binaries, real files
on disk, real signals. Run by ctest; see tests/CMakeLists.txt."""
import argparse
import email
import email.policy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

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

    def run_tool(self, *args, check=True):
        p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            self.fail("%s exited %d:\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
        return p

    def oneshot(self, now):
        return self.run_tool(tool("ticklerd"), "-c", self.conf, "-p",
                             harness.plugin_dir(), "--state-dir", self.state,
                             "--now", now, "--oneshot")

    def messages(self):
        d = os.path.join(self.state, "maildir", "new")
        out = []
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.strict))
        return out


class CheckConfig(Fixture):
    def test_shipped_config_passes(self):
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c",
                          os.path.join(ARGS.source, "etc", "tickler.conf"),
                          "-p", harness.plugin_dir())
        self.assertIn("configuration ok: 39 actions", p.stdout)

    def test_unknown_key_and_syntax_error_name_file_and_line(self):
        with open(self.conf, "a") as f:
            f.write("\nfrobnicate = 1;\n")
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, check=False)
        self.assertNotEqual(p.returncode, 0)
        line = sum(1 for _ in open(self.conf))
        self.assertIn("%s:%d: error: [frobnicate] unknown key" % (self.conf, line), p.stderr)
        with open(self.conf, "a") as f:
            f.write("schedule = {\n")
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"%s:\d+: error: syntax error" % self.conf)

    def test_missing_plugin_is_named(self):
        text = open(self.conf).read().replace('plugin = "maildir"', 'plugin = "smtpx"')
        open(self.conf, "w").write(text)
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir(), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("smtpx.so", p.stderr)


    def test_a_recipient_the_channel_cannot_use_is_named_with_its_line(self):
        # the shipped notifier made real e-mail, and one team given a name
        # where an address belongs
        text = open(self.conf).read()
        text = text.replace('plugin = "maildir";', 'plugin = "email";', 1).replace(
            'path = "maildir";                            # relative to the state directory',
            'url = "smtp://localhost:2525"; tls = "none";', 1)
        text = text.replace('recipients = { email = [ "housing@maidstone.example" ]; }',
                            'recipients = { email = [ "housing-team" ]; }', 1)
        open(self.conf, "w").write(text)
        line = [i for i, l in enumerate(text.splitlines(), 1) if '"housing-team"' in l][0]
        want = ('%s:%d: error: [recipients] team "housing": email cannot deliver to '
                '"housing-team": "housing-team" is not an email address' % (self.conf, line))
        p = self.run_tool(tool("ticklerd"), "--check-config", "-c", self.conf,
                          "-p", harness.plugin_dir(), check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(want, p.stderr)
        self.assertIn("configuration has 1 errors", p.stdout)
        p = self.run_tool(tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                          "check", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(want, p.stdout)
        # the daemon refuses to start with it: nothing would reach Housing
        p = self.run_tool(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                          "--state-dir", self.state, "--oneshot", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(want, p.stderr)


class MainJob(Fixture):
    def test_sample_plan_reminders_reach_the_maildir_once(self):
        self.oneshot("2023-03-03T09:00")
        msgs = self.messages()
        self.assertEqual(len(msgs), 6)
        by_to = {m["To"].addresses[0].addr_spec: m for m in msgs}
        pce = by_to["policy@maidstone.example"]
        self.assertEqual(pce["Subject"],
                         "Reminder: 8 actions for Policy, Communities and Engagement (some overdue)")
        for h in ("Date", "From", "To", "Subject", "Message-ID"):
            self.assertEqual(len(pce.get_all(h)), 1, h)
        body = pce.get_content()
        self.assertIn("Include Armed Forces Act 2021", body)
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


class Signals(Fixture):
    def test_sigterm_exits_zero_with_every_handle_closed(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started:")
        rc = d.stop()
        self.assertEqual(rc, 0, "\n".join(d.lines))
        self.assertTrue(any("stopped" in l for l in d.lines))
        self.assertFalse(any("handles left open" in l for l in d.lines))

    def test_store_edit_break_restore_while_running(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started: 39 actions")
        good = open(self.plan, encoding="utf-8").read()
        # an edit saved by rename, as editors do: one deadline changes
        edited = good.replace("Dec 2023 (ongoing release)", "Jan 2024", 1)
        tmp = self.plan + ".tmp"
        open(tmp, "w", encoding="utf-8").write(edited)
        os.rename(tmp, self.plan)
        n = d.wait_for("store reloaded: 39 actions, ")
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        # broken: an unclosed quote; reported with its line, old store kept
        open(self.plan, "w", encoding="utf-8").write(edited + '"EAP99,never closed\n')
        n = d.wait_for("never closed", after=n)
        n = d.wait_for("keeping the last good store of 39 actions", after=n)
        bad_line = edited.count("\n") + 1
        self.assertTrue(any(":%d: error" % bad_line in l for l in d.lines), "\n".join(d.lines))
        # restored, without a restart
        open(self.plan, "w", encoding="utf-8").write(good)
        n = d.wait_for("store reloaded: 39 actions, ", after=n)
        self.assertTrue(d.lines[n].endswith(" observances, 1 changed"), d.lines[n])
        self.assertEqual(d.stop(), 0)

    def test_sighup_keeps_old_config_when_new_is_invalid(self):
        d = Daemon(self.conf, self.state)
        d.wait_for("started:")
        good = open(self.conf).read()
        open(self.conf, "w").write(good.replace('send_time = "09:00"', 'send_time = "9am"'))
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("reload failed")
        self.assertTrue(any("send_time must be HH:MM" in l for l in d.lines))
        self.assertIsNone(d.proc.poll())
        # libconfig itself would end the process on this line
        open(self.conf, "w").write(good + '@include ""\n')
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("reload failed", after=n + 1)
        self.assertTrue(any("@include needs a file name" in l for l in d.lines), "\n".join(d.lines))
        self.assertIsNone(d.proc.poll())
        open(self.conf, "w").write(good)
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("configuration reloaded: 39 actions", after=n)
        # the notifier and the calendar source, unchanged, keep running
        self.assertIn("1 notifiers (2 kept running)", d.lines[n])
        # a changed setting: the maildir notifier takes it over in place
        open(self.conf, "w").write(good.replace('from = "tickler <tickler@maidstone.example>"',
                                                'from = "EDI reminders <edi@maidstone.example>"'))
        d.proc.send_signal(signal.SIGHUP)
        n = d.wait_for("configuration reloaded: 39 actions", after=n + 1)
        self.assertIn("1 notifiers (2 kept running)", d.lines[n])
        # the kept calendar serves the store's next reading (observances)
        plan = os.path.join(os.path.dirname(self.conf), "sample-plan.csv")
        text = open(plan).read()
        with open(plan + ".new", "w") as f:
            f.write(text)
        os.rename(plan + ".new", plan)
        n = d.wait_for("store reloaded: 39 actions, ", after=n + 1)
        self.assertNotIn(" 0 observances", d.lines[n])
        self.assertEqual(d.stop(), 0)


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
            # one reminder per action, one or more (per team) per observance
            m = re.search(r"(\d+) observances, (\d+) reminders scheduled", d.lines[n])
            self.assertGreater(int(m.group(1)), 50)
            self.assertGreaterEqual(int(m.group(2)), 10000 + int(m.group(1)))
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
