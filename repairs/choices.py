"""Repair ticket statuses, as the contract names them."""
from django.db import models


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    CANCELLED = "cancelled", "Cancelled"


# A technician can still work on a ticket in these statuses.
WORKABLE = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
