"""Inspections for everyone to read, the endpoints the host agent uses to take and report its own, and the
hardware models' baseline versions (staff pin one, or set a band by hand)."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

import lifecycle
from assets.models import Asset
from dam.permissions import IsAgent
from dam.roles import AGENT, roles_of
from inspection import services
from inspection.api.serializers import (AgentAssignmentSerializer, AgentConfirmSerializer, AgentReportSerializer,
                                        BaselineVersionSerializer, InspectionSerializer, ReleaseBandSerializer, SetBandSerializer,
                                        UnpinSerializer)
from inspection.choices import Verdict
from inspection.filtersets import BaselineVersionFilterSet, InspectionFilterSet
from inspection.models import BaselineVersion, Inspection


def agent_only_own_host(request, queryset):
    """An agent token is named after its host and sees only that host's inspections."""
    if roles_of(request.user) == {AGENT}:
        return queryset.filter(asset__hostname=request.user.username)
    return queryset


class InspectionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Inspection.objects.select_related("asset").prefetch_related("checks")
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilterSet

    def get_queryset(self):
        return agent_only_own_host(self.request, super().get_queryset())


class AgentInspectionViewSet(viewsets.GenericViewSet):
    """The host agent: take the next pending inspection of this host, claim it, report the measurements."""

    queryset = Inspection.objects.select_related("asset__hardware_model")
    serializer_class = AgentAssignmentSerializer
    permission_classes = [IsAgent]
    pagination_class = None

    def get_queryset(self):
        return agent_only_own_host(self.request, super().get_queryset())

    @extend_schema(responses={200: AgentAssignmentSerializer, 204: OpenApiResponse(description="Nothing to do."),
                              404: OpenApiResponse(description="DAM has no asset of this hostname.")})
    @action(detail=False, methods=["get"])
    def next(self, request):
        hostname = request.query_params.get("hostname", request.user.username)
        if hostname != request.user.username:
            raise PermissionDenied(f"This agent token belongs to {request.user.username}, not {hostname}.")
        inspection = self.get_queryset().filter(verdict=Verdict.PENDING).order_by("id").first()
        if inspection is None:
            # "Nothing to do" would leave an agent started under the wrong name (or before its host was added)
            # waiting forever: a host DAM does not know is said so, by name.
            if not Asset.objects.filter(hostname=hostname).exists():
                return Response({"detail": f"DAM has no asset named {hostname!r}: add it, or run the agent with "
                                           f"--hostname set to the name DAM knows this host by.",
                                 "hostname": hostname}, status=status.HTTP_404_NOT_FOUND)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(inspection).data)

    @extend_schema(request=None, responses={200: AgentAssignmentSerializer, 409: OpenApiResponse(
        description="Already taken or finished.")})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        inspection = self.get_object()
        if not services.inspection_start(inspection=inspection, runner=f"agent:{request.user.username}"):
            return Response({"detail": f"Inspection #{inspection.id} is {inspection.verdict}, not pending.",
                             "verdict": inspection.verdict}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(inspection).data)

    @extend_schema(request=AgentReportSerializer, responses={200: InspectionSerializer, 409: OpenApiResponse(
        description="Not running: start it first, or it already finished.")})
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        inspection = self.get_object()
        body = AgentReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if inspection.verdict != Verdict.RUNNING:
            return Response({"detail": f"Inspection #{inspection.id} is {inspection.verdict}, not running.",
                             "verdict": inspection.verdict}, status=status.HTTP_409_CONFLICT)
        data = body.validated_data
        error = data.get("error", "")
        if services.awaiting_confirmation(inspection):
            return Response({"detail": f"Inspection #{inspection.id} waits for its confirmation runs: POST them to "
                                       f"confirm/.", "verdict": inspection.verdict}, status=status.HTTP_409_CONFLICT)
        report = None if error else {key: data[key] for key in ("inventory", "measurements", "profile",
                                                                  "environment", "disturbance", "can_confirm")
                                     if key in data}
        lifecycle.inspection_finished(inspection_id=inspection.id, report=report,
                                      runner=f"agent:{request.user.username}", error=error)
        inspection = Inspection.objects.prefetch_related("checks").get(pk=inspection.pk)
        return Response(InspectionSerializer(inspection).data)

    @extend_schema(request=AgentConfirmSerializer, responses={200: InspectionSerializer, 409: OpenApiResponse(
        description="No confirmation asked for: not running, or its first report did not fail.")})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """The failing curves measured again, as the report's answer asked (`confirm`): the verdict follows."""
        inspection = self.get_object()
        body = AgentConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not services.awaiting_confirmation(inspection):
            return Response({"detail": f"Inspection #{inspection.id} is {inspection.verdict} and waits for no "
                                       f"confirmation.", "verdict": inspection.verdict},
                            status=status.HTTP_409_CONFLICT)
        lifecycle.inspection_confirmed(inspection_id=inspection.id, runs=body.validated_data["runs"])
        inspection = Inspection.objects.prefetch_related("checks").get(pk=inspection.pk)
        return Response(InspectionSerializer(inspection).data)


class BaselineVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Baseline versions, newest first. Versions are never edited: pinning chooses which one judges, and a band
    set by hand makes a new version."""

    queryset = (BaselineVersion.objects.select_related("hardware_model").prefetch_related("points")
                .order_by("hardware_model__name", "-number"))
    serializer_class = BaselineVersionSerializer
    filterset_class = BaselineVersionFilterSet

    @extend_schema(request=None, responses=BaselineVersionSerializer)
    @action(detail=True, methods=["post"])
    def pin(self, request, pk=None):
        """Judge the hardware model against this version from now on, whatever is learned later."""
        version = services.baseline_pin(version=self.get_object(), actor=request.user.username)
        return Response(self.get_serializer(version).data)

    @extend_schema(request=UnpinSerializer, responses={200: OpenApiResponse(
        description='{"unpinned": version id or null}: the model is judged against its newest version again.')})
    @action(detail=False, methods=["post"])
    def unpin(self, request):
        body = UnpinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        was = services.baseline_unpin(hardware_model=body.validated_data["hardware_model"],
                                      actor=request.user.username)
        return Response({"unpinned": was.id if was else None})

    @extend_schema(request=SetBandSerializer, responses={201: BaselineVersionSerializer})
    @action(detail=False, methods=["post"], url_path="set-band")
    def set_band(self, request):
        """Set one point's band (or a whole curve's) by hand: a new version, kept by learning until released."""
        body = SetBandSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            version = services.baseline_set_band(
                hardware_model=data["hardware_model"], metric=data["metric"], low=data.get("low"),
                high=data.get("high"), expected=data.get("expected"), actor=request.user.username,
                reason=data["reason"])
        except services.BaselineConflict as conflict:
            raise ValidationError({"detail": str(conflict)}) from None
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReleaseBandSerializer, responses={201: BaselineVersionSerializer})
    @action(detail=False, methods=["post"], url_path="release-band")
    def release_band(self, request):
        """Give a hand-set band back to learning: a new version; the next learned one computes the band again."""
        body = ReleaseBandSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            version = services.baseline_release_band(hardware_model=data["hardware_model"], metric=data["metric"],
                                                     actor=request.user.username, reason=data["reason"])
        except services.BaselineConflict as conflict:
            raise ValidationError({"detail": str(conflict)}) from None
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)
