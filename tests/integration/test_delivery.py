#!/usr/bin/env python3
"""Durable delivery against real servers started here: every deliverable
notice arrives exactly once, transient failures are retried (honouring
Retry-After), permanent ones are recorded and reported, and secrets never
reach the log, the state database or the outbox listing."""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import Daemon, tool

ARGS = None
CANARY = "s3cr3t-CANARY-7f2c"
HMAC_KEY = "shared-hmac-key-for-tests"


def settle(test, d, outbox, count, timeout=60):
    """Waits until the outbox holds count notices, each delivered or
    failed; returns the outbox listing."""
    d.wait_for("started")
    deadline = time.monotonic() + timeout
    while True:
        box = outbox()
        if len(box) == count and all(n["state"] in ("delivered", "failed") for n in box):
            return box
        if time.monotonic() > deadline:
            test.fail("deliveries did not settle:\n%s\n%s" % (json.dumps(box, indent=1), d.log()))
        time.sleep(0.3)


class Recorder:
    """What the HTTP peer saw: per path, (time, notice id, status sent)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (path, monotonic, notice_id, status, body, headers)
        self.count = {}

    def next_count(self, path):
        with self.lock:
            self.count[path] = self.count.get(path, 0) + 1
            return self.count[path]

    def add(self, *row):
        with self.lock:
            self.requests.append(row)


def make_handler(rec):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            path = self.path.split("?")[0].strip("/")
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            n = rec.next_count(path)
            status, extra = 202, {}
            if path == "ra429" and n == 1:
                status, extra = 429, {"Retry-After": "3"}
            elif path == "noa429" and n == 1:
                status = 429
            elif path == "e500" and n <= 2:
                status = 500
            elif path == "hang" and n == 1:
                time.sleep(4)  # past the client's 2 s timeout
                status = 500
            elif path == "gone":
                status = 404
            rec.add(path, time.monotonic(), self.headers.get("X-Tickler-Notice"), status, body,
                    dict(self.headers))
            payload = b'{"ok":%s}' % (b"true" if status < 300 else b"false")
            try:
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


TEAMS = ["ok", "ra429", "noa429", "e500", "hang", "gone"]
NAMES = {"ok": "Alpha", "ra429": "Bravo", "noa429": "Charlie", "e500": "Delta", "hang": "Echo",
         "gone": "Foxtrot"}


class Webhook(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-dl-")
        self.state = os.path.join(self.tmp, "state")
        self.rec = Recorder()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.rec))
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        dests = []
        for path in TEAMS + ["admin"]:
            with open(os.path.join(self.tmp, path + ".url"), "w") as f:
                f.write("http://127.0.0.1:%d/%s?token=%s\n" % (self.port, path, CANARY))
            extra = ' hmac_secret_file = "hmac.key";' if path == "ok" else ""
            dests.append('{ name = "%s"; url_file = "%s.url";%s }' % (path, path, extra))
        with open(os.path.join(self.tmp, "hmac.key"), "w") as f:
            f.write(HMAC_KEY + "\n")
        teams = ",\n".join('{ id = "%s"; name = "%s"; recipients = { hook = [ "%s" ]; }; }'
                           % (t, NAMES[t], t) for t in TEAMS)
        teams += ',\n{ id = "admin"; name = "Admin"; recipients = { hook = [ "admin" ]; }; }'
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 1; report_to = "admin"; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 2; destinations = ( %s ); }; } );
teams = ( %s );
""" % (",\n".join(dests), teams))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
            for i, t in enumerate(TEAMS):
                f.write('W%d,"Action for %s, with ""quotes"" and \\u2028 text",%s,03/03/2023,\n'
                        % (i, t, NAMES[t]))

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def outbox(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "outbox", "--json"], capture_output=True, text=True, check=True)
        self.assertNotIn(CANARY, p.stdout + p.stderr)
        return json.loads(p.stdout)

    def test_every_notice_once_retries_and_failures(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            box = settle(self, d, self.outbox, len(TEAMS) + 1)
        finally:
            self.assertEqual(d.stop(), 0)
        by_recipient = {n["recipient"]: n for n in box}
        # every deliverable notice was accepted (2xx) exactly once
        for t in ["ok", "ra429", "noa429", "e500", "hang", "admin"]:
            oks = [r for r in self.rec.requests if r[0] == t and r[3] < 300]
            self.assertEqual(len(oks), 1, t)
            self.assertEqual(by_recipient[t]["state"], "delivered", t)
            self.assertEqual(oks[0][2], str(by_recipient[t]["id"]))
        self.assertEqual(by_recipient["e500"]["attempts"], 3)
        self.assertEqual(by_recipient["hang"]["attempts"], 2)
        # Retry-After: 3 was honoured (the plain backoff here is 1 s)
        ra = [r[1] for r in self.rec.requests if r[0] == "ra429"]
        self.assertGreaterEqual(ra[1] - ra[0], 2.9)
        # 404 is permanent: one attempt, recorded with the reply, reported
        gone = [r for r in self.rec.requests if r[0] == "gone"]
        self.assertEqual(len(gone), 1)
        self.assertEqual(by_recipient["gone"]["state"], "failed")
        self.assertIn("HTTP 404 from 127.0.0.1", by_recipient["gone"]["last_error"])
        report = [json.loads(r[4]) for r in self.rec.requests if r[0] == "admin"]
        self.assertEqual(len(report), 1)
        self.assertEqual(report[0]["entries"][0]["stage"], "report")
        self.assertIn("could not be delivered to gone", report[0]["entries"][0]["title"])
        # the body is the documented JSON, the text intact
        body = json.loads([r for r in self.rec.requests if r[0] == "ok"][0][4])
        self.assertEqual(body["schema"], "tickler.notice/1")
        self.assertEqual(body["team"], {"id": "ok", "name": "Alpha"})
        self.assertEqual(body["due_at"], "2023-03-03T09:00:00+00:00")
        e = body["entries"][0]
        self.assertEqual(e["title"], 'Action for ok, with "quotes" and \\u2028 text')
        self.assertEqual(e["deadline"], "2023-03-03")
        self.assertEqual(e["stage"], "due")
        self.assertEqual(e["days_left"], 0)
        # the HMAC verifies with an independent implementation
        req = [r for r in self.rec.requests if r[0] == "ok"][0]
        want = "sha256=" + hmac.new(HMAC_KEY.encode(), req[4], hashlib.sha256).hexdigest()
        self.assertEqual(req[5]["X-Tickler-Signature"], want)
        self.assertNotIn("X-Tickler-Signature", [r for r in self.rec.requests if r[0] == "e500"][0][5])
        # the canary secret is nowhere: log, database files, outbox
        self.assertNotIn(CANARY, d.log())
        for name in os.listdir(self.state):
            with open(os.path.join(self.state, name), "rb") as f:
                self.assertNotIn(CANARY.encode(), f.read(), name)
        db = sqlite3.connect(os.path.join(self.state, "tickler.db"))
        for row in db.execute("SELECT * FROM notices"):
            self.assertNotIn(CANARY, repr(row))

    def test_send_test_webhook(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "hook", "--to", "ok"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("delivered: HTTP 202 from 127.0.0.1", p.stdout)
        self.assertNotIn(CANARY, p.stdout + p.stderr)
        body = json.loads(self.rec.requests[0][4])
        self.assertEqual(body["schema"], "tickler.notice/1")
        self.assertEqual(body["recipient"], "ok")
        want = "sha256=" + hmac.new(HMAC_KEY.encode(), self.rec.requests[0][4],
                                    hashlib.sha256).hexdigest()
        self.assertEqual(self.rec.requests[0][5]["X-Tickler-Signature"], want)
        # an unknown destination name: refused, naming the known ones and no URL
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "hook", "--to", "nosuch"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("\"nosuch\" is not one of this instance's destinations (known: \"ok\"",
                      p.stderr)
        self.assertNotIn(CANARY, p.stdout + p.stderr)
        self.assertEqual(len(self.rec.requests), 1)

    def test_retry_requeues_failed_and_wakes_the_daemon(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("delivery failed for good")
            gone = [n for n in self.outbox() if n["recipient"] == "gone"][0]
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                "retry", str(gone["id"])], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("1 notice queued again", p.stdout)
            d.wait_for("woken by tickler retry")
            deadline = time.monotonic() + 10
            while len([r for r in self.rec.requests if r[0] == "gone"]) < 2:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.2)
            # a notice that is not failed is refused
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                "retry", "999"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("999 is not a failed notice", p.stderr)
        finally:
            self.assertEqual(d.stop(), 0)


SMTP_TEAMS = ["first", "second", "third", "fourth", "reject"]


def smtp_script(kind, n, address):
    """421 and 451 for the first DATA commands, then 250; 550 for one
    mailbox at RCPT."""
    if kind == "RCPT" and address.startswith("reject@"):
        return "550 5.1.1 <%s>: mailbox unavailable" % address
    if kind == "DATA" and n == 1:
        return "451 4.3.0 local problem, try again later"
    if kind == "DATA" and n == 2:
        return "421 4.3.2 service shutting down, try again later"
    return None


class Smtp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-smtp-")
        self.state = os.path.join(self.tmp, "state")
        self.smtp = harness.SmtpSink(smtp_script)
        teams = ",\n".join('{ id = "%s"; name = "Team %s"; recipients = { mail = [ "%s@example.org" ]; }; }'
                           % (t, t.title(), t) for t in SMTP_TEAMS)
        teams += ',\n{ id = "admin"; name = "Admin"; recipients = { mail = [ "admin@example.org" ]; }; }'
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 1; report_to = "admin"; concurrency = 2; };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://127.0.0.1:%d"; tls = "none";
                             from = "Action plan reminders <tickler@council.example>"; }; } );
teams = ( %s );
""" % (self.smtp.port, teams))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
            for i, t in enumerate(SMTP_TEAMS):
                f.write("S%d,Action for %s,Team %s,03/03/2023,\n" % (i, t, t.title()))

    def tearDown(self):
        self.smtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def outbox(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                            "outbox", "--json"], capture_output=True, text=True, check=True)
        return json.loads(p.stdout)

    def test_transient_then_delivered_once_and_550_reported(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            box = settle(self, d, self.outbox, len(SMTP_TEAMS) + 1)
        finally:
            self.assertEqual(d.stop(), 0)
        got = {}
        for rcpts, raw in self.smtp.received():
            for r in rcpts:
                got[r] = got.get(r, 0) + 1
        # every deliverable notice arrived exactly once, 421 and 451 retried
        for t in ["first", "second", "third", "fourth", "admin"]:
            self.assertEqual(got.get(t + "@example.org"), 1, t)
        self.assertNotIn("reject@example.org", got)
        by = {n["recipient"]: n for n in box}
        self.assertEqual(sum(n["attempts"] for n in box if n["recipient"] != "reject@example.org"),
                         len(SMTP_TEAMS) + 2)  # two deliveries needed a second attempt
        rej = by["reject@example.org"]
        self.assertEqual(rej["state"], "failed")
        self.assertEqual(rej["attempts"], 1)
        self.assertIn("SMTP 550", rej["last_error"])
        self.assertIn("mailbox unavailable", rej["last_error"])
        self.assertIn("SMTP 451", d.log())
        self.assertIn("SMTP 421", d.log())
        # the admin route heard about it, by e-mail
        import email as em
        import email.policy
        admin = [raw for rcpts, raw in self.smtp.received() if "admin@example.org" in rcpts][0]
        msg = em.message_from_bytes(admin, policy=email.policy.strict)
        self.assertIn("Delivery failure", msg["Subject"])
        self.assertIn("reject@example.org", msg.get_body(("plain",)).get_content())


class Crash(unittest.TestCase):
    """1,000 notices, SIGKILL at 20 random instants, restart each time."""
    N = 1000
    KILLS = 20

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-crash-")
        self.state = os.path.join(self.tmp, "state")
        self.smtp = harness.SmtpSink()
        rcpts = ", ".join('"u%04d@example.org"' % i for i in range(self.N))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        # one delivery in flight at a time: the promise is "no duplicates
        # but the notices in flight at a crash", so at most one per kill
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 1; concurrency = 1; };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://127.0.0.1:%d"; tls = "none";
                             from = "tickler@council.example"; }; } );
teams = ( { id = "crowd"; name = "Crowd"; recipients = { mail = [ %s ]; }; } );
""" % (self.smtp.port, rcpts))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\nC1,Everybody's action,Crowd,03/03/2023,\n")

    def tearDown(self):
        self.smtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def delivered(self):
        import sqlite3 as sq
        try:
            db = sq.connect(os.path.join(self.state, "tickler.db"), timeout=10)
            n = db.execute("SELECT count(*) FROM notices WHERE state = 1").fetchone()[0]
            db.close()
            return n
        except sq.Error:
            return 0

    def test_kill_9_loses_nothing(self):
        import random
        import re
        rnd = random.Random(int(os.environ.get("TICKLER_CRASH_SEED", time.time())))
        in_flight_reported = 0
        logs = []
        for k in range(self.KILLS):
            d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30", "--log-level", "notice")
            time.sleep(rnd.uniform(0.05, 0.8))
            d.kill()
            logs.append(d.log())
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30", "--log-level", "notice")
        try:
            d.wait_for("started")
            deadline = time.monotonic() + 240
            while self.delivered() < self.N:
                self.assertLess(time.monotonic(), deadline, "only %d delivered" % self.delivered())
                time.sleep(0.5)
        finally:
            self.assertEqual(d.stop(), 0)
        logs.append(d.log())
        for log in logs:
            for m in re.finditer(r"(\d+) notices were in flight", log):
                in_flight_reported += int(m.group(1))
        got = {}
        for rcpts, raw in self.smtp.received():
            for r in rcpts:
                got[r] = got.get(r, 0) + 1
        lost = [i for i in range(self.N) if got.get("u%04d@example.org" % i, 0) == 0]
        dups = sum(v - 1 for v in got.values())
        print("\ncrash test: %d kills, %d notices, %d lost, %d duplicates, %d reported in flight"
              % (self.KILLS, self.N, len(lost), dups, in_flight_reported), file=sys.stderr)
        self.assertEqual(lost, [])
        self.assertLessEqual(dups, self.KILLS)
        self.assertLessEqual(dups, in_flight_reported)
        self.assertEqual(self.delivered(), self.N)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
