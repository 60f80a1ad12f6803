"""The console locked down like a tool that may power machines off: strict headers, HttpOnly SameSite cookies,
login lockout, a second factor for staff who may act, and the tokens each user holds."""
import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from console.groups import HARDWARE_STAFF, VIEWER

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
    client.login(username="kim", password=PASSWORD)
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
    client.login(username="kim", password=PASSWORD)
    html = client.get(reverse("console:dashboard")).content.decode()
    assert "<script>" not in html and " style=" not in html and " onclick=" not in html


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_httponly_and_samesite(client):
    user_in(HARDWARE_STAFF, "kim")
    client.get(LOGIN)
    response = client.post(LOGIN, {"username": "kim", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    session, csrf = response.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
