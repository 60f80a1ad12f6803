"""Cursor pagination: stable pages over tables that grow while a client walks them."""
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ByHostnameCursorPagination(NewestFirstCursorPagination):
    ordering = "hostname"
