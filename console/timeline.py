"""One timeline of everything that happened to a machine: faults, transitions, repair tickets, inspections,
automation's decisions, calls to its BMC and console edits, merged newest first.

Each source is read newest first and cut at the page's length before merging, so the page costs a fixed handful
of indexed queries whatever the machine's past (a flapping machine may have thousands of faults).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from assets.models import Asset, AutomationDecision, IsolationRequest
from console.ui import SEVERITY_TONE, VERDICT_TONE
from integrations.models import BmcCall

ROWS = 100
# The kinds of event, in the order of the timeline's filter chips.
KINDS = [("fault", "Faults"), ("transition", "Transitions"), ("ticket", "Tickets"), ("inspection", "Inspections"),
         ("automation", "Automation"), ("bmc", "BMC"), ("edit", "Console edits")]


@dataclass
class Event:
    at: datetime
    kind: str  # fault | transition | ticket | inspection | automation | bmc | edit: the CSS class and the filter chip
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""
    tone: str = ""  # bad | warn | good | info: the colour of the dot
    tags: list[str] = field(default_factory=list)
    state: str = ""  # a transition's target: the dot takes that state's colour (assets/choices.py) over the tone

    @property
    def marker(self) -> str:
        """The CSS class of the event's dot."""
        return f"state-{self.state}" if self.state else f"tone-{self.tone or 'plain'}"


def _faults(asset: Asset, rows: int) -> list[Event]:
    events = []
    for f in asset.faults.order_by("-id")[:rows]:
        repeat = f.repeat_of_id
        events.append(Event(
            at=f.received_at, kind="fault", tone=SEVERITY_TONE.get(f.severity, "info"),
            title=f"{f.severity} {f.component} fault", detail=f.summary, actor=f.detector,
            url=reverse("admin:assets_fault_change", args=[f.pk]),
            tags=[f"repeats #{repeat}"] if repeat else []))
    return events


def _transitions(asset: Asset, rows: int) -> list[Event]:
    return [Event(at=t.at, kind="transition", state=t.target,
                  title=f"{t.transition}: {t.source} → {t.target}", detail=t.reason, actor=t.actor)
            for t in asset.transitions.order_by("-at", "-id")[:rows]]


def _tickets(asset: Asset, rows: int) -> list[Event]:
    events = []
    for t in asset.repair_tickets.order_by("-id")[:rows]:
        url = reverse("admin:repairs_repairticket_change", args=[t.pk])
        plan = f" — planned: {t.get_repair_action_display().lower()}" if t.repair_action else ""
        events.append(Event(at=t.opened_at, kind="ticket", tone="warn", title=f"ticket #{t.pk} opened{plan}",
                            detail=t.summary + (f" (escalated: {t.escalation})" if t.escalation else ""),
                            actor=t.opened_by, url=url))
        if t.resolved_at:
            events.append(Event(at=t.resolved_at, kind="ticket", tone="info",
                                title=f"ticket #{t.pk} resolved" + (f" ({t.performed_action})" if t.performed_action
                                                                     else ""),
                                detail=t.action_taken, url=url))
        if t.closed_at:
            cancelled = t.status == "cancelled"
            events.append(Event(at=t.closed_at, kind="ticket", tone="info" if cancelled else "good",
                                title=f"ticket #{t.pk} {'cancelled' if cancelled else 'closed'}", url=url,
                                tags=[f"reopened {t.reopen_count}×"] if t.reopen_count else []))
    return events


def _inspections(asset: Asset, rows: int) -> list[Event]:
    events = []
    for i in asset.inspections.order_by("-id")[:rows]:
        events.append(Event(
            at=i.finished_at or i.started_at or i.requested_at, kind="inspection",
            tone=VERDICT_TONE.get(i.verdict, "info"),
            title=f"inspection #{i.pk} {i.verdict}", detail=i.summary or i.get_purpose_display(),
            actor=i.runner, url=reverse("admin:inspection_inspection_change", args=[i.pk]),
            tags=[i.purpose]))
    return events


def _automation(asset: Asset, rows: int) -> list[Event]:
    """Automation's decisions that did *not* move the machine (those that did are transitions already), and the
    isolation requests waiting for, or decided by, staff."""
    events = []
    for d in AutomationDecision.objects.filter(asset=asset).exclude(decision="isolated").order_by("-id")[:rows]:
        events.append(Event(at=d.at, kind="automation", tone="warn", title=f"automation: {d.get_decision_display()}",
                            detail=d.reason, actor=d.actor))
    for r in IsolationRequest.objects.filter(asset=asset).order_by("-id")[:rows]:
        events.append(Event(at=r.requested_at, kind="automation", tone="warn",
                            title=f"isolation request #{r.pk}: waits for approval", detail=r.reason))
        if r.decided_at:
            events.append(Event(at=r.decided_at, kind="automation", tone="info",
                                title=f"isolation request #{r.pk} {r.get_status_display().lower()}",
                                detail=r.decision_reason, actor=r.decided_by))
    return events


BMC_TONE = {"ok": "info", "failed": "bad"}


def _bmc_calls(asset: Asset, rows: int) -> list[Event]:
    """Every call to the machine's BMC (power by staff, the auto-repair job's reset): who, what, and its answer."""
    events = []
    for c in BmcCall.objects.filter(asset=asset).order_by("-id")[:rows]:
        what = "waiting for power on" if c.action == "wait_on" else f"power {c.action}"
        sent = f" ({c.reset_type})" if c.reset_type else ""
        events.append(Event(at=c.at, kind="bmc", tone=BMC_TONE.get(c.outcome, "info"),
                            title=f"BMC: {what}{sent} — {c.get_outcome_display().lower()}",
                            detail=f"{c.answer}" + (f" — why: {c.reason}" if c.reason else ""), actor=c.actor,
                            tags=[c.power_state] if c.power_state else []))
    return events


def _edits(asset: Asset, rows: int) -> list[Event]:
    """What staff changed on the asset in the console (exclusion from automation with its reason, rack moves)."""
    content_type = ContentType.objects.get_for_model(Asset)
    entries = (LogEntry.objects.filter(content_type=content_type, object_id=str(asset.pk))
               .select_related("user").order_by("-action_time")[:rows])
    return [Event(at=e.action_time, kind="edit", tone="info", title="edited in the console",
                  detail=e.get_change_message(), actor=e.user.get_username()) for e in entries]


SOURCES = [_faults, _transitions, _tickets, _inspections, _automation, _bmc_calls, _edits]


def asset_timeline(asset: Asset, rows: int = ROWS) -> list[Event]:
    """The newest `rows` events of every kind, newest first."""
    events = [event for source in SOURCES for event in source(asset, rows)]
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:rows]
