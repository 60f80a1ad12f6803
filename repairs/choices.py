"""Repair ticket statuses, as the contract names them."""
from django.db import models


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    CANCELLED = "cancelled", "Cancelled"


# A technician can still work on a ticket in these statuses.
WORKABLE = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class RepairAction(models.TextChoices):
    """The escalation ladder, cheapest first (Autopilot's reboot → reimage → replace)."""

    REBOOT = "reboot", "Reboot"
    REIMAGE = "reimage", "Reimage"
    HARDWARE_REPAIR = "hardware_repair", "Hardware repair"
    REPLACE = "replace", "Replace the machine"


LADDER = [RepairAction.REBOOT, RepairAction.REIMAGE, RepairAction.HARDWARE_REPAIR, RepairAction.REPLACE]
# Repairs that change hardware; too many of them in a short time retire the machine.
HARDWARE_ACTIONS = (RepairAction.HARDWARE_REPAIR, RepairAction.REPLACE)
