"""Made-up fleets for the benchmarks (bench/console.py, bench/suite.py): machines and faults written straight into
PostgreSQL with INSERT … SELECT generate_series, so 100,000 machines and 10 million faults take a minute, not hours."""
from __future__ import annotations

VENDORS = ["Dell", "HPE", "Lenovo", "Supermicro", "Inspur"]
COMPONENTS = ["disk", "memory", "cpu", "power", "thermal", "network", "gpu", "other"]


def hostname(n: int) -> str:
    """The hostname create_assets gives machine number n."""
    return f"node-{n:06d}.dc{n % 4}"


def create_models(count: int = 20):
    from assets.models import HardwareModel
    return HardwareModel.objects.bulk_create([
        HardwareModel(name=f"model-{n:02d}", vendor=VENDORS[n % len(VENDORS)], cpu_logical_cores=64,
                      memory_bytes=512 * 2**30, disks=[{"mount": "/", "size_bytes": 960 * 10**9}])
        for n in range(count)])


def create_assets(cur, *, first: int, count: int, pool_ids: list[int], model_ids: list[int],
                  states: list[str] | None = None) -> None:
    """Machines number first … first+count-1 (hostname(n)), spread round-robin over the pools, models and states."""
    states = states or ["active"]
    cur.execute("""
        INSERT INTO assets_asset (hostname, serial, asset_tag, hardware_model_id, pool_id, site, rack, state,
                                  state_changed_at, created_at, exclude_from_automation, flapping, bmc_url,
                                  bmc_system, bmc_username, bmc_password_encrypted, bmc_verify_tls)
        SELECT 'node-' || lpad(g::text, 6, '0') || '.dc' || mod(g, 4), 'SN' || lpad(g::text, 8, '0'),
               'AT' || lpad(g::text, 7, '0'), (%(models)s::bigint[])[1 + mod(g, %(n_models)s::int)],
               (%(pools)s::bigint[])[1 + mod(g, %(n_pools)s::int)], 'site-' || mod(g, 4), 'R' || lpad(mod(g, 500)::text, 3, '0'),
               (%(states)s::text[])[1 + mod(g, %(n_states)s::int)], now(), now(), false, false, '', '', '', '', true
        FROM generate_series(%(first)s::int, %(last)s::int) g""",
                {"models": model_ids, "n_models": len(model_ids), "pools": pool_ids, "n_pools": len(pool_ids),
                 "states": states, "n_states": len(states), "first": first, "last": first + count - 1})


def pick_asset(cur) -> str:
    """SQL for a machine id from the series value g, spread over the fleet; every 50th lands on one of the first 100
    machines (the repeat offenders)."""
    cur.execute("SELECT min(id), max(id) FROM assets_asset")
    first, last = cur.fetchone()
    span = last - first + 1
    return f"(CASE WHEN g % 50 = 0 THEN {first} + g % 100 ELSE {first} + (g::bigint * 7919) % {span} END)"


def create_faults(cur, *, count: int, days: int = 90) -> None:
    """`count` faults over the last `days` days, spread over the whole fleet by pick_asset (so the first 100
    machines have thousands each)."""
    pick = pick_asset(cur)
    # Fixture rows whose asset ids come from the table itself: skip the per-row foreign-key trigger (superuser
    # only), which would otherwise cost more than the insert. The session setting ends with this statement's batch.
    cur.execute("SET session_replication_role = replica")
    step = 1_000_000  # in chunks, so that a progress line can be printed and no single statement runs for minutes
    for start in range(1, count + 1, step):
        end = min(count, start + step - 1)
        cur.execute(f"""
            INSERT INTO assets_fault (asset_id, component, severity, summary, details, observed_at, received_at,
                                      detector, event_id, repeat_of_id)
            SELECT {pick}, (ARRAY{COMPONENTS!r})[1 + g % 8],
                   (ARRAY['info','warning','warning','critical'])[1 + g % 4], 'made-up fault #' || g, '{{}}'::jsonb,
                   now() - (({count} - g) * interval '1 second' * {days * 86400 / count}),
                   now() - (({count} - g) * interval '1 second' * {days * 86400 / count}),
                   'detector-' || (g % 5), NULL, NULL
            FROM generate_series({start}, {end}) g""")
    cur.execute("SET session_replication_role = DEFAULT")
