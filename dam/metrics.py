"""GET /metrics: DAM's figures for Prometheus (the contract's "Prometheus metrics"), read from the database at scrape
time, so every gunicorn worker answers the same whatever process did the work, and nothing is kept per process (no
prometheus_client multiprocess files). Counters are counts of rows that are never changed (faults, audit rows,
isolation decisions); the counts of the old rows are kept in the cache and only the new rows are counted at each
scrape (AppendOnlyTally), so a scrape costs the same with 10 million faults as with 10 (bench/metrics.py)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from assets.choices import AssetState, Decision, RequestStatus
from assets.models import Asset, AssetTransition, AutomationDecision, Fault, IsolationRequest, Pool
from dam.roles import ROLES, has_role
from inspection.choices import FINISHED, Verdict
from inspection.models import Inspection
from reliability.models import OutboxJob
from repairs.choices import WORKABLE
from repairs.models import RepairTicket

# A row older than this is settled: no transaction that started before it is still open, so no row with a smaller
# id can still appear (ids are handed out when a row is inserted, not when its transaction commits).
SETTLE = timedelta(minutes=5)
# Fault to isolation, in seconds: from a job that isolates within a second to an approval that waited overnight.
UNFINISHED = (Verdict.PENDING, Verdict.RUNNING)
LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)


class AppendOnlyTally:
    """Sums over the rows of an append-only table, per label set, counted incrementally.

    The sums of the rows up to a settled id are kept in the shared cache with that row's id and time; each scrape
    counts only the rows after it (an index range on the primary key) and moves the mark forward past the rows
    that have settled meanwhile. The kept state is one value, written whole, so processes that scrape at the same
    time each write a consistent one. If the marked row is gone (the database was replaced, the row deleted with
    its machine), everything is counted again once.
    """

    def __init__(self, key: str, rows, time_field: str, tally, settle=lambda: SETTLE):
        self.key, self.rows, self.time_field, self.tally = f"dam:metrics:{key}:v1", rows, time_field, tally
        self.settle = settle

    def read(self, now) -> dict[tuple, list[float]]:
        state = cache.get(self.key)
        if state and not self.rows().filter(pk=state["upto"], **{self.time_field: state["at"]}).exists():
            state = None
        upto, kept = (state["upto"], state["values"]) if state else (0, {})
        settled = self.rows().filter(pk__gt=upto, **{f"{self.time_field}__lt": now - self.settle()}).aggregate(
            last=Max("pk"))["last"]
        if settled:
            kept = add(kept, self.tally(self.rows().filter(pk__gt=upto, pk__lte=settled)))
            upto = settled
            at = self.rows().values_list(self.time_field, flat=True).get(pk=upto)
            cache.set(self.key, {"upto": upto, "at": at, "values": kept}, timeout=None)
        return add(kept, self.tally(self.rows().filter(pk__gt=upto)))


def add(a: dict[tuple, list[float]], b: dict[tuple, list[float]]) -> dict[tuple, list[float]]:
    out = {key: list(values) for key, values in a.items()}
    for key, values in b.items():
        out[key] = [x + y for x, y in zip(out[key], values)] if key in out else list(values)
    return out


def count_by(*fields):
    def tally(rows) -> dict[tuple, list[float]]:
        return {tuple(row[:-1]): [row[-1]] for row in rows.order_by().values_list(*fields).annotate(n=Count("*"))}
    return tally


def latency_tally(start: str, end: str):
    """[count ≤ each bucket …, count, sum of seconds] of end − start over the rows. The latencies are fetched and
    put in buckets here: the rows are few (the new ones since the kept sums, at each scrape), and fifteen filtered
    aggregates cost more to build than the rows to read."""
    def tally(rows) -> dict[tuple, list[float]]:
        latencies = [d.total_seconds() for d in rows.order_by().annotate(
            latency=ExpressionWrapper(F(end) - F(start), output_field=DurationField())).values_list(
            "latency", flat=True)]
        if not latencies:
            return {}
        return {(): [sum(1 for x in latencies if x <= le) for le in LATENCY_BUCKETS]
                + [len(latencies), sum(latencies)]}
    return tally


FAULTS = AppendOnlyTally("faults", lambda: Fault.objects.all(), "received_at", count_by("severity", "component"))
TRANSITIONS = AppendOnlyTally("transitions", lambda: AssetTransition.objects.all(), "at", count_by("transition"))
# Automation's isolations name the fault that asked for them; the decision is taken when the machine is isolated.
AUTOMATIC_ISOLATIONS = AppendOnlyTally(
    "isolation_latency",
    lambda: AutomationDecision.objects.filter(decision=Decision.ISOLATED, fault__isnull=False), "at",
    latency_tally("fault__received_at", "at"))


# A finished inspection's verdict does not change again. One requested longer ago than a pending and a running
# timeout (then the reconcile job gives it up: `error`) and the settle time is finished; one that is somehow still
# not finished then is left out of the counter (the unfinished gauge shows it).
INSPECTIONS = AppendOnlyTally(
    "inspections", lambda: Inspection.objects.filter(verdict__in=FINISHED), "requested_at",
    count_by("purpose", "verdict"),
    settle=lambda: 2 * timedelta(seconds=settings.DAM_INSPECTION_TIMEOUT_SECONDS) + 2 * SETTLE)

TALLIES = (FAULTS, TRANSITIONS, AUTOMATIC_ISOLATIONS, INSPECTIONS)


class DamCollector:
    """Every figure of one scrape, from the database."""

    def collect(self):
        now = timezone.now()
        pools = dict(Pool.objects.values_list("pk", "name"))
        assets = GaugeMetricFamily("dam_assets", "Machines by lifecycle state and pool.", labels=["state", "pool"])
        counts = {(pool_id, state): n for pool_id, state, n in Asset.objects.order_by()
                  .values_list("pool_id", "state").annotate(n=Count("*"))}
        for pool_id, pool in sorted(pools.items(), key=lambda p: p[1]):
            for state in AssetState.values:
                assets.add_metric([state, pool], counts.get((pool_id, state), 0))
        yield assets

        pending = GaugeMetricFamily("dam_isolation_requests_pending",
                                    "Isolations held back by the pool's budget, waiting for staff to approve.",
                                    labels=["pool"])
        waiting = dict(IsolationRequest.objects.filter(status=RequestStatus.PENDING).order_by()
                       .values_list("asset__pool_id").annotate(n=Count("*")))
        for pool_id, pool in sorted(pools.items(), key=lambda p: p[1]):
            pending.add_metric([pool], waiting.get(pool_id, 0))
        yield pending

        tickets = GaugeMetricFamily("dam_tickets_open", "Repair tickets still being worked (open or in progress), "
                                    "by whether they are past their due time.", labels=["overdue"])
        overdue = RepairTicket.objects.overdue(now).count()
        tickets.add_metric(["true"], overdue)
        tickets.add_metric(["false"], RepairTicket.objects.filter(status__in=WORKABLE).count() - overdue)
        yield tickets

        faults = CounterMetricFamily("dam_faults", "Faults received from detectors, by severity and component "
                                     "(duplicates are not stored, so not counted).", labels=["severity", "component"])
        for (severity, component), (n,) in sorted(FAULTS.read(now).items()):
            faults.add_metric([severity, component], n)
        yield faults

        transitions = CounterMetricFamily("dam_transitions", "Lifecycle transitions (audit rows), by transition.",
                                          labels=["transition"])
        for (transition,), (n,) in sorted(TRANSITIONS.read(now).items()):
            transitions.add_metric([transition], n)
        yield transitions

        inspections = CounterMetricFamily("dam_inspections", "Finished inspections, by purpose and verdict.",
                                          labels=["purpose", "verdict"])
        unfinished = GaugeMetricFamily("dam_inspections_unfinished", "Inspections pending or running, by purpose "
                                       "and verdict.", labels=["purpose", "verdict"])
        for (purpose, verdict), (n,) in sorted(INSPECTIONS.read(now).items()):
            inspections.add_metric([purpose, verdict], n)
        for purpose, verdict, n in sorted(Inspection.objects.filter(verdict__in=UNFINISHED).order_by()
                                          .values_list("purpose", "verdict").annotate(n=Count("*"))):
            unfinished.add_metric([purpose, verdict], n)
        yield inspections
        yield unfinished

        outbox = OutboxJob.objects.filter(finished_at__isnull=True).aggregate(
            unsent=Count("pk", filter=Q(sent_at__isnull=True)), unfinished=Count("pk"),
            oldest_unsent=Min("created_at", filter=Q(sent_at__isnull=True)))
        yield GaugeMetricFamily("dam_outbox_unsent", "Jobs owed to the workers but not yet handed to the broker.",
                                value=outbox["unsent"])
        yield GaugeMetricFamily("dam_outbox_unfinished", "Jobs owed to the workers and not finished (sent or not).",
                                value=outbox["unfinished"])
        lag = (now - outbox["oldest_unsent"]).total_seconds() if outbox["oldest_unsent"] else 0
        yield GaugeMetricFamily("dam_outbox_oldest_unsent_seconds", "Age of the oldest job not yet handed to the "
                                "broker (0: none): how far behind the outbox relay is.", value=max(lag, 0))

        latency = AUTOMATIC_ISOLATIONS.read(now).get(())
        # Staff approvals of isolations the budget held back: the fault waited for a person.
        approved = latency_tally("fault__received_at", "decided_at")(IsolationRequest.objects.filter(
            status=RequestStatus.APPROVED, fault__isnull=False, decided_at__isnull=False)).get(())
        figures = add({(): latency} if latency else {}, {(): approved} if approved else {}).get(())
        figures = figures or [0] * (len(LATENCY_BUCKETS) + 2)
        *cumulative, count, total = figures
        histogram = HistogramMetricFamily(
            "dam_fault_to_isolation_seconds", "From a fault's arrival to the isolation it caused (by automation, "
            "or by staff approving a held-back isolation).",
            buckets=[(str(float(le)), n) for le, n in zip(LATENCY_BUCKETS, cumulative)] + [("+Inf", count)],
            sum_value=total)
        yield histogram


class AnyRole(BasePermission):
    message = "A token of any role reads the metrics."

    def has_permission(self, request, view):
        return has_role(request.user, *ROLES)


@extend_schema(exclude=True)  # Prometheus' text format, not JSON: outside the API's schema
class MetricsView(APIView):
    permission_classes = [AnyRole]

    def perform_content_negotiation(self, request, force=False):
        # Prometheus asks for its own formats; errors (401, 403) still answer JSON.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request):
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DamCollector())
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return HttpResponse(encoder(registry), content_type=content_type)
