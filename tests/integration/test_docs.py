#!/usr/bin/env python3
"""The documentation tells the truth: every option the programs accept,
every command of tickler and every configuration key the parser knows is in
the man pages, and each page renders with man(1); the README's first
command (scripts/demo) shows what the README says it shows, and every
command of its "Using it" block works as written from a build tree."""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import harness

ARGS = None


def page(name):
    with open(os.path.join(ARGS.source, "docs", "man", name + ".scd"), encoding="utf-8") as f:
        return f.read()


def help_text(prog):
    out = subprocess.run([os.path.join(ARGS.build, "daemon", prog), "--help"],
                         capture_output=True, text=True, check=True)
    return out.stdout


class ManPages(unittest.TestCase):
    def test_every_ticklerd_option(self):
        text = page("ticklerd.8")
        opts = re.findall(r"(--[a-z-]+)", help_text("ticklerd"))
        self.assertGreater(len(opts), 8)
        for o in opts:
            self.assertIn("*%s*" % o, text, o)

    def test_every_tickler_command_and_option(self):
        text = page("tickler.1")
        h = help_text("tickler")
        cmds = re.findall(r"^  ([a-z-]+)(?: |$)", h.split("Options:")[0], re.M)
        self.assertIn("upcoming", cmds)
        for c in cmds:
            self.assertIn("*%s*" % c, text, c)
        for o in set(re.findall(r"(--[a-z-]+)", h)):
            self.assertIn("*%s*" % o, text, o)

    def test_each_command_entry_names_its_options(self):
        # the entry of each command in tickler(1) starts with its usage,
        # and names every option that the command's --help shows
        text = page("tickler.1")
        cmds = re.findall(r"^  ([a-z-]+)(?: |$)", help_text("tickler").split("Options:")[0], re.M)
        for c in cmds:
            out = subprocess.run([os.path.join(ARGS.build, "daemon", "tickler"), c, "--help"],
                                 capture_output=True, text=True, check=True).stdout
            self.assertTrue(out.startswith("Usage: tickler [OPTIONS] %s" % c), out)
            entry = re.search(r"^\*%s\*(.*)$" % re.escape(c), text, re.M)
            self.assertIsNotNone(entry, c)
            for o in re.findall(r"(--[a-z-]+)", out.splitlines()[0]):
                self.assertIn("*%s*" % o, entry.group(1), "%s %s" % (c, o))

    def test_every_config_key(self):
        text = page("tickler.conf.5")
        # the whole file's keys (config/) and each step's slice (*_conf.c)
        daemon = os.path.join(ARGS.source, "daemon")
        files = glob.glob(os.path.join(daemon, "config", "*.c")) + \
            glob.glob(os.path.join(daemon, "*", "*_conf.c"))
        src = ""
        for name in files:
            with open(name, encoding="utf-8") as f:
                src += f.read()
        lists = re.findall(r"static const char \*const \w+\[\] = \{(.*?)\};", src, re.S)
        keys = set()
        for body in lists:
            keys.update(re.findall(r'"([a-z_]+)"', body))
        self.assertIn("overdue_every_days", keys)
        for k in sorted(keys):
            self.assertTrue(re.search(r"\*(?:[a-z_.]+\.)?%s\*" % re.escape(k), text),
                            "config key %s is not in tickler.conf(5)" % k)

    def test_pages_render(self):
        for name in ("ticklerd.8", "tickler.1", "tickler.conf.5"):
            built = os.path.join(ARGS.build, "docs", "man", name)
            out = subprocess.run(["man", "-l", built], capture_output=True, text=True,
                                 env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stderr.strip(), "", name)
            plain = re.sub(r".\x08", "", out.stdout)
            self.assertIn("NAME", plain)
            self.assertIn(name.rsplit(".", 1)[0], plain)


class MarkdownTables(unittest.TestCase):
    def test_every_row_is_a_row(self):
        """Each line of a Markdown table in README.md and docs/*.md opens
        and closes with a pipe: text slipped before a row's first pipe
        shifts its cells into the wrong columns."""
        files = [os.path.join(ARGS.source, "README.md")]
        files += sorted(glob.glob(os.path.join(ARGS.source, "docs", "*.md")))
        delimiter = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
        for path in files:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            i = 0
            while i < len(lines) - 1:
                if not (lines[i].startswith("|") and delimiter.match(lines[i + 1])):
                    i += 1
                    continue
                while i < len(lines) and lines[i].strip():
                    line = lines[i]
                    self.assertTrue(line.startswith("|") and line.rstrip().endswith("|"),
                                    "%s:%d: %s" % (path, i + 1, line[:80]))
                    i += 1


def readme():
    with open(os.path.join(ARGS.source, "README.md"), encoding="utf-8") as f:
        return f.read()


def first_block(text, after=None):
    """The lines of the first ```sh block of text (after the line after, if
    given)."""
    if after:
        text = text[text.index(after):]
    return re.search(r"^```sh\n(.*?)^```", text, re.M | re.S).group(1).splitlines()


class Readme(unittest.TestCase):
    """Works in a directory laid out as a clone is after scripts/demo: etc/
    (a copy whose web face listens on a free port, so that tests side by
    side do not meet), build/ (this build) and demo/ (what scripts/demo
    made there, run on this build)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tickler-readme-")
        shutil.copytree(os.path.join(ARGS.source, "etc"), os.path.join(cls.tmp, "etc"))
        conf = os.path.join(cls.tmp, "etc", "tickler.conf")
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        shipped = 'listen = [ "127.0.0.1:8470" ];'
        assert shipped in text, "etc/tickler.conf no longer listens on 127.0.0.1:8470"
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text.replace(shipped, 'listen = [ "127.0.0.1:%d" ];' % harness.free_port()))
        os.symlink(os.path.abspath(ARGS.build), os.path.join(cls.tmp, "build"))
        # the demo reads the source's own etc/ (it runs --oneshot: no web face)
        cls.demo = subprocess.run(
            [os.path.join(ARGS.source, "scripts", "demo"), os.path.join(cls.tmp, "demo")],
            capture_output=True, text=True, timeout=600,
            env=dict(os.environ, TICKLER_DEMO_BUILD=os.path.abspath(ARGS.build)))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_the_first_lines_are_the_demo_and_the_tests(self):
        cmds = [line.split("#")[0].strip() for line in first_block(readme())]
        self.assertEqual(cmds, ["scripts/demo", "scripts/test"])

    def test_the_demo_shows_reminders_and_calendar_prompts(self):
        self.assertEqual(self.demo.returncode, 0, self.demo.stderr)
        out = self.demo.stdout
        m = re.search(r"^(\d+) notices: (\d+) with officers' reminders, (\d+) with calendar "
                      r"prompts and look-aheads \(the comms team's", out, re.M)
        self.assertIsNotNone(m, out)
        self.assertGreater(int(m.group(2)), 0)
        self.assertGreater(int(m.group(3)), 0)
        rows = [line for line in out.splitlines() if re.match(r"\w{3} \d{4}-\d\d-\d\d \d\d:\d\d ", line)]
        self.assertEqual(len(rows), int(m.group(1)))
        # every notice holds a reminder or a prompt (each outbox numbers
        # its notices from 1: the counts are over both runs' rows)
        self.assertGreaterEqual(int(m.group(2)) + int(m.group(3)), len(rows), out)
        self.assertGreaterEqual(int(m.group(2)), len([r for r in rows if ": EAP" in r]), out)
        # the ladder, as the README describes it, and the calendar's prompts
        for stage in ("28 days before: EAP", "14 days before: EAP", "7 days before: EAP",
                      "1 day before: EAP", "on the day: EAP", "overdue, week 1: EAP",
                      "overdue, month 2: EAP", "check-in: EAP", "(late): EAP",
                      "14 days before: International Transgender Day of Visibility"):
            self.assertTrue(any(stage in r for r in rows), stage)
        # the calendar's look-ahead and prompts go to the comms team
        comms = [r for r in rows if re.search(r" comms +comms@maidstone\.example +email ", r)]
        self.assertTrue(any("look-ahead: " in r for r in comms), out)
        self.assertTrue(any("2 days before: " in r and "International Women's Day" in r
                            for r in comms), out)
        # the rows the README shows are the demo's
        shown = readme().split("Some of its rows:", 1)[1]
        shown = re.search(r"^```\n(.*?)^```", shown, re.M | re.S).group(1).splitlines()
        self.assertEqual(shown[0].split(), ["When", "Team", "To", "Via", "What"])
        self.assertGreater(len(shown), 3)
        flat = [" ".join(r.split()) for r in rows]
        for r in shown[1:]:
            self.assertIn(" ".join(r.split()), flat)
        # the EDI officers get the copy of what is four weeks overdue
        self.assertTrue(any("edi.officers@" in r and "overdue, week 4: EAP22-18" in r
                            for r in rows), out)
        text = readme()
        for state in ("demo/2023-03-01/", "demo/2026-03-02/"):
            self.assertIn("`%s`" % state, text)
            self.assertTrue(os.listdir(os.path.join(self.tmp, state, "maildir", "new")), state)
            self.assertIn(os.path.join(self.tmp, state.rstrip("/")), out)
        # each message's HTML, listed by the index
        html = os.path.join(self.tmp, "demo", "html")
        with open(os.path.join(html, "index.html"), encoding="utf-8") as f:
            links = re.findall(r'<a href="([^"]+)">', f.read())
        self.assertEqual(len(links), len(rows))
        self.assertEqual(sorted(links), sorted(n for n in os.listdir(html) if n != "index.html"))
        for name in links:
            with open(os.path.join(html, name), encoding="utf-8") as f:
                page = f.read()
            self.assertTrue(page.startswith("<!DOCTYPE html>"), name)
            self.assertIn("</html>", page)
        self.assertIn("file://" + os.path.join(html, "index.html"), out)
        self.assertIn("mutt -f", out)

    def run_daemon(self, line):
        """Runs ticklerd as the line says until it has started, then stops
        it as the README says (SIGTERM) and returns its exit status."""
        p = subprocess.Popen(["sh", "-c", "exec " + line], cwd=self.tmp, text=True,
                             stderr=subprocess.PIPE)
        started = threading.Event()
        log = []

        def read():
            for got in p.stderr:
                log.append(got)
                if " started: " in got:
                    started.set()
            started.set()  # it stopped on its own
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        started.wait(120)
        running = p.poll() is None
        p.send_signal(signal.SIGTERM)
        rc = p.wait(120)
        reader.join(10)
        p.stderr.close()
        self.assertTrue(running and any(" started: " in got for got in log), "".join(log))
        return rc

    def test_using_it_works_as_written_from_the_build_tree(self):
        lines = [line for line in first_block(readme(), "## Using it") if line.strip()]
        self.assertGreater(len(lines), 10)
        for line in lines:
            self.assertNotRegex(line, r"(--plugin-dir|-p) ", line)
            with self.subTest(line=line):
                if re.match(r"build/daemon/ticklerd (?!--check-config)", line):
                    self.assertEqual(self.run_daemon(line), 0, line)
                    continue
                p = subprocess.run(["sh", "-c", line], cwd=self.tmp, capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(p.returncode, 0, "%s\n%s%s" % (line, p.stdout, p.stderr))
                if line.startswith("build/daemon/tickler -c etc/tickler.conf check"):
                    self.assertRegex(p.stdout, r"(?m)^ok: 39 actions, \d+ observances")
        for name, start in (("calendar.html", "<!DOCTYPE html>"), ("2027.ics", "BEGIN:VCALENDAR"),
                            ("progress.html", "<!DOCTYPE html>"), ("progress.csv", "\ufeff"),
                            ("updates.csv", "")):
            with open(os.path.join(self.tmp, name), encoding="utf-8") as f:
                self.assertTrue(f.read().startswith(start), name)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
