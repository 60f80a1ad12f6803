"""The console locked down like a tool that may power machines off: strict headers, HttpOnly SameSite cookies,
login lockout, a second factor for staff who may act, and the tokens each user holds."""
import json
import re
from base64 import b32encode
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from csp.middleware import CSPMiddleware
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db.models import F
from django.http import HttpResponse
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_otp.oath import totp
from knox.models import AuthToken
from rest_framework.test import APIClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from console import oidc
from console.groups import HARDWARE_STAFF, VIEWER
from console.lockout import REFUSED
from reliability.models import StaffAction

LOGIN = reverse("admin:login")
PASSWORD = "correct horse battery staple"


def user_in(group: str, name: str) -> User:
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def policy_of(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# --- Headers and cookies -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_console_pages_send_a_strict_policy_and_refuse_framing(client):
    user_in(HARDWARE_STAFF, "kim")
    client.force_login(User.objects.get(username="kim"))
    for url in (reverse("admin:index"), reverse("console:dashboard"), reverse("admin:assets_asset_changelist")):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = policy_of(response)
        assert policy["script-src"] == ["'self'"], url  # no inline script, no eval, no other host
        assert "'unsafe-inline'" not in policy["style-src"]
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_no_console_template_has_an_inline_script_or_style_attribute(client):
    user_in(HARDWARE_STAFF, "kim")
    client.force_login(User.objects.get(username="kim"))
    html = client.get(reverse("console:dashboard")).content.decode()
    assert "<script>" not in html and " style=" not in html and " onclick=" not in html


def test_an_inline_style_dam_writes_carries_the_nonce_the_header_names(rf):
    """For a <style> DAM renders itself (`<style nonce="{{ request.csp_nonce }}">`); a page without one names none."""
    def page(request, uses_nonce):
        html = '<style nonce="{{ request.csp_nonce }}">p {}</style>' if uses_nonce else "<p>plain</p>"
        return HttpResponse(Template(html).render(Context({"request": request})))

    response = CSPMiddleware(lambda request: page(request, True))(rf.get("/admin/"))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode())[1]
    assert f"'nonce-{nonce}'" in policy_of(response)["style-src"]
    plain = CSPMiddleware(lambda request: page(request, False))(rf.get("/admin/"))
    assert not any(v.startswith("'nonce-") for v in policy_of(plain)["style-src"])


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_httponly_and_samesite(client):
    user_in(HARDWARE_STAFF, "kim")
    client.get(LOGIN)
    response = client.post(LOGIN, {"username": "kim", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    session, csrf = response.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


# --- Login lockout -------------------------------------------------------------------------------------------------

def log_in(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def refusals():
    return list(StaffAction.objects.filter(target=REFUSED).order_by("id"))


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_user_out_with_a_page_saying_until_when(client, settings):
    assert settings.AXES_FAILURE_LIMIT == 5  # DAM_LOGIN_FAILURES' default
    user_in(HARDWARE_STAFF, "kim")
    for _ in range(4):
        assert log_in(client, "kim", "wrong").status_code == 200  # the form again, "please enter a correct…"

    fifth = log_in(client, "kim", "wrong")
    before = timezone.now()
    refused = log_in(client, "kim", PASSWORD)  # the right password, too late

    for response in (fifth, refused):
        assert response.status_code == 429
        assert b"Logins are refused until" in response.content
        assert "console/locked_out.html" in [t.name for t in response.templates]
    until = refused.context["until"]
    assert timedelta(minutes=14) < until - before <= timedelta(minutes=15)
    assert f"{until:%Y-%m-%d %H:%M} UTC".encode() in refused.content
    assert "_auth_user_id" not in client.session
    # The staff action log has each refusal, with who, from where and until when.
    rows = refusals()
    assert [(r.actor, r.address, r.status_code, r.via) for r in rows] == [("kim", "10.0.0.1", 429, "login")] * 2
    assert json.loads(rows[-1].body)["locked_until"] == until.isoformat()
    assert "correct horse" not in rows[-1].body


@pytest.mark.django_db
def test_attempts_while_locked_do_not_extend_the_lock_and_it_lifts_after_the_cool_off(client):
    user_in(HARDWARE_STAFF, "kim")
    for _ in range(5):
        log_in(client, "kim", "wrong")
    until = log_in(client, "kim", PASSWORD).context["until"]
    assert log_in(client, "kim", "wrong").context["until"] == until

    # The cool-off passes (the failures are 16 minutes old): the right password works again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    response = log_in(client, "kim", PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(User.objects.get(username="kim").pk)


@pytest.mark.django_db
def test_failures_from_one_address_lock_every_username_from_it_but_not_other_addresses(client, settings):
    settings.AXES_FAILURE_LIMIT = 3  # DAM_LOGIN_FAILURES=3
    user_in(HARDWARE_STAFF, "kim")
    for name in ("admin", "root", "ops"):  # someone guessing names
        log_in(client, name, "guess", address="203.0.113.9")

    assert log_in(client, "kim", PASSWORD, address="203.0.113.9").status_code == 429
    assert log_in(client, "kim", PASSWORD, address="10.0.0.1").status_code == 302  # kim at her own desk
    assert [r.address for r in refusals()] == ["203.0.113.9", "203.0.113.9"]


@pytest.mark.django_db
def test_a_locked_out_users_api_token_still_works(client, api):
    user_in(HARDWARE_STAFF, "kim")
    token_client = api("staff", name="kim")
    for _ in range(6):
        log_in(client, "kim", "wrong")
    assert log_in(client, "kim", PASSWORD).status_code == 429

    assert token_client.get("/api/v1/assets/").status_code == 200
    assert token_client.get("/api/v1/assets/", REMOTE_ADDR="10.0.0.1").status_code == 200


# --- Second factor -------------------------------------------------------------------------------------------------

SECOND_FACTOR = reverse("console:second-factor")


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the person's authenticator app shows now (RFC 6238, computed from the device's key)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead):0{device.digits}d}"


@pytest.fixture
def require_2fa(settings):
    settings.DAM_REQUIRE_2FA = True


@pytest.mark.django_db
def test_hardware_staff_enrol_at_first_login_with_a_real_totp_code(client, require_2fa):
    kim = user_in(HARDWARE_STAFF, "kim")
    assert log_in(client, "kim", PASSWORD).status_code == 302

    # The password alone reaches nothing but the second-factor page.
    response = client.get(reverse("admin:assets_asset_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)
    page = client.get(response["Location"])
    device = TOTPDevice.objects.get(user=kim)
    assert not device.confirmed
    uri = page.context["otpauth_uri"]
    assert uri.startswith("otpauth://totp/DAM%3Akim?secret=") and b32encode(device.bin_key).decode() in uri
    assert b"<svg" in page.content and b"otp-qr" in page.content  # the QR code, drawn by DAM itself

    wrong = client.post(SECOND_FACTOR, {"otp_token": "000000" if code_for(device) != "000000" else "111111",
                                        "next": "/admin/assets/asset/"})
    assert wrong.status_code == 200 and b"That code is wrong" in wrong.content
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down guessing after a wrong code; the person waits a moment

    right = client.post(SECOND_FACTOR, {"otp_token": code_for(device), "next": "/admin/assets/asset/"})
    assert right.status_code == 302 and right["Location"] == "/admin/assets/asset/"
    assert TOTPDevice.objects.get(user=kim).confirmed
    assert client.get(reverse("admin:assets_asset_changelist")).status_code == 200


@pytest.mark.django_db
def test_an_enrolled_login_asks_for_the_code_and_refuses_a_replayed_one(client, require_2fa):
    kim = user_in(HARDWARE_STAFF, "kim")
    device = TOTPDevice.objects.create(user=kim, name="phone", confirmed=True)
    log_in(client, "kim", PASSWORD)
    page = client.get(SECOND_FACTOR)
    assert b"Enter the code your authenticator app shows" in page.content and b"otp-qr" not in page.content
    code = code_for(device)
    assert client.post(SECOND_FACTOR, {"otp_token": code}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200

    # Someone who saw that code and knows the password: the same code is not taken twice.
    other = Client()
    log_in(other, "kim", PASSWORD)
    assert other.post(SECOND_FACTOR, {"otp_token": code}).status_code == 200
    assert other.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_the_api_refuses_a_session_that_owes_its_second_factor_but_not_a_token(client, api, require_2fa):
    user_in(HARDWARE_STAFF, "kim")
    log_in(client, "kim", PASSWORD)
    response = client.get("/api/v1/assets/")
    assert response.status_code == 403 and "second factor" in response.json()["detail"]
    assert api("staff", name="detector-like-script").get("/api/v1/assets/").status_code == 200


@pytest.mark.django_db
def test_viewers_and_logins_without_the_setting_need_no_second_factor(client, settings):
    user_in(VIEWER, "vic")
    user_in(HARDWARE_STAFF, "kim")
    settings.DAM_REQUIRE_2FA = True
    log_in(client, "vic", PASSWORD)
    assert client.get(reverse("admin:assets_asset_changelist")).status_code == 200  # only looks

    settings.DAM_REQUIRE_2FA = False
    other = Client()
    log_in(other, "kim", PASSWORD)
    assert other.get(reverse("admin:assets_asset_changelist")).status_code == 200


# --- API tokens ----------------------------------------------------------------------------------------------------

TOKENS = reverse("console:tokens")


def issue(name, role, **options) -> str:
    out = StringIO()
    call_command("issue_token", name, role=role, stdout=out, **options)
    return out.getvalue().strip()


@pytest.mark.django_db
@pytest.mark.parametrize("role, lives", [("agent", True), ("detector", True), ("staff", False), ("viewer", False)])
def test_machine_tokens_get_a_finite_life_by_default(settings, role, lives):
    settings.DAM_MACHINE_TOKEN_EXPIRES_IN = "90d"  # production's default
    issue(f"{role}-1", role)
    expiry = AuthToken.objects.get(user__username=f"{role}-1").expiry
    if lives:
        assert timedelta(days=89, hours=23) < expiry - timezone.now() <= timedelta(days=90)
    else:
        assert expiry is None


@pytest.mark.django_db
def test_an_explicit_expiry_or_never_wins_over_the_default(settings):
    settings.DAM_MACHINE_TOKEN_EXPIRES_IN = "90d"
    issue("host-1", "agent", expires_in="12h")
    issue("smartd", "detector", expires_in="never")
    assert timedelta(hours=11) < AuthToken.objects.get(user__username="host-1").expiry - timezone.now()
    assert AuthToken.objects.get(user__username="smartd").expiry is None


@pytest.mark.django_db
def test_without_the_setting_machine_tokens_live_until_revoked(settings):
    settings.DAM_MACHINE_TOKEN_EXPIRES_IN = ""  # the embedded default
    issue("host-1", "agent")
    assert AuthToken.objects.get(user__username="host-1").expiry is None


@pytest.mark.django_db
def test_a_superuser_lists_every_users_tokens_and_revokes_one(client):
    root = User.objects.create_superuser("root", password=PASSWORD)
    smartd_token = issue("smartd", "detector", expires_in="30d")
    issue("host-001", "agent")
    client.force_login(root)

    page = client.get(TOKENS)
    assert page.status_code == 200
    owners = {o["user"].username: o for o in page.context["owners"]}
    assert set(owners) == {"smartd", "host-001"} and owners["smartd"]["role"] == "detector"
    assert smartd_token[:8].encode() in page.content  # the beginning, to tell tokens apart; never the whole
    assert smartd_token.encode() not in page.content

    detector = APIClient()
    detector.credentials(HTTP_AUTHORIZATION=f"Token {smartd_token}")
    assert detector.get("/api/v1/assets/").status_code == 200
    digest = AuthToken.objects.get(user__username="smartd").digest
    response = client.post(reverse("console:token-revoke"), {"digest": digest})
    assert response.status_code == 302
    assert detector.get("/api/v1/assets/").status_code == 401
    assert list(AuthToken.objects.values_list("user__username", flat=True)) == ["host-001"]
    logged = StaffAction.objects.get(path=reverse("console:token-revoke"))
    assert (logged.actor, logged.status_code) == ("root", 302)
    assert digest in logged.body  # which token: its digest (a hash; it cannot be used as the token)


@pytest.mark.django_db
def test_a_technician_sees_and_revokes_only_her_own_tokens(client):
    kim = user_in(HARDWARE_STAFF, "kim")
    AuthToken.objects.create(user=kim)
    issue("smartd", "detector")
    client.force_login(kim)

    page = client.get(TOKENS)
    assert [o["user"].username for o in page.context["owners"]] == ["kim"]
    other = AuthToken.objects.get(user__username="smartd").digest
    response = client.post(reverse("console:token-revoke"), {"digest": other}, follow=True)
    assert b"No such token" in response.content
    assert AuthToken.objects.filter(digest=other).exists()


# --- Single sign-on, without the browser (the browser tests run the whole flow against a real provider) ----------

@pytest.mark.django_db
def test_without_a_client_id_there_is_no_sign_in_button_and_no_sso_endpoint(client, settings):
    assert settings.DAM_OIDC_ENABLED is False  # the default: DAM_OIDC_CLIENT_ID unset
    assert b"sso-sign-in" not in client.get(LOGIN).content
    assert client.get(reverse("console:oidc-start")).status_code == 404
    assert client.get(reverse("console:oidc-callback"), {"code": "x", "state": "y"}).status_code == 404


@pytest.mark.django_db
def test_the_button_names_the_provider_and_keeps_where_the_person_was_going(client, settings):
    settings.DAM_OIDC_ENABLED = True
    settings.DAM_OIDC_PROVIDER_NAME = "Okta"
    page = client.get(LOGIN, {"next": "/admin/assets/asset/"}).content.decode()
    assert "Sign in with Okta" in page
    assert 'href="/admin/oidc/start/?next=%2Fadmin%2Fassets%2Fasset%2F"' in page
    assert 'name="password"' in page  # the break-glass login stays


@pytest.mark.parametrize("claim, role", [
    (["everyone", "dam-staff"], HARDWARE_STAFF), ("dam-viewer", VIEWER), (["dam-viewer", "dam-staff"], HARDWARE_STAFF),
    (["everyone"], None), (None, None),
])
def test_the_role_comes_from_the_configured_claim(settings, claim, role):
    settings.DAM_OIDC_ROLE_CLAIM = "groups"
    settings.DAM_OIDC_STAFF_VALUES, settings.DAM_OIDC_VIEWER_VALUES = ["dam-staff"], ["dam-viewer"]
    settings.DAM_OIDC_DEFAULT_ROLE = ""
    assert oidc.role_for({"groups": claim}) == role


def test_a_default_role_lets_everyone_else_in_as_a_viewer(settings):
    settings.DAM_OIDC_DEFAULT_ROLE = "viewer"
    assert oidc.role_for({"email": "someone@example.com"}) == VIEWER


@pytest.mark.django_db
def test_a_provider_that_cannot_be_reached_gives_a_page_not_an_error(client, settings):
    settings.DAM_OIDC_ENABLED = True
    settings.DAM_OIDC_ISSUER = "http://127.0.0.1:9/nothing-listens-here"
    oidc._discovery.clear()
    response = client.get(reverse("console:oidc-start"))
    assert response.status_code == 502 and b"could not be reached" in response.content
    assert StaffAction.objects.get(target=oidc.REFUSED).status_code == 502


@pytest.mark.django_db
def test_a_single_sign_on_may_be_trusted_for_the_second_factor(client, settings):
    settings.DAM_REQUIRE_2FA = True
    kim = user_in(HARDWARE_STAFF, "kim")
    client.force_login(kim)
    session = client.session
    session["dam_signed_in_with"] = "sso"
    session.save()
    assert client.get(reverse("admin:index")).status_code == 302  # DAM's own second factor still asked
    settings.DAM_2FA_TRUST_SSO = True
    assert client.get(reverse("admin:index")).status_code == 200
