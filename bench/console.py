"""How fast the console's pages are with a real fleet: 100,000 machines, a few million faults, months of history.

    .venv/bin/python bench/console.py [--assets 100000] [--faults 3000000] [--incidents 60000] [--runs 7] [--keep]

PostgreSQL only (PG_URL, default postgres://postgres@127.0.0.1:5432/): it creates its own database
`dam_bench_console`, migrates it, fills it with INSERT … SELECT generate_series (seconds, not minutes), then times
each page in this process with Django's test client (server time: view, queries and template, no network) and
prints the median and the worst of --runs runs, with the number of queries. The database is dropped at the end
unless --keep. The rows are made up; only timestamps and states are written directly, as fixture data.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "dam_bench_console"
BUDGET_MS = 300


def admin_url(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def recreate_database(base: str) -> None:
    with psycopg.connect(admin_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database(base: str) -> None:
    with psycopg.connect(admin_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def step(what: str):
    class Timer:
        def __enter__(self):
            self.start = time.perf_counter()
            print(f"  {what} …", end="", flush=True)

        def __exit__(self, *exc):
            print(f" {time.perf_counter() - self.start:.1f} s", flush=True)
    return Timer()


def generate(*, assets: int, faults: int, incidents: int) -> None:
    """The fleet and its history. Machines 1-100 are the repeat offenders; 0.2 % of the fleet is out of service."""
    from django.db import connection

    from assets.models import Pool
    from fleet import create_assets, create_faults, create_models, pick_asset

    models = create_models()
    pools = Pool.objects.bulk_create([Pool(name=f"pool-{n:02d}", description=f"workload {n}") for n in range(30)])
    states = (["isolated"] * 2 + ["in_repair"] * 10 + ["verifying"] * 3 + ["returned"] * 5 + ["active"] * 9980)
    with connection.cursor() as cur:
        with step(f"{assets:,} assets"):
            create_assets(cur, first=1, count=assets, pool_ids=[p.pk for p in pools],
                          model_ids=[m.pk for m in models], states=states)
        pick = pick_asset(cur)  # incidents land on the same machines as the faults
        with step(f"{faults:,} faults over 90 days"):
            create_faults(cur, count=faults, days=90)
        with step(f"{incidents:,} incidents: audit rows, tickets, inspections, checks"):
            # Incident g: isolated at t, repair started at once, resolved 2-26 h later, returned 10 minutes after.
            t = f"(now() - (({incidents} - g) * interval '1 second' * {90 * 86400 / incidents}) - interval '2 days')"
            repair = "(interval '1 hour' * (2 + g % 24))"
            cur.execute(f"""
                INSERT INTO assets_assettransition (asset_id, transition, source, target, actor, reason, at)
                SELECT {pick}, x.transition, x.source, x.target, x.actor, 'made-up incident #' || g, x.at
                FROM generate_series(1, {incidents}) g,
                LATERAL (VALUES
                    ('isolate', 'active', 'isolated', 'job:isolate_asset', {t}),
                    ('start_repair', 'isolated', 'in_repair', 'job:open_repair_ticket', {t} + interval '1 second'),
                    ('start_verification', 'in_repair', 'verifying', 'tech-' || (g % 40), {t} + {repair}),
                    ('pass_verification', 'verifying', 'returned', 'job:inspection', {t} + {repair} + interval '10 minutes'),
                    ('end_probation', 'returned', 'active', 'job:end_probation', {t} + {repair} + interval '1 day')
                ) AS x(transition, source, target, actor, at)""")
            cur.execute(f"""
                INSERT INTO repairs_repairticket (asset_id, status, summary, assignee, notes, action_taken, opened_by,
                    opened_at, resolved_at, closed_at, reopen_count, repair_action, escalation, performed_action, due_at)
                SELECT {pick}, 'resolved', 'disk: made-up incident #' || g, 'tech-' || (g % 40), '', 'replaced part',
                       'job:open_repair_ticket', {t}, {t} + {repair}, {t} + {repair} + interval '10 minutes',
                       (g % 7 = 0)::int, 'hardware_repair', '', 'hardware_repair', {t} + interval '48 hours'
                FROM generate_series(1, {incidents}) g""")
            cur.execute("""
                INSERT INTO repairs_repairticket_faults (repairticket_id, fault_id)
                SELECT t.id, f.id FROM repairs_repairticket t
                JOIN LATERAL (SELECT id FROM assets_fault WHERE asset_id = t.asset_id ORDER BY id DESC LIMIT 2) f ON true
                WHERE t.id % 3 = 0""")
            # The machines out of service now have their open ticket, a third of them overdue, half assigned.
            cur.execute("""
                INSERT INTO repairs_repairticket (asset_id, status, summary, assignee, notes, action_taken, opened_by,
                    opened_at, resolved_at, closed_at, reopen_count, repair_action, escalation, performed_action, due_at)
                SELECT id, 'open', 'memory: made-up open incident', CASE WHEN id % 2 = 0 THEN 'tech-1' ELSE '' END,
                       '', '', 'job:open_repair_ticket', now() - interval '1 hour' * (id % 96), NULL, NULL, 0,
                       'hardware_repair', '', '', now() - interval '1 hour' * (id % 96) + interval '48 hours'
                FROM assets_asset WHERE state IN ('in_repair', 'verifying')""")
            # Inspections through the ORM: the inspection app's models grow fields (and their defaults) as the
            # verification engine lands.
            Inspection, Check = _inspection_models()
            cur.execute("SELECT asset_id, id, resolved_at, reopen_count FROM repairs_repairticket "
                        "WHERE resolved_at IS NOT NULL ORDER BY id")
            rows = cur.fetchall()
            for chunk in range(0, len(rows), 5000):
                made = Inspection.objects.bulk_create([
                    Inspection(asset_id=asset_id, ticket_id=ticket_id, purpose="verification",
                               verdict="failed" if reopened else "passed", requested_at=at, started_at=at,
                               finished_at=at + timedelta(minutes=2), runner="agent:x", summary="made up")
                    for asset_id, ticket_id, at, reopened in rows[chunk:chunk + 5000]])
                Check.objects.bulk_create([
                    Check(inspection=inspection, name=name, measured=expected * (0.9 + inspection.pk % 20 / 100),
                          expected=expected, limit=expected * 0.7, unit="MB/s", passed=True, detail=f"{name} made up")
                    for inspection in made
                    for name, expected in (("cpu.sha256_mb_per_s", 3300.0), ("memory.copy_mb_per_s", 9000.0),
                                           ("disk.seq_write_mb_per_s", 1400.0))])
            cur.execute("""
                INSERT INTO assets_isolationrequest (asset_id, fault_id, reason, status, requested_at, decided_by,
                                                     decision_reason)
                SELECT id, NULL, 'pool budget reached', 'pending', now(), '', '' FROM assets_asset
                WHERE state = 'active' AND id % 997 = 0""")
        with step("ANALYZE"):
            cur.execute("ANALYZE")
        for table in ("assets_asset", "assets_fault", "assets_assettransition", "repairs_repairticket",
                      "inspection_inspection", "inspection_inspectioncheck"):
            cur.execute(f"SELECT count(*) FROM {table}")
            print(f"    {table:32} {cur.fetchone()[0]:>10,} rows")


def _inspection_models():
    from inspection.models import Inspection, InspectionCheck
    return Inspection, InspectionCheck


def measure(runs: int) -> list[tuple[str, float, float, int]]:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from assets.models import Asset
    from console.groups import HARDWARE_STAFF
    from inspection.models import Inspection

    user, _ = User.objects.get_or_create(username="tech-1", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=HARDWARE_STAFF))
    client = Client()
    client.force_login(user)
    busiest = Asset.objects.order_by("id").first()  # one of the repeat offenders: tens of thousands of faults
    sample = Asset.objects.filter(state="active").order_by("-id").first()
    in_repair = Asset.objects.filter(state="in_repair").order_by("id").first()
    inspection = Inspection.objects.order_by("-id").first()
    assets = reverse("admin:assets_asset_changelist")
    middle = max(1, Asset.objects.count() // 200)  # a page in the middle of the list (100 a page)
    tickets = reverse("admin:repairs_repairticket_changelist")
    pages = [
        ("asset list", assets),
        ("asset list: state=in_repair", assets + "?state__exact=in_repair"),
        ("asset list: open ticket + overdue", assets + "?open_ticket=yes&overdue=yes"),
        ("asset list: pending approval", assets + "?pending_approval=yes"),
        ("asset list: pool + model filter", assets + f"?pool__id__exact={sample.pool_id}"
                                                     f"&hardware_model__id__exact={sample.hardware_model_id}"),
        ("asset list: search serial", assets + f"?q={sample.serial}"),
        (f"asset list: page {middle}", assets + f"?p={middle}"),
        (f"asset page: busiest ({busiest.faults.count():,} faults)", reverse("admin:assets_asset_change", args=[busiest.pk])),
        ("asset page: in repair", reverse("admin:assets_asset_change", args=[in_repair.pk])),
        ("ticket queue: open", tickets + "?queue=open"),
        ("ticket queue: mine", tickets + "?queue=mine"),
        ("ticket queue: overdue", tickets + "?queue=overdue"),
        ("ticket queue: all", tickets),
        ("dashboard page (30 days, figures from cache)", reverse("console:dashboard")),
        ("dashboard JSON: live counts", reverse("console:dashboard-data") + "?part=live"),
        ("dashboard JSON: 90 days", reverse("console:dashboard-data") + "?days=90"),
        ("inspection page", reverse("admin:inspection_inspection_change", args=[inspection.pk])),
    ]
    results = []
    from console import dashboard
    start = time.perf_counter()
    dashboard.history_refresh(dashboard.WINDOW_DAYS)  # what the beat job does every minute
    results.append(("beat job: dashboard_refresh (30 days)", (time.perf_counter() - start) * 1000, 0.0, 0))
    for name, url in pages:
        assert client.get(url).status_code == 200, url  # warm: connection, templates, plan cache
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, url
        results.append((name, statistics.median(times), max(times), len(queries)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--faults", type=int, default=3_000_000)
    parser.add_argument("--incidents", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="time an existing dam_bench_console, generate nothing")
    args = parser.parse_args()
    base = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/")

    if not args.reuse:
        recreate_database(base)
    os.environ["DATABASE_URL"] = admin_url(base, DB_NAME)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")
    os.environ.setdefault("DAM_DATA_DIR", str(ROOT / "var" / "bench"))
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    try:
        with step("migrate"):
            call_command("migrate", verbosity=0)
            call_command("createcachetable", verbosity=0)  # the shared cache with DATABASE_URL (dam/settings.py)
        if not args.reuse:
            print(f"Generating in {DB_NAME}:")
            generate(assets=args.assets, faults=args.faults, incidents=args.incidents)
        print(f"\nServer time per page, {args.runs} runs (budget {BUDGET_MS} ms):")
        print(f"  {'page':46} {'median':>9} {'worst':>9} {'queries':>8}")
        over = 0
        for name, med, worst, queries in measure(args.runs):
            flag = "" if med <= BUDGET_MS or name.startswith("beat job") else "  over budget"
            over += bool(flag)
            print(f"  {name:46} {med:7.1f}ms {worst:7.1f}ms {queries:8d}{flag}")
        print("\nAll pages within budget." if not over else f"\n{over} page(s) over the {BUDGET_MS} ms budget.")
    finally:
        from django.db import connections
        connections.close_all()
        if not args.keep:
            drop_database(base)


if __name__ == "__main__":
    main()
