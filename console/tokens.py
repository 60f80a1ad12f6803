"""The console's list of API tokens: whose, which role, created, expires, with a button to revoke each. A superuser
sees every user's tokens; any other console login sees and revokes its own. knox keeps only a digest of each token
(and its first characters, which the list shows so a person can tell which one is on which machine)."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST
from knox.models import AuthToken

from dam.roles import ROLES

log = logging.getLogger(__name__)


def _tokens_visible_to(user):
    tokens = AuthToken.objects.select_related("user")
    return tokens if user.is_superuser else tokens.filter(user=user)


def tokens_page(request):
    now = timezone.now()
    tokens = list(_tokens_visible_to(request.user).prefetch_related(
        Prefetch("user__groups")).order_by("user__username", "-created"))
    owners: dict[int, dict] = {}
    for token in tokens:
        owner = owners.setdefault(token.user_id, {
            "user": token.user, "tokens": [],
            "role": ", ".join(g.name for g in token.user.groups.all() if g.name in ROLES) or "—"})
        owner["tokens"].append({"token": token, "expired": token.expiry is not None and token.expiry < now,
                                "expires_soon": token.expiry is not None and now <= token.expiry
                                < now + timedelta(days=14)})
    return TemplateResponse(request, "console/tokens.html", {
        **admin.site.each_context(request),
        "title": "API tokens" if request.user.is_superuser else "Your API tokens",
        "owners": list(owners.values()), "count": len(tokens), "everyone": request.user.is_superuser,
    })


@require_POST
def token_revoke(request):
    token = _tokens_visible_to(request.user).filter(digest=request.POST.get("digest", "")).first()
    if token is None:
        messages.error(request, "No such token (already revoked, or not yours).")
    else:
        owner, key = token.user.get_username(), token.token_key
        token.delete()
        log.info("%s revoked API token %s… of %s", request.user.get_username(), key, owner)
        messages.success(request, f"Revoked the token {key}… of {owner}: it no longer works.")
    return redirect("console:tokens")

