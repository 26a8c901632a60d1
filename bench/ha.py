"""Delivery with one and two ticklerd on PostgreSQL beside one on SQLite.

Run by bench/ha. In one run, against one local HTTP sink (threaded,
HTTP/1.1 keep-alive, counting the POSTs per X-Tickler-Notice: the sink of
tests/integration/test_ha_pg.py), N notices are delivered by

  sqlite   one ticklerd, state on SQLite (the default backend)
  pg-1     one ticklerd, state on PostgreSQL
  pg-2     two ticklerd, nodes a and b, on the same PostgreSQL database

each from the same plan: one action due now, owned by a team of N webhook
destinations, so each node queues N notices (on PostgreSQL the
notification log lets one node queue each) and delivers them. The
scenarios take turns within a run (their order rotates from run to run);
every PostgreSQL scenario gets a fresh database on one server started for
the benchmark.

Each row: the wall time from the daemons' start to the sink counting N
distinct notices, notices a second over it, the CPU seconds (user +
system, /proc/PID/stat) of the ticklerd processes from their start and of
the PostgreSQL server over the same span (the postmaster's own and its
reaped children's, plus every live child's), ticklerd's peak RSS, and
what the sink received: POSTs, distinct notices, duplicates. A notice
lost or sent twice is a correctness failure: the script then exits 1.
Times are not judged.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
from pg_fixture import PostgreSQL  # noqa: E402
from test_ha_pg import Sink  # noqa: E402

ap = argparse.ArgumentParser(prog="bench/ha")
ap.add_argument("build", nargs="?", default="build")
ap.add_argument("notices", nargs="?", type=int, default=10000)
ap.add_argument("runs", nargs="?", type=int, default=3)
ap.add_argument("concurrency", nargs="?", type=int, default=0,
                help="delivery.concurrency (0: the daemon's default)")
ap.add_argument("--statements", action="store_true",
                help="load pg_stat_statements and print each PostgreSQL scenario's costliest "
                     "statements (a profile: its timings are not comparable to a plain run's)")
args = ap.parse_args()
harness.BUILD = args.build
N = args.notices
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOW = "2023-03-03T09:00:30"
SCENARIOS = [("sqlite", None, 1), ("pg-1", "postgresql", 1), ("pg-2", "postgresql", 2)]


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_of(pid):
    """utime + stime of a process (all its threads), in seconds."""
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def postgres_cpu(postmaster):
    """The server's CPU seconds so far: the postmaster's own and its reaped
    children's (cutime, cstime), and every live child's."""
    f = stat_fields(postmaster)
    total = sum(int(x) for x in f[11:15])
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            c = stat_fields(int(name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(c[1]) == postmaster:
            total += int(c[11]) + int(c[12])
    return total / CLK_TCK


def write_config(d, node, backend, db):
    """The configuration of one node in d: one action due today, a team of
    N webhook destinations, all on the sink."""
    path = os.path.join(d, "node-%s.conf" % node)
    state = ""
    if backend:
        state = ('state = { backend = "postgresql"; conninfo_file = "%s"; node = "node-%s"; };\n'
                 % (os.path.join(d, "conninfo"), node))
        with open(os.path.join(d, "conninfo"), "w") as f:
            f.write(PG.conninfo(db) + "\n")
    delivery = "delivery = { concurrency = %d; };\n" % args.concurrency if args.concurrency else ""
    with open(path, "w") as f:
        f.write('store = { files = [ "%s" ]; };\nschedule = { catch_up_days = 1; };\n%s%s'
                % (PLAN, delivery, state))
        f.write('notifiers = ( { name = "hook"; plugin = "webhook"; settings = { '
                'destinations = ( %s ); }; } );\n' % DESTS)
        f.write('teams = ( { id = "crowd"; name = "Crowd"; recipients = { hook = [ %s ]; }; } );\n'
                % RCPTS)
    return path


def scenario(name, backend, nodes, run):
    db = None
    if backend:
        db = "bench_%s_%d" % (name.replace("-", "_"), run)
        PG.psql("CREATE DATABASE %s" % db)
        if args.statements:
            PG.psql("SELECT pg_stat_statements_reset()")
    d = tempfile.mkdtemp(prefix="tickler-bench-ha-")
    procs, logs = [], []
    try:
        confs = [write_config(d, chr(ord("a") + i), backend, db) for i in range(nodes)]
        with SINK.lock:
            SINK.seen.clear()
        pg0 = postgres_cpu(POSTMASTER)
        load0 = os.getloadavg()[0]
        t0 = time.monotonic()
        for i, conf in enumerate(confs):
            log = open(os.path.join(d, "log-%d" % i), "w+")
            logs.append(log)
            procs.append(subprocess.Popen(
                [harness.tool("ticklerd"), "-c", conf, "-p", harness.plugin_dir(), "--state-dir",
                 os.path.join(d, "state-%d" % i), "--now", NOW, "--log-level", "info"],
                stderr=log))
        deadline = t0 + 900
        while True:
            with SINK.lock:
                got = len(SINK.seen)
            if got >= N:
                break
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                for log in logs:
                    log.seek(0)
                    sys.stderr.write(log.read()[-3000:])
                sys.exit("%s: the sink has %d of %d notices and %s" % (
                    name, got, N, "a ticklerd exited" if dead else "the time is up"))
            time.sleep(0.02)
        wall = time.monotonic() - t0
        cpu = sum(cpu_of(p.pid) for p in procs)
        pg_cpu = postgres_cpu(POSTMASTER) - pg0 if backend else None
        rss = max(peak_rss_mib(p.pid) for p in procs)
        time.sleep(1)  # a notice sent again would arrive by now
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(120)
        seen = SINK.counts()
        if db and args.statements:
            print_statements(name, run, db)
        received = sum(seen.values())
        per_node = []
        for log in logs:
            log.seek(0)
            per_node.append(log.read().count("delivered notice:"))
        return {"name": name, "run": run, "wall": wall, "rate": N / wall, "cpu": cpu,
                "pg_cpu": pg_cpu, "rss": rss, "received": received, "distinct": len(seen),
                "dups": received - len(seen), "per_node": per_node, "load": load0}
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
        shutil.rmtree(d, ignore_errors=True)
        if db:
            PG.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
                    % db)
            PG.psql("DROP DATABASE IF EXISTS %s" % db)


def print_statements(name, run, db):
    """The statements of database db by total time, from pg_stat_statements."""
    out = PG.psql("SELECT calls, rows, round(total_exec_time::numeric, 1),"
                  " round((total_exec_time / calls)::numeric, 3),"
                  " regexp_replace(left(query, 90), '\\s+', ' ', 'g')"
                  " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                  " WHERE d.datname = '%s' ORDER BY total_exec_time DESC LIMIT 12" % db)
    print("  %s run %d, pg_stat_statements: calls | rows | total ms | mean ms | query" % (name, run))
    for line in out.strip().splitlines():
        print("    " + line)


HEAD = "%-7s %4s %9s %10s %10s %10s %8s %9s %9s %5s  %-13s %5s" % (
    "backend", "run", "seconds", "notices/s", "tickler_s", "postgres_s", "rss_MiB", "received",
    "distinct", "dups", "by_node", "load")


def row(r):
    return "%-7s %4s %9.2f %10.0f %10.2f %10s %8.1f %9d %9d %5d  %-13s %5.1f" % (
        r["name"], r["run"], r["wall"], r["rate"], r["cpu"],
        "-" if r["pg_cpu"] is None else "%.2f" % r["pg_cpu"], r["rss"], r["received"],
        r["distinct"], r["dups"], "/".join(str(x) for x in r["per_node"]), r["load"])


def main():
    os.umask(0o077)  # the files written here hold secrets (webhook URLs): private, as tickler expects
    global PG, POSTMASTER, SINK, PLAN, DESTS, RCPTS
    print("machine: %d cores; %s; load %s" % (os.cpu_count(), time.strftime("%Y-%m-%d %H:%M"),
                                             " ".join("%.2f" % x for x in os.getloadavg())))
    print("%d notices, %d run(s), delivery.concurrency %s; ticklerd from %s" % (
        N, args.runs, args.concurrency or "default", args.build))
    tmp = tempfile.mkdtemp(prefix="tickler-bench-ha-")
    PG, SINK, results = None, None, []
    try:
        PG = PostgreSQL().start()
        if args.statements:
            with open(os.path.join(PG.data, "postgresql.conf"), "a") as f:
                f.write("shared_preload_libraries = 'pg_stat_statements'\n")
            PG.restart()
            PG.psql("CREATE EXTENSION pg_stat_statements")
        with open(os.path.join(PG.data, "postmaster.pid")) as f:
            POSTMASTER = int(f.readline())
        SINK = Sink()
        url = os.path.join(tmp, "sink.url")
        with open(url, "w") as f:
            f.write("http://127.0.0.1:%d/sink\n" % SINK.port)
        PLAN = os.path.join(tmp, "plan.csv")
        with open(PLAN, "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\nB1,Benchmark action,Crowd,"
                    "03/03/2023,\n")
        DESTS = ", ".join('{ name = "d%d"; url_file = "%s"; }' % (i, url) for i in range(N))
        RCPTS = ", ".join('"d%d"' % i for i in range(N))
        print(HEAD)
        for run in range(1, args.runs + 1):
            k = (run - 1) % len(SCENARIOS)
            for name, backend, nodes in SCENARIOS[k:] + SCENARIOS[:k]:
                r = scenario(name, backend, nodes, run)
                results.append(r)
                print(row(r), flush=True)
    finally:
        if SINK:
            SINK.close()
        if PG:
            PG.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nmedians of %d run(s)" % args.runs)
    print(HEAD)
    for name, _, _ in SCENARIOS:
        rs = [r for r in results if r["name"] == name]
        m = {"name": name, "run": "med", "rss": statistics.median(r["rss"] for r in rs)}
        for k in ("wall", "cpu", "received", "distinct", "dups", "load"):
            m[k] = statistics.median(r[k] for r in rs)
        m["rate"] = N / m["wall"]
        m["pg_cpu"] = None if rs[0]["pg_cpu"] is None else statistics.median(
            r["pg_cpu"] for r in rs)
        m["per_node"] = [statistics.median(r["per_node"][i] for r in rs)
                         for i in range(len(rs[0]["per_node"]))]
        m["per_node"] = [int(x) for x in m["per_node"]]
        print(row(m))
    bad = [r for r in results if r["distinct"] != N or r["dups"]]
    for r in bad:
        print("CORRECTNESS: %s run %d: %d received, %d distinct of %d, %d duplicates" % (
            r["name"], r["run"], r["received"], r["distinct"], N, r["dups"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
