#!/usr/bin/env python3
"""A real PostgreSQL 15 (Debian's) for the tests: initdb and pg_ctl in a
temporary directory, run as the unprivileged user postgres when the tests
run as root (as CI does; runuser), else as the user running them. It
listens on a unix socket in that directory and on 127.0.0.1 at a free
port, with fsync on. Local connections are trusted (the superuser is
"postgres" as root, else the user running the tests); one role,
tickler_pw, logs in over TCP with a random password only.

As a module: PostgreSQL(...).start() / .restart() / .stop(), or the
context manager. As a command (the ctest fixture, tests/CMakeLists.txt):

  pg_fixture.py start DIR    starts a server and writes into DIR:
                             conninfo (trusted, the unix socket),
                             conninfo-password (tickler_pw over TCP, 0600),
                             datadir (the temporary directory)
  pg_fixture.py restart DIR  pg_ctl restart (fast: sessions are cut)
  pg_fixture.py stop DIR     stops the server, removes the temporary directory
"""
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
PASSWORD_ROLE = "tickler_pw"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgreSQL:
    def __init__(self, tmp=None):
        """tmp: the temporary directory of a server already started (to
        restart or stop it from another process); else start() makes one."""
        self.root = os.geteuid() == 0
        self.user = "postgres" if self.root else pwd.getpwuid(os.geteuid()).pw_name
        self.tmp = tmp
        self.port = None
        self.password = None
        if tmp:
            with open(os.path.join(tmp, "port")) as f:
                self.port = int(f.read())

    def _run(self, *args, check=True):
        cmd = [os.path.join(PG_BIN, args[0]), *args[1:]]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        p = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and p.returncode != 0:
            raise AssertionError("%s exited %d: %s" % (args[0], p.returncode, p.stderr))
        return p

    @property
    def data(self):
        return os.path.join(self.tmp, "data")

    @property
    def socket_dir(self):
        return self.tmp

    def conninfo(self, dbname="postgres"):
        """Trusted, over the unix socket."""
        return "host=%s port=%d dbname=%s user=%s" % (self.socket_dir, self.port, dbname,
                                                      self.user)

    def password_conninfo(self, dbname="postgres"):
        """The password role, over TCP."""
        return "host=127.0.0.1 port=%d dbname=%s user=%s password=%s" % (
            self.port, dbname, PASSWORD_ROLE, self.password)

    def psql(self, sql, dbname="postgres"):
        """Runs sql as the superuser; returns psql's output (unaligned,
        tuples only)."""
        out = self._run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", self.conninfo(dbname), "-c", sql)
        return out.stdout

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-pg-")
        if self.root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        os.chmod(self.tmp, 0o755)
        r = self._run("initdb", "-D", self.data, "-U", self.user, "--auth-local=trust",
                      "--auth-host=trust", "-E", "UTF8", "--locale=C", check=False)
        if r.returncode != 0:
            raise RuntimeError("initdb failed:\n" + r.stdout + r.stderr)
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "host all %s 127.0.0.1/32 scram-sha-256\n"
                    "host all all 127.0.0.1/32 trust\n" % PASSWORD_ROLE)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\nlisten_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = on\nsynchronous_commit = on\n"
                    "shared_buffers = 16MB\nmax_connections = 50\n" % self.tmp)
        for _ in range(5):
            self.port = _free_port()
            r = self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.tmp, "log"), "-w",
                          "-o", "-p %d" % self.port, "start", check=False)
            if r.returncode == 0:
                break
        else:
            raise RuntimeError("pg_ctl start failed:\n" + r.stdout + r.stderr + self.server_log())
        with open(os.path.join(self.tmp, "port"), "w") as f:
            f.write(str(self.port))
        self.password = secrets.token_urlsafe(18)
        self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'; GRANT ALL ON SCHEMA public TO %s"
                  % (PASSWORD_ROLE, self.password, PASSWORD_ROLE))
        return self

    def server_log(self):
        try:
            with open(os.path.join(self.tmp, "log")) as f:
                return f.read()
        except OSError:
            return ""

    def restart(self):
        """Stops the server (sessions cut) and starts it again on the same
        port and socket."""
        r = self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.tmp, "log"), "-w",
                      "-m", "fast", "-o", "-p %d" % self.port, "restart", check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl restart failed:\n" + r.stdout + r.stderr)

    def down_for(self, seconds):
        """Stops the server (sessions cut), keeps it down for seconds, and
        starts it again on the same port and socket."""
        r = self._run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop", check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl stop failed:\n" + r.stdout + r.stderr)
        time.sleep(seconds)
        r = self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.tmp, "log"), "-w",
                      "-o", "-p %d" % self.port, "start", check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed:\n" + r.stdout + r.stderr)

    def stop(self):
        if not self.tmp:
            return
        self._run("pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _write(path, text, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "restart", "stop"):
        print("usage: pg_fixture.py start|restart|stop DIR", file=sys.stderr)
        return 2
    what, out = argv[1], argv[2]
    datadir = os.path.join(out, "datadir")
    if what == "start":
        os.makedirs(out, exist_ok=True)
        if os.path.exists(datadir):  # a run that did not clean up
            with open(datadir) as f:
                PostgreSQL(f.read().strip()).stop()
        pg = PostgreSQL().start()
        _write(os.path.join(out, "conninfo"), pg.conninfo())
        _write(os.path.join(out, "conninfo-password"), pg.password_conninfo(), 0o600)
        _write(datadir, pg.tmp)
        return 0
    with open(datadir) as f:
        pg = PostgreSQL(f.read().strip())
    if what == "restart":
        pg.restart()
    else:
        pg.stop()
        for name in ("conninfo", "conninfo-password", "datadir"):
            try:
                os.unlink(os.path.join(out, name))
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
