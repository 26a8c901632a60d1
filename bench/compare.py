"""tickler against remind and Prometheus Alertmanager, side by side.

Run by bench/compare, which installs the peers and builds tickler. Each
measurement alternates the two sides, after one warm-up run of each, and
reports the median of --runs runs. Every command line is printed as it
runs and listed in the results file.

1. Scheduling: N actions with the ladder [28, 14, 7, 1, 0] days before
   their deadline, moved to the working day before (England and Wales bank
   holidays). tickler lists a year of reminders with `tickler upcoming`;
   remind lists the same from REM lines that do the same date arithmetic
   and OMIT ... BEFORE moves, with `remind -n`. The load (`tickler check`)
   against libcsv alone, and the memory, also on rows shaped as the
   council's (gen_shaped_plan).
2. Delivery: N notices to one local HTTP sink (nginx) and one local SMTP
   sink (Postfix's smtp-sink), from `ticklerd --oneshot`, a running ticklerd
   and Alertmanager (alerts posted to its v2 API; grouped by every label,
   so one message an alert).
3. Idle: ticklerd holding 10,000 actions with nothing due, and
   Alertmanager holding 10,000 silenced alerts, watched side by side.
4. Reload: one row of a 100,000-action plan is edited under a running
   ticklerd; the time until its log says the new schedule is in force.
5. Web face: ticklerd on the shipped sample (etc/) serving /calendar.ics,
   /metrics and /status, and Alertmanager serving /metrics, each on
   loopback, loaded by the same wrk command: requests per second, latency,
   body sizes and the server's CPU time.

--only runs some of the sections; their parts of the results file are
replaced and the rest of it is kept.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import random
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SECTIONS = ["scheduling", "delivery", "idle", "reload", "web"]
ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build-bench")
ap.add_argument("--quick", action="store_true")
ap.add_argument("--runs", type=int, default=None)
ap.add_argument("--idle-seconds", type=int, default=None)
ap.add_argument("--out", default=None)
ap.add_argument("--delivery-kinds", default="http,smtp",
                help="comma-separated sinks the delivery section sends to: http, smtp")
ap.add_argument("--delivery-sizes", default=None,
                help="comma-separated notice counts of the delivery section")
ap.add_argument("--tickler-delivery", default="",
                help="settings of tickler's delivery group in the delivery section, "
                     "e.g. 'concurrency = 32;' (default: none, the defaults)")
ap.add_argument("--only", default=None,
                help="comma-separated sections: " + ", ".join(SECTIONS))
args = ap.parse_args()
ONLY = SECTIONS if args.only is None else [x.strip() for x in args.only.split(",") if x.strip()]
for x in ONLY:
    if x not in SECTIONS:
        ap.error("--only: unknown section %r (sections: %s)" % (x, ", ".join(SECTIONS)))

QUICK = args.quick
RUNS = args.runs or (1 if QUICK else 3)
IDLE = args.idle_seconds or (20 if QUICK else 600)
SCHED_SIZES = [1000, 10000] if QUICK else [1000, 10000, 100000, 1000000]
DELIVERY_SIZES = ([int(x) for x in args.delivery_sizes.split(",")] if args.delivery_sizes
                  else [200] if QUICK else [1000, 10000])
DELIVERY_KINDS = [x.strip() for x in args.delivery_kinds.split(",") if x.strip()]
for x in DELIVERY_KINDS:
    if x not in ("http", "smtp"):
        ap.error("--delivery-kinds: unknown sink %r (sinks: http, smtp)" % x)
IDLE_ACTIONS = 1000 if QUICK else 10000
RELOAD_ACTIONS = 10000 if QUICK else 100000
OUT = args.out or ("bench/RESULTS-quick.md" if QUICK else "bench/RESULTS.md")
WEB_SECONDS = 3 if QUICK else 10  # one measured wrk run
WEB_WARMUP = 1 if QUICK else 2
WEB_CONNECTIONS = 50
WEB_THREADS = 2
WEB_LIMIT = 256  # ticklerd's http connection limits for the run (defaults 64, 16 an address)

BUILD = os.path.abspath(args.build)
TICKLER = os.path.join(BUILD, "daemon", "tickler")
TICKLERD = os.path.join(BUILD, "daemon", "ticklerd")
PLUGINS = os.path.join(BUILD, "plugins")
REMIND = shutil.which("remind")
AM = shutil.which("prometheus-alertmanager")
WRK = shutil.which("wrk")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LADDER = [28, 14, 7, 1, 0]
YEAR_START = datetime.date(2027, 1, 1)  # a whole, known year: 2027
TMP = tempfile.mkdtemp(prefix="tickler-compare-")
COMMANDS = {}  # what -> one command line, for the results file
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(*a):
    print(*a, flush=True)


def show(what, cmd):
    line = " ".join(shlex.quote(str(c)) for c in cmd)
    line = line.replace(TMP, "$TMP").replace(os.getcwd() + "/", "")
    say("$ " + line)
    COMMANDS.setdefault(what, line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(xs):
    return statistics.median(xs)


# ---------------------------------------------------------------- sinks

class Counter:
    """Messages a sink has taken, read from a file the sink writes as it
    takes them: total(text) gives the count so far from the text appended
    since the last read. Polled, so no thread of this script competes with
    the sides for the CPU while they deliver."""

    def __init__(self, path, total):
        self.path = path
        self.total = total
        self.seen = 0  # the sink's count when last read
        self.base = 0
        self.offset = 0
        self.tail = ""

    def _read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return self.seen
        self.offset += len(data)
        self.seen, self.tail = self.total(self.seen, self.tail + data.decode("latin-1"))
        return self.seen

    @property
    def n(self):
        return self._read() - self.base

    def reset(self):
        self.base = self._read()

    def wait_for(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.n < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True


def sbin(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


class HttpSink:
    """One local HTTP server for both sides, nginx answering 200 to every
    request (`return 200`), one worker, keep-alive unbounded; POSTs are
    counted from its access log, a line a request. (Python's http.server
    took about 3,500 POSTs a second here at 16 connections, GIL-bound: the
    bound of both sides, not theirs; nginx takes more than 15,000.)"""

    def __init__(self):
        self.dir = tempfile.mkdtemp(dir=TMP, prefix="nginx-")
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        log = os.path.join(self.dir, "access.log")
        with open(conf, "w") as f:
            f.write("""daemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http {
  access_log %(log)s;
  keepalive_requests 1000000;
  client_body_temp_path %(d)s/body;
  server {
    listen 127.0.0.1:%(port)d backlog=1024;
    location / { return 200; }
  }
}
""" % {"d": self.dir, "log": log, "port": self.port})
        cmd = [sbin("nginx"), "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")]
        show("delivery: the HTTP sink", cmd)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        self.count = Counter(log, lambda seen, text: (seen + text.count("\n"), ""))
        wait_listening(self.port, self.proc, "nginx", self.dir)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)


class SmtpSink:
    """One local SMTP server for both sides, Postfix's smtp-sink, which
    takes every message and keeps none; messages are counted from its
    running counters (-c: 'sess=S quit=Q mesg=M' written as each message
    ends). (aiosmtpd took about 1,200 messages a second here at 16
    sessions, GIL-bound; smtp-sink about 2,500, the client's share of the
    two cores included.)"""

    def __init__(self):
        self.dir = tempfile.mkdtemp(dir=TMP, prefix="smtp-sink-")
        self.port = free_port()
        out = os.path.join(self.dir, "counters")
        cmd = [sbin("smtp-sink"), "-c"]
        if os.getuid() == 0:
            cmd += ["-u", "nobody"]  # it will not run as root
        cmd += ["127.0.0.1:%d" % self.port, "1024"]
        show("delivery: the SMTP sink", cmd)
        with open(out, "w") as f:
            self.proc = subprocess.Popen(cmd, stdout=f)
        self.count = Counter(out, self._total)
        wait_listening(self.port, self.proc, "smtp-sink", self.dir)

    @staticmethod
    def _total(seen, text):
        """The last complete record's mesg=; an incomplete one is kept."""
        done, _, rest = text.rpartition("\r")
        found = re.findall(r"mesg=(\d+)", done)
        return (int(found[-1]) if found else seen), rest

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)


def wait_listening(port, proc, what, d):
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            sys.exit("%s did not start; see %s" % (what, d))
        time.sleep(0.02)


# ---------------------------------------------------------------- processes

def timed(cmd, path):
    """cmd under GNU time, which writes CPU seconds and peak RSS to path.
    (A child of this Python process would report Python's own peak RSS as
    its floor: Linux keeps the high-water mark across fork and exec.)"""
    return ["/usr/bin/time", "-f", "%U %S %M", "-o", path, *cmd]


def read_timed(path):
    with open(path) as f:
        user, system, kib = f.read().split()[-3:]
    return float(user) + float(system), int(kib) / 1024


def run_measured(what, cmd, out_path):
    """Runs cmd to completion: wall seconds, CPU seconds, peak RSS MiB."""
    cmd = timed(cmd, out_path + ".time")
    show(what, cmd)
    with open(out_path, "w") as out, open(out_path + ".err", "w") as err:
        t0 = time.monotonic()
        rc = subprocess.call(cmd, stdout=out, stderr=err)
        wall = time.monotonic() - t0
    if rc != 0:
        sys.exit("%s exited with %d; see %s.err" % (cmd[5], rc, out_path))
    return (wall, *read_timed(out_path + ".time"))


def proc_sample(pid):
    """CPU seconds, context switches (all threads) and RSS of a process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    switches = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except FileNotFoundError:
            pass
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    rss = int(status["VmRSS"].split()[0]) / 1024
    hwm = int(status["VmHWM"].split()[0]) / 1024
    return cpu, switches, rss, hwm


class Ticklerd:
    """ticklerd in the background; its log lines are collected."""

    def __init__(self, what, conf, state, *extra):
        cmd = [TICKLERD, "-c", conf, "-p", PLUGINS, "--state-dir", state,
               "--log-level", "notice", *extra]
        show(what, cmd)
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()

    def wait_line(self, pattern, start=0, timeout=600):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if rx.search(self.lines[i][1]):
                        return i, self.lines[i]
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    sys.exit("ticklerd: no log line /%s/; its log:\n%s" %
                             (pattern, "\n".join(l for _, l in self.lines[-20:])))
                self.cond.wait(left)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)


class Alertmanager:
    def __init__(self, what, config_yaml, *extra):
        self.dir = tempfile.mkdtemp(dir=TMP, prefix="am-")
        conf = os.path.join(self.dir, "alertmanager.yml")
        with open(conf, "w") as f:
            f.write(config_yaml)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        cmd = [AM, "--config.file=" + conf, "--storage.path=" + os.path.join(self.dir, "data"),
               "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
               "--log.level=warn", *extra]
        show(what, cmd)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                sys.exit("alertmanager did not start; see %s/log" % self.dir)
            time.sleep(0.05)

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read()

    def post_alerts(self, n, hours=1):
        now = datetime.datetime.now(datetime.timezone.utc)
        ends = (now + datetime.timedelta(hours=hours)).isoformat()
        starts = now.isoformat()
        for lo in range(0, n, 1000):
            self.post("/api/v2/alerts", [
                {"labels": {"alertname": "Reminder", "action": "A%d" % i, "team": "crowd"},
                 "annotations": {"summary": "Benchmark action %d is due on 2027-03-03" % i},
                 "startsAt": starts, "endsAt": ends}
                for i in range(lo, min(n, lo + 1000))])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()


AM_ROUTE = """route:
  receiver: sink
  group_by: ['...']
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
"""


def am_config(kind, http_port=None, smtp_port=None):
    if kind == "http":
        return AM_ROUTE + """receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:%d/alertmanager
        send_resolved: false
""" % http_port
    return """global:
  smtp_smarthost: 127.0.0.1:%d
  smtp_from: bench@example.org
  smtp_require_tls: false
""" % smtp_port + AM_ROUTE + """receivers:
  - name: sink
    email_configs:
      - to: crowd@example.org
        send_resolved: false
"""


# ---------------------------------------------------------------- inputs

def holidays(years):
    days = []
    for y in years:
        conf = os.path.join(TMP, "holidays.conf")
        with open(conf, "w") as f:
            f.write('store = { files = [ "%s" ]; };\nteams = ( { id = "t"; name = "T"; } );\n'
                    % os.path.join(TMP, "empty.csv"))
        with open(os.path.join(TMP, "empty.csv"), "w") as f:
            f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
        out = subprocess.run([TICKLER, "-c", conf, "holidays", "--year", str(y)],
                             capture_output=True, text=True, check=True).stdout
        days += re.findall(r"^(\d{4}-\d\d-\d\d) ", out, re.M)
    return days


TEAMS = ["Team %d" % i for i in range(8)]


def gen_plan(path, n, first, last, seed):
    """n actions with deadlines from first to last; returns the deadlines."""
    rnd = random.Random(seed)
    span = (last - first).days + 1
    deadlines = []
    with open(path, "w") as f:
        f.write("Ref,Actions,Responsibility,Timeframe,Status\n")
        for i in range(n):
            d = first + datetime.timedelta(days=rnd.randrange(span))
            deadlines.append(d)
            f.write("A%d,Benchmark action %d,%s,%s,\n" % (i, i, TEAMS[i % len(TEAMS)],
                                                         d.strftime("%d/%m/%Y")))
    return deadlines


def gen_shaped_plan(path, n, first, last, seed):
    """n actions shaped as the council's: the rows of etc/sample-plan.csv
    (its eight columns, the long Commitments and Progress cells with their
    line breaks) in turn, each with an id of its own, a bench team and a
    deadline from first to last. Each turn numbers its texts, so a text
    repeats over the rows of one turn as it does in the council's plan,
    not over the whole file."""
    with open(os.path.join(ROOT, "etc", "sample-plan.csv"), newline="") as f:
        sample = list(csv.DictReader(f))
    cols = ["Ref", "Objective", "Commitments", "Actions", "Responsibility", "Timeframe",
            "Status", "Progress"]
    rnd = random.Random(seed)
    span = (last - first).days + 1
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in range(n):
            r, turn = sample[i % len(sample)], " (%d)" % (i // len(sample))
            d = first + datetime.timedelta(days=rnd.randrange(span))
            w.writerow(["A%d" % i] + [r[c] + turn if r[c] else "" for c in cols[1:4]] +
                       [TEAMS[i % len(TEAMS)], d.strftime("%d/%m/%Y"), "",
                        r["Progress"] + turn if r["Progress"] else ""])


def gen_remind(path, deadlines, omit):
    with open(path, "w") as f:
        f.write("# England and Wales bank holidays, as tickler has them\n")
        for d in omit:
            f.write("OMIT %s\n" % d)
        for i, d in enumerate(deadlines):
            for k in LADDER:
                f.write("REM [date(%d,%d,%d)-%d] OMIT SAT SUN BEFORE AT 09:00 MSG A%d %s %s\n"
                        % (d.year, d.month, d.day, k, i, "lead-%d" % k if k else "due",
                           d.isoformat()))


def tickler_conf(path, plan, teams_extra="", notifiers="", delivery=""):
    with open(path, "w") as f:
        f.write('store = { files = [ "%s" ]; };\n' % plan)
        f.write("schedule = { ladder = [ %s ]; overdue_every_days = 0; };\n"
                % ", ".join(map(str, LADDER)))
        f.write(delivery + notifiers)
        f.write("teams = ( %s );\n" % ", ".join(
            '{ id = "t%d"; name = "%s";%s }' % (i, t, teams_extra) for i, t in enumerate(TEAMS)))


# ---------------------------------------------------------------- 1. scheduling

def pairs_tickler(path):
    out = set()
    with open(path) as f:
        for line in f:
            m = re.match(r"(\d{4}-\d\d-\d\d)T\S+\s+\S+\s+\S+\s+\S+\s+Benchmark action (\d+)$",
                         line.rstrip())
            if m:
                out.add(("A" + m.group(2), m.group(1)))
    return out


def pairs_remind(path, first, last):
    out = set()
    with open(path) as f:
        for line in f:
            m = re.match(r"(\d{4})/(\d\d)/(\d\d) \S+ (A\d+) ", line)
            if m:
                day = "%s-%s-%s" % m.group(1, 2, 3)
                if first.isoformat() <= day <= last.isoformat():
                    out.add((m.group(4), day))
    return out


def csv_floor():
    """bench/csv-floor.c built in TMP: libcsv alone parsing a file."""
    path = os.path.join(TMP, "csv-floor")
    if not os.path.exists(path):
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", path,
                        os.path.join(ROOT, "bench", "csv-floor.c"), "-lcsv"], check=True)
    return path


def scheduling(results):
    say("\n== 1. scheduling: a year of reminders")
    floor = csv_floor()
    last = YEAR_START + datetime.timedelta(days=364)
    omit = holidays([2026, 2027])
    rows = []
    for n in SCHED_SIZES:
        d = os.path.join(TMP, "sched-%d" % n)
        os.makedirs(d)
        plan, rem, conf = (os.path.join(d, x) for x in ("plan.csv", "plan.rem", "tickler.conf"))
        deadlines = gen_plan(plan, n, YEAR_START, last, n)
        gen_remind(rem, deadlines, omit)
        tickler_conf(conf, plan)
        t_cmd = [TICKLER, "-c", conf, "upcoming", "--from", YEAR_START.isoformat(), "--days", "365"]
        r_cmd = [REMIND, "-n", rem, YEAR_START.isoformat()]
        c_cmd, f_cmd = [TICKLER, "-c", conf, "check"], [floor, plan]
        t_out, r_out = os.path.join(d, "tickler.out"), os.path.join(d, "remind.out")
        c_out, f_out = os.path.join(d, "check.out"), os.path.join(d, "floor.out")
        run_measured("scheduling: tickler", t_cmd, t_out)  # warm-up
        run_measured("scheduling: remind", r_cmd, r_out)
        run_measured("scheduling: tickler check (the load)", c_cmd, c_out)
        run_measured("scheduling: libcsv alone (the load's floor)", f_cmd, f_out)
        t, r, c, fl = [], [], [], []
        for _ in range(RUNS):
            t.append(run_measured("scheduling: tickler", t_cmd, t_out))
            r.append(run_measured("scheduling: remind", r_cmd, r_out))
            c.append(run_measured("scheduling: tickler check (the load)", c_cmd, c_out))
            fl.append(run_measured("scheduling: libcsv alone (the load's floor)", f_cmd, f_out))
        tp, rp = pairs_tickler(t_out), pairs_remind(r_out, YEAR_START, last)
        ids = sorted({a for a, _ in tp | rp})
        sample = set(random.Random(7).sample(ids, min(1000, len(ids))))
        ts = {p for p in tp if p[0] in sample}
        rs = {p for p in rp if p[0] in sample}
        same = ts == rs
        if not same:
            say("MISMATCH for N=%d: only tickler %s; only remind %s" %
                (n, sorted(ts - rs)[:5], sorted(rs - ts)[:5]))
        with open(t_out) as f:
            t_lines = sum(1 for line in f if line[:1].isdigit())
        with open(r_out) as f:
            r_lines = sum(1 for line in f if line[:1].isdigit())
        row = {"n": n, "t": t, "r": r, "same": same, "sample": len(sample), "pairs": len(ts),
               "t_lines": t_lines, "r_lines": r_lines, "check": c, "floor": fl,
               "csv_bytes": os.path.getsize(plan)}
        rows.append(row)
        say("N=%d tickler %.2fs %.0fMiB, remind %.2fs %.0fMiB; sample of %d actions: %s" % (
            n, median(x[0] for x in t), median(x[2] for x in t), median(x[0] for x in r),
            median(x[2] for x in r), len(sample), "same reminders" if same else "DIFFERENT"))
        say("N=%d load: tickler check %.2fs (%.2f CPU s), libcsv alone %.2fs (%.2f CPU s)" % (
            n, median(x[0] for x in c), median(x[1] for x in c), median(x[0] for x in fl),
            median(x[1] for x in fl)))
        shutil.rmtree(d, ignore_errors=True)
    results["scheduling"] = rows
    results["scheduling_shaped"] = [shaped_load(SCHED_SIZES[-1], floor, last)]


def shaped_load(n, floor, last):
    """The load and the listing's memory on n rows shaped as the council's
    (gen_shaped_plan), where the benchmark's own rows are 48 bytes."""
    d = os.path.join(TMP, "shaped-%d" % n)
    os.makedirs(d)
    plan, conf = os.path.join(d, "plan.csv"), os.path.join(d, "tickler.conf")
    gen_shaped_plan(plan, n, YEAR_START, last, n)
    tickler_conf(conf, plan)
    t_cmd = [TICKLER, "-c", conf, "upcoming", "--from", YEAR_START.isoformat(), "--days", "365"]
    c_cmd, f_cmd = [TICKLER, "-c", conf, "check"], [floor, plan]
    t_out, c_out, f_out = (os.path.join(d, x) for x in ("tickler.out", "check.out", "floor.out"))
    cmds = [("scheduling, sample-plan rows: tickler", t_cmd, t_out),
            ("scheduling, sample-plan rows: tickler check (the load)", c_cmd, c_out),
            ("scheduling, sample-plan rows: libcsv alone (the load's floor)", f_cmd, f_out)]
    for what, cmd, out in cmds:  # warm-up
        run_measured(what, cmd, out)
    t, c, fl = [], [], []
    for _ in range(RUNS):
        for (what, cmd, out), acc in zip(cmds, (t, c, fl)):
            acc.append(run_measured(what, cmd, out))
    with open(t_out) as f:
        t_lines = sum(1 for line in f if line[:1].isdigit())
    row = {"n": n, "t": t, "check": c, "floor": fl, "csv_bytes": os.path.getsize(plan),
           "t_lines": t_lines}
    say("N=%d, sample-plan rows (%.0f MiB): upcoming %.2fs %.0fMiB, check %.2fs %.0fMiB, "
        "libcsv alone %.2fs" % (n, row["csv_bytes"] / 1048576, median(x[0] for x in t),
                                median(x[2] for x in t), median(x[0] for x in c),
                                median(x[2] for x in c), median(x[0] for x in fl)))
    shutil.rmtree(d, ignore_errors=True)
    return row


# ---------------------------------------------------------------- 2. delivery

def delivery_conf(d, kind, n, http, smtp, catch_up_days=1):
    """The configuration of one delivery run in d: one action due at 09:00
    on 3 March 2027, owned by a team of n recipients of the sink kind;
    catch_up_days 0 leaves the earlier rungs, already past, unsent."""
    plan = os.path.join(d, "plan.csv")
    with open(plan, "w") as f:
        f.write("Ref,Actions,Responsibility,Timeframe,Status\nA1,Benchmark action,Crowd,03/03/2027,\n")
    if kind == "http":
        dests = []
        for i in range(n):
            p = os.path.join(d, "d%d.url" % i)
            with open(p, "w") as f:
                f.write("http://127.0.0.1:%d/tickler\n" % http.port)
            dests.append('{ name = "d%d"; url_file = "%s"; }' % (i, p))
        notifier = ('notifiers = ( { name = "out"; plugin = "webhook"; settings = '
                    '{ destinations = ( %s ); }; } );\n' % ", ".join(dests))
        rcpts = ["d%d" % i for i in range(n)]
    else:
        notifier = ('notifiers = ( { name = "out"; plugin = "email"; settings = { url = '
                    '"smtp://127.0.0.1:%d"; tls = "none"; from = "bench@example.org"; }; } );\n'
                    % smtp.port)
        rcpts = ["u%d@example.org" % i for i in range(n)]
    conf = os.path.join(d, "tickler.conf")
    with open(conf, "w") as f:
        f.write('store = { files = [ "%s" ]; };\nschedule = { catch_up_days = %d; };\n'
                % (plan, catch_up_days))
        f.write(notifier)
        if args.tickler_delivery:
            f.write("delivery = { %s };\n" % args.tickler_delivery)
        f.write('teams = ( { id = "crowd"; name = "Crowd"; recipients = { out = [ %s ]; }; } );\n'
                % ", ".join('"%s"' % r for r in rcpts))
    return conf


def tickler_delivery(kind, n, http, smtp):
    """ticklerd --oneshot: its time runs from the start of the process."""
    d = tempfile.mkdtemp(dir=TMP, prefix="deliv-")
    conf = delivery_conf(d, kind, n, http, smtp)
    sink = http if kind == "http" else smtp
    sink.count.reset()
    tf = os.path.join(d, "time")
    cmd = timed([TICKLERD, "-c", conf, "-p", PLUGINS, "--state-dir", os.path.join(d, "state"),
                 "--now", "2027-03-03T09:00:30", "--oneshot", "--log-level", "warning"], tf)
    show("delivery (%s): ticklerd" % kind, cmd)
    t0 = time.monotonic()
    with open(os.path.join(d, "log"), "w") as log:
        p = subprocess.Popen(cmd, stderr=log)
        if not sink.count.wait_for(n, 900):
            sys.exit("ticklerd delivered %d of %d; see %s/log" % (sink.count.n, n, d))
        wall = time.monotonic() - t0
        rc = p.wait()
    if rc != 0:
        sys.exit("ticklerd --oneshot exited with %d; see %s/log" % (rc, d))
    cpu, rss = read_timed(tf)
    shutil.rmtree(d, ignore_errors=True)
    return wall, cpu, rss


DAEMON_LEAD = 10  # seconds between ticklerd's start and the send time


def tickler_delivery_daemon(kind, n, http, smtp):
    """ticklerd as a running daemon, measured as Alertmanager is: started
    DAEMON_LEAD seconds before the send time (--now), settled, then its
    time and CPU run from the send time until the sink has all n."""
    d = tempfile.mkdtemp(dir=TMP, prefix="deliv-")
    conf = delivery_conf(d, kind, n, http, smtp, catch_up_days=0)
    sink = http if kind == "http" else smtp
    sink.count.reset()
    # --now sets ticklerd's clock ahead by whole seconds, so its send time
    # falls when the wall clock next reaches a whole second DAEMON_LEAD s
    # after the one it started in (started early in a second, to be sure)
    if time.time() % 1 > 0.8:
        time.sleep(1 - time.time() % 1)
    wall0, t_start = time.time(), time.monotonic()
    t = Ticklerd("delivery (%s): ticklerd, running" % kind, conf, os.path.join(d, "state"),
                 "--now", "2027-03-03T08:59:%02d" % (60 - DAEMON_LEAD))
    try:
        t.wait_line(r"ticklerd .* started")
        fire = t_start + (int(wall0) + DAEMON_LEAD - wall0)
        if time.monotonic() > fire - 0.2:
            sys.exit("ticklerd took more than %d s to start; raise DAEMON_LEAD" % DAEMON_LEAD)
        time.sleep(fire - 0.2 - time.monotonic())
        cpu0 = proc_sample(t.proc.pid)[0]
        if sink.count.n:
            sys.exit("ticklerd sent %d before the send time; see %s" % (sink.count.n, d))
        if not sink.count.wait_for(n, 900):
            sys.exit("ticklerd delivered %d of %d; see %s" % (sink.count.n, n, d))
        wall = time.monotonic() - fire
        time.sleep(0.2)
        cpu1, _, _, hwm = proc_sample(t.proc.pid)
    finally:
        t.stop()
    shutil.rmtree(d, ignore_errors=True)
    return wall, cpu1 - cpu0, hwm


def am_delivery(kind, n, http, smtp):
    sink = http if kind == "http" else smtp
    am = Alertmanager("delivery (%s): alertmanager" % kind,
                      am_config(kind, http.port, smtp.port))
    try:
        sink.count.reset()
        cpu0 = proc_sample(am.proc.pid)[0]
        t0 = time.monotonic()
        am.post_alerts(n)
        if not sink.count.wait_for(n, 900):
            sys.exit("alertmanager delivered %d of %d; see %s/log" % (sink.count.n, n, am.dir))
        wall = time.monotonic() - t0
        time.sleep(0.2)
        cpu1, _, _, hwm = proc_sample(am.proc.pid)
        return wall, cpu1 - cpu0, hwm
    finally:
        am.stop()


def delivery(results, http, smtp):
    say("\n== 2. delivery: N notices to the same sinks")
    show("delivery: alerts posted to Alertmanager",
         ["POST", "/api/v2/alerts", "(1,000 alerts a request, labels alertname, action, team)"])
    rows = []
    for kind in DELIVERY_KINDS:
        for n in DELIVERY_SIZES:
            tickler_delivery(kind, n, http, smtp)  # warm-up
            am_delivery(kind, n, http, smtp)
            t, r, a = [], [], []
            for _ in range(RUNS):
                t.append(tickler_delivery(kind, n, http, smtp))
                r.append(tickler_delivery_daemon(kind, n, http, smtp))
                a.append(am_delivery(kind, n, http, smtp))
            rows.append({"kind": kind, "n": n, "t": t, "r": r, "a": a})
            say("%s N=%d: ticklerd --oneshot %.2fs %.2f CPU s %.0fMiB; running %.2fs %.2f CPU s "
                "%.0fMiB; alertmanager %.2fs %.2f CPU s %.0fMiB" % (
                    kind, n, *(median(x[i] for x in t) for i in range(3)),
                    *(median(x[i] for x in r) for i in range(3)),
                    *(median(x[i] for x in a) for i in range(3))))
    results["delivery"] = rows


# ---------------------------------------------------------------- 3. idle, 4. reload

def idle_tickler_setup(n, http):
    d = tempfile.mkdtemp(dir=TMP, prefix="idle-")
    plan = os.path.join(d, "plan.csv")
    # deadlines from March: the first reminder is on 1 February, weeks after --now
    gen_plan(plan, n, datetime.date(2027, 3, 1), datetime.date(2027, 12, 31), n + 1)
    conf = os.path.join(d, "tickler.conf")
    url = os.path.join(d, "sink.url")
    with open(url, "w") as f:
        f.write("http://127.0.0.1:%d/tickler\n" % http.port)
    tickler_conf(conf, plan, teams_extra=' recipients = { out = [ "sink" ]; };',
                 notifiers='notifiers = ( { name = "out"; plugin = "webhook"; settings = '
                           '{ destinations = ( { name = "sink"; url_file = "%s"; } ); }; } );\n'
                           % url)
    return d, plan, conf


def idle(results, http):
    say("\n== 3. idle: %d seconds, side by side" % IDLE)
    http.count.reset()
    d, _, conf = idle_tickler_setup(IDLE_ACTIONS, http)
    td = Ticklerd("idle: ticklerd", conf, os.path.join(d, "state"), "--now", "2027-01-04T12:00")
    td.wait_line(r"started: %d actions" % IDLE_ACTIONS)
    am = Alertmanager("idle: alertmanager", am_config("http", http.port))
    silence = {"matchers": [{"name": "alertname", "value": "Reminder", "isRegex": False,
                             "isEqual": True}],
               "startsAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
               "endsAt": (datetime.datetime.now(datetime.timezone.utc)
                          + datetime.timedelta(hours=24)).isoformat(),
               "createdBy": "bench", "comment": "hold every alert silenced"}
    show("idle: silence in Alertmanager", ["POST", "/api/v2/silences", json.dumps(silence["matchers"])])
    am.post("/api/v2/silences", silence)
    am.post_alerts(IDLE_ACTIONS, hours=24)
    time.sleep(5)
    with urllib.request.urlopen(am.url + "/api/v2/alerts?silenced=true&active=false", timeout=60) as r:
        held = len(json.load(r))
    t0 = proc_sample(td.proc.pid)
    a0 = proc_sample(am.proc.pid)
    time.sleep(IDLE)
    t1 = proc_sample(td.proc.pid)
    a1 = proc_sample(am.proc.pid)
    sent = http.count.n
    td.stop()
    am.stop()
    shutil.rmtree(d, ignore_errors=True)
    results["idle"] = {"t": (t1[0] - t0[0], t1[1] - t0[1], t1[2]),
                       "a": (a1[0] - a0[0], a1[1] - a0[1], a1[2]), "held": held, "sent": sent}
    say("ticklerd: %.2f CPU s, %d context switches, %.0f MiB; alertmanager (%d silenced "
        "alerts): %.2f CPU s, %d context switches, %.0f MiB; messages sent meanwhile: %d" % (
            *results["idle"]["t"], held, *results["idle"]["a"], sent))


def memory_of(pid, state):
    """kB of the daemon's memory: RssAnon, RssFile and VmRSS from
    /proc/PID/status, and 'cold', the resident part of its mappings of
    unnamed files of its state directory (the plan it holds, ticklerd(8)
    FILES), from /proc/PID/smaps."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "RssFile", "VmRSS"):
                out[k] = int(v.split()[0])
    prefix, cold, inside = os.path.realpath(state) + "/", 0, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if re.match(r"[0-9a-f]+-[0-9a-f]+$", parts[0]):
                path = parts[5].rstrip("\n") if len(parts) > 5 else ""
                inside = path.startswith(prefix) and path.endswith(" (deleted)")
            elif inside and parts[0] == "Rss:":
                cold += int(parts[1])
    out["cold"] = cold
    return out


def reload(results, http):
    say("\n== 4. reload: one row of %d edited" % RELOAD_ACTIONS)
    d, plan, conf = idle_tickler_setup(RELOAD_ACTIONS, http)
    state = os.path.join(d, "state")
    td = Ticklerd("reload: ticklerd", conf, state, "--now", "2027-01-04T12:00")
    td.wait_line(r"started: %d actions" % RELOAD_ACTIONS)
    time.sleep(2)  # the start's work done
    memory = {"csv": os.path.getsize(plan), "start": memory_of(td.proc.pid, state)}
    with open(plan) as f:
        lines = f.read().split("\n")
    row = RELOAD_ACTIONS // 2 + 1  # a row in the middle of the file
    times = []
    for run in range(RUNS + 1):  # the first is the warm-up
        cells = lines[row].split(",")
        cells[3] = "%02d/12/2027" % (1 + run)  # a new deadline
        lines[row] = ",".join(cells)
        tmp = plan + ".new"
        with open(tmp, "w") as f:
            f.write("\n".join(lines))
        start = len(td.lines)
        t0 = time.monotonic()
        os.replace(tmp, plan)  # as a spreadsheet saves: a new file in its place
        _, (t1, line) = td.wait_line(r"store reloaded: .* (\d+) changed", start)
        changed = int(re.search(r"(\d+) changed", line).group(1))
        if changed != 1:
            sys.exit("reload: expected 1 changed action, the log says: " + line)
        if run:
            times.append(t1 - t0)
    time.sleep(2)
    memory["reloaded"] = memory_of(td.proc.pid, state)
    td.stop()
    shutil.rmtree(d, ignore_errors=True)
    results["reload"] = times
    results["reload_memory"] = memory
    say("reload: median %.3f s (debounce 500 ms included); memory %s" % (median(times), memory))
    return times


# ---------------------------------------------------------------- 5. web face

# In the order of each round: the two /metrics side by side, then ticklerd's
# other pages.
WEB_PAGES = [("ticklerd", "/metrics"), ("alertmanager", "/metrics"),
             ("ticklerd", "/calendar.ics"), ("ticklerd", "/status")]


def web_tickler_conf(d, port):
    """A copy of the shipped sample (etc/: configuration, plan, calendars)
    whose web face listens on port, with connection limits that let one
    client address hold all of wrk's connections. Returns the file."""
    etc = os.path.join(d, "etc")
    shutil.copytree(os.path.join(ROOT, "etc"), etc)
    conf = os.path.join(etc, "tickler.conf")
    with open(conf) as f:
        text = f.read()
    text, n = re.subn(r'^(\s*)listen = \[[^\]\n]*\];$',
                      r'\1listen = [ "127.0.0.1:%d" ];\n\1max_connections = %d;\n'
                      r'\1max_connections_per_ip = %d;' % (port, WEB_LIMIT, WEB_LIMIT),
                      text, flags=re.M)
    if n != 1:
        sys.exit("etc/tickler.conf: expected one http.listen line, found %d" % n)
    with open(conf, "w") as f:
        f.write(text)
    return conf


def wrk_ms(s):
    """wrk's '850.00us', '1.23ms', '1.02s' or '1.50m', in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        sys.exit("wrk: cannot read the latency %r" % s)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def wrk_run(what, url, seconds, pid):
    """One wrk run against url; the server's CPU seconds come from pid."""
    tf = os.path.join(TMP, "wrk.time")
    cmd = timed([WRK, "--latency", "-t%d" % WEB_THREADS, "-c%d" % WEB_CONNECTIONS,
                 "-d%ds" % seconds, url], tf)
    show(what, cmd)
    cpu0 = proc_sample(pid)[0]
    p = subprocess.run(cmd, capture_output=True, text=True)
    cpu1 = proc_sample(pid)[0]
    out = p.stdout
    if p.returncode != 0 or "Requests/sec" not in out:
        sys.exit("wrk exited with %d:\n%s%s" % (p.returncode, out, p.stderr))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(m.group(1)) if m else 0
    requests = int(re.search(r"^\s+(\d+) requests in ", out, re.M).group(1))
    return {"rps": float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1)),
            "p50": wrk_ms(lat["50"]), "p99": wrk_ms(lat["99"]), "requests": requests,
            "errors": errors, "cpu": cpu1 - cpu0, "wrk_cpu": read_timed(tf)[0]}


def body_size(url):
    """One plain GET (no compression asked for, as wrk asks for none): the
    bytes of the body, its metric families, and how many of those are the
    Go runtime's or the process's (go_*, process_*)."""
    with urllib.request.urlopen(url, timeout=60) as r:
        body = r.read()
    families = re.findall(rb"^# TYPE (\S+)", body, re.M)
    runtime = [f for f in families if f.startswith((b"go_", b"process_"))]
    return len(body), len(families), len(runtime)


def web(results, http):
    say("\n== 5. web face: wrk, %d connections, %d threads, %d s a run" % (
        WEB_CONNECTIONS, WEB_THREADS, WEB_SECONDS))
    d = tempfile.mkdtemp(dir=TMP, prefix="web-")
    port = free_port()
    conf = web_tickler_conf(d, port)
    td = Ticklerd("web: ticklerd", conf, os.path.join(d, "state"))
    am = None
    try:
        _, (_, started) = td.wait_line(r"started: ")
        # its GET limit (default: GOMAXPROCS or 8) would answer most of wrk's
        # connections 503, as ticklerd's defaults would turn them away
        am = Alertmanager("web: alertmanager", am_config("http", http.port),
                          "--web.get-concurrency=%d" % WEB_LIMIT)
        servers = {"ticklerd": ("http://127.0.0.1:%d" % port, td.proc),
                   "alertmanager": (am.url, am.proc)}
        time.sleep(2)  # both settle (ticklerd writes its catch-up notices to its maildir)
        sizes = {k: body_size(servers[k[0]][0] + k[1]) for k in WEB_PAGES}
        runs = {k: [] for k in WEB_PAGES}
        for measured in [False] + [True] * RUNS:  # the first round is the warm-up
            for side, path in WEB_PAGES:
                base, proc = servers[side]
                what = "web: wrk, %s %s" % (side, path) if measured else "web: warm-up, wrk"
                r = wrk_run(what, base + path,
                            WEB_SECONDS if measured else WEB_WARMUP, proc.pid)
                if proc.poll() is not None:
                    sys.exit("%s exited during the web runs" % side)
                if r["errors"]:
                    say("%s %s: %d errors (socket errors and non-2xx answers)" % (
                        side, path, r["errors"]))
                if measured:
                    runs[(side, path)].append(r)
        rss = {side: proc_sample(proc.pid)[2] for side, (_, proc) in servers.items()}
    finally:
        td.stop()
        if am:
            am.stop()
    shutil.rmtree(d, ignore_errors=True)
    rows = []
    for side, path in WEB_PAGES:
        rs = runs[(side, path)]
        row = {"side": side, "path": path, "bytes": sizes[(side, path)][0],
               "families": sizes[(side, path)][1], "runtime": sizes[(side, path)][2]}
        for f in ("rps", "p50", "p99", "cpu", "wrk_cpu", "requests"):
            row[f] = median(r[f] for r in rs)
        row["errors"] = sum(r["errors"] for r in rs)
        row["cpu_per_k"] = median(r["cpu"] * 1e6 / r["requests"] for r in rs if r["requests"])
        rows.append(row)
        say("%s %s: %s bytes, %.0f requests/s, p50 %.2f ms, p99 %.2f ms, %.2f CPU s "
            "(%.2f ms a 1,000 requests), wrk %.2f CPU s, %d errors" % (
                side, path, format(row["bytes"], ","), row["rps"], row["p50"], row["p99"],
                row["cpu"], row["cpu_per_k"], row["wrk_cpu"], row["errors"]))
    results["web"] = {"rows": rows, "rss": rss, "started": re.sub(r"^<\d>", "", started),
                      "wrk": version([WRK, "-v"]), "seconds": WEB_SECONDS}


# ---------------------------------------------------------------- report

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    osrel = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', open("/etc/os-release").read(), re.M))
    return "%s, %d cores, %.0f GiB; %s; Linux %s" % (
        model, os.cpu_count(), mem, osrel.get("PRETTY_NAME", "?"), platform.release())


def version(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return (p.stdout + p.stderr).strip().splitlines()[0] if (p.stdout + p.stderr).strip() else "?"


def ratio(peer, ours):
    return "%.2f" % (peer / ours) if ours > 0 else "n/a"


def configs_section(results):
    """The peers' and tickler's configurations, as the runs write them."""
    L = ["## Configurations", "",
         "Alertmanager, for the HTTP sink and for the SMTP sink (ports differ from run "
         "to run); nothing else is set, so every other option has its default. The web "
         "face section runs the first, with no alert, and `--web.get-concurrency=%d`:"
         % WEB_LIMIT, "",
         "```yaml", am_config("http", 8080, 2525).rstrip(), "```", "",
         "```yaml", am_config("smtp", 8080, 2525).rstrip(), "```", "",
         "tickler for scheduling, idle and reload (idle and reload add a webhook notifier "
         "with one destination, the HTTP sink, as every team's recipient):", "",
         "```", ('store = { files = [ "plan.csv" ]; };\n'
                 "schedule = { ladder = [ %s ]; overdue_every_days = 0; };\n"
                 'teams = ( { id = "t0"; name = "Team 0"; }, ... );'
                 % ", ".join(map(str, LADDER))), "```", "",
         "tickler for delivery (N destinations, or N addresses with the email plugin):", "",
         "```", ('store = { files = [ "plan.csv" ]; };\n'
                 "schedule = { catch_up_days = 1; };\n"
                 'notifiers = ( { name = "out"; plugin = "webhook"; settings = { destinations = '
                 '( { name = "d0"; url_file = "d0.url"; }, ... ); }; } );\n'
                 'teams = ( { id = "crowd"; name = "Crowd"; recipients = { out = [ "d0", ... ]; }; } );'),
         "```", "",
         "tickler for the web face: a copy of `etc/` as shipped (`tickler.conf`, "
         "`sample-plan.csv`, `calendars/`), its `http` group's listen line replaced by:", "",
         "```", ('listen = [ "127.0.0.1:PORT" ];\n'
                 "max_connections = %d;\n"
                 "max_connections_per_ip = %d;" % (WEB_LIMIT, WEB_LIMIT)), "```", "",
         "Both sides' limits are raised for wrk's %d connections, which all come from "
         "127.0.0.1: ticklerd's defaults (64 connections, 16 from one address) would "
         "refuse those beyond 16, and Alertmanager's (the larger of GOMAXPROCS and 8 GET requests "
         "at once) would answer those beyond with 503." % WEB_CONNECTIONS, ""]
    return L


def header_section(results):
    return ["# tickler against remind and Alertmanager", "",
            "Written by `bench/compare%s` on %s. Each figure is the median of %d runs, "
            "taken after one warm-up run of each side; the two sides alternate. A ratio is "
            "the peer's figure divided by tickler's: above 1, tickler is faster or smaller."
            % (" --quick" if QUICK else "", time.strftime("%Y-%m-%d %H:%M %Z"), RUNS), "",
            "- Machine: %s" % machine(),
            "- tickler: %s" % version([TICKLERD, "--version"]),
            "- remind: %s" % version([REMIND, "-V"]),
            "- Alertmanager: %s" % version([AM, "--version"]), ""]


def partial_note():
    """For a section written by a run of only some sections."""
    if set(ONLY) == set(SECTIONS):
        return []
    return ["This section is from `bench/compare%s --only %s` on %s with %s, medians of %d "
            "runs; the sections it did not run are kept from the run named at the top." % (
                " --quick" if QUICK else "", ",".join(ONLY),
                time.strftime("%Y-%m-%d %H:%M %Z"), version([TICKLERD, "--version"]), RUNS), ""]


def scheduling_section(results):
    L = ["## 1. Scheduling: a year of reminders", ""] + partial_note()
    w = L.append
    w("N actions, each with a deadline in 2027 and the ladder 28, 14, 7, 1 and 0 days "
      "before it; a reminder on a weekend or an England and Wales bank holiday moves to the "
      "working day before. tickler lists every reminder of the 365 days from 1 January 2027 "
      "(`tickler upcoming`, sorted, two lines each). remind reads one REM line a rung that "
      "does the same arithmetic, `REM [date(2027,3,15)-28] OMIT SAT SUN BEFORE AT 09:00 MSG "
      "...`, with the same bank holidays as OMIT lines, and lists each once with `remind -n` "
      "(in file order, unsorted). Time is wall-clock; memory is peak RSS.")
    w("")
    w("| actions | tickler s | remind s | time ratio | tickler MiB | remind MiB | memory ratio "
      "| reminders (tickler / remind lines) | same on a sample |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results["scheduling"]:
        tw, rw = median(x[0] for x in r["t"]), median(x[0] for x in r["r"])
        tm, rm = median(x[2] for x in r["t"]), median(x[2] for x in r["r"])
        w("| %s | %.2f | %.2f | %s | %.0f | %.0f | %s | %s / %s | %s |" % (
            format(r["n"], ","), tw, rw, ratio(rw, tw), tm, rm, ratio(rm, tm),
            format(r["t_lines"], ","), format(r["r_lines"], ","),
            ("yes, %s actions, %s (action, day) pairs" % (format(r["sample"], ","),
                                                           format(r["pairs"], ",")))
            if r["same"] else "**no**"))
    w("")
    w("The check compares, for a random sample of the actions, the set of (action, day) "
      "pairs each tool lists. remind prints more lines because it also lists rungs that "
      "fall after the year and, when two rungs move onto the same working day, prints both; "
      "tickler sends one reminder that day.")
    w("")
    rows = [r for r in results["scheduling"] if "check" in r]
    if rows:
        w("Loading the same plans: `tickler check` (reads the configuration, loads and checks "
          "the store, as `tickler upcoming` does before listing) against the floor of a load, "
          "libcsv alone parsing the same file read whole into memory with callbacks that only "
          "count (`bench/csv-floor.c`), in the same run, alternating. A ratio is tickler's "
          "figure divided by libcsv's: the issue asks for at most 2. Peak memory is beside the "
          "CSV file's size (the issue asks for at most 1.5 times it).")
        w("")
        w("| actions | CSV MiB | check s | libcsv s | time ratio | check CPU s | libcsv CPU s "
          "| CPU ratio | check MiB | upcoming MiB | upcoming MiB / CSV MiB |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        shaped = results.get("scheduling_shaped", [])
        for r in rows + shaped:
            cw, fw = median(x[0] for x in r["check"]), median(x[0] for x in r["floor"])
            cc, fc = median(x[1] for x in r["check"]), median(x[1] for x in r["floor"])
            cm, tm = median(x[2] for x in r["check"]), median(x[2] for x in r["t"])
            mib = r["csv_bytes"] / 1048576
            w("| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.0f | %.0f | %.2f |" % (
                format(r["n"], ",") + (", sample-plan rows" if r in shaped else ""), mib,
                cw, fw, cw / fw if fw else float("nan"), cc, fc,
                "%.2f" % (cc / fc) if fc else "n/a", cm, tm, tm / mib if mib else 0))
        w("")
        if shaped:
            w("The rows above are about 48 bytes, an id, a title, a team and a date. The last row "
              "is the same load and listing on rows shaped as the council's: the rows of "
              "`etc/sample-plan.csv` (eight columns, long Commitments and Progress cells) in "
              "turn, each with an id of its own, a team and a 2027 deadline, each turn's texts "
              "numbered (a text repeats over the rows of one turn, as in the council's plan, "
              "not over the whole file). What tickler "
              "holds an action beyond its texts (the action itself, its cursor, the id index) "
              "is the same; the file is larger.")
            w("")
    return L


def delivery_section(results):
    L = ["## 2. Delivery: N notices to the same sinks", ""] + partial_note()
    w = L.append
    w("One local HTTP server (nginx, one worker, `return 200`, counting requests in its "
      "access log) and one local SMTP server (Postfix's `smtp-sink`, counting messages with "
      "`-c`) serve both sides; each takes several times the rate either side reaches "
      "(bench/notes/delivery-profile.md). tickler: one action due, owned by a team of N "
      "recipients (N webhook destinations, or N e-mail addresses), default settings (64 "
      "deliveries at a time, unless a line below names other settings), measured two ways: `ticklerd --oneshot`, whose time runs "
      "from the start of the process, so it includes loading the configuration; and a "
      "running ticklerd, started %d s before the send time (`--now`) and settled, whose "
      "time and CPU run from the send time, as Alertmanager's run from the first post. "
      "Both include the durable outbox (SQLite, synchronous=FULL) for every notice. "
      "Alertmanager: a running daemon, `group_by: ['...']` and `group_wait: 0s` so each "
      "alert is one message; N alerts are posted to its v2 API, 1,000 a request. Wall time "
      "is until the sink has all N; CPU is the daemon's (user + system); memory is the "
      "daemon's peak RSS. Ratios compare the running ticklerd with Alertmanager."
      % DAEMON_LEAD)
    w("")
    if args.tickler_delivery:
        w("tickler's delivery settings in this run: `delivery = { %s };`" % args.tickler_delivery)
        w("")
    w("The two sides promise different things. ticklerd commits each notice to its "
      "outbox before sending it, marks it as being sent, and marks the outcome; the "
      "writes of one turn of its loop share one transaction, one sync to disk (group "
      "commit), and nothing is handed to a notifier before the sync, so a crash or "
      "restart never loses one and repeats at most those in flight. Alertmanager keeps "
      "alerts and its notification log in memory and writes snapshots to disk every 15 "
      "minutes; alerts in flight when it stops are sent again or not at all.")
    w("")
    w("| sink | notices | ticklerd --oneshot s | ticklerd s | Alertmanager s | time ratio "
      "| ticklerd --oneshot CPU s | ticklerd CPU s | Alertmanager CPU s | CPU ratio "
      "| ticklerd MiB | Alertmanager MiB | memory ratio |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results["delivery"]:
        t = [median(x[i] for x in r["t"]) for i in range(3)]
        d = [median(x[i] for x in r.get("r") or r["t"]) for i in range(3)]
        a = [median(x[i] for x in r["a"]) for i in range(3)]
        w("| %s | %s | %.2f | %.2f | %.2f | %s | %.2f | %.2f | %.2f | %s | %.0f | %.0f | %s |" % (
            "HTTP" if r["kind"] == "http" else "SMTP", format(r["n"], ","), t[0], d[0], a[0],
            ratio(a[0], d[0]), t[1], d[1], a[1], ratio(a[1], d[1]), d[2], a[2],
            ratio(a[2], d[2])))
    w("")
    return L


def idle_section(results):
    i = results["idle"]
    L = ["## 3. Idle", ""] + partial_note()
    w = L.append
    w("ticklerd holding %s actions, nothing due for weeks (`--now 2027-01-04T12:00`, "
      "first reminder on 1 February), and Alertmanager holding %s alerts under one "
      "silence, watched side by side for %d seconds after both settled. CPU is user + "
      "system time; context switches (voluntary and involuntary, summed over threads, "
      "from `/proc/PID/task/*/status`) count the wake-ups; memory is resident at the end. "
      "Messages reaching the sink meanwhile: %d." % (
          format(IDLE_ACTIONS, ","), format(i["held"], ","), IDLE, i["sent"]))
    w("")
    w("| | ticklerd | Alertmanager | ratio |")
    w("| --- | ---: | ---: | ---: |")
    w("| CPU seconds | %.2f | %.2f | %s |" % (i["t"][0], i["a"][0], ratio(i["a"][0], i["t"][0])))
    w("| wake-ups (context switches) | %d | %d | %s |" % (i["t"][1], i["a"][1],
                                                          ratio(i["a"][1], i["t"][1])))
    w("| wake-ups a minute | %.1f | %.1f | |" % (i["t"][1] * 60 / IDLE, i["a"][1] * 60 / IDLE))
    w("| resident MiB | %.0f | %.0f | %s |" % (i["t"][2], i["a"][2], ratio(i["a"][2], i["t"][2])))
    w("")
    return L


def reload_section(results):
    t = results["reload"]
    L = ["## 4. Reload, and the memory of the daemon", ""] + partial_note()
    L.append(
        "A running ticklerd holds %s actions; one row in the middle of the plan gets a new "
        "deadline, and the file is replaced as a spreadsheet saves it (a new file renamed "
        "over the old). The time runs from the rename until ticklerd logs `store reloaded: "
        "... 1 changed`, when the new schedule is in force. It includes the store's "
        "debounce of 500 ms (`store.debounce_ms`, default), which waits for the writer to "
        "finish. Runs: %s s; median **%.3f s**. Neither peer has a counterpart: remind "
        "reads its whole file on every run (table 1), and Alertmanager holds alerts pushed "
        "to it, not a schedule." % (format(RELOAD_ACTIONS, ","),
                                   ", ".join("%.3f" % x for x in t), median(t)))
    L.append("")
    m = results.get("reload_memory")
    if m:
        csv_kb = m["csv"] / 1024
        L.append(
            "The same daemon's memory, 2 s after its start and 2 s after the %d reloads, from "
            "`/proc/PID/status` and `/proc/PID/smaps`, beside the CSV plan's %s kB. RssAnon is "
            "the daemon's private memory (the issue asks for at most 1.5 times the CSV). The "
            "plan it holds (actions, hashes, texts) is cold memory: pages of unnamed files of "
            "its state directory, which the kernel writes back and can drop when memory is "
            "short (ticklerd(8), FILES); they count in RssFile, with the pages of the "
            "program and its libraries, and the row below gives their resident part. VmRSS "
            "is all that is resident." % (len(t) + 1, format(round(csv_kb), ",")))
        L.append("")
        L.append("| kB | after the start | times the CSV | after the reloads | times the CSV |")
        L.append("| --- | ---: | ---: | ---: | ---: |")
        for key, what in (("RssAnon", "RssAnon (private memory)"),
                          ("cold", "the plan's cold pages, resident"),
                          ("RssFile", "RssFile (cold pages, program, libraries)"),
                          ("VmRSS", "VmRSS (all resident)")):
            a, b = m["start"][key], m["reloaded"][key]
            L.append("| %s | %s | %.2f | %s | %.2f |" % (what, format(a, ","), a / csv_kb,
                                                        format(b, ","), b / csv_kb))
        L.append("")
    return L


def web_section(results):
    r = results["web"]
    rows = {(x["side"], x["path"]): x for x in r["rows"]}
    am = rows[("alertmanager", "/metrics")]
    tm = rows[("ticklerd", "/metrics")]
    L = ["## 5. Web face: requests per second", ""] + partial_note()
    w = L.append
    w("ticklerd on the shipped sample (`etc/`: %s) and Alertmanager (no alert, the "
      "configuration of the HTTP sink) run side by side, each serving on 127.0.0.1. One "
      "load generator for both, %s: `wrk --latency -t%d -c%d -d%ds` against one page at a "
      "time, the pages in the order of the table, after one warm-up round of %d s a page. "
      "wrk asks for no compression and no revalidation (no `If-None-Match`), so every "
      "answer is a 200 with the whole body; the sizes are of one such body. CPU is the "
      "server's user + system time during the run; wrk's own is beside it. Errors are "
      "wrk's socket errors and non-2xx answers, summed over the runs."
      % (r["started"].split(" started: ", 1)[-1].split(", next")[0], r["wrk"].split(" [")[0],
         WEB_THREADS, WEB_CONNECTIONS, r["seconds"], WEB_WARMUP))
    w("")
    w("Each ratio compares the row with Alertmanager's `/metrics`, oriented as the others: "
      "above 1, tickler is faster or cheaper (requests/s: tickler's divided by "
      "Alertmanager's; p99 and CPU a request: Alertmanager's divided by tickler's). Only "
      "the `/metrics` rows serve the same kind of page; the others show what tickler's "
      "larger pages cost next to it.")
    w("")
    w("| server | page | body bytes | requests/s | ratio | p50 ms | p99 ms | ratio "
      "| CPU ms a 1,000 requests | ratio | server CPU s | wrk CPU s | errors |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for x in r["rows"]:
        peer = x is am
        w("| %s | `%s` | %s | %s | %s | %.2f | %.2f | %s | %.1f | %s | %.2f | %.2f | %d |" % (
            "Alertmanager" if peer else "ticklerd", x["path"], format(x["bytes"], ","),
            format(round(x["rps"]), ","), "" if peer else ratio(x["rps"], am["rps"]),
            x["p50"], x["p99"], "" if peer else ratio(am["p99"], x["p99"]),
            x["cpu_per_k"], "" if peer else ratio(am["cpu_per_k"], x["cpu_per_k"]),
            x["cpu"], x["wrk_cpu"], x["errors"]))
    w("")
    w("Resident memory at the end: ticklerd %.0f MiB, Alertmanager %.0f MiB. The "
      "`/metrics` bodies differ in what they hold: ticklerd's %s bytes are %d metric "
      "families, %d of them the runtime's or the process's (`go_*`, `process_*`); "
      "Alertmanager's %s bytes are %d families, %d of them the Go runtime's or the "
      "process's. Counted in body bytes, ticklerd's `/metrics` served %.1f MB/s and "
      "Alertmanager's %.1f MB/s." % (
          r["rss"]["ticklerd"], r["rss"]["alertmanager"], format(tm["bytes"], ","),
          tm["families"], tm["runtime"], format(am["bytes"], ","), am["families"],
          am["runtime"], tm["rps"] * tm["bytes"] / 1e6, am["rps"] * am["bytes"] / 1e6))
    w("")
    w("The machine is shared: wrk, the server and anything else running take the same "
      "cores, so requests/s and latency say how the pair does on this machine, not what "
      "the server alone could do. ticklerd answers on one thread, its event loop, where "
      "Alertmanager's Go runtime can use every core; CPU a request is the figure least "
      "moved by that. ticklerd renders `/metrics` for each request (reading the "
      "outbox's counts, SQLite); it keeps `/status` while the store in force, the outbox "
      "and the minute stay the same, and `/calendar.ics` while the calendar sources and "
      "the day do, so a repeated request of those costs a copy of the kept body (here, "
      "nothing changes during a run: the sample's reminders were sent at start).")
    w("")
    return L


def commands_section(commands):
    L = ["## Command lines", "",
         "`$TMP` is the run's temporary directory; the first of each kind is shown.", "", "```"]
    for what, line in commands.items():
        L += ["# " + what, line]
    L += ["```", ""]
    return L


WRITERS = {"scheduling": scheduling_section, "delivery": delivery_section,
           "idle": idle_section, "reload": reload_section, "web": web_section}


def section_key(heading):
    """The key of a '## ' heading of the results file."""
    m = re.match(r"## (\d+)\.", heading)
    if m and 1 <= int(m.group(1)) <= len(SECTIONS):
        return SECTIONS[int(m.group(1)) - 1]
    return {"## Configurations": "configs", "## Command lines": "commands"}.get(heading.strip())


def read_results(path):
    """An earlier results file: its text before the first section, its
    sections by key, and its command lines by what they ran."""
    with open(path) as f:
        parts = re.split(r"(?m)^(?=## )", f.read())
    sections = {section_key(p.split("\n", 1)[0]): p for p in parts[1:]}
    commands, what = {}, None
    for line in sections.get("commands", "").split("\n"):
        if line.startswith("# "):
            what = line[2:]
        elif what is not None and line and line != "```":
            commands[what] = line
            what = None
    return parts[0], sections, commands


def section_of(what):
    """The section a command line belongs to ("delivery (http): ticklerd")."""
    return re.match(r"\w*", what).group(0)


def notes():
    """The profile notes kept beside this script (bench/notes/*.md, each
    with its own '## ' heading), in name order, for the results file."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes")
    if not os.path.isdir(here):
        return ""
    out = []
    for name in sorted(os.listdir(here)):
        if name.endswith(".md"):
            with open(os.path.join(here, name)) as f:
                out.append(f.read().rstrip("\n") + "\n\n")
    return "".join(out)


def report(results):
    def text(lines):
        return "\n".join(lines) + "\n"

    new = {k: text(WRITERS[k](results)) for k in SECTIONS if k in results}
    new["configs"] = text(configs_section(results))
    head, old, old_commands = text(header_section(results)), {}, {}
    if set(ONLY) != set(SECTIONS) and os.path.exists(OUT):
        head, old, old_commands = read_results(OUT)
        say("keeping the other sections of " + OUT)
    commands = {}
    for k in SECTIONS:
        src = COMMANDS if k in ONLY else old_commands
        commands.update((w, c) for w, c in src.items() if section_of(w) == k)
    parts = [new.get(k) or old.get(k) or "" for k in SECTIONS]
    body = head + "".join(parts) + notes() + (new.get("configs") or "") + \
        text(commands_section(commands))
    with open(OUT, "w") as f:
        f.write(body.rstrip("\n") + "\n")
    say("\nwrote " + OUT)


def main():
    os.umask(0o077)  # the files written here hold secrets (webhook URLs): private, as tickler expects
    say("machine: " + machine())
    say("working in " + TMP)
    if "web" in ONLY and not WRK:
        sys.exit("wrk is missing; bench/compare installs it (as root)")
    results = {}
    http = HttpSink() if set(ONLY) - {"scheduling"} else None
    smtp = SmtpSink() if "delivery" in ONLY else None
    try:
        if "scheduling" in ONLY:
            scheduling(results)
        if "delivery" in ONLY:
            delivery(results, http, smtp)
        if "idle" in ONLY:
            idle(results, http)
        if "reload" in ONLY:
            reload(results, http)
        if "web" in ONLY:
            web(results, http)
    finally:
        if http:
            http.stop()
        if smtp:
            smtp.stop()
    report(results)
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
