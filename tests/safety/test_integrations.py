"""Outbound: signed webhooks on transitions and ticket changes, retried and recorded; the pools' drain/undrain
action as a webhook or a command."""
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.signals import task_retry

import lifecycle
from dam.celery import app as celery_app
from integrations.models import Delivery, Webhook
from integrations.services import delivery_send
from integrations.tasks import MAX_RETRIES, send_delivery
from repairs.models import RepairTicket


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it receives and answers with the next status code."""

    def __init__(self, statuses=(200,)):
        self.received, self.statuses = [], list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers, body))  # case-insensitive
                self.send_response(receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0])
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_transitions_and_ticket_changes_are_posted_signed(asset, eager_jobs, receiver):
    Webhook.objects.create(name="scheduler", url=receiver.url, secret="s3cret")
    lifecycle.report_faults(detector="smartd", items=[{"asset": asset.hostname, "component": "disk",
                                                        "severity": "critical", "summary": "SMART"}])
    events = [json.loads(body)["event"] for _, body in receiver.received]
    assert events == ["asset.transition", "ticket.opened", "asset.transition"]
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-DAM-Signature"] == expected
    first = json.loads(receiver.received[0][1])
    assert (first["hostname"], first["transition"], first["target"]) == (asset.hostname, "isolate", "isolated")
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 3


def test_a_webhook_subscribes_to_chosen_events(asset, eager_jobs, receiver):
    Webhook.objects.create(name="tickets", url=receiver.url, secret="x", events=["ticket.opened"])
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="smoke")
    assert [json.loads(b)["event"] for _, b in receiver.received] == ["ticket.opened"]


def test_a_failing_endpoint_is_retried_and_every_try_recorded(asset, db):
    receiver = Receiver(statuses=(500, 503, 200))
    try:
        hook = Webhook.objects.create(name="flaky", url=receiver.url, secret="x")
        delivery = Delivery.objects.create(kind="webhook", webhook=hook, target=hook.url, event="asset.transition",
                                           payload={"event": "asset.transition"})
        for attempt in range(2):
            with pytest.raises(Exception, match="HTTP 50"):
                delivery_send(delivery=delivery, final_attempt=False)
            assert (delivery.status, delivery.attempts) == ("pending", attempt + 1)
        delivery_send(delivery=delivery, final_attempt=False)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_result) == ("delivered", 3, "HTTP 200")
    finally:
        receiver.close()


@pytest.fixture
def retries(eager_jobs):
    """Jobs run in this process whose retries run too, at once (Celery's eager mode), instead of raising Retry to
    the caller; yields the countdowns Celery schedules them with. A real worker waits them out:
    tests/e2e/test_webhook_retry_e2e.py."""
    seen = []

    def record(sender=None, reason=None, **kwargs):
        seen.append(reason.when)
    celery_app.conf.task_eager_propagates = False
    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)
    celery_app.conf.task_eager_propagates = True


def test_a_webhook_whose_receiver_fails_first_is_delivered_by_the_jobs_retries(db, retries):
    receiver = Receiver(statuses=(503, 502, 200))
    try:
        hook = Webhook.objects.create(name="flaky", url=receiver.url, secret="x")
        delivery = Delivery.objects.create(kind="webhook", webhook=hook, target=hook.url, event="asset.transition",
                                           payload={"event": "asset.transition"})
        send_delivery.delay(delivery.id)
    finally:
        receiver.close()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_result) == ("delivered", 3, "HTTP 200")
    assert len(receiver.received) == 3
    assert retries == [2, 4]  # exponential backoff


def test_a_receiver_that_never_answers_is_given_up_after_the_last_retry(db, retries):
    delivery = Delivery.objects.create(kind="webhook", target="http://127.0.0.1:9/nothing-listens",
                                       event="asset.transition", payload={})
    send_delivery.delay(delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_RETRIES + 1)
    assert "Connection refused" in delivery.last_result
    assert retries == [2, 4, 8, 16, 32, 64]


def test_the_last_failed_try_gives_up_and_says_so(db):
    delivery = Delivery.objects.create(kind="webhook", target="http://127.0.0.1:9/nothing-listens",
                                       event="asset.transition", payload={})
    delivery_send(delivery=delivery, final_attempt=True)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "Connection refused" in delivery.last_result


def test_the_pool_drain_command_runs_on_isolation_and_undrain_on_return(asset, eager_jobs, tmp_path):
    log = tmp_path / "drains.log"
    script = tmp_path / "drain.sh"
    script.write_text(f'#!/bin/sh\necho "$1 $2" >> {log}\n')
    script.chmod(0o755)
    asset.pool.isolation_action, asset.pool.isolation_target = "command", str(script)
    asset.pool.save()

    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="smoke")
    ticket = RepairTicket.objects.get(asset=asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="alice", action_taken="fixed")

    assert log.read_text().split("\n")[:2] == [f"drain {asset.hostname}", f"undrain {asset.hostname}"]
    assert set(Delivery.objects.values_list("last_result", flat=True)) == {"exit 0"}


def test_the_pool_drain_webhook(asset, eager_jobs, receiver):
    asset.pool.isolation_action, asset.pool.isolation_target = "webhook", receiver.url
    asset.pool.save()
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="smoke")
    body = json.loads(receiver.received[0][1])
    assert (body["action"], body["hostname"]) == ("drain", asset.hostname)
