"""Shared parts of the integration tests: the built tools, and ticklerd
running in the background with its log collected."""
import os
import signal
import subprocess
import threading
import time

BUILD = None  # set by each test's main from --build


def tool(name):
    return os.path.join(BUILD, "daemon", name)


def plugin_dir():
    return os.path.join(BUILD, "plugins")


class Daemon:
    """ticklerd running in the background, its stderr collected."""

    def __init__(self, conf, state, *extra, env=None):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [tool("ticklerd"), "-c", conf, "-p", plugin_dir(),
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

    def wait_for(self, text, timeout=20, after=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, line in enumerate(self.lines[after:], after):
                    if text in line:
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError("no log line with %r; log:\n%s" % (text, "\n".join(self.lines)))
                self.cond.wait(min(left, 0.2))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.reader.join(timeout=5)
        return rc

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.reader.join(timeout=5)
