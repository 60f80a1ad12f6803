"""Locked down, in a real browser under the Content-Security-Policy: the page a locked-out technician sees, and
enrolling a second factor from the QR page with the code an authenticator app would compute from it."""
from base64 import b32decode

from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.conftest import PASSWORD
from tests.browser.test_console import wait


def submit_login(driver, live_server, username, password):
    driver.get(f"{live_server.url}{reverse('admin:login')}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait(driver).until(ec.staleness_of(page))  # the answer has replaced the form before the next step


def test_a_locked_out_technician_is_told_until_when(browser, live_server, technician, screenshots):
    for _ in range(5):
        submit_login(browser, live_server, "kim", "not my password")
    submit_login(browser, live_server, "kim", PASSWORD)

    wait(browser).until(ec.presence_of_element_located((By.ID, "locked-until")))
    assert "Logins are refused until" in browser.find_element(By.CSS_SELECTOR, ".errornote").text
    assert browser.find_element(By.ID, "locked-until").text.endswith("UTC")
    assert browser.find_elements(By.CSS_SELECTOR, ".console-nav") == []  # not logged in
    screenshots(browser, "07-locked-out", publish_as="locked-out.png")


def test_a_technician_enrols_an_authenticator_app_and_gets_in(browser, live_server, fleet, technician, settings,
                                                              screenshots):
    settings.DAM_REQUIRE_2FA = True
    submit_login(browser, live_server, "kim", PASSWORD)

    # Straight to enrolment: the QR code and the key it encodes, drawn by DAM under its own policy.
    wait(browser).until(ec.presence_of_element_located((By.ID, "otp-qr")))
    assert browser.find_element(By.CSS_SELECTOR, "#otp-qr svg").size["width"] > 100
    secret = browser.find_element(By.ID, "otp-secret").text
    uri = browser.find_element(By.ID, "otp-uri").text
    assert uri.startswith("otpauth://totp/DAM%3Akim?") and f"secret={secret}" in uri
    screenshots(browser, "08-second-factor-enrol", publish_as="second-factor.png")
    # Trying the console before the code: back to this page.
    browser.get(f"{live_server.url}{reverse('console:dashboard')}")
    assert "/admin/2fa/" in browser.current_url

    # What an authenticator app shows for that key now.
    code = f"{totp(b32decode(secret)):06d}"
    browser.find_element(By.NAME, "otp_token").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "#otp-form input[type=submit]").click()

    wait(browser).until(lambda d: d.execute_script("return document.body.dataset.dashboardReady === '1'"))
    assert TOTPDevice.objects.get(user=technician).confirmed
