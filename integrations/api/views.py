"""Alertmanager's webhook in: each alert one fault of the token's detector, through the same fault intake as
POST faults/ (dedup, policy, budget, audit)."""
from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

import lifecycle
from assets.api.serializers import FaultInSerializer
from dam.roles import DETECTOR, STAFF, has_role
from integrations.alertmanager import NoHost, alert_to_fault
from integrations.api.serializers import AlertmanagerWebhookSerializer


class PostsAlerts(BasePermission):
    message = "Only detector and staff tokens may post Alertmanager alerts."

    def has_permission(self, request, view):
        return has_role(request.user, DETECTOR, STAFF)


def first_error(errors, where: str = "") -> str:
    """'alerts[2].labels: This field is required.' — the first thing wrong, and where."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if value:
                at = f"[{key}]" if isinstance(key, int) else f".{key}" if where else str(key)
                return first_error(value, where + at)
    if isinstance(errors, list):
        if errors and all(isinstance(e, str) for e in errors):
            return f"{where}: {errors[0]}" if where else str(errors[0])
        for index, value in enumerate(errors):
            if value:
                return first_error(value, f"{where}[{index}]")
    return f"{where}: {errors}" if where else str(errors)


RESULT = inline_serializer("AlertmanagerResult", {
    "accepted": serializers.IntegerField(), "duplicates": serializers.IntegerField(),
    "rejected": serializers.IntegerField(), "results": serializers.ListField(child=serializers.DictField()),
})


class AlertmanagerReceiver(APIView):
    permission_classes = [PostsAlerts]

    @extend_schema(request=AlertmanagerWebhookSerializer, responses={
        200: RESULT, 400: OpenApiResponse(description="Not an Alertmanager webhook payload (version 4)."),
        413: OpenApiResponse(description="More alerts than the fault batch limit (1000).")})
    def post(self, request):
        """Prometheus Alertmanager's webhook (`webhook_configs`). Each alert is one fault: the machine from label
        `hostname`, else `instance` without its port, else `node`; `component` and `severity` from their labels;
        a resolved alert is kept as an info fault. Always 200 once the payload is an Alertmanager webhook, with
        each alert accepted, a duplicate or rejected (an unknown machine): Alertmanager retries anything else."""
        payload = request.data
        if not isinstance(payload, dict):
            return Response({"detail": "Not an Alertmanager webhook: expected a JSON object with \"version\": \"4\" "
                                       "and \"alerts\"."}, status=status.HTTP_400_BAD_REQUEST)
        limit = settings.DAM_MAX_FAULTS_PER_REQUEST
        alerts = payload.get("alerts")
        if isinstance(alerts, list) and len(alerts) > limit:
            # Checked before anything else is read: a huge payload is refused cheaply. Alertmanager's own
            # max_alerts (webhook_configs) keeps it under the limit.
            return Response({"detail": f"At most {limit} alerts per request; this one has {len(alerts)}. Set "
                                       f"max_alerts: {limit} in the webhook_configs.", "limit": limit},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        envelope = AlertmanagerWebhookSerializer(data=payload)
        if not envelope.is_valid():
            errors = envelope.errors
            return Response({"detail": f"Not an Alertmanager webhook: {first_error(errors)}", **errors},
                            status=status.HTTP_400_BAD_REQUEST)

        # Each alert as a fault, validated exactly as POST faults/ validates one; what fails is rejected at its
        # index, the rest go to the fault intake together.
        checker = FaultInSerializer()
        results: list[dict | None] = []
        valid: list[tuple[int, dict]] = []
        for index, alert in enumerate(envelope.validated_data["alerts"]):
            try:
                valid.append((index, checker.run_validation(alert_to_fault(alert))))
                results.append(None)
            except NoHost as error:
                results.append(_rejected(index, str(error)))
            except ValidationError as error:
                results.append(_rejected(index, first_error(as_serializer_error(error))))
        if valid:
            outcomes = lifecycle.report_faults(detector=request.user.username, items=[item for _, item in valid])
            for (index, _), outcome in zip(valid, outcomes):
                results[index] = {**outcome.as_dict(), "index": index}
        counts = {s: sum(r["status"] == s for r in results) for s in ("accepted", "duplicate", "rejected")}
        return Response({"accepted": counts["accepted"], "duplicates": counts["duplicate"],
                         "rejected": counts["rejected"], "results": results})


def _rejected(index: int, reason: str) -> dict:
    return {"index": index, "status": "rejected", "id": None, "reason": reason}
