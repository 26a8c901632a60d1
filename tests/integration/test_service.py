#!/usr/bin/env python3
"""ticklerd as a systemd service: the sd_notify protocol on a NOTIFY_SOCKET
this test listens on (READY=1 only once loaded, STATUS=, WATCHDOG=1 at half
the interval, RELOADING=1 with MONOTONIC_USEC then READY=1 around SIGHUP,
STOPPING=1 on SIGTERM), and the unit checked by systemd-analyze."""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import Daemon

ARGS = None


class Notify(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-svc-")
        self.sock_path = os.path.join(self.tmp, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(10)
        self.conf = harness.copy_sample(ARGS.source, self.tmp)

    def tearDown(self):
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def next_message(self, want, seen):
        """Reads datagrams until one holds want; returns its fields."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            data = self.sock.recv(4096).decode()
            fields = dict(l.split("=", 1) for l in data.split("\n") if "=" in l)
            seen.append(fields)
            if want in data:
                return fields
        self.fail("no %s; got %r" % (want, seen))

    def test_notify_protocol(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path, WATCHDOG_USEC="400000")
        d = Daemon(self.conf, os.path.join(self.tmp, "state"), "--now", "2023-02-01T08:00",
                   env=env)
        seen = []
        try:
            ready = self.next_message("READY=1", seen)
            # READY only after the store is loaded and the timers armed
            self.assertIn("started", d.log())
            self.assertRegex(ready["STATUS"], r"^39 actions, 0 observances, \d+ reminders scheduled, next 2023-")
            t0 = time.monotonic()
            self.next_message("WATCHDOG=1", seen)
            self.next_message("WATCHDOG=1", seen)
            self.assertLess(time.monotonic() - t0, 1.0)  # every 200 ms, half of 400 ms
            d.proc.send_signal(signal.SIGHUP)
            rel = self.next_message("RELOADING=1", seen)
            mono = int(rel["MONOTONIC_USEC"])
            self.assertLess(abs(mono / 1e6 - time.clock_gettime(time.CLOCK_MONOTONIC)), 5)
            again = self.next_message("READY=1", seen)
            self.assertIn("STATUS", again)
            d.proc.send_signal(signal.SIGTERM)
            self.next_message("STOPPING=1", seen)
        finally:
            self.assertEqual(d.stop() if d.proc.poll() is None else d.proc.wait(), 0)

    def test_silent_without_notify_socket(self):
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
        d = Daemon(self.conf, os.path.join(self.tmp, "state"), "--now", "2023-02-01T08:00",
                   env=env)
        d.wait_for("started")
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("watchdog", d.log())


class Unit(unittest.TestCase):
    def unit(self):
        return os.path.join(ARGS.build, "ticklerd.service")

    def test_security_exposure_at_most_1_1(self):
        p = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=11",
                            "--no-pager", self.unit()], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr)
        self.assertRegex(p.stdout, r"Overall exposure level for ticklerd.service: (0\.\d|1\.[01]) ")

    def test_verify_is_clean(self):
        # verify resolves ExecStart=, so point it at the built binary
        tmp = tempfile.mkdtemp()
        try:
            with open(self.unit()) as f:
                text = f.read()
            exe = [l for l in text.splitlines() if l.startswith("ExecStart=")][0].split("=", 1)[1].split()[0]
            text = text.replace(exe, os.path.abspath(os.path.join(ARGS.build, "daemon", "ticklerd")))
            path = os.path.join(tmp, "ticklerd.service")
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(p.stderr.strip(), "", p.stderr)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
