"""Inspections: CPU, memory and disk checks of one asset, judged against its hardware model's spec and baseline."""
from django.db import models
from django.db.models import Q
from django.utils import timezone

from assets.models import Asset, HardwareModel
from inspection.choices import FINISHED, Purpose, Verdict


class Baseline(models.Model):
    """What a healthy machine of one hardware model measures for one metric, and how far it may fall."""

    hardware_model = models.ForeignKey(HardwareModel, on_delete=models.CASCADE, related_name="baselines")
    metric = models.CharField(max_length=100)
    expected = models.FloatField()
    unit = models.CharField(max_length=20)
    tolerance_pct = models.FloatField(help_text="How far worse than expected still passes, in %.")
    higher_is_better = models.BooleanField(default=True)
    source = models.CharField(max_length=200, help_text="Reference run, or who set it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hardware_model", "metric"]
        constraints = [models.UniqueConstraint(fields=["hardware_model", "metric"], name="one_baseline_per_metric")]

    def __str__(self) -> str:
        return f"{self.hardware_model} {self.metric} = {self.expected:g} {self.unit} ±{self.tolerance_pct:g}%"

    def limit(self) -> float:
        """The worst value that still passes."""
        factor = 1 - self.tolerance_pct / 100 if self.higher_is_better else 1 + self.tolerance_pct / 100
        return self.expected * factor


class Inspection(models.Model):
    """One run of the checks on one asset. The agent on the host (or the worker standing in for it) measures;
    the server judges, so a host never decides its own verdict."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="inspections")
    # Verification inspections belong to the repair ticket they verify (repairs.RepairTicket; no FK so that
    # inspection does not depend on repairs).
    ticket_id = models.BigIntegerField(null=True, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.VERIFICATION)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, default=Verdict.PENDING, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(max_length=150, blank=True, help_text="Who measured: agent:<host> or worker:<host>.")
    summary = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="Inventory and measurements as the host sent them.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # At most one inspection in flight per asset.
            models.UniqueConstraint(
                fields=["asset"],
                condition=Q(verdict__in=[Verdict.PENDING, Verdict.RUNNING]),
                name="one_inspection_in_flight_per_asset",
            )
        ]
        indexes = [models.Index(fields=["asset", "-id"])]

    def __str__(self) -> str:
        return f"Inspection #{self.pk} of {self.asset} ({self.verdict})"

    @property
    def finished(self) -> bool:
        return self.verdict in FINISHED


class InspectionCheck(models.Model):
    """One judged number: what was measured, what was expected, the limit, and whether it passed."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=100)
    measured = models.FloatField(null=True)
    expected = models.FloatField(null=True)
    limit = models.FloatField(null=True)
    unit = models.CharField(max_length=20, blank=True)
    passed = models.BooleanField()
    detail = models.CharField(max_length=500)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.detail
