"""Outbound integrations: webhooks that follow transitions and tickets, and the pools' drain/undrain actions.

Every delivery is a row: what was sent where, how often it was tried, and how it ended.
"""
from django.db import models
from django.utils import timezone


class Webhook(models.Model):
    """An external system (a scheduler, a ticket system) that wants to hear about DAM's events."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Signs each body: X-DAM-Signature: sha256=<HMAC-SHA256>.")
    events = models.JSONField(default=list, blank=True,
                              help_text='Event names to send, e.g. ["asset.transition", "ticket.opened"]; '
                                        "empty: all.")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class Delivery(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        COMMAND = "command"

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed", "Failed (gave up after retries)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    target = models.CharField(max_length=500, help_text="URL or command.")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_result = models.CharField(max_length=500, blank=True, help_text="HTTP status or exit code, or the error.")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.target} ({self.status})"
