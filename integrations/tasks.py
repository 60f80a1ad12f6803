"""Sending deliveries: retried with exponential backoff, each try recorded on the delivery row."""
from celery import shared_task

from integrations.models import Delivery
from integrations.services import DeliveryFailed, delivery_send

MAX_RETRIES = 6


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, retry_backoff=2, retry_backoff_max=600)
def send_delivery(self, delivery_id: int) -> None:
    delivery = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).first()
    if delivery is None:
        return  # already delivered (a repeat of this job) or gone
    try:
        delivery_send(delivery=delivery, final_attempt=self.request.retries >= MAX_RETRIES)
    except DeliveryFailed as failure:
        raise self.retry(exc=failure, countdown=min(2 ** (self.request.retries + 1), 600))
