"""Inspection verdicts and purposes."""
from django.db import models


class Verdict(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    # Could not be judged: a failing curve was measured while other work disturbed the machine, again and again.
    # Never a pass nor a fail (lifecycle/verdicts.py).
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    ERROR = "error", "Error"


FINISHED = (Verdict.PASSED, Verdict.FAILED, Verdict.INCONCLUSIVE, Verdict.ERROR)


class Purpose(models.TextChoices):
    VERIFICATION = "verification", "Verification after repair"
    SCHEDULED = "scheduled", "Scheduled inspection"
    DELIVERY = "delivery", "Delivery inspection (new machine)"


class Profile(models.TextChoices):
    """How long the checks measure: `quick` after a repair (or on schedule in a pool that opted into full scheduled
    checks), `full` for a newly delivered machine, `facts` (no benchmark: inventory, SMART, temperatures, memory
    error counters) on schedule for a serving machine."""

    QUICK = "quick", "Quick"
    FULL = "full", "Full"
    FACTS = "facts", "Facts only (no benchmark)"


class BaselineKind(models.TextChoices):
    REFERENCE = "reference", "Seeded from a reference run"
    LEARNED = "learned", "Learned from passing inspections"
    STAFF = "staff", "Set by staff"


class MeasuredOrSkipped(models.TextChoices):
    """Whether the host could read SMART or the memory error counters (skipped, with the reason, where not)."""

    MEASURED = "measured", "Measured"
    SKIPPED = "skipped", "Skipped"
