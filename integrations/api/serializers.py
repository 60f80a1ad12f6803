"""Wire shape of Alertmanager's webhook payload (version 4), as far as DAM reads it. Fields DAM does not read
(receiver, groupLabels, commonLabels, externalURL, …) are let through: Alertmanager adds fields between releases."""
from rest_framework import serializers


def validate_alert_status(status):
    if status not in ("firing", "resolved"):
        raise serializers.ValidationError(f"Expected \"firing\" or \"resolved\", not {status!r}.")
    return status


# `status` is text checked by hand, not a ChoiceField: the API schema already has other `status` enums (tickets,
# isolation requests), and one more would make drf-spectacular rename them.
class AlertSerializer(serializers.Serializer):
    status = serializers.CharField(validators=[validate_alert_status], help_text='"firing" or "resolved"')
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    annotations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    startsAt = serializers.CharField()  # kept as sent: it is part of the event_id
    endsAt = serializers.CharField(required=False, allow_blank=True)
    generatorURL = serializers.CharField(required=False, allow_blank=True)
    fingerprint = serializers.CharField(max_length=100)


class AlertmanagerWebhookSerializer(serializers.Serializer):
    version = serializers.CharField()
    status = serializers.CharField(validators=[validate_alert_status], required=False)
    receiver = serializers.CharField(required=False, allow_blank=True)
    alerts = AlertSerializer(many=True, allow_empty=True)

    def validate_version(self, version):
        if version != "4":
            raise serializers.ValidationError(f"Alertmanager's webhook payload is version \"4\"; this is {version!r}.")
        return version
