"""Wire shapes of repair tickets."""
from rest_framework import serializers

from dam.serializers import RejectUnknownFields
from repairs.choices import WORKABLE, RepairAction, TicketStatus
from repairs.models import RepairTicket


class RepairTicketSerializer(RejectUnknownFields, serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    asset_state = serializers.CharField(source="asset.state", read_only=True)
    faults = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    overdue = serializers.BooleanField(read_only=True, help_text="Still being worked (open or in_progress) past its "
                                                                 "due_at; a resolved ticket is not overdue.")
    # Declared so that the schema says it may be blank (read-only model fields lose allow_blank).
    performed_action = serializers.ChoiceField(choices=RepairAction.choices, allow_blank=True, read_only=True)

    class Meta:
        model = RepairTicket
        fields = ["id", "asset", "asset_state", "status", "summary", "faults", "assignee", "notes", "action_taken",
                  "repair_action", "escalation", "performed_action", "opened_by", "opened_at", "due_at", "overdue",
                  "resolved_at", "closed_at", "reopen_count"]
        read_only_fields = ["summary", "action_taken", "escalation", "performed_action", "opened_by", "opened_at",
                            "due_at", "resolved_at", "closed_at", "reopen_count"]
        extra_kwargs = {"notes": {"max_length": 20000}}

    def validate_status(self, value):
        # PATCH moves a ticket between open and in_progress; resolving and cancelling move the asset too,
        # so they have their own endpoints.
        if value == TicketStatus.RESOLVED:
            raise serializers.ValidationError("Resolve with POST tickets/{id}/resolve/ and the action taken.")
        if value == TicketStatus.CANCELLED:
            raise serializers.ValidationError("Cancel by dismissing the asset (transition dismiss).")
        if self.instance and (self.instance.closed_at or self.instance.status not in WORKABLE):
            raise serializers.ValidationError(f"The ticket is {self.instance.status}; its status can no longer be "
                                              "changed by hand.")
        return value


class ResolveSerializer(RejectUnknownFields, serializers.Serializer):
    action_taken = serializers.CharField(max_length=2000)
    action = serializers.ChoiceField(choices=RepairAction.choices, required=False,
                                     help_text="The rung of the ladder performed; the ticket's repair_action if "
                                               "not given.")
