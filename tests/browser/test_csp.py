"""The console under its Content-Security-Policy: the check the browser fixture runs after every browser test
catches a violation (so a clean run means something), and the pages a technician walks through raise none."""
from django.urls import reverse
from selenium.webdriver.common.by import By

from tests.browser.conftest import csp_violations
from tests.browser.test_console import log_in


def test_the_violation_check_sees_an_inline_script_being_refused(browser, live_server, technician):
    log_in(browser, live_server, technician)
    assert csp_violations(browser) == []

    # An injected inline script, as an attacker's markup would be: the policy refuses it and Chromium says so.
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.body.append(s)")

    assert browser.execute_script("return window.injected === undefined") is True
    violations = csp_violations(browser)
    assert violations and "script-src" in violations[0]


def test_the_login_page_and_the_admin_lists_raise_no_violation(browser, live_server, fleet, technician):
    browser.get(f"{live_server.url}{reverse('admin:login')}")
    assert browser.find_element(By.NAME, "username")
    log_in(browser, live_server, technician)
    for name in ("admin:assets_asset_changelist", "admin:repairs_repairticket_changelist",
                 "admin:inspection_inspection_changelist", "admin:inspection_baselineversion_changelist",
                 "admin:assets_fault_changelist", "admin:index", "console:dashboard", "console:tokens",
                 "console:second-factor"):
        browser.get(f"{live_server.url}{reverse(name)}")
        assert csp_violations(browser) == [], name
