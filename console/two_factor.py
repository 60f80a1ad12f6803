"""A second factor for console logins that may act (django-otp, TOTP): hardware staff and superusers must enter a
code from their authenticator app after the password when DAM_REQUIRE_2FA=1; anyone may enrol before that.

The password login stays Django's; this middleware holds a login that must still show its second factor at the
one page that asks for it (/admin/2fa/), where a user without a confirmed device enrols first. API tokens never
pass here: a token request has no session user.
"""
from __future__ import annotations

import logging
from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.groups import STAFF_ACTS

log = logging.getLogger(__name__)

DEVICE_NAME = "authenticator app"
# What a login that still owes its second factor may reach: the page that asks for it, logging out, the assets.
OPEN_PATHS = ("/admin/2fa/", "/admin/logout/", "/admin/login/", "/admin/jsi18n/", "/static/", "/admin/oidc/")


def may_act(user) -> bool:
    """A console login whose clicks change the fleet: superusers and whoever holds one of hardware staff's acting
    permissions (console/groups.py). A viewer only looks."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or any(user.has_perm(f"{app}.{codename}")
                                    for app, codenames in STAFF_ACTS.items() for codename in codenames)


def owes_second_factor(request) -> bool:
    user = getattr(request, "user", None)
    if settings.DAM_2FA_TRUST_SSO and request.session.get("dam_signed_in_with") == "sso":
        return False  # the identity provider asked for its own second factor (the operator says so)
    return bool(settings.DAM_REQUIRE_2FA and user is not None and user.is_authenticated
                and not user.is_verified() and may_act(user))


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware: sends a login that owes its second factor to /admin/2fa/, and refuses the
    API to its session (403 JSON) until it has shown it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(("/admin/", "/api/")) and not request.path.startswith(OPEN_PATHS) \
                and owes_second_factor(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "This console login must confirm its second factor at /admin/2fa/ "
                                               "first; scripts use an API token."}, status=403)
            return redirect(f"{reverse('console:second-factor')}?next={request.get_full_path()}")
        return self.get_response(request)


class CodeForm(forms.Form):
    otp_token = forms.RegexField(regex=r"^\s*\d{6,8}\s*$", label="Code from your authenticator app", max_length=12,
                                 error_messages={"invalid": "Enter the 6-digit code your app shows."},
                                 widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                               "autofocus": True}))


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        return reverse("admin:index")
    return target


def second_factor_page(request):
    """Enter a code (a confirmed device), or enrol: show the otpauth URI and its QR code, confirm with a first code."""
    user = request.user
    confirmed = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    device = confirmed or TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["otp_token"].strip()):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                messages.success(request, "Second factor set up: this login asks for a code from now on.")
            otp_login(request, device)
            log.info("second factor confirmed for %s", user.get_username())
            return redirect(_next(request))
        log.warning("wrong second-factor code for %s", user.get_username())
        form.add_error("otp_token", "That code is wrong or too old (or too many tries: wait a little)."
                       if allowed else "Too many wrong codes: wait a minute and try again.")
    context = {
        **admin.site.each_context(request),
        "title": "Second factor" if device.confirmed else "Set up a second factor",
        "form": form, "device": device, "enrolling": not device.confirmed, "next": _next(request),
        "required": settings.DAM_REQUIRE_2FA and may_act(user),
    }
    if not device.confirmed:
        context.update(otpauth_uri=device.config_url, secret=b32encode(device.bin_key).decode(),
                       qr_svg=mark_safe(segno.make(device.config_url, error="m").svg_inline(
                           scale=4, dark="#111", light="#fff", title="otpauth QR code")))
    return TemplateResponse(request, "console/second_factor.html", context)
