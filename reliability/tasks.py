"""Beat jobs of the reliability app: the outbox relay, and forgetting what is no longer needed."""
from celery import shared_task

from dam.auth import purge_expired_tokens
from reliability import idempotency, outbox


@shared_task(acks_late=True)
def relay_outbox() -> int:
    return outbox.relay_owed()


@shared_task(acks_late=True)
def purge_expired() -> dict:
    return {"outbox_jobs": outbox.purge_finished(), "idempotency_keys": idempotency.purge_expired(),
            "api_tokens": purge_expired_tokens()}
