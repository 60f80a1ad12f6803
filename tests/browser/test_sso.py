"""Single sign-on end to end: a real OpenID Connect provider (django-oidc-provider in tests/oidc_site, its own process
on a free port) and DAM's console, driven through headless Chromium with the authorization-code flow — discovery,
PKCE, the provider's login page, the code exchanged server to server, an RS256 ID token checked against the JWKS.

Then the bad input: an ID token for another audience, one with another sign-in's nonce, an expired code, a forged
state, a provider user in no DAM group, and one whose name is a local account's. Each ends on a page that says why,
is logged, and creates no account."""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from console import oidc
from console.groups import HARDWARE_STAFF, VIEWER
from reliability.models import StaffAction
from tests.browser.test_console import wait

ROOT = Path(__file__).resolve().parents[2]
IDP_PASSWORD = "idp-password-for-tests"
CLIENT_SECRET = secrets.token_urlsafe(24)
IDP_USERS = [
    {"username": "ana", "email": "ana@example.com", "first_name": "Ana", "last_name": "Ortiz", "groups": ["dam-staff"]},
    {"username": "vic-sso", "email": "vic@example.com", "groups": ["dam-viewer", "everyone"]},
    {"username": "nobody", "email": "nobody@example.com", "groups": ["everyone"]},
    {"username": "other-aud", "groups": ["dam-staff"]},
    {"username": "wrong-nonce", "groups": ["dam-staff"]},
    {"username": "late-lee", "groups": ["dam-staff"]},
    {"username": "kim", "email": "kim@example.com", "groups": ["dam-staff"]},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def identity_provider(live_server, tmp_path_factory, chromium_available):
    """The test identity provider in its own process; DAM (the live server) is its one client."""
    folder = tmp_path_factory.mktemp("idp")
    port = _free_port()
    config = folder / "config.json"
    config.write_text(json.dumps({
        "database": str(folder / "idp.sqlite3"),
        "clients": [{"client_id": "dam", "client_secret": CLIENT_SECRET,
                     "redirect_uris": [f"{live_server.url}{reverse('console:oidc-callback')}"]}],
        "users": [{**user, "password": IDP_PASSWORD} for user in IDP_USERS],
    }))
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    log_path = folder / "idp.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "tests.oidc_site.serve", str(config), str(port)],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}/openid"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the identity provider did not start:\n{log_path.read_text()}")
        time.sleep(0.3)
    try:
        yield {"issuer": issuer, "url": f"http://127.0.0.1:{port}", "log": log_path}
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def sso(identity_provider, settings, transactional_db):
    """DAM configured as an operator would: issuer, client id and secret, the provider's name on the button."""
    settings.DAM_OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "dam"
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.DAM_OIDC_ISSUER = identity_provider["issuer"]
    settings.DAM_OIDC_PROVIDER_NAME = "Test IdP"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "console.oidc.SsoBackend"]
    oidc._discovery.clear()
    return identity_provider


def sign_in(browser, live_server, idp, username):
    browser.get(idp["url"] + "/accounts/login/")
    browser.delete_all_cookies()  # nobody is still signed in at the provider from before
    browser.get(f"{live_server.url}{reverse('admin:login')}")
    browser.delete_all_cookies()  # nor at DAM
    browser.get(f"{live_server.url}{reverse('admin:login')}")
    browser.find_element(By.ID, "sso-sign-in").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "idp-username"))).send_keys(username)
    assert browser.current_url.startswith(idp["url"] + "/accounts/login/")
    browser.find_element(By.ID, "idp-password").send_keys(IDP_PASSWORD)
    browser.find_element(By.ID, "idp-submit").click()


def refused(browser) -> str:
    return wait(browser, 20).until(ec.presence_of_element_located((By.ID, "sso-reason"))).text


def test_a_technician_signs_in_with_the_company_provider_and_gets_her_role(browser, live_server, sso, screenshots):
    browser.get(f"{live_server.url}{reverse('admin:login')}")
    button = browser.find_element(By.ID, "sso-sign-in")
    assert button.text == "Sign in with Test IdP"
    assert browser.find_element(By.NAME, "password")  # the local login stays, for the break-glass account
    screenshots(browser, "09-login-with-sso", publish_as="login-sso.png")

    sign_in(browser, live_server, sso, "ana")

    wait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".console-nav")))
    ana = User.objects.get(username="ana")
    assert set(ana.groups.values_list("name", flat=True)) == {HARDWARE_STAFF, oidc.SSO_GROUP}
    assert ana.is_staff and not ana.is_superuser and not ana.has_usable_password()
    assert (ana.email, ana.first_name, ana.last_name) == ("ana@example.com", "Ana", "Ortiz")
    # She may act: the asset list offers her the bulk actions.
    browser.get(f"{live_server.url}{reverse('admin:assets_asset_changelist')}")
    assert browser.find_elements(By.NAME, "action")

    # A second sign-in finds the same account.
    sign_in(browser, live_server, sso, "ana")
    wait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".console-nav")))
    assert User.objects.filter(username="ana").count() == 1


def test_a_provider_group_maps_to_the_viewer_role(browser, live_server, sso):
    sign_in(browser, live_server, sso, "vic-sso")
    wait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".console-nav")))
    assert set(User.objects.get(username="vic-sso").groups.values_list("name", flat=True)) == {VIEWER, oidc.SSO_GROUP}
    browser.get(f"{live_server.url}{reverse('admin:assets_asset_changelist')}")
    assert browser.find_elements(By.NAME, "action") == []


@pytest.mark.parametrize("username, says", [
    ("other-aud", "for another application (audience some-other-app), not for DAM (dam)"),
    ("wrong-nonce", "issued for another sign-in (its nonce does not match"),
    ("late-lee", "the code has expired or was already used"),
    ("nobody", "nobody is in no group that DAM maps to a role"),
])
def test_a_bad_sign_in_is_refused_with_a_page_logged_and_creates_no_account(browser, live_server, sso, username,
                                                                            says):
    sign_in(browser, live_server, sso, username)

    assert says in refused(browser)
    assert not User.objects.filter(username=username).exists()
    assert browser.find_elements(By.CSS_SELECTOR, ".console-nav") == []
    row = StaffAction.objects.get(target=oidc.REFUSED)
    assert row.via == "sso" and says in json.loads(row.body)["reason"]
    browser.get(f"{live_server.url}{reverse('admin:index')}")
    assert "/admin/login/" in browser.current_url  # not signed in


def test_a_forged_state_is_refused(browser, live_server, sso):
    browser.get(f"{live_server.url}{reverse('console:oidc-callback')}?code=stolen-code&state=forged-state")
    assert "not started by this browser" in refused(browser)
    assert StaffAction.objects.filter(target=oidc.REFUSED).count() == 1


def test_a_provider_user_named_like_a_local_account_does_not_get_it(browser, live_server, sso):
    local = User.objects.create_user("kim", password="local-password", is_staff=True, is_superuser=True)
    sign_in(browser, live_server, sso, "kim")
    assert "A local DAM account named kim exists" in refused(browser)
    local.refresh_from_db()
    assert not local.groups.exists() and local.has_usable_password()
