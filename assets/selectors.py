"""Reads for the fleet. Repair tickets and inspections are reached through their reverse relations, so this app
never imports the apps that build on it."""
from django.db.models import OuterRef, QuerySet, Subquery

from assets.choices import RequestStatus
from assets.models import Asset, IsolationRequest


def _related_model(name: str):
    return Asset._meta.get_field(name).related_model


def asset_list() -> QuerySet[Asset]:
    """Assets with what a fleet operator asks first: the open repair ticket and the last inspection's verdict."""
    Ticket = _related_model("repair_tickets")
    Inspection = _related_model("inspections")
    last = Inspection.objects.filter(asset=OuterRef("pk")).order_by("-id")
    return (
        Asset.objects.select_related("hardware_model", "pool")
        .annotate(
            open_ticket=Subquery(Ticket.objects.filter(asset=OuterRef("pk"), closed_at__isnull=True).values("id")[:1]),
            last_inspection_id=Subquery(last.values("id")[:1]),
            last_inspection_verdict=Subquery(last.values("verdict")[:1]),
            last_inspection_finished_at=Subquery(last.values("finished_at")[:1]),
            pending_isolation=Subquery(IsolationRequest.objects.filter(
                asset=OuterRef("pk"), status=RequestStatus.PENDING).values("id")[:1]),
        )
    )
