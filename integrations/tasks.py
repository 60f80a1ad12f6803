"""Sending deliveries: retried with exponential backoff, each try recorded on the delivery row."""
from celery import shared_task

from integrations.models import Delivery
from integrations.services import DeliveryFailed, delivery_send

MAX_RETRIES = 6


# A far end that did not take the delivery (refused, timed out, answered 5xx, a command that failed) is tried again
# by Celery after 2, 4, 8 … seconds (at most 600), MAX_RETRIES times; the last try records the failure on the row
# instead of raising. No jitter: the schedule is the one the README gives.
@shared_task(bind=True, acks_late=True, autoretry_for=(DeliveryFailed,), max_retries=MAX_RETRIES,
             retry_backoff=2, retry_backoff_max=600, retry_jitter=False)
def send_delivery(self, delivery_id: int) -> None:
    delivery = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).first()
    if delivery is None:
        return  # already delivered (a repeat of this job) or gone
    delivery_send(delivery=delivery, final_attempt=self.request.retries >= MAX_RETRIES)
