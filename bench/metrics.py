"""What one Prometheus scrape of GET /metrics costs with a real fleet: 100,000 machines, millions of faults.

    .venv/bin/python bench/metrics.py [--assets 100000] [--faults 3000000] [--incidents 60000] [--runs 20] [--keep]

PostgreSQL only (PG_URL, default postgres://postgres@127.0.0.1:5432/): its own database `dam_bench_metrics`, filled
as bench/console.py fills its own (plus an automation decision per isolation, so the fault-to-isolation histogram
has rows), then GET /metrics through Django's test client with a viewer token (server time: authentication,
queries, exposition; no network). Prints the first scrape (nothing kept yet: every row counted once), then the
median and worst of --runs scrapes, with their queries. Goal: under 100 ms. Dropped at the end unless --keep.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/console.py must not hide the console app
GOAL_MS = 100


def _load_console_bench():
    """bench/console.py (its fleet generator), under a name that is not the console app's."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_console", ROOT / "bench" / "console.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


console_bench = _load_console_bench()

console_bench.DB_NAME = DB_NAME = "dam_bench_metrics"


def decisions() -> None:
    """One automation decision `isolated` per isolation, naming the asset's newest fault before it."""
    from django.db import connection
    with connection.cursor() as cur, console_bench.step("automation decisions for the isolations"):
        cur.execute("""
            INSERT INTO assets_automationdecision (asset_id, fault_id, decision, reason, actor, at)
            SELECT t.asset_id, f.id, 'isolated', 'made up', 'job:isolate_asset', t.at
            FROM assets_assettransition t
            JOIN LATERAL (SELECT id FROM assets_fault WHERE asset_id = t.asset_id AND received_at <= t.at
                          ORDER BY received_at DESC LIMIT 1) f ON true
            WHERE t.transition = 'isolate'""")
        cur.execute("ANALYZE assets_automationdecision")


def scrape(client, token: str):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {token}")
        elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.content[:500]
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return elapsed, len(queries), response.content, sql


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--faults", type=int, default=3_000_000)
    parser.add_argument("--incidents", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="time an existing dam_bench_metrics, generate nothing")
    args = parser.parse_args()
    base = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/")
    if not args.reuse:
        console_bench.recreate_database(base)
    os.environ["DATABASE_URL"] = console_bench.admin_url(base, DB_NAME)
    os.environ.pop("CELERY_BROKER_URL", None)  # the kept sums go to the database cache of this database
    os.environ.pop("DAM_CACHE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")
    os.environ.setdefault("DAM_DATA_DIR", str(ROOT / "var" / "bench"))
    import django
    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver"]
    try:
        with console_bench.step("migrate"):
            call_command("migrate", verbosity=0)
            call_command("createcachetable", verbosity=0)
        if not args.reuse:
            print(f"Generating in {DB_NAME}:")
            console_bench.generate(assets=args.assets, faults=args.faults, incidents=args.incidents)
            decisions()
        from django.db import connection
        with connection.cursor() as cur, console_bench.step("VACUUM (the visibility map autovacuum keeps: index-only scans)"):
            for table in ("assets_asset", "inspection_inspection", "assets_fault", "assets_assettransition"):
                cur.execute(f"VACUUM ANALYZE {table}")
        from io import StringIO
        out = StringIO()
        call_command("issue_token", "bench-prometheus", role="viewer", stdout=out)
        token = out.getvalue().strip()
        from dam import metrics
        cache.delete_many([t.key for t in metrics.TALLIES])
        client = Client()
        first, queries, body, _ = scrape(client, token)
        lines = len(body.splitlines())
        print(f"\nGET /metrics ({len(body):,} bytes, {lines:,} lines):")
        print(f"  first scrape (every row counted once, then kept) {first:9.1f} ms  {queries} queries")
        times, sqls = [], []
        for _ in range(args.runs):
            elapsed, queries, _, sql = scrape(client, token)
            times.append(elapsed)
            sqls.append(sql)
        median, worst = statistics.median(times), max(times)
        print(f"  scrape, median of {args.runs}                          {median:9.1f} ms  {queries} queries")
        print(f"    of which in the database (median)              {statistics.median(sqls):9.1f} ms")
        print(f"  scrape, best / worst                             {min(times):9.1f} / {worst:.1f} ms")
        print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"\n{'Within' if median < GOAL_MS else 'OVER'} the {GOAL_MS} ms goal.")
    finally:
        from django.db import connections
        connections.close_all()
        if not args.keep:
            console_bench.drop_database(base)


if __name__ == "__main__":
    main()
