"""Test setup shared by the domain tests: put an asset in a state, and reports a host could send.

Production code never sets `state` directly; tests do it here, in setup only, to start from any row of the table.
"""
from __future__ import annotations

from django.utils import timezone

from assets.choices import AssetState as S
from assets.models import Asset, AssetTransition, HardwareModel
from inspection.choices import Purpose
from inspection.models import Inspection
from repairs.choices import TicketStatus
from repairs.models import RepairTicket


def put_in_state(asset: Asset, state: str, *, changed_at=None) -> Asset:
    """The asset in `state`, with what that state implies: an open ticket while in repair, a resolved (not yet
    closed) ticket and a pending verification inspection while verifying, a pending delivery inspection while new."""
    Asset.objects.filter(pk=asset.pk).update(state=state, state_changed_at=changed_at or timezone.now())
    if state == S.IN_REPAIR:
        RepairTicket.objects.create(asset=asset, summary="disk: SMART errors", opened_by="tests")
    elif state == S.VERIFYING:
        ticket = RepairTicket.objects.create(asset=asset, summary="disk: SMART errors", opened_by="tests",
                                             status=TicketStatus.RESOLVED, resolved_at=timezone.now(),
                                             action_taken="replaced disk")
        Inspection.objects.create(asset=asset, purpose=Purpose.VERIFICATION, ticket_id=ticket.id)
    elif state == S.NEW:
        Inspection.objects.create(asset=asset, purpose=Purpose.DELIVERY)
    asset.refresh_from_db()
    return asset


def healthy_report(hardware_model: HardwareModel, **inventory) -> dict:
    """What a healthy host of this model reports: its spec, and speeds far above the tests' low baselines."""
    return {
        "inventory": {"hostname": "host-under-test", "cpu_logical_cores": hardware_model.cpu_logical_cores,
                      "memory_total_bytes": hardware_model.memory_bytes, "disks": hardware_model.disks,
                      **inventory},
        "measurements": {"cpu.sha256_mb_per_s": 500.0, "memory.copy_mb_per_s": 4000.0,
                         "disk.seq_write_mb_per_s": 300.0, "disk.fsync_p50_ms": 2.0},
    }


def missing_dimm_report(hardware_model: HardwareModel) -> dict:
    """A host that lost half its memory."""
    return healthy_report(hardware_model, memory_total_bytes=hardware_model.memory_bytes // 2)


def history(asset: Asset) -> list[tuple[str, str, str]]:
    """The asset's audit trail, oldest first, as (transition, source, target)."""
    return [(t.transition, t.source, t.target)
            for t in AssetTransition.objects.filter(asset=asset).order_by("at", "id")]


def fault(asset: Asset, severity: str = "critical", component: str = "disk", **fields) -> dict:
    """One fault item as a detector sends it."""
    return {"asset": asset.hostname, "component": component, "severity": severity,
            "summary": f"{severity} {component} trouble", **fields}
