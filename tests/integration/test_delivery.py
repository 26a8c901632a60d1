#!/usr/bin/env python3
"""Durable delivery against real servers started here: every deliverable
notice arrives exactly once, transient failures are retried (honouring
Retry-After), permanent ones are recorded and reported, and secrets (the
signed links in notices among them) never reach the log, the state database
or the outbox listing."""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import random
import re
import select
import signal
import shutil
import socket
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


def wait_closed(sock, timeout):
    """Waits until the client closes sock (its request given up); False if
    it did not within timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return False
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        except ConnectionResetError:
            return True


class Recorder:
    """What the HTTP peer saw: per path, (time, notice id, status sent)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (path, monotonic, notice_id, status, body, headers)
        self.count = {}
        self.hang_given_up = None  # whether the client closed the unanswered request

    def next_count(self, path):
        with self.lock:
            self.count[path] = self.count.get(path, 0) + 1
            return self.count[path]

    def add(self, *row):
        with self.lock:
            self.requests.append(row)


def settle_retrying(test, outbox, count, timeout=60):
    """Waits until the outbox holds count notices, each retrying; returns
    the outbox listing."""
    deadline = time.monotonic() + timeout
    while True:
        box = outbox()
        if len(box) == count and all(n["state"] == "retrying" for n in box):
            return box
        if time.monotonic() > deadline:
            test.fail("the notices did not come to retry: %r" % box)
        time.sleep(0.1)


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
                # never answered: held until ticklerd gives up on its own
                # timeout and closes the connection, however long that takes
                rec.hang_given_up = wait_closed(self.connection, 120)
                status = 500
            elif path == "gone" or path.startswith("gone-"):
                status = 404
            elif path == "hold" or path.startswith("hold-"):
                status = 503
            elif path.startswith("outage") and rec.next_count("outage") <= 3:
                status = 503  # the server down for the first three, whoever they are for
            rec.add(path, time.monotonic(), self.headers.get("X-Tickler-Notice"), status, body,
                    dict(self.headers))
            payload = b'{"ok":%s}' % (b"true" if status < 300 else b"false")
            if path == "gone":  # an error page that repeats the request, secret and all
                payload = b"<pre>Cannot POST " + self.path.encode() + b"</pre>"
            if path == "badlink":  # an answer that repeats the notice's link
                status = 400
                link = json.loads(body)["entries"][0]["link"] or ""
                payload = json.dumps({"error": "unknown link " + link}).encode()
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
delivery = { retry_min_seconds = 1; report_to = "admin"; report_every_seconds = 1; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5; destinations = ( %s ); }; } );
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
        box, out = harness.outbox(self.conf, self.state)
        self.assertNotIn(CANARY, out)
        return box

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
        # an unanswered request: ticklerd gave up on it (timeout_seconds),
        # closed the connection and sent the notice again
        self.assertTrue(self.rec.hang_given_up, d.log())
        self.assertRegex(d.log(), r"delivery failed, will retry in \d+ s: 127\.0\.0\.1: "
                         r"Operation timed out after \d+ milliseconds with 0 bytes received; "
                         r"notice=%d " % by_recipient["hang"]["id"])
        self.assertEqual(by_recipient["hang"]["attempts"], 2)
        # Retry-After: 3 was honoured (the plain backoff here is 1 s). A
        # lower bound only: the first time is taken before the 429 is sent,
        # so a slower machine can only make the gap longer
        ra = [r[1] for r in self.rec.requests if r[0] == "ra429"]
        self.assertGreaterEqual(ra[1] - ra[0], 2.9)
        # 404 is permanent: one attempt, recorded with the reply, reported
        gone = [r for r in self.rec.requests if r[0] == "gone"]
        self.assertEqual(len(gone), 1)
        self.assertEqual(by_recipient["gone"]["state"], "failed")
        self.assertIn("HTTP 404 from 127.0.0.1", by_recipient["gone"]["last_error"])
        # the echoed request line keeps its shape, never the secret of the URL
        self.assertIn("its answer repeats the destination's secret address; not kept",
                      by_recipient["gone"]["last_error"])
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
        # no links group: no link; no answer recorded, no intro
        self.assertIsNone(e["link"])
        self.assertIsNone(e["answer"])
        self.assertIsNone(body["intro"])
        self.assertIsNone(body["calendar"])  # no observance in it
        # the HMAC verifies with an independent implementation
        req = [r for r in self.rec.requests if r[0] == "ok"][0]
        want = "sha256=" + hmac.new(HMAC_KEY.encode(), req[4], hashlib.sha256).hexdigest()
        self.assertEqual(req[5]["X-Tickler-Signature"], want)
        self.assertNotIn("X-Tickler-Signature", [r for r in self.rec.requests if r[0] == "e500"][0][5])
        # the canary secret is nowhere: log, database files, outbox
        self.assertNotIn(CANARY, d.log())
        for name in harness.state_files(self.state):
            with open(name, "rb") as f:
                self.assertNotIn(CANARY.encode(), f.read(), name)
        rows = harness.notice_rows(self.conf, self.state)
        self.assertIn("e500", rows)  # the test can fail
        self.assertNotIn(CANARY, rows)

    def test_links_in_the_json_signed_and_never_kept(self):
        key = "4b" * 32
        with open(os.path.join(self.tmp, "links.key"), "w") as f:
            f.write(key + "\n")
        with open(os.path.join(self.tmp, "badlink.url"), "w") as f:
            f.write("http://127.0.0.1:%d/badlink?token=%s\n" % (self.port, CANARY))
        with open(self.conf) as f:
            text = f.read()
        text = text.replace('destinations = ( ',
                            'destinations = ( { name = "badlink"; url_file = "badlink.url"; }, ')
        text = text.replace('teams = ( ', 'teams = ( { id = "badlink"; name = "Golf"; '
                            'recipients = { hook = [ "badlink" ]; }; },\n')
        text += ('http = { listen = [ "127.0.0.1:%d" ]; public_url = "https://eap.example/t/"; };\n'
                 'links = { keys = ( { id = "w1"; file = "links.key"; } ); };\n'
                 % harness.free_port())
        with open(self.conf, "w") as f:
            f.write(text)
        with open(os.path.join(self.tmp, "plan.csv"), "a") as f:
            f.write("G1,Golf action,Golf,03/03/2023,\n")
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            # one notice per team, and the failures of the two that fail
            # reported: together, or apart should a sweep fall between them
            deadline = time.monotonic() + 60 * harness.SLOWDOWN
            while sum(int(n) for n in re.findall(r"queued a report of (\d+) failed", d.log())) < 2:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.3)
            reports = len(re.findall(r"queued a report of", d.log()))
            box = settle(self, d, self.outbox, len(TEAMS) + 1 + reports)
        finally:
            self.assertEqual(d.stop(), 0)
        tokens = []
        for r in self.rec.requests:
            body = json.loads(r[4])
            for e in body["entries"]:
                if e["stage"] == "report":  # a delivery failure: no action to act on
                    self.assertIsNone(e["link"])
                    continue
                kid, action, recipient, issued, expires = harness.verify_link(
                    e["link"], {"w1": key})
                self.assertTrue(e["link"].startswith("https://eap.example/t/a/"), e["link"])
                self.assertEqual((kid, action, recipient), ("w1", e["item_id"], body["recipient"]))
                self.assertEqual(expires - issued, 45 * 86400)
                tokens.append(e["link"].rsplit("/", 1)[1])
        self.assertGreaterEqual(len(tokens), len(TEAMS) + 1)
        # the signature covers the link
        req = [r for r in self.rec.requests if r[0] == "ok"][0]
        self.assertIn(b'"link":"https://eap.example/t/a/', req[4])
        want = "sha256=" + hmac.new(HMAC_KEY.encode(), req[4], hashlib.sha256).hexdigest()
        self.assertEqual(req[5]["X-Tickler-Signature"], want)
        # an answer that repeats the link is not kept
        bad = [n for n in box if n["recipient"] == "badlink"][0]
        self.assertEqual(bad["state"], "failed")
        self.assertIn("HTTP 400 from 127.0.0.1 (its answer repeats a link of the notice; not kept)",
                      bad["last_error"])
        # no token in the log, the outbox listing or the state database
        listing = json.dumps(self.outbox())
        for t in tokens:
            self.assertNotIn(t, d.log())
            self.assertNotIn(t, listing)
            for name in harness.state_files(self.state):
                with open(name, "rb") as f:
                    self.assertNotIn(t.encode(), f.read(), name)

    def test_a_reused_handle_carries_nothing_from_the_post_before(self):
        # one post at a time, so every post after the first runs on the
        # libcurl handle of the one before it, not reset: destinations signed
        # with keys of their own alternate with unsigned ones
        n = 12
        dests, names = [], []
        for i in range(n):
            name = "s%d" % i
            names.append(name)
            with open(os.path.join(self.tmp, name + ".url"), "w") as f:
                f.write("http://127.0.0.1:%d/%s?token=%s\n" % (self.port, name, CANARY))
            extra = ""
            if i % 2 == 0:
                with open(os.path.join(self.tmp, name + ".key"), "w") as f:
                    f.write("key-of-%s\n" % name)
                extra = ' hmac_secret_file = "%s.key";' % name
            dests.append('{ name = "%s"; url_file = "%s.url";%s }' % (name, name, extra))
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { concurrency = 1; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5; destinations = ( %s ); }; } );
teams = ( { id = "many"; name = "Many"; recipients = { hook = [ %s ]; }; } );
""" % (",\n".join(dests), ", ".join('"%s"' % x for x in names)))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\nM1,Many action,Many,03/03/2023,\n")
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            box = settle(self, d, self.outbox, n)
        finally:
            self.assertEqual(d.stop(), 0)
        ids = {b["recipient"]: str(b["id"]) for b in box}
        self.assertEqual(sorted(r[0] for r in self.rec.requests), sorted(names))
        for path, _, notice, status, body, headers in self.rec.requests:
            self.assertEqual(status, 202)
            self.assertEqual(json.loads(body)["recipient"], path)
            self.assertEqual(notice, ids[path])
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertNotIn("Expect", headers)
            if int(path[1:]) % 2 == 0:
                key = ("key-of-%s" % path).encode()
                want = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
                self.assertEqual(headers["X-Tickler-Signature"], want, path)
            else:
                self.assertNotIn("X-Tickler-Signature", headers, path)

    def test_a_reused_handle_trusts_no_ca_file_the_configuration_dropped(self):
        """A handle is reused without libcurl's reset (hp_pool): one that
        carried the CA file a reload took away is reset, so the next post
        trusts the system's CAs only, and a server whose certificate only
        that CA signed is refused before it is sent anything: here the
        retry of a notice the server kept answering 503."""
        certs = harness.make_certs(self.tmp)
        rec = Recorder()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(rec))
        server.socket = harness.tls_context(*certs["good"]).wrap_socket(server.socket,
                                                                        server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        for path in ("tls", "hold"):
            with open(os.path.join(self.tmp, path + ".url"), "w") as f:
                f.write("https://127.0.0.1:%d/%s?token=%s\n"
                        % (server.server_address[1], path, CANARY))

        def write_conf(ca):
            with open(self.conf, "w") as f:
                f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { concurrency = 1; retry_min_seconds = 1; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5; %s
                             destinations = ( { name = "tls"; url_file = "tls.url"; },
                                              { name = "hold"; url_file = "hold.url"; } ); }; } );
teams = ( { id = "tls"; name = "Tls"; recipients = { hook = [ "tls", "hold" ]; }; } );
""" % ('ca_file = "%s";' % ca if ca else ""))

        write_conf(certs["ca"][0])
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\nT1,Action,Tls,03/03/2023,\n")
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("delivered notice")
            deadline = time.monotonic() + 30 * harness.SLOWDOWN
            while [r[0] for r in rec.requests].count("hold") < 1:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.1)
            write_conf(None)
            mark = len(d.lines)
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("configuration reloaded", after=mark)
            refused = d.wait_for("certificate", after=mark)
            # the reason, in OpenSSL's words, not only "not OK"
            self.assertIn("unable to get local issuer certificate", d.lines[refused])
            with rec.lock:
                seen = len(rec.requests)
            d.wait_for("certificate", after=refused + 1)  # the next retry: refused too
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual(len(rec.requests), seen, d.log())  # and it reached nothing
        self.assertTrue(all(r[3] in (202, 503) for r in rec.requests))

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
        # a name with a line break: quoted escaped, on the message's one line
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "hook", "--to", "no\nsuch"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn('hook cannot deliver to "no\\nsuch": "no such" is not one of', p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        self.assertEqual(len(self.rec.requests), 1)

    def test_retry_requeues_failed_and_wakes_the_daemon(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            n = d.wait_for("delivery failed for good")
            gone = [n for n in self.outbox() if n["recipient"] == "gone"][0]
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                "retry", str(gone["id"])], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("1 notice queued again", p.stdout)
            if not harness.PG:  # on PostgreSQL the retry's NOTIFY wakes the node
                n = d.wait_for("woken by tickler retry")
            # sent again, and refused again for good: reported (again,
            # should a sweep have reported the first failure before the
            # retry), and counted as a new notice's attempts (one); the
            # line after the first failure's (which on PostgreSQL is n
            # itself)
            n = d.wait_for("delivery failed for good", after=n + 1)
            self.assertEqual(len([r for r in self.rec.requests if r[0] == "gone"]), 2)
            d.wait_for("queued a report of 1 failed notice", after=n + 1)
            queued = len(re.findall("queued a report of 1 failed notice", d.log()))
            self.assertIn(queued, (1, 2))
            reports = lambda: [r for r in self.rec.requests if r[0] == "admin"]
            deadline = time.monotonic() + 30
            while len(reports()) < queued and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(len(reports()), queued, d.log())
            last = json.loads(reports()[-1][4])["entries"]
            self.assertEqual([e["item_id"] for e in last], ["notice-%d" % gone["id"]])
            again = [n for n in self.outbox() if n["id"] == gone["id"]][0]
            self.assertEqual(again["attempts"], 1)
            # a notice that is not failed is refused, one there is not is named so
            done = [n for n in self.outbox() if n["state"] == "delivered"][0]
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                "retry", "999", str(done["id"])], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("there is no notice 999 in the outbox", p.stderr)
            self.assertIn("notice %d is not a failed or withdrawn notice%s"
                          % (done["id"], "" if harness.PG else ": it is delivered"), p.stderr)
        finally:
            self.assertEqual(d.stop(), 0)


class WebhookTeams(unittest.TestCase):
    """A webhook notifier "hook" to the Recorder's server, one destination
    and one team per name of TEAMS, each owning one action due on
    2023-03-03: the destination's URL is URL with the server's port and
    the team's name; DELIVERY is the configuration's delivery group."""
    PREFIX = "tickler-hook-"
    TEAMS = []
    URL = "http://127.0.0.1:%d/%s"
    DELIVERY = ""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=self.PREFIX)
        self.state = os.path.join(self.tmp, "state")
        self.rec = Recorder()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.rec))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        teams = self.TEAMS
        for t in teams:
            path = os.path.join(self.tmp, t + ".url")
            with open(path, "w") as f:
                f.write(self.URL % (self.server.server_address[1], t) + "\n")
            os.chmod(path, 0o600)
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
%s
notifiers = ( { name = "hook"; plugin = "webhook"; settings = { destinations = ( %s ); }; } );
teams = ( %s );
""" % (self.DELIVERY, ", ".join('{ name = "%s"; url_file = "%s.url"; }' % (t, t) for t in teams),
       ", ".join('{ id = "%s"; name = "%s"; recipients = { hook = [ "%s" ]; }; }' % (t, t, t)
                 for t in teams)))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
            for i, t in enumerate(teams):
                f.write("R%d,Action %d,%s,03/03/2023,\n" % (i, i, t))

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class OutageLog(WebhookTeams):
    """A server down through a large round: the journal gets a line for
    each of the first failures and one that says the server is down, then
    one that sums up the rest, not a line a notice; and never the
    webhook's secret."""
    PREFIX = "tickler-outage-log-"
    N = 20
    TEAMS = ["t%02d" % i for i in range(N)]
    URL = "http://127.0.0.1:%d/hold?sig=S3CRET-%s"  # 503 to every one

    def test_a_large_round_to_a_server_down_is_summed_up(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("is still down")
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual(len([r for r in self.rec.requests if r[0] == "hold"]), self.N)
        # what the journal shows at the default level, info: no debug lines
        lines = [l for l in d.log().splitlines() if not l.startswith("<7>")]
        self.assertEqual(len([l for l in lines if "delivery failed, will retry" in l]), 3)
        self.assertEqual(len([l for l in lines if "deliveries in a row failed" in l]), 1)
        self.assertEqual(len([l for l in lines if l.startswith("<4>")]), 5)
        summary = [l for l in lines if "is still down" in l]
        self.assertEqual(len(summary), 1, summary)
        self.assertIn("notifier hook is still down: %d more deliveries failed (the last: "
                      % (self.N - 3), summary[0])
        self.assertIn("), retrying from 2023-03-03T09:0", summary[0])
        self.assertNotIn("S3CRET", d.log())


class OutageLogAtStop(WebhookTeams):
    """The retries of a server down that fail less than a minute after the
    line that summed up the last ones are summed up when ticklerd stops,
    in one line that says they wait in the outbox."""
    PREFIX = "tickler-outage-stop-"
    TEAMS = OutageLog.TEAMS
    URL = OutageLog.URL
    DELIVERY = "delivery = { retry_min_seconds = 1; };"

    def test_retries_not_summed_up_yet_are_at_the_stop(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            first = d.wait_for("is still down")
            # a retry failed quietly after that line: owed to the next one
            d.wait_for("delivery failed, will retry", after=first)
        finally:
            self.assertEqual(d.stop(), 0)
        lines = [l for l in d.log().splitlines() if not l.startswith("<7>")]
        summary = [l for l in lines if "is still down" in l]
        self.assertEqual(len(summary), 2, summary)
        # who retries them: this daemon's next run, or on a shared state
        # (PostgreSQL) any node that runs
        self.assertRegex(summary[1], r"^<4>notifier hook is still down: [1-9]\d* more deliver(y|ies) "
                                     r"failed \(the last: .*\), kept in the %s, retried from "
                                     r"2023-03-03T09:0\S+ %s$"
                         % (("shared outbox", "by a node that runs") if harness.PG
                            else ("outbox", "once ticklerd runs again")))
        self.assertNotIn("S3CRET", d.log())


class RenamedNotifier(WebhookTeams):
    """A reload that renames the notifier its notices were queued for: they
    wait in the outbox, not failed nor reported, the reload warns once with
    their number, tickler status names them, and a reload that names the
    notifier again sends them at once."""
    PREFIX = "tickler-renamed-"
    TEAMS = ["t0", "t1"]
    URL = "http://127.0.0.1:%d/hold-%s"  # 503 until the destination is renamed
    DELIVERY = "delivery = { retry_min_seconds = 600; };"

    def rename(self, old, new, path=None):
        with open(self.conf) as f:
            text = f.read().replace('name = "%s"' % old, 'name = "%s"' % new) \
                           .replace("%s = [" % old, "%s = [" % new)
        with open(self.conf, "w") as f:
            f.write(text)
        harness.conf_for_backend(self.conf)
        if path:
            for t in self.TEAMS:
                with open(os.path.join(self.tmp, t + ".url"), "w") as f:
                    f.write("http://127.0.0.1:%d/%s-%s\n"
                            % (self.server.server_address[1], path, t))

    def test_notices_of_a_renamed_notifier_wait_for_it(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            box = settle_retrying(self, lambda: harness.outbox(self.conf, self.state)[0], 2)
            self.rename("hook", "hook2")
            at = len(d.log().splitlines())
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("configuration reloaded", after=at)
            status = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                     "status"], capture_output=True, text=True)
            self.assertEqual(status.returncode, 1, status.stdout + status.stderr)
            self.assertIn("not healthy:      2 notices wait for notifier hook, which the "
                          "configuration does not have (renamed or removed?)", status.stdout)
            status = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                     "status", "--json"], capture_output=True, text=True)
            self.assertEqual(status.returncode, 1, status.stdout + status.stderr)
            self.assertEqual(json.loads(status.stdout)["waiting_for_notifier"], {"hook": 2})
            # renamed back, to a server that answers: sent at once
            self.rename("hook2", "hook", path="ok")
            at = len(d.log().splitlines())
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("notifier hook is configured again: the 2 notices that waited for it "
                       "are due now", after=at)
            box = settle(self, d, lambda: harness.outbox(self.conf, self.state)[0], 2)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual([n["state"] for n in box], ["delivered"] * 2)
        log = d.log()
        warned = [l for l in log.splitlines() if "no notifier hook" in l and l[:3] != "<7>"]
        self.assertEqual(len(warned), 1, warned)
        self.assertRegex(warned[0], r"^<4>no notifier hook (is configured|on this node) "
                                    r"\(renamed or removed\?\): 2 notices queued for it are "
                                    r"(kept in the outbox, waiting for a notifier of that name|"
                                    r"left in the shared outbox for a node that has one)")
        self.assertNotIn("failed for good", log)
        self.assertEqual(sorted(r[0] for r in self.rec.requests if r[3] == 202),
                         ["ok-t0", "ok-t1"])


class StatusOfRemovedNotifiers(WebhookTeams):
    """tickler status with notices waiting on three channels, two of
    which the configuration no longer has: those two, in order, are said
    in the text and in --json's waiting_for_notifier, the one served is
    not, and the state is not healthy."""
    PREFIX = "tickler-status-removed-"
    TEAMS = ["a", "b", "c"]
    URL = "http://127.0.0.1:%d/hold-%s"  # 503: each notice waits for a retry

    def write_conf(self, notifiers, channel_of):
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 600; };
notifiers = ( %s );
teams = ( %s );
""" % (", ".join('{ name = "%s"; plugin = "webhook"; settings = { destinations = ( %s ); }; }'
                 % (n, ", ".join('{ name = "%s"; url_file = "%s.url"; }' % (t, t)
                                 for t in self.TEAMS)) for n in notifiers),
       ", ".join('{ id = "%s"; name = "%s"; recipients = { %s = [ "%s" ]; }; }'
                 % (t, t, channel_of(t), t) for t in self.TEAMS)))
        harness.conf_for_backend(self.conf)

    def test_the_channels_no_notifier_serves_are_said_once_each(self):
        self.write_conf(["a", "b", "c"], lambda t: t)
        d = Daemon(self.conf, self.state, "--oneshot", "--now", "2023-03-03T09:00:30")
        self.assertEqual(d.wait(), 0, d.log())
        box = harness.outbox(self.conf, self.state)[0]
        self.assertEqual(sorted((n["channel"], n["state"]) for n in box),
                         [("a", "retrying"), ("b", "retrying"), ("c", "retrying")])
        self.write_conf(["b"], lambda t: "b")  # a and c removed, their teams on b
        run = [tool("tickler"), "-c", self.conf, "--state-dir", self.state, "status"]
        text = subprocess.run(run, capture_output=True, text=True)
        js = subprocess.run(run + ["--json"], capture_output=True, text=True)
        self.assertEqual(text.returncode, 1, text.stdout + text.stderr)
        self.assertEqual(js.returncode, 1, js.stdout + js.stderr)
        waiting = re.findall(r"\nnot healthy: +(\d+) notices? waits? for notifier (\w+), which "
                             r"the configuration does not have \(renamed or removed\?\)",
                             text.stdout)
        self.assertEqual(waiting, [("1", "a"), ("1", "c")], text.stdout)
        status = json.loads(js.stdout)
        self.assertEqual(list(status["waiting_for_notifier"].items()), [("a", 1), ("c", 1)])
        self.assertFalse(status["healthy"])
        self.assertEqual(status["retrying"], 3)


SMTP_TEAMS = ["first", "second", "third", "fourth", "reject"]


class Recovery(WebhookTeams):
    """A server down, then up again: the notices that failed while it was
    down go as soon as it delivers again, not each at the end of its
    backoff (retry_min_seconds = 600 here)."""
    PREFIX = "tickler-recovery-"
    TEAMS = ["t%d" % i for i in range(4)]
    URL = "http://127.0.0.1:%d/outage-%s"
    DELIVERY = "delivery = { retry_min_seconds = 600; concurrency = 1; };"

    def test_notices_that_failed_while_the_server_was_down_go_when_it_delivers_again(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            box = settle(self, d, lambda: harness.outbox(self.conf, self.state)[0], 4)
            d.wait_for("due now")
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual([n["state"] for n in box], ["delivered"] * 4)
        # one at a time: three refused, the fourth accepted, then the three
        # again, each accepted once
        self.assertEqual([r[3] for r in self.rec.requests], [503, 503, 503, 202, 202, 202, 202])
        accepted = [r[0] for r in self.rec.requests if r[3] == 202]
        self.assertEqual(sorted(accepted), ["outage-t0", "outage-t1", "outage-t2", "outage-t3"])
        self.assertEqual(sorted(n["attempts"] for n in box), [1, 2, 2, 2])
        log = d.log()
        self.assertIn("notifier hook: 3 deliveries in a row failed, the last: ", log)
        self.assertIn("notifier hook delivers again, after 3 failed deliveries in a row; the 3 "
                      "notices waiting for a retry are due now", log)


class FailureSweep(unittest.TestCase):
    """A relay that refuses everything (HTTP 404, for good): the notices
    that fail are reported to delivery.report_to together, in a report
    or a few that name them by channel and team, not one report each; a
    restart reports none of them again; one queued again by tickler retry
    that fails again is reported again, alone."""
    N = 30  # the council's notices that fail

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-sweep-")
        self.state = os.path.join(self.tmp, "state")
        self.rec = Recorder()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.rec))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_address[1]
        names = ["gone-c%02d" % i for i in range(self.N)] + ["gone-h0", "gone-h1", "admin"]
        for name in names:
            with open(os.path.join(self.tmp, name + ".url"), "w") as f:
                f.write("http://127.0.0.1:%d/%s\n" % (port, name))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { report_to = "admin"; report_every_seconds = 3; };
notifiers = ( { name = "hook"; plugin = "webhook"; settings = { destinations = ( %s ); }; } );
teams = ( { id = "council"; name = "Council"; recipients = { hook = [ %s ]; }; },
          { id = "housing"; name = "Housing"; recipients = { hook = [ "gone-h0", "gone-h1" ]; }; },
          { id = "admin"; name = "Admin"; recipients = { hook = [ "admin" ]; }; } );
""" % (", ".join('{ name = "%s"; url_file = "%s.url"; }' % (n, n) for n in names),
       ", ".join('"%s"' % n for n in names[:self.N])))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "C1,Council action,Council,03/03/2023,\n"
                    "H1,Housing action,Housing,03/03/2023,\n")

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def box(self):
        return harness.outbox(self.conf, self.state)[0]

    def reports(self):
        """The reports delivery.report_to received, their JSON bodies."""
        return [json.loads(r[4]) for r in self.rec.requests if r[0] == "admin"]

    def wait_reported(self, d, failed, reports):
        """Waits until failed notices have failed for good and reports
        reports have reached the admin's peer, each delivered."""
        deadline = time.monotonic() + 120 * harness.SLOWDOWN
        while True:
            box = self.box()
            gone = [n for n in box if n["recipient"].startswith("gone") and n["state"] == "failed"]
            admin = [n for n in box if n["recipient"] == "admin"]
            if (len(gone) == failed and len(admin) == reports and len(self.reports()) == reports
                    and all(n["state"] == "delivered" for n in admin)):
                return box
            if time.monotonic() > deadline:
                self.fail("not reported:\n%s\n%s" % (json.dumps(box, indent=1), d.log()))
            time.sleep(0.3)

    @staticmethod
    def counted(report):
        """How many failed notices a report's entries count."""
        n = 0
        for e in report["entries"]:
            m = re.match(r"(?:and )?(\d+) (?:more )?notices", e["title"])
            n += int(m.group(1)) if m else 1
        return n

    def test_failures_are_reported_together_once_and_again_after_a_retry(self):
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            # the sweep comes report_every_seconds after a failure: all
            # 32 fail at once, so one report (two should a machine be slow
            # enough to spread them past it), never one per notice
            deadline = time.monotonic() + 120 * harness.SLOWDOWN
            while sum(self.counted(r) for r in self.reports()) < self.N + 2:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.3)
            first = self.reports()
            box = self.wait_reported(d, self.N + 2, len(first))
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertLessEqual(len(first), 2, d.log())
        self.assertEqual(sum(self.counted(r) for r in first), self.N + 2)
        for r in first:
            self.assertEqual(r["team"], {"id": "admin", "name": "Admin"})
            self.assertTrue(all(e["stage"] == "report" for e in r["entries"]))
        # grouped by channel and team, with the reply: the council's 30
        # on one line, Housing's 2 on another
        report = first[0]
        if len(first) == 1:
            self.assertEqual(report["intro"].split(";")[0], "32 notices could not be delivered")
            titles = [e["title"] for e in report["entries"]]
            self.assertEqual(titles, [
                "30 notices for Council (30 actions) could not be delivered to 30 recipients "
                "by hook",
                "2 notices for Housing (2 actions) could not be delivered to 2 recipients by "
                "hook"])
            self.assertRegex(report["entries"][0]["item_id"], r"^notices \d+, \d+, \d+ and 27 more$")
            self.assertIn("HTTP 404 from 127.0.0.1", report["entries"][0]["progress"])
        self.assertEqual(len(re.findall(r"delivery failed for good", d.log())), self.N + 2)
        # a restart: nothing reported again
        failed = [n for n in box if n["recipient"] == "gone-h1"][0]
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            # tickler retry of one: it fails again, and is reported again, alone
            p = subprocess.run([harness.tool("tickler"), "-c", self.conf, "--state-dir",
                                self.state, "retry", str(failed["id"])],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, "1 notice queued again\n")
            self.wait_reported(d, self.N + 2, len(first) + 1)
        finally:
            self.assertEqual(d.stop(), 0)
        again = self.reports()[len(first):]
        self.assertEqual(len(again), 1, d.log())
        self.assertEqual([e["title"] for e in again[0]["entries"]],
                         ["A reminder for Housing (1 action) could not be delivered to gone-h1 "
                          "by hook"])
        self.assertEqual(again[0]["entries"][0]["item_id"], "notice-%d" % failed["id"])

    def test_report_to_set_by_a_reload_reports_what_waits(self):
        """Failures recorded while delivery.report_to named no team are
        reported once a reload sets it, not at the next failure."""
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace('report_to = "admin"; ', ""))
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            deadline = time.monotonic() + 120 * harness.SLOWDOWN
            while len([n for n in self.box() if n["state"] == "failed"]) < self.N + 2:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.3)
            self.assertEqual(self.reports(), [])
            with open(self.conf, "w") as f:
                f.write(text)
            mark = len(d.lines)
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("configuration reloaded", after=mark)
            self.wait_reported(d, self.N + 2, 1)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual(self.counted(self.reports()[0]), self.N + 2)

    def oneshot(self):
        p = subprocess.run([harness.tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                            "--state-dir", self.state, "--now", "2023-03-03T09:00:30",
                            "--oneshot"], capture_output=True, text=True,
                           timeout=300 * harness.SLOWDOWN)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stderr

    def test_a_oneshot_run_reports_its_failures_itself_in_one_report(self):
        """A timer's --oneshot run reports the failures it recorded before
        it ends, in one report, delivered in the run; the next run
        reports none again."""
        log = self.oneshot()
        reports = self.reports()
        self.assertEqual(len(reports), 1, log)
        self.assertEqual(self.counted(reports[0]), self.N + 2)
        admin = [n for n in self.box() if n["recipient"] == "admin"]
        self.assertEqual([n["state"] for n in admin], ["delivered"])
        log = self.oneshot()
        self.assertEqual(len(self.reports()), 1, log)


class DrainSink:
    """An HTTP peer whose first answer is slow ("slow": after a delay) or
    never comes ("never": held until the client gives up); later ones are
    202 at once. Counts the requests received and the 2xx sent."""

    def __init__(self, delay):
        self.delay = delay
        self.lock = threading.Lock()
        self.received = 0
        self.arrived = threading.Event()
        self.accepted = []  # notice ids answered 2xx
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                path = self.path.split("?")[0].strip("/")
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.received += 1
                    n = sink.received
                sink.arrived.set()
                if n == 1 and path == "slow":
                    time.sleep(sink.delay)
                elif n == 1 and path == "never":
                    wait_closed(self.connection, 120)
                    return
                try:
                    self.send_response(202)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    return
                with sink.lock:
                    sink.accepted.append(self.headers.get("X-Tickler-Notice"))

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Drain(unittest.TestCase):
    """A stop, or a reload that retires the notifier, lets the delivery in
    flight finish (its outcome recorded) before the notifier stops: the
    notice is not sent again at the next start or by the new instance."""

    NOW = "2023-03-03T09:00:30"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-drain-")
        self.state = os.path.join(self.tmp, "state")
        self.plugins = os.path.join(self.tmp, "plugins")
        os.mkdir(self.plugins)
        for name in ("webhook", "webhook2"):
            shutil.copy(os.path.join(harness.plugin_dir(), "webhook.so"),
                        os.path.join(self.plugins, name + ".so"))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        self.sink = None
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
            f.write("D1,Drain me,Alpha,03/03/2023,\n")

    def tearDown(self):
        if self.sink:
            self.sink.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, path, plugin="webhook", drain=""):
        with open(os.path.join(self.tmp, "hook.url"), "w") as f:
            f.write("http://127.0.0.1:%d/%s\n" % (self.sink.port, path))
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 1; %s };
notifiers = ( { name = "hook"; plugin = "%s";
                settings = { timeout_seconds = 60;
                             destinations = ( { name = "a"; url_file = "hook.url"; } ); }; } );
teams = ( { id = "a"; name = "Alpha"; recipients = { hook = [ "a" ]; }; } );
""" % (drain, plugin))
        harness.conf_for_backend(self.conf)  # a reload reads it again

    def daemon(self):
        return Daemon(self.conf, self.state, "--now", self.NOW, "-p", self.plugins)

    def outbox(self):
        return harness.outbox(self.conf, self.state)[0]

    def stop_within(self, d, seconds):
        """SIGTERM; asserts ticklerd exits 0 within seconds."""
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(seconds), 0, d.log())

    def start_again(self):
        """Runs ticklerd again until the outbox settles; returns the listing."""
        d = self.daemon()
        try:
            return settle(self, d, self.outbox, 1)
        finally:
            self.stop_within(d, 30)

    def test_stop_waits_for_the_delivery_in_flight(self):
        self.sink = DrainSink(2)
        self.write("slow")
        d = self.daemon()
        self.assertTrue(self.sink.arrived.wait(30 * harness.SLOWDOWN), d.log())
        self.stop_within(d, 30)
        self.assertEqual(len(self.sink.accepted), 1, d.log())
        box = self.start_again()
        self.assertEqual(box[0]["state"], "delivered")
        self.assertEqual(self.sink.received, 1)
        self.assertEqual(self.sink.accepted, [str(box[0]["id"])])
        self.assertRegex(d.log(), r"stopping: waiting at most \d+ s for 1 deliveries in flight")

    def test_a_reload_that_retires_the_notifier_lets_its_delivery_finish(self):
        self.sink = DrainSink(2)
        self.write("slow")
        d = self.daemon()
        try:
            self.assertTrue(self.sink.arrived.wait(30 * harness.SLOWDOWN), d.log())
            self.write("slow", plugin="webhook2")  # another plugin file: not carried over
            mark = len(d.lines)
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("configuration reloaded", after=mark)
            d.wait_for("delivered notice", after=mark)
            time.sleep(2)  # room for a second delivery, were there one
        finally:
            self.stop_within(d, 30)
        box = self.outbox()
        self.assertEqual(box[0]["state"], "delivered", d.log())
        self.assertEqual(self.sink.received, 1, d.log())
        self.assertEqual(self.sink.accepted, [str(box[0]["id"])])
        box = self.start_again()
        self.assertEqual(self.sink.received, 1)

    def test_a_sighup_during_the_stop_s_wait_is_ignored(self):
        """A reload asked for while stopping (logrotate, systemctl reload)
        neither ends the daemon nor cuts the delivery short."""
        self.sink = DrainSink(3)
        self.write("slow")
        d = self.daemon()
        self.assertTrue(self.sink.arrived.wait(30 * harness.SLOWDOWN), d.log())
        d.proc.send_signal(signal.SIGTERM)
        d.wait_for("stopping: waiting at most")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for("stopping: the configuration is not reloaded")
        self.assertEqual(d.wait(30), 0, d.log())
        self.assertEqual(len(self.sink.accepted), 1, d.log())
        box = self.start_again()
        self.assertEqual(box[0]["state"], "delivered")
        self.assertEqual(self.sink.received, 1)

    def test_a_second_sigterm_ends_the_wait(self):
        self.sink = DrainSink(0)
        self.write("never")  # the default wait, 15 s: the second signal ends it
        d = self.daemon()
        self.assertTrue(self.sink.arrived.wait(30 * harness.SLOWDOWN), d.log())
        d.proc.send_signal(signal.SIGTERM)
        d.wait_for("stopping: waiting at most 15 s")
        d.proc.send_signal(signal.SIGTERM)
        d.wait_for("stopping now: the deliveries still in flight are cut short")
        self.assertEqual(d.wait(30), 0, d.log())
        self.assertIn("1 deliveries still in flight are cut short", d.log())
        # who sends them: this daemon's next start, or on a shared state
        # (PostgreSQL) any node that runs, at once: the cut short delivery
        # is recorded as due now, its lease ended
        where = ("shared outbox, due at once for a node that runs (this one at its next start)"
                 if harness.PG else "outbox for the next start")
        self.assertIn("stopping now: the deliveries still in flight are cut short and left in the "
                      + where, d.log())
        box = self.start_again()
        self.assertEqual(box[0]["state"], "delivered")
        self.assertEqual(self.sink.received, 2)

    def test_a_stop_ends_at_the_drain_deadline_then_sends_at_the_next_start(self):
        self.sink = DrainSink(0)
        self.write("never", drain="drain_seconds = 2;")
        d = self.daemon()
        self.assertTrue(self.sink.arrived.wait(30 * harness.SLOWDOWN), d.log())
        self.stop_within(d, 20)
        self.assertIn("1 deliveries still in flight are cut short", d.log())
        self.assertEqual(self.sink.accepted, [])
        box = self.start_again()
        self.assertEqual(box[0]["state"], "delivered")
        self.assertEqual(self.sink.received, 2)
        self.assertEqual(self.sink.accepted, [str(box[0]["id"])])


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


class Refusals(unittest.TestCase):
    """What the core promises when the outbox or a channel cannot keep up:
    nothing is lost, nothing is sent twice, no channel waits for another."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-ref-")
        self.state = os.path.join(self.tmp, "state")
        self.rec = Recorder()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.rec))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        # a peer that accepts connections and never answers, as a hung server
        self.stuck = socket.socket()
        self.stuck.bind(("127.0.0.1", 0))
        self.stuck.listen(256)
        self.held = []
        threading.Thread(target=self._hold, daemon=True).start()

    def _hold(self):
        while True:
            try:
                c, _ = self.stuck.accept()
            except OSError:
                return
            self.held.append(c)

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.stuck.close()
        for c in self.held:
            c.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, notifiers, teams, plan, extra=""):
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 0; };
delivery = { retry_min_seconds = 1; %s };
notifiers = ( %s );
teams = ( %s );
""" % (extra, notifiers, teams))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n" + plan)

    def outbox(self):
        return harness.outbox(self.conf, self.state)[0]

    def test_a_locked_outbox_across_the_send_time_loses_nothing(self):
        names = ["Alpha", "Bravo", "Charlie"]
        for i in range(3):
            with open(os.path.join(self.tmp, "ok%d.url" % i), "w") as f:
                f.write("http://127.0.0.1:%d/ok%d\n" % (self.server.server_address[1], i))
        self.write('{ name = "hook"; plugin = "webhook"; settings = { destinations = ( %s ); }; }'
                   % ", ".join('{ name = "ok%d"; url_file = "ok%d.url"; }' % (i, i)
                               for i in range(3)),
                   ",\n".join('{ id = "t%d"; name = "%s"; recipients = { hook = [ "ok%d" ]; }; }'
                              % (i, n, i) for i, n in enumerate(names)),
                   "".join("R%d,Action %d,%s,03/03/2023,\n" % (i, i, n)
                           for i, n in enumerate(names)))
        started = time.monotonic()
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T08:59:45")
        if harness.PG:
            # another session holds the notices table across 09:00: the
            # round waits for it (PostgreSQL queues the lock, it does not
            # refuse), then every notice is delivered once. The lock is
            # taken once the start's build of the failure sweep's index has
            # ended: a build waits for the transactions older than it, so a
            # session asking for the table meanwhile closes a lock cycle,
            # which PostgreSQL ends by cancelling one side, and the side it
            # picks depends on which waited first
            try:
                d.wait_for("schema version")
                # built, there from before, or not now; an invalid one is
                # dropped and built again first
                i = d.wait_for("failure sweep's index notices_failed")
                while "dropped and built again" in d.lines[i]:
                    i = d.wait_for("failure sweep's index notices_failed", after=i + 1)
                lock = harness.pg_lock(self.conf, "notices", 30)
                # granted: polled, from another session
                while harness.pg_sql(self.conf, "SELECT count(*) FROM pg_locks WHERE relation ="
                                     " 'notices'::regclass AND mode = 'AccessExclusiveLock'"
                                     " AND granted") != "1":
                    if lock.poll() is not None:
                        self.fail("the lock was not held: " + lock.stderr.read())
                    time.sleep(0.05)
                granted = time.monotonic()
                # the premise: the lock is held from before the send time
                # (the daemon's clock was 15 s from 09:00 at its start)
                self.assertLess(granted - started, 15, "the lock came after 09:00:\n" + d.log())
                self.assertEqual(lock.wait(timeout=120), 0, lock.stderr.read())
                lock.stderr.close()
                box = settle(self, d, self.outbox, len(names))
            finally:
                self.assertEqual(d.stop(), 0)
            self.assertNotIn("reminder not sent", d.log())
            self.assertEqual(sorted(n["state"] for n in box), ["delivered"] * 3)
            oks = [r for r in self.rec.requests if r[0].startswith("ok") and r[3] < 300]
            self.assertEqual(sorted(r[2] for r in oks), sorted(str(n["id"]) for n in box))
            # the round waited for the lock: nothing went before it ended
            # (held 30 s from its grant, seen at most a poll's time late)
            self.assertGreaterEqual(min(r[1] for r in oks), granted + 29.5)
            return
        try:
            d.wait_for("started")
            # another process holds the database across 09:00, until ticklerd
            # has been refused (however long that takes), then lets go
            db = sqlite3.connect(os.path.join(self.state, "tickler.db"), isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            d.wait_for("the outbox refused a round", timeout=120)
            db.execute("COMMIT")
            db.close()
            box = settle(self, d, self.outbox, len(names))
        finally:
            self.assertEqual(d.stop(), 0)
        log = d.log()
        self.assertRegex(log, r"the outbox refused a round of 3 reminders \(.*\); they stay "
                              r"scheduled and are tried again in \d+ s")
        self.assertNotIn("reminder not sent", log)
        self.assertEqual(sorted(n["state"] for n in box), ["delivered"] * 3)
        # each accepted exactly once, one per action
        oks = [r for r in self.rec.requests if r[0].startswith("ok") and r[3] < 300]
        self.assertEqual(sorted(r[2] for r in oks), sorted(str(n["id"]) for n in box))
        titles = sorted(json.loads(r[4])["entries"][0]["title"] for r in oks)
        self.assertEqual(titles, ["Action 0", "Action 1", "Action 2"])

    def test_a_hung_channel_holds_up_no_other(self):
        files = os.path.join(self.tmp, "maildir")
        stuck = os.path.join(self.tmp, "stuck.url")
        with open(stuck, "w") as f:
            f.write("http://127.0.0.1:%d/stuck\n" % self.stuck.getsockname()[1])
        dests = ", ".join('{ name = "s%d"; url_file = "stuck.url"; }' % i for i in range(100))
        self.write('{ name = "hook"; plugin = "webhook"; settings = { timeout_seconds = 600; '
                   'destinations = ( %s ); }; },\n'
                   '{ name = "files"; plugin = "maildir"; settings = { path = "%s"; }; }'
                   % (dests, files),
                   # the hung channel's notices are queued first, so they are the oldest
                   '{ id = "a"; name = "Alpha"; recipients = { hook = [ %s ]; }; },\n'
                   '{ id = "b"; name = "Bravo"; recipients = { files = [ %s ]; }; }'
                   % (", ".join('"s%d"' % i for i in range(100)),
                      ", ".join('"officer%d@example.org"' % i for i in range(200))),
                   "R1,Shared action,Alpha / Bravo,03/03/2023,\n", extra="concurrency = 4;")
        # 15 s before the send time: room for a slow start on a loaded machine
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T08:59:45")
        try:
            d.wait_for("started")
            deadline = time.monotonic() + 300
            new = os.path.join(files, "new")
            while not (os.path.isdir(new) and len(os.listdir(new)) >= 200):
                self.assertLess(time.monotonic(), deadline, d.log())
                self.assertIsNone(d.proc.poll(), d.log())
                time.sleep(0.2)
            box = self.outbox()
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual(len(os.listdir(new)), 200)
        by_channel = {}
        for n in box:
            by_channel.setdefault(n["channel"], []).append(n)
        self.assertEqual(len(by_channel["files"]), 200)
        self.assertEqual(len(by_channel["hook"]), 100)
        # the older notices of the hung channel went no further than its
        # room, and none of them completed while the others were delivered
        self.assertTrue(max(n["id"] for n in by_channel["hook"]) <
                        min(n["id"] for n in by_channel["files"]))
        self.assertEqual(sum(n["state"] == "delivered" for n in by_channel["files"]), 200)
        self.assertEqual(sum(n["state"] != "pending" for n in by_channel["hook"]), 0)
        self.assertLessEqual(len(self.held), 4)
        self.assertNotIn("timed out", d.log())


class SendTest(unittest.TestCase):
    """tickler send-test prints a notifier's reply as ticklerd keeps one:
    whatever a third-party plugin hands back (the test notifier's reply
    setting, here), one line of printable UTF-8 that cannot reorder or
    colour the terminal's text after it."""

    def test_a_plugins_reply_is_printed_on_one_clean_line(self):
        tmp = tempfile.mkdtemp(prefix="tickler-sendtest-")
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, "tickler.conf")
        with open(os.path.join(tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\nR1,An action,Alpha,03/03/2030,\n")
        # a terminal's colour escape, a line break and a right-to-left
        # override (U+202E), which would reverse the rest of the line
        with open(conf, "w", encoding="utf-8") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
notifiers = ( { name = "e"; plugin = "echo";
                settings = { reply = "250 \\x1b[31mok\\r\\n\u202e detta \\x1b[0mend"; }; } );
teams = ( { id = "alpha"; name = "Alpha"; recipients = { e = [ "x" ]; }; } );
""")
        p = subprocess.run([tool("tickler"), "-c", conf, "--state-dir", os.path.join(tmp, "state"),
                            "--plugin-dir",
                            os.path.join(harness.BUILD, "tests", "plugins"), "send-test", "e",
                            "--to", "x"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.split("\n")[1:], ["delivered: 250  [31mok  detta  [0mend", ""],
                         p.stdout)


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
delivery = { retry_min_seconds = 1; report_to = "admin"; report_every_seconds = 1;
             concurrency = 2; };
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
        return harness.outbox(self.conf, self.state)[0]

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
        self.assertEqual(msg["Subject"], "Delivery failure: A reminder for Team Reject (1 "
                         "action) could not be delivered to reject@example.org by mail")
        body = msg.get_body(("plain",)).get_content()
        self.assertIn("reject@example.org", body)
        self.assertIn("\r\n    Reply: 127.0.0.1 answered SMTP 550", body)


class Crash(unittest.TestCase):
    """1,000 notices, SIGKILL at 20 random points, restart each time. The
    points are drawn from a seeded random.Random (printed first; replay with
    TICKLER_TEST_SEED or --seed) and most are counted in deliveries, not
    seconds, so a slow machine is killed in the middle of deliveries too.
    A replay draws the same points; where exactly a kill lands inside a
    delivery still depends on the scheduler."""
    N = 1000
    KILLS = 20
    STALL = 60  # seconds without a delivery that count as a hang

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
        if harness.PG:
            if harness.pg_sql(self.conf, "SELECT to_regclass('notices') IS NOT NULL") != "t":
                return 0
            return int(harness.pg_sql(self.conf, "SELECT count(*) FROM notices WHERE state = 1"))
        try:
            db = sqlite3.connect(os.path.join(self.state, "tickler.db"), timeout=10)
            n = db.execute("SELECT count(*) FROM notices WHERE state = 1").fetchone()[0]
            db.close()
            return n
        except sqlite3.Error:
            return 0

    def wait_received(self, d, count, why):
        """Waits until the SMTP server has accepted count messages, or the
        outbox holds every notice as delivered (then no more will come);
        fails if none arrives for STALL seconds."""
        last, since = -1, time.monotonic()
        while True:
            got = len(self.smtp.received())
            if got >= count:
                return
            if got != last:
                last, since = got, time.monotonic()
            elif time.monotonic() - since > 1 and self.delivered() >= self.N:
                return
            if d.proc.poll() is not None:
                self.fail("%s: ticklerd exited with %d; log:\n%s" % (why, d.proc.returncode, d.log()))
            if time.monotonic() - since > self.STALL:
                self.fail("%s: no message for %d s, %d of %d received; log:\n%s"
                          % (why, self.STALL, got, count, d.log()))
            time.sleep(0.005)

    def test_kill_9_loses_nothing(self):
        seed = harness.choose_seed("crash test", ARGS.seed)
        rnd = random.Random(seed)
        in_flight_reported = 0
        logs, points = [], []
        for k in range(self.KILLS):
            d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30", "--log-level", "notice")
            try:
                if rnd.random() < 0.25:
                    # during start-up: filling or recovering the outbox, the
                    # first round
                    delay = rnd.uniform(0.0, 0.8)
                    points.append("%.3f s after the start" % delay)
                    time.sleep(delay)
                else:
                    # during deliveries: once m more messages were accepted,
                    # then a little later, inside the next delivery or the
                    # bookkeeping of the last
                    m, delay = rnd.randint(1, 30), rnd.uniform(0.0, 0.05)
                    points.append("%.3f s after this run's message %d" % (delay, m))
                    self.wait_received(d, len(self.smtp.received()) + m,
                                       "kill %d (seed %d)" % (k + 1, seed))
                    time.sleep(delay)
            finally:
                d.kill()
            logs.append(d.log())
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30", "--log-level", "notice")
        try:
            d.wait_for("started")
            # no deadline on the whole send: it fails if it stops moving
            last, since = -1, time.monotonic()
            while (n := self.delivered()) < self.N:
                if n != last:
                    last, since = n, time.monotonic()
                self.assertLess(time.monotonic() - since, self.STALL,
                                "no delivery for %d s; only %d delivered (seed %d)"
                                % (self.STALL, n, seed))
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
        print("crash test: seed %d, %d kills (%s), %d notices, %d lost, %d duplicates, "
              "%d reported in flight" % (seed, self.KILLS, "; ".join(points), self.N, len(lost),
                                          dups, in_flight_reported), file=sys.stderr)
        why = "seed %d" % seed
        self.assertEqual(lost, [], why)
        self.assertLessEqual(dups, self.KILLS, why)
        self.assertLessEqual(dups, in_flight_reported, why)
        self.assertEqual(self.delivered(), self.N, why)


class CommitCrash(unittest.TestCase):
    """Kills ticklerd at exact points of its group commits: just before the
    Nth (every write of the group made, none durable) and just after it,
    for N = 1..6, one kill a run (TICKLER_TEST_STOP_AT_COMMIT makes the
    daemon stop itself there; the test then sends SIGKILL). The points are
    fixed; only which notices are in flight at them depends on timing. At
    each point, a notice the outbox says was delivered has reached the
    server, and no more notices are marked as being sent than
    delivery.concurrency allows; after the last restart every notice has
    arrived, and no more twice than the notices reported in flight."""
    N = 200
    CONCURRENCY = 4
    POINTS = [(when, n) for n in range(1, 7) for when in ("before", "after")]

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-commit-crash-")
        self.state = os.path.join(self.tmp, "state")
        self.smtp = harness.SmtpSink()
        rcpts = ", ".join('"u%04d@example.org"' % i for i in range(self.N))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 1; concurrency = %d; };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://127.0.0.1:%d"; tls = "none";
                             from = "tickler@council.example"; }; } );
teams = ( { id = "crowd"; name = "Crowd"; recipients = { mail = [ %s ]; }; } );
""" % (self.CONCURRENCY, self.smtp.port, rcpts))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\nC1,Everybody's action,Crowd,03/03/2023,\n")

    def tearDown(self):
        self.smtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def rows(self, where):
        path = os.path.join(self.state, "tickler.db")
        if not os.path.exists(path):
            return []
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
        try:
            return [r[0] for r in db.execute("SELECT recipient FROM notices WHERE " + where)]
        finally:
            db.close()

    def received(self):
        got = {}
        for rcpts, raw in self.smtp.received():
            for r in rcpts:
                got[r] = got.get(r, 0) + 1
        return got

    def deliver_the_rest(self):
        """Runs ticklerd until every notice is delivered (failing when
        deliveries stop moving for 60 s); returns its log."""
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30", "--log-level", "notice")
        try:
            d.wait_for("started")
            last, since = -1, time.monotonic()
            while (k := len(self.rows("state = 1"))) < self.N:
                if k != last:
                    last, since = k, time.monotonic()
                self.assertLess(time.monotonic() - since, 60, "only %d delivered" % k)
                time.sleep(0.2)
        finally:
            self.assertEqual(d.stop(), 0)
        return d.log()

    def stopped(self, pid):
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"

    def test_a_kill_between_group_commits_loses_nothing(self):
        if harness.PG:
            self.skipTest("the kill points are the SQLite outbox's group commits; on PostgreSQL "
                          "kills at random instants are integration_ha_pg's")
        logs = []
        for when, n in self.POINTS:
            env = dict(os.environ, TICKLER_TEST_STOP_AT_COMMIT="%s:%d" % (when, n))
            d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30",
                       "--log-level", "notice", env=env)
            try:
                d.wait_for("stopped for the test just %s group commit %d" % (when, n))
                while not self.stopped(d.proc.pid):
                    time.sleep(0.01)
                got = self.received()
                delivered = self.rows("state = 1")
                self.assertEqual([r for r in delivered if r not in got], [],
                                 "%s commit %d: marked delivered, never received" % (when, n))
                self.assertLessEqual(len(self.rows("sending = 1")), self.CONCURRENCY,
                                     "%s commit %d" % (when, n))
            finally:
                d.kill()
            logs.append(d.log())
        logs.append(self.deliver_the_rest())
        in_flight = sum(int(m.group(1)) for log in logs
                        for m in re.finditer(r"(\d+) notices were in flight", log))
        got = self.received()
        lost = [i for i in range(self.N) if got.get("u%04d@example.org" % i, 0) == 0]
        dups = sum(v - 1 for v in got.values())
        print("commit crash test: %d kills, %d notices, %d lost, %d duplicates, %d reported in "
              "flight" % (len(self.POINTS), self.N, len(lost), dups, in_flight), file=sys.stderr)
        self.assertEqual(lost, [])
        self.assertLessEqual(dups, in_flight)
        self.assertLessEqual(dups, len(self.POINTS) * self.CONCURRENCY)

    def test_a_stop_between_the_parts_of_a_round_loses_nothing(self):
        # a round of more notices than a part (256) is committed a part at
        # a time; stopped (SIGTERM) once its first part is durable, the
        # daemon leaves the rest scheduled and the next start queues it
        if harness.PG:
            self.skipTest("the stop point is the SQLite outbox's group commit")
        self.N = 600
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(re.sub(r"recipients = \{ mail = \[ .* \]; \};",
                           "recipients = { mail = [ %s ]; };" % ", ".join(
                               '"u%04d@example.org"' % i for i in range(self.N)), text))
        env = dict(os.environ, TICKLER_TEST_STOP_AT_COMMIT="after:1")
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30", "--log-level", "notice",
                   env=env)
        try:
            d.wait_for("stopped for the test just after group commit 1")
            while not self.stopped(d.proc.pid):
                time.sleep(0.01)
            self.assertEqual(len(self.rows("1")), 256)  # one part durable, and only it
            d.proc.send_signal(signal.SIGTERM)
            d.proc.send_signal(signal.SIGCONT)
            self.assertEqual(d.wait(), 0)
        finally:
            if d.proc.poll() is None:
                d.kill()
        first = d.log()
        m = re.search(r"stopping with (\d+) notices of a queue round in the outbox; the round's "
                      r"reminders \((\d+)\) stay scheduled, and the next start queues the rest", first)
        self.assertIsNotNone(m, first)
        print("stop part-way: %s" % m.group(0), file=sys.stderr)
        self.assertLess(int(m.group(1)), self.N)
        self.assertEqual(len(self.rows("1")), int(m.group(1)))
        last = self.deliver_the_rest()
        self.assertEqual(len(self.rows("1")), self.N)  # each notice queued once
        in_flight = sum(int(m.group(1)) for log in (first, last)
                        for m in re.finditer(r"(\d+) notices were in flight", log))
        got = self.received()
        lost = [i for i in range(self.N) if got.get("u%04d@example.org" % i, 0) == 0]
        self.assertEqual(lost, [])
        # a stop cancels what is in flight: at most those are sent again
        self.assertLessEqual(sum(v - 1 for v in got.values()), self.CONCURRENCY + in_flight)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--seed", type=int, help="replay the crash test's random kill points "
                    "(default: $%s, else a fresh seed, printed)" % harness.SEED_ENV)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
