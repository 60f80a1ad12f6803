"""The repair ticket filterset: the API's ticket list (and anything else that lists tickets by these words)."""
import django_filters

from dam.filters import TrueFalseFilter
from repairs.choices import TicketStatus
from repairs.models import RepairTicket


class RepairTicketFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TicketStatus.choices)
    asset = django_filters.CharFilter(field_name="asset__hostname")
    overdue = TrueFalseFilter(method="filter_overdue", label="Still being worked past its due time")

    class Meta:
        model = RepairTicket
        fields = ["status", "asset", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.overdue()  # the one definition (repairs/models.py)
        return queryset.not_overdue()
