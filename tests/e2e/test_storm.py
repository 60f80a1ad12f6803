"""A fault storm on PostgreSQL with two worker processes: the pool's budget holds exactly, and no incident gets
two tickets. (On SQLite every write is serialised, so the race this guards against cannot happen there.)"""
import threading
import time

import pytest
from django.conf import settings
from django.db.models import Count

from assets.choices import OUT_OF_SERVICE, RequestStatus
from assets.models import Asset, IsolationRequest, Pool
from repairs.models import RepairTicket

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(  # before the fixtures start two workers for nothing
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the storm needs real row locks and concurrent workers: PostgreSQL")]

ASSETS, BUDGET = 1000, 100


@pytest.fixture
def storm_pool(hardware_model):
    pool = Pool.objects.create(name="storm", max_unavailable="10%")
    Asset.objects.bulk_create(Asset(hostname=f"storm-{n:04d}", hardware_model=hardware_model, pool=pool)
                              for n in range(ASSETS))
    return pool


def test_2000_critical_faults_over_1000_assets_isolate_exactly_the_budget(two_workers, storm_pool, http):
    detector = http("detector")
    batches = [[{"asset": f"storm-{n:04d}", "component": component, "severity": "critical",
                 "summary": f"{component} failed"} for n in range(ASSETS)] for component in ("disk", "memory")]
    answers = []
    senders = [threading.Thread(target=lambda b=b: answers.append(detector.post("/api/v1/faults/", b)))
               for b in batches]
    for sender in senders:
        sender.start()

    most_out, deadline = 0, time.monotonic() + 240
    while True:
        out = Asset.objects.filter(pool=storm_pool, state__in=OUT_OF_SERVICE).count()
        most_out = max(most_out, out)
        pending = IsolationRequest.objects.filter(status=RequestStatus.PENDING).count()
        tickets = RepairTicket.objects.count()
        if out == BUDGET and pending == ASSETS - BUDGET and tickets == BUDGET:
            break
        assert time.monotonic() < deadline, f"out={out} pending={pending} tickets={tickets}"
        time.sleep(0.25)
    for sender in senders:
        sender.join()

    time.sleep(2)  # anything still in flight would show now
    assert [status for status, _ in answers] == [202, 202]
    assert sum(body["accepted"] for _, body in answers) == 2 * ASSETS
    assert most_out == BUDGET
    assert Asset.objects.filter(pool=storm_pool, state__in=OUT_OF_SERVICE).count() == BUDGET
    assert Asset.objects.filter(pool=storm_pool, state="in_repair").count() == BUDGET
    assert not RepairTicket.objects.values("asset").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not IsolationRequest.objects.values("asset").annotate(n=Count("id")).filter(n__gt=1).exists()
