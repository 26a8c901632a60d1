#!/usr/bin/env python3
"""The email plugin against a real SMTP server (aiosmtpd) with STARTTLS and
AUTH: messages a strict MIME parser accepts, text from the plan that cannot
add a header or a recipient, TLS failures that send nothing, and a signed
link per action for its recipient (only with a links group and a web face),
never logged nor kept."""
import argparse
import email
import email.policy
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import tool

ARGS = None
CERTS = None
CERT_DIR = None
USER, PASSWORD = "reminders@council.example", "correct horse battery staple"

LONG = "Long " + "x" * 5990
HOSTILE = [
    ("H1", "Fix the \u2019quotes\u2019 \u2013 \u00a35 =?UTF-8?Q?=0A?=\r\nBcc: evil@attacker.example", "Alpha"),
    ("H2", "<script>alert('x')</script> & \"co\"\r\n.\r\nRCPT TO:<evil@attacker.example>", "Bravo"),
    ("H3", ".a line starting with a dot\nand a second line", "Bravo"),
    ("H4", LONG, "Bravo"),
    ("H5", "Subject: injected\r\n\r\nbody", "Bravo"),
]


def csv_field(s):
    return '"' + s.replace('"', '""') + '"'


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    ok = (auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD)
    # handled=False: aiosmtpd then answers a refusal 535 itself
    return AuthResult(success=ok, handled=False)


TOKEN = "ya29.bearer-token-CANARY-31337"
LINK_KEY = "c0ffee" * 10 + "0123"  # 32 bytes, as `openssl rand -hex 32` writes


class XOAuthSink(harness.SmtpSink):
    """Offers AUTH XOAUTH2 (RFC 7628 style, as Microsoft 365 and Gmail do)
    and accepts USER with a bearer token of tokens (TOKEN only unless
    set), keeping each token a login gave in used."""
    tokens = (TOKEN,)

    async def auth_XOAUTH2(self, server, args):
        import base64
        from aiosmtpd.smtp import AuthResult, MISSING
        if len(args) == 1:
            raw = await server.challenge_auth("")
            if raw is MISSING:
                return AuthResult(success=False)
        else:
            raw = base64.b64decode(args[1])
        wants = {("user=%s\x01auth=Bearer %s\x01\x01" % (USER, t)).encode(): t
                 for t in self.tokens}
        self.xoauth_seen = raw
        with self.lock:
            self.__dict__.setdefault("used", []).append(wants.get(raw))
        return AuthResult(success=raw in wants, handled=False)


class SilentSmtp:
    """A real SMTP peer on loopback that stops answering at silent_at:
    "greeting" (it takes the connection and says nothing), "end" (it
    answers everything but the end of a message; ended is set once one
    came) or "quit" (everything but QUIT). accepted and closed list the
    connections taken and those the client closed.

    With "end", the go-ahead for a message's text waits (a minute at
    most) until `connections` connections were taken: libcurl's SMTP
    blocks its thread while it waits for the answer to a message's end,
    so a transfer not yet connected by then would connect only after
    that timeout, and the test would depend on which came first."""

    def __init__(self, silent_at, connections=1):
        self.silent_at = silent_at
        self.connections = connections
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted, self.closed = [], []
        self.ended = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def talk(self, c):
        silent_at = self.silent_at
        f = c.makefile("rb")
        if silent_at != "greeting":
            c.sendall(b"220 sink\r\n")
        data = False
        for line in iter(f.readline, b""):
            if silent_at == "greeting":
                continue
            if data:
                if line == b".\r\n":
                    data = False
                    if silent_at != "end":
                        c.sendall(b"250 queued\r\n")
                    else:
                        self.ended.set()
                continue
            verb = line[:4].upper()
            if verb == b"QUIT" and silent_at == "quit":
                continue
            if verb == b"DATA" and silent_at == "end":
                for _ in range(600):
                    if len(self.accepted) >= self.connections:
                        break
                    time.sleep(0.1)
            if verb == b"AUTH" and len(line.split()) < 3:  # the response on a line of its own
                c.sendall(b"334 \r\n")
                f.readline()
            c.sendall({b"EHLO": b"250-sink\r\n250 AUTH PLAIN\r\n", b"AUTH": b"235 ok\r\n",
                       b"DATA": b"354 go\r\n", b"QUIT": b"221 bye\r\n"}.get(
                           verb, b"250 ok\r\n"))
            data = verb == b"DATA"
        self.closed.append(c)

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(c)
            threading.Thread(target=self.talk, args=(c,), daemon=True).start()

    def close(self):
        self.sock.close()


class Email(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-email-")
        self.state = os.path.join(self.tmp, "state")
        with open(os.path.join(self.tmp, "smtp.pass"), "w") as f:
            f.write(PASSWORD + "\n")
        with open(os.path.join(self.tmp, "plan.csv"), "w", newline="") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status,Progress\r\n")
            for ref, title, owner in HOSTILE:
                f.write("%s,%s,%s,03/03/2023,Ongoing,%s\r\n"
                        % (ref, csv_field(title), owner, csv_field("Progress <b>bold</b> \u2019")))
        self.smtp = None

    def tearDown(self):
        if self.smtp:
            self.smtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_conf(self, port, url_host="127.0.0.1", ca=None, extra=""):
        with open(os.path.join(self.tmp, "tickler.conf"), "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://%s:%d"; %s username = "%s"; password_file = "smtp.pass";
                             from = "Action plan \u2013 reminders <tickler@council.example>";
                             reply_to = "equalities@council.example"; %s }; } );
teams = ( { id = "alpha"; name = "Alpha \u2019s team"; recipients = { mail = [ "alpha@example.org" ]; }; },
          { id = "bravo"; name = "Bravo"; recipients = { mail = [ "bravo@example.org" ]; }; } );
""" % (url_host, port, 'ca_file = "%s";' % ca if ca else "", USER, extra))
        return os.path.join(self.tmp, "tickler.conf")

    def oneshot(self, conf):
        return subprocess.run([tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(),
                               "--state-dir", self.state, "--now", "2023-03-03T09:00:30",
                               "--oneshot"], capture_output=True, text=True, timeout=120)

    def outbox(self, conf):
        return harness.outbox(conf, self.state)[0]

    def server(self, cert="good", **kw):
        args = dict(authenticator=authenticator, auth_required=True, auth_require_tls=True)
        if cert:
            args.update(tls_context=harness.tls_context(*CERTS[cert]), require_starttls=True)
        args.update(kw)
        self.smtp = harness.SmtpSink(**args)
        return self.smtp.port

    def test_starttls_auth_strict_mime_and_hostile_text(self):
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0])
        p = self.oneshot(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(PASSWORD, p.stderr)
        got = self.smtp.received()
        self.assertEqual(sorted(r for rcpts, _ in got for r in rcpts),
                         ["alpha@example.org", "bravo@example.org"])
        for rcpts, raw in got:
            # RFC 5322 line limits and CRLF only
            for line in raw.split(b"\r\n"):
                self.assertLess(len(line), 998)
                self.assertNotIn(b"\n", line)
                self.assertNotIn(b"\r", line)
            msg = email.message_from_bytes(raw, policy=email.policy.strict)
            for h in ("From", "To", "Subject", "Date", "Message-ID", "Reply-To"):
                self.assertEqual(len(msg.get_all(h) or []), 1, h)
            for h in ("Bcc", "Cc", "RCPT"):
                self.assertIsNone(msg.get(h), h)
            self.assertEqual(msg["From"].addresses[0].display_name, "Action plan \u2013 reminders")
            self.assertEqual(msg.get_content_type(), "multipart/mixed")
            alt = msg.get_payload()[0]
            self.assertEqual(alt.get_content_type(), "multipart/alternative")
            text = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            # line ends are the transfer encoding's CRLF only: no CR of
            # the HTML's own, encoded as =0D (RFC 2045 6.7)
            self.assertNotIn(b"=0D", raw)
            self.assertNotIn("\r", html.replace("\r\n", ""))
            self.assertNotIn("evil", str(msg["To"]))
            if rcpts == ["alpha@example.org"]:
                # one action: its title is the subject, shown exactly as written
                self.assertEqual(msg["Subject"],
                                 "Reminder (due today): Fix the \u2019quotes\u2019 \u2013 \u00a35 "
                                 "=?UTF-8?Q?=0A?= Bcc: evil@attacker.example")
                self.assertEqual(msg["To"].addresses[0].display_name, "Alpha \u2019s team")
                self.assertIn("In-Reply-To", msg)
                self.assertIn("Progress <b>bold</b> \u2019", text)
                self.assertIn("Progress &lt;b&gt;bold&lt;/b&gt; \u2019", html)
            else:
                self.assertEqual(msg["Subject"], "Reminder: 4 actions for Bravo")
                self.assertIn("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;", html)
                self.assertNotIn("<script>", html)
                self.assertIn(".a line starting with a dot", text)
                self.assertIn("RCPT TO:<evil@attacker.example>", text)
                flat = "".join(l.strip() for l in text.splitlines())
                self.assertIn("x" * 5990, flat)
                self.assertIn("Subject: injected", text)
            # no links group: no links
            self.assertNotIn("Update this action", text + html)
        box = self.outbox(conf)
        self.assertTrue(all(n["state"] == "delivered" for n in box), box)
        self.assertTrue(all("127.0.0.1: 250" in n["last_error"] for n in box), box)

    def with_links(self, conf, http=True):
        """Adds a links group with key LINK_KEY (and, when http, a web face
        reached at https://tickler.council.example/eap/) to conf."""
        with open(os.path.join(self.tmp, "links.key"), "w") as f:
            f.write(LINK_KEY + "\n")
        with open(conf, "a") as f:
            f.write('links = { keys = ( { id = "k2026"; file = "links.key"; } ); expiry_days = 30; };\n')
            if http:
                f.write('http = { listen = [ "127.0.0.1:%d" ]; '
                        'public_url = "https://tickler.council.example/eap"; };\n'
                        % harness.free_port())

    def oneshot_debug(self, conf):
        return subprocess.run([tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(),
                               "--state-dir", self.state, "--now", "2023-03-03T09:00:30",
                               "--oneshot", "--log-level", "debug"],
                              capture_output=True, text=True, timeout=120)

    def test_one_signed_link_per_action_for_its_recipient(self):
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0])
        self.with_links(conf)
        p = self.oneshot_debug(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        sent_at = 1677834030  # 2023-03-03T09:00:30 in London (GMT)
        want = {"alpha@example.org": {"H1"}, "bravo@example.org": {"H2", "H3", "H4", "H5"}}
        tokens = []
        got = self.smtp.received()
        self.assertEqual(len(got), 2)
        for rcpts, raw in got:
            msg = email.message_from_bytes(raw, policy=email.policy.strict)
            text = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            links = re.findall(r"https://tickler\.council\.example/eap/a/[A-Za-z0-9_-]+", text)
            # one link per action, each signed for that action and this
            # recipient, issued at the send time, valid for expiry_days
            self.assertEqual(len(links), len(want[rcpts[0]]), text)
            actions = set()
            for link in links:
                kid, action, recipient, issued, expires = harness.verify_link(
                    link, {"k2026": LINK_KEY}, now=sent_at)
                self.assertEqual((kid, recipient), ("k2026", rcpts[0]))
                self.assertLess(abs(issued - sent_at), 120)
                self.assertEqual(expires - issued, 30 * 86400)
                actions.add(action)
                tokens.append(link.rsplit("/", 1)[1])
                # under the label, on a line of its own, and a button in HTML
                self.assertIn("Update this action (mark complete, snooze, progress):\n    "
                              + link + "\n", text.replace("\r\n", "\n"))
                self.assertIn('<a href="%s" aria-label="Update this action: ' % link, html)
            self.assertEqual(actions, want[rcpts[0]])
            self.assertIn("The links open a page; nothing changes until you press a button there.",
                          " ".join(text.split()))
            self.assertIn("The links open a page; nothing changes until you press a button there.",
                          html)
            # an officer answering by reply would be answering no one
            self.assertIn("Only an action's link records an update; a reply to this message "
                          "does not.", " ".join(text.split()))
            # never in a header
            for name, value in msg.items():
                self.assertNotIn("/a/", str(value), name)
        # a token is never logged, nor kept in the outbox or the state
        for t in tokens:
            self.assertNotIn(t, p.stderr)
            self.assertNotIn(t, json.dumps(self.outbox(conf)))
            for name in harness.state_files(self.state):
                with open(name, "rb") as f:
                    self.assertNotIn(t.encode(), f.read(), name)
        self.assertIn("delivered notice", p.stderr)

    def test_no_links_without_a_web_face(self):
        # a links group but no http group: no address to link to
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0])
        self.with_links(conf, http=False)
        p = self.oneshot_debug(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.smtp.received()
        self.assertEqual(len(got), 2)
        for _, raw in got:
            msg = email.message_from_bytes(raw, policy=email.policy.strict)
            for kind in ("plain", "html"):
                body = msg.get_body((kind,)).get_content()
                self.assertNotIn("/a/", body)
                self.assertNotIn("Update this action", body)
                self.assertNotIn("The links open a page", body)
                self.assertNotIn("a reply to this message does not", body)

    def test_send_test_prints_the_server_reply(self):
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0])
        p = subprocess.run([tool("tickler"), "-c", conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "mail", "--to", "officer@example.org"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("delivered: 127.0.0.1: 250 2.0.0 queued", p.stdout)
        got = self.smtp.received()
        self.assertEqual([r for r, _ in got], [["officer@example.org"]])
        msg = email.message_from_bytes(got[0][1], policy=email.policy.strict)
        self.assertIn("Fix the \u2019quotes\u2019", msg.get_body(("plain",)).get_content())
        # a refused recipient: the reply says why, the exit code says so
        p = subprocess.run([tool("tickler"), "-c", conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "nosuch", "--to", "x@example.org"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no notifier named \"nosuch\"", p.stderr)
        # a recipient that is no address: refused before any connection, saying why
        p = subprocess.run([tool("tickler"), "-c", conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "mail", "--to", "housing-team"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("\"housing-team\" is not an email address (local@domain)", p.stderr)
        self.assertEqual(len(self.smtp.received()), 1)

    def test_templates(self):
        with open(os.path.join(self.tmp, "subject.txt"), "w") as f:
            f.write("[EAP] {{count}} for {{team}} ({{overdue}} overdue) {{date}}\n")
        with open(os.path.join(self.tmp, "body.txt"), "w") as f:
            f.write("Dear {{team}},\n{{actions}}\nAsk {{plan_url}}\n")
        with open(os.path.join(self.tmp, "body.html"), "w") as f:
            f.write("<html><body><p class=t>{{team}}</p>{{actions}}<p>{{footer}}</p></body></html>\n")
        extra = ('subject_template = "subject.txt"; text_template = "body.txt"; '
                 'html_template = "body.html"; plan_url = "https://intranet.example/eap?a=1&b=2"; '
                 'footer = "Sent by <the> EDI team";')
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0], extra=extra)
        p = self.oneshot(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        msgs = {r[0]: email.message_from_bytes(raw, policy=email.policy.strict)
                for r, raw in self.smtp.received()}
        bravo = msgs["bravo@example.org"]
        self.assertEqual(bravo["Subject"], "[EAP] 4 for Bravo (0 overdue) Friday 3 March 2023")
        text = bravo.get_body(("plain",)).get_content().replace("\r\n", "\n")
        self.assertTrue(text.startswith("Dear Bravo,\n\nDue within 7 days\n"), text[:80])
        self.assertIn("Ask https://intranet.example/eap?a=1&b=2", text)
        html = bravo.get_body(("html",)).get_content()
        self.assertIn("<p class=t>Bravo</p>", html)
        self.assertIn("<p>Sent by &lt;the&gt; EDI team</p>", html)
        self.assertIn("&lt;script&gt;", html)
        # an unknown placeholder is an error naming the file and line
        with open(os.path.join(self.tmp, "body.txt"), "w") as f:
            f.write("Dear {{team}},\n\n{{actoins}}\n")
        p = subprocess.run([tool("ticklerd"), "--check-config", "-c", conf, "-p",
                            harness.plugin_dir()], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("body.txt:3: unknown placeholder \"{{actoins}}\"", p.stderr)
        # a template past 1 MiB is refused whole, not cut (perhaps inside a
        # placeholder) and sent short
        with open(os.path.join(self.tmp, "body.txt"), "w") as f:
            f.write("Dear {{team}},\n" + "x" * (1 << 20) + "\n{{actions}}\n")
        p = subprocess.run([tool("ticklerd"), "--check-config", "-c", conf, "-p",
                            harness.plugin_dir()], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("body.txt is larger than 1024 KiB", p.stderr)
        # a plan_url a reader could not follow (or that runs script) is refused
        for bad in ("javascript:alert(1)", "https://", "https://intranet.example/a plan"):
            conf = self.write_conf(self.server(), ca=CERTS["ca"][0],
                                   extra='plan_url = "%s";' % bad)
            p = subprocess.run([tool("ticklerd"), "--check-config", "-c", conf, "-p",
                                harness.plugin_dir()], capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0, bad)
            # the plugin's reason at the notifier's line, counted once
            self.assertRegex(p.stderr, r"tickler\.conf:\d+: error: \[settings\] notifier \"\w+\" "
                             r"\(plugin email\) rejected its settings: plan_url must be an "
                             r"http:// or https:// URL")
            self.assertIn("configuration has 1 error\n", p.stdout)

    def test_shipped_templates_are_the_defaults(self):
        # the files in etc/templates render exactly as the built-in ones
        extra = ('subject_template = "%s/etc/templates/subject.txt"; '
                 'text_template = "%s/etc/templates/digest.txt"; '
                 'html_template = "%s/etc/templates/digest.html";' % ((os.path.abspath(ARGS.source),) * 3))
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0], extra=extra)
        p = self.oneshot(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        with_files = sorted((r, email.message_from_bytes(raw, policy=email.policy.strict))
                            for r, raw in self.smtp.received())
        self.smtp.stop()
        shutil.rmtree(self.state)
        conf = self.write_conf(self.server(), ca=CERTS["ca"][0])
        self.assertEqual(self.oneshot(conf).returncode, 0)
        built_in = sorted((r, email.message_from_bytes(raw, policy=email.policy.strict))
                          for r, raw in self.smtp.received())
        self.assertEqual(len(with_files), 2)
        for (r1, a), (r2, b) in zip(with_files, built_in):
            self.assertEqual(a["Subject"], b["Subject"])
            for kind in ("plain", "html"):
                self.assertEqual(a.get_body((kind,)).get_content(), b.get_body((kind,)).get_content())

    def test_xoauth2_bearer_token(self):
        with open(os.path.join(self.tmp, "token"), "w") as f:
            f.write(TOKEN + "\n")
        self.smtp = XOAuthSink(tls_context=harness.tls_context(*CERTS["good"]),
                               require_starttls=True, auth_required=True,
                               auth_exclude_mechanism=["PLAIN", "LOGIN"])
        conf = self.write_conf(self.smtp.port, ca=CERTS["ca"][0])
        with open(conf) as f:
            text = f.read().replace('password_file = "smtp.pass";', 'oauth2_token_file = "token";')
        with open(conf, "w") as f:
            f.write(text)
        p = self.oneshot(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.smtp.received()), 2, p.stderr)
        self.assertNotIn(TOKEN, p.stderr)
        self.assertNotIn("CANARY", json.dumps(self.outbox(conf)))

    def test_a_token_file_fixed_with_its_old_mtime_is_read_again(self):
        """oauth2_token_file is read again when it changes: a read that
        fails (the file emptied) keeps the token in force and says so
        once; the file then fixed with the mtime it had when it was read
        (a chmod leaves the mtime too) is read again and its token used."""
        token2 = "ya29.second-token-CANARY-4242"
        path = os.path.join(self.tmp, "token")
        with open(path, "w") as f:
            f.write(TOKEN + "\n")
        hold = threading.Event()  # set: bravo's RCPT is accepted
        self.smtp = XOAuthSink(
            script=lambda kind, n, a: None if kind != "RCPT" or "bravo" not in a or hold.is_set()
            else "451 4.3.0 try again later",
            tls_context=harness.tls_context(*CERTS["good"]), require_starttls=True,
            auth_required=True, auth_exclude_mechanism=["PLAIN", "LOGIN"])
        self.smtp.tokens = (TOKEN, token2)
        conf = self.write_conf(self.smtp.port, ca=CERTS["ca"][0])
        with open(conf) as f:
            text = f.read().replace('password_file = "smtp.pass";', 'oauth2_token_file = "token";')
        with open(conf, "w") as f:
            f.write(text.replace("schedule = {", "delivery = { retry_min_seconds = 1; };\n"
                                 "schedule = {"))
        d = harness.Daemon(conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("delivered notice")  # alpha's, with TOKEN
            d.wait_for("retry")             # bravo's, held back
            first = os.stat(path).st_mtime_ns  # the file as read
            open(path, "w").close()         # emptied: cannot be read
            n = d.wait_for("cannot read oauth2_token_file token again")
            d.wait_for("retry", after=n + 1)  # tried again with TOKEN meanwhile
            with open(path, "w") as f:
                f.write(token2 + "\n")
            # fixed, its mtime that of the file read before: only its ctime
            # (and a chmod's) says it changed
            os.utime(path, ns=(first, first))
            hold.set()
            d.wait_for("delivered notice", after=n + 1)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual(len(self.smtp.received()), 2)
        self.assertEqual(self.smtp.used[0], TOKEN)
        self.assertEqual(self.smtp.used[-1], token2, self.smtp.used)
        self.assertEqual(d.log().count("cannot read oauth2_token_file"), 1, d.log())
        self.assertNotIn(TOKEN, d.log())
        self.assertNotIn(token2, d.log())

    def tls_failure(self, conf, expect):
        p = self.oneshot(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.smtp.count("MAIL"), 0)
        self.assertEqual(self.smtp.received(), [])
        box = self.outbox(conf)
        self.assertTrue(box)
        for n in box:
            self.assertEqual(n["state"], "retrying")
            self.assertIn(expect, n["last_error"])
        self.assertIn(expect, p.stderr)
        self.assertNotIn(PASSWORD, p.stderr)

    def test_a_refused_login_keeps_every_notice_and_holds_the_rest_back(self):
        """A wrong password is the relay's answer to tickler, not to the
        message: no notice fails for good. After the refusal the notifier
        tries no more logins (each would count towards an account
        lockout): the other notice waits, not tried; a reload with the
        right password sends both. The password never shows."""
        logins = []

        def counting(server, session, envelope, mechanism, auth_data):
            logins.append(auth_data.password.decode())
            return authenticator(server, session, envelope, mechanism, auth_data)

        port = self.server(authenticator=counting)
        conf = self.write_conf(port, ca=CERTS["ca"][0])
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("schedule = {", "delivery = { concurrency = 1; retry_min_seconds = 1; "
                                 "};\nschedule = {"))
        with open(os.path.join(self.tmp, "smtp.pass"), "w") as f:
            f.write("not-the-password\n")
        d = harness.Daemon(conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            refused = d.wait_for("refused tickler's login, SMTP 535")
            self.assertIn("check the username and password_file or oauth2_token_file, then "
                          "reload", d.lines[refused])
            n = d.wait_for("not tried: the notifier's server refused its login lately")
            box = self.outbox(conf)
            self.assertEqual(sorted(b["state"] for b in box), ["retrying", "retrying"], box)
            self.assertEqual(logins, ["not-the-password"])  # one login, not one a notice
            with open(os.path.join(self.tmp, "smtp.pass"), "w") as f:
                f.write(PASSWORD + "\n")
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for("configuration reloaded", after=n)
            # the next attempt of each (seconds apart here) goes with the new password
            deadline = time.monotonic() + 90
            while len(self.smtp.received()) < 2:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.3)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertEqual(sorted(b["state"] for b in self.outbox(conf)),
                         ["delivered", "delivered"])
        self.assertNotIn("not-the-password", d.log() + json.dumps(self.outbox(conf)))
        self.assertNotIn(PASSWORD, d.log())

    def test_a_relative_ca_file_is_the_configurations_neighbour(self):
        """ca_file = "ca.pem" is read beside the configuration file, as
        every path of it is, wherever ticklerd runs from (/ under
        systemd); one that cannot be read fails the check, named."""
        shutil.copy(CERTS["ca"][0], os.path.join(self.tmp, "ca.pem"))
        conf = self.write_conf(self.server(), ca="ca.pem")
        p = subprocess.run([tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(),
                            "--state-dir", self.state, "--now", "2023-03-03T09:00:30",
                            "--oneshot"], capture_output=True, text=True, timeout=120, cwd="/")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.smtp.received()), 2, p.stderr)
        conf = self.write_conf(self.smtp.port, ca="no-such-ca.pem")
        p = subprocess.run([tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(),
                            "--check-config"], capture_output=True, text=True, timeout=60, cwd="/")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ca_file %s cannot be read: No such file or directory"
                      % os.path.join(self.tmp, "no-such-ca.pem"), p.stderr)

    def test_untrusted_certificate_sends_nothing(self):
        conf = self.write_conf(self.server("self"), ca=CERTS["ca"][0])
        self.tls_failure(conf, "certificate")

    def test_wrong_host_name_sends_nothing(self):
        conf = self.write_conf(self.server("wrong"), ca=CERTS["ca"][0])
        self.tls_failure(conf, "127.0.0.1")
        self.assertIn("no alternative certificate subject name matches",
                      self.outbox(conf)[0]["last_error"])

    def test_no_starttls_sends_nothing(self):
        conf = self.write_conf(self.server(cert=None, auth_require_tls=False), ca=CERTS["ca"][0])
        self.tls_failure(conf, "does not offer STARTTLS")

    def stop_against_a_silent_server(self, silent_at):
        """A server that stops answering at silent_at (SilentSmtp): a stop
        cuts the deliveries in flight short after drain_seconds, or lets
        the idle connections go, closing them, and does not wait out the
        transfers' timeout (libcurl's SMTP waits for those answers,
        blocking). Returns the notices in the outbox."""
        server = SilentSmtp(silent_at, connections=2)
        accepted, closed = server.accepted, server.closed
        conf = self.write_conf(server.port, extra='tls = "none"; timeout_seconds = 600;')
        with open(conf, "a") as f:
            f.write("delivery = { drain_seconds = 1; };\n")
        d = subprocess.Popen([tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(),
                              "--state-dir", self.state, "--now", "2023-03-03T09:00:30"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            # both deliveries connected; for "quit", both answered (one
            # connection may have carried both, kept for the next)
            for _ in range(600):
                if silent_at == "quit":
                    n = self.outbox(conf) if os.path.exists(self.state + "/tickler.db") else []
                    if len(n) == 2 and all(x["state"] == "delivered" for x in n):
                        break
                elif len(accepted) == 2:
                    break
                time.sleep(0.1)
            self.assertEqual(len(accepted), 2 if silent_at != "quit" else len(accepted))
            self.assertGreater(len(accepted), 0)
            time.sleep(0.5)  # the messages under way
            d.send_signal(signal.SIGTERM)
            # far less than the transfers' 600 s: the stop did not wait on them
            _, err = d.communicate(timeout=120)
        finally:
            if d.poll() is None:
                d.kill()
                d.wait()
            server.close()
        self.assertEqual(d.returncode, 0, err)
        for _ in range(100):  # their connections were closed
            if len(closed) == len(accepted):
                break
            time.sleep(0.1)
        self.assertEqual(len(closed), len(accepted))
        return self.outbox(conf), err

    def test_a_stop_does_not_wait_on_a_server_silent_from_its_greeting(self):
        notices, err = self.stop_against_a_silent_server("greeting")
        self.assertIn("2 deliveries still in flight are cut short", err)
        self.assertEqual(len(notices), 2)
        self.assertTrue(all(n["state"] != "delivered" for n in notices), notices)

    def test_a_stop_does_not_wait_on_a_server_silent_at_the_end_of_a_message(self):
        notices, err = self.stop_against_a_silent_server("end")
        self.assertIn("2 deliveries still in flight are cut short", err)
        self.assertTrue(all(n["state"] != "delivered" for n in notices), notices)

    def test_a_stop_does_not_wait_on_a_server_silent_at_quit(self):
        notices, _ = self.stop_against_a_silent_server("quit")
        self.assertEqual([n["state"] for n in notices], ["delivered", "delivered"])

    def test_a_server_silent_at_the_end_of_a_message_holds_up_no_other_notifier(self):
        """libcurl's SMTP waits, blocking its thread, for the answer to the
        end of a message. A webhook's answer that comes meanwhile is
        recorded at once, not after the mail server's timeout: each
        notifier's transfers run on a thread of their own."""
        server = SilentSmtp("end")
        posts = []

        class Hook(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # answered only once the mail server holds a message unanswered
                server.ended.wait(120)
                posts.append(server.ended.is_set())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        with open(os.path.join(self.tmp, "hook.url"), "w") as f:
            f.write("http://127.0.0.1:%d/hook\n" % web.server_address[1])
        conf = os.path.join(self.tmp, "tickler.conf")
        with open(conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { drain_seconds = 1; };
notifiers = ( { name = "mail"; plugin = "email";
                settings = { url = "smtp://127.0.0.1:%d"; tls = "none"; timeout_seconds = 600;
                             username = "%s"; password_file = "smtp.pass";
                             from = "tickler@council.example"; }; },
              { name = "hook"; plugin = "webhook";
                settings = { destinations = ( { name = "edi"; url_file = "hook.url"; } ); }; } );
teams = ( { id = "alpha"; name = "Alpha"; recipients = { mail = [ "alpha@example.org" ]; }; },
          { id = "bravo"; name = "Bravo"; recipients = { hook = [ "edi" ]; }; } );
""" % (server.port, USER))
        d = harness.Daemon(conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            self.assertTrue(server.ended.wait(120), d.log())
            # the mail server still holds its message: the webhook's answer,
            # sent after that, is recorded (600 s is the mail's timeout)
            by_channel = {}
            for _ in range(1200):
                by_channel = {n["channel"]: n for n in self.outbox(conf)}
                if by_channel.get("hook", {}).get("state") == "delivered":
                    break
                time.sleep(0.1)
            self.assertEqual(posts, [True])
            self.assertEqual(by_channel["hook"]["state"], "delivered", d.log())
            self.assertNotEqual(by_channel["mail"]["state"], "delivered")
            self.assertEqual(len(server.closed), 0)  # still waiting on the mail server
        finally:
            self.assertEqual(d.stop(), 0)
            web.shutdown()
            web.server_close()
            server.close()

    def test_tls_none_only_on_loopback(self):
        conf = self.write_conf(25, url_host="mail.example.org", extra='tls = "none";')
        p = subprocess.run([tool("ticklerd"), "--check-config", "-c", conf, "-p",
                            harness.plugin_dir()], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("tls = \"none\" only with smtp://localhost", p.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    CERT_DIR = tempfile.mkdtemp(prefix="tickler-certs-")
    try:
        CERTS = harness.make_certs(CERT_DIR)
        result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    finally:
        shutil.rmtree(CERT_DIR, ignore_errors=True)
    sys.exit(0 if result.wasSuccessful() else 1)
