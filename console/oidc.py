"""Single sign-on with OpenID Connect (mozilla-django-oidc): the "Sign in with …" button, the callback, and the
backend that creates a console user at the first sign-in with the role its identity provider gives it.

The provider is found by discovery (DAM_OIDC_ISSUER/.well-known/openid-configuration, fetched at the first sign-in,
not at import) unless DAM_OIDC_*_ENDPOINT name the endpoints. mozilla-django-oidc checks the ID token's signature
(JWKS) and nonce; DAM adds what it leaves out: the audience, the authorized party and the issuer. A sign-in that
fails for any reason ends on a page that says why, in the log and the staff action log, and creates no account.

Local passwords keep working beside it (a break-glass account for the day the identity provider is down). A local
account is never handed to single sign-on: a provider user whose name is taken by a local account is refused.
"""
from __future__ import annotations

import json
import logging

import requests
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import DatabaseError, transaction
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from console.groups import HARDWARE_STAFF, VIEWER
from reliability.audit import client_address
from reliability.models import StaffAction

log = logging.getLogger(__name__)

# Every account single sign-on created is in this group: the mark that it may be signed in to that way.
SSO_GROUP = "single sign-on"
REFUSED = "sso sign-in refused"
DISCOVERED = {  # mozilla-django-oidc's setting → the discovery document's key
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovery: dict[str, dict] = {}  # issuer → its document, once fetched (per process)


class SignInRefused(SuspiciousOperation):
    """A sign-in DAM refuses; the message is what the person reads."""


def discovery() -> dict:
    issuer = settings.DAM_OIDC_ISSUER.rstrip("/")
    if not issuer:
        return {}
    if issuer not in _discovery:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        if document.get("issuer", "").rstrip("/") != issuer:  # OpenID Connect Discovery §4.3
            raise ImproperlyConfigured(f"The discovery document of {issuer} names another issuer "
                                       f"({document.get('issuer')!r}): check DAM_OIDC_ISSUER.")
        _discovery[issuer] = document
    return _discovery[issuer]


def oidc_setting(attr, *args):
    """mozilla-django-oidc's settings, the endpoints filled in from discovery when not given."""
    if attr in DISCOVERED and not getattr(settings, attr, ""):
        if value := discovery().get(DISCOVERED[attr]):
            return value
    return import_from_settings(attr, *args)


def role_for(claims: dict) -> str | None:
    """hardware staff or viewer from the role claim (a string or a list); DAM_OIDC_DEFAULT_ROLE otherwise."""
    value = claims.get(settings.DAM_OIDC_ROLE_CLAIM)
    values = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}
    if values & set(settings.DAM_OIDC_STAFF_VALUES):
        return HARDWARE_STAFF
    if values & set(settings.DAM_OIDC_VIEWER_VALUES):
        return VIEWER
    return {"hardware staff": HARDWARE_STAFF, "staff": HARDWARE_STAFF, "viewer": VIEWER}.get(
        settings.DAM_OIDC_DEFAULT_ROLE.strip().lower())


def _refuse(request, reason: str):
    request.dam_sso_refusal = reason
    raise SignInRefused(reason)


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, answering only on the callback; reads its settings when used, so a provider
    that cannot be reached fails the sign-in with a page rather than every login with an error."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = User  # the rest of the settings are read in authenticate(); see the class docstring

    def authenticate(self, request, **kwargs):
        if request is None or request.path != reverse("console:oidc-callback") or "code" not in request.GET:
            return None
        try:
            OIDCAuthenticationBackend.__init__(self)
            return super().authenticate(request, **kwargs)
        except SuspiciousOperation as exc:
            if not getattr(request, "dam_sso_refusal", None):
                request.dam_sso_refusal = {
                    "JWT Nonce verification failed.": "The ID token was issued for another sign-in (its nonce does "
                                                      "not match this one): it may have been replayed.",
                }.get(str(exc), f"The ID token was refused: {exc}")
        except requests.HTTPError as exc:
            answer = exc.response.text[:300] if exc.response is not None else ""
            request.dam_sso_refusal = (
                "The identity provider would not exchange the sign-in code for tokens: the code has expired or was "
                f"already used (codes work once, within minutes). Start again. Its answer: {answer}")
        except (requests.RequestException, ValueError, ImproperlyConfigured) as exc:
            request.dam_sso_refusal = f"The identity provider could not be reached or answered nonsense: {exc}"
        return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)  # the signature against the provider's JWKS, the nonce
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            _refuse(self.request, f"The ID token is for another application (audience {', '.join(audiences) or 'none'}"
                                  f"), not for DAM ({self.OIDC_RP_CLIENT_ID}).")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            _refuse(self.request, "The ID token names several audiences but was not issued to DAM (azp).")
        issuer = settings.DAM_OIDC_ISSUER.rstrip("/") or discovery().get("issuer", "")
        if issuer and payload.get("iss", "").rstrip("/") != issuer:
            _refuse(self.request, f"The ID token comes from another issuer ({payload.get('iss')}), not {issuer}.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims (some providers put the groups only there) with the userinfo endpoint's over them."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            _refuse(self.request, "The userinfo answer is about another subject than the ID token.")
        return {**payload, **userinfo}

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        self.request.dam_sso_username = username = str(claims.get(settings.DAM_OIDC_USERNAME_CLAIM) or "").strip()
        if not username or len(username) > 150:
            _refuse(self.request, f"The identity provider sent no usable {settings.DAM_OIDC_USERNAME_CLAIM!r} claim.")
        role = role_for(claims)
        if role is None:
            _refuse(self.request, f"{username} is in no group that DAM maps to a role (claim "
                                  f"{settings.DAM_OIDC_ROLE_CLAIM!r}: {claims.get(settings.DAM_OIDC_ROLE_CLAIM)!r}). "
                                  "Ask your administrator to add you to DAM's staff or viewer group.")
        with transaction.atomic():
            user = User.objects.select_for_update().filter(username=username).first()
            if user is not None and not user.groups.filter(name=SSO_GROUP).exists():
                _refuse(self.request, f"A local DAM account named {username} exists; it signs in with its password, "
                                      "never through single sign-on.")
            if user is None:
                user = User(username=username)
                user.set_unusable_password()
                log.info("single sign-on created the user %s (%s)", username, role)
            if not user.is_active:
                _refuse(self.request, f"The DAM account {username} is disabled.")
            user.email = str(claims.get("email") or "")[:254]
            user.first_name = str(claims.get("given_name") or "")[:150]
            user.last_name = str(claims.get("family_name") or "")[:150]
            user.is_staff = True
            user.save()
            # The provider decides the role at every sign-in: a move between its groups moves the DAM role too.
            user.groups.remove(*Group.objects.filter(name__in=[HARDWARE_STAFF, VIEWER]).exclude(name=role))
            user.groups.add(Group.objects.get(name=role), Group.objects.get_or_create(name=SSO_GROUP)[0])
        return user


def sign_in_failed(request, reason: str, status: int = 400):
    """The page a refused sign-in ends on; the refusal goes to the log and the staff action log."""
    username = getattr(request, "dam_sso_username", "") or ""
    address = client_address(request)
    log.warning("single sign-on refused for %r from %s: %s", username or "(unknown)", address, reason)
    try:
        StaffAction.objects.create(
            actor=username[:150] or "(unknown)", at=timezone.now(), address=address, via="sso", method=request.method,
            path=request.path[:2000], target=REFUSED, status_code=status,
            body=json.dumps({"reason": reason, "error": request.GET.get("error", "")}))
    except DatabaseError as exc:
        log.warning("refused sign-in not logged: %s", exc)
    from django.contrib import admin

    return render(request, "console/sso_failed.html", {
        **admin.site.each_context(request), "title": "Single sign-on did not work", "reason": reason,
        "provider": settings.DAM_OIDC_PROVIDER_NAME}, status=status)


class SsoStartView(OIDCAuthenticationRequestView):
    """/admin/oidc/start/: remembers state, nonce and the PKCE verifier in the session and sends the browser to the
    provider."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)  # the endpoints are read in get()

    def get(self, request):
        if not settings.DAM_OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
            self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        except (requests.RequestException, ValueError, ImproperlyConfigured) as exc:
            return sign_in_failed(request, f"The identity provider could not be reached: {exc}", status=502)
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """/admin/oidc/callback/: where the provider sends the browser back with a code (or an error)."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not settings.DAM_OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        states = request.session.get("oidc_states") or {}
        if request.GET.get("error"):
            request.dam_sso_refusal = (f"The identity provider refused the sign-in: "
                                       f"{request.GET.get('error_description') or request.GET['error']}")
        elif not request.GET.get("code") or not request.GET.get("state"):
            request.dam_sso_refusal = "The identity provider's answer has no code or no state."
        elif request.GET["state"] not in states:
            request.dam_sso_refusal = ("This sign-in was not started by this browser, or was already used (unknown "
                                       "state). Start again from the login page.")
            return self.login_failure()
        return super().get(request)

    def login_success(self):
        self.request.session["dam_signed_in_with"] = "sso"
        return super().login_success()

    def login_failure(self):
        return sign_in_failed(self.request, getattr(self.request, "dam_sso_refusal", None)
                              or "The sign-in did not complete.")
