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
