"""What the API's lists share about their query parameters: booleans spelled `true|false`, filters that are one
condition asked yes or no, and the rule that a parameter a list does not know is a 400 naming it, never silently
ignored (a typo such as `?flappy=true` must not answer the whole fleet)."""
from django import forms
from django_filters import BooleanFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

# Understood by every endpoint: DRF's format override (`?format=json`).
ALWAYS_ALLOWED = ("format",)


class TrueFalseField(forms.Field):
    """`true` or `false` (any case), nothing else: Django's NullBooleanSelect would turn `?flapping=yes-please` into
    no filter at all."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise forms.ValidationError("Expected true or false.", code="invalid")


class TrueFalseFilter(BooleanFilter):
    field_class = TrueFalseField


class ConditionFilter(TrueFalseFilter):
    """A filter that is one condition (a Q or an EXISTS on an indexed relation), asked `true` or `false`.

    `condition` is a function returning it, so it is built per query (a relation is resolved at call time, and a
    time-dependent condition such as overdue reads the clock then). The admin's list filters call `filter()` too:
    one definition for the API and the console."""

    def __init__(self, *, condition, **kwargs):
        self.condition = condition
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(self.condition()) if value else qs.exclude(self.condition())


def reject_unknown_parameters(request, allowed) -> None:
    """400 naming every query parameter not in `allowed`: {"detail": "Unknown filter: flappy", "allowed": [...]}"""
    allowed = sorted(set(allowed) | set(ALWAYS_ALLOWED))
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        raise ValidationError({"detail": f"Unknown filter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                               "allowed": allowed})


def pagination_parameters(paginator) -> list[str]:
    """The query parameters a list's paginator reads (cursor, page_size; page, limit, offset for others)."""
    if paginator is None:
        return []
    names = ("cursor_query_param", "page_query_param", "page_size_query_param", "limit_query_param",
             "offset_query_param")
    return [value for name in names if (value := getattr(paginator, name, None))]


class StrictDjangoFilterBackend(DjangoFilterBackend):
    """django-filter's backend, for lists only refusing what neither the filterset nor the paginator reads."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) == "list":
            filterset_class = self.get_filterset_class(view, queryset)
            filters = list(filterset_class.base_filters) if filterset_class else []
            reject_unknown_parameters(request, filters + pagination_parameters(getattr(view, "paginator", None)))
        return super().filter_queryset(request, queryset, view)
