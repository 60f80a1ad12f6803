"""Repair tickets: the technician's queue. Resolving one sends its machine to verification."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

import lifecycle
from repairs.api.serializers import RepairTicketSerializer, ResolveSerializer
from repairs.filtersets import RepairTicketFilterSet
from repairs.models import RepairTicket


class RepairTicketViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = RepairTicket.objects.select_related("asset").prefetch_related("faults")
    serializer_class = RepairTicketSerializer
    filterset_class = RepairTicketFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=ResolveSerializer, responses=RepairTicketSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """The repair is done: record the action taken; the asset goes to verifying and is inspected."""
        ticket = self.get_object()
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor=request.user.username,
                                 action_taken=body.validated_data["action_taken"],
                                 action=body.validated_data.get("action", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)
