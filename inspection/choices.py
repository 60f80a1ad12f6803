"""Inspection verdicts and purposes."""
from django.db import models


class Verdict(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


FINISHED = (Verdict.PASSED, Verdict.FAILED, Verdict.ERROR)


class Purpose(models.TextChoices):
    VERIFICATION = "verification", "Verification after repair"
    SCHEDULED = "scheduled", "Scheduled inspection"
    DELIVERY = "delivery", "Delivery inspection (new machine)"


class Profile(models.TextChoices):
    """How long the checks measure: `quick` after a repair or on schedule, `full` for a newly delivered machine."""

    QUICK = "quick", "Quick"
    FULL = "full", "Full"


class BaselineKind(models.TextChoices):
    REFERENCE = "reference", "Seeded from a reference run"
    LEARNED = "learned", "Learned from passing inspections"
    STAFF = "staff", "Set by staff"
