"""Wire shapes of inspections and baselines, and of what the host agent sends."""
from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.models import HardwareModel
from dam.serializers import RejectUnknownFields
from inspection import services, verdict
from inspection.choices import MeasuredOrSkipped, Profile
from inspection.models import Baseline, BaselineVersion, Inspection, InspectionCheck


class CheckPointSerializer(serializers.Serializer):
    """One point of a curve check, as judged."""

    key = serializers.CharField()
    x = serializers.FloatField(allow_null=True, help_text="Threads, or bytes of working set or block.")
    label = serializers.CharField()
    measured = serializers.FloatField(allow_null=True)
    expected = serializers.FloatField()
    low = serializers.FloatField(help_text="The baseline band's lower edge.")
    high = serializers.FloatField(help_text="The baseline band's upper edge.")
    limit = serializers.FloatField(help_text="The band's edge on the bad side: the worst value that passes.")
    deviation_pct = serializers.FloatField(allow_null=True)
    sigmas = serializers.FloatField(allow_null=True, help_text="Off the baseline in robust sigmas (learned only).")
    passed = serializers.BooleanField()


class InspectionCheckSerializer(serializers.ModelSerializer):
    points = CheckPointSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionCheck
        fields = ["name", "measured", "expected", "limit", "unit", "passed", "detail", "band_low", "band_high",
                  "deviation_pct", "sigmas", "skipped", "points"]


class ConfirmRequestSerializer(serializers.Serializer):
    groups = serializers.ListField(child=serializers.CharField(), help_text="The curves to measure again.")
    repeats = serializers.IntegerField(help_text="How many times.")


class InspectionSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    checks = InspectionCheckSerializer(many=True, read_only=True)
    baseline_version = serializers.SerializerMethodField()
    confirm = serializers.SerializerMethodField()
    disturbance = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "asset", "ticket_id", "purpose", "profile", "verdict", "requested_at", "started_at",
                  "finished_at", "runner", "summary", "baseline_version", "confirm", "disturbance", "checks"]

    @extend_schema_field(ConfirmRequestSerializer(allow_null=True))
    def get_confirm(self, inspection) -> dict | None:
        """While running after a failing first run: the curves the runner must measure again, and how often
        (POST them to agent/inspections/{id}/confirm/)."""
        return services.awaiting_confirmation(inspection)

    def get_disturbance(self, inspection) -> dict | None:
        """What else the machine did during each curve, as the host measured it (null: not measured)."""
        return (inspection.raw or {}).get("disturbance")

    def get_baseline_version(self, inspection) -> dict | None:
        """The baseline version that judged it: {id, number, kind}."""
        version = inspection.baseline_version
        return {"id": version.id, "number": version.number, "kind": version.kind} if version else None


class AgentAssignmentSerializer(serializers.ModelSerializer):
    """What the agent needs to run an inspection: which filesystems to report and how long to measure."""

    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    mounts = serializers.SerializerMethodField()
    seconds = serializers.SerializerMethodField()
    disk_bytes = serializers.SerializerMethodField()
    disturbance_limits = serializers.SerializerMethodField()
    disturbance_retries = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "asset", "purpose", "profile", "verdict", "mounts", "seconds", "disk_bytes",
                  "disturbance_limits", "disturbance_retries"]

    def get_disturbance_limits(self, inspection) -> dict:
        """Past these, a curve is measured again (the server judges with the same limits)."""
        return services.disturbance_limits()

    def get_disturbance_retries(self, inspection) -> int:
        return settings.DAM_DISTURBANCE_RETRIES

    def get_mounts(self, inspection) -> list[str]:
        return [d["mount"] for d in inspection.asset.hardware_model.disks]

    def get_seconds(self, inspection) -> float:
        """Each curve's time budget in this inspection's profile."""
        return services.profile_seconds(inspection.profile)

    def get_disk_bytes(self, inspection) -> int:
        return settings.DAM_DISK_SCRATCH_BYTES


class InventoryDiskSerializer(RejectUnknownFields, serializers.Serializer):
    mount = serializers.CharField(max_length=4096)
    size_bytes = serializers.IntegerField(min_value=0, allow_null=True)  # null: the host could not read it


class BlockDeviceSerializer(RejectUnknownFields, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    size_bytes = serializers.IntegerField(min_value=0)
    rotational = serializers.BooleanField(required=False)


class TemperatureSerializer(RejectUnknownFields, serializers.Serializer):
    sensor = serializers.CharField(max_length=200)
    celsius = serializers.FloatField()
    critical = serializers.FloatField(allow_null=True, required=False)


class SmartDeviceSerializer(RejectUnknownFields, serializers.Serializer):
    device = serializers.CharField(max_length=200)
    passed = serializers.BooleanField()


class SmartSerializer(RejectUnknownFields, serializers.Serializer):
    status = serializers.ChoiceField(choices=MeasuredOrSkipped.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    devices = serializers.ListField(child=SmartDeviceSerializer(), max_length=256, required=False)


class EdacControllerSerializer(RejectUnknownFields, serializers.Serializer):
    controller = serializers.CharField(max_length=200)
    corrected = serializers.IntegerField(min_value=0)
    uncorrected = serializers.IntegerField(min_value=0)


class EdacSerializer(RejectUnknownFields, serializers.Serializer):
    status = serializers.ChoiceField(choices=MeasuredOrSkipped.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    controllers = serializers.ListField(child=EdacControllerSerializer(), max_length=256, required=False)


class InventorySerializer(RejectUnknownFields, serializers.Serializer):
    hostname = serializers.CharField(max_length=253, required=False)
    cpu_logical_cores = serializers.IntegerField(min_value=0)
    cpu_physical_cores = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    memory_total_bytes = serializers.IntegerField(min_value=0)
    disks = serializers.ListField(child=InventoryDiskSerializer(), max_length=256, required=False)
    block_devices = serializers.ListField(child=BlockDeviceSerializer(), max_length=256, required=False)
    temperatures = serializers.ListField(child=TemperatureSerializer(), max_length=1024, required=False)
    smart = SmartSerializer(required=False)
    edac = EdacSerializer(required=False)


class EnvironmentSerializer(RejectUnknownFields, serializers.Serializer):
    direct_io = serializers.BooleanField(required=False, help_text="The disk was measured past the page cache.")
    elapsed_seconds = serializers.FloatField(required=False)


class CurveDisturbanceSerializer(RejectUnknownFields, serializers.Serializer):
    """What else the machine did while one group of curves was measured (inspection/measure.py)."""

    seconds = serializers.FloatField(min_value=0)
    others_cpu_pct = serializers.FloatField(min_value=0, help_text="Other processes' CPU time, % of all cores.")
    steal_pct = serializers.FloatField(min_value=0, help_text="CPU time the hypervisor gave others, % of all cores.")
    others_disk_mb_per_s = serializers.FloatField(min_value=0, required=False)
    others_disk_pct = serializers.FloatField(min_value=0, allow_null=True, required=False,
                                             help_text="Others' disk bytes in % of the curve's own.")
    memory_available_min_pct = serializers.FloatField(min_value=0, max_value=100)
    cpu_mhz_min = serializers.FloatField(min_value=0, allow_null=True, required=False)
    cpu_mhz_max = serializers.FloatField(min_value=0, allow_null=True, required=False)
    over = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20, required=False)
    attempts = serializers.IntegerField(min_value=1, max_value=100, required=False)


class DisturbanceSerializer(RejectUnknownFields, serializers.Serializer):
    limits = serializers.DictField(child=serializers.FloatField(min_value=0), required=False)
    curves = serializers.DictField(child=CurveDisturbanceSerializer())

    def validate_curves(self, curves):
        if len(curves) > 50:
            raise serializers.ValidationError(f"At most 50 groups; this report has {len(curves)}.")
        bad = [name for name in curves if len(name) > 50]
        if bad:
            raise serializers.ValidationError(f"Group names are at most 50 characters: {bad[0][:60]!r}.")
        return curves


class AgentReportSerializer(RejectUnknownFields, serializers.Serializer):
    """Either the inventory and measurements (every curve point, keyed `<curve>[<x>]`) with what else the machine
    did during each curve (`disturbance`; an older agent sends none: judged without, and the summary says so), or
    the error that kept the checks from running. `can_confirm`: the agent measures failing curves again when asked
    (the answer's `confirm`)."""

    inventory = InventorySerializer(required=False)
    measurements = serializers.DictField(child=serializers.FloatField(), required=False)
    profile = serializers.ChoiceField(choices=Profile.choices, required=False)
    environment = EnvironmentSerializer(required=False)
    disturbance = DisturbanceSerializer(required=False)
    can_confirm = serializers.BooleanField(required=False)
    error = serializers.CharField(max_length=2000, required=False)

    def validate_measurements(self, measurements):
        if len(measurements) > 1000:
            raise serializers.ValidationError(f"At most 1000 points; this report has {len(measurements)}.")
        return measurements

    def validate(self, data):
        if not data.get("error") and not ("inventory" in data and "measurements" in data):
            raise serializers.ValidationError("Send inventory and measurements, or an error.")
        return data


class ConfirmRunSerializer(RejectUnknownFields, serializers.Serializer):
    measurements = serializers.DictField(child=serializers.FloatField())
    disturbance = DisturbanceSerializer(required=False)

    def validate_measurements(self, measurements):
        if len(measurements) > 1000:
            raise serializers.ValidationError(f"At most 1000 points; this run has {len(measurements)}.")
        return measurements


class AgentConfirmSerializer(RejectUnknownFields, serializers.Serializer):
    """The confirmation the server asked for: the failing curves measured again, once per repeat."""

    runs = serializers.ListField(child=ConfirmRunSerializer(), max_length=10)


# Baselines ------------------------------------------------------------------------------------------------------
class BaselinePointSerializer(serializers.ModelSerializer):
    limit = serializers.SerializerMethodField()
    detectable_pct = serializers.SerializerMethodField()

    class Meta:
        model = Baseline
        fields = ["metric", "unit", "higher_is_better", "expected", "low", "high", "limit", "tolerance_pct", "spread",
                  "curve_spread_pct", "samples", "hand_set", "source", "detectable_pct"]

    def get_limit(self, point) -> float:
        return point.limit()

    def get_detectable_pct(self, point) -> float | None:
        """The smallest degradation of this point (%) caught with ≥ 99 % probability at ≤ 1 % false fails, from
        its learned noise; null without a learned spread."""
        found = verdict.detectable_pct(point.spec())
        return round(found, 1) if found is not None else None


class BaselineVersionSerializer(serializers.ModelSerializer):
    hardware_model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    current = serializers.SerializerMethodField()
    points = BaselinePointSerializer(many=True, read_only=True)
    detectable_pct = serializers.SerializerMethodField()

    class Meta:
        model = BaselineVersion
        fields = ["id", "hardware_model", "number", "kind", "source", "samples", "pinned", "pinned_by", "current",
                  "created_by", "created_at", "inventory", "detectable_pct", "points"]

    def get_detectable_pct(self, version) -> dict[str, float | None]:
        """Per curve: the smallest degradation of the whole curve (%) caught with ≥ 99 % probability at ≤ 1 % false
        fails, from the learned noise; null where the version learned no spread (seeded or hand-set)."""
        return {curve: round(found, 1) if found is not None else None
                for curve, found in services.detectable_by_curve(list(version.points.all())).items()}

    def get_current(self, version) -> bool:
        """Whether the model is judged against this version now."""
        current = services.baseline_current(version.hardware_model)
        return current is not None and current.pk == version.pk


class SetBandSerializer(RejectUnknownFields, serializers.Serializer):
    """A band set by hand for one point (`disk.seq_write_mb_per_s[1MiB]`) or a whole curve."""

    hardware_model = serializers.SlugRelatedField(slug_field="name", queryset=HardwareModel.objects.all())
    metric = serializers.CharField(max_length=100)
    low = serializers.FloatField(required=False, allow_null=True, min_value=0)
    high = serializers.FloatField(required=False, allow_null=True, min_value=0)
    expected = serializers.FloatField(required=False, allow_null=True, min_value=0)
    reason = serializers.CharField(max_length=500)


class ReleaseBandSerializer(RejectUnknownFields, serializers.Serializer):
    """Give a hand-set band back to learning."""

    hardware_model = serializers.SlugRelatedField(slug_field="name", queryset=HardwareModel.objects.all())
    metric = serializers.CharField(max_length=100)
    reason = serializers.CharField(max_length=500)


class UnpinSerializer(RejectUnknownFields, serializers.Serializer):
    hardware_model = serializers.SlugRelatedField(slug_field="name", queryset=HardwareModel.objects.all())
