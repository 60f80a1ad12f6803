"""What DAM keeps so that nothing is lost, nothing is done twice, and every staff action can be traced:
the outbox of jobs owed to Celery, the answers stored for Idempotency-Key, and the staff action log."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxJob(models.Model):
    """A job owed to Celery, written in the same transaction as the change that owes it.

    Sent once that transaction commits; the relay (reliability.tasks.relay_outbox) sends it again while it is not
    finished: never sent (the broker was down), or sent but never run to the end (the worker died, the message was
    lost). Jobs are safe to run twice, so sending again is always allowed.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    next_try_at = models.DateTimeField(help_text="When the relay sends it (again) if it is not finished by then.")
    sends = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True, help_text="The task's final state: SUCCESS or FAILURE.")
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["next_try_at"], condition=Q(finished_at__isnull=True), name="outbox_owed"),
                   models.Index(fields=["finished_at"], name="outbox_finished")]

    def __str__(self) -> str:
        return f"#{self.id} {self.task}{tuple(self.args)}"


class IdempotentRequest(models.Model):
    """A POST that carried an Idempotency-Key, and the answer it got: a retry with the same key gets that answer
    again instead of acting twice."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    content_type = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_once_per_owner")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.key}"


class StaffAction(models.Model):
    """One write by a staff member, in the admin or the API: who, when, what, from which address, and the answer."""

    actor = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True, help_text="The client's address.")
    via = models.CharField(max_length=10, help_text="api or admin.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    target = models.CharField(max_length=300, blank=True, help_text="The view and the object it names.")
    body = models.TextField(blank=True, help_text="What was sent (secrets masked, cut at 4 KB).")
    status_code = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "-at"], name="staff_action_actor")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.method} {self.path} → {self.status_code}"
