"""Query filters the contract offers: assets by state, pool, site, hardware model; faults by asset and kind."""
import django_filters

from assets.choices import AssetState, Component, Severity
from assets.models import Asset, Fault


class AssetFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=AssetState.choices)
    pool = django_filters.CharFilter(field_name="pool__name")
    site = django_filters.CharFilter()
    hardware_model = django_filters.CharFilter(field_name="hardware_model__name")

    class Meta:
        model = Asset
        fields = ["state", "pool", "site", "hardware_model"]


class FaultFilter(django_filters.FilterSet):
    asset = django_filters.CharFilter(field_name="asset__hostname")
    component = django_filters.ChoiceFilter(choices=Component.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)

    class Meta:
        model = Fault
        fields = ["asset", "component", "severity"]
