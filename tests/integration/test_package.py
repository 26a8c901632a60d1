#!/usr/bin/env python3
"""The Debian packages tickler and tickler-dev, as a sysadmin meets them:
built from debian/ (scripts/package), lintian reports no errors, dpkg -i
installs a service that runs on an empty plan and sends nothing, `tickler
status` says there is no state yet, and the package upgrades over the
previous version (the administrator's configuration, plan and state kept),
is removed (binaries gone, configuration and state kept) and purged (both
gone). Needs root (as CI is); everything is purged again at the end.

The machine may not run systemd as PID 1 (a container): then the maintainer
scripts still enable the unit and start nothing, and ticklerd is run here
the way the unit runs it."""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
SYSTEMD = os.path.isdir("/run/systemd/system")  # what the maintainer scripts test
PREVIOUS = "0.1.0-0"  # older than any 0.1.0-N of debian/changelog
WANTS = "/etc/systemd/system/multi-user.target.wants/ticklerd.service"
BUILT = {}


def run(*args, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)  # dpkg must not ask anything
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def build():
    """The current packages and those of the previous version, built once
    (the second build reuses the first's compiled tree): {"current": [...],
    "previous": [...]}, tickler's .deb first in each."""
    if BUILT:
        return BUILT
    tmp = tempfile.mkdtemp(prefix="tickler-deb-")
    out = os.path.join(tmp, "build")
    for name, env in (("previous", {"TICKLER_DEB_VERSION": PREVIOUS}), ("current", {})):
        p = run(os.path.join(ARGS.source, "scripts", "package"), out, timeout=1200,
                env=dict(os.environ, **env))
        if p.returncode != 0:
            raise AssertionError("scripts/package failed:\n" + p.stdout + p.stderr)
        debs = p.stdout.split()
        if len(debs) != 2 or not all(os.path.isfile(d) for d in debs):
            raise AssertionError("scripts/package printed no two .deb files:\n" + p.stdout)
        os.makedirs(os.path.join(tmp, name))
        BUILT[name] = sorted((shutil.copy(d, os.path.join(tmp, name)) for d in debs),
                             key=lambda d: "tickler-dev_" in d)
    BUILT["tmp"] = tmp
    return BUILT


def installed_version(pkg):
    p = run("dpkg-query", "-W", "-f=${Version} ${db:Status-Abbrev}", pkg)
    return p.stdout.strip() if p.returncode == 0 else ""


def install(debs):
    p = run("dpkg", "-i", *debs)
    if p.returncode != 0:
        raise AssertionError("dpkg -i failed:\n" + p.stdout + p.stderr)
    return p


def purge():
    return run("dpkg", "--purge", "tickler-dev", "tickler")


def refuse_if_installed():
    for pkg in ("tickler", "tickler-dev"):
        if installed_version(pkg).endswith("ii"):
            raise AssertionError("%s is installed already; not touching it" % pkg)


def oneshot(state=None):
    """ticklerd once on the installed configuration, as the unit runs it
    (its StateDirectory is /var/lib/tickler)."""
    args = ["/usr/sbin/ticklerd", "--oneshot", "-c", "/etc/tickler/tickler.conf"]
    return run(*args, **({"env": dict(os.environ, STATE_DIRECTORY=state)} if state else {}))


@unittest.skipUnless(os.geteuid() == 0, "installing a package needs root")
class Package(unittest.TestCase):
    """The current version, freshly installed."""

    @classmethod
    def setUpClass(cls):
        cls.debs = build()["current"]
        refuse_if_installed()
        cls.install = install(cls.debs)

    @classmethod
    def tearDownClass(cls):
        purge()

    def test_lintian_reports_no_errors(self):
        p = run("lintian", "--pedantic", *self.debs)
        tags = [line for line in p.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
        for line in tags:
            print("lintian: " + line, file=sys.stderr)
        self.assertEqual([t for t in tags if t.startswith("E: ")], [], p.stdout + p.stderr)
        self.assertNotIn("E:", p.stderr)

    def test_versions_and_dependencies(self):
        with open(os.path.join(ARGS.source, "CMakeLists.txt")) as f:
            version = re.search(r"project\(tickler VERSION ([0-9.]+)", f.read()).group(1)
        deb_version = run("dpkg-parsechangelog", "-l",
                          os.path.join(ARGS.source, "debian", "changelog"), "-S", "Version")
        self.assertEqual(deb_version.stdout.strip().rsplit("-", 1)[0], version)
        self.assertEqual(installed_version("tickler"), deb_version.stdout.strip() + " ii")
        p = run("/usr/sbin/ticklerd", "--version")
        self.assertIn("ticklerd %s " % version, p.stdout)
        deps = run("dpkg-query", "-W", "-f=${Depends}", "tickler").stdout
        # libcurl4, libpq5, libxml2 and libzip4 are opened with dlopen: named
        # in debian/control, as dpkg-shlibdeps cannot see them
        for lib in ("libuv1", "libcurl4", "libconfig9", "libsqlite3-0", "libcsv3", "libsystemd0",
                    "libpq5", "libxml2", "libzip4", "tzdata"):
            self.assertIn(lib, deps)
        # arch all on arch any: this version, or a binary rebuild of it (+bN)
        self.assertEqual(run("dpkg-query", "-W", "-f=${Depends}", "tickler-dev").stdout,
                         "tickler (>= {0}), tickler (<< {0}.1~)".format(deb_version.stdout.strip()))
        for pkg, section in (("tickler", "admin"), ("tickler-dev", "devel")):
            self.assertEqual(run("dpkg-query", "-W", "-f=${Section} ${Priority}", pkg).stdout,
                             section + " optional")

    def test_the_dev_package_builds_a_plugin(self):
        files = run("dpkg", "-L", "tickler-dev").stdout.split()
        self.assertIn("/usr/include/tickler/plugin.h", files)
        self.assertNotIn("/usr/include/tickler/plugin.h", run("dpkg", "-L", "tickler").stdout)
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "p.c")
            with open(src, "w") as f:
                f.write("#include <tickler/plugin.h>\nint abi(void);\n"
                        "int abi(void) { return TICKLER_ABI_VERSION; }\n")
            p = run("cc", "-std=gnu11", "-Wall", "-Werror", "-fsyntax-only",
                    "-I/usr/include/uv", src)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_installed_config_runs_on_an_empty_plan(self):
        with open("/etc/tickler/plan.csv") as f:
            self.assertEqual(f.read(), "Ref,Objective,Commitments,Actions,Responsibility,"
                             "Timeframe,Status,Progress\n")
        with open("/etc/tickler/tickler.conf") as f:
            conf = f.read()
        self.assertIn('files = [ "plan.csv" ];', conf)
        self.assertIn("Put your action plan in /etc/tickler/plan.csv", conf)
        p = run("/usr/sbin/ticklerd", "--check-config", "-c", "/etc/tickler/tickler.conf")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("configuration ok: 0 actions", p.stdout)
        self.assertIn("0 notifiers (0 warnings)", p.stdout)
        p = run("/usr/bin/tickler", "check")  # the built-in default path
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # ticklerd starts cleanly: no error, nothing sent
        with tempfile.TemporaryDirectory() as state:
            p = oneshot(state)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertNotRegex(p.stderr, r"<[0-3]>", p.stderr)
            self.assertIn("started: 0 actions", p.stderr)
            st = run("/usr/bin/tickler", "--state-dir", state, "status", "--json")
            self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
            js = json.loads(st.stdout)
            self.assertEqual((js["delivered"], js["pending"], js["healthy"]), (0, 0, True))
            self.assertIsNotNone(js["last_run"])

    def test_the_sample_is_an_example(self):
        ex = "/usr/share/doc/tickler/examples/"
        self.assertFalse(os.path.exists("/etc/tickler/sample-plan.csv"))
        p = run("/usr/bin/tickler", "-c", ex + "tickler.conf", "check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"(?m)^ok: 39 actions, [1-9][0-9]* observances")

    def test_the_service_is_enabled_and_started(self):
        """Enabled on install; started where systemd runs; the socket is
        left to the administrator."""
        self.assertEqual(os.path.realpath(WANTS), os.path.realpath("/lib/systemd/system/ticklerd.service"))
        self.assertFalse(os.path.exists("/etc/systemd/system/sockets.target.wants/ticklerd.socket"))
        if not SYSTEMD:
            print("no systemd running: the unit is enabled, nothing started", file=sys.stderr)
            self.assertFalse(os.path.exists("/var/lib/tickler"))
            return
        self.assertEqual(run("systemctl", "is-active", "ticklerd").stdout.strip(), "active")
        for _ in range(300):
            if run("tickler", "status").returncode == 0:
                break
            time.sleep(0.1)
        p = run("tickler", "status")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_status_before_the_first_run(self):
        if SYSTEMD:
            self.skipTest("the service has run already")
        p = run("/usr/bin/tickler", "status")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("no state yet in /var/lib/tickler: ticklerd creates it when it first runs",
                      p.stderr)
        self.assertNotIn("unable to open", p.stdout + p.stderr)
        self.assertFalse(os.path.exists("/var/lib/tickler"))

    def test_man_pages_render(self):
        for page in ("man1/tickler.1.gz", "man5/tickler.conf.5.gz", "man8/ticklerd.8.gz"):
            p = run("man", "-l", "/usr/share/man/" + page, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("NAME", p.stdout.replace("\b", "").replace("NNAAMMEE", "NAME"))

    def test_files_and_conffiles(self):
        files = run("dpkg", "-L", "tickler").stdout.split()
        for f in ("/usr/sbin/ticklerd", "/usr/bin/tickler", "/lib/systemd/system/ticklerd.service",
                  "/lib/systemd/system/ticklerd.socket",
                  "/usr/share/bash-completion/completions/tickler", "/etc/tickler/tickler.conf",
                  "/usr/share/doc/tickler/copyright", "/usr/share/doc/tickler/changelog.Debian.gz",
                  "/usr/share/doc/tickler/examples/tickler.conf",
                  "/usr/share/doc/tickler/examples/sample-plan.csv",
                  # named by the man pages as they are: not compressed
                  "/usr/share/doc/tickler/nginx.conf"):
            self.assertIn(f, files)
        # docs/ha.md, which tickler.conf(5) names, as dh_compress leaves it
        self.assertTrue({"/usr/share/doc/tickler/ha.md", "/usr/share/doc/tickler/ha.md.gz"} &
                        set(files), [f for f in files if "/doc/" in f])
        self.assertTrue(any(f.endswith("/tickler/plugins/email.so") for f in files))
        self.assertFalse([f for f in files if f.startswith("/usr/include")])
        with open("/usr/share/doc/tickler/copyright") as f:
            self.assertTrue(f.readline().startswith("Format: https://www.debian.org/doc/"))
        conf = run("dpkg-query", "-W", "-f=${Conffiles}", "tickler").stdout
        self.assertIn("/etc/tickler/tickler.conf", conf)
        self.assertIn("/etc/tickler/templates/digest.html", conf)
        self.assertNotIn("plan.csv", conf)  # the administrator's data
        self.assertEqual(os.stat("/etc/tickler/credentials").st_mode & 0o777, 0o700)
        self.assertEqual(run("bash", "-n", "/usr/share/bash-completion/completions/tickler").returncode, 0)
        # the unit points at the installed binary and config
        with open("/lib/systemd/system/ticklerd.service") as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/sbin/ticklerd --foreground -c /etc/tickler/tickler.conf", unit)

    def test_the_unit_stays_confined(self):
        """systemd's own score of the installed unit, with the web face in
        it: 1.1 or lower ("OK"), as the unit's comment promises."""
        p = run("systemd-analyze", "security", "--offline=true", "--no-pager",
                "/lib/systemd/system/ticklerd.service")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"Overall exposure level for ticklerd.service: ([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        print("exposure: %s" % m.group(1), file=sys.stderr)
        self.assertLessEqual(float(m.group(1)), 1.1)
        with open("/lib/systemd/system/ticklerd.socket") as f:
            sock = f.read()
        self.assertIn("ListenStream=127.0.0.1:8470", sock)


@unittest.skipUnless(os.geteuid() == 0, "installing a package needs root")
class Lifecycle(unittest.TestCase):
    """Install the previous version, configure it and let it run; upgrade,
    remove, purge."""

    @classmethod
    def setUpClass(cls):
        cls.built = build()
        refuse_if_installed()

    @classmethod
    def tearDownClass(cls):
        purge()

    def first_run(self):
        """The state ticklerd makes on its first run."""
        if SYSTEMD:
            for _ in range(300):
                if os.path.exists("/var/lib/tickler/tickler.db"):
                    return
                time.sleep(0.1)
            self.fail("the service made no state")
        p = oneshot()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_upgrade_remove_purge(self):
        install(self.built["previous"])
        self.assertEqual(installed_version("tickler"), PREVIOUS + " ii")
        self.first_run()
        self.assertTrue(os.path.isfile("/var/lib/tickler/tickler.db"))
        # the administrator's changes
        with open("/etc/tickler/tickler.conf", "a") as f:
            f.write("# edited by the administrator\n")
        with open("/etc/tickler/plan.csv", "a") as f:
            f.write("A1,,,Publish the plan,Policy,April 2030,,\n")

        p = install(self.built["current"])  # no question asked (stdin is empty)
        current = run("dpkg-deb", "-f", self.built["current"][0], "Version").stdout.strip()
        self.assertEqual(installed_version("tickler"), current + " ii")
        self.assertEqual(installed_version("tickler-dev"), current + " ii")
        with open("/etc/tickler/tickler.conf") as f:
            self.assertTrue(f.read().endswith("# edited by the administrator\n"))
        with open("/etc/tickler/plan.csv") as f:
            self.assertIn("A1,,,Publish the plan", f.read())
        self.assertEqual(glob.glob("/etc/tickler/*.dpkg-*"), [])
        st = run("/usr/bin/tickler", "status")
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        self.assertNotRegex(st.stdout, r"last run: +none yet")
        self.assertTrue(os.path.islink(WANTS))

        p = run("dpkg", "--remove", "tickler-dev", "tickler")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for f in ("/usr/sbin/ticklerd", "/usr/bin/tickler", "/lib/systemd/system/ticklerd.service",
                  "/usr/include/tickler/plugin.h"):
            self.assertFalse(os.path.exists(f), f)
        self.assertTrue(installed_version("tickler").endswith(" rc"))
        for f in ("/etc/tickler/tickler.conf", "/etc/tickler/plan.csv",
                  "/var/lib/tickler/tickler.db"):
            self.assertTrue(os.path.exists(f), f)

        p = purge()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for f in ("/etc/tickler", "/var/lib/tickler", "/var/lib/private/tickler", WANTS):
            self.assertFalse(os.path.lexists(f), f)
        self.assertIn(installed_version("tickler"), ("", "un"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    try:
        ok = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result.wasSuccessful()
    finally:
        if BUILT:
            shutil.rmtree(BUILT["tmp"], ignore_errors=True)
    sys.exit(0 if ok else 1)
