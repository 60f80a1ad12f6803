"""Fixtures for the API tests: machines already somewhere along the lifecycle."""
import pytest

import lifecycle
from repairs.models import RepairTicket


@pytest.fixture
def repair_ticket(asset):
    """The asset in_repair with its open repair ticket, as the isolate and ticket jobs leave it."""
    lifecycle.isolate(asset_id=asset.id, actor="tests", reason="critical disk fault")
    asset.refresh_from_db()
    if asset.state == "isolated":  # with eager jobs the ticket job already ran
        lifecycle.start_repair(asset_id=asset.id, actor="tests")
    return RepairTicket.objects.get(asset=asset, closed_at__isnull=True)
