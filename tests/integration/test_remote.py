#!/usr/bin/env python3
"""A plan at an https:// URL (store.files), against a real HTTPS server
(http.server with ssl, certificates made by the openssl command): fetched
at start, a 304 on the next poll (the server checks the conditional
header), a change read, a 500, a certificate from another CA and a body
that is not a plan each logged once while the last good plan keeps
serving, the bearer token sent (and read again when its file changes) and
never logged, nor the URL's query; a restart with the server down serves
the cached copy. tickler fetches the plan itself, or says it reads the
daemon's copy."""
import argparse
import email.utils
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import harness
from harness import Daemon

ARGS = None
SECRET_QUERY = "sig=Q7s3cr3tSIG"
TOKEN_1 = "tok-first-8d1f"
TOKEN_2 = "tok-second-41ac"
NEW_ROW = ("EAP22-99,As a Community Leader,,Publish the plan on the council's website,"
           "Housing/Revs and Bens,April 2023,,\n")


class PlanServer:
    """An HTTPS server of one plan at /plans/plan.csv: ETag and
    Last-Modified, 304 for a matching If-None-Match or If-Modified-Since,
    the bearer token required when set; mode "500" answers 500. The TLS
    context is chosen per connection, so the certificate can change while
    it runs. Every request is kept as (path, headers, status)."""

    def __init__(self, ctx, port=0):
        self.lock = threading.Condition()
        self.ctx = ctx
        self.body = b""
        self.etag = None
        self.mtime = 0
        self.version = 0
        self.mode = "ok"
        self.token = None
        self.delay = 0  # seconds each answer waits
        self.requests = []
        self.refused_handshakes = 0
        owner = self

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, addr = self.socket.accept()
                try:
                    return owner.ctx.wrap_socket(sock, server_side=True), addr
                except OSError:
                    sock.close()
                    with owner.lock:
                        owner.refused_handshakes += 1
                        owner.lock.notify_all()
                    raise

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.answer(self)

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/plans/plan.csv"):
        return "https://127.0.0.1:%d%s?download=1&%s" % (self.port, path, SECRET_QUERY)

    def set_plan(self, body):
        with self.lock:
            self.body = body
            self.version += 1
            self.etag = '"v%d"' % self.version
            self.mtime = int(time.time()) - 3600 + self.version  # always later than before

    def answer(self, h):
        time.sleep(self.delay)
        with self.lock:
            status, headers, body = self._decide(h)
            self.requests.append((h.path, dict(h.headers), status))
            self.lock.notify_all()
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _decide(self, h):
        path = h.path.split("?", 1)[0]
        if self.mode == "500":
            return 500, [], b"internal error"
        if (self.token and h.headers.get("Authorization") != "Bearer " + self.token
                and not h.headers.get("Host", "").startswith("localhost")):
            return 401, [("WWW-Authenticate", "Bearer")], b""
        if path == "/elsewhere.csv":  # another host name for the same server
            return 302, [("Location", "https://localhost:%d/plans/plan.csv" % self.port)], b""
        if path == "/moved.csv":
            return 302, [("Location", "http://127.0.0.1:%d/plans/plan.csv" % self.port)], b""
        if path == "/export":
            return 200, [("Content-Type", "application/octet-stream"),
                         ("Content-Disposition", 'attachment; filename="Plan 2025.csv"')], self.body
        if path != "/plans/plan.csv":
            return 404, [], b""
        validators = [("ETag", self.etag),
                      ("Last-Modified", email.utils.formatdate(self.mtime, usegmt=True))]
        inm, ims = h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")
        if inm is not None:
            if inm == self.etag:
                return 304, validators, b""
        elif ims and email.utils.parsedate_to_datetime(ims).timestamp() >= self.mtime:
            return 304, validators, b""
        return 200, [("Content-Type", "text/csv; charset=utf-8")] + validators, self.body

    def wait(self, pred, what, timeout=60):
        """Waits until pred(requests) holds; returns its value."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                v = pred(self.requests) if pred.__code__.co_argcount else pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("server: no %s; requests: %r" % (what, self.requests))
                self.lock.wait(min(left, 0.2))

    def count(self, status):
        with self.lock:
            return sum(1 for r in self.requests if r[2] == status)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-remote-")
        self.certs = harness.make_certs(self.tmp)
        self.good = harness.tls_context(*self.certs["good"])
        self.other_ca = harness.tls_context(*self.certs["self"])
        self.server = PlanServer(self.good)
        with open(os.path.join(ARGS.source, "etc", "sample-plan.csv"), "rb") as f:
            self.plan = f.read()
        if not self.plan.endswith(b"\n"):
            self.plan += b"\n"
        self.server.set_plan(self.plan)
        self.state = os.path.join(self.tmp, "state")
        self.token_file = os.path.join(self.tmp, "plan.token")

    def tearDown(self):
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def configure(self, url, extra=""):
        """Writes the sample configuration with url as its plan."""
        if not getattr(self, "shipped_conf", None):
            self.conf = harness.copy_sample(ARGS.source, self.tmp)
            with open(self.conf) as f:
                self.shipped_conf = f.read()
        text = self.shipped_conf
        shipped = 'files = [ "sample-plan.csv" ];'
        self.assertIn(shipped, text)
        text = text.replace(shipped, 'files = [ "%s" ];\n  fetch_ca_file = "%s";\n%s'
                            % (url, self.certs["ca"][0], extra))
        with open(self.conf, "w") as f:
            f.write(text)

    def tickler(self, *args):
        return subprocess.run([harness.tool("tickler"), "-c", self.conf, "--plugin-dir",
                               harness.plugin_dir(), "--state-dir", self.state, *args],
                              capture_output=True, text=True, timeout=120)

    def assert_no_secret(self, text):
        for secret in (SECRET_QUERY, "Q7s3cr3tSIG", TOKEN_1, TOKEN_2, "download=1"):
            self.assertNotIn(secret, text)


class Daemonised(Base):
    def status(self, port):
        with urllib.request.urlopen("http://127.0.0.1:%d/status.json" % port, timeout=30) as r:
            return json.loads(r.read())

    def ids(self, port):
        return {a["id"] for a in self.status(port)["actions"]}

    def wait_more(self, status, n=3):
        """Waits until the server answered n more requests with status."""
        base = self.server.count(status)
        self.server.wait(lambda rs: sum(1 for r in rs if r[2] == status) >= base + n,
                         "%d more %d answers" % (n, status))

    def test_poll_change_failures_token_restart(self):
        with open(self.token_file, "w") as f:
            f.write(TOKEN_1 + "\n")
        self.server.token = TOKEN_1
        self.configure(self.server.url(), '  fetch_interval_seconds = 1;\n'
                       '  fetch_token_file = "%s";\n' % self.token_file)
        port = harness.listen_port(self.conf)
        d = Daemon(self.conf, self.state, "--now", "2023-02-01T08:00")
        try:
            d.wait_for("started: 39 actions")
            self.assertNotIn("cannot watch", d.log())
            first = self.server.wait(lambda rs: [r for r in rs if r[2] == 200], "200")[0]
            self.assertEqual(first[1].get("Authorization"), "Bearer " + TOKEN_1)
            self.assertIn(SECRET_QUERY, first[0])  # the query goes to the server
            # a later poll is conditional on the validators of the answer
            hit = self.server.wait(lambda rs: [r for r in rs if r[2] == 304
                                               and r[1].get("If-None-Match") == '"v1"'], "304")
            self.assertEqual(hit[0][1].get("Authorization"), "Bearer " + TOKEN_1)
            doc = self.status(port)
            # the place shown holds the file's name, never the rest of the
            # path (a shared link's key)
            self.assertEqual({a["file"] for a in doc["actions"]},
                             {"https://127.0.0.1:%d/\u2026/plan.csv" % self.server.port})
            self.assertNotIn("127.0.0.1:%d/plans" % self.server.port, d.log())
            self.assertNotIn("EAP22-99", self.ids(port))

            # a change is read as an edited file is
            self.server.set_plan(self.plan + NEW_ROW.encode())
            d.wait_for("store reloaded: 40 actions")
            self.assertIn("EAP22-99", self.ids(port))

            # a 500: logged once, the last good plan serves
            self.server.mode = "500"
            at = d.wait_for("cannot fetch: HTTP 500")
            self.wait_more(500)
            # a configuration reload keeps what the fetches knew
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("configuration reloaded: 40 actions", after=at)
            self.wait_more(500)
            self.assertEqual(d.log().count("cannot fetch: HTTP 500"), 1, d.log())
            self.assertIn("EAP22-99", self.ids(port))
            self.server.mode = "ok"
            d.wait_for("fetched again (the failure was: HTTP 500)", after=at)

            # a certificate from another CA: likewise
            self.server.ctx = self.other_ca
            at = d.wait_for("cannot fetch: TLS:", after=at)
            base = self.server.refused_handshakes
            self.server.wait(lambda: self.server.refused_handshakes >= base + 3,
                             "3 more refused handshakes")
            self.server.ctx = self.good
            d.wait_for("fetched again (the failure was: TLS:", after=at)
            self.assertEqual(d.log().count("cannot fetch: TLS:"), 1, d.log())
            self.assertIn("EAP22-99", self.ids(port))

            # a body that is not a plan is not kept
            self.server.set_plan(b"nothing,here\n1,2\n")
            at = d.wait_for("cannot fetch: not a plan", after=at)
            self.wait_more(200)
            self.assertEqual(d.log().count("cannot fetch: not a plan"), 1, d.log())
            self.assertIn("EAP22-99", self.ids(port))
            self.server.set_plan(self.plan + NEW_ROW.encode())
            d.wait_for("fetched again (the failure was: not a plan", after=at)

            # the token file changes: the new token is sent
            with open(self.token_file + ".new", "w") as f:
                f.write(TOKEN_2 + "\n")
            os.replace(self.token_file + ".new", self.token_file)
            self.server.token = TOKEN_2
            n = len(self.server.requests)
            self.server.wait(lambda rs: [r for r in rs[n:] if r[2] in (200, 304)
                                         and r[1].get("Authorization") == "Bearer " + TOKEN_2],
                             "a request with the new token")
            # emptied, it cannot be read: TOKEN_2 is kept, said once; then
            # fixed with the mtime it had (as a chmod leaves it), it is read
            first = os.stat(self.token_file).st_mtime_ns  # the file as read
            open(self.token_file, "w").close()
            at = d.wait_for("cannot read store.fetch_token_file", after=at)
            n = len(self.server.requests)
            self.server.wait(lambda rs: [r for r in rs[n:] if r[2] in (200, 304)
                                         and r[1].get("Authorization") == "Bearer " + TOKEN_2],
                             "a request with the token read before")
            with open(self.token_file, "w") as f:
                f.write(TOKEN_1 + "\n")
            # its mtime that of the file read before: only its ctime says so
            os.utime(self.token_file, ns=(first, first))
            self.server.token = TOKEN_1
            n = len(self.server.requests)
            self.server.wait(lambda rs: [r for r in rs[n:] if r[2] in (200, 304)
                                         and r[1].get("Authorization") == "Bearer " + TOKEN_1],
                             "a request with the fixed file's token")
            self.assertEqual(d.log().count("cannot read store.fetch_token_file"), 1, d.log())
            self.assertEqual(d.stop(), 0)
        finally:
            if d.proc.poll() is None:
                d.kill()
        log = d.log()
        self.assert_no_secret(log)

        # a restart with the server down serves the cached copy
        self.server.stop()
        d = Daemon(self.conf, self.state, "--now", "2023-02-01T08:00")
        try:
            d.wait_for("started: 40 actions")
            d.wait_for("cannot fetch: Couldn't connect to server")
            self.assertIn("EAP22-99", self.ids(port))
            self.assertEqual(d.stop(), 0)
        finally:
            if d.proc.poll() is None:
                d.kill()
            self.server = PlanServer(self.good)  # for tearDown
        self.assert_no_secret(d.log())


    def test_a_reminder_due_while_a_first_start_fetches_its_plan_is_sent(self):
        """A first start with catch_up_days = 0 sends what falls due from
        the moment it started, also while it waits for its plan: the
        reminders of 09:00 go out though the plan came at 09:00:03."""
        self.configure(self.server.url())
        with open(self.conf) as f:
            text = f.read()
        self.assertIn("catch_up_days = 7;", text)
        with open(self.conf, "w") as f:
            f.write(text.replace("catch_up_days = 7;", "catch_up_days = 0;"))
        self.server.delay = 5
        d = Daemon(self.conf, self.state, "--now", "2023-03-31T08:59:58")
        try:
            d.wait_for("started: 39 actions")
            self.assertGreaterEqual(self.server.count(200), 1)
            deadline = harness.deadline(60)
            while True:  # EAP22-02 is due on Friday 31 March 2023
                notices, out = harness.outbox(self.conf, self.state)
                due = [n for n in notices for e in n["entries"]
                       if e["item"] == "EAP22-02" and e["stage"] == "due"]
                if due or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            self.assertTrue(due, out + d.log())
            self.assertEqual(d.stop(), 0)
        finally:
            if d.proc.poll() is None:
                d.kill()


class Command(Base):
    def test_check_fetches_now(self):
        self.configure(self.server.url())
        r = self.tickler("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok: 39 actions", r.stdout)
        self.assertEqual(self.server.count(200), 1)
        # tickler's copy is its own: the daemon's state directory is untouched
        self.assertFalse(os.path.exists(os.path.join(self.state, "plans")))
        self.assert_no_secret(r.stdout + r.stderr)

    def test_daemon_copy_when_the_server_is_down(self):
        self.configure(self.server.url())
        d = Daemon(self.conf, self.state, "--now", "2023-02-01T08:00")
        try:
            d.wait_for("started: 39 actions")
            self.assertEqual(d.stop(), 0)
        finally:
            if d.proc.poll() is None:
                d.kill()
        self.server.mode = "500"
        r = self.tickler("actions")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("cannot fetch: HTTP 500; reading the daemon's copy instead (last changed ",
                      r.stderr)
        self.assertIn("EAP22-01", r.stdout)
        shutil.rmtree(os.path.join(self.state, "plans"))
        r = self.tickler("check")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("not fetched yet", r.stdout)
        self.assert_no_secret(r.stdout + r.stderr)

    def test_format_from_content_disposition(self):
        self.configure(self.server.url("/export"))
        r = self.tickler("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok: 39 actions", r.stdout)

    def test_redirect_to_another_host_gets_no_token(self):
        with open(self.token_file, "w") as f:
            f.write(TOKEN_1 + "\n")
        self.server.token = TOKEN_1
        self.configure(self.server.url("/elsewhere.csv"),
                       '  fetch_token_file = "%s";\n' % self.token_file)
        r = self.tickler("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok: 39 actions", r.stdout)
        (first, hop) = self.server.requests
        self.assertEqual(first[1].get("Authorization"), "Bearer " + TOKEN_1)
        self.assertTrue(hop[1]["Host"].startswith("localhost:"), hop)
        self.assertNotIn("Authorization", hop[1])
        self.assert_no_secret(r.stdout + r.stderr)

    def test_refused(self):
        # too large, a redirect to http, a certificate tickler does not trust
        for extra, url, why in (
                ("  fetch_max_kib = 1;\n", self.server.url(), "larger than store.fetch_max_kib"),
                ("", self.server.url("/moved.csv"), "redirected to a URL that is not https"),
        ):
            self.configure(url, extra)
            r = self.tickler("check")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(why, r.stdout)
            self.assertIn("not fetched yet", r.stdout)
            self.assert_no_secret(r.stdout + r.stderr)
        self.configure(self.server.url())
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace('fetch_ca_file = "%s";' % self.certs["ca"][0], ""))
        r = self.tickler("check")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("cannot fetch: TLS:", r.stdout)

    def test_a_server_that_never_answers_holds_the_daemon_30_s_at_most(self):
        """ticklerd fetches a plan with no copy yet on its loop, before it
        starts or while it reloads: a server that takes the request and
        never answers must not hold it past systemd's watchdog (60 s)."""
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(4)
        held = []

        def hold():
            while True:
                try:
                    s, _ = ls.accept()
                except OSError:
                    return
                try:
                    held.append(self.good.wrap_socket(s, server_side=True))
                except OSError:
                    s.close()

        threading.Thread(target=hold, daemon=True).start()
        try:
            self.configure("https://127.0.0.1:%d/plan.csv?%s" % (ls.getsockname()[1], SECRET_QUERY))
            r = subprocess.run([harness.tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                                "--state-dir", self.state, "--check-config"],
                               capture_output=True, text=True, timeout=100)
            out = r.stdout + r.stderr
            self.assertNotEqual(r.returncode, 0, out)
            self.assertIn("cannot fetch: no answer within the 30 s the daemon may wait for its "
                          "plans", out)
            self.assertIn("not fetched yet", out)
            self.assertTrue(held, "the server was asked")
            self.assert_no_secret(out)
        finally:
            ls.close()
            for s in held:
                s.close()

    def test_plain_http_refused(self):
        self.configure("http://user:pw@127.0.0.1:9/plan.csv?" + SECRET_QUERY)
        r = self.tickler("check")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("http:// is refused", r.stdout)
        self.assertIn("http://127.0.0.1:9/plan.csv", r.stdout)
        self.assertNotIn("pw@", r.stdout)
        self.assert_no_secret(r.stdout + r.stderr)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--source", required=True)
    ARGS, rest = p.parse_known_args()
    harness.BUILD = os.path.abspath(ARGS.build)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
