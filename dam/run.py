"""`make run`'s supervisor: the web server, the Celery worker and beat on one machine, none of them outliving it.

    python -m dam.run [--port 8000] [--bind 127.0.0.1]

Starts gunicorn, `celery worker` and `celery beat` as its children and prints their output prefixed with their name.
Whatever way it ends, they end with it:
- Ctrl-C, SIGTERM or a hang-up stops them all (SIGTERM: gunicorn and the worker finish what they are doing) and waits;
  what is still running after DAM_RUN_STOP_SECONDS (default 30), or at a second Ctrl-C, is killed;
- if one of them exits, the others are stopped and the supervisor exits non-zero;
- if the supervisor itself dies, even by SIGKILL, the kernel kills each child (PR_SET_PDEATHSIG, Linux), and their
  own workers follow (Celery's pool has the same setting; gunicorn's workers stop when their parent is gone). SIGKILL,
  not SIGTERM: with nobody left to read their output, a worker's warm shutdown can hang on its own logging, and a
  job cut short is delivered again (acks_late).
Each child runs in a process group of its own, so Ctrl-C reaches only the supervisor, which stops them in order, and
what a child leaves behind (its own workers) is swept with its group.

One installation per data directory: the supervisor holds an exclusive lock on DAM_DATA_DIR/run.lock, with its PID
written in it, for as long as it runs; a second one on the same data directory refuses to start and names that PID
(a second worker and beat beside the first would run every scheduled job twice). The kernel drops the lock when the
process ends, however it ends: a stale file never blocks a start.
"""
from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from dam import embedded

LOCK_FILE = "run.lock"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
EXIT_IN_USE = 3  # another supervisor holds the data directory

try:  # loaded here, before any fork: a child between fork and exec should not have to load a library
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: children then outlive a supervisor killed by SIGKILL
    _prctl = None


def programs(bind: str, port: int) -> dict[str, list[str]]:
    """The three processes of an embedded DAM (the production section of the README runs the same commands)."""
    python = sys.executable
    return {
        "web": [python, "-m", "gunicorn", "dam.wsgi", "--bind", f"{bind}:{port}", "--workers", "2",
                "--threads", "4", "--access-logfile", "-"],
        "worker": [python, "-m", "celery", "-A", "dam", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [python, "-m", "celery", "-A", "dam", "beat", "--loglevel", "INFO"],
    }


class InUse(Exception):
    def __init__(self, data_dir: Path, pid: str):
        super().__init__(f"DAM is already running on the data directory {data_dir} (process {pid or 'unknown'}): "
                         f"stop it first, or give this one another DAM_DATA_DIR.")


def lock_data_directory(data_dir: Path) -> int:
    """Take the data directory's lock and write our PID in it; the returned descriptor holds it until we exit
    (it is not inherited by the children: Python opens files close-on-exec)."""
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
        os.close(fd)
        raise InUse(data_dir, holder) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _die_with(parent: int):
    """In the child, before exec: the kernel kills it when the supervisor dies. If the supervisor died before this
    ran, the signal would never come: then stop at once."""
    def preexec():
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    return preexec


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], stop_seconds: float = 30.0):
        self.commands = commands
        self.stop_seconds = stop_seconds
        self.children: dict[str, subprocess.Popen] = {}
        self.buffers: dict[str, bytes] = {}
        self.selector = selectors.DefaultSelector()
        self.stopping_since: float | None = None
        self.kill_now = False
        self.asked_to_stop: list[str] = []  # set by the signal handlers, acted on by the loop
        self.width = max(map(len, [*commands, "dam.run"]))

    # --- output ---------------------------------------------------------------------------------------------------
    def say(self, name: str, line: str) -> None:
        sys.stdout.write(f"{name:<{self.width}} | {line}\n")
        sys.stdout.flush()

    def _read(self, name: str, fd: int) -> bool:
        """Print the complete lines the child wrote; False when there was nothing to read."""
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return False
        data = self.buffers.get(name, b"") + chunk
        *lines, rest = data.split(b"\n")
        if not chunk:  # the child closed its output (it exited)
            self.selector.unregister(fd)
            lines, rest = lines + ([rest] if rest else []), b""
        self.buffers[name] = rest
        for line in lines:
            self.say(name, line.decode(errors="replace").rstrip("\r"))
        return bool(chunk)

    # --- processes ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        for name, argv in self.commands.items():
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, process_group=0,
                                     preexec_fn=_die_with(os.getpid()))
            os.set_blocking(child.stdout.fileno(), False)
            self.selector.register(child.stdout.fileno(), selectors.EVENT_READ, name)
            self.children[name] = child
            self.say("dam.run", f"started {name} (process {child.pid}): {' '.join(argv)}")

    def stop(self, why: str) -> None:
        if self.stopping_since is None:
            self.stopping_since = time.monotonic()
            self.say("dam.run", f"{why}: stopping {', '.join(self.running())}")
            for name in self.running():
                self._signal(self.children[name], signal.SIGTERM)
        else:
            self.kill_now = True

    def running(self) -> list[str]:
        return [name for name, child in self.children.items() if child.poll() is None]

    @staticmethod
    def _signal(child: subprocess.Popen, sig: int, group: bool = False) -> None:
        try:
            if group:
                os.killpg(child.pid, sig)
            else:
                child.send_signal(sig)
        except ProcessLookupError:
            pass

    def run(self) -> int:
        """Supervise until every child has ended; the exit status: 0 when stopped by a signal, 1 when a child
        exited by itself."""
        # The handlers only note the signal: writing from a handler could interrupt a write of the loop's own.
        for sig, why in ((signal.SIGINT, "interrupted"), (signal.SIGTERM, "asked to stop (SIGTERM)"),
                         (signal.SIGHUP, "hung up")):
            signal.signal(sig, lambda *_, why=why: self.asked_to_stop.append(why))
        self.start()
        status = 0
        reported: set[str] = set()
        while self.running() or self.selector.get_map():
            for key, _ in self.selector.select(timeout=0.2):
                self._read(key.data, key.fd)
            while self.asked_to_stop:
                self.stop(self.asked_to_stop.pop(0))
            for name, child in self.children.items():
                if child.poll() is not None and name not in reported:
                    reported.add(name)
                    # Its own children (gunicorn's workers, the worker's pool) go with it.
                    self._signal(child, signal.SIGKILL, group=True)
                    if self.stopping_since is None:
                        status = 1
                        self.stop(f"{name} exited with status {child.returncode}")
                    else:
                        self.say("dam.run", f"{name} stopped (status {child.returncode})")
            if self.stopping_since is not None and (
                    self.kill_now or time.monotonic() - self.stopping_since > self.stop_seconds):
                for name in self.running():
                    self.say("dam.run", f"{name} is still running: killing it")
                    self._signal(self.children[name], signal.SIGKILL, group=True)
                self.kill_now, self.stopping_since = False, float("inf")
            if not self.running() and self.selector.get_map():
                # Everyone has exited: print what is left in the pipes, but a grandchild that kept one open must
                # not keep us waiting.
                for key in list(self.selector.get_map().values()):
                    while key.fd in self.selector.get_map() and self._read(key.data, key.fd):
                        pass
                    if key.fd in self.selector.get_map():
                        self.selector.unregister(key.fd)
        return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dam.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DAM_PORT") or 8000))
    parser.add_argument("--bind", default=os.environ.get("DAM_BIND") or "127.0.0.1")
    args = parser.parse_args(argv)
    data_dir = embedded.prepare()  # before the children start: they all read the one secret key it makes
    try:
        lock = lock_data_directory(data_dir)
    except InUse as exc:
        print(f"dam.run: {exc}", file=sys.stderr)
        return EXIT_IN_USE
    try:
        supervisor = Supervisor(programs(args.bind, args.port),
                                stop_seconds=float(os.environ.get("DAM_RUN_STOP_SECONDS", "30")))
        return supervisor.run()
    finally:
        os.close(lock)


if __name__ == "__main__":
    sys.exit(main())
