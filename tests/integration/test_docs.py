#!/usr/bin/env python3
"""The man pages tell the truth: every option the programs accept, every
command of tickler and every configuration key the parser knows is
documented, and each page renders with man(1)."""
import argparse
import glob
import os
import re
import subprocess
import sys
import unittest

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


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
