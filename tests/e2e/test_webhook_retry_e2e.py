"""A webhook whose receiver fails first is delivered by a real worker's retry, after the backoff's countdown."""
import time

import pytest

from integrations.models import Delivery, Webhook
from integrations.tasks import send_delivery
from tests.safety.test_integrations import Receiver

pytestmark = pytest.mark.e2e


def test_a_receiver_that_fails_first_gets_the_delivery_on_the_workers_retry(worker):
    receiver = Receiver(statuses=(503, 200))
    try:
        hook = Webhook.objects.create(name="flaky", url=receiver.url, secret="x")
        delivery = Delivery.objects.create(kind="webhook", webhook=hook, target=hook.url, event="asset.transition",
                                           payload={"event": "asset.transition"})
        send_delivery.delay(delivery.id)
        deadline = time.monotonic() + 60
        while Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.PENDING:
            assert time.monotonic() < deadline, "the delivery was never made"
            time.sleep(0.2)
    finally:
        receiver.close()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_result) == ("delivered", 2, "HTTP 200")
    assert len(receiver.received) == 2
    assert (delivery.finished_at - delivery.created_at).total_seconds() >= 2  # the first retry's countdown
