"""Who may do what in the API (the contract's role column)."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from dam.roles import AGENT, DETECTOR, STAFF, VIEWER, has_role


class ReadAnyWriteStaff(BasePermission):
    """Every role reads; only staff write. The default for every endpoint."""

    message = "This token's role may read but not change this resource; staff may."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, DETECTOR, AGENT, STAFF, VIEWER)
        return has_role(request.user, STAFF)


class PostsFaults(BasePermission):
    message = "Only detector and staff tokens may post faults."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, DETECTOR, AGENT, STAFF, VIEWER)
        return has_role(request.user, DETECTOR, STAFF)


class IsAgent(BasePermission):
    message = "Only agent tokens may use the agent endpoints."

    def has_permission(self, request, view):
        return has_role(request.user, AGENT)
