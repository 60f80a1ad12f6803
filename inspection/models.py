"""Inspections: CPU, memory and disk checks of one asset, judged against its hardware model's spec and baseline."""
from django.db import models
from django.db.models import Q
from django.utils import timezone

from assets.models import Asset, HardwareModel
from inspection import verdict
from inspection.choices import FINISHED, BaselineKind, Profile, Purpose, Verdict


class BaselineVersion(models.Model):
    """One version of a hardware model's baseline: the band of every curve point at once, never edited afterwards.

    Versions come from a reference run (seeded), from the model's passing inspections (learned, once there are
    enough of them), or from staff setting a band by hand. The model is judged against its pinned version if staff
    pinned one, else its newest. Every inspection records the version that judged it.
    """

    hardware_model = models.ForeignKey(HardwareModel, on_delete=models.CASCADE, related_name="baseline_versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=BaselineKind.choices)
    source = models.CharField(max_length=500, help_text="Where the numbers come from, in words.")
    samples = models.PositiveIntegerField(default=0, help_text="Passing inspections it was learned from.")
    learned_up_to = models.BigIntegerField(null=True, blank=True,
                                           help_text="The newest passing inspection it was learned from.")
    inventory = models.JSONField(default=dict, blank=True,
                                 help_text="What the spec does not name but every machine of the model should show: "
                                           "physical cores, whole disks (from the reference run).")
    pinned = models.BooleanField(default=False, help_text="Judge the model against this version, whatever is newer.")
    pinned_by = models.CharField(max_length=150, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["hardware_model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["hardware_model", "number"], name="one_baseline_version_number"),
            models.UniqueConstraint(fields=["hardware_model"], condition=Q(pinned=True),
                                    name="one_pinned_baseline_version"),
        ]

    def __str__(self) -> str:
        return f"{self.hardware_model} baseline v{self.number} ({self.kind}{', pinned' if self.pinned else ''})"


class Baseline(models.Model):
    """What a healthy machine of one hardware model measures at one curve point (`disk.seq_write_mb_per_s[1MiB]`)
    or over a whole curve (`disk.seq_write_mb_per_s`), and the band it must stay in: `low`…`high` when set,
    otherwise `expected` ± `tolerance_pct`. Only the bad side of the band fails a machine.

    Each row belongs to a version; a row without one (added directly, as older code did) is judged only while the
    model has no version at all.
    """

    hardware_model = models.ForeignKey(HardwareModel, on_delete=models.CASCADE, related_name="baselines")
    version = models.ForeignKey(BaselineVersion, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="points")
    metric = models.CharField(max_length=100)
    expected = models.FloatField(help_text="The centre: the median of the samples.")
    unit = models.CharField(max_length=20)
    tolerance_pct = models.FloatField(help_text="Half the band's width, in % of expected.")
    higher_is_better = models.BooleanField(default=True)
    low = models.FloatField(null=True, blank=True, help_text="Band's lower edge (a throughput's limit).")
    high = models.FloatField(null=True, blank=True, help_text="Band's upper edge (a latency's limit).")
    spread = models.FloatField(null=True, blank=True, help_text="Robust sigma of the samples (1.4826 × MAD).")
    curve_spread_pct = models.FloatField(
        null=True, blank=True,
        help_text="How far the point's whole curve (its median point) moved from run to run in the samples: robust "
                  "sigma, % of the centre. The whole-curve rule is set from it.")
    samples = models.PositiveIntegerField(default=0)
    hand_set = models.BooleanField(default=False, help_text="Staff set this band by hand; learning keeps it.")
    source = models.CharField(max_length=200, help_text="Reference run, learned, or who set it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hardware_model", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["version", "metric"], name="one_baseline_point_per_version"),
            models.UniqueConstraint(fields=["hardware_model", "metric"], condition=Q(version__isnull=True),
                                    name="one_unversioned_baseline_per_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.hardware_model} {self.metric} = {self.expected:g} {self.unit} ±{self.tolerance_pct:g}%"

    def spec(self) -> verdict.BaselineSpec:
        return verdict.BaselineSpec(metric=self.metric, expected=self.expected, unit=self.unit,
                                    tolerance_pct=self.tolerance_pct, higher_is_better=self.higher_is_better,
                                    low=self.low, high=self.high, spread=self.spread, samples=self.samples,
                                    curve_spread_pct=self.curve_spread_pct)

    def limit(self) -> float:
        """The worst value that still passes."""
        return self.spec().limit


class Inspection(models.Model):
    """One run of the checks on one asset. The agent on the host (or the worker standing in for it) measures;
    the server judges, so a host never decides its own verdict."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="inspections")
    # Verification inspections belong to the repair ticket they verify (repairs.RepairTicket; no FK so that
    # inspection does not depend on repairs).
    ticket_id = models.BigIntegerField(null=True, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.VERIFICATION)
    profile = models.CharField(max_length=10, choices=Profile.choices, default=Profile.QUICK)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, default=Verdict.PENDING, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(max_length=150, blank=True, help_text="Who measured: agent:<host> or worker:<host>.")
    summary = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="Inventory and measurements as the host sent them.")
    baseline_version = models.ForeignKey(BaselineVersion, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="inspections", help_text="The baseline that judged it.")

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
    """One judged check: an inventory item, or a curve. For a curve, the numbers are those of its worst point and
    `points` holds every point: measured, band, deviation in % and in robust sigmas, pass/fail."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=100)
    measured = models.FloatField(null=True)
    expected = models.FloatField(null=True)
    limit = models.FloatField(null=True)
    unit = models.CharField(max_length=20, blank=True)
    passed = models.BooleanField()
    detail = models.CharField(max_length=500)
    band_low = models.FloatField(null=True, blank=True)
    band_high = models.FloatField(null=True, blank=True)
    deviation_pct = models.FloatField(null=True, blank=True, help_text="Off the baseline, in %.")
    sigmas = models.FloatField(null=True, blank=True, help_text="Off the baseline, in robust sigmas.")
    points = models.JSONField(default=list, blank=True)
    skipped = models.BooleanField(default=False, help_text="Could not run here (e.g. no smartctl): not a failure.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.detail
