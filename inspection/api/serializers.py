"""Wire shapes of inspections and baselines, and of what the host agent sends."""
from django.conf import settings
from rest_framework import serializers

from assets.models import HardwareModel
from dam.serializers import RejectUnknownFields
from inspection import services
from inspection.choices import Profile
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


class InspectionSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    checks = InspectionCheckSerializer(many=True, read_only=True)
    baseline_version = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "asset", "ticket_id", "purpose", "profile", "verdict", "requested_at", "started_at",
                  "finished_at", "runner", "summary", "baseline_version", "checks"]

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

    class Meta:
        model = Inspection
        fields = ["id", "asset", "purpose", "profile", "verdict", "mounts", "seconds", "disk_bytes"]

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
    status = serializers.ChoiceField(choices=["measured", "skipped"])
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    devices = serializers.ListField(child=SmartDeviceSerializer(), max_length=256, required=False)


class InventorySerializer(RejectUnknownFields, serializers.Serializer):
    hostname = serializers.CharField(max_length=253, required=False)
    cpu_logical_cores = serializers.IntegerField(min_value=0)
    cpu_physical_cores = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    memory_total_bytes = serializers.IntegerField(min_value=0)
    disks = serializers.ListField(child=InventoryDiskSerializer(), max_length=256, required=False)
    block_devices = serializers.ListField(child=BlockDeviceSerializer(), max_length=256, required=False)
    temperatures = serializers.ListField(child=TemperatureSerializer(), max_length=1024, required=False)
    smart = SmartSerializer(required=False)


class EnvironmentSerializer(RejectUnknownFields, serializers.Serializer):
    direct_io = serializers.BooleanField(required=False, help_text="The disk was measured past the page cache.")
    elapsed_seconds = serializers.FloatField(required=False)


class AgentReportSerializer(RejectUnknownFields, serializers.Serializer):
    """Either the inventory and measurements (every curve point, keyed `<curve>[<x>]`), or the error that kept
    the checks from running."""

    inventory = InventorySerializer(required=False)
    measurements = serializers.DictField(child=serializers.FloatField(), required=False)
    profile = serializers.ChoiceField(choices=Profile.choices, required=False)
    environment = EnvironmentSerializer(required=False)
    error = serializers.CharField(max_length=2000, required=False)

    def validate_measurements(self, measurements):
        if len(measurements) > 1000:
            raise serializers.ValidationError(f"At most 1000 points; this report has {len(measurements)}.")
        return measurements

    def validate(self, data):
        if not data.get("error") and not ("inventory" in data and "measurements" in data):
            raise serializers.ValidationError("Send inventory and measurements, or an error.")
        return data


# Baselines ------------------------------------------------------------------------------------------------------
class BaselinePointSerializer(serializers.ModelSerializer):
    limit = serializers.SerializerMethodField()

    class Meta:
        model = Baseline
        fields = ["metric", "unit", "higher_is_better", "expected", "low", "high", "limit", "tolerance_pct", "spread",
                  "samples", "hand_set", "source"]

    def get_limit(self, point) -> float:
        return point.limit()


class BaselineVersionSerializer(serializers.ModelSerializer):
    hardware_model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    current = serializers.SerializerMethodField()
    points = BaselinePointSerializer(many=True, read_only=True)

    class Meta:
        model = BaselineVersion
        fields = ["id", "hardware_model", "number", "kind", "source", "samples", "pinned", "pinned_by", "current",
                  "created_by", "created_at", "inventory", "points"]

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
