"""The fleet dashboard's numbers: live counts, and how isolation and repair went over a recent window.

Everything is computed from the records the lifecycle keeps (the audit rows, tickets, faults): nothing is stored
twice. Each figure is one grouped query over an indexed column or a bounded window, so the page stays fast with a
fleet of 100,000 machines and millions of faults (see bench/console.py).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from statistics import mean, median

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.core.cache import cache
from django.utils import timezone

from assets.choices import OUT_OF_SERVICE, AssetState, RequestStatus, Transition, state_looks
from assets.models import Asset, AssetTransition, Fault, HardwareModel, IsolationRequest, Pool
from repairs.choices import WORKABLE
from repairs.models import RepairTicket

log = logging.getLogger(__name__)
WINDOW_DAYS = 30
OFFENDER_DAYS = 90
OFFENDERS = 10

STATE_ORDER = [s.value for s in AssetState]
# Charted even when no machine is in them, so the legend keeps its shape; new and retired appear when there are some.
ALWAYS_CHARTED = [s for s in STATE_ORDER if s not in (AssetState.NEW, AssetState.RETIRED)]


def state_legend() -> list[dict]:
    """The states as the dashboard's script draws them: in order, with their labels and colours (assets/choices.py),
    so the script neither lists states nor makes up labels."""
    return [{**look, "always": look["value"] in ALWAYS_CHARTED} for look in state_looks()]


def live_counts(now=None) -> dict:
    """What the fleet looks like right now: the dashboard polls this every few seconds."""
    now = now or timezone.now()
    by_state = dict.fromkeys(STATE_ORDER, 0)
    per_pool: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATE_ORDER, 0))
    for pool_id, state, n in Asset.objects.order_by().values_list("pool_id", "state").annotate(n=Count("id")):
        per_pool[pool_id][state] = per_pool[pool_id].get(state, 0) + n
        by_state[state] = by_state.get(state, 0) + n
    names = dict(Pool.objects.filter(pk__in=per_pool).values_list("id", "name"))
    pools = sorted(({"pool": names.get(pid, f"#{pid}"), "states": counts, "total": sum(counts.values()),
                     "out_of_service": sum(counts.get(s, 0) for s in OUT_OF_SERVICE)}
                    for pid, counts in per_pool.items()), key=lambda p: p["pool"])

    # Unassigned and overdue count the tickets a technician still has to work on (not those waiting for an
    # inspection); overdue is the tickets' own definition, counted in the same query.
    tickets = RepairTicket.objects.unclosed().aggregate(
        open=Count("id"),
        unassigned=Count("id", filter=Q(status__in=WORKABLE, assignee="")),
        overdue=Count("id", filter=RepairTicket.objects.overdue_condition(now)),
    )
    pending = IsolationRequest.objects.filter(status=RequestStatus.PENDING).count()
    total = sum(by_state.values())
    out = sum(by_state.get(s, 0) for s in OUT_OF_SERVICE)
    return {
        "at": now.isoformat(),
        "total": total,
        "by_state": by_state,
        "out_of_service": out,
        "available_pct": round(100 * (total - out) / total, 2) if total else None,
        "pools": pools,
        "tickets": tickets,
        "pending_approval": pending,
    }


def per_day(since, now) -> dict:
    """Isolations and returns (passed verification) per day."""
    days = [(since + timedelta(days=d)).date() for d in range((now.date() - since.date()).days + 1)]
    series = {Transition.ISOLATE: dict.fromkeys(days, 0), Transition.PASS_VERIFICATION: dict.fromkeys(days, 0)}
    rows = (AssetTransition.objects.filter(at__gte=since, transition__in=list(series)).order_by()
            .annotate(day=TruncDate("at")).values_list("day", "transition").annotate(n=Count("id")))
    for day, transition, n in rows:
        if day in series[transition]:
            series[transition][day] = n
    return {"days": [d.isoformat() for d in days],
            "isolations": list(series[Transition.ISOLATE].values()),
            "returns": list(series[Transition.PASS_VERIFICATION].values())}


# A repair that took longer than this is counted from an isolation this far before the window at most.
REPAIR_LOOKBACK = timedelta(days=30)


def time_to_repair(since) -> dict:
    """Isolated → returned, from the audit rows: each return in the window paired with the isolation before it.

    One pass over the window's isolations and returns, in order per machine (a window function): the row before a
    return is the isolation that started its repair. A correlated lookup per return would cost one index probe
    each — tens of thousands on a big fleet.
    """
    table = AssetTransition._meta.db_table
    if connection.vendor == "postgresql":
        seconds = "EXTRACT(EPOCH FROM (at - prev_at))"
    else:
        seconds = "(julianday(at) - julianday(prev_at)) * 86400"
    sql = f"""
        SELECT {seconds} FROM (
            SELECT transition, at,
                   LAG(transition) OVER (PARTITION BY asset_id ORDER BY at, id) AS prev_transition,
                   LAG(at) OVER (PARTITION BY asset_id ORDER BY at, id) AS prev_at
            FROM {table} WHERE transition IN (%s, %s) AND at >= %s
        ) AS ordered
        WHERE transition = %s AND prev_transition = %s AND at >= %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [Transition.ISOLATE, Transition.PASS_VERIFICATION, since - REPAIR_LOOKBACK,
                             Transition.PASS_VERIFICATION, Transition.ISOLATE, since])
        hours = [float(row[0]) / 3600 for row in cursor.fetchall()]
    return {"repairs": len(hours), "mean_hours": round(mean(hours), 1) if hours else None,
            "median_hours": round(median(hours), 1) if hours else None}


def first_time_fix(since) -> dict:
    """Of the incidents closed in the window (not cancelled), the share whose first repair passed verification."""
    done = RepairTicket.objects.filter(closed_at__gte=since).exclude(status="cancelled").aggregate(
        closed=Count("id"), first_time=Count("id", filter=Q(reopen_count=0)))
    rate = round(100 * done["first_time"] / done["closed"], 1) if done["closed"] else None
    return {**done, "rate_pct": rate}


def failure_rates(since) -> dict:
    """Incidents (repair tickets opened) in the window per 100 machines, by hardware model and vendor; and the
    incidents by the component their faults name."""
    fleet = dict(Asset.objects.order_by().values_list("hardware_model_id").annotate(n=Count("id")))
    incidents = dict(RepairTicket.objects.filter(opened_at__gte=since).order_by()
                     .values_list("asset__hardware_model_id").annotate(n=Count("id")))
    models = {m.id: m for m in HardwareModel.objects.filter(pk__in=fleet.keys() | incidents.keys())}

    def rate(n, size):
        return round(100 * n / size, 2) if size else None

    by_model = sorted(({"name": models[mid].name, "vendor": models[mid].vendor, "machines": size,
                        "incidents": incidents.get(mid, 0), "rate": rate(incidents.get(mid, 0), size)}
                       for mid, size in fleet.items() if mid in models),
                      key=lambda r: (-(r["rate"] or 0), r["name"]))
    vendors: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in by_model:
        vendors[row["vendor"]][0] += row["machines"]
        vendors[row["vendor"]][1] += row["incidents"]
    by_vendor = sorted(({"name": v, "machines": m, "incidents": n, "rate": rate(n, m)}
                        for v, (m, n) in vendors.items()), key=lambda r: (-(r["rate"] or 0), r["name"]))

    # An incident counts once, for the component of its first fault (the one that opened it). In three steps, so the
    # faults table (millions of rows) is only ever read by primary key.
    first: dict[int, int] = {}
    for ticket_id, fault_id in (RepairTicket.faults.through.objects.filter(repairticket__opened_at__gte=since)
                                .values_list("repairticket_id", "fault_id")):
        first[ticket_id] = min(fault_id, first.get(ticket_id, fault_id))
    ids = sorted(set(first.values()))
    component_of = {}
    for chunk in range(0, len(ids), 5000):
        component_of.update(Fault.objects.filter(pk__in=ids[chunk:chunk + 5000]).values_list("id", "component"))
    counts: dict[str, int] = defaultdict(int)
    for fault_id in first.values():
        counts[component_of.get(fault_id, "other")] += 1
    by_component = [{"name": c, "incidents": n} for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"by_model": by_model, "by_vendor": by_vendor, "by_component": by_component}


def repeat_offenders(since, limit: int = OFFENDERS) -> list[dict]:
    """The machines with the most incidents in the window (two or more)."""
    top = list(RepairTicket.objects.filter(opened_at__gte=since).order_by().values("asset_id")
               .annotate(n=Count("id")).filter(n__gte=2).order_by("-n", "asset_id")[:limit])
    assets = Asset.objects.select_related("hardware_model", "pool").in_bulk([row["asset_id"] for row in top])
    return [{"id": row["asset_id"], "hostname": assets[row["asset_id"]].hostname,
             "state": assets[row["asset_id"]].state, "model": assets[row["asset_id"]].hardware_model.name,
             "pool": assets[row["asset_id"]].pool.name, "incidents": row["n"]}
            for row in top if row["asset_id"] in assets]


def history(days: int, now=None) -> dict:
    """The figures over the window. They move slowly, and on a big fleet they read hundreds of thousands of audit
    rows, so the page takes them from the cache, which the beat job `console.tasks.dashboard_refresh` keeps fresh."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    return {
        "window_days": days,
        "offender_days": OFFENDER_DAYS,
        "computed_at": now.isoformat(),
        "per_day": per_day(since, now),
        "time_to_repair": time_to_repair(since),
        "first_time_fix": first_time_fix(since),
        "failure_rates": failure_rates(since),
        "offenders": repeat_offenders(now - timedelta(days=OFFENDER_DAYS)),
    }


# The beat job refreshes the default window every minute; a figure is kept a little longer so there is no gap.
HISTORY_SECONDS = 150


def _key(days: int) -> str:
    return f"console:dashboard:history:{days}"


def history_refresh(days: int) -> dict:
    figures = history(days)
    try:
        cache.set(_key(days), figures, HISTORY_SECONDS)
    except Exception:  # noqa: BLE001 - a cache that is down or not set up only costs time
        log.warning("dashboard cache unavailable", exc_info=True)
    return figures


def cached_history(days: int) -> dict:
    try:
        figures = cache.get(_key(days))
    except Exception:  # noqa: BLE001
        log.warning("dashboard cache unavailable; computing the figures", exc_info=True)
        return history(days)
    return figures if figures is not None else history_refresh(days)


def fleet_dashboard(days: int = WINDOW_DAYS, *, fresh: bool = False) -> dict:
    """Everything the dashboard shows: the live counts always fresh, the window's figures at most a minute old
    (`fresh`: computed now)."""
    return {"live": live_counts(), **(history(days) if fresh else cached_history(days))}
