"""Who may do what in the API (the contract's role column)."""
from django.core.exceptions import FieldDoesNotExist
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import SAFE_METHODS, BasePermission

from dam.roles import AGENT, DETECTOR, STAFF, VIEWER, has_role, roles_of


class ReadAnyWriteStaff(BasePermission):
    """Every role reads; only staff write. The default for every endpoint."""

    message = "This token's role may read but not change this resource; staff may."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, DETECTOR, AGENT, STAFF, VIEWER)
        return has_role(request.user, STAFF)


class PostsFaults(BasePermission):
    """Detectors and staff post faults about any machine; a host agent (`inspection.agent --watch`) only about its
    own host, the one its token is named after: a compromised or misconfigured host cannot take others out."""

    message = "Only detector, staff and agent tokens may post faults."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, DETECTOR, AGENT, STAFF, VIEWER)
        if has_role(request.user, DETECTOR, STAFF):
            return True
        if not has_role(request.user, AGENT):
            return False
        items = request.data
        for index, item in enumerate(items if isinstance(items, list) else [items]):
            asset = item.get("asset") if isinstance(item, dict) else None
            if asset is not None and asset != request.user.username:
                self.message = (f"An agent token posts faults about its own host only ({request.user.username!r}); "
                                f"item {index} names {asset!r}.")
                return False
        return True  # a malformed envelope or item is the view's 400 / the item's rejection


class IsAgent(BasePermission):
    message = "Only agent tokens may use the agent endpoints."

    def has_permission(self, request, view):
        return has_role(request.user, AGENT)


class AgentSeesOwnHost(BaseFilterBackend):
    """An agent token is named after its host and sees only that host: its asset, and the faults, tickets and
    inspections of it (lists and single objects alike; another host's are 404). A default filter backend, so every
    endpoint gets it."""

    def filter_queryset(self, request, queryset, view):
        if roles_of(request.user) != {AGENT}:
            return queryset
        model = queryset.model
        if model._meta.label == "assets.Asset":
            return queryset.filter(hostname=request.user.username)
        try:
            model._meta.get_field("asset")
        except FieldDoesNotExist:
            return queryset  # not about one host (pools, hardware models)
        return queryset.filter(asset__hostname=request.user.username)
