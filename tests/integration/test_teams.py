#!/usr/bin/env python3
"""The Teams notifier against a real local HTTP server playing a Workflows
webhook: the envelope and Adaptive Card Teams expects (checked by
Microsoft's adaptivecards library), 202 as success, 429 honoured, cards cut
into parts under the size limit (a failed part alone is sent again), a
rate budget per webhook, webhook URLs that never leak, and each action's
signed link as an Action.OpenUrl button."""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import Daemon, tool

ARGS = None
CANARY = "sig=CANARY-teams-0a1b2c"
LINK_KEY = "9e" * 40


class Peer:
    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []  # (path, monotonic, status, body bytes)
        self.n = {}
        self.hold_part2 = False  # refuse the equality card's part 2 until cleared
        self.reject_part2 = False  # refuse it for good (400) until cleared
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                path = self.path.split("?")[0].strip("/")
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                part = self.headers.get("X-Tickler-Notice", "")
                with rec.lock:
                    rec.n[path] = rec.n.get(path, 0) + 1
                    k = rec.n[path]
                    rec.n[part] = rec.n.get(part, 0) + 1
                    kp = rec.n[part]
                status, extra = 202, {}
                if path == "throttled" and k == 1:
                    status, extra = 429, {"Retry-After": "1"}
                if path == "equality" and part.endswith("/2") and (kp == 1 or rec.hold_part2):
                    status = 500  # the second card fails once, or until let through
                if path == "equality" and part.endswith("/2") and rec.reject_part2:
                    status = 400  # a failure for good
                with rec.lock:
                    rec.posts.append((path, time.monotonic(), status, body, part))
                self.send_response(status)
                for a, b in extra.items():
                    self.send_header(a, b)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


BUSY = 9
HOOKS = ["equality", "throttled"] + ["busy%d" % i for i in range(BUSY)]


class Teams(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-teams-")
        self.state = os.path.join(self.tmp, "state")
        self.peer = Peer()
        dests = []
        for h in HOOKS:
            with open(os.path.join(self.tmp, h + ".url"), "w") as f:
                # the busy names are one webhook: they share its rate budget
                f.write("http://127.0.0.1:%d/%s?api-version=1&%s\n"
                        % (self.peer.port, "busy" if h.startswith("busy") else h, CANARY))
            dests.append('{ name = "%s"; url_file = "%s.url"; }' % (h, h))
        # BUSY teams post to one webhook: its rate budget spaces them
        teams = ['{ id = "eq"; name = "Equality"; recipients = { teams = [ "equality" ]; }; }',
                 '{ id = "th"; name = "Throttled"; recipients = { teams = [ "throttled" ]; }; }']
        for i in range(BUSY):
            teams.append('{ id = "b%d"; name = "Busy %d"; recipients = { teams = [ "busy%d" ]; }; }'
                         % (i, i, i))
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 7; };
delivery = { retry_min_seconds = 1; };
notifiers = ( { name = "teams"; plugin = "teams";
                settings = { destinations = ( %s ); plan_url = "https://intranet.example/eap";
                             max_posts_per_second = 4; }; } );
teams = ( %s );
http = { listen = [ "127.0.0.1:%d" ]; public_url = "https://tickler.council.example/"; };
links = { keys = ( { id = "t1"; file = "links.key"; } ); };
""" % (", ".join(dests), ",\n".join(teams), harness.free_port()))
        with open(os.path.join(self.tmp, "links.key"), "w") as f:
            f.write(LINK_KEY + "\n")
        with open(os.path.join(self.tmp, "plan.csv"), "w", newline="") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status,Progress\n")
            # 60 long actions for Equality: far over 28 KB as one card; one
            # title too long for any card
            for i in range(60):
                title = ("Action %02d: [click](https://evil.example) **bold** \"quoted\" \u2019 "
                         % i) + "words " * (60 if i != 7 else 1000)
                due = "03/03/2023" if i % 2 else "01/02/2023"
                f.write('E%02d,"%s",Equality,%s,Ongoing,"Progress \\ note\n<b>"\n' % (i, title, due))
            f.write("T1,Throttled action,Throttled,03/03/2023,,\n")
            for i in range(BUSY):
                f.write("B%d,Busy action %d,Busy %d,03/03/2023,,\n" % (i, i, i))

    def tearDown(self):
        self.peer.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def outbox(self):
        box, out = harness.outbox(self.conf, self.state)
        self.assertNotIn("CANARY", out)
        return box

    def test_cards_limits_and_secrets(self):
        spawned = time.monotonic()  # no post can start before this
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            deadline = time.monotonic() + 60
            while True:
                box = self.outbox()
                if len(box) == 2 + BUSY and all(n["state"] == "delivered" for n in box):
                    break
                self.assertLess(time.monotonic(), deadline, json.dumps(box) + d.log())
                time.sleep(0.3)
        finally:
            self.assertEqual(d.stop(), 0)
        posts = self.peer.posts
        # 202 is success; the throttled webhook got 429 then one 202
        self.assertEqual([p[2] for p in posts if p[0] == "throttled"], [429, 202])
        # a lower bound only: the first time is taken before the 429 is
        # sent, so a slower machine can only make the gap longer
        t = [p[1] for p in posts if p[0] == "throttled"]
        self.assertGreaterEqual(t[1] - t[0], 0.95)
        # every other notice was posted successfully exactly once
        self.assertEqual(sum(1 for p in posts if p[2] < 300 and p[0] != "equality"), 1 + BUSY)
        # the rate budget, 4 posts a second: the posts to one webhook are
        # started at least 250 ms apart, so the k-th (from 0) cannot reach
        # the peer before k/4 s after the daemon was started; without the
        # budget all 9 would arrive at once. Bounds that a loaded machine
        # only meets more easily: a post arrives after it was started, and
        # the first was started after the spawn (20 ms of slack for the
        # millisecond clock of the daemon's loop)
        busy = sorted(p[1] for p in posts if p[0] == "busy")
        self.assertEqual(len(busy), BUSY)
        for k, at in enumerate(busy):
            self.assertGreaterEqual(at - spawned, k / 4 - 0.02, "post %d of %d" % (k + 1, BUSY))
        # over the limit: split into cards of at most 28,000 bytes; the part
        # that failed was sent again, the others once
        eq = [p for p in posts if p[0] == "equality"]
        parts = sorted(set(p[4] for p in eq))
        self.assertGreater(len(parts), 1)
        for part in parts:
            got = [p[2] for p in eq if p[4] == part]
            self.assertEqual(got, [500, 202] if part.endswith("/2") else [202], part)
        ok = [p for p in eq if p[2] < 300]
        self.assertEqual(len(ok), len(parts))
        for p in ok:
            self.assertLessEqual(len(p[3]), 28000)
        cards = [json.loads(p[3]) for p in sorted(ok, key=lambda p: int(p[4].split("/")[1]))]
        # the envelope and card Teams expects
        env = cards[0]
        self.assertEqual(env["type"], "message")
        att = env["attachments"][0]
        self.assertEqual(att["contentType"], "application/vnd.microsoft.card.adaptive")
        card = att["content"]
        self.assertEqual(card["type"], "AdaptiveCard")
        self.assertIn(card["version"], ("1.4", "1.5"))
        self.assertEqual(card["actions"][0]["type"], "Action.OpenUrl")
        self.assertEqual(card["actions"][0]["url"], "https://intranet.example/eap")
        # every action is on exactly one card, in order, and each card says
        # which part it is
        texts = [json.dumps(c) for c in cards]
        for i in range(60):
            self.assertEqual(sum(("Action %02d:" % i) in t for t in texts), 1, i)
        for k, t in enumerate(texts):
            self.assertIn("(part %d of %d)" % (k + 1, len(cards)), t)
        # overdue first; plan text only in TextRuns (never Markdown)
        runs = []

        def walk(x):
            if isinstance(x, dict):
                if x.get("type") == "TextBlock":
                    self.assertNotIn("click", x.get("text", ""))
                if x.get("type") == "TextRun":
                    runs.append(x["text"])
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        for c in cards:
            walk(c["attachments"][0]["content"])
        first = [r for r in runs if r.startswith("Action ")][0]
        # a text too long for a card is cut (at 2,000 bytes) and says so
        long = [r for r in runs if r.startswith("Action 07:")]
        self.assertEqual(len(long), 1)
        self.assertTrue(long[0].endswith("\u2026"), long[0][-20:])
        self.assertLessEqual(len(long[0].encode()), 2003)
        self.assertTrue(first.startswith("Action 00:"), first)  # 01/02/2023: overdue
        self.assertIn("Progress \\ note\n<b>", runs)
        # each action has its link as an Action.OpenUrl button, signed for
        # that action and the channel (the destination's name)
        buttons = {}
        tokens = []

        def containers(x):
            if isinstance(x, dict):
                if x.get("type") == "Container":
                    yield x
                for v in x.values():
                    yield from containers(v)
            elif isinstance(x, list):
                for v in x:
                    yield from containers(v)
        for env in [json.loads(p[3]) for p in posts if p[2] < 300]:
            for c in containers(env["attachments"][0]["content"]):
                ident = [r["inlines"][-1]["text"] for r in c["items"]
                         if r.get("type") == "RichTextBlock"
                         and r["inlines"][0]["text"] == "Id: "][0]
                sets = [i for i in c["items"] if i.get("type") == "ActionSet"]
                self.assertEqual(len(sets), 1, ident)
                (action,) = sets[0]["actions"]
                self.assertEqual((action["type"], action["title"]),
                                 ("Action.OpenUrl", "Update this action"))
                self.assertTrue(action["url"].startswith("https://tickler.council.example/a/"))
                kid, act, recipient, issued, expires = harness.verify_link(
                    action["url"], {"t1": LINK_KEY})
                self.assertEqual((kid, act), ("t1", ident))
                self.assertEqual(expires - issued, 45 * 86400)
                buttons.setdefault(recipient, set()).add(ident)
                tokens.append(action["url"].rsplit("/", 1)[1])
        self.assertEqual(buttons["equality"], {"E%02d" % i for i in range(60)})
        self.assertEqual(buttons["throttled"], {"T1"})
        for t in tokens:
            self.assertNotIn(t, d.log())
            self.assertNotIn(t, json.dumps(self.outbox()))
        # Microsoft's adaptivecards library parses every card without events
        envs = [json.loads(p[3]) for p in posts if p[2] < 300]
        v = subprocess.run(["node", os.path.join(ARGS.source, "tests", "integration",
                                                 "validate_card.js"), ARGS.node_modules],
                           input=json.dumps(envs), capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertEqual(v.stdout.split(), ["ok"] * (1 + BUSY + len(cards)))
        # the webhook URLs are nowhere but in their files
        self.assertNotIn("CANARY", d.log())
        for name in harness.state_files(self.state):
            with open(name, "rb") as f:
                self.assertNotIn(b"CANARY", f.read(), name)
        rows = harness.notice_rows(self.conf, self.state)
        self.assertIn("equality", rows)  # the test can fail
        self.assertNotIn("CANARY", rows)

    def wait_all_delivered(self, d):
        """Until every notice of the plan is delivered (at most 120 s)."""
        deadline = time.monotonic() + 120
        while True:
            box = self.outbox()
            if len(box) == 2 + BUSY and all(x["state"] == "delivered" for x in box):
                return
            self.assertLess(time.monotonic(), deadline, json.dumps(box) + d.log())
            time.sleep(0.3)

    def assert_each_part_accepted_once(self):
        """The Equality digest's parts: each accepted once and never posted
        again; part 2, refused a while, accepted at its last post."""
        eq = [p for p in self.peer.posts if p[0] == "equality"]
        parts = sorted(set(p[4] for p in eq))
        self.assertGreater(len(parts), 2)
        for part in parts:
            got = [p[2] for p in eq if p[4] == part]
            if part.endswith("/2"):
                self.assertEqual(got[-1], 202, part)
                self.assertEqual(got.count(202), 1, part)
            else:
                self.assertEqual(got, [202], part)  # accepted once, never again

    def test_reload_mid_split_digest_sends_no_part_twice_and_keeps_the_budget(self):
        self.peer.hold_part2 = True
        # 2 posts a second: the busy webhook's 9 posts take 4 s
        text = Path(self.conf).read_text().replace("max_posts_per_second = 4;",
                                                   "max_posts_per_second = 2;")
        Path(self.conf).write_text(text)
        spawned = time.monotonic()  # no post can start before this
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            # part 2 of the Equality digest refused, the other parts taken;
            # the busy webhook's first post made
            d.wait_for("delivery failed, will retry")
            deadline = time.monotonic() + 60
            while not [p for p in self.peer.posts if p[0] == "busy"]:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.05)
            # a reload that changes the notifier's settings while both wait
            text = text.replace("max_posts_per_second = 2;",
                                "max_posts_per_second = 2; timeout_seconds = 20;")
            Path(self.conf).write_text(text)
            d.proc.send_signal(signal.SIGHUP)
            n = d.wait_for("configuration reloaded")
            self.assertIn("1 notifier and 0 sources (1 of these plugins kept running)", d.lines[n])
            self.peer.hold_part2 = False
            self.wait_all_delivered(d)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assert_each_part_accepted_once()
        # the budget held across the reload: the k-th post to the busy
        # webhook no sooner than k/2 s after the spawn (as in
        # test_cards_limits_and_secrets); a budget started afresh by the
        # reload would have let the posts still waiting go at once
        busy = sorted(p[1] for p in self.peer.posts if p[0] == "busy")
        self.assertEqual(len(busy), BUSY)
        for k, at in enumerate(busy):
            self.assertGreaterEqual(at - spawned, k / 2 - 0.02, "post %d of %d" % (k + 1, BUSY))

    def stop_mid_split_digest(self):
        """ticklerd run until part 2 of the Equality digest was refused and
        its other parts taken, then stopped. Returns the parts file's
        text."""
        self.peer.hold_part2 = True
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            d.wait_for("(one part of the card)")
        finally:
            self.assertEqual(d.stop(), 0, d.log())
        self.peer.hold_part2 = False
        return Path(self.state, "teams-teams.parts").read_text()

    def restart_until_delivered(self, *lines):
        """ticklerd again, until every notice is delivered; it logs lines."""
        self.posted_before = len(self.peer.posts)
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:40")
        try:
            d.wait_for("started")
            for line in lines:
                d.wait_for(line)
            self.wait_all_delivered(d)
        finally:
            self.assertEqual(d.stop(), 0, d.log())
        # the notice done, nothing is kept for it
        self.assertFalse(Path(self.state, "teams-teams.parts").exists())

    def test_restart_mid_split_digest_sends_no_part_twice(self):
        """The next ticklerd posts part 2 only: the parts accepted were kept
        (the plan URL, which may be a shared link's key, only as a
        fingerprint)."""
        kept = self.stop_mid_split_digest()
        accepted = sorted(set(p[4] for p in self.peer.posts if p[0] == "equality" and p[2] == 202))
        self.assertTrue(accepted and not any(a.endswith("/2") for a in accepted), accepted)
        notice = accepted[0].split("/")[0]
        self.assertRegex(kept, r"^%s [0-9a-f]+ 28000 [0-9a-f]+ [0-9a-f]+ [0-9]+\n$" % notice)
        self.assertNotIn("intranet", kept)
        self.assertNotIn("CANARY", kept)
        self.assertEqual(os.stat(Path(self.state, "teams-teams.parts")).st_mode & 0o777, 0o600)
        # lines it did not write are named and left out; its own still count
        parts_file = Path(self.state, "teams-teams.parts")
        parts_file.write_text(kept + "12 zz 28000 0 1 0\n7 1 28000 javascript:alert(1)\n")
        self.restart_until_delivered(*("%s line %d: expected a notice id" % (parts_file, no)
                                       for no in (2, 3)))
        self.assert_each_part_accepted_once()

    def test_restart_with_other_card_settings_loses_no_part(self):
        """Cards cut otherwise after the restart (max_card_bytes changed):
        what was kept does not fit the new cut, so every part goes again:
        some twice, none never."""
        self.stop_mid_split_digest()
        text = Path(self.conf).read_text().replace("max_posts_per_second = 4;",
                                                   "max_posts_per_second = 4; "
                                                   "max_card_bytes = 20000;")
        Path(self.conf).write_text(text)
        self.restart_until_delivered()
        after = [p for p in self.peer.posts[self.posted_before:]
                 if p[0] == "equality" and p[2] == 202]
        seen = b"".join(p[3] for p in after)
        for i in range(60):
            self.assertIn(b"Action %02d:" % i, seen)

    def test_a_kept_cut_that_no_longer_matches_loses_no_part(self):
        """A kept line whose cut is not the notice's (another build cuts
        otherwise, an outbox id used again): every part goes again."""
        kept = self.stop_mid_split_digest().split(" ")
        kept[4] = "%x" % (int(kept[4], 16) ^ 1)  # the cut's fingerprint
        Path(self.state, "teams-teams.parts").write_text(" ".join(kept))
        self.restart_until_delivered("is not cut as it was when parts of it were accepted")
        after = [p for p in self.peer.posts[self.posted_before:]
                 if p[0] == "equality" and p[2] == 202]
        seen = b"".join(p[3] for p in after)
        for i in range(60):
            self.assertIn(b"Action %02d:" % i, seen)

    def test_retry_after_a_part_failed_for_good_posts_only_that_part(self):
        """A part refused for good fails the notice; the parts accepted
        are kept, so tickler retry, once the webhook takes cards again,
        posts the refused part alone."""
        self.peer.reject_part2 = True
        d = Daemon(self.conf, self.state, "--now", "2023-03-03T09:00:30")
        try:
            d.wait_for("started")
            d.wait_for("delivery failed for good")
            failed = [x for x in self.outbox() if x["state"] == "failed"]
            self.assertEqual(len(failed), 1, failed)
            notice = failed[0]["id"]
            self.assertTrue(Path(self.state, "teams-teams.parts").read_text()
                            .startswith("%d " % notice))
            accepted = sorted(set(p[4] for p in self.peer.posts
                                  if p[0] == "equality" and p[2] == 202))
            self.assertEqual(len(accepted), len(set(p[4] for p in self.peer.posts
                                                    if p[0] == "equality")) - 1)
            self.peer.reject_part2 = False
            p = subprocess.run([tool("tickler"), "-c", self.conf, "--state-dir", self.state,
                                "retry", str(notice)], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.wait_all_delivered(d)
        finally:
            self.assertEqual(d.stop(), 0, d.log())
        eq = [p for p in self.peer.posts if p[0] == "equality"]
        self.assertEqual([p[2] for p in eq if p[4].endswith("/2")], [400, 202])
        for part in set(p[4] for p in eq) - {"%d/2" % notice}:
            self.assertEqual([p[2] for p in eq if p[4] == part], [202], part)
        self.assertFalse(Path(self.state, "teams-teams.parts").exists())

    def test_a_joint_actions_completion_is_told_to_the_other_team_as_a_card(self):
        """J1 is Busy 0's and Busy 1's: Busy 0 marks it complete through its
        link; Busy 1's channel gets a valid card titled with what was done,
        by whom, and the action, the answer under "Update: ", and Busy 1's
        own link as an Action.OpenUrl button, once the completion has
        stood for delivery.joint_settle_seconds (here 1)."""
        with open(os.path.join(self.tmp, "plan.csv"), "w", newline="") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "J1,\"Joint **action** <b>\",Busy 0 / Busy 1,03/03/2023,\n")
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("retry_min_seconds = 1;",
                                 "retry_min_seconds = 1; joint_settle_seconds = 1;", 1))
        port = int(re.search(r'listen = \[ "127\.0\.0\.1:(\d+)" \]', text).group(1))
        d = Daemon(self.conf, self.state, "--now", "2023-03-06T09:00:30")
        try:
            d.wait_for("web face on 127.0.0.1:%d" % port)
            p = subprocess.run([tool("tickler"), "-c", self.conf, "link", "J1", "busy0"],
                               capture_output=True, text=True, check=True)
            token = p.stdout.strip().rsplit("/", 1)[1]
            # a 503 (Retry-After, nothing recorded) while the daemon, just
            # started, still reads the officers' updates (PostgreSQL): the
            # form is sent again, as the page it answers asks
            for _ in range(40):
                p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                    "-H", "Origin: https://tickler.council.example",
                                    "--data", "token=%s&do=complete" % token,
                                    "http://127.0.0.1:%d/a/%s" % (port, token)],
                                   capture_output=True, text=True, check=True)
                if p.stdout != "503":
                    break
                time.sleep(0.25)
            self.assertEqual(p.stdout, "303")

            def told():
                with self.peer.lock:
                    return [json.loads(b) for path, _, st, b, _ in self.peer.posts
                            if st < 300 and b"Marked complete by Busy 0" in b]
            deadline = time.monotonic() + 60
            while not told() and time.monotonic() < deadline:
                time.sleep(0.1)
            cards = told()
            self.assertEqual(len(cards), 1, d.log())
        finally:
            d.stop()
        text = json.dumps(cards[0])
        self.assertIn('"text": "Marked complete by Busy 0: Joint **action** <b>"', text)
        self.assertIn('"text": "Update: "', text)
        self.assertIn("Busy 0 marked this action complete on Monday 6 March 2023.", text)
        buttons = []

        def walk(x):
            if isinstance(x, dict):
                if x.get("type") == "Action.OpenUrl":
                    buttons.append(x["url"])
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(cards[0])
        links = [u for u in buttons if u.startswith("https://tickler.council.example/a/")]
        self.assertEqual(len(links), 1, buttons)
        self.assertNotEqual(links[0].rsplit("/", 1)[1], token)  # Busy 1's own
        v = subprocess.run(["node", os.path.join(ARGS.source, "tests", "integration",
                                                 "validate_card.js"), ARGS.node_modules],
                           input=json.dumps(cards), capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_send_test(self):
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "teams", "--to", "equality"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("delivered: HTTP 202 from 127.0.0.1", p.stdout)
        self.assertNotIn("CANARY", p.stdout + p.stderr)
        self.assertEqual(len(self.peer.posts), 1)
        # an unknown webhook name: refused, naming the known ones and no URL
        p = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                            "send-test", "teams", "--to", "nosuch"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("\"nosuch\" is not one of this instance's destinations "
                      "(known: \"equality\", \"throttled\", \"busy0\"", p.stderr)
        self.assertNotIn("CANARY", p.stdout + p.stderr)
        self.assertEqual(len(self.peer.posts), 1)


class Observances(unittest.TestCase):
    """An observance's prompt on a Teams card: its resources, when a web
    address, are an Open button; any other text is no button."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-teams-obs-")
        self.state = os.path.join(self.tmp, "state")
        self.peer = Peer()
        with open(os.path.join(self.tmp, "comms.url"), "w") as f:
            f.write("http://127.0.0.1:%d/comms?%s\n" % (self.peer.port, CANARY))
        with open(os.path.join(self.tmp, "days.ics"), "w", newline="") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                    "BEGIN:VEVENT\r\nUID:web@test\r\nDTSTART;VALUE=DATE:20270317\r\n"
                    "SUMMARY:Web day\r\nCATEGORIES:race\r\n"
                    "URL:https://example.org/web-day?a=1&b=2\r\nEND:VEVENT\r\n"
                    "BEGIN:VEVENT\r\nUID:other@test\r\nDTSTART;VALUE=DATE:20270317\r\n"
                    "SUMMARY:Other day\r\nCATEGORIES:race\r\nURL:ftp://example.org/x\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n")
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
        self.conf = os.path.join(self.tmp, "tickler.conf")
        with open(self.conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { lookahead_months = 0; };
notifiers = ( { name = "teams"; plugin = "teams";
                settings = { destinations = ( { name = "comms"; url_file = "comms.url"; } ); }; } );
sources = ( { name = "days"; plugin = "calendar"; team = "comms";
              settings = { files = [ "days.ics" ]; }; } );
teams = ( { id = "comms"; name = "Comms"; recipients = { teams = [ "comms" ]; }; } );
""")

    def tearDown(self):
        self.peer.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_an_observances_web_resources_are_an_open_button(self):
        # 14 days before Wednesday 17 March 2027: Wednesday 3 March
        subprocess.run([tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(),
                        "--state-dir", self.state, "--now", "2027-03-03T09:30", "--oneshot"],
                       check=True, capture_output=True)
        posts = [p for p in self.peer.posts if p[2] < 300]
        self.assertEqual(len(posts), 1, self.peer.posts)
        env = json.loads(posts[0][3])
        buttons = []

        def walk(x):
            if isinstance(x, dict):
                if x.get("type") == "Action.OpenUrl":
                    buttons.append((x["title"], x["url"]))
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(env)
        self.assertEqual(buttons, [("Resources", "https://example.org/web-day?a=1&b=2")])
        # the other address is no button, but said as text
        self.assertIn('"text": "Resources: "', json.dumps(env))
        self.assertIn('"text": "ftp://example.org/x"', json.dumps(env))
        v = subprocess.run(["node", os.path.join(ARGS.source, "tests", "integration",
                                                 "validate_card.js"), ARGS.node_modules],
                           input=json.dumps([env]), capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertEqual(v.stdout.split(), ["ok"])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--node-modules", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
