"""Shared parts of the integration tests: the built tools, and ticklerd
running in the background with its log collected.

The backend under test: with TICKLER_TEST_BACKEND=postgresql (and
TICKLER_PG_FIXTURE, the ctest fixture's directory: tests/CMakeLists.txt,
pg_fixture.py) every ticklerd and tickler a test starts with "-c CONF"
runs on PostgreSQL: conf_for_backend(CONF) gives CONF a state group with
backend "postgresql" and a database of its own, made fresh on the
fixture's server for the directory CONF is in (one test's state) and
dropped when the test exits. Without it, the default: SQLite in the
state directory."""
import atexit
import errno
import os
import re
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

from pg_fixture import PG_BIN, PostgreSQL

BUILD = None  # set by each test's main from --build

# How much longer a wait may take than on a plain build: the valgrind run
# (tests/valgrind/run) sets it, as valgrind runs the programs tens of times
# slower. Waits are for events; their limits only stop a hung test.
SLOWDOWN = float(os.environ.get("TICKLER_TEST_SLOWDOWN", "1"))


def deadline(seconds):
    """The monotonic instant a wait of seconds (on a plain build) gives up."""
    return time.monotonic() + seconds * SLOWDOWN


BACKEND_ENV = "TICKLER_TEST_BACKEND"
BACKEND = os.environ.get(BACKEND_ENV, "sqlite")
assert BACKEND in ("sqlite", "postgresql"), "%s=%s: sqlite or postgresql" % (BACKEND_ENV, BACKEND)
PG = BACKEND == "postgresql"

_pg = None  # the fixture's server (pg_fixture.PostgreSQL)
_pg_dir = None  # the conninfo files of the databases made, one per configuration directory
_pg_dbs = {}  # configuration directory -> (database, conninfo file)
_STATE_GROUP = re.compile(r"^(\s*state\s*[=:]\s*\{)", re.M)
_MARK = "# the backend under test (harness.conf_for_backend)"


def _pg_server():
    global _pg, _pg_dir
    if _pg is None:
        d = os.environ.get("TICKLER_PG_FIXTURE")
        assert d, "%s=postgresql needs TICKLER_PG_FIXTURE: run through ctest" % BACKEND_ENV
        with open(os.path.join(d, "datadir")) as f:
            _pg = PostgreSQL(f.read().strip())
        import tempfile
        _pg_dir = tempfile.mkdtemp(prefix="tickler-pgsuite-")
        atexit.register(_drop_databases)
    return _pg


def _drop_databases():
    for db, _ in _pg_dbs.values():
        try:
            _pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
        except AssertionError as e:
            print("dropping %s: %s" % (db, e), file=sys.stderr)
    shutil.rmtree(_pg_dir, ignore_errors=True)


def pg_database(conf):
    """The database of configuration conf on the PostgreSQL backend (made on
    first use): (its name, the path of its conninfo file)."""
    key = os.path.dirname(os.path.abspath(conf))
    if key not in _pg_dbs:
        pg = _pg_server()
        db = "t_%d_%d" % (os.getpid(), len(_pg_dbs))
        pg.psql("CREATE DATABASE %s" % db)
        path = os.path.join(_pg_dir, db + ".conninfo")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pg.conninfo(db) + "\n")
        _pg_dbs[key] = (db, path)
        print("\nharness: the configurations in %s run on PostgreSQL database %s" % (key, db),
              file=sys.stderr, flush=True)
    return _pg_dbs[key]


def pg_sql(conf, sql):
    """Runs sql on the database of configuration conf; psql's output."""
    return _pg_server().psql(sql, pg_database(conf)[0]).strip()


def pg_literal(v):
    """v as an SQL literal: NULL, a number, or a quoted string."""
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return str(v)
    return "'%s'" % str(v).replace("'", "''")


def pg_insert(conf, table, columns, rows):
    """Inserts rows (tuples of values for columns) into table of
    configuration conf's database."""
    pg_sql(conf, "INSERT INTO %s(%s) VALUES %s" % (
        table, ", ".join(columns),
        ", ".join("(%s)" % ", ".join(pg_literal(v) for v in r) for r in rows)))


def insert_rows(conf, state, table, columns, rows):
    """Inserts rows (tuples of values for columns) into table of the state
    of the backend under test, as ticklerd would write them."""
    if PG:
        pg_insert(conf, table, columns, rows)
        return
    import sqlite3
    db = sqlite3.connect(os.path.join(state, "tickler.db"))
    try:
        with db:
            db.executemany("INSERT INTO %s(%s) VALUES (%s)" % (
                table, ", ".join(columns), ", ".join("?" * len(columns))), rows)
    finally:
        db.close()


def updates_rows(conf, state, columns):
    """The rows of the updates table in the state of the backend under
    test, in the order recorded: lists of the values of columns (a
    comma-separated list)."""
    if PG:
        if pg_sql(conf, "SELECT to_regclass('updates') IS NOT NULL") != "t":
            return []
        import json
        return [tuple(r) for r in json.loads(pg_sql(
            conf, "SELECT coalesce(json_agg(json_build_array(%s) ORDER BY id), '[]') FROM updates"
            % columns))]
    import sqlite3
    db = sqlite3.connect(os.path.join(state, "tickler.db"))
    try:
        return db.execute("SELECT %s FROM updates ORDER BY id" % columns).fetchall()
    finally:
        db.close()


_SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _made_by_a_test(path):
    """Whether path lies in a directory a test made (tempfile, prefix
    "tickler-"), outside the source tree (a clone may itself lie in the
    temporary directory)."""
    import tempfile
    rel = os.path.relpath(path, tempfile.gettempdir())
    if rel.startswith(os.pardir) or not rel.split(os.sep)[0].startswith("tickler-"):
        return False
    return os.path.commonpath([path, _SOURCE]) != _SOURCE


def conf_for_backend(conf):
    """Makes configuration conf run on the backend under test: on
    PostgreSQL, its state group (added when it has none) gains backend and
    conninfo_file. Idempotent; nothing on SQLite or for a file that does
    not exist or that no test made (_made_by_a_test: the shipped
    configuration in the source tree is left as it is, on SQLite, even in
    a clone under the temporary directory). Call it again after rewriting
    a configuration a running daemon reloads."""
    conf = os.path.abspath(conf)
    if not PG or not os.path.isfile(conf) or not _made_by_a_test(conf):
        return
    with open(conf) as f:
        text = f.read()
    if _MARK in text:
        return
    settings = 'backend = "postgresql"; conninfo_file = "%s";' % pg_database(conf)[1]
    if _STATE_GROUP.search(text):
        text = _STATE_GROUP.sub(lambda m: "%s %s %s" % (m.group(1), settings, _MARK + "\n"),
                                text, count=1)
    else:
        text += "\n%s\nstate = { %s };\n" % (_MARK, settings)
    with open(conf, "w") as f:
        f.write(text)


NO_PG_STATE = "the database holds no tickler state yet"


def state_files(state):
    """Every file under the state directory, its copies of the plans
    (plans/) included, as paths."""
    for root, _, names in os.walk(state):
        for name in sorted(names):
            yield os.path.join(root, name)


def outbox(conf, state, *extra):
    """The outbox as `tickler outbox --json` lists it: (its notices, the
    command's output), newest first. On PostgreSQL, before any ticklerd
    made its tables, the command says so and exits 1: no notices."""
    import json
    p = subprocess.run([tool("tickler"), "-c", conf, "--state-dir", state, *extra, "outbox",
                        "--json"], capture_output=True, text=True)
    if PG and p.returncode == 1 and NO_PG_STATE in p.stderr:
        return [], p.stdout + p.stderr
    if p.returncode != 0:
        raise AssertionError("tickler outbox exited %d: %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout), p.stdout + p.stderr


def pg_lock(conf, table, seconds):
    """A psql session holding table of configuration conf's database in
    ACCESS EXCLUSIVE mode for seconds, then letting go (a Popen; it exits
    0 when it held the lock)."""
    pg = _pg_server()
    cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
           pg.conninfo(pg_database(conf)[0]), "-c",
           "BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(%d); COMMIT"
           % (table, seconds)]
    if pg.root:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd="/")


def notice_rows(conf, state):
    """Every row of the notices and their entries in the state of the
    backend under test, as text (for what must never be kept there)."""
    if PG:
        return pg_sql(conf, "SELECT * FROM notices n LEFT JOIN entries e ON e.notice_id = n.id")
    import sqlite3
    db = sqlite3.connect(os.path.join(state, "tickler.db"))
    try:
        return "\n".join(repr(r) for r in db.execute(
            "SELECT * FROM notices n LEFT JOIN entries e ON e.notice_id = n.id"))
    finally:
        db.close()


def _conf_arg(args, cwd):
    """The configuration (-c/--config) a ticklerd or tickler command line
    names, or None."""
    if isinstance(args, (str, bytes)) or not any(
            os.path.basename(str(a)) in ("ticklerd", "tickler") for a in args):
        return None
    args = [str(a) for a in args]
    for i, a in enumerate(args):
        if a in ("-c", "--config") and i + 1 < len(args):
            conf = args[i + 1]
        elif a.startswith("--config="):
            conf = a[len("--config="):]
        else:
            continue
        return os.path.join(cwd or "", conf)
    return None


if PG:
    class _Popen(subprocess.Popen):
        """Every ticklerd and tickler a test starts runs on the backend
        under test (conf_for_backend on its -c configuration)."""

        def __init__(self, args, *a, **kw):
            conf = _conf_arg(args, kw.get("cwd"))
            if conf:
                conf_for_backend(conf)
            super().__init__(args, *a, **kw)

    subprocess.Popen = _Popen


def copy_sample(source, tmp, port=None):
    """Copies the shipped etc/tickler.conf into tmp with what it names: the
    sample plan and etc/calendars/. Its web face listens on port (default: a
    free one), so that tests running side by side do not meet on 8470.
    Returns the configuration's path."""
    conf = os.path.join(tmp, "tickler.conf")
    with open(os.path.join(source, "etc", "tickler.conf")) as f:
        text = f.read()
    shipped = 'listen = [ "127.0.0.1:8470" ];'
    assert shipped in text, "etc/tickler.conf no longer listens on 127.0.0.1:8470"
    text = text.replace(shipped, 'listen = [ "127.0.0.1:%d" ];' % (port or free_port()))
    with open(conf, "w") as f:
        f.write(text)
    shutil.copy(os.path.join(source, "etc", "sample-plan.csv"), tmp)
    shutil.copytree(os.path.join(source, "etc", "calendars"), os.path.join(tmp, "calendars"))
    return conf


def listen_port(conf):
    """The port the web face of configuration conf listens on."""
    import re
    with open(conf) as f:
        return int(re.search(r'listen = \[ "127\.0\.0\.1:(\d+)" \];', f.read()).group(1))


SEED_ENV = "TICKLER_TEST_SEED"


def choose_seed(name, given=None):
    """The seed of a test that draws random numbers: given (a --seed
    option), else $TICKLER_TEST_SEED, else a fresh one. Printed first, so
    a failure can be replayed with the same draws."""
    if given is None and os.environ.get(SEED_ENV):
        given = int(os.environ[SEED_ENV])
    seed = given if given is not None else random.SystemRandom().randrange(2**32)
    print("\n%s: seed %d (replay: %s=%d, or --seed %d)" % (name, seed, SEED_ENV, seed, seed),
          file=sys.stderr, flush=True)
    return seed


def small_fs(test, parent):
    """An 8 MB tmpfs in parent, unmounted at test's end (root only);
    skips test where mounting is not allowed."""
    small = os.path.join(parent, "small")
    os.makedirs(small)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", small],
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        test.skipTest("cannot mount a tmpfs here: " + p.stderr.strip())
    test.addCleanup(subprocess.run, ["umount", "-l", small], check=False)
    return small


def fill(directory):
    """Fills the file system of directory to its last byte (a file
    "filler" in it)."""
    with open(os.path.join(directory, "filler"), "wb", buffering=0) as f:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise


def tool(name):
    return os.path.join(BUILD, "daemon", name)


def plugin_dir():
    return os.path.join(BUILD, "plugins")


class Daemon:
    """ticklerd running in the background, its stderr collected."""

    def __init__(self, conf, state, *extra, env=None, wrapper=()):
        """wrapper: a command ticklerd runs under (systemd-socket-activate
        and its options)."""
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [*wrapper, tool("ticklerd"), "-c", conf, "-p", plugin_dir(),
             "--state-dir", state, "--log-level", "debug", *extra],
            stderr=subprocess.PIPE, text=True, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_for(self, text, timeout=60, after=0):
        deadline = time.monotonic() + timeout * SLOWDOWN
        with self.cond:
            while True:
                for i, line in enumerate(self.lines[after:], after):
                    if text in line:
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError("no log line with %r; log:\n%s" % (text, "\n".join(self.lines)))
                self.cond.wait(min(left, 0.2))

    def wait(self, timeout=30):
        """Waits for the daemon to exit and its log to be read to the end;
        returns its exit status."""
        try:
            rc = self.proc.wait(timeout=timeout * SLOWDOWN)
        except subprocess.TimeoutExpired:
            raise AssertionError("the daemon did not exit in %d s; log:\n%s"
                                 % (timeout * SLOWDOWN, "\n".join(self.lines))) from None
        self.reader.join(timeout=timeout * SLOWDOWN)
        self.proc.stderr.close()
        return rc

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def kill(self):
        self.proc.kill()
        self.wait()


def verify_link(link, keys, now=None):
    """Checks the token of a notice's link (the text after its last '/') as
    ticklerd does (daemon/token/token.h): base64url without padding of
    version 1, the key id, the action id and the recipient (each after a
    length byte), the issue and expiry times (8 bytes each, big-endian) and
    the HMAC-SHA256 under the key named of "tickler-link\0" and every byte
    before it. keys maps key ids to hex keys. Returns (key id, action id,
    recipient, issued_at, expires_at); fails the test when the token does
    not verify (or has expired at now)."""
    import base64
    import hashlib
    import hmac
    tok = link.rsplit("/", 1)[1]
    assert re_fullmatch(r"[A-Za-z0-9_-]+", tok), link
    raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
    assert raw[0] == 1, "version %d" % raw[0]
    fields, at = [], 1
    for _ in range(3):
        n = raw[at]
        fields.append(raw[at + 1:at + 1 + n].decode())
        at += 1 + n
    issued = int.from_bytes(raw[at:at + 8], "big")
    expires = int.from_bytes(raw[at + 8:at + 16], "big")
    payload, mac = raw[:at + 16], raw[at + 16:]
    assert len(mac) == 32, "MAC of %d bytes" % len(mac)
    assert fields[0] in keys, "unknown key id %r" % fields[0]
    want = hmac.new(bytes.fromhex(keys[fields[0]]), b"tickler-link\0" + payload,
                    hashlib.sha256).digest()
    assert hmac.compare_digest(want, mac), "the signature does not match: " + link
    assert expires > issued, (issued, expires)
    assert now is None or now < expires, "expired"
    return fields[0], fields[1], fields[2], issued, expires


def re_fullmatch(pattern, s):
    import re
    return re.fullmatch(pattern, s) is not None


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1. script(kind, n, address)
    may return a reply ("451 ...") for the n-th RCPT or DATA, or None for
    the normal answer. Accepted messages are kept as raw bytes with their
    envelope recipients."""

    def __init__(self, script=None, **smtp_args):
        from aiosmtpd.controller import Controller
        self.script = script or (lambda kind, n, address: None)
        self.lock = threading.Lock()
        self.messages = []  # (rcpt_tos, bytes)
        self.counts = {}
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **smtp_args)
        self.controller.start()

    def _count(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            return self.counts[kind]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._count("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.script("RCPT", self._count("RCPT"), address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.script("DATA", self._count("DATA"), envelope.rcpt_tos[0])
        if reply:
            return reply
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued"

    def count(self, kind):
        with self.lock:
            return self.counts.get(kind, 0)

    def received(self):
        with self.lock:
            return list(self.messages)

    def stop(self):
        self.controller.stop()


def make_certs(d):
    """A CA, a server certificate for localhost/127.0.0.1 signed by it, one
    for another name signed by it, and a self-signed one. Returns paths."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=tickler test CA")
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:mail.example.org")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + san.split(",")[0].split(":")[1])
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem",
        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    return {k: (os.path.join(d, k + ".pem"), os.path.join(d, k + ".key"))
            for k in ("ca", "good", "wrong", "self")}


def tls_context(cert, key):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
