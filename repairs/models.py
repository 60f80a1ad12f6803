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

    def workable(self):
        """A technician still has to work on it (services.is_workable, as a query)."""
        return self.filter(closed_at__isnull=True, status__in=WORKABLE)

    @staticmethod
    def overdue_condition(now=None) -> Q:
        """Overdue: still being worked (open or in progress) past its due time. A resolved ticket waiting for its
        machine's verification is not late: the technician's part is done. The one definition (the contract's
        additions): the API's filter, the console's filters and columns and the dashboard's count all use it,
        through the methods below or as this condition where a count or a column needs it in its own query."""
        return Q(status__in=WORKABLE, closed_at__isnull=True, due_at__lt=now or timezone.now())

    def overdue(self, now=None):
        return self.filter(self.overdue_condition(now))

    def not_overdue(self, now=None):
        return self.exclude(self.overdue_condition(now))


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
        """RepairTicketQuerySet.overdue_condition, for one ticket in hand (no query)."""
        return (self.status in WORKABLE and self.closed_at is None and self.due_at is not None
                and self.due_at < timezone.now())

    def add_note(self, text: str) -> None:
        stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
        self.notes = f"{self.notes}\n\n[{stamp}] {text}".strip()
