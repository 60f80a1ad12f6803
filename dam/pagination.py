"""Cursor pagination: stable pages over tables that grow while a client walks them."""
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ByHostnameCursorPagination(NewestFirstCursorPagination):
    ordering = "hostname"


class AssetCursorPagination(ByHostnameCursorPagination):
    """By hostname, or in the `ordering` the view's filterset took (and validated before the page is cut): the
    filterset's ORDERINGS name the columns (assets/filtersets.py). A cursor keeps the order it was made with,
    since its links carry the parameter."""

    def get_ordering(self, request, queryset, view):
        orderings = getattr(getattr(view, "filterset_class", None), "ORDERINGS", {})
        return orderings.get(request.query_params.get("ordering", ""), (self.ordering,))
