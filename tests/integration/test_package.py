#!/usr/bin/env python3
"""The Debian package: built with CPack (scripts/package), installed with
dpkg -i, the installed ticklerd accepts the installed configuration, the man
pages render, and the configuration files are conffiles. Needs root (as CI
is); the package is purged again at the end."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


@unittest.skipUnless(os.geteuid() == 0, "installing a package needs root")
class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tickler-deb-")
        p = run(os.path.join(ARGS.source, "scripts", "package"), os.path.join(cls.tmp, "build"),
                timeout=1200)
        if p.returncode != 0:
            raise AssertionError("scripts/package failed:\n" + p.stdout + p.stderr)
        cls.deb = p.stdout.strip().splitlines()[-1]
        if run("dpkg-query", "-W", "tickler").returncode == 0:
            raise AssertionError("tickler is installed already; not touching it")
        p = run("dpkg", "-i", cls.deb)
        if p.returncode != 0:
            raise AssertionError("dpkg -i failed:\n" + p.stdout + p.stderr)

    @classmethod
    def tearDownClass(cls):
        run("dpkg", "--purge", "tickler")
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_installed_config_passes_check(self):
        p = run("/usr/sbin/ticklerd", "--check-config", "-c", "/etc/tickler/tickler.conf")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("configuration ok: 39 actions", p.stdout)
        p = run("/usr/bin/tickler", "check")  # the built-in default path
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_man_pages_render(self):
        for page in ("man1/tickler.1", "man5/tickler.conf.5", "man8/ticklerd.8"):
            p = run("man", "-l", "/usr/share/man/" + page, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("NAME", p.stdout.replace("\b", "").replace("NNAAMMEE", "NAME"))

    def test_files_and_conffiles(self):
        files = run("dpkg", "-L", "tickler").stdout.split()
        for f in ("/usr/sbin/ticklerd", "/usr/bin/tickler", "/usr/lib/systemd/system/ticklerd.service",
                  "/usr/lib/systemd/system/ticklerd.socket",
                  "/usr/share/bash-completion/completions/tickler", "/etc/tickler/tickler.conf"):
            self.assertIn(f, files)
        self.assertTrue(any(f.endswith("/tickler/plugins/email.so") for f in files))
        conf = run("dpkg-query", "-W", "-f=${Conffiles}", "tickler").stdout
        self.assertIn("/etc/tickler/tickler.conf", conf)
        self.assertIn("/etc/tickler/templates/digest.html", conf)
        deps = run("dpkg-query", "-W", "-f=${Depends}", "tickler").stdout
        for lib in ("libuv1", "libcurl4", "libconfig9", "libsqlite3-0", "libcsv3", "libsystemd0"):
            self.assertIn(lib, deps)
        self.assertEqual(os.stat("/etc/tickler/credentials").st_mode & 0o777, 0o700)
        self.assertEqual(run("bash", "-n", "/usr/share/bash-completion/completions/tickler").returncode, 0)
        # the unit points at the installed binary and config
        with open("/usr/lib/systemd/system/ticklerd.service") as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/sbin/ticklerd --foreground -c /etc/tickler/tickler.conf", unit)

    def test_the_unit_stays_confined(self):
        """systemd's own score of the installed unit, with the web face in
        it: 1.1 or lower ("OK"), as the unit's comment promises."""
        p = run("systemd-analyze", "security", "--offline=true", "--no-pager",
                "/usr/lib/systemd/system/ticklerd.service")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"Overall exposure level for ticklerd.service: ([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        print("exposure: %s" % m.group(1), file=sys.stderr)
        self.assertLessEqual(float(m.group(1)), 1.1)
        with open("/usr/lib/systemd/system/ticklerd.socket") as f:
            sock = f.read()
        self.assertIn("ListenStream=127.0.0.1:8470", sock)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
