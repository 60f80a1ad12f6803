"""Wire shapes of the fleet resources. Assets, hardware models and pools are named, never numbered."""
import re
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

import lifecycle
from assets import bmc
from assets import services as asset_services
from assets.choices import Component, Severity, Transition
from assets.models import (Asset, AssetTransition, Fault, FleetAutomation, HardwareModel, IsolationRequest,
                           Pool)
from assets.validators import validate_hostname
from dam.serializers import RejectUnknownFields

def validate_name(name: str) -> str:
    """Pool and hardware model names appear in URL paths: anything but '/'."""
    if "/" in name:
        raise serializers.ValidationError("A name may not contain '/'.")
    return name


class HardwareModelSerializer(RejectUnknownFields, serializers.ModelSerializer):
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


MAX_UNAVAILABLE = re.compile(r"^(\d{1,9}|\d{1,3}(\.\d+)?%)$")


class PoolSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A pool and its isolation policy (see assets/policy.py and the README's "Safe automation")."""

    class Meta:
        model = Pool
        fields = ["name", "description", "probation_hours", "isolate_on", "warning_count", "warning_window_minutes",
                  "dedup_window_minutes", "max_unavailable", "storm_cooldown_minutes", "budget_hit_at",
                  "automation", "isolation_action", "isolation_target",
                  "auto_repair", "reimage_action", "reimage_target", "scheduled_checks"]
        read_only_fields = ["budget_hit_at"]
        extra_kwargs = {"probation_hours": {"min_value": 0}}

    def validate_name(self, name):
        return validate_name(name)

    def validate_max_unavailable(self, value):
        value = value.strip()
        if not MAX_UNAVAILABLE.match(value) or (value.endswith("%") and float(value[:-1]) > 100):
            raise serializers.ValidationError('A count ("5") or a percentage of the pool from 0% to 100% ("10%").')
        return value

    def validate(self, data):
        action = data.get("isolation_action", getattr(self.instance, "isolation_action", "none"))
        target = data.get("isolation_target", getattr(self.instance, "isolation_target", ""))
        if action != "none" and not target:
            raise serializers.ValidationError({"isolation_target": f"Required when isolation_action is {action}."})
        if action == "webhook" and not target.startswith(("http://", "https://")):
            raise serializers.ValidationError({"isolation_target": "A webhook target is an http(s) URL."})
        action = data.get("reimage_action", getattr(self.instance, "reimage_action", "none"))
        target = data.get("reimage_target", getattr(self.instance, "reimage_target", ""))
        if action != "none" and not target:
            raise serializers.ValidationError({"reimage_target": f"Required when reimage_action is {action}."})
        if action == "webhook" and not target.startswith(("http://", "https://")):
            raise serializers.ValidationError({"reimage_target": "A webhook target is an http(s) URL."})
        return data


def validate_bmc_url(url: str) -> str:
    try:
        return bmc.normalized_url(url)
    except ValueError as exc:
        raise serializers.ValidationError(str(exc)) from None


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


# The asset's BMC as every answer shows it: never the password, only whether one is set (PATCH sets it).
BMC_READ_FIELDS = ["bmc_url", "bmc_system", "bmc_username", "bmc_verify_tls", "bmc_password_set"]


# In the server's time zone (DAM never activates another), named once: asking for the current one per value
# (asgiref's request-local lookup) was a third of a page's answer.
_DATETIME = serializers.DateTimeField(read_only=True, default_timezone=timezone.get_default_timezone())


class AssetSerializer(RejectUnknownFields, serializers.ModelSerializer):
    bmc_password_set = serializers.BooleanField(read_only=True)

    hardware_model = serializers.SlugRelatedField(slug_field="name", queryset=HardwareModel.objects.all())
    pool = serializers.SlugRelatedField(slug_field="name", queryset=Pool.objects.all())
    open_ticket = serializers.IntegerField(read_only=True, allow_null=True)
    last_inspection = LastInspectionField()
    pending_isolation = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The isolation request waiting for staff approval, if any.")
    delivery = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="A newly delivered machine: created `new` and inspected (full profile) before it first becomes "
                  "active. Without it the asset is created active.")

    class Meta:
        model = Asset
        fields = ["hostname", "serial", "asset_tag", "hardware_model", "pool", "site", "rack", "state",
                  "state_changed_at", "open_ticket", "last_inspection", "created_at", "exclude_from_automation",
                  "flapping", "pending_isolation", "delivery"] + BMC_READ_FIELDS
        read_only_fields = ["state", "state_changed_at", "created_at", "flapping"] + BMC_READ_FIELDS
        # The one hostname rule (assets/validators.py), also the admin's and the inventory import's.
        extra_kwargs = {"hostname": {"validators": [validate_hostname,
                                                    UniqueValidator(queryset=Asset.objects.all())]}}

    def to_representation(self, asset):
        """What DRF's fields answer (tests/api/test_asset_answer.py holds the two equal), built straight from the
        row: going through 21 field objects took ~0.2 ms a machine, most of the asset list's time for its 100 rows
        a page. The list hands over rows (dicts: ANSWER_ROW), not model instances; an asset of asset_list()
        (assets.selectors) is read into the same row; any other asset goes the generic way."""
        if isinstance(asset, dict):
            return answer_from_row(asset)
        if not hasattr(asset, "open_ticket"):
            return super().to_representation(asset)
        row = {name: getattr(asset, name) for name in ANSWER_ROW if "__" not in name}
        row["hardware_model__name"], row["pool__name"] = asset.hardware_model.name, asset.pool.name
        return answer_from_row(row)

    def create(self, validated_data):
        # Validated here, written by a service: a delivered machine is inspected before it serves (the lifecycle's
        # delivery step), any other starts active.
        record = lifecycle.receive_delivery if validated_data.pop("delivery", False) else asset_services.asset_create
        return record(actor=self.context["request"].user.username, **validated_data)


# What the asset list reads of each machine (values() of assets.selectors.asset_list): the asset's own columns, its
# model's and pool's names, and the list's annotations. No model instances: a page of 100 built 300 of them (the
# asset, its model, its pool), and the state machine's bookkeeping for each, for a handful of names.
ANSWER_ROW = ("hostname", "serial", "asset_tag", "site", "rack", "state", "state_changed_at", "created_at",
              "exclude_from_automation", "flapping", "bmc_url", "bmc_system", "bmc_username",
              "bmc_password_encrypted", "bmc_verify_tls", "open_ticket", "last_inspection_id",
              "last_inspection_verdict", "last_inspection_finished_at", "pending_isolation", "hardware_model__name",
              "pool__name")


def answer_from_row(row: dict) -> dict:
    when = _DATETIME.to_representation
    inspected = row["last_inspection_id"]
    return {
        "hostname": row["hostname"], "serial": row["serial"], "asset_tag": row["asset_tag"],
        "hardware_model": row["hardware_model__name"], "pool": row["pool__name"], "site": row["site"],
        "rack": row["rack"], "state": row["state"], "state_changed_at": when(row["state_changed_at"]),
        "open_ticket": row["open_ticket"],
        "last_inspection": None if inspected is None else {
            "id": inspected, "verdict": row["last_inspection_verdict"],
            "finished_at": when(row["last_inspection_finished_at"]) if row["last_inspection_finished_at"] else None},
        "created_at": when(row["created_at"]), "exclude_from_automation": row["exclude_from_automation"],
        "flapping": row["flapping"], "pending_isolation": row["pending_isolation"], "bmc_url": row["bmc_url"],
        "bmc_system": row["bmc_system"], "bmc_username": row["bmc_username"],
        "bmc_verify_tls": row["bmc_verify_tls"], "bmc_password_set": bool(row["bmc_password_encrypted"]),
    }


class TransitionRequestSerializer(RejectUnknownFields, serializers.Serializer):
    transition = serializers.ChoiceField(choices=Transition.values)
    reason = serializers.CharField(max_length=2000)


class PowerRequestSerializer(RejectUnknownFields, serializers.Serializer):
    """Out-of-band power through the asset's BMC (integrations/bmc.py)."""

    action = serializers.ChoiceField(choices=["status", "on", "off", "cycle"])
    reason = serializers.CharField(max_length=2000)


class PowerAnswerSerializer(serializers.Serializer):
    power_state = serializers.CharField(help_text="PowerState as the BMC reports it: On, Off, PoweringOn, …")
    action = serializers.CharField()
    reset_type = serializers.CharField(help_text="The Redfish ResetType sent ('' for status, or when nothing was "
                                                 "needed).")
    answer = serializers.CharField(help_text="What the BMC answered.")


class AssetTransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssetTransition
        fields = ["transition", "source", "target", "actor", "reason", "at"]


class FaultInSerializer(RejectUnknownFields, serializers.Serializer):
    """One fault as a detector sends it. The detector is the token's owner, never a field."""

    asset = serializers.CharField(max_length=253)
    component = serializers.ChoiceField(choices=Component.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    summary = serializers.CharField(max_length=500)
    details = serializers.DictField(required=False)
    observed_at = serializers.DateTimeField(required=False)
    event_id = serializers.CharField(max_length=200, required=False, allow_blank=True)


def _first_error(errors) -> str:
    """'field: message' for each field that failed, so a detector knows exactly what to fix."""
    parts = []
    for field, messages in errors.items():
        message = messages[0] if isinstance(messages, list) else messages
        if isinstance(message, dict):  # nested
            message = _first_error(message)
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


class _FaultIn(msgspec.Struct, forbid_unknown_fields=True):
    """FaultInSerializer's rules, compiled (msgspec): what a 1,000-fault batch is checked with. It accepts only
    what the serializer would accept unchanged; anything else (a missing field, a null, padding to trim, text
    that is not plain ASCII, a number for a string) goes to the serializer, whose answer is the one that counts.
    The serializer also stays the schema's source (drf-spectacular)."""

    asset: Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
    component: Literal[tuple(Component.values)]  # type: ignore[valid-type]
    severity: Literal[tuple(Severity.values)]  # type: ignore[valid-type]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    details: dict | msgspec.UnsetType = msgspec.UNSET
    observed_at: datetime | msgspec.UnsetType = msgspec.UNSET
    event_id: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET


def _plain(text: str) -> bool:
    """Text the serializer would keep as it is: nothing to trim, no NUL, no lone surrogate (ASCII has none)."""
    return text.isascii() and "\x00" not in text and text == text.strip()


def _fast_check(item: dict, zone) -> dict | None:
    """The item's validated fields as the serializer would return them (times in `zone`, the server's), or None to
    let the serializer judge."""
    try:
        fault = msgspec.convert(item, _FaultIn)
    except msgspec.ValidationError:
        return None
    if not (_plain(fault.asset) and _plain(fault.summary)):
        return None
    data = {"asset": fault.asset, "component": fault.component, "severity": fault.severity,
            "summary": fault.summary}
    if fault.details is not msgspec.UNSET:
        data["details"] = fault.details
    if fault.observed_at is not msgspec.UNSET:
        # As DateTimeField: converted to the server's time zone. A naive time (which zone?) and a time at the edge
        # of the calendar (no longer representable once converted) are the serializer's to judge.
        if timezone.is_naive(fault.observed_at):
            return None
        try:
            data["observed_at"] = fault.observed_at.astimezone(zone)
        except (OverflowError, ValueError):
            return None
    if fault.event_id is not msgspec.UNSET:
        if not _plain(fault.event_id):
            return None
        data["event_id"] = fault.event_id
    return data


def faults_validate(items: list) -> list[dict | str]:
    """Each item of a fault batch as assets.services.faults_store takes it: its validated fields, or why it is
    rejected. A well-formed item is checked by the compiled rules (_FaultIn: about a microsecond); the rest by
    FaultInSerializer, which names the field and the problem. One serializer serves the whole batch: a new one per
    item would deep-copy its fields each time."""
    checker = FaultInSerializer()
    zone = timezone.get_current_timezone()  # once: a request-local lookup, per item it cost a few ms a batch
    checked: list[dict | str] = []
    for item in items:
        if not isinstance(item, dict):
            checked.append("item: expected a JSON object")
            continue
        if (data := _fast_check(item, zone)) is not None:
            checked.append(data)
            continue
        try:
            checked.append(checker.run_validation(item))
        except serializers.ValidationError as error:
            checked.append(_first_error(serializers.as_serializer_error(error)))
    return checked


class FaultSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)

    class Meta:
        model = Fault
        fields = ["id", "asset", "component", "severity", "summary", "details", "observed_at", "received_at",
                  "detector", "event_id", "repeat_of"]


class AssetUpdateSerializer(serializers.ModelSerializer):
    """What staff may change on an existing asset: its labels, automation flags and BMC, never its state."""

    bmc_password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Write-only: stored encrypted, never shown again (bmc_password_set says whether one is set). "
                  "Empty clears it.")

    class Meta:
        model = Asset
        fields = ["serial", "asset_tag", "site", "rack", "exclude_from_automation", "flapping",
                  "bmc_url", "bmc_system", "bmc_username", "bmc_password", "bmc_verify_tls"]

    def validate_bmc_url(self, url: str) -> str:
        return validate_bmc_url(url)

    def update(self, asset, validated_data):
        if "bmc_password" in validated_data:
            asset.set_bmc_password(validated_data.pop("bmc_password"))
        return super().update(asset, validated_data)

    def validate(self, data):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: "Cannot be changed here." + (
                " The state moves only by transitions." if name == "state" else "") for name in sorted(unknown)})
        return data


class IsolationRequestSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)

    class Meta:
        model = IsolationRequest
        fields = ["id", "asset", "fault", "reason", "status", "requested_at", "decided_by", "decided_at",
                  "decision_reason"]


class DecisionSerializer(RejectUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class FleetAutomationSerializer(RejectUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = FleetAutomation
        fields = ["paused", "reason", "changed_by", "changed_at"]
        read_only_fields = ["changed_by", "changed_at"]
