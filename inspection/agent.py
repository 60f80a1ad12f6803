"""The host agent: runs on the machine under test, takes its pending inspection, measures, reports.

    python -m inspection.agent --server URL --token TOKEN [--hostname NAME] [--once] [--watch]

It needs only psutil and the standard library (no Django), so it can be copied onto any host. The server judges
the numbers against the hardware model's baseline; the agent never decides its own verdict.
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
import urllib.request

from inspection.measure import DISTURBANCE_RETRIES, measure_again, measure_host

log = logging.getLogger("dam.agent")


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
    status, assignment = server.call("GET", f"next/?hostname={hostname}")
    if status == 204:
        return None
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
    parser = argparse.ArgumentParser(prog="python -m inspection.agent", description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="DAM's base URL, e.g. http://dam.example:8000")
    parser.add_argument("--token", required=True, help="an agent token issued for this host")
    parser.add_argument("--hostname", default=socket.gethostname(), help="this host's name in DAM")
    parser.add_argument("--once", action="store_true", help="run at most one inspection, then exit")
    parser.add_argument("--interval", type=float, default=30, help="seconds between polls")
    parser.add_argument("--watch", action="store_true", help="also watch this host's hardware every interval (EDAC, "
                        "SMART, kernel log, read-only mounts) and post faults about it (inspection/watch.py)")
    parser.add_argument("--watch-state", help="the watch's state file (default /var/lib/dam-agent/watch.json)")
    parser.add_argument("--scratch-dir", default=tempfile.gettempdir(),
                        help="where the disk checks write their one scratch file (removed afterwards)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    server = Server(args.server, args.token)
    watch = None
    if args.watch:
        from inspection.watch import Watch, faults_poster
        watch = Watch(post=faults_poster(args.server, args.token), hostname=args.hostname, state_file=args.watch_state)
    while True:
        if watch:
            watch.tick()
        try:
            result = run_once(server, args.hostname, args.scratch_dir)
            if args.once:
                if result is None:
                    log.info("no pending inspection for %s", args.hostname)
                return 0 if result is None or result["verdict"] != "error" else 1
        except (RuntimeError, OSError) as exc:  # server away or refusing: say so, keep polling
            log.warning("%s", exc)
            if args.once:
                return 2
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
