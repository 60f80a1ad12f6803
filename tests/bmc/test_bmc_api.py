"""The asset's BMC through the API: its fields (the password write-only, encrypted at rest), and out-of-band power
against a real Redfish service (sushy-emulator)."""
import logging

import pytest

from assets.models import Asset
from integrations.models import BmcCall
from reliability.models import StaffAction
from tests.bmc.conftest import PASSWORD, USERNAME


def patch(client, hostname, body):
    return client.patch(f"/api/v1/assets/{hostname}/", body, format="json")


def power(client, hostname, action, reason="testing"):
    return client.post(f"/api/v1/assets/{hostname}/power/", {"action": action, "reason": reason}, format="json")


@pytest.mark.django_db
def test_staff_set_the_bmc_and_the_password_is_never_answered(api, asset, bmc_url):
    staff = api("staff")
    response = patch(staff, asset.hostname, {"bmc_url": bmc_url + "/redfish/v1/", "bmc_system": asset.hostname,
                                             "bmc_username": USERNAME, "bmc_password": PASSWORD,
                                             "bmc_verify_tls": False})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["bmc_url"] == bmc_url  # the implied /redfish/v1 is dropped
    assert body["bmc_username"] == USERNAME and body["bmc_password_set"] is True and body["bmc_verify_tls"] is False
    assert "bmc_password" not in body and PASSWORD not in response.content.decode()
    assert PASSWORD not in staff.get(f"/api/v1/assets/{asset.hostname}/").content.decode()
    assert PASSWORD not in staff.get("/api/v1/assets/").content.decode()

    stored = Asset.objects.get(pk=asset.pk)
    assert PASSWORD not in stored.bmc_password_encrypted and stored.bmc_password_encrypted
    assert stored.bmc_password() == PASSWORD
    # The staff action log keeps what was sent, the password masked.
    logged = StaffAction.objects.filter(method="PATCH").get()
    assert PASSWORD not in logged.body and '"bmc_password": "***"' in logged.body

    # Other fields change without touching the password; an empty one clears it.
    assert patch(staff, asset.hostname, {"rack": "r7"}).json()["bmc_password_set"] is True
    assert patch(staff, asset.hostname, {"bmc_password": ""}).json()["bmc_password_set"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("url, says", [
    ("ftp://10.1.2.3", "http"), ("10.1.2.3", "http"), ("https://root:pw@10.1.2.3", "credentials"),
    ("https://10.1.2.3/?x=1", "query"), ("http://10.1.2.3:notaport", "http"),
])
def test_a_bmc_url_that_is_not_http_is_refused_naming_the_field(api, asset, url, says):
    response = patch(api("staff"), asset.hostname, {"bmc_url": url})
    assert response.status_code == 400
    assert says in response.json()["bmc_url"][0]


@pytest.mark.django_db
def test_only_staff_change_an_asset(api, asset):
    assert patch(api("viewer"), asset.hostname, {"bmc_url": "https://10.1.2.3"}).status_code == 403
    assert power(api("viewer"), asset.hostname, "status").status_code == 403


@pytest.mark.django_db
def test_power_status_and_cycle_through_the_bmc(api, asset, with_bmc):
    with_bmc(asset)
    staff = api("staff", "alice")
    response = power(staff, asset.hostname, "status", "is it up?")
    assert response.status_code == 200, response.json()
    assert response.json()["power_state"] == "On" and response.json()["action"] == "status"

    response = power(staff, asset.hostname, "cycle", "hung kernel")
    assert response.status_code == 200, response.json()
    # The emulator turns the machine off at once and back on a few seconds later, as a real one does.
    assert response.json()["reset_type"] == "ForceRestart"
    assert response.json()["power_state"] in ("Off", "On")

    calls = list(BmcCall.objects.filter(asset=asset).order_by("id"))
    assert [(c.action, c.actor, c.reason, c.outcome) for c in calls] == [
        ("status", "alice", "is it up?", "ok"), ("cycle", "alice", "hung kernel", "ok")]
    assert "ForceRestart accepted" in calls[1].answer


@pytest.mark.django_db
def test_power_off_then_on(api, make_asset, with_bmc):
    asset = with_bmc(make_asset("host-002"))
    staff = api("staff")
    assert power(staff, asset.hostname, "off").json()["reset_type"] == "ForceOff"
    # A second "on" asked while it is already on sends nothing; the first one is sent whatever the state.
    answer = power(staff, asset.hostname, "on").json()
    assert answer["action"] == "on" and answer["reset_type"] in ("On", "")


@pytest.mark.django_db
def test_a_bad_action_names_the_field(api, asset, with_bmc):
    with_bmc(asset)
    response = power(api("staff"), asset.hostname, "reboot-please")
    assert response.status_code == 400 and "action" in response.json()
    response = api("staff").post(f"/api/v1/assets/{asset.hostname}/power/", {"action": "status"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()


@pytest.mark.django_db
def test_power_on_an_asset_without_a_bmc_is_a_409(api, asset):
    response = power(api("staff"), asset.hostname, "on")
    assert response.status_code == 409
    assert response.json()["field"] == "bmc_url" and "no BMC" in response.json()["detail"]


@pytest.mark.django_db
def test_a_wrong_password_is_a_502_with_the_bmcs_401(api, make_asset, with_bmc):
    asset = with_bmc(make_asset("host-401"), password="not-the-password")
    response = power(api("staff"), asset.hostname, "status")
    assert response.status_code == 502
    assert "401" in response.json()["detail"] and "Incorrect username or password" in response.json()["bmc_error"]
    call = BmcCall.objects.get(asset=asset)
    assert call.outcome == "failed" and "401" in call.answer


@pytest.mark.django_db
def test_a_bmc_that_does_not_answer_is_a_502_with_the_connection_error(api, make_asset, with_bmc,
                                                                     down_bmc_url):
    asset = with_bmc(make_asset("host-down"), url=down_bmc_url)
    response = power(api("staff"), asset.hostname, "cycle")
    assert response.status_code == 502
    assert "ConnectionError" in response.json()["detail"] and "Connection refused" in response.json()["detail"]


@pytest.mark.django_db
def test_the_password_is_in_no_log_line(api, asset, with_bmc, caplog):
    with_bmc(asset)
    with caplog.at_level(logging.DEBUG):
        power(api("staff"), asset.hostname, "status")
        with_bmc(asset, password=PASSWORD + "-wrong")
        power(api("staff"), asset.hostname, "status")
    assert caplog.records and not [r for r in caplog.records if PASSWORD in r.getMessage()]
