"""Login lockout (django-axes, database-backed so every web process sees it): the page a locked-out person sees,
saying when to try again, and the staff action log's row for every refused login."""
from __future__ import annotations

import json
import logging
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.db import DatabaseError
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone

from reliability.audit import client_address
from reliability.models import StaffAction

log = logging.getLogger(__name__)

REFUSED = "login refused: locked out"


def client_ip(request) -> str:
    """The address axes counts failures by: the same one the staff action log records (DAM_TRUSTED_PROXY_HOPS)."""
    return client_address(request) or request.META.get("REMOTE_ADDR", "")


def lockout_ends(request, credentials) -> datetime:
    """When the newest failure that keeps this login locked has aged out of the cool-off. The cool-off does not
    restart on attempts made while locked (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT=False), so this is firm."""
    cool_off = get_cool_off(request)
    handler = AxesProxyHandler.get_implementation()
    newest = None
    if hasattr(handler, "get_user_attempts"):  # the database handler
        for attempts in handler.get_user_attempts(request, credentials):
            at = attempts.aggregate(newest=Max("attempt_time"))["newest"]
            if at and (newest is None or at > newest):
                newest = at
    return (newest or timezone.now()) + cool_off


def locked_out_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: called for every refused login (the AxesMiddleware answer)."""
    username = get_client_username(request, credentials) or ""
    until = lockout_ends(request, credentials)
    address = client_address(request)
    log.warning("login refused, locked out until %s: user %r from %s", until.isoformat(), username, address)
    try:
        StaffAction.objects.create(
            actor=username[:150] or "(no username)", at=timezone.now(), address=address, via="login",
            method=request.method, path=request.get_full_path()[:2000], target=REFUSED,
            body=json.dumps({"username": username, "locked_until": until.isoformat(),
                             "failure_limit": get_failure_limit(request, credentials)}),
            status_code=429)
    except DatabaseError as exc:  # the refusal stands even if it cannot be written down
        log.warning("refused login not logged: %s", exc)
    from django.contrib import admin  # the admin's frame (site title, theme) around the page

    return render(request, "console/locked_out.html", {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "username": username,
        "until": until,
        "minutes_left": max(1, round((until - timezone.now()).total_seconds() / 60)),
        "failure_limit": get_failure_limit(request, credentials),
    }, status=429)
