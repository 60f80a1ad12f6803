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
    """By hostname, or by the `ordering` the asset filterset took (assets/filtersets.py validated it before the
    page is cut): hostname, -hostname, state_changed_at, -state_changed_at. A cursor keeps the order it was made
    with, since its links carry the parameter. Hostname breaks ties in state_changed_at."""

    ORDERINGS = {"hostname": ("hostname",), "-hostname": ("-hostname",),
                 "state_changed_at": ("state_changed_at", "hostname"),
                 "-state_changed_at": ("-state_changed_at", "-hostname")}

    def get_ordering(self, request, queryset, view):
        return self.ORDERINGS.get(request.query_params.get("ordering", ""), (self.ordering,))
