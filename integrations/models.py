"""Outbound integrations: webhooks that follow transitions and tickets, the pools' drain/undrain actions, and calls
to the assets' BMCs.

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


class BmcCall(models.Model):
    """One call to an asset's BMC (integrations/bmc.py), by staff or by the auto-repair job: who asked for what, why,
    and what the BMC answered. The asset's timeline shows them. Never holds a password."""

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        FAILED = "failed", "The BMC refused or did not answer"

    asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="bmc_calls")
    action = models.CharField(max_length=20, help_text="status, on, off, cycle; wait_on: waiting for PowerState On.")
    reset_type = models.CharField(max_length=40, blank=True, help_text="The Redfish ResetType sent, if any.")
    actor = models.CharField(max_length=150, help_text="User, or job:<name>.")
    reason = models.TextField(blank=True)
    ticket_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The repair ticket it served.")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    power_state = models.CharField(max_length=40, blank=True, help_text="PowerState the BMC reported after the call.")
    answer = models.TextField(blank=True, help_text="What the BMC answered, or its error.")
    at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0, help_text="How long the BMC took.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["asset", "-id"], name="bmc_call_asset"),
                   models.Index(fields=["ticket_id"], name="bmc_call_ticket")]

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.action} by {self.actor} ({self.outcome})"
