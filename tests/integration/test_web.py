#!/usr/bin/env python3
"""ticklerd's web face against real clients: curl's conditional GETs on the
calendar feed, the feed parsed by python3-icalendar with stable UIDs,
/metrics accepted by promtool and moving after deliveries to a real HTTP
sink, /status rendered by headless Chromium (a screenshot is kept) with
the counts `tickler actions --json` gives, /healthz 503 while another
process locks the outbox, plan text escaped and no secret on any page,
socket activation, and a bounded load test: 50 connections fetching the
feed and the metrics while 1,000 notices are delivered, and a client that
sends nothing closed at the timeout without holding anyone up; and the
page a notice's link opens: fetched three times with curl it changes
nothing, a tampered, expired, retired-key or other action's link gets its
4xx page, a POST without the page's Origin records nothing, a good one
records one update and its repeat nothing more, the rate limit answers
429, and no token reaches the log."""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
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
CANARY = "s3cr3t-CANARY-93ab"


def curl(url, *args):
    """(status, headers dict lower-cased, body bytes) from the curl tool."""
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", "--max-time", "30", *args, url],
                       capture_output=True, check=True)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


class Sink:
    """A real HTTP server taking the webhook's POSTs: counts each notice."""

    def __init__(self):
        self.lock = threading.Lock()
        self.notices = {}
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                nid = self.headers.get("X-Tickler-Notice")
                with sink.lock:
                    sink.notices[nid] = sink.notices.get(nid, 0) + 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def count(self):
        with self.lock:
            return dict(self.notices)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class CommitCut:
    """A TCP proxy to PostgreSQL that loses the connection once, right after
    the database committed the transaction holding a statement: the first
    connection whose client binds the prepared statement named statement is
    cut, on both sides, when the server's ReadyForQuery for the Sync after
    that Bind arrives (so the COMMIT before it has been done), without
    passing that answer on. Later connections are passed through whole. The
    protocol is read only as far as counting messages: the client's first
    message is its startup packet (no SSL, no GSS: sslmode=disable), every
    other has a type byte and a length."""

    def __init__(self, pg_port, statement):
        self.pg_port = pg_port
        self.statement = statement.encode() + b"\0"
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.pg_port))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    @staticmethod
    def _messages(buf, typed=True):
        """The complete messages at the start of buf: ([(type, payload)], the rest)."""
        out = []
        while True:
            head = 5 if typed else 4
            if len(buf) < head:
                return out, buf
            n = int.from_bytes(buf[head - 4:head], "big")
            if len(buf) < head - 4 + n:
                return out, buf
            out.append((buf[0:1] if typed else b"", buf[head:head - 4 + n]))
            buf = buf[head - 4 + n:]
            if not typed:
                typed = True

    def _pump(self, client, server):
        import select
        cbuf, sbuf = b"", b""
        started = False  # the client's startup packet read
        syncs = 0
        readies = -1  # the first ReadyForQuery ends the startup, answering no Sync
        target = None  # the count of ReadyForQuery that answers the statement's Sync
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [])
                if client in ready:
                    data = client.recv(65536)
                    if not data:
                        return
                    server.sendall(data)
                    cbuf += data
                    msgs, cbuf = self._messages(cbuf, typed=started)
                    started = started or bool(msgs)
                    for kind, payload in msgs:
                        if kind == b"B" and target is None and not self.cut.is_set():
                            portal_end = payload.index(b"\0") + 1
                            if payload[portal_end:].startswith(self.statement):
                                target = syncs + 1
                        elif kind == b"S":
                            syncs += 1
                if server in ready:
                    data = server.recv(65536)
                    if not data:
                        return
                    sbuf += data
                    msgs, sbuf = self._messages(sbuf)
                    readies += sum(1 for kind, _ in msgs if kind == b"Z")
                    if target is not None and readies >= target and not self.cut.is_set():
                        self.cut.set()
                        return
                    client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-web-")
        self.state = os.path.join(self.tmp, "state")
        self.port = harness.free_port()
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        shutil.rmtree(self.tmp, ignore_errors=True)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, *args):
        return curl(self.url(path), *args)

    def start(self, *extra, conf=None, ready=True):
        """Starts ticklerd; unless told otherwise, returns once its pages
        can answer (wait_shared_ready)."""
        self.daemon = Daemon(conf or self.conf, self.state, *extra)
        self.daemon.wait_for("started")
        self.daemon.wait_for("web face on 127.0.0.1:%d" % self.port)
        if harness.PG and ready:
            self.wait_shared_ready(self.get)
        return self.daemon

    def wait_shared_ready(self, get):
        """On PostgreSQL the pages that read the shared state answer 503
        until the node has connected, set up the schema and read the
        outbox once; waits (60 s at most) until /healthz and /outbox say
        so, as an operator's readiness check would."""
        deadline = harness.deadline(60)
        for path in ("/healthz", "/outbox"):
            while get(path)[0] == 503:
                self.assertLess(time.monotonic(), deadline, self.daemon.log()[-3000:])
                time.sleep(0.2)

    def sample(self):
        self.conf = harness.copy_sample(ARGS.source, self.tmp, self.port)
        self.plan = os.path.join(self.tmp, "sample-plan.csv")

    def webhook_conf(self, n_destinations, plan_rows, extra=""):
        """A configuration delivering one action to n webhook destinations
        on the sink, with the web face on self.port."""
        with open(os.path.join(self.tmp, "sink.url"), "w") as f:
            f.write("http://127.0.0.1:%d/hook?key=%s\n" % (self.sink.port, CANARY))
        dests = ", ".join('{ name = "d%d"; url_file = "sink.url"; }' % i
                          for i in range(n_destinations))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 0; };
delivery = { retry_min_seconds = 1; %s };
http = { listen = [ "127.0.0.1:%d" ]; };
notifiers = ( { name = "hook"; plugin = "webhook"; settings = { destinations = ( %s ); }; } );
teams = ( { id = "alpha"; name = "Alpha"; recipients = { hook = [ %s ]; }; } );
""" % (extra, self.port, dests, ", ".join('"d%d"' % i for i in range(n_destinations))))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n" + plan_rows)


class Calendar(Fixture):
    def test_conditional_gets_then_a_changed_calendar(self):
        self.sample()
        self.start()
        status, h, body = self.get("/calendar.ics")
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/calendar; charset=utf-8")
        etag, modified = h["etag"], h["last-modified"]
        self.assertTrue(body.startswith(b"BEGIN:VCALENDAR\r\n"))
        status, h, body = self.get("/calendar.ics", "-H", "If-None-Match: " + etag)
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(h["etag"], etag)
        status, _, _ = self.get("/calendar.ics", "-H", "If-Modified-Since: " + modified)
        self.assertEqual(status, 304)
        # the comms team renames an observance in the calendar file
        path = os.path.join(self.tmp, "calendars", "local.ics")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        changed = re.sub(r"\nSUMMARY:[^\r\n]*", "\nSUMMARY:Renamed by the comms team", text, count=1)
        self.assertNotEqual(changed, text)
        with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
            f.write(changed)
        os.rename(path + ".tmp", path)
        deadline = time.monotonic() + 60
        while True:  # until ticklerd has read the file again, however long
            status, h, body = self.get("/calendar.ics", "-H", "If-None-Match: " + etag)
            if status != 304 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertEqual(status, 200, self.daemon.log())
        self.assertNotEqual(h["etag"], etag)
        self.assertIn(b"SUMMARY:Renamed by the comms team", body)
        self.assertGreaterEqual(time.mktime(time.strptime(h["last-modified"], "%a, %d %b %Y %H:%M:%S GMT")),
                                time.mktime(time.strptime(modified, "%a, %d %b %Y %H:%M:%S GMT")))

    def test_a_calendar_whose_events_stay_the_same_next_day_is_answered_304(self):
        # the window moves on a day; the observances in it do not change
        # (none enters two years ahead of 3 March 2026 or leaves a year back)
        self.sample()
        self.start("--now", "2026-03-02T08:00")
        status, h, first = self.get("/calendar.ics")
        self.assertEqual(status, 200)
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        self.start("--now", "2026-03-03T08:00")
        status, h2, body = self.get("/calendar.ics", "-H", "If-None-Match: " + h["etag"])
        self.assertEqual((status, body), (304, b""), self.daemon.log()[-2000:])
        status, h2, second = self.get("/calendar.ics")
        self.assertEqual((status, h2["etag"], h2["last-modified"]),
                         (200, h["etag"], h["last-modified"]))
        self.assertEqual(second, first)  # DTSTAMPs included

    def test_the_feed_is_valid_with_uids_stable_across_refreshes(self):
        from icalendar import Calendar as ICal
        self.sample()
        d = self.start()
        _, _, first = self.get("/calendar.ics")
        cal = ICal.from_ical(first)
        self.assertEqual(str(cal["VERSION"]), "2.0")
        self.assertIn("REFRESH-INTERVAL", cal)
        self.assertIn("X-PUBLISHED-TTL", cal)
        events = cal.walk("VEVENT")
        self.assertGreater(len(events), 50)
        today = time.time() // 86400
        uids = set()
        for ev in events:
            for key in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
                self.assertIn(key, ev)
            uids.add(str(ev["UID"]))
            # every event touches the window: a year back, two years ahead
            start = time.mktime(ev.decoded("DTSTART").timetuple()) // 86400
            end = time.mktime(ev.decoded("DTEND").timetuple()) // 86400  # exclusive
            self.assertGreaterEqual(end, today - 366)
            self.assertLessEqual(start, today + 732)
        self.assertEqual(len(uids), len(events), "UIDs are not unique")
        # a reload (SIGHUP) and a second fetch: the same events, the same UIDs
        n = len(d.lines)
        d.proc.send_signal(1)
        d.wait_for("configuration reloaded", after=n)
        _, _, second = self.get("/calendar.ics")
        self.assertEqual({str(e["UID"]) for e in ICal.from_ical(second).walk("VEVENT")}, uids)
        self.assertEqual(first, second)
        # one protected characteristic: only its events, each one of the whole feed
        status, h, body = self.get("/calendar/sexual-orientation.ics")
        self.assertEqual(status, 200)
        part = ICal.from_ical(body).walk("VEVENT")
        self.assertGreater(len(part), 0)
        self.assertLess(len(part), len(events))
        for ev in part:
            self.assertIn(str(ev["UID"]), uids)
            self.assertEqual(str(ev["CATEGORIES"].cats[0]).lower(), "sexual orientation")
        # a category no observance has is an empty calendar, not a 404 (a
        # subscriber's client would keep the events of a category emptied)
        status, h, body = self.get("/calendar/no-such-thing.ics")
        self.assertEqual((status, h["content-type"]), (200, "text/calendar; charset=utf-8"))
        self.assertEqual(list(ICal.from_ical(body).walk("VEVENT")), [])

    def test_the_council_s_own_name_on_its_calendar(self):
        """calendar.title names the calendar a comms lead subscribes to,
        beside other councils' calendars: in the feed's X-WR-CALNAME, on the
        index, on the printable page and in `tickler calendar`, and the
        file a download saves (Content-Disposition, the title's own
        characters in filename* when they are not plain ASCII); a reload
        renames it."""
        from icalendar import Calendar as ICal
        self.sample()
        title = "Maidstone Borough Council, equality; dates"
        with open(self.conf, "a") as f:
            f.write('calendar = { title = "%s"; };\n' % title)
        d = self.start()
        status, h, body = self.get("/calendar.ics")
        self.assertEqual(status, 200)
        self.assertIn(b"\r\nX-WR-CALNAME:Maidstone Borough Council\\, equality\\; dates\r\n",
                      body)
        self.assertEqual(str(ICal.from_ical(body)["X-WR-CALNAME"]), title)
        self.assertEqual(h["content-disposition"],
                         'inline; filename="maidstone-borough-council-equality-dates.ics"')
        _, hc, body = self.get("/calendar/sexual-orientation.ics")
        self.assertEqual(str(ICal.from_ical(body)["X-WR-CALNAME"]),
                         title + ": sexual orientation")
        self.assertEqual(hc["content-disposition"], 'inline; filename="maidstone-borough-council-'
                         'equality-dates-sexual-orientation.ics"')
        _, _, page = self.get("/calendar.html")
        self.assertRegex(page.decode(), r"<h1>%s \d{4}</h1>" % re.escape(title))
        _, _, index = self.get("/")
        self.assertIn("<h2>%s</h2>" % title, index.decode())
        p = subprocess.run([tool("tickler"), "-c", self.conf, "calendar", "--format", "ics"],
                           capture_output=True, check=True)
        self.assertEqual(str(ICal.from_ical(p.stdout)["X-WR-CALNAME"]), title)
        # renamed: the feed changes (a new entity tag) at the reload, and
        # so does the name of the file a download saves
        renamed = "Kent \u00e9galit\u00e9 dates \u2013 2027"
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace(title, renamed))
        n = len(d.lines)
        d.proc.send_signal(1)
        d.wait_for("configuration reloaded", after=n)
        status, h2, body = self.get("/calendar.ics", "-H", "If-None-Match: " + h["etag"])
        self.assertEqual(status, 200)
        self.assertNotEqual(h2["etag"], h["etag"])
        self.assertEqual(str(ICal.from_ical(body)["X-WR-CALNAME"]), renamed)
        self.assertEqual(h2["content-disposition"],
                         "inline; filename=\"kent-galit-dates-2027.ics\"; "
                         "filename*=UTF-8''Kent%20%C3%A9galit%C3%A9%20dates%20%E2%80%93%202027.ics")
        _, hc, _ = self.get("/calendar/sexual-orientation.ics")
        self.assertEqual(hc["content-disposition"],
                         "inline; filename=\"kent-galit-dates-2027-sexual-orientation.ics\"; "
                         "filename*=UTF-8''Kent%20%C3%A9galit%C3%A9%20dates%20%E2%80%93%202027-"
                         "sexual-orientation.ics")
        # filename*, which a user agent takes before filename (RFC 6266
        # 4.3), decodes to the title's own characters
        import urllib.parse
        ext = h2["content-disposition"].split("filename*=UTF-8''", 1)[1]
        self.assertEqual(urllib.parse.unquote(ext, errors="strict"), renamed + ".ics")

    def test_the_index_offers_a_webcal_link_to_each_feed(self):
        """Beside each address to paste, the index links the same feed as
        webcal://, which Outlook and Apple Calendar open as a subscribe
        dialog; the address it names is the feed."""
        from icalendar import Calendar as ICal
        self.sample()
        self.start()
        status, _, body = self.get("/")
        self.assertEqual(status, 200)
        index = body.decode()
        self.assertIn("Subscribe from web", index)
        base = "127.0.0.1:%d/" % self.port
        webcal = re.findall(r'<a href="(webcal://[^"]*)">subscribe</a>', index)
        self.assertIn("webcal://%scalendar.ics" % base, webcal)
        self.assertIn("webcal://%scalendar/sexual-orientation.ics" % base, webcal)
        pasted = re.findall(r'<li><a href="(http://[^"]*\.ics)">', index)
        self.assertEqual(["webcal://" + u[len("http://"):] for u in pasted], webcal)
        for link in webcal:  # fetched as a calendar client fetches it
            status, h, feed = curl("http://" + link[len("webcal://"):])
            self.assertEqual((status, h["content-type"]), (200, "text/calendar; charset=utf-8"))
            self.assertTrue(str(ICal.from_ical(feed)["X-WR-CALNAME"]).startswith(
                "Diversity calendar"))

    def test_the_printable_page(self):
        self.sample()
        self.start()
        status, h, body = self.get("/calendar.html")
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")
        page = body.decode()
        self.assertRegex(page, r"@page\s*\{[^}]*size:\s*A4")
        self.assertIn("Black History Month", page)
        self.assertEqual(self.get("/calendar.html?year=12")[0], 400)


def metric(text, name, **labels):
    """The value of one sample of the exposition text, or None."""
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted(p for p in re.findall(r'[a-zA-Z_]+="(?:[^"\\]|\\.)*"', m.group(2) or "")))
        if got == want:
            return float(m.group(3))
    return None


class Metrics(Fixture):
    def setUp(self):
        super().setUp()
        self.sink = Sink()

    def tearDown(self):
        super().tearDown()
        self.sink.stop()

    def promtool(self, text):
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + "\n" + text)

    def test_promtool_accepts_them_and_the_counters_move(self):
        self.webhook_conf(5, "R1,Action one,Alpha,03/03/2023,\n")
        # scraped before the send time two seconds on: not waiting for the
        # database's readiness first
        self.start("--now", "2023-03-03T08:59:58", ready=False)
        status, h, before = self.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        self.promtool(before.decode())
        deadline = harness.deadline(120)
        while len(self.sink.count()) < 5:
            self.assertLess(time.monotonic(), deadline, self.daemon.log())
            time.sleep(0.2)
        deadline = harness.deadline(60)
        while True:  # the outcomes are recorded just after the sink answers
            after = self.get("/metrics")[2].decode()
            # on PostgreSQL the outbox gauges show the shared outbox as last
            # read, a read being queued by each scrape (docs/ha.md)
            if (metric(after, "tickler_notifications_total", channel="hook") == 5 and
                    metric(after, "tickler_outbox_notices", state="delivered") == 5) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.promtool(after)
        self.assertEqual(metric(before.decode(), "tickler_notifications_total", channel="hook") or 0, 0)
        self.assertEqual(metric(after, "tickler_notifications_total", channel="hook"), 5)
        self.assertEqual(metric(after, "tickler_notification_requests_total", channel="hook"), 5)
        self.assertEqual(metric(after, "tickler_notification_latency_seconds_count", channel="hook"), 5)
        self.assertEqual(metric(after, "tickler_outbox_notices", state="delivered"), 5)
        self.assertEqual(metric(after, "tickler_outbox_notices", state="pending"), 0)
        self.assertEqual(metric(after, "tickler_outbox_oldest_pending_age_seconds"), 0)
        if harness.PG:  # each node says which it is (docs/ha.md)
            self.assertIsNotNone(re.search(r'^tickler_node_info\{node="[^"]+",'
                                           r'backend="postgresql"\} 1$', after, re.M), after)
        self.assertGreaterEqual(metric(after, "tickler_http_requests_total", path="/metrics",
                                       code="200"), 1)
        self.assertIsNotNone(re.search(r'^tickler_build_info\{.*version="[^"]+".*\} 1$', after, re.M))
        self.assertNotIn(CANARY, after)
        self.assertNotIn("127.0.0.1:%d" % self.sink.port, after)


class Health(Fixture):
    def test_503_while_another_process_locks_the_outbox(self):
        self.sample()
        self.start()
        if harness.PG:
            # the state is PostgreSQL's (start waited until it was ready):
            # a lock on the node's SQLite file is none of its business
            db = sqlite3.connect(os.path.join(self.state, "tickler.db"), isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            try:
                self.assertEqual(self.get("/healthz")[0:3:2], (200, b"ok\n"))
            finally:
                db.execute("COMMIT")
                db.close()
            return
        self.assertEqual(self.get("/healthz")[0:3:2], (200, b"ok\n"))
        db = sqlite3.connect(os.path.join(self.state, "tickler.db"), isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        try:
            status, _, body = self.get("/healthz")
        finally:
            db.execute("COMMIT")
            db.close()
        self.assertEqual(status, 503)
        self.assertEqual(body, b"outbox locked by another process\n")
        self.assertEqual(self.get("/healthz")[0], 200)


class Safety(Fixture):
    def setUp(self):
        super().setUp()
        self.sink = Sink()

    def tearDown(self):
        super().tearDown()
        self.sink.stop()

    def test_plan_text_is_escaped_and_no_secret_shows(self):
        title = '<script>alert(1)</script> & "quoted" </td>'
        self.webhook_conf(1, 'R1,"%s",Alpha,03/03/2030,\n' % title.replace('"', '""'))
        self.start()
        for path in ("/", "/status", "/status.json", "/outbox", "/metrics", "/calendar.ics",
                     "/calendar.html", "/healthz", "/status?state=on-track"):
            status, h, body = self.get(path)
            self.assertEqual(status, 200, path)
            self.assertIn("default-src 'none'", h["content-security-policy"])
            self.assertEqual(h["x-content-type-options"], "nosniff")
            for secret in (CANARY, "127.0.0.1:%d" % self.sink.port):
                self.assertNotIn(secret.encode(), body, path)
                self.assertNotIn(secret, json.dumps(h), path)
            if h["content-type"].startswith("text/html"):
                self.assertNotIn(b"<script", body, path)
        page = self.get("/status")[2].decode()
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;", page)
        doc = json.loads(self.get("/status.json")[2])
        self.assertIn(title, [a["title"] for a in doc["actions"]])
        # nothing but GET and HEAD
        for method in ("POST", "PUT", "DELETE"):
            status, h, _ = self.get("/status", "-X", method, "--data", "x=1")
            self.assertEqual(status, 405, method)
            self.assertEqual(h["allow"], "GET, HEAD")
        self.assertEqual(self.get("/status?team=%0a")[0], 400)
        self.assertEqual(self.get("/status?bogus=1")[0], 400)
        self.assertEqual(self.get("/nothing")[0], 404)
        self.assertNotIn(CANARY, self.daemon.log())


class Sockets(Fixture):
    def test_sockets_from_systemd_are_served(self):
        self.sample()  # listens on self.port unless given sockets
        given = harness.free_port()
        self.daemon = Daemon(self.conf, self.state, wrapper=(
            "systemd-socket-activate", "-l", "127.0.0.1:%d" % given))
        # it starts ticklerd at the first connection, which ticklerd then answers
        self.daemon.wait_for("Listening on 127.0.0.1:%d" % given)
        given_get = lambda path: curl("http://127.0.0.1:%d%s" % (given, path))
        if harness.PG:  # the first connection may come before the database's
            self.wait_shared_ready(given_get)
        status, _, body = given_get("/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        self.daemon.wait_for("web face on 127.0.0.1:%d (sockets from systemd)" % given)
        with self.assertRaises(subprocess.CalledProcessError):
            self.get("/healthz")  # http.listen is not used


def chromium(*args):
    """Runs Debian's chromium headless; returns its stdout."""
    p = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                        *args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("chromium failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    return p.stdout


class Status(Fixture):
    def test_chromium_shows_the_counts_tickler_actions_gives(self):
        self.sample()
        self.start()  # today, as `tickler actions` reads it
        p = subprocess.run([tool("tickler"), "-c", self.conf, "actions", "--json"],
                           capture_output=True, text=True, check=True)
        want = {}
        for a in json.loads(p.stdout):
            if a["standing"]:
                want[a["standing"]] = want.get(a["standing"], 0) + 1
        self.assertGreater(sum(want.values()), 30)
        doc = json.loads(self.get("/status.json")[2])
        summary = dict(doc["summary"])
        self.assertEqual(summary.pop("total"), sum(want.values()))
        self.assertEqual({k: v for k, v in summary.items() if v}, want)
        # what a person sees: the page as Chromium renders it
        out = os.path.join(os.path.abspath(ARGS.build), "test-output")
        os.makedirs(out, exist_ok=True)
        for name, size in (("status-phone.png", "390,2400"), ("status-desktop.png", "1280,1600")):
            shot = os.path.join(out, name)
            if os.path.exists(shot):
                os.unlink(shot)
            chromium("--screenshot=" + shot, "--window-size=" + size, self.url("/status"))
            with open(shot, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            print("\nscreenshot of /status: %s" % shot, file=sys.stderr)
        dom = chromium("--dump-dom", self.url("/status"))
        shown = {m.group(1): int(m.group(2)) for m in re.finditer(
            r'<li class="([a-z-]+)"><a [^>]*>[^<]*\((\d+)\)</a></li>', dom)}
        self.assertEqual({k: v for k, v in shown.items() if v}, want)
        # a filter by state lists only those actions
        overdue = json.loads(self.get("/status.json?state=overdue")[2])["actions"]
        self.assertEqual(len(overdue), want.get("overdue", 0))
        self.assertEqual({a["standing"] for a in overdue}, {"overdue"} if overdue else set())
        self.assertEqual(self.get("/status?state=late")[0], 400)


class Reload(Fixture):
    def test_a_web_face_added_by_a_reload_starts(self):
        self.sample()
        with open(self.conf) as f:
            text = f.read()
        group = text[text.index("http = {"):text.index("};", text.index("http = {")) + 2]
        with open(self.conf, "w") as f:
            f.write(text.replace(group, ""))
        self.daemon = Daemon(self.conf, self.state)
        n = self.daemon.wait_for("started")
        self.assertNotIn("web face on", self.daemon.log())
        with self.assertRaises(subprocess.CalledProcessError):
            self.get("/healthz")
        with open(self.conf, "w") as f:
            f.write(text)
        harness.conf_for_backend(self.conf)
        self.daemon.proc.send_signal(1)
        self.daemon.wait_for("web face on 127.0.0.1:%d" % self.port, after=n)
        if harness.PG:
            self.wait_shared_ready(self.get)
        self.assertEqual(self.get("/healthz")[0], 200)

    def test_a_changed_state_group_waits_for_the_restart_on_every_page(self):
        self.sample()
        self.start()
        _, _, before = self.get("/metrics")
        backend = re.search(rb'tickler_node_info\{[^}]*backend="(\w+)"', before).group(1)
        self.assertEqual(self.get("/outbox")[0], 200)
        # the other backend, which the reload only warns of
        with open(self.conf) as f:
            text = f.read()
        if harness.PG:
            text = text.replace('backend = "postgresql";', 'backend = "sqlite";')
        else:
            conninfo = os.path.join(self.tmp, "conninfo")
            with open(conninfo, "w") as f:
                f.write("host=127.0.0.1 port=1 dbname=none\n")
            os.chmod(conninfo, 0o600)
            text += '\nstate = { backend = "postgresql"; conninfo_file = "%s"; };\n' % conninfo
        with open(self.conf, "w") as f:
            f.write(text)
        n = len(self.daemon.lines)
        self.daemon.proc.send_signal(1)
        self.daemon.wait_for("configuration reloaded", after=n)
        self.assertIn("the state group changed", self.daemon.log())
        # the pages still show the state in force
        status, _, body = self.get("/outbox")
        self.assertEqual(status, 200, body)
        _, _, after = self.get("/metrics")
        self.assertIn(b'backend="%s"' % backend, after)
        self.assertIn(b"tickler_outbox_notices{", after)


class Load(Fixture):
    """Bounded, on loopback: not a benchmark (bench/ measures); asserts that
    nothing fails and nothing is lost while the face is busy."""

    def setUp(self):
        super().setUp()
        self.sink = Sink()

    def tearDown(self):
        super().tearDown()
        self.sink.stop()

    def client(self, stop, results):
        """One keep-alive connection fetching the feed and the metrics in
        turn until stop is set; appends (ok, failures). As every HTTP client
        does (RFC 9112 9.3.1), a GET on a kept connection the server closed
        as idle meanwhile (this thread not run for the idle timeout on a
        loaded machine) is sent again once on a new connection."""
        ok, failures, conn, used = 0, [], None, 0
        paths = ("/calendar.ics", "/metrics")
        while not stop.is_set():
            for attempt in (1, 2):
                try:
                    if conn is None:
                        conn, used = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                timeout=60), 0
                    conn.request("GET", paths[ok % 2])
                    r = conn.getresponse()
                    body = r.read()
                    used += 1
                    if r.status == 200 and body:
                        ok += 1
                    else:
                        failures.append("status %d" % r.status)
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError,
                        BrokenPipeError) as e:
                    conn.close()
                    retry = used > 0 and attempt == 1
                    conn = None
                    if not retry:
                        failures.append(repr(e))
                        break
                except (OSError, http.client.HTTPException) as e:
                    failures.append(repr(e))
                    conn = None
                    break
        if conn is not None:
            conn.close()
        results.append((ok, failures))

    def test_50_connections_while_1000_notices_are_delivered(self):
        self.webhook_conf(1000, "R1,Action one,Alpha,03/03/2023,\n", extra="concurrency = 8;")
        # room for 50 clients from one address; an idle timeout well past the
        # seconds a queue round of 1,000 notices holds the loop
        with open(self.conf) as f:
            text = f.read()
        text = text.replace(
            'http = { listen = [ "127.0.0.1:%d" ]; };' % self.port,
            'http = { listen = [ "127.0.0.1:%d" ]; max_connections = 100; '
            'max_connections_per_ip = 60; timeout_seconds = 10; };' % self.port)
        with open(self.conf, "w") as f:
            f.write(text)
        # the load starts before the send time: not waiting for readiness
        self.start("--now", "2023-03-03T08:59:55", "--log-level", "info", ready=False)
        # a client that connects and sends nothing (slowloris)
        silent = socket.create_connection(("127.0.0.1", self.port))
        silent.settimeout(120)
        stop, results = threading.Event(), []
        threads = [threading.Thread(target=self.client, args=(stop, results)) for _ in range(50)]
        for t in threads:
            t.start()
        started = time.monotonic()
        try:
            closed = silent.recv(1) == b""  # the server closes it at its timeout
        except OSError:
            closed = True
        time.sleep(max(0, 20 - (time.monotonic() - started)))  # the span of the load
        stop.set()
        for t in threads:
            t.join()
        silent.close()
        deadline = time.monotonic() + 300
        while len(self.sink.count()) < 1000:
            self.assertLess(time.monotonic(), deadline, "%d of 1000 delivered" % len(self.sink.count()))
            time.sleep(0.2)
        box = harness.outbox(self.conf, self.state)[0]
        ok = sum(r[0] for r in results)
        failures = [f for r in results for f in r[1]]
        print("\nload: %d requests answered by 50 connections in 20 s, %d failed"
              % (ok, len(failures)), file=sys.stderr)
        self.assertTrue(closed, "the silent connection was never closed")
        self.assertEqual(failures, [])
        self.assertTrue(all(r[0] > 0 for r in results), "a client was never answered")
        counts = self.sink.count()
        self.assertEqual(len(counts), 1000)
        self.assertEqual(set(counts.values()), {1}, "a notice arrived twice")
        self.assertEqual(len(box), 1000)
        self.assertEqual({n["state"] for n in box}, {"delivered"})


def mint(key_hex, key_id, action, recipient, issued, expires):
    """A link token as daemon/token/token.h lays it out: version 1, the key
    id, action id and recipient each after its length, issue and expiry
    times (8 bytes each, big-endian), and the HMAC-SHA256 under the key over
    "tickler-link" with its NUL and all of that; base64url, no padding."""
    def field(s):
        b = s.encode()
        return bytes([len(b)]) + b
    payload = (bytes([1]) + field(key_id) + field(action) + field(recipient) +
               int(issued).to_bytes(8, "big") + int(expires).to_bytes(8, "big"))
    mac = hmac.new(bytes.fromhex(key_hex), b"tickler-link\0" + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")


class Links(Fixture):
    """/a/<token> on a running ticklerd with links configured."""
    K1 = "a1" * 32
    K0 = "b2" * 40  # the key being retired

    def setUp(self):
        super().setUp()
        for name, key in (("k1.key", self.K1), ("k0.key", self.K0)):
            with open(os.path.join(self.tmp, name), "w") as f:
                f.write(key + "\n")
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "A1,Publish the pay gap report,Alpha,31/03/2031,In progress\n"
                    "A2,Train every manager,Alpha,30/06/2031,In progress\n")
        self.conf = os.path.join(self.tmp, "tickler.conf")
        self.write_conf(keys=("k1", "k0"))
        self.tokens = []

    def write_conf(self, keys):
        entries = ", ".join('{ id = "%s"; file = "%s.key"; }' % (k, k) for k in keys)
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 0; };
http = { listen = [ "127.0.0.1:%d" ]; };
links = { keys = ( %s ); };
notifiers = ( { name = "mail"; plugin = "maildir"; settings = { path = "mail"; }; } );
teams = ( { id = "alpha"; name = "Alpha"; recipients = { mail = [ "alpha@example.org" ]; }; } );
""" % (self.port, entries))

    def report_to(self, address):
        """Adds the team EDI, whose recipient is address, as
        delivery.report_to to the configuration."""
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("teams = ( ", 'delivery = { report_to = "edi"; };\nteams = ( '
                                 '{ id = "edi"; name = "EDI"; recipients = { mail = [ '
                                 '"%s" ]; }; }, ' % address, 1))

    def link(self, action="A1", recipient="alpha@example.org"):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "link", action, recipient],
                           capture_output=True, text=True, check=True)
        url = p.stdout.strip()
        self.assertRegex(url, r"^http://127\.0\.0\.1:%d/a/[A-Za-z0-9_-]+$" % self.port)
        self.tokens.append(url.rsplit("/", 1)[1])
        return url

    def minted(self, key_hex, key_id, action, issued, expires):
        tok = mint(key_hex, key_id, action, "alpha@example.org", issued, expires)
        self.tokens.append(tok)
        return self.url("/a/" + tok)

    def state_of(self):
        """What the state database holds: updates, notices, entries."""
        if harness.PG:
            if harness.pg_sql(self.conf, "SELECT to_regclass('updates') IS NOT NULL") != "t":
                return (0, 0, 0)  # no ticklerd has made the tables yet
            return tuple(int(harness.pg_sql(self.conf, "SELECT count(*) FROM %s" % t))
                         for t in ("updates", "notices", "entries"))
        db = sqlite3.connect(os.path.join(self.state, "tickler.db"))
        try:
            return tuple(db.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                         for t in ("updates", "notices", "entries"))
        finally:
            db.close()

    def updates(self):
        return harness.updates_rows(self.conf, self.state, "action_id, recipient, kind")

    def post(self, url, data, *headers):
        args = ["-X", "POST", "--data", data]
        for h in headers:
            args += ["-H", h]
        return curl(url, *args)

    def tearDown(self):
        log = self.daemon.log() if self.daemon else ""
        super().tearDown()
        for tok in self.tokens:  # no token is ever logged
            self.assertNotIn(tok[4:], log)

    def test_fetching_a_link_three_times_changes_nothing(self):
        self.start()
        url = self.link()
        before = self.state_of()
        self.assertEqual(before[0], 0)
        for _ in range(3):
            status, h, body = curl(url)
            self.assertEqual(status, 200)
            self.assertIn(b"Publish the pay gap report", body)
            self.assertEqual(h["cache-control"], "no-store")
            self.assertEqual(h["x-robots-tag"], "noindex, nofollow")
            self.assertEqual(h["referrer-policy"], "same-origin")
            self.assertIn("form-action 'self'", h["content-security-policy"])
        self.assertEqual(curl(url, "-I")[0], 200)
        # what a mail gateway or a tracker adds to the address is ignored
        status, _, body = curl(url + "?utm_source=newsletter&utm_medium=email")
        self.assertEqual(status, 200)
        self.assertIn(b"Publish the pay gap report", body)
        self.assertEqual(self.state_of(), before)

    def test_the_link_page_lists_the_reminders_sent_for_its_action(self):
        """The history of the link page: the reminder sent for the action,
        read from the state (on PostgreSQL the shared one, the GET waiting
        for its answer), to the link's recipient and delivered."""
        up = json.loads(subprocess.run(
            [tool("tickler"), "-c", self.conf, "upcoming", "--from", "2031-01-01", "--days",
             "120", "--json"], capture_output=True, text=True, check=True).stdout)
        first = min((u["at"] for u in up if u["item"] == "A1"))
        at = datetime.datetime.fromisoformat(first)
        start = (at - datetime.timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%S")
        url = self.minted(self.K1, "k1", "A1", at.timestamp() - 60, at.timestamp() + 45 * 86400)
        d = self.start("--now", start)
        # on PostgreSQL, until the node first reached the database, the
        # page says the reminders cannot be read just now
        deadline = time.monotonic() + 15
        while b"<h3>Reminders</h3>\n<p>None yet.</p>" not in curl(url)[2]:
            self.assertLess(time.monotonic(), deadline, d.log()[-3000:])
            time.sleep(0.2)
        d.wait_for("delivered notice:")
        status, h, body = curl(url)
        self.assertEqual(status, 200)
        self.assertEqual(h["cache-control"], "no-store")
        history = body.decode().split('<h2 id="h-history">History</h2>', 1)[1]
        self.assertRegex(history, r"<h3>Reminders</h3>\n<ul class=\"history\">\n<li>[^<]+, to "
                                  r"Alpha by mail, delivered \(to you\)</li>\n</ul>")
        self.assertIn("<h3>Updates</h3>\n<p>None yet.</p>", history)
        self.assertTrue(history.endswith("</section>\n</main>\n</body>\n</html>\n"))
        self.assertEqual(curl(url, "-I")[0], 200)

    def test_bad_links_get_their_page_and_change_nothing(self):
        self.start()
        now = int(time.time())
        good = self.minted(self.K1, "k1", "A1", now - 60, now + 86400)
        self.assertEqual(curl(good)[0], 200)  # the Python-minted token is one
        before = self.state_of()
        tok = good.rsplit("/", 1)[1]
        flipped = tok[:30] + ("A" if tok[30] != "A" else "B") + tok[31:]
        self.tokens.append(flipped)
        cases = [
            (self.url("/a/" + flipped), 403, b"has been altered"),
            (self.url("/a/" + tok[:-5]), 400, b"incomplete or damaged"),
            (self.url("/a/" + tok[:-5] + ")"), 400, b"incomplete or damaged"),
            (self.minted(self.K1, "k1", "A1", now - 50 * 86400, now - 5 * 86400), 410,
             b"has expired"),
            (self.minted(self.K1, "k1", "A9", now - 60, now + 86400), 404,
             b"no longer in the action plan"),
            (self.minted(self.K0[:64], "k1", "A1", now - 60, now + 86400), 403,
             b"has been altered"),
        ]
        for url, want, text in cases:
            status, h, body = curl(url)
            self.assertEqual(status, want, body)
            self.assertIn(text, body)
            self.assertEqual(h["content-type"], "text/html; charset=utf-8")
            self.assertNotIn(b"<form", body)
        # a link signed by a key the ring then drops
        retired = self.minted(self.K0, "k0", "A1", now - 60, now + 86400)
        self.assertEqual(curl(retired)[0], 200)
        self.write_conf(keys=("k1",))
        n = len(self.daemon.lines)
        self.daemon.proc.send_signal(1)
        self.daemon.wait_for("configuration reloaded", after=n)
        status, _, body = curl(retired)
        self.assertEqual(status, 403)
        self.assertIn(b"no longer in use", body)
        # a form that carries another action's token
        other = self.link("A2").rsplit("/", 1)[1]
        status, _, body = self.post(good, "token=%s&do=complete" % other,
                                    "Origin: " + self.url(""))
        self.assertEqual(status, 403)
        self.assertIn(b"does not belong to this link", body)
        self.assertEqual(self.state_of(), before)

    def reload(self):
        """Sends SIGHUP; returns the log lines of the reload."""
        n = len(self.daemon.lines)
        self.daemon.proc.send_signal(1)
        end = self.daemon.wait_for("configuration reloaded", after=n)
        return self.daemon.lines[n:end + 1]

    def test_a_reload_that_moves_listen_keeps_the_server_in_force(self):
        """A reload that changes http.listen keeps the web face as started
        until a restart, and with it the public_url derived from its listen
        address: the links and the origin a POST is checked against stay
        those of the server that answers, and a later reload is compared
        with that server, not with the configuration last read."""
        self.start()
        url = self.link()
        tok = url.rsplit("/", 1)[1]
        bound = self.port
        self.port = moved = harness.free_port()
        self.write_conf(keys=("k1", "k0"))
        self.port = bound
        lines = self.reload()
        self.assertTrue(any("take effect at the next restart" in l for l in lines), lines)
        status, _, body = curl(url)
        self.assertEqual(status, 200)
        self.assertNotIn(b":%d" % moved, body)
        status, h, _ = self.post(url, "token=%s&do=complete" % tok, "Origin: " + self.url(""))
        self.assertEqual(status, 303)
        self.assertEqual(h["location"], url + "?done=complete")
        self.assertEqual(self.updates(), [("A1", "alpha@example.org", 1)])
        # the configuration back as the server was started: nothing to wait for
        self.write_conf(keys=("k1", "k0"))
        lines = self.reload()
        self.assertFalse(any("next restart" in l for l in lines), lines)
        self.assertEqual(self.get("/healthz")[0], 200)

    def test_only_a_post_from_the_page_records_and_only_once(self):
        self.start()
        url = self.link()
        tok = url.rsplit("/", 1)[1]
        form = "token=%s&do=complete" % tok
        origin = "Origin: http://127.0.0.1:%d" % self.port
        for headers in ((), ("Origin: https://evil.example",), ("Origin: null",),
                        ("Referer: https://evil.example/a/" + tok,)):
            status, _, body = self.post(url, form, *headers)
            self.assertEqual(status, 403, headers)
            self.assertIn(b"did not come from tickler", body)
        self.assertEqual(self.updates(), [])
        status, h, _ = self.post(url, form, origin)
        self.assertEqual(status, 303)
        self.assertEqual(h["location"], url + "?done=complete")
        self.assertEqual(self.updates(), [("A1", "alpha@example.org", 1)])
        status, h, _ = self.post(url, form, origin)
        self.assertEqual(status, 303)
        self.assertEqual(h["location"], url + "?same=complete")
        self.assertEqual(len(self.updates()), 1)
        status, _, body = curl(h["location"])
        self.assertIn(b"Recorded: marked complete.", body)
        self.assertIn(b"The button was pressed more than once (or your browser sent the form "
                      b"again); it is recorded once.", body)
        self.assertIn(b"Marked complete by alpha@example.org", body)
        # A1 counts as complete while that holds, on /status.json and in
        # `tickler actions`, each with the plan's own standing beside it
        shown = [a for a in json.loads(self.get("/status.json")[2])["actions"] if a["id"] == "A1"]
        listed = [a for a in json.loads(subprocess.run(
            [tool("tickler"), "-c", self.conf, "--state-dir", self.state, "actions", "--json"],
            capture_output=True, text=True, check=True).stdout) if a["id"] == "A1"]
        for a in shown + listed:
            self.assertEqual(a["standing"], "complete", a)
            self.assertNotEqual(a["plan_standing"], "complete", a)
        self.assertEqual(len(shown + listed), 2)
        # what the form reader refuses, before the page sees it
        self.assertEqual(self.post(url, form + "&do=snooze", origin)[0], 400)
        self.assertEqual(self.post(url, "x" * 70000, origin)[0], 413)
        status, h, _ = curl(url, "-X", "POST", "--data", "{}", "-H",
                            "Content-Type: application/json")
        self.assertEqual(status, 415)
        status, h, _ = curl(self.url("/status"), "-X", "POST", "--data", form)
        self.assertEqual((status, h["allow"]), (405, "GET, HEAD"))
        self.assertEqual(len(self.updates()), 1)

    def test_a_post_before_the_database_is_reached_is_answered_busy(self):
        # a PostgreSQL that cannot be reached (nothing listens on the port)
        conninfo = os.path.join(self.tmp, "conninfo")
        with open(conninfo, "w") as f:
            f.write("host=127.0.0.1 port=%d dbname=none connect_timeout=2\n" % harness.free_port())
        os.chmod(conninfo, 0o600)
        with open(self.conf, "a") as f:
            f.write('%s\nstate = { backend = "postgresql"; conninfo_file = "%s"; node = "n1"; };\n'
                    % (harness._MARK, conninfo))
        self.start(ready=False)
        url = self.link()
        form = "token=%s&do=complete" % url.rsplit("/", 1)[1]
        # answered at once, not held until the database comes
        status, h, body = curl(url, "-X", "POST", "--data", form, "-H",
                               "Origin: http://127.0.0.1:%d" % self.port, "--max-time", "10")
        self.assertEqual(status, 503, body)
        self.assertIn(b"nothing recorded", body)
        self.assertEqual(h.get("retry-after"), "5")

    def commit_cut(self):
        """Starts ticklerd on PostgreSQL through a CommitCut of its officers'
        updates: the first is committed and its answer lost."""
        pg = harness._pg_server()
        db = harness.pg_database(self.conf)[0]
        cut = CommitCut(pg.port, "tkl_add_update")
        self.addCleanup(cut.close)
        conninfo = os.path.join(self.tmp, "conninfo")
        with open(conninfo, "w") as f:
            f.write("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=disable "
                    "gssencmode=disable\n" % (cut.port, db, pg.user))
        os.chmod(conninfo, 0o600)
        with open(self.conf, "a") as f:
            f.write('%s\nstate = { backend = "postgresql"; conninfo_file = "%s"; node = "n1"; };\n'
                    % (harness._MARK, conninfo))
        self.start()
        return cut

    def post_unconfirmed(self, cut, form):
        """POSTs form to A1's link through commit_cut's cut: the page says
        it may have been recorded, not that nothing was. Returns (url, the
        form as posted, the Origin header, the answer's headers)."""
        url = self.link()
        form = "token=%s&%s" % (url.rsplit("/", 1)[1], form)
        origin = "Origin: http://127.0.0.1:%d" % self.port
        status, h, body = self.post(url, form, origin)
        self.assertTrue(cut.cut.is_set(), self.daemon.log()[-3000:])
        self.assertEqual(status, 503, body)
        self.assertIn(b"Not confirmed", body)
        self.assertIn(b"cannot tell whether it was recorded", body)
        self.assertNotIn(b"nothing recorded", body.lower())
        self.assertEqual(h.get("retry-after"), "5")
        return url, form, origin, h

    @unittest.skipUnless(harness.PG, "a connection lost after a commit: PostgreSQL's")
    def test_a_post_whose_commit_was_not_confirmed_says_so_and_is_recorded_once(self):
        # the database commits the update, and the connection is lost before
        # its answer reaches ticklerd
        cut = self.commit_cut()
        url, form, origin, h = self.post_unconfirmed(cut, "do=complete")
        self.assertEqual(self.updates(), [("A1", "alpha@example.org", 1)])
        # pressed again, after the seconds asked, once ticklerd has its
        # connection back: recorded already
        deadline = harness.deadline(90)
        while True:
            time.sleep(int(h.get("retry-after", "1")))
            status, h, body = self.post(url, form, origin)
            if status == 303:
                break
            self.assertEqual(status, 503, body)
            self.assertLess(time.monotonic(), deadline, self.daemon.log()[-3000:])
        self.assertEqual(self.updates(), [("A1", "alpha@example.org", 1)])

    @unittest.skipUnless(harness.PG, "a connection lost after a commit: PostgreSQL's")
    def test_a_not_ours_whose_commit_was_not_confirmed_is_passed_on_without_a_second_press(self):
        # the "not ours" is committed and its answer lost: ticklerd, its
        # connection back, reads the updates and tells delivery.report_to
        # (EDI) once, though nobody presses again
        self.report_to("edi@example.org")
        cut = self.commit_cut()
        self.post_unconfirmed(cut, "do=not-ours&suggested=Facilities")
        self.assertEqual(self.updates(), [("A1", "alpha@example.org", 4)])
        told = ("SELECT count(*) FROM notices n JOIN entries e ON e.notice_id = n.id"
                " WHERE n.recipient = 'edi@example.org' AND e.item_id = 'A1'"
                " AND e.stage_key LIKE 'answer-%'")
        made = "SELECT count(*) FROM meta WHERE key LIKE 'reported:%'"
        deadline = harness.deadline(90)
        while (harness.pg_sql(self.conf, told), harness.pg_sql(self.conf, made)) != ("1", "1"):
            self.assertLess(time.monotonic(), deadline, self.daemon.log()[-3000:])
            time.sleep(0.3)
        self.assertEqual(harness.pg_sql(self.conf, "SELECT count(*) FROM notices"), "1")

    def test_tickler_link_prints_a_link_only_when_it_can(self):
        def link(*args):
            return subprocess.run([tool("tickler"), "-c", self.conf, "link", *args],
                                  capture_output=True, text=True)
        # an address tickler does not write to about A1: its link would not work
        p = link("A1", "someone@example.org", "--expires-in", "7")
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertIn("tickler does not write to someone@example.org about A1", p.stderr)
        self.assertIn("add them to a team first", p.stderr)
        # a recipient of delivery.report_to's team: a link, with a note
        self.report_to("someone@example.org")
        p = link("A1", "someone@example.org", "--expires-in", "7")
        self.assertEqual(p.returncode, 0, p.stderr)
        tok = p.stdout.strip().rsplit("/", 1)[1]
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        issued, expires = (int.from_bytes(raw[i:i + 8], "big") for i in (-48, -40))
        self.assertEqual(expires - issued, 7 * 86400)
        self.assertIn("someone@example.org is not a recipient of the teams that own A1",
                      p.stderr)
        self.assertNotIn(self.K1, p.stdout + p.stderr)
        p = link("A9", "alpha@example.org")
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertIn("no action A9 in the plan", p.stderr)
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(re.sub(r"links = \{.*\};\n", "", text))
        p = link("A1", "alpha@example.org")
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertIn("links are not configured", p.stderr)

    def test_posts_beyond_the_limit_wait(self):
        self.start()
        url = self.link("A2")
        form = "token=%s&do=progress&rag=green&note=On+track" % url.rsplit("/", 1)[1]
        statuses = [self.post(url, form)[0] for _ in range(10)]  # no Origin: refused
        self.assertEqual(set(statuses), {403})
        status, h, body = self.post(url, form, "Origin: http://127.0.0.1:%d" % self.port)
        self.assertEqual(status, 429)
        self.assertGreaterEqual(int(h["retry-after"]), 1)
        self.assertIn(b"Too many requests", body)
        self.assertEqual(self.updates(), [])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
