#!/usr/bin/env python3
"""Two ticklerd on one PostgreSQL (state.backend = "postgresql", the ctest
fixture's server), different node ids, one real HTTP sink recording every
POST. The same plan on both: each notice is queued by one node and
accepted by the sink once. 2,000 notices queued in the database are each
accepted by the sink exactly once, and both nodes deliver some; with one
node killed (SIGKILL)
and restarted at random instants, the database restarted, or one node
stopped (SIGSTOP) for longer than its lease, nothing is lost and a notice
is sent again only when it was in flight on the node that was cut off.

The 2,000 are written into the database by the test (one digest per
recipient would take 2,000 teams in the plan): what those show is the
delivery side, claims, leases and outcomes, across nodes."""
import argparse
import calendar
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import Daemon

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pg_fixture import PG_BIN, PostgreSQL  # noqa: E402
from test_web import curl, mint  # noqa: E402

ARGS = None
KEY = "5e" * 32  # links' key on both nodes
N = 2000
LEASE = 10
CONCURRENCY = 4


class Sink:
    """Counts the POSTs per notice id (X-Tickler-Notice); answers 202
    after delay seconds, or 400 to the notice ids in refuse (not counted
    as seen)."""

    def __init__(self, delay=0.0):
        self.lock = threading.Lock()
        self.seen = {}
        self.refuse = set()
        self.delay = delay
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if sink.delay:
                    time.sleep(sink.delay)
                with sink.lock:
                    nid = self.headers.get("X-Tickler-Notice")
                    refused = nid in sink.refuse
                    if not refused:
                        sink.seen[nid] = sink.seen.get(nid, 0) + 1
                try:
                    self.send_response(400 if refused else 202)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 256  # two nodes opening 64 connections each at once

            def handle_error(self, request, client_address):
                pass  # a killed node's connection reset mid-request

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def counts(self):
        with self.lock:
            return dict(self.seen)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def fixture():
    d = os.environ.get("TICKLER_PG_FIXTURE")
    if not d:
        raise unittest.SkipTest("TICKLER_PG_FIXTURE is not set: run through ctest")
    with open(os.path.join(d, "datadir")) as f:
        return PostgreSQL(f.read().strip())


class TwoNodes(unittest.TestCase):
    def setUp(self):
        self.pg = fixture()
        self.db = "t_ha"
        self.pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
                     % self.db)
        self.pg.psql("DROP DATABASE IF EXISTS %s" % self.db)
        self.pg.psql("CREATE DATABASE %s" % self.db)
        self.tmp = tempfile.mkdtemp(prefix="tickler-ha-")
        self.sink = Sink()
        self.daemons = {}
        with open(os.path.join(self.tmp, "conninfo"), "w") as f:
            f.write(self.pg.conninfo(self.db) + "\n")
        with open(os.path.join(self.tmp, "sink.url"), "w") as f:
            f.write("http://127.0.0.1:%d/sink\n" % self.sink.port)
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "A1,Keep the register,Ops,31/12/2099,\n")
        for node in ("a", "b"):
            with open(os.path.join(self.tmp, node + ".conf"), "w") as f:
                f.write("""
store = { files = [ "plan.csv" ]; };
delivery = { retry_min_seconds = 1; concurrency = %d; };
state = { backend = "postgresql"; conninfo_file = "conninfo"; node = "node-%s";
          lease_seconds = %d; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5;
                             destinations = ( { name = "sink"; url_file = "sink.url"; } ); }; } );
teams = ( { id = "ops"; name = "Ops"; recipients = { hook = [ "sink" ]; }; } );
""" % (CONCURRENCY, node, LEASE))

    def tearDown(self):
        for d in self.daemons.values():
            if d.proc.poll() is None:
                if d.proc.returncode is None:
                    try:
                        os.kill(d.proc.pid, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
                d.kill()
        self.sink.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, node, *extra):
        d = Daemon(os.path.join(self.tmp, node + ".conf"), os.path.join(self.tmp, "state-" + node),
                   *extra)
        self.daemons[node] = d
        d.wait_for("state on PostgreSQL as node node-" + node)
        return d

    def sql(self, q):
        return self.pg.psql(q, self.db).strip()

    def wait_schema(self):
        deadline = time.monotonic() + 60
        while self.sql("SELECT to_regclass('notices') IS NOT NULL") != "t":
            self.assertLess(time.monotonic(), deadline, "the schema was not made")
            time.sleep(0.2)

    def seed(self, n=N):
        """n notices due now on hook to sink, as a put would write them,
        and the NOTIFY that wakes the nodes."""
        self.wait_schema()
        now = int(time.time())
        self.sql("BEGIN;"
                 "INSERT INTO notices(id, channel, recipient, team_id, team_name, due_at,"
                 " created_at, next_attempt)"
                 " SELECT g, 'hook', 'sink', 'ops', 'Ops', %d, %d, %d"
                 " FROM generate_series(1, %d) g;"
                 "SELECT setval('notices_id_seq', %d);"
                 "INSERT INTO entries(notice_id, idx, item_id, title, deadline_day, kind, stage,"
                 " stage_key, days_left, late)"
                 " SELECT g, 0, 'N' || g, 'Notice ' || g, 19477, 1, 2, 'due', 0, 0"
                 " FROM generate_series(1, %d) g;"
                 "INSERT INTO log(key, notice_id, created_at)"
                 " SELECT 'N' || g || '|19477|due|hook|sink', g, %d FROM generate_series(1, %d) g;"
                 "SELECT pg_notify('tickler_queued', 'test');"
                 "COMMIT" % (now, now, now, n, n, n, now, n))

    def delivered(self):
        return int(self.sql("SELECT count(*) FROM notices WHERE state = 1"))

    def wait_delivered(self, timeout=600, during=None):
        deadline = time.monotonic() + timeout
        while self.delivered() < N:
            if during:
                during()
            if time.monotonic() > deadline:
                logs = "\n\n".join(d.log()[-4000:] for d in self.daemons.values())
                self.fail("%d of %d delivered\n%s" % (self.delivered(), N, logs))
            time.sleep(0.3)

    def check_sink(self, duplicates_at_most):
        seen = self.sink.counts()
        lost = [i for i in range(1, N + 1) if str(i) not in seen]
        self.assertEqual(lost, [], "notices never received")
        self.assertEqual(set(seen), {str(i) for i in range(1, N + 1)})
        dups = sum(c - 1 for c in seen.values())
        self.assertLessEqual(dups, duplicates_at_most, "duplicates")
        self.assertEqual(self.sql("SELECT count(*) FROM notices WHERE state <> 1"), "0")
        return dups

    def by_node(self, node):
        return self.daemons[node].log().count("delivered notice:")

    def test_two_nodes_deliver_each_notice_exactly_once(self):
        self.start("a")
        self.start("b")
        self.seed()
        self.wait_delivered()
        self.check_sink(0)
        a, b = self.by_node("a"), self.by_node("b")
        self.assertEqual(a + b, N)
        self.assertGreater(a, 0)
        self.assertGreater(b, 0)
        self.assertEqual(self.sql("SELECT string_agg(id, ',' ORDER BY id) FROM nodes"),
                         "node-a,node-b")
        # tickler status reads the shared state: its numbers and the nodes
        conf = os.path.join(self.tmp, "a.conf")
        st = json.loads(self.cli(conf, "status", "--json").stdout)
        self.assertEqual(st["backend"], "postgresql")
        self.assertEqual((st["pending"], st["retrying"], st["failed"], st["delivered"]),
                         (0, 0, 0, N))
        self.assertTrue(st["healthy"])
        self.assertEqual([(n["id"], n["leases"], n["connected"]) for n in st["nodes"]],
                         [("node-a", 0, True), ("node-b", 0, True)])
        self.assertTrue(all(n["last_seen"] for n in st["nodes"]))
        text = self.cli(conf, "status").stdout
        self.assertRegex(text, r"delivered today: +%d \(%d in all\)" % (N, N))
        self.assertRegex(text, r"node: +node-a, connected, last seen \S+, 0 notices leased\n")
        self.assertRegex(text, r"health: +ok\n")
        # tickler outbox lists the shared notices: every one delivered
        listed = json.loads(self.cli(conf, "outbox", "--json").stdout)
        self.assertEqual(len(listed), N)
        self.assertEqual({x["state"] for x in listed}, {"delivered"})
        self.assertEqual([x["id"] for x in listed[:2]], [N, N - 1])  # newest first
        self.assertEqual(self.cli(conf, "outbox", "--failed").stdout, "")
        # one node stopped: still healthy; both: healthy while nothing
        # waits, not once a notice has been due a while with no node to send it
        self.assertEqual(self.daemons["b"].stop(), 0, self.daemons["b"].log()[-3000:])
        st = self.status_when(conf, [True, False])
        self.assertEqual((st["running"], st["healthy"]), (True, True))
        self.assertEqual(self.daemons["a"].stop(), 0, self.daemons["a"].log()[-3000:])
        st = self.status_when(conf, [False, False])
        self.assertEqual((st["running"], st["healthy"]), (False, True))
        due = int(time.time()) - 1800  # due half an hour ago, no node to send it
        self.sql("INSERT INTO notices(id, channel, recipient, team_id, team_name, due_at,"
                 " created_at, next_attempt) VALUES (%d, 'hook', 'sink', 'ops', 'Ops', %d, %d, %d)"
                 % (N + 1, due, due, due))
        p = self.cli(conf, "status", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"node: +node-b, not connected, last seen \S+, 0 notices")
        self.assertRegex(p.stdout, r"not healthy: +notices due since \S+ and no ticklerd connected "
                         r"to the database to send them \(systemctl start ticklerd on a node\)")
        self.assertNotIn("health: ", p.stdout)

    def status_when(self, conf, connected):
        """tickler status --json once its nodes' "connected" are connected
        (a stopped node's session ends just after the node exits)."""
        deadline = time.monotonic() + 30
        while True:
            st = json.loads(self.cli(conf, "status", "--json", check=False).stdout)
            if [n["connected"] for n in st["nodes"]] == connected:
                return st
            self.assertLess(time.monotonic(), deadline, st)
            time.sleep(0.1)

    def get(self, port, path):
        """status, body of a GET of path from the web face on port."""
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def get_until(self, port, path, ok, what):
        """The body of path once ok(body) holds (the shared outbox is shown
        as last read: a read is queued by each request)."""
        deadline = time.monotonic() + 60
        while True:
            status, body = self.get(port, path)
            if status == 200 and ok(body):
                return body
            self.assertIn(status, (200, 503), body)
            self.assertLess(time.monotonic(), deadline, "%s: %s" % (what, body[-3000:]))
            time.sleep(0.3)

    def test_outbox_and_retry_show_and_requeue_the_shared_notices(self):
        # node a serves the web face; the sink refuses notices 3 and 7 for good
        port = harness.free_port()
        with open(os.path.join(self.tmp, "a.conf"), "a") as f:
            f.write('http = { listen = [ "127.0.0.1:%d" ]; };\n' % port)
        self.sink.refuse = {"3", "7"}
        self.start("a")
        self.start("b")
        self.seed(10)
        deadline = time.monotonic() + 120
        while self.sql("SELECT count(*) FILTER (WHERE state = 1) || ' '"
                       " || count(*) FILTER (WHERE state = 2) FROM notices") != "8 2":
            self.assertLess(time.monotonic(), deadline, self.daemons["a"].log()[-3000:])
            time.sleep(0.2)
        conf = os.path.join(self.tmp, "b.conf")
        listed = json.loads(self.cli(conf, "outbox", "--json").stdout)
        self.assertEqual([x["id"] for x in listed], list(range(10, 0, -1)))
        failed = [x for x in listed if x["state"] == "failed"]
        self.assertEqual([x["id"] for x in failed], [7, 3])
        self.assertTrue(all(x["last_error"] and x["attempts"] == 1 for x in failed))
        self.assertEqual([x["entries"][0]["title"] for x in failed], ["Notice 7", "Notice 3"])
        self.assertEqual({x["leased_to"] for x in listed}, {None})
        text = self.cli(conf, "outbox", "--failed").stdout.splitlines()
        self.assertEqual(len(text), 2)
        self.assertRegex(text[0], r"^ +7 failed +\S+ hook:sink  1 action\(s\), 1 attempt\(s\)  ")
        # a notice a node holds a lease on (written as its claim would) is
        # shown with its node, and retry leaves it alone
        now = int(time.time())
        self.sql("INSERT INTO notices(id, channel, recipient, due_at, created_at, next_attempt,"
                 " attempts, lease_node, lease_until) VALUES (11, 'hook', 'sink', %d, %d, %d, 1,"
                 " 'node-x', %d);"
                 "INSERT INTO entries(notice_id, idx, item_id, title) VALUES (11, 0, 'N11', 'x')"
                 % (now, now, now + 3600, now + 3600))
        held = json.loads(self.cli(conf, "outbox", "--json").stdout)[0]
        self.assertEqual((held["id"], held["state"], held["leased_to"]), (11, "retrying", "node-x"))
        self.assertIsNotNone(held["lease_until"])
        self.assertRegex(self.cli(conf, "outbox").stdout.splitlines()[0],
                         r"^ +11 retrying .* leased to node-x until \S+$")
        p = self.cli(conf, "retry", "11", "99", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("notice 11 is being sent by node node-x (leased until ", p.stderr)
        self.assertIn("there is no notice 99 in the outbox", p.stderr)
        self.assertEqual(p.stdout, "0 notices queued again\n")
        # the web face of node a shows the shared outbox, and /metrics its gauges
        page = self.get_until(port, "/outbox", lambda b: "sending now on node node-x" in b,
                              "the leased notice on /outbox")
        self.assertIn("2 failed", page)
        self.assertIn("every node shares", page)
        page = self.get_until(port, "/outbox?state=failed", lambda b: True, "/outbox")
        self.assertEqual(re.findall(r"<tr><td>(\d+)</td>", page), ["7", "3"])
        metrics = self.get_until(port, "/metrics", lambda b: "tickler_outbox_notices{" in b,
                                 "the outbox gauges")
        self.promtool(metrics)
        self.assertIn('tickler_outbox_notices{state="failed"} 2\n', metrics)
        self.assertIn('tickler_outbox_notices{state="delivered"} 8\n', metrics)
        self.assertIn('tickler_outbox_notices{state="retrying"} 1\n', metrics)
        self.assertIn('tickler_node_info{node="node-a",backend="postgresql"} 1\n', metrics)
        self.sql("DELETE FROM notices WHERE id = 11")
        # a failure report of notice 3 that failed too (as written when
        # report_to's own channel refuses): withdrawn, not sent again, as
        # its failure is queued again
        self.sql("INSERT INTO notices(id, channel, recipient, due_at, created_at, next_attempt,"
                 " attempts, state, last_error) VALUES (12, 'hook', 'admin', %d, %d, %d, 1, 2,"
                 " 'refused');"
                 "INSERT INTO entries(notice_id, idx, item_id, title, stage) VALUES (12, 0,"
                 " 'notice-3', 'Notice 3 could not be delivered', 6)" % (now, now, now))
        # the sink takes them now: retry queues them again, each is sent once
        self.sink.refuse = set()
        self.assertEqual(self.cli(conf, "retry", "--failed").stdout,
                         "2 notices queued again\n1 failure report withdrawn: the failure it "
                         "reports is queued again above (one that fails again is reported anew), "
                         "or resolved before\n")
        self.assertEqual(self.sql("SELECT state FROM notices WHERE id = 12"), "3")
        deadline = time.monotonic() + 120
        while self.delivered() < 10:
            self.assertLess(time.monotonic(), deadline, self.daemons["a"].log()[-3000:])
            time.sleep(0.2)
        time.sleep(1)  # a second send would show by now
        self.assertEqual(self.sink.counts(), {str(i): 1 for i in range(1, 11)})
        self.assertEqual(self.cli(conf, "outbox", "--failed").stdout, "")
        self.assertEqual(self.cli(conf, "retry", "3", check=False).returncode, 1)
        metrics = self.get_until(port, "/metrics",
                                 lambda b: 'tickler_outbox_notices{state="delivered"} 10\n' in b,
                                 "the gauges after the retry")
        self.assertIn('tickler_outbox_notices{state="failed"} 0\n', metrics)
        self.promtool(metrics)
        for d in self.daemons.values():
            self.assertEqual(d.stop(), 0, d.log()[-3000:])

    def test_oneshot_counts_the_shared_notices_waiting_for_a_retry(self):
        # the sink's port closed: a transient failure, the next try in 10 minutes
        port = harness.free_port()
        with open(os.path.join(self.tmp, "closed.url"), "w") as f:
            f.write("http://127.0.0.1:%d/sink\n" % port)
        with open(os.path.join(self.tmp, "a.conf")) as f:
            conf = f.read().replace("sink.url", "closed.url").replace(
                "retry_min_seconds = 1;", "retry_min_seconds = 600;")
        with open(os.path.join(self.tmp, "a.conf"), "w") as f:
            f.write(conf)
        b = self.start("b")  # makes the schema, then goes: the notices are node a's to try
        b.wait_for("schema version")
        self.assertEqual(b.stop(), 0)
        self.seed(3)
        a = self.start("a", "--oneshot")
        self.assertEqual(a.wait(timeout=120), 0, a.log()[-3000:])
        self.assertIn("--oneshot: 3 notices wait for a retry", a.log())
        self.assertEqual(self.sql("SELECT count(*) FROM notices WHERE state = 0 AND attempts = 1"),
                         "3")

    def promtool(self, text):
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + "\n" + text)

    def plan_of_teams(self, teams):
        """Writes a plan of one action due 03/03/2023 for each of teams
        teams; returns the webhook destinations and the teams, as
        configuration text."""
        dests = ",\n".join('{ name = "t%d"; url_file = "sink.url"; }' % i for i in range(teams))
        team_list = ",\n".join('{ id = "t%d"; name = "Team %d"; recipients = { hook = [ "t%d" ]; }; }'
                                % (i, i, i) for i in range(teams))
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
            for i in range(teams):
                f.write("P%d,Action %d,Team %d,03/03/2023,\n" % (i, i, i))
        return dests, team_list

    def cli(self, conf, *args, check=True):
        p = subprocess.run([harness.tool("tickler"), "-c", conf, *args], capture_output=True,
                           text=True, timeout=120)
        if check:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def test_a_oneshot_run_that_cannot_reach_postgresql_ends(self):
        """--oneshot whose database cannot be reached (here one that does
        not exist: refused at once, every time) gives up after a bounded
        number of attempts, said once as an error with libpq's reason, and
        exits non-zero, where it used to try for ever."""
        with open(os.path.join(self.tmp, "conninfo"), "w") as f:
            f.write(self.pg.conninfo("t_no_such_db") + "\n")
        p = subprocess.run([harness.tool("ticklerd"), "-c", os.path.join(self.tmp, "a.conf"),
                            "-p", harness.plugin_dir(), "--state-dir",
                            os.path.join(self.tmp, "state-a"), "--oneshot"],
                           capture_output=True, text=True, timeout=300)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.count("cannot connect, 6 attempts failed: "), 1, p.stderr)
        line = [l for l in p.stderr.splitlines() if "6 attempts failed" in l][0]
        self.assertTrue(line.startswith("<3>"), line)
        self.assertIn("t_no_such_db", line)

    def test_a_state_migrated_from_sqlite_is_not_sent_again(self):
        # one node ran on SQLite and sent the plan's notices; its state is
        # moved with tickler migrate; on PostgreSQL the same instant queues
        # and sends nothing again, and the SQLite state is refused
        teams = 5
        dests, team_list = self.plan_of_teams(teams)
        body = """
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
%s
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5; destinations = ( %s ); }; } );
teams = ( %s );
"""
        sqlite_conf = os.path.join(self.tmp, "sqlite.conf")
        pg_conf = os.path.join(self.tmp, "pg.conf")
        with open(sqlite_conf, "w") as f:
            f.write(body % ("", dests, team_list))
        with open(pg_conf, "w") as f:
            f.write(body % ('state = { backend = "postgresql"; conninfo_file = "conninfo";'
                            ' node = "node-a"; };', dests, team_list))
        state = os.path.join(self.tmp, "state-a")
        one = subprocess.run([harness.tool("ticklerd"), "-c", sqlite_conf, "-p",
                              harness.plugin_dir(), "--state-dir", state, "--now",
                              "2023-03-03T09:00:30", "--oneshot"],
                             capture_output=True, text=True, timeout=300)
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assertEqual(len(self.sink.counts()), teams)
        out = self.cli(pg_conf, "--state-dir", state, "migrate", "--from", "sqlite", "--to",
                       "postgresql").stdout
        self.assertIn("notices:      %d (0 pending" % teams, out)
        self.assertEqual(self.sql("SELECT count(*) FROM notices WHERE state = 1"), str(teams))
        self.assertEqual(self.sql("SELECT count(*) FROM log"), str(teams))
        # a node on a new machine (an empty state directory) catches up on
        # the same day: every reminder is in the migrated log, so it queues
        # and sends nothing
        fresh = subprocess.run([harness.tool("ticklerd"), "-c", pg_conf, "-p",
                                harness.plugin_dir(), "--state-dir",
                                os.path.join(self.tmp, "state-new"), "--now",
                                "2023-03-03T09:05:00", "--oneshot", "--log-level", "debug"],
                               capture_output=True, text=True, timeout=300)
        self.assertEqual(fresh.returncode, 0, fresh.stderr)
        self.assertIn("state on PostgreSQL as node node-a", fresh.stderr)
        self.assertNotIn("queued notice", fresh.stderr)
        self.assertEqual(self.sql("SELECT count(*) FROM notices"), str(teams))
        self.assertEqual(set(self.sink.counts().values()), {1})
        again = subprocess.run([harness.tool("ticklerd"), "-c", sqlite_conf, "-p",
                                harness.plugin_dir(), "--state-dir", state, "--oneshot"],
                               capture_output=True, text=True, timeout=120)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("was moved to PostgreSQL by tickler migrate", again.stderr)
        # and the commands on the SQLite copy say so, not that it is the
        # state in force
        for cmd in (["status"], ["outbox"], ["retry", "--failed"]):
            p = subprocess.run([harness.tool("tickler"), "-c", sqlite_conf, "--state-dir", state,
                                *cmd], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, cmd)
            self.assertIn("tickler %s: the state in %s/tickler.db was moved to PostgreSQL by "
                          "tickler migrate at " % (cmd[0], state), p.stderr)
            self.assertIn('set state.backend = "postgresql"', p.stderr)
            self.assertNotIn("health: ok", p.stdout)

    def test_a_node_with_a_fresh_state_directory_catches_up_from_the_shared_last_run(self):
        # node a runs at 08:30 (nothing due), so the shared last_run is
        # 08:30; then the plan gains an action due yesterday (its due
        # reminder fell before that run) and one due today at 09:00. The
        # node started again on an empty state directory catches up from
        # the shared last_run, not catch_up_days back: only today's is sent
        conf = os.path.join(self.tmp, "pg.conf")
        with open(conf, "w") as f:
            f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 7; };
state = { backend = "postgresql"; conninfo_file = "conninfo"; node = "node-a"; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5;
                             destinations = ( { name = "sink"; url_file = "sink.url"; } ); }; } );
teams = ( { id = "ops"; name = "Ops"; recipients = { hook = [ "sink" ]; }; } );
""")

        def run(state_dir, now):
            p = subprocess.run([harness.tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(),
                                "--state-dir", os.path.join(self.tmp, state_dir), "--now", now,
                                "--oneshot", "--log-level", "debug"],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            return p.stderr

        run("state-first", "2023-03-03T08:30:00")
        self.assertEqual(self.sink.counts(), {})
        with open(os.path.join(self.tmp, "plan.csv"), "a") as f:
            f.write("Y1,Due yesterday,Ops,02/03/2023,\n"
                    "T1,Due today,Ops,03/03/2023,\n")
        err = run("state-new", "2023-03-03T09:05:00")
        self.assertEqual(sum(self.sink.counts().values()), 1, err[-3000:])
        titles = self.sql("SELECT string_agg(e.title, ',') FROM entries e")
        self.assertEqual(titles, "Due today")
        # the stop keeps the shared value: it never goes back
        self.assertGreaterEqual(int(self.sql("SELECT value FROM meta WHERE key = 'last_run'")),
                                int(time.mktime(time.strptime("2023-03-03T09:00:00",
                                                              "%Y-%m-%dT%H:%M:%S"))))

    def test_the_same_plan_on_two_nodes_queues_and_sends_each_notice_once(self):
        teams = 100
        dests, team_list = self.plan_of_teams(teams)
        for node in ("a", "b"):
            with open(os.path.join(self.tmp, node + ".conf"), "w") as f:
                f.write("""
store = { files = [ "plan.csv" ]; };
schedule = { catch_up_days = 1; };
delivery = { retry_min_seconds = 1; concurrency = %d; };
state = { backend = "postgresql"; conninfo_file = "conninfo"; node = "node-%s"; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5; destinations = ( %s ); }; } );
teams = ( %s );
""" % (CONCURRENCY, node, dests, team_list))
        a = self.start("a", "--now", "2023-03-03T09:00:30")
        b = self.start("b", "--now", "2023-03-03T09:00:30")
        self.wait_all_delivered((a, b), teams)
        self.assertEqual(self.sql("SELECT count(*) FROM notices"), str(teams))
        self.assertEqual(self.sql("SELECT count(DISTINCT recipient) FROM notices"), str(teams))
        seen = self.sink.counts()
        self.assertEqual(len(seen), teams)
        self.assertEqual(set(seen.values()), {1})
        for d in (a, b):
            self.assertEqual(d.stop(), 0, d.log()[-3000:])

    def test_a_second_node_of_the_same_name_is_refused_until_the_first_has_gone(self):
        """Two ticklerd with one state.node (a cloned machine keeps its host
        name, the default): the second is refused the database, says why
        as an error, and claims nothing, so no notice is sent twice (it
        used to take the first one's leases for its own strays); once the
        first stops, the second gets the name and carries on."""
        conf = os.path.join(self.tmp, "b.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace('node = "node-b"', 'node = "node-a"'))
        a = self.start("a")
        a.wait_for("schema version")
        twin = Daemon(conf, os.path.join(self.tmp, "state-b"))
        self.daemons["b"] = twin
        i = twin.wait_for('another session holds the node name "node-a" (state.node)')
        self.assertTrue(twin.lines[i].startswith("<3>"), twin.lines[i])
        self.seed()
        self.wait_delivered()
        self.check_sink(0)
        self.assertEqual(self.by_node("a"), N)
        self.assertEqual(self.by_node("b"), 0)
        self.assertNotIn("schema version", twin.log())
        # its refusals are errors at the 1st, 2nd, 4th... attempt, not each
        loud = [int(m.group(1)) for m in re.finditer(
            r"^<3>.*cannot connect \(attempt (\d+);.*another session holds", twin.log(), re.M)]
        self.assertEqual(loud, [2 ** k for k in range(len(loud))], twin.log()[-3000:])
        self.assertEqual(a.stop(), 0, a.log()[-3000:])
        twin.wait_for("connected after", timeout=120)
        twin.wait_for("schema version", timeout=60)
        self.assertEqual(self.sql("SELECT string_agg(id, ',') FROM nodes"), "node-a")
        self.assertEqual(twin.stop(), 0, twin.log()[-3000:])

    def test_a_node_killed_at_random_instants_loses_nothing(self):
        rnd = random.Random(harness.choose_seed("ha-kill", ARGS.seed if ARGS else None))
        self.sink.delay = 0.01
        self.start("a")
        self.start("b")
        self.seed()
        kills = 0
        while kills < 10 and self.delivered() < N * 0.9:
            time.sleep(rnd.uniform(0.2, 1.5))
            self.daemons["b"].kill()
            kills += 1
            self.start("b")
        self.wait_delivered()
        # each kill loses at most what node b had in flight: CONCURRENCY
        dups = self.check_sink(kills * CONCURRENCY)
        print("killed %d times, %d notices sent twice" % (kills, dups), file=sys.stderr)
        self.assertGreaterEqual(kills, 3, "delivery ended before the kills")

    def test_the_database_restarted_mid_delivery_loses_nothing(self):
        self.sink.delay = 0.01
        a, b = self.start("a"), self.start("b")
        self.seed()
        deadline = time.monotonic() + 120
        while self.delivered() < N // 4:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.pg.restart()
        self.wait_delivered()
        # an outcome lost with the connection is sent again: at most what
        # both nodes had in flight
        self.check_sink(2 * CONCURRENCY)
        for d in (a, b):
            self.assertIn("connection lost", d.log())
            self.assertGreaterEqual(d.log().count(": connected"), 2, d.log()[-3000:])

    def test_the_database_down_a_while_costs_a_few_log_lines_not_one_per_retry(self):
        # the repeats of one failure are logged at the 1st, 2nd, 4th, 8th...
        # (debug between): 30 s down is some 8 connection attempts and 12
        # refused commits and rounds, logged about 4 times each
        self.sink.delay = 0.05
        a = self.start("a")
        self.seed()
        deadline = time.monotonic() + 120
        while self.delivered() < N // 10:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        before = len(a.log().splitlines())
        self.pg.down_for(30)
        down = a.log().splitlines()[before:]
        self.sink.delay = 0  # slow only to have the outage come mid-delivery
        self.wait_delivered()
        self.check_sink(CONCURRENCY)
        loud = [line for line in down if line.startswith(("<3>", "<4>"))]
        connect = [line for line in loud if "cannot connect" in line]
        retries = [line for line in loud if "tried again" in line or "trying again" in line]
        shown = "\n".join(loud)
        self.assertGreaterEqual(len([x for x in down if "cannot connect" in x]), 5, shown)
        self.assertLessEqual(len(connect), 4, shown)
        self.assertLessEqual(len(retries), 10, shown)
        self.assertIn("connected after", a.log())

    def test_a_node_stopped_past_its_lease_has_its_notices_delivered_by_the_other(self):
        self.sink.delay = 0.05
        a = self.start("a")
        self.start("b")
        self.seed()
        # stopped while it holds claims (what it held may finish between
        # the look and the signal: then it is let go and stopped again)
        deadline = time.monotonic() + 120
        held = ""
        while not held:
            self.assertLess(time.monotonic(), deadline, "node a never held a claim")
            if self.sql("SELECT count(*) FROM notices WHERE lease_node = 'node-a'"
                        " AND state = 0") == "0":
                time.sleep(0.05)
                continue
            os.kill(a.proc.pid, signal.SIGSTOP)
            # what node a sent before the stop is answered without it: a
            # notice whose outcome commits so is not one it still holds
            # (resumed, it would have nothing to say of it), so the held
            # set is read until it stays the same for half a second
            held, last = None, ""
            while held != last:
                held = last
                time.sleep(0.5)
                last = self.sql("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '')"
                                " FROM notices WHERE lease_node = 'node-a' AND state = 0")
            if not held:
                os.kill(a.proc.pid, signal.SIGCONT)
        time.sleep(LEASE * 1.5)
        # node b took over what node a held
        taken = self.sql("SELECT count(*) FROM notices WHERE id IN (%s)"
                         " AND (state = 1 OR lease_node = 'node-b')" % held)
        self.assertEqual(int(taken), len(held.split(",")))
        # and said so: each notice it took over, named with node a's lease
        said = set()
        for m in re.finditer(r"took over \d+ notices? from node node-a, whose lease ended at \S+ "
                             r"\(it stopped, died or lost the database\): notice=([\d,]+)",
                             self.daemons["b"].log()):
            said.update(m.group(1).split(","))
        self.assertTrue(set(held.split(",")) <= said, self.daemons["b"].log()[-3000:])
        self.sink.delay = 0  # slow only to have node a stopped mid-delivery
        os.kill(a.proc.pid, signal.SIGCONT)
        self.wait_delivered()
        # sent twice: at most what node a had in flight when stopped
        self.check_sink(CONCURRENCY)
        # back, node a records nothing of what it held: its outcomes are
        # not its own any more, its claim came back too late to use, or
        # what it had claimed is released instead of handed out
        deadline = time.monotonic() + 30
        while not ("another node took notice" in a.log() or "are released, not sent" in a.log()
                   or "it is released, not handed out" in a.log()):
            self.assertLess(time.monotonic(), deadline, a.log()[-3000:])
            time.sleep(0.2)


    def test_a_stop_gives_up_on_a_database_that_does_not_answer(self):
        # the notifier holds the one notice 3 s; meanwhile another session
        # locks the notices table for a minute, so the outcome's group
        # waits: the stop waits half a lease for it, not the whole minute
        self.sink.delay = 3
        a = self.start("a")
        self.seed(1)
        deadline = time.monotonic() + 60
        while self.sql("SELECT count(*) FROM notices WHERE lease_node = 'node-a'") != "1":
            self.assertLess(time.monotonic(), deadline, a.log()[-3000:])
            time.sleep(0.05)
        lock = subprocess.Popen(
            ["runuser", "-u", "postgres", "--"] * bool(self.pg.root) +
            [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-d", self.pg.conninfo(self.db), "-c",
             "BEGIN; LOCK TABLE notices IN ACCESS EXCLUSIVE MODE;"
             " SELECT pg_sleep(60); COMMIT"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
        try:
            deadline = time.monotonic() + 30
            while self.sql("SELECT count(*) FROM pg_locks WHERE relation = 'notices'::regclass"
                           " AND mode = 'AccessExclusiveLock' AND granted") != "1":
                self.assertLess(time.monotonic(), deadline, "the lock was not taken")
                time.sleep(0.05)
            self.assertEqual(a.stop(), 0, a.log()[-3000:])
            # it stopped while the lock was still held
            self.assertIsNone(lock.poll(), a.log()[-3000:])
            self.assertIn("stopping without the answers of", a.log())
        finally:
            self.sql("SELECT pg_terminate_backend(pid) FROM pg_locks"
                     " WHERE relation = 'notices'::regclass AND mode = 'AccessExclusiveLock'")
            lock.wait()
        # the stop let the delivery finish (the sink took it once) and its
        # outcome, delivered, waited behind the lock in a group the stop
        # gave up on: the database may still commit it once the lock goes
        # (it runs what was sent without noticing that the client left), or
        # the notice stays due, to be sent again; never failed
        self.assertEqual(list(self.sink.seen.values()), [1])
        self.assertIn(self.sql("SELECT state FROM notices WHERE id = 1"), ("0", "1"))

    def test_an_update_on_node_a_holds_node_b_s_reminders(self):
        """Officers' updates recorded on one node's web face hold the
        other node's reminders: both read them from PostgreSQL."""
        # three actions whose lead-28 reminders go at 09:00 on 2 June
        # 2031, one digest; the nodes start 45 s before, each with its
        # own web face; on node a's, A1 is marked complete and A3 snoozed
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n"
                    "A1,Keep the register,Ops,30/06/2031,In progress\n"
                    "A2,Train the managers,Ops,30/06/2031,In progress\n"
                    "A3,Review the protocol,Ops,30/06/2031,In progress\n")
        with open(os.path.join(self.tmp, "link.key"), "w") as f:
            f.write(KEY + "\n")
        ports = {}
        for node in ("a", "b"):
            ports[node] = harness.free_port()
            with open(os.path.join(self.tmp, node + ".conf"), "a") as f:
                f.write('schedule = { catch_up_days = 0; };\n'
                        'http = { listen = [ "127.0.0.1:%d" ]; };\n'
                        'links = { keys = ( { id = "k1"; file = "link.key"; } ); };\n'
                        % ports[node])
        conf_a = os.path.join(self.tmp, "a.conf")
        up = json.loads(self.cli(conf_a, "upcoming", "--from", "2031-06-01", "--days", "2",
                                 "--json").stdout)
        self.assertEqual({(u["item"], u["at"]) for u in up},
                         {(i, "2031-06-02T09:00:00+01:00") for i in ("A1", "A2", "A3")})
        a = self.start("a", "--now", "2031-06-02T08:59:15")
        b = self.start("b", "--now", "2031-06-02T08:59:15")
        for d in (a, b):
            d.wait_for("officers' updates read: 0")
        origin = "Origin: http://127.0.0.1:%d" % ports["a"]
        seen_b = len(b.lines)
        issued = calendar.timegm((2031, 6, 2, 7, 59, 0))  # 08:59 in London
        link = {node: lambda action, node=node: "http://127.0.0.1:%d/a/%s" % (
            ports[node], mint(KEY, "k1", action, "sink", issued, issued + 45 * 86400))
            for node in ("a", "b")}
        for action, form in (("A1", "do=complete"), ("A3", "do=snooze&snooze=2w")):
            url = link["a"](action)
            tok = url.rsplit("/", 1)[1]
            status, h, body = curl(url, "-X", "POST", "--data", "token=%s&%s" % (tok, form),
                                   "-H", origin)
            self.assertEqual(status, 303, body)
            self.assertTrue(h["location"].startswith(url + "?done="), h)
            # answered once it is in PostgreSQL
            self.assertEqual(self.sql("SELECT count(*) FROM updates WHERE action_id = '%s'"
                                      % action), "1")
        # node b heard of them (NOTIFY) and read them, before the round
        b.wait_for("officers' updates read: 2", after=seen_b)
        # the page on node b shows what was recorded on node a
        status, _, body = curl(link["b"]("A1"))
        self.assertEqual(status, 200)
        self.assertIn(b"Marked complete by sink", body)
        # 09:00: one digest, A2 alone, whichever node queued it
        deadline = time.monotonic() + 120
        while self.sql("SELECT count(*) FROM notices WHERE state = 1") != "1":
            self.assertLess(time.monotonic(), deadline, a.log()[-3000:] + b.log()[-3000:])
            time.sleep(0.3)
        self.assertEqual(self.sql("SELECT string_agg(item_id, ',' ORDER BY item_id)"
                                  " FROM entries"), "A2")
        self.assertEqual(len(self.sink.counts()), 1)
        both = a.log() + b.log()
        self.assertIn("reminders held back by officers' updates", both)
        # tickler updates and report read PostgreSQL
        seen = json.loads(self.cli(conf_a, "updates", "--json").stdout)
        self.assertEqual([(u["action_id"], u["kind"]) for u in seen],
                         [("A1", "complete"), ("A3", "snooze")])
        self.assertEqual(seen[1]["until"], "2031-06-16")
        report = self.cli(conf_a, "report", "--format", "md").stdout
        self.assertIn("Keep the register", report)
        self.assertRegex(report, r"(?i)complete")
        for d in (a, b):
            self.assertEqual(d.stop(), 0, d.log()[-3000:])

    def requests_sent(self, key):
        """{recipient: notices} of the update request phase key
        ("request:2031-03-03") in the shared outbox."""
        rows = self.sql("SELECT n.recipient || ' ' || count(DISTINCT n.id) FROM notices n"
                        " JOIN entries e ON e.notice_id = n.id WHERE e.stage_key = '%s'"
                        " GROUP BY n.recipient" % key)
        return dict((r.split()[0], int(r.split()[1])) for r in rows.splitlines() if r)

    def wait_all_delivered(self, nodes, count):
        """Until count notices are sent. A node logs its PostgreSQL state
        before its connection has made the schema, and a query naming
        notices fails until it exists (an OR does not spare the parse),
        so the schema is waited for first."""
        self.wait_schema()
        deadline = time.monotonic() + 300
        while int(self.sql("SELECT count(*) FROM notices WHERE state = 1")) < count:
            self.assertLess(time.monotonic(), deadline,
                            "".join(d.log()[-3000:] for d in nodes))
            time.sleep(0.3)
        time.sleep(1)  # a second queue or send would show by now

    def test_two_nodes_at_an_update_request_ask_each_team_once(self):
        """report.request_updates on two nodes: both run the request at
        its send time (Monday 3 March 2031, 09:00), and later the
        follow-up and the summary (Tuesday 25 March); each team gets each
        message once, report_to the summary once."""
        teams = 20
        dests, team_list = self.plan_of_teams(teams)
        with open(os.path.join(self.tmp, "plan.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
            for i in range(teams):
                f.write("P%d,Action %d,Team %d,31/12/2031,In progress\n" % (i, i, i))
        dests += ',\n{ name = "edi"; url_file = "sink.url"; }'
        team_list += ',\n{ id = "edi"; name = "EDI"; recipients = { hook = [ "edi" ]; }; }'
        for node in ("a", "b"):
            with open(os.path.join(self.tmp, node + ".conf"), "w") as f:
                f.write("""
store = { files = [ "plan.csv" ]; };
delivery = { retry_min_seconds = 1; concurrency = %d; report_to = "edi"; };
report = { request_updates = [ "03-03" ]; };
state = { backend = "postgresql"; conninfo_file = "conninfo"; node = "node-%s"; };
notifiers = ( { name = "hook"; plugin = "webhook";
                settings = { timeout_seconds = 5; destinations = ( %s ); }; } );
teams = ( %s );
""" % (CONCURRENCY, node, dests, team_list))
        # tickler upcoming lists the requests ahead, from PostgreSQL's updates
        up = json.loads(self.cli(os.path.join(self.tmp, "a.conf"), "upcoming", "--from",
                                 "2031-03-01", "--days", "5", "--json").stdout)
        self.assertEqual(sorted((u["stage"], u["team"], u["at"]) for u in up),
                         sorted(("request", "t%d" % i, "2031-03-03T09:00:00+00:00")
                                for i in range(teams)))
        # both nodes up before the send time: each runs the request at 09:00
        a = self.start("a", "--now", "2031-03-03T08:59:20")
        b = self.start("b", "--now", "2031-03-03T08:59:20")
        self.wait_all_delivered((a, b), teams)
        self.assertEqual(self.requests_sent("request:2031-03-03"),
                         {"t%d" % i: 1 for i in range(teams)})
        both = a.log() + b.log()
        self.assertIn("update requests: 1 sent", both)
        self.assertEqual(self.sql("SELECT count(*) FROM meta WHERE key = 'request:2031-03-03'"),
                         "1")
        for d in (a, b):
            self.assertEqual(d.stop(), 0, d.log()[-3000:])
        # nobody answered: started again before the summary's time, both
        # catch up on the follow-up (missed while they were stopped) and
        # run the summary at 09:00
        a = self.start("a", "--now", "2031-03-25T08:59:20")
        b = self.start("b", "--now", "2031-03-25T08:59:20")
        self.wait_all_delivered((a, b), 2 * teams + 1)
        self.assertEqual(self.requests_sent("request-follow-up:2031-03-03"),
                         {"t%d" % i: 1 for i in range(teams)})
        self.assertEqual(self.requests_sent("request-summary:2031-03-03"), {"edi": 1})
        self.assertEqual(self.sql("SELECT count(*) FROM notices"), str(2 * teams + 1))
        seen = self.sink.counts()
        self.assertEqual(len(seen), 2 * teams + 1)
        self.assertEqual(set(seen.values()), {1})
        intro = self.sql("SELECT intro FROM notices WHERE recipient = 'edi'")
        self.assertIn("%d teams were asked about %d actions" % (teams, teams), intro)
        self.assertIn("Not answered:", intro)
        for d in (a, b):
            self.assertEqual(d.stop(), 0, d.log()[-3000:])

    def test_a_reminder_node_b_delivered_shows_on_node_a_s_pages(self):
        """The link page's reminders, /status's last reminder and /healthz
        of node a read PostgreSQL: a reminder node b delivered shows there,
        though node a's own state directory never held it."""
        port, port_b = harness.free_port(), harness.free_port()
        with open(os.path.join(self.tmp, "link.key"), "w") as f:
            f.write(KEY + "\n")
        with open(os.path.join(self.tmp, "a.conf"), "a") as f:
            f.write('http = { listen = [ "127.0.0.1:%d" ]; };\n'
                    'links = { keys = ( { id = "k1"; file = "link.key"; } ); };\n' % port)
        with open(os.path.join(self.tmp, "b.conf"), "a") as f:
            f.write('http = { listen = [ "127.0.0.1:%d" ]; };\n' % port_b)
        self.start("b")
        self.wait_schema()
        now = int(time.time())
        self.sql("BEGIN;"
                 "INSERT INTO notices(id, channel, recipient, team_id, team_name, due_at,"
                 " created_at, next_attempt) VALUES (1, 'hook', 'sink', 'ops', 'Ops', %d, %d, %d);"
                 "SELECT setval('notices_id_seq', 1);"
                 "INSERT INTO entries(notice_id, idx, item_id, title, deadline_day, kind, stage,"
                 " stage_key, days_left, late)"
                 " VALUES (1, 0, 'A1', 'Keep the register', 47847, 1, 1, 'lead-7', 7, 0);"
                 "INSERT INTO log(key, notice_id, created_at)"
                 " VALUES ('A1|47847|lead-7|hook|sink', 1, %d);"
                 "SELECT pg_notify('tickler_queued', 'test');"
                 "COMMIT" % (now, now, now, now))
        deadline = time.monotonic() + 60
        while self.delivered() < 1:
            self.assertLess(time.monotonic(), deadline, self.daemons["b"].log()[-3000:])
            time.sleep(0.2)
        self.assertEqual(self.by_node("b"), 1)
        a = self.start("a")
        url = "http://127.0.0.1:%d/a/%s" % (port, mint(KEY, "k1", "A1", "sink", now,
                                                        now + 45 * 86400))
        # until node a first reached the database its page says the
        # reminders cannot be read just now
        deadline = time.monotonic() + 60
        while True:
            status, h, body = curl(url)
            self.assertEqual(status, 200, body)
            if b"cannot be read just now" not in body:
                break
            self.assertLess(time.monotonic(), deadline, a.log()[-3000:])
            time.sleep(0.2)
        self.assertEqual(h["cache-control"], "no-store")
        history = body.decode().split('<h2 id="h-history">History</h2>', 1)[1]
        self.assertRegex(history, r"<h3>Reminders</h3>\n<ul class=\"history\">\n<li>[^<]*: "
                         r"7 days before the deadline, to Ops by hook, delivered \(to you\)</li>")
        self.assertEqual(history.count("<li>"), 1, history)
        self.assertEqual(a.log().count("delivered notice:"), 0)  # node b sent it
        # /status: the last reminder as last read from PostgreSQL
        def last_of(body):
            return [x for x in json.loads(body)["actions"] if x["id"] == "A1"][0]["last_reminder"]
        last = last_of(self.get_until(port, "/status.json", last_of, "/status.json"))
        self.assertEqual((last["channel"], last["state"]), ("hook", "delivered"))
        self.assertEqual(self.get(port, "/healthz"), (200, "ok\n"))
        # the calendar first served by node a a second before node b: the
        # same stamp (the shared meta), so the same bytes and entity tag
        _, ha, ics_a = curl("http://127.0.0.1:%d/calendar.ics" % port)
        time.sleep(1.1)
        _, hb, ics_b = curl("http://127.0.0.1:%d/calendar.ics" % port_b)
        self.assertEqual((ha["last-modified"], ha["etag"]), (hb["last-modified"], hb["etag"]))
        self.assertEqual(ics_a, ics_b)
        self.assertEqual(self.sql("SELECT count(*) FROM meta WHERE key LIKE 'feed%ics'"), "2")
        # the database gone: the link page is 503 with Retry-After, /healthz 503
        pg_ctl = ("pg_ctl", "-D", self.pg.data, "-w", "-l", os.path.join(self.pg.tmp, "log"))
        self.pg._run(*pg_ctl, "-m", "fast", "stop")
        try:
            deadline = time.monotonic() + 60
            while True:
                status, h, body = curl(url)
                if status == 503:
                    break
                self.assertLess(time.monotonic(), deadline, a.log()[-3000:])
                time.sleep(0.3)
            self.assertGreaterEqual(int(h["retry-after"]), 1)
            self.assertIn(b"cannot read its database", body)
            status, text = self.get(port, "/healthz")
            self.assertEqual((status, text), (503, "database not connected\n"))
        finally:
            self.pg._run(*pg_ctl, "-o", "-p %d" % self.pg.port, "start")
        deadline = time.monotonic() + 60
        while self.get(port, "/healthz") != (200, "ok\n"):
            self.assertLess(time.monotonic(), deadline, a.log()[-3000:])
            time.sleep(0.3)
        self.assertEqual(curl(url)[0], 200)
        for d in self.daemons.values():
            self.assertEqual(d.stop(), 0, d.log()[-3000:])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--seed", type=int)
    ARGS, rest = p.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
