"""The staff action log: every write a staff member makes, in the admin or the API, with who, when, what, from which
address and what the answer was. (Transitions also have their own audit rows in assets; this log adds the address
and covers every other write.)"""
from __future__ import annotations

import ipaddress
import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from dam.roles import STAFF, has_role
from reliability.models import StaffAction

log = logging.getLogger(__name__)

AUDITED_PATHS = ("/api/", "/admin/")
SECRET_WORDS = ("password", "secret", "token", "csrf")
MAX_BODY = 4096
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class StaffAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.path.startswith(AUDITED_PATHS):
            return self.get_response(request)
        form = request.META.get("CONTENT_TYPE", "").startswith(FORMS)
        if not form:
            try:
                request.body  # read now, as the view consumes the stream; masked below only if it is logged
            except Exception:  # too large, or unreadable: body_excerpt says so
                pass
        response = self.get_response(request)
        try:
            user = getattr(request, "user", None)  # for a token, DRF put its owner here
            if user is not None and (has_role(user, STAFF) or user.is_staff):  # is_staff: any admin login
                # Forms are parsed by the view by now (uploaded files left out). Only staff writes are logged, so
                # a detector's batch of 1000 faults is never parsed a second time here.
                body = form_excerpt(request) if form else body_excerpt(request)
                StaffAction.objects.create(
                    actor=user.get_username(), at=timezone.now(), address=client_address(request),
                    via="admin" if request.path.startswith("/admin/") else "api", method=request.method,
                    path=request.get_full_path()[:2000], target=target_of(request), body=body,
                    status_code=response.status_code)
        except DatabaseError as exc:  # the answer stands; the database being down is reported by the answer itself
            log.warning("staff action not logged (%s %s): %s", request.method, request.path, exc)
        return response


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind DAM_TRUSTED_PROXY_HOPS proxies the address the first of them
    saw (X-Forwarded-For, counted from the right, so a client cannot forge it by sending its own header)."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.DAM_TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def target_of(request) -> str:
    match = request.resolver_match
    if match is None:
        return ""
    names = " ".join(f"{k}={v}" for k, v in match.kwargs.items())
    return f"{match.view_name} {names}".strip()[:300]


def body_excerpt(request) -> str:
    """What was sent, with passwords, tokens and secrets masked, cut at 4 KB."""
    try:
        raw = request.body
    except Exception:  # too large, or already read: the log says so rather than failing the request
        return "(body not readable)"
    try:
        text = json.dumps(masked(json.loads(raw)), ensure_ascii=False)
    except (ValueError, RecursionError):
        text = raw[:MAX_BODY].decode("utf-8", "replace")
    return text[:MAX_BODY]


def form_excerpt(request) -> str:
    try:
        data = {key: values if len(values) > 1 else values[0] for key, values in request.POST.lists()}
    except Exception:
        return "(form not readable)"
    return json.dumps(masked(data), ensure_ascii=False)[:MAX_BODY]


def masked(data):
    if isinstance(data, dict):
        return {k: "***" if any(word in str(k).lower() for word in SECRET_WORDS) else masked(v)
                for k, v in data.items()}
    if isinstance(data, list):
        return [masked(item) for item in data]
    return data
