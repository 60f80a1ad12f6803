"""Repair tickets: the technician's queue. Resolving one sends its machine to verification."""
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

import lifecycle
from assets.conflicts import TicketConflict
from repairs import services
from repairs.api.serializers import RepairTicketSerializer, ResolveSerializer
from repairs.filtersets import RepairTicketFilterSet
from repairs.models import RepairTicket


@extend_schema_view(partial_update=extend_schema(responses={200: RepairTicketSerializer, 409: OpenApiResponse(
    description='{"detail", "status"}: the ticket stopped being worked (resolved or cancelled) while the request '
                'was on its way; its status can no longer be changed by hand. Nothing of the request was saved.')}))
class RepairTicketViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = RepairTicket.objects.select_related("asset").prefetch_related("faults")
    serializer_class = RepairTicketSerializer
    filterset_class = RepairTicketFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_update(self, serializer):
        # Through the service: the row locked and only the changed fields written, so a resolve, close or reopen by
        # the lifecycle after this request loaded the ticket keeps its status, notes and dates.
        with transaction.atomic():
            ticket, refused = services.ticket_update(ticket_id=serializer.instance.pk,
                                                     changes=dict(serializer.validated_data))
            if refused:  # raised inside the transaction: the request's other fields are not saved either
                raise TicketConflict(ticket, f"Ticket #{ticket.pk} is {ticket.status} now; its status can no "
                                             "longer be changed by hand.")
        serializer.instance = ticket

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
