"""A technician's day in the console, in a real browser: log in, filter the asset list, isolate a machine with a
reason, watch the dashboard update itself, read an inspection that failed. Screenshots of each step are saved
under the test's tmp dir (and, with DAM_SCREENSHOTS_DIR=docs, the README's two pictures)."""
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from assets.models import Asset, AssetTransition
import lifecycle
from tests.browser.conftest import PASSWORD

def wait(driver, seconds=10):
    return WebDriverWait(driver, seconds)


def log_in(driver, live_server, user):
    driver.get(f"{live_server.url}{reverse('admin:login')}")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".console-nav")))


def test_technician_filters_the_list_and_isolates_a_machine_with_a_reason(browser, live_server, fleet, technician,
                                                                           screenshots):
    log_in(browser, live_server, technician)

    # The asset list, filtered to what is out of service: badges say each machine's state.
    browser.get(f"{live_server.url}{reverse('admin:assets_asset_changelist')}")
    browser.find_element(By.LINK_TEXT, "In repair").click()
    wait(browser).until(ec.url_contains("state__exact=in_repair"))
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#result_list")))
    badges = browser.find_elements(By.CSS_SELECTOR, "#result_list .badge.state-in_repair")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert rows and len(badges) == len(rows) == Asset.objects.filter(state="in_repair").count()
    screenshots(browser, "01-asset-list-in-repair")

    # Search by hostname, open the machine, isolate it with a reason.
    target = fleet["active"]
    browser.get(f"{live_server.url}{reverse('admin:assets_asset_changelist')}")
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys(target.hostname)
    search.submit()
    wait(browser).until(ec.url_contains("q="))
    wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, target.hostname))).click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "asset-summary")))
    buttons = [a.get_attribute("textContent").strip() for a in browser.find_elements(By.CSS_SELECTOR, "a.fsm-transition")]
    assert buttons == ["Isolate…"]  # only what an active machine allows
    browser.find_element(By.CSS_SELECTOR, "a.transition-isolate").click()
    wait(browser).until(ec.presence_of_element_located((By.NAME, "reason"))).send_keys("fans screaming in rack R01, pulling it before it cooks")
    screenshots(browser, "02-isolate-reason")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit].default").click()

    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    assert "isolate done" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    row = AssetTransition.objects.filter(asset=target, transition="isolate").latest("id")
    assert (row.actor, row.reason) == ("kim", "fans screaming in rack R01, pulling it before it cooks")
    first_event = browser.find_element(By.CSS_SELECTOR, "#timeline-list li")
    assert "isolate: active → isolated" in first_event.text and "fans screaming" in first_event.text
    screenshots(browser, "03-asset-page-after-isolate", full_height=True)

    # The ticket queue: take the overdue ticket.
    browser.set_window_size(1440, 1000)
    browser.get(f"{live_server.url}{reverse('admin:repairs_repairticket_changelist')}?queue=overdue")
    [overdue] = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert "overdue" in overdue.text
    overdue.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("assign_to_me")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert "Assigned to you" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    browser.get(f"{live_server.url}{reverse('admin:repairs_repairticket_changelist')}?queue=mine")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 1
    screenshots(browser, "04-my-tickets")


def test_dashboard_refreshes_itself_and_an_inspection_shows_what_failed(browser, live_server, fleet, technician,
                                                                        screenshots):
    log_in(browser, live_server, technician)

    browser.get(f"{live_server.url}{reverse('console:dashboard')}")
    wait(browser).until(lambda d: d.execute_script("return document.body.dataset.dashboardReady === '1'"))
    drawn = browser.execute_script(
        "return [...document.querySelectorAll('canvas')].filter(c => window.Chart.getChart(c)).length")
    assert drawn == 6
    out = browser.find_element(By.CSS_SELECTOR, "[data-live=out_of_service]")
    before = int(out.text)
    browser.execute_script("window.sameDocument = true")
    screenshots(browser, "05-dashboard", full_height=True, publish_as="dashboard.png")

    # Somebody isolates a machine elsewhere: the count moves without a reload.
    asset = Asset.objects.filter(state="active").order_by("hostname").last()
    lifecycle.isolate(asset_id=asset.id, actor="smartd", reason="critical disk fault")
    wait(browser, 15).until(lambda d: int(d.find_element(By.CSS_SELECTOR, "[data-live=out_of_service]").text) == before + 1)
    assert browser.execute_script("return window.sameDocument") is True

    # The failed inspection: the verdict in words, the failing check marked on its chart.
    inspection = fleet["failed_inspection"]
    browser.set_window_size(1440, 1000)
    browser.get(f"{live_server.url}{reverse('admin:inspection_inspection_change', args=[inspection.pk])}")
    banner = browser.find_element(By.ID, "verdict")
    assert "FAILED" in banner.text.upper() and "memory" in banner.text
    failing = browser.find_elements(By.CSS_SELECTOR, ".bullet.fail")
    assert [f.get_attribute("data-check") for f in failing] == ["inventory.memory_total_bytes"]
    # The measured curves, drawn against their band, the points out of it marked.
    wait(browser).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('canvas[data-curve]')].every(c => window.Chart && Chart.getChart(c))"))
    curves = browser.execute_script("return JSON.parse(document.getElementById('inspection-curves-data').textContent)")
    memory = next(c for c in curves if c["name"] == "memory.copy_mb_per_s")
    assert [p["label"] for p in memory["points"] if p["fail"]] == ["16MiB", "128MiB"]
    assert all(c["passed"] != any(p["fail"] for p in c["points"]) for c in curves)
    browser.set_window_size(1440, 1240)  # the verdict, the curves and the checks: the README's picture
    screenshots(browser, "06-inspection-failed", publish_as="inspection.png")


def test_a_viewer_sees_the_machine_but_no_button_to_move_it(browser, live_server, fleet, viewer, screenshots):
    log_in(browser, live_server, viewer)
    asset = fleet["active"]

    browser.get(f"{live_server.url}{reverse('admin:assets_asset_change', args=[asset.pk])}")

    assert browser.find_element(By.CSS_SELECTOR, "#asset-summary .hostname").text == asset.hostname
    assert browser.find_elements(By.CSS_SELECTOR, "a.fsm-transition") == []
    browser.get(f"{live_server.url}{reverse('admin:assets_asset_changelist')}")
    assert browser.find_elements(By.NAME, "action") == []  # no bulk actions for a viewer
