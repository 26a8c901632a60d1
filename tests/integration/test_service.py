#!/usr/bin/env python3
"""ticklerd as a systemd service: the sd_notify protocol on a NOTIFY_SOCKET
this test listens on (READY=1 only once loaded, STATUS=, WATCHDOG=1 at a
quarter of the interval, RELOADING=1 with MONOTONIC_USEC and WATCHDOG=1 then
READY=1 around SIGHUP,
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
    """Asserts what systemd reads from the NOTIFY_SOCKET and in what order,
    never how fast: a loaded machine is slower, not wrong. TIMEOUT only
    bounds a hang."""
    TIMEOUT = 60

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-svc-")
        self.sock_path = os.path.join(self.tmp, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.conf = harness.copy_sample(ARGS.source, self.tmp)
        self.seen = []  # every datagram, in the order received, as its fields

    def tearDown(self):
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def receive(self, timeout):
        """The next datagram's fields, or None if none came in timeout s
        (0: only one already queued)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except (socket.timeout, BlockingIOError):
            return None
        fields = dict(l.split("=", 1) for l in data.split("\n") if "=" in l)
        self.seen.append(fields)
        return fields

    def next_where(self, holds, what):
        """Reads datagrams until one's fields satisfy holds; returns them."""
        deadline = time.monotonic() + self.TIMEOUT
        while True:
            left = deadline - time.monotonic()
            fields = self.receive(left) if left > 0 else None
            if fields is None:
                self.fail("no %s in %d s; got %r" % (what, self.TIMEOUT, self.seen))
            if holds(fields):
                return fields

    def next_message(self, key):
        """Reads datagrams until one sets key=1; returns its fields."""
        return self.next_where(lambda f: f.get(key) == "1", key + "=1")

    def next_message_with(self, key, text):
        """Reads datagrams until one's key holds text; returns its fields."""
        return self.next_where(lambda f: text in f.get(key, ""), "%s with %r" % (key, text))

    def events(self):
        """The state changes systemd acts on, in order (WATCHDOG=1 and
        STATUS= alone are not state changes)."""
        return [k for f in self.seen for k in ("READY", "RELOADING", "STOPPING") if f.get(k) == "1"]

    def test_notify_protocol(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path, WATCHDOG_USEC="400000")
        d = Daemon(self.conf, os.path.join(self.tmp, "state"), "--now", "2023-02-01T10:00",
                   env=env)
        try:
            ready = self.next_message("READY")
            # READY=1 only once the store is loaded and the schedule built:
            # its STATUS counts what was read and names the next reminder
            self.assertEqual(self.events(), ["READY"], self.seen)
            built = ready["STATUS"]
            if harness.PG:
                # the schedule waits for the shared last run, and says so;
                # a STATUS= alone follows once it is built
                self.assertEqual(built, "39 actions, 0 observances, the schedule waits for the "
                                 "last run time from PostgreSQL")
                built = self.next_message_with("STATUS", "reminders scheduled")["STATUS"]
            self.assertRegex(built, r"^39 actions, 0 observances, [1-9]\d* reminders "
                             r"scheduled, next 2023-\d\d-\d\dT\d\d:\d\d")
            d.wait_for("started: 39 actions")
            # the watchdog is pinged at a quarter of WATCHDOG_USEC (400 ms),
            # and goes on being pinged from the loop
            d.wait_for("watchdog: pinging systemd every 100 ms")
            self.next_message("WATCHDOG")
            self.next_message("WATCHDOG")
            # SIGHUP: RELOADING=1 with MONOTONIC_USEC read on this host's
            # CLOCK_MONOTONIC between the signal and its report, then READY=1
            # with the reloaded counts
            before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            d.proc.send_signal(signal.SIGHUP)
            rel = self.next_message("RELOADING")
            after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            self.assertEqual(rel["STATUS"], "reloading")
            # the reload's load blocks the loop: the watchdog is pinged first
            self.assertEqual(rel.get("WATCHDOG"), "1", rel)
            self.assertGreaterEqual(int(rel["MONOTONIC_USEC"]), before)
            self.assertLessEqual(int(rel["MONOTONIC_USEC"]), after)
            again = self.next_message("READY")
            self.assertRegex(again["STATUS"], r"^39 actions, 0 observances, [1-9]\d* reminders "
                             r"scheduled, next 2023-")
            d.wait_for("configuration reloaded: 39 actions")
            # SIGTERM: STOPPING=1, then a clean exit
            d.proc.send_signal(signal.SIGTERM)
            stop = self.next_message("STOPPING")
            self.assertEqual(stop["STATUS"], "stopping")
            self.assertEqual(d.wait(timeout=self.TIMEOUT), 0, d.log())
            # everything sent before the exit is queued on the socket by now
            while self.receive(0) is not None:
                pass
            self.assertEqual(self.events(), ["READY", "RELOADING", "READY", "STOPPING"],
                             self.seen)
        finally:
            if d.proc.poll() is None:
                d.kill()

    def test_status_says_what_waits_for_the_sending_hours(self):
        """Started just before 09:00 with the week before to catch up on: STATUS
        says it waits for 09:00, and then counts the schedule built."""
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path)
        d = Daemon(self.conf, os.path.join(self.tmp, "state"), "--now", "2023-02-01T08:59:45",
                   env=env)
        try:
            waits = ("39 actions, 0 observances; what was missed while stopped waits for the "
                     "sending hours, 2023-02-01T09:00:00+00:00; ")
            if harness.PG:
                self.assertEqual(self.next_message("READY")["STATUS"], "39 actions, 0 "
                                 "observances, the schedule waits for the last run time from "
                                 "PostgreSQL")
                self.next_message_with("STATUS", waits)
            else:
                self.assertTrue(self.next_message("READY")["STATUS"].startswith(waits),
                                self.seen)
            built = self.next_message_with("STATUS", "reminders scheduled")["STATUS"]
            self.assertRegex(built, r"^39 actions, 0 observances, [1-9]\d* reminders "
                             r"scheduled, next 2023-")
            d.wait_for("the sending hours have begun")
            self.assertEqual(d.stop(), 0, d.log())
        finally:
            if d.proc.poll() is None:
                d.kill()

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
