"""Browser fixtures: Debian's headless Chromium driven through its chromedriver by Selenium, against DAM served by
pytest-django's live_server. Nothing downloads a browser: without /usr/bin/chromium the tests are skipped (and
fail under CI=true, where `make test` installs it)."""
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from console.groups import HARDWARE_STAFF, VIEWER
from tests.browser.fleet import build_fleet

CHROMIUM = Path(os.environ.get("DAM_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("DAM_CHROMEDRIVER", "/usr/bin/chromedriver"))
PASSWORD = "correct horse battery staple"
# Selenium Manager must never fetch a driver or a browser: we give it both.
os.environ.setdefault("SE_OFFLINE", "true")


def _chromium_missing() -> str:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)" if missing else ""


@pytest.fixture(scope="session")
def chromium_available():
    why = _chromium_missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need Chromium under CI: {why}")
        pytest.skip(f"browser tests skipped: {why}")


@pytest.fixture
def browser(chromium_available, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
                 "--window-size=1440,1000", f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    # The browser's console log: where Chromium reports every Content-Security-Policy violation.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
        violations = csp_violations(driver)
    finally:
        driver.quit()
    if violations:
        pytest.fail("Content-Security-Policy violations in the console's pages:\n" + "\n".join(violations))


def csp_violations(driver) -> list[str]:
    """The CSP violations Chromium logged since the last call (the log is drained by reading it)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Content-Security-Policy" in entry["message"]]


@pytest.fixture
def screenshots(tmp_path):
    """Saves a screenshot under the test's tmp dir; with DAM_SCREENSHOTS_DIR set (e.g. docs/), the README's
    pictures are copied there too."""
    folder = tmp_path / "screenshots"
    folder.mkdir()

    def save(driver, name: str, *, full_height: bool = False, publish_as: str | None = None) -> Path:
        if full_height:
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1440, min(max(height, 900), 4000))
        path = folder / f"{name}.png"
        assert driver.save_screenshot(str(path)), f"no screenshot {name}"
        if publish_as and os.environ.get("DAM_SCREENSHOTS_DIR"):
            target = Path(os.environ["DAM_SCREENSHOTS_DIR"])
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / publish_as)
        return path

    save.folder = folder
    return save


@pytest.fixture
def fleet(transactional_db):
    cache.clear()  # the dashboard's window figures of an earlier test's fleet
    return build_fleet()


@pytest.fixture
def technician(transactional_db):
    user = User.objects.create_user("kim", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=HARDWARE_STAFF))
    return user


@pytest.fixture
def viewer(transactional_db):
    user = User.objects.create_user("vic", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=VIEWER))
    return user
