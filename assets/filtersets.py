"""One filterset per fleet resource (as NetBox keeps one filtersets.py per app): the API's lists use them, and the
admin's asset list filters call the same definitions (assets/admin.py), so `?overdue=true` means one thing."""
import django_filters
from django.db.models import Exists, OuterRef, Q, Subquery

from assets.choices import AssetState, Component, RequestStatus, Severity
from assets.models import Asset, Fault, HardwareModel, IsolationRequest, Pool
from dam.filters import ConditionFilter, TrueFalseFilter


def _tickets():
    # Repair tickets are reached through the reverse relation: this app never imports the apps that build on it.
    return Asset._meta.get_field("repair_tickets").related_model.objects


def has_open_ticket():
    """The incident is not over: a ticket open, in progress, or resolved and waiting for its verification."""
    return Exists(_tickets().unclosed().filter(asset=OuterRef("pk")))


def has_overdue_ticket():
    """The repair is past its due time and still to be done (RepairTicket.objects.overdue(), the one definition)."""
    return Exists(_tickets().overdue().filter(asset=OuterRef("pk")))


def has_pending_approval():
    """An isolation the pool's budget held back, waiting for staff."""
    return Exists(IsolationRequest.objects.filter(asset=OuterRef("pk"), status=RequestStatus.PENDING))


class NamedFilter(django_filters.CharFilter):
    """A foreign key given by the name of the row it points to, compared as `fk_id = (SELECT id … WHERE name = …)`
    rather than through a join: PostgreSQL then knows the one id before it plans the scan, and walks an index
    (fk, hostname) in the list's order, stopping after a page (asset_list_indexes), instead of walking the whole
    hostname index and dropping the other pools' machines (16 ms at 100,000 machines, 1 ms this way)."""

    def __init__(self, *, named, **kwargs):
        self.named = named  # (not `model`: the filterset sets that to its own)
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{f"{self.field_name}_id": Subquery(self.named.objects.filter(name=value).values("pk")[:1])})


class AssetFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=AssetState.choices)
    pool = NamedFilter(field_name="pool", named=Pool)
    hardware_model = NamedFilter(field_name="hardware_model", named=HardwareModel)
    site = django_filters.CharFilter()
    flapping = TrueFalseFilter(help_text="Isolated again and again lately.")
    exclude_from_automation = TrueFalseFilter(help_text="Faults never isolate it by themselves.")
    open_ticket = ConditionFilter(condition=has_open_ticket, help_text="Has a repair ticket that is not closed.")
    overdue = ConditionFilter(condition=has_overdue_ticket,
                              help_text="Its repair ticket is still being worked (open, in progress) past due.")
    pending_approval = ConditionFilter(condition=has_pending_approval,
                                       help_text="An isolation waits for staff approval.")
    search = django_filters.CharFilter(method="filter_search",
                                       help_text="Part of the hostname, serial or asset tag (any case).")
    # The list's order. The cursor pagination orders the page by ORDERINGS (dam/pagination.py); a hostname breaks
    # ties between machines that changed state at the same moment.
    ORDERINGS = {"hostname": ("hostname",), "-hostname": ("-hostname",),
                 "state_changed_at": ("state_changed_at", "hostname"),
                 "-state_changed_at": ("-state_changed_at", "-hostname")}
    ordering = django_filters.ChoiceFilter(choices=[(name, name) for name in ORDERINGS], method="filter_ordering",
                                           help_text="The list's order (default hostname).")

    class Meta:
        model = Asset
        fields = ["state", "pool", "hardware_model", "site", "flapping", "exclude_from_automation", "open_ticket",
                  "overdue", "pending_approval", "search", "ordering"]

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*self.ORDERINGS[value])

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(hostname__icontains=value) | Q(serial__icontains=value)
                               | Q(asset_tag__icontains=value))


class FaultFilterSet(django_filters.FilterSet):
    asset = django_filters.CharFilter(field_name="asset__hostname")
    component = django_filters.ChoiceFilter(choices=Component.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)

    class Meta:
        model = Fault
        fields = ["asset", "component", "severity"]


class IsolationRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)
    asset = django_filters.CharFilter(field_name="asset__hostname")
    pool = django_filters.CharFilter(field_name="asset__pool__name")

    class Meta:
        model = IsolationRequest
        fields = ["status", "asset", "pool"]
