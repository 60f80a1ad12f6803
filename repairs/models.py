"""Repair tickets: the work order for one incident on one asset."""
from django.db import models
from django.db.models import Q
from django.utils import timezone

from assets.models import Asset, Fault
from repairs.choices import WORKABLE, RepairAction, TicketStatus


class RepairTicketQuerySet(models.QuerySet):
    def unclosed(self):
        """The incident is not over: open, in progress, or resolved and waiting for its verification."""
        return self.filter(closed_at__isnull=True)

    def overdue(self, now=None):
        """Still being worked (open or in progress) past its due time: the one definition the API, the console
        and the dashboard use. A resolved ticket waiting for its machine's verification is not late: the
        technician's part is done."""
        return self.filter(status__in=WORKABLE, due_at__lt=now or timezone.now())


class RepairTicket(models.Model):
    """Open from isolation until the repaired machine passes verification (closed) or is dismissed (cancelled).

    A resolved ticket whose machine fails verification is reopened, so one incident keeps one ticket.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="repair_tickets")
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    summary = models.CharField(max_length=500)
    faults = models.ManyToManyField(Fault, blank=True, related_name="repair_tickets")
    assignee = models.CharField(max_length=150, blank=True)
    notes = models.TextField(blank=True)
    action_taken = models.TextField(blank=True)
    opened_by = models.CharField(max_length=150)
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the incident is over: verified, or cancelled."
    )
    reopen_count = models.PositiveIntegerField(default=0)
    repair_action = models.CharField(
        max_length=20, choices=RepairAction.choices, default=RepairAction.REBOOT,
        help_text="What to do, chosen from the machine's history: a repeat within 30 days or a failure during "
                  "probation goes one rung up the ladder.")
    escalation = models.CharField(max_length=500, blank=True, help_text="Why the action was escalated, if it was.")
    performed_action = models.CharField(max_length=20, choices=RepairAction.choices, blank=True,
                                        help_text="What the technician did, given when resolving.")
    due_at = models.DateTimeField(null=True, blank=True, help_text="Past this, the ticket is overdue (SLA).")

    objects = RepairTicketQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One incident, one ticket: an asset has at most one ticket that is not closed.
            models.UniqueConstraint(fields=["asset"], condition=Q(closed_at__isnull=True), name="one_open_ticket_per_asset")
        ]
        indexes = [models.Index(fields=["status", "-id"])]

    def __str__(self) -> str:
        return f"Ticket #{self.pk} for {self.asset} ({self.status})"

    @property
    def overdue(self) -> bool:
        """RepairTicketQuerySet.overdue, for one ticket in hand."""
        return self.status in WORKABLE and self.due_at is not None and self.due_at < timezone.now()

    def add_note(self, text: str) -> None:
        stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
        self.notes = f"{self.notes}\n\n[{stamp}] {text}".strip()
