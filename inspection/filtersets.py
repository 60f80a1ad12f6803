"""Filtersets of the inspection app: inspections and baseline versions."""
import django_filters

from dam.filters import TrueFalseFilter
from inspection.choices import BaselineKind, Verdict
from inspection.models import BaselineVersion, Inspection


class InspectionFilterSet(django_filters.FilterSet):
    asset = django_filters.CharFilter(field_name="asset__hostname")
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices)

    class Meta:
        model = Inspection
        fields = ["asset", "verdict"]


class BaselineVersionFilterSet(django_filters.FilterSet):
    hardware_model = django_filters.CharFilter(field_name="hardware_model__name")
    kind = django_filters.ChoiceFilter(choices=BaselineKind.choices)
    pinned = TrueFalseFilter()

    class Meta:
        model = BaselineVersion
        fields = ["hardware_model", "kind", "pinned"]
