"""How long the lifecycle takes on a running DAM: fault posted → in_repair, ticket resolved → returned.

    .venv/bin/python bench/lifecycle_latency.py [--server http://127.0.0.1:8000] [--assets 5]

Run it beside `make run` (same DAM_DATA_DIR / DATABASE_URL, so it can issue its tokens). It takes `--assets` active
demo assets through the whole walkthrough at once and prints the figures; it changes those assets' history.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def token(name: str, role: str) -> str:
    out = subprocess.run([sys.executable, "manage.py", "issue_token", name, "--role", role], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def call(server, tok, method, path, body=None):
    request = urllib.request.Request(server + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Token {tok}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def wait_all(server, tok, hostnames, state, started, timeout=120):
    """Poll until every host is in `state`; return seconds from its start to when it was first seen there."""
    done, deadline = {}, time.monotonic() + timeout
    while len(done) < len(hostnames):
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {state}: {sorted(set(hostnames) - set(done))}")
        for host in hostnames:
            if host not in done and call(server, tok, "GET", f"/api/v1/assets/{host}/")["state"] == state:
                done[host] = time.monotonic() - started[host]
        time.sleep(0.05)
    return list(done.values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--assets", type=int, default=5)  # the demo pool lets 5 of 20 out at once
    args = parser.parse_args()
    detector, staff = token("bench-detector", "detector"), token("bench-staff", "staff")

    page = call(args.server, staff, "GET", f"/api/v1/assets/?state=active&pool=demo&page_size={args.assets}")
    hosts = [a["hostname"] for a in page["results"]]
    if len(hosts) < args.assets:
        sys.exit(f"only {len(hosts)} active demo assets")

    started = {}
    for host in hosts:
        started[host] = time.monotonic()
        call(args.server, detector, "POST", "/api/v1/faults/", {
            "asset": host, "component": "disk", "severity": "critical", "summary": "bench: SMART errors"})
    to_repair = wait_all(args.server, staff, hosts, "in_repair", started)

    for host in hosts:
        ticket = call(args.server, staff, "GET", f"/api/v1/assets/{host}/")["open_ticket"]
        started[host] = time.monotonic()
        call(args.server, staff, "POST", f"/api/v1/tickets/{ticket}/resolve/", {"action_taken": "bench"})
    to_return = wait_all(args.server, staff, hosts, "returned", started)

    print(f"{'assets at once':<34}{len(hosts)}")
    for label, values in [("fault posted -> in_repair", to_repair), ("ticket resolved -> returned", to_return)]:
        print(f"{label:<34}p50 {statistics.median(values):.2f} s   max {max(values):.2f} s")


if __name__ == "__main__":
    main()
