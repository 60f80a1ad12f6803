"""Wire shapes of the fleet resources. Assets, hardware models and pools are named, never numbered."""
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.choices import Component, Severity, Transition
from assets.models import Asset, AssetTransition, Fault, HardwareModel, Pool

HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")


def validate_hostname(hostname: str) -> str:
    if not HOSTNAME.match(hostname):
        raise serializers.ValidationError("Letters, digits, '.', '-' and '_' only, not starting or ending with "
                                          "punctuation.")
    return hostname


def validate_name(name: str) -> str:
    """Pool and hardware model names appear in URL paths: anything but '/'."""
    if "/" in name:
        raise serializers.ValidationError("A name may not contain '/'.")
    return name


class HardwareModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = HardwareModel
        fields = ["name", "vendor", "cpu_logical_cores", "memory_bytes", "disks"]

    def validate_name(self, name):
        return validate_name(name)

    def validate_disks(self, disks):
        if not isinstance(disks, list) or not all(
            isinstance(d, dict) and isinstance(d.get("mount"), str) and type(d.get("size_bytes")) is int
            and d["size_bytes"] > 0 for d in disks
        ):
            raise serializers.ValidationError('Expected a list of {"mount": "/path", "size_bytes": integer}.')
        return disks


class PoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pool
        fields = ["name", "description", "probation_hours"]
        extra_kwargs = {"probation_hours": {"min_value": 0}}

    def validate_name(self, name):
        return validate_name(name)


class LastInspectionSummarySerializer(serializers.Serializer):
    """Schema of LastInspectionField: the newest inspection's id, verdict and finish time."""

    id = serializers.IntegerField()
    verdict = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


@extend_schema_field(LastInspectionSummarySerializer(allow_null=True))
class LastInspectionField(serializers.Field):
    """The asset's newest inspection, from the annotations of assets.selectors.asset_list()."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, asset):
        if getattr(asset, "last_inspection_id", None) is None:
            return None
        return {"id": asset.last_inspection_id, "verdict": asset.last_inspection_verdict,
                "finished_at": serializers.DateTimeField().to_representation(asset.last_inspection_finished_at)
                if asset.last_inspection_finished_at else None}


class AssetSerializer(serializers.ModelSerializer):
    hardware_model = serializers.SlugRelatedField(slug_field="name", queryset=HardwareModel.objects.all())
    pool = serializers.SlugRelatedField(slug_field="name", queryset=Pool.objects.all())
    open_ticket = serializers.IntegerField(read_only=True, allow_null=True)
    last_inspection = LastInspectionField()

    class Meta:
        model = Asset
        fields = ["hostname", "serial", "asset_tag", "hardware_model", "pool", "site", "rack", "state",
                  "state_changed_at", "open_ticket", "last_inspection", "created_at"]
        read_only_fields = ["state", "state_changed_at", "created_at"]

    def validate_hostname(self, hostname):
        return validate_hostname(hostname)


class TransitionRequestSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=Transition.values)
    reason = serializers.CharField(max_length=2000)


class AssetTransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssetTransition
        fields = ["transition", "source", "target", "actor", "reason", "at"]


class FaultInSerializer(serializers.Serializer):
    """One fault as a detector sends it. The detector is the token's owner, never a field."""

    asset = serializers.CharField(max_length=253)
    component = serializers.ChoiceField(choices=Component.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    summary = serializers.CharField(max_length=500)
    details = serializers.DictField(required=False)
    observed_at = serializers.DateTimeField(required=False)
    event_id = serializers.CharField(max_length=200, required=False, allow_blank=True)


class FaultSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)

    class Meta:
        model = Fault
        fields = ["id", "asset", "component", "severity", "summary", "details", "observed_at", "received_at",
                  "detector", "event_id"]
