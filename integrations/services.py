"""Recording what must go out (in the caller's transaction) and sending it (from a job, with retries)."""
from __future__ import annotations

import hashlib
import hmac
import json
import shlex
import subprocess
import urllib.error
import urllib.request

from django.utils import timezone

from integrations.models import Delivery, Webhook

TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    """The far end did not take it; the job retries with backoff."""


def events_publish(events: list[tuple[str, dict]]) -> list[Delivery]:
    """One delivery per webhook that wants each (event, payload); the caller sends them once its transaction commits.
    The webhooks are read once and every delivery written with one multi-row INSERT, in the caller's transaction (a
    storm's thousand transitions cost two queries, not 2,000)."""
    if not events:
        return []
    hooks = list(Webhook.objects.filter(active=True))
    if not hooks:
        return []
    at = timezone.now().isoformat()
    return Delivery.objects.bulk_create([
        Delivery(kind=Delivery.Kind.WEBHOOK, webhook=hook, target=hook.url, event=event,
                 payload={"event": event, "at": at, **payload})
        for event, payload in events for hook in hooks if hook.wants(event)])


def isolation_action_request(*, pool, action: str, hostname: str, reason: str) -> Delivery | None:
    """The pool's drain/undrain action for one machine, if the pool has one."""
    return next(iter(isolation_actions_request([(pool, action, hostname, reason)])), None)


def isolation_actions_request(requests: list[tuple]) -> list[Delivery]:
    """The pools' drain/undrain actions for many (pool, action, hostname, reason) at once, one INSERT; a pool
    without an action adds nothing."""
    at = timezone.now().isoformat()
    wanted = [Delivery(kind=pool.isolation_action, target=pool.isolation_target, event=f"asset.{action}",
                       payload={"event": f"asset.{action}", "action": action, "hostname": hostname,
                                "pool": pool.name, "reason": reason, "at": at})
              for pool, action, hostname, reason in requests
              if pool.isolation_action != "none" and pool.isolation_target]
    return Delivery.objects.bulk_create(wanted) if wanted else []


def reimage_action_request(*, pool, hostname: str, ticket_id: int, reason: str) -> Delivery:
    """The pool's reimage hand-over for one machine (lifecycle/auto_repair.py): provisioning (MAAS, Ironic, Foreman)
    reimages it and resolves the ticket through the API. A command gets `reimage <hostname>` as its last two
    arguments, like the isolation action."""
    payload = {"event": "asset.reimage", "action": "reimage", "hostname": hostname, "pool": pool.name,
               "ticket": ticket_id, "reason": reason, "at": timezone.now().isoformat()}
    return Delivery.objects.create(kind=pool.reimage_action, target=pool.reimage_target, event="asset.reimage",
                                   payload=payload)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_send(*, delivery: Delivery, final_attempt: bool) -> None:
    """Try once. Success or the last failure is recorded; a failure before the last raises DeliveryFailed."""
    delivery.attempts += 1
    try:
        delivery.last_result = _send(delivery)
        delivery.status = Delivery.Status.DELIVERED
        delivery.finished_at = timezone.now()
    except DeliveryFailed as failure:
        delivery.last_result = str(failure)[:500]
        if final_attempt:
            delivery.status = Delivery.Status.FAILED
            delivery.finished_at = timezone.now()
        delivery.save()
        if not final_attempt:
            raise
        return
    delivery.save()


def _send(delivery: Delivery) -> str:
    if delivery.kind == Delivery.Kind.COMMAND:
        argv = shlex.split(delivery.target) + [delivery.payload["action"], delivery.payload["hostname"]]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if done.returncode != 0:
            raise DeliveryFailed(f"exit {done.returncode}: {done.stderr.strip()[:300]}")
        return "exit 0"

    body = json.dumps(delivery.payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-DAM-Event": delivery.event,
               "X-DAM-Delivery": str(delivery.id), "User-Agent": "DAM-webhooks"}
    if delivery.webhook is not None:
        headers["X-DAM-Signature"] = signature(delivery.webhook.secret, body)
    request = urllib.request.Request(delivery.target, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
