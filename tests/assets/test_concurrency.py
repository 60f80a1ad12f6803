"""Two workers, one asset: exactly one transition wins, the other gets TransitionConflict, nothing is lost.

Needs real row locks, so PostgreSQL only: SQLite serialises whole-database writes and cannot show a race.
"""
import threading

import pytest
from django.db import connection

from assets.choices import AssetState as S
from assets.models import Asset, AssetTransition, Fault
import lifecycle
from repairs.models import RepairTicket
from tests.assets.helpers import fault, put_in_state

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row-lock races need PostgreSQL (SQLite serialises all writes)")


def race(*steps):
    """Run the steps in threads released at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(steps))
    results = [None] * len(steps)

    def run(i, step):
        try:
            barrier.wait()
            results[i] = step()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, step)) for i, step in enumerate(steps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_dismiss_and_start_repair_race(asset, transactional_db, attempt):
    # given an isolated asset
    put_in_state(asset, S.ISOLATED)

    # when staff dismisses it while the job opens its repair ticket
    dismissed, repaired = race(
        lambda: lifecycle.dismiss(asset_id=asset.id, actor="alice", reason="false alarm"),
        lambda: lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket"),
    )

    # then exactly one wins and the other is refused
    conflicts = [r for r in (dismissed, repaired) if isinstance(r, lifecycle.TransitionConflict)]
    assert len(conflicts) == 1, (dismissed, repaired)
    row = AssetTransition.objects.get(asset=asset)
    asset.refresh_from_db()
    if isinstance(repaired, lifecycle.TransitionConflict):
        assert (row.transition, asset.state) == ("dismiss", S.ACTIVE)
        assert repaired.state == S.ACTIVE and repaired.allowed == ["isolate"]
        assert not RepairTicket.objects.exists()
    else:
        assert (row.transition, asset.state) == ("start_repair", S.IN_REPAIR)
        assert dismissed.state == S.IN_REPAIR
        assert RepairTicket.objects.get(asset=asset).closed_at is None


@pytest.mark.parametrize("attempt", range(3))
def test_two_isolates_race(asset, transactional_db, attempt):
    # given an active asset
    # when two workers isolate it at once
    results = race(*[lambda n=n: lifecycle.isolate(asset_id=asset.id, actor=f"worker-{n}", reason="fault")
                     for n in range(2)])

    # then one isolates it and the other is told it already is
    conflicts = [r for r in results if isinstance(r, lifecycle.TransitionConflict)]
    assert len(conflicts) == 1, results
    assert conflicts[0].state == S.ISOLATED
    assert Asset.objects.get(pk=asset.pk).state == S.ISOLATED
    assert AssetTransition.objects.filter(asset=asset).count() == 1


def test_many_workers_one_winner(asset, transactional_db):
    # given an isolated asset
    put_in_state(asset, S.ISOLATED)

    # when six workers race, half dismissing and half starting the repair
    steps = []
    for n in range(6):
        if n % 2:
            steps.append(lambda n=n: lifecycle.dismiss(asset_id=asset.id, actor=f"staff-{n}", reason="x"))
        else:
            steps.append(lambda n=n: lifecycle.start_repair(asset_id=asset.id, actor=f"job-{n}"))
    results = race(*steps)

    # then exactly one moved it, and the audit trail agrees with the state
    winners = [r for r in results if not isinstance(r, lifecycle.TransitionConflict)]
    assert len(winners) == 1, results
    row = AssetTransition.objects.get(asset=asset)
    assert Asset.objects.get(pk=asset.pk).state == row.target
    assert RepairTicket.objects.filter(asset=asset).count() == (1 if row.transition == "start_repair" else 0)


def test_the_same_event_sent_twice_at_once_is_stored_once(asset, transactional_db):
    # given a detector that retries a request while the first is still being handled
    item = fault(asset, severity="warning", event_id="evt-race")

    # when both requests store the fault at the same moment
    results = race(*[lambda: lifecycle.report_faults(detector="smartd", items=[item]) for _ in range(2)])

    # then one is accepted, the other is its duplicate, and one row exists
    outcomes = sorted((r[0] for r in results), key=lambda o: o.status)
    assert [o.status for o in outcomes] == ["accepted", "duplicate"], results
    assert outcomes[0].id == outcomes[1].id
    assert Fault.objects.filter(event_id="evt-race").count() == 1
