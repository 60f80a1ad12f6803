"""Fleet endpoints: assets (with their transitions and history), hardware models, pools, faults."""
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from assets.api.serializers import (ANSWER_ROW, AssetSerializer, AssetTransitionSerializer, AssetUpdateSerializer,
                                    DecisionSerializer, FaultInSerializer, FaultSerializer, FleetAutomationSerializer,
                                    HardwareModelSerializer, IsolationRequestSerializer, PoolSerializer,
                                    PowerAnswerSerializer, PowerRequestSerializer, TransitionRequestSerializer,
                                    faults_validate)
from assets.filtersets import AssetFilterSet, FaultFilterSet, IsolationRequestFilterSet
from assets.models import Fault, FleetAutomation, HardwareModel, IsolationRequest, Pool
from assets.selectors import asset_list
import lifecycle
from dam.filters import reject_unknown_parameters, pagination_parameters
from dam.pagination import AssetCursorPagination, NewestFirstCursorPagination
from integrations import bmc
from dam.permissions import PostsFaults

NAME = r"[^/]+"


class HardwareModelViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = HardwareModel.objects.all()
    serializer_class = HardwareModelSerializer
    lookup_field = "name"
    lookup_value_regex = NAME
    pagination_class = None


class PoolViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Pool.objects.all()
    serializer_class = PoolSerializer
    lookup_field = "name"
    lookup_value_regex = NAME
    pagination_class = None
    http_method_names = ["get", "post", "patch", "head", "options"]


# The 409 body, typed so that a generated client reads `allowed` instead of getting None.
TRANSITION_CONFLICT = inline_serializer("TransitionConflict", {
    "detail": serializers.CharField(), "state": serializers.CharField(),
    "allowed": serializers.ListField(child=serializers.CharField()),
})


class AssetViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = asset_list()
    serializer_class = AssetSerializer
    filterset_class = AssetFilterSet
    pagination_class = AssetCursorPagination
    lookup_field = "hostname"
    lookup_value_regex = NAME
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # Rows, not model instances: the answer is built from them (AssetSerializer.to_representation).
            queryset = queryset.values(*ANSWER_ROW)
        return queryset

    @extend_schema(request=AssetUpdateSerializer, responses=AssetSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Labels and automation flags (exclude_from_automation; clear flapping). The state moves only by
        transitions."""
        asset = self.get_object()
        serializer = AssetUpdateSerializer(asset, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(self.get_serializer(self.get_queryset().get(pk=asset.pk)).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        asset = serializer.save()
        return Response(self.get_serializer(self.get_queryset().get(pk=asset.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=TransitionRequestSerializer, responses={200: AssetSerializer, 409: OpenApiResponse(
        TRANSITION_CONFLICT, description="Not allowed from the asset's state; `allowed` lists what is.")})
    @action(detail=True, methods=["post"])
    def transitions(self, request, hostname=None):
        """Ask for a transition by name, with a reason that goes into the audit row."""
        asset = self.get_object()
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lifecycle.request_transition(asset=asset, transition=body.validated_data["transition"],
                                     actor=request.user.username, reason=body.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=asset.pk)).data)

    @extend_schema(request=PowerRequestSerializer, responses={
        200: PowerAnswerSerializer,
        409: OpenApiResponse(description='The asset has no BMC: {"detail", "field": "bmc_url"}'),
        502: OpenApiResponse(description='The BMC refused or did not answer: {"detail": the BMC\'s error}')})
    @action(detail=True, methods=["post"])
    def power(self, request, hostname=None):
        """Out-of-band power through the asset's BMC (Redfish): status, on, off, or cycle (a hard reset). Every
        call is recorded on the asset's timeline with who, why and the BMC's answer."""
        asset = self.get_object()
        body = PowerRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            call = bmc.power(asset=asset, action=body.validated_data["action"], actor=request.user.username,
                             reason=body.validated_data["reason"])
        except bmc.BmcFailed as failure:
            return Response({"detail": f"The BMC of {asset.hostname} failed: {failure}", "bmc_error": str(failure)},
                            status=status.HTTP_502_BAD_GATEWAY)
        return Response({"power_state": call.power_state, "action": call.action, "reset_type": call.reset_type,
                         "answer": call.answer})

    # Not the asset list's filters: the history takes only its pages' cursor and size.
    @extend_schema(responses=AssetTransitionSerializer(many=True), filters=False, parameters=[
        OpenApiParameter("cursor", str, description="The pagination cursor value."),
        OpenApiParameter("page_size", int, description="Number of results to return per page.")])
    @action(detail=True, methods=["get"])
    def history(self, request, hostname=None):
        """The audit rows of this asset, newest first."""
        paginator = NewestFirstCursorPagination()
        reject_unknown_parameters(request, pagination_parameters(paginator))
        asset = self.get_object()
        page = paginator.paginate_queryset(asset.transitions.all(), request, view=self)
        return paginator.get_paginated_response(AssetTransitionSerializer(page, many=True).data)


FAULT_BATCH_RESPONSE = inline_serializer("FaultBatchResult", {
    "accepted": serializers.IntegerField(), "duplicates": serializers.IntegerField(),
    "rejected": serializers.IntegerField(), "results": serializers.ListField(child=serializers.DictField()),
})
FAULT_BATCH_REFUSED = inline_serializer("FaultBatchRefused", {
    "detail": serializers.CharField(), "accepted": serializers.IntegerField(),
    "duplicates": serializers.IntegerField(), "rejected": serializers.IntegerField(),
    "results": serializers.ListField(child=serializers.DictField()),
})


class FaultViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Fault.objects.select_related("asset")
    serializer_class = FaultSerializer
    filterset_class = FaultFilterSet
    permission_classes = [PostsFaults]

    @extend_schema(request=PolymorphicProxySerializer("FaultOneOrMany", resource_type_field_name=None, many=False,
                                                      serializers=[FaultInSerializer, FaultInSerializer(many=True)]),
                   responses={202: FAULT_BATCH_RESPONSE, 422: FAULT_BATCH_REFUSED,
                              400: OpenApiResponse(description="Neither a fault object nor a list of them."),
                              413: OpenApiResponse(description="More than 1000 faults in one request.")})
    def create(self, request, *args, **kwargs):
        """One fault object or a list of up to 1000. Each item is accepted, a duplicate, or rejected with a reason;
        202 when any item was taken (accepted or duplicate), 422 with the same counts and results when none was."""
        items = request.data
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise ParseError("Expected a fault object or a list of fault objects.")
        limit = settings.DAM_MAX_FAULTS_PER_REQUEST
        if len(items) > limit:
            return Response({"detail": f"At most {limit} faults per request; this one has {len(items)}.",
                             "limit": limit}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        outcomes = lifecycle.report_faults(detector=request.user.username, items=faults_validate(items))
        counts = {s: sum(o.status == s for o in outcomes) for s in ("accepted", "duplicate", "rejected")}
        # Nothing taken at all is 422, so a detector that reads only the status knows (an empty list took nothing
        # and refused nothing: 202).
        body = {"accepted": counts["accepted"], "duplicates": counts["duplicate"], "rejected": counts["rejected"],
                "results": [o.as_dict() for o in outcomes]}
        if outcomes and counts["rejected"] == len(outcomes):
            # Like every error, it says what went wrong in "detail"; each item's reason is in its result.
            return Response({"detail": "Nothing was taken: every item was rejected (see each result's reason).",
                             **body}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(body, status=status.HTTP_202_ACCEPTED)


class IsolationRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Isolations the pool's budget held back: staff approve (it happens, over the budget if need be) or dismiss."""

    queryset = IsolationRequest.objects.select_related("asset")
    serializer_class = IsolationRequestSerializer
    filterset_class = IsolationRequestFilterSet

    @extend_schema(request=DecisionSerializer, responses=IsolationRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = lifecycle.approve_isolation(request_id=self.get_object().pk, actor=request.user.username,
                                              reason=body.validated_data["reason"])
        return Response(self.get_serializer(decided).data)

    @extend_schema(request=DecisionSerializer, responses=IsolationRequestSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = lifecycle.dismiss_isolation_request(request_id=self.get_object().pk, actor=request.user.username,
                                                      reason=body.validated_data["reason"])
        return Response(self.get_serializer(decided).data)


class FleetAutomationView(generics.RetrieveUpdateAPIView):
    """The global switch: PATCH {"paused": true, "reason": "..."} stops every automatic isolation, fleet-wide."""

    serializer_class = FleetAutomationSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return FleetAutomation.objects.get_or_create(pk=1)[0]

    def perform_update(self, serializer):
        serializer.save(changed_by=self.request.user.username)
