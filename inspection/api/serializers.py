"""Wire shapes of inspections, and of what the host agent sends."""
from django.conf import settings
from rest_framework import serializers

from inspection.models import Inspection, InspectionCheck


class InspectionCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = InspectionCheck
        fields = ["name", "measured", "expected", "limit", "unit", "passed", "detail"]


class InspectionSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    checks = InspectionCheckSerializer(many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = ["id", "asset", "ticket_id", "purpose", "verdict", "requested_at", "started_at", "finished_at",
                  "runner", "summary", "checks"]


class AgentAssignmentSerializer(serializers.ModelSerializer):
    """What the agent needs to run an inspection: which filesystems to report and how long to measure."""

    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    mounts = serializers.SerializerMethodField()
    seconds = serializers.SerializerMethodField()
    disk_bytes = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "asset", "purpose", "verdict", "mounts", "seconds", "disk_bytes"]

    def get_mounts(self, inspection) -> list[str]:
        return [d["mount"] for d in inspection.asset.hardware_model.disks]

    def get_seconds(self, inspection) -> float:
        return settings.DAM_CHECK_SECONDS

    def get_disk_bytes(self, inspection) -> int:
        return settings.DAM_DISK_SCRATCH_BYTES


class InventoryDiskSerializer(serializers.Serializer):
    mount = serializers.CharField(max_length=4096)
    size_bytes = serializers.IntegerField(min_value=0, allow_null=True)  # null: the host could not read it


class InventorySerializer(serializers.Serializer):
    hostname = serializers.CharField(max_length=253, required=False)
    cpu_logical_cores = serializers.IntegerField(min_value=0)
    cpu_physical_cores = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    memory_total_bytes = serializers.IntegerField(min_value=0)
    disks = serializers.ListField(child=InventoryDiskSerializer(), max_length=256, required=False)


class AgentReportSerializer(serializers.Serializer):
    """Either the inventory and measurements, or the error that kept the checks from running."""

    inventory = InventorySerializer(required=False)
    measurements = serializers.DictField(child=serializers.FloatField(), required=False)
    error = serializers.CharField(max_length=2000, required=False)

    def validate(self, data):
        if not data.get("error") and not ("inventory" in data and "measurements" in data):
            raise serializers.ValidationError("Send inventory and measurements, or an error.")
        return data
