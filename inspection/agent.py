"""The host agent: runs on the machine under test, takes its pending inspection, measures, reports.

    python -m inspection.agent --server URL --token TOKEN [--hostname NAME] [--once [--wait SECONDS]] [--watch]

It needs only psutil and the standard library (no Django): copied onto a host as the five files inspection/
__init__.py, agent.py, measure.py, verdict.py and watch.py (the README's "The host agent"). The server judges the
numbers against the hardware model's baseline; the agent never decides its own verdict.

Exit status with --once: 0 the inspection ran (or none waited), 1 it ended in error, 2 the server was away or
refused, 3 DAM has no asset of this hostname (also without --once: it is a setting to fix, not a pause to wait out).
"""
from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from inspection.measure import DISTURBANCE_RETRIES, measure_again, measure_host

log = logging.getLogger("dam.agent")
EXIT_ERROR, EXIT_SERVER, EXIT_UNKNOWN_HOST = 1, 2, 3
WAIT_POLL_SECONDS = 2.0  # how often --once --wait asks for an assignment


class UnknownHost(Exception):
    """DAM has no asset of the hostname the agent runs as (the server's 404 names it)."""


class Server:
    def __init__(self, base_url: str, token: str, timeout: float = 30):
        self.base = base_url.rstrip("/") + "/api/v1/agent/inspections/"
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json",
                        "Content-Type": "application/json"}
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw) if raw else None
            except ValueError:
                return error.code, {"detail": raw[:200].decode(errors="replace")}


def run_once(server: Server, hostname: str, scratch_dir: str) -> dict | None:
    """Take and run this host's next pending inspection. Returns the judged inspection, or None if none waits."""
    status, assignment = server.call("GET", f"next/?hostname={urllib.parse.quote(hostname)}")
    if status == 204:
        return None
    if status == 404 and isinstance(assignment, dict) and "hostname" in assignment:
        raise UnknownHost(assignment.get("detail") or f"DAM has no asset named {assignment['hostname']!r}")
    if status != 200:
        raise RuntimeError(f"server answered {status}: {assignment}")
    inspection_id = assignment["id"]
    status, body = server.call("POST", f"{inspection_id}/start/", {})
    if status == 409:  # another agent run took it first
        return None
    if status != 200:
        raise RuntimeError(f"start answered {status}: {body}")

    log.info("inspection #%s: measuring (%s profile, %gs per curve; inventory of %s)", inspection_id,
             assignment.get("profile", "quick"), assignment["seconds"], ", ".join(assignment["mounts"]) or "no disks")
    limits = assignment.get("disturbance_limits")  # the server's: it judges disturbance with the same
    retries = assignment.get("disturbance_retries", DISTURBANCE_RETRIES)
    try:
        report = measure_host(scratch_dir=scratch_dir, mounts=assignment["mounts"], seconds=assignment["seconds"],
                              disk_bytes=assignment["disk_bytes"], profile=assignment.get("profile", "quick"),
                              limits=limits, retries=retries)
        report["can_confirm"] = True
    except OSError as exc:  # e.g. the scratch disk cannot be written: that is the finding
        report = {"error": f"{type(exc).__name__}: {exc}"}
    status, result = server.call("POST", f"{inspection_id}/report/", report)
    if status != 200:
        raise RuntimeError(f"report answered {status}: {result}")
    if result.get("confirm"):  # a performance fail: the server wants the failing curves again before it counts
        ask = result["confirm"]
        log.info("inspection #%s: %s; measuring again", inspection_id, result["summary"])
        try:
            runs = measure_again(scratch_dir=scratch_dir, groups=ask["groups"], repeats=ask["repeats"],
                                 seconds=assignment["seconds"], disk_bytes=assignment["disk_bytes"], limits=limits,
                                 retries=retries)
        except OSError as exc:
            log.warning("inspection #%s: confirmation runs failed: %s", inspection_id, exc)
            runs = []
        status, result = server.call("POST", f"{inspection_id}/confirm/", {"runs": runs} if runs else {"runs": []})
        if status != 200:
            raise RuntimeError(f"confirm answered {status}: {result}")
    log.info("inspection #%s: %s — %s", inspection_id, result["verdict"], result["summary"])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inspection.agent", description=__doc__.splitlines()[0],
                                     epilog="Exit status with --once: 0 ran (or nothing waited), 1 the inspection "
                                            "ended in error, 2 the server was away or refused, 3 DAM has no asset "
                                            "of this hostname.")
    parser.add_argument("--server", required=True, help="DAM's base URL, e.g. http://dam.example:8000")
    parser.add_argument("--token", required=True, help="an agent token issued for this host")
    parser.add_argument("--hostname", default=socket.gethostname(), help="this host's name in DAM")
    parser.add_argument("--once", action="store_true", help="run at most one inspection, then exit")
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help=f"with --once: wait up to SECONDS for an inspection to be assigned (asking every "
                             f"{WAIT_POLL_SECONDS:g} s) instead of exiting at once when none waits")
    parser.add_argument("--interval", type=float, default=30, help="seconds between polls")
    parser.add_argument("--watch", action="store_true", help="also watch this host's hardware every interval (EDAC, "
                        "SMART, kernel log, read-only mounts) and post faults about it (inspection/watch.py)")
    parser.add_argument("--watch-state", help="the watch's state file (default /var/lib/dam-agent/watch.json)")
    parser.add_argument("--scratch-dir", default=tempfile.gettempdir(),
                        help="where the disk checks write their one scratch file (removed afterwards)")
    args = parser.parse_args(argv)
    if args.wait and not args.once:
        parser.error("--wait goes with --once (without it the agent polls for ever, every --interval)")
    if args.wait < 0:
        parser.error("--wait takes a number of seconds, 0 or more")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    server = Server(args.server, args.token)
    watch = None
    if args.watch:
        from inspection.watch import Watch, faults_poster
        watch = Watch(post=faults_poster(args.server, args.token), hostname=args.hostname, state_file=args.watch_state)
    deadline = time.monotonic() + args.wait
    next_tick = time.monotonic()
    while True:
        if watch and time.monotonic() >= next_tick:
            watch.tick()
            next_tick = time.monotonic() + args.interval
        try:
            result = run_once(server, args.hostname, args.scratch_dir)
        except UnknownHost as exc:
            log.error("%s", exc)
            return EXIT_UNKNOWN_HOST
        except (RuntimeError, OSError) as exc:  # server away or refusing: say so, keep polling
            log.warning("%s", exc)
            if args.once:
                return EXIT_SERVER
        else:
            if args.once and result is not None:
                return EXIT_ERROR if result["verdict"] == "error" else 0
            if args.once:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.info("no pending inspection for %s%s", args.hostname,
                             f" after waiting {args.wait:g} s" if args.wait else "")
                    return 0
                time.sleep(min(WAIT_POLL_SECONDS, left))
                continue
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
