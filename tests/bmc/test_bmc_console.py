"""The asset's BMC in the console: its fields on the asset's form (the password write-only), the power buttons, each
asking for a reason, and every BMC call on the asset's timeline. The password shows on no page and in no log."""
import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from integrations.models import BmcCall
from reliability.models import StaffAction
from tests.bmc.conftest import PASSWORD, USERNAME


def change_url(asset):
    return reverse("admin:assets_asset_change", args=[asset.pk])


def power_url(asset, action):
    return reverse("admin:assets_asset_power", kwargs={"object_id": asset.pk, "action": action})


@pytest.mark.django_db
def test_staff_set_the_bmc_in_the_console_and_the_password_shows_nowhere(admin_client, asset, bmc_url):
    response = admin_client.post(change_url(asset), {
        "hostname": asset.hostname, "hardware_model": asset.hardware_model_id, "pool": asset.pool_id,
        "site": "", "rack": "", "serial": "", "asset_tag": "", "bmc_url": bmc_url, "bmc_system": asset.hostname,
        "bmc_username": USERNAME, "bmc_password": PASSWORD, "bmc_verify_tls": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    # Django's error reports would leave it out too.
    assert list(response.wsgi_request.sensitive_post_parameters) == ["bmc_password"]
    asset.refresh_from_db()
    assert asset.bmc_password() == PASSWORD and asset.bmc_url == bmc_url

    page = admin_client.get(change_url(asset)).content.decode()
    assert PASSWORD not in page and asset.bmc_password_encrypted not in page
    assert 'name="bmc_password"' in page and "Power cycle…" in page
    # The staff action log and the admin's own history name the field, never its value.
    assert all(PASSWORD not in a.body for a in StaffAction.objects.all())
    entry = LogEntry.objects.get(object_id=str(asset.pk))
    assert "BMC password" in entry.get_change_message() and PASSWORD not in entry.change_message

    # Saving the form again with the box left empty keeps the password.
    admin_client.post(change_url(asset), {
        "hostname": asset.hostname, "hardware_model": asset.hardware_model_id, "pool": asset.pool_id,
        "rack": "r9", "bmc_url": bmc_url, "bmc_system": asset.hostname, "bmc_username": USERNAME,
        "bmc_password": "", "bmc_verify_tls": "on"})
    asset.refresh_from_db()
    assert asset.rack == "r9" and asset.bmc_password() == PASSWORD


@pytest.mark.django_db
def test_a_bad_bmc_url_is_refused_on_the_form(admin_client, asset):
    response = admin_client.post(change_url(asset), {
        "hostname": asset.hostname, "hardware_model": asset.hardware_model_id, "pool": asset.pool_id,
        "bmc_url": "ftp://10.0.0.1"})
    assert response.status_code == 200 and "An http:// or https:// URL" in response.content.decode()


@pytest.mark.django_db
def test_the_power_buttons_ask_for_a_reason_and_the_call_lands_on_the_timeline(admin_client, make_asset,
                                                                               with_bmc):
    asset = with_bmc(make_asset("host-console"))
    form = admin_client.get(power_url(asset, "status"))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    assert admin_client.post(power_url(asset, "status"), {}).status_code == 200  # no reason: the form again
    assert not BmcCall.objects.exists()

    response = admin_client.post(power_url(asset, "status"), {"reason": "checking before the swap"}, follow=True)
    page = response.content.decode()
    assert "PowerState On" in page  # the message, and the timeline's row
    assert "BMC: power status" in page and "checking before the swap" in page
    assert PASSWORD not in page
    assert BmcCall.objects.get(asset=asset).actor == "admin"


@pytest.mark.django_db
def test_no_power_buttons_without_a_bmc(admin_client, asset):
    page = admin_client.get(change_url(asset)).content.decode()
    assert "Power cycle…" not in page
    response = admin_client.post(power_url(asset, "cycle"), {"reason": "x"}, follow=True)
    assert "has no BMC" in response.content.decode()


@pytest.mark.django_db
def test_a_failing_bmc_shows_its_error_and_is_on_the_timeline(admin_client, make_asset, with_bmc):
    asset = with_bmc(make_asset("host-401"), password="wrong")
    page = admin_client.post(power_url(asset, "cycle"), {"reason": "hung"}, follow=True).content.decode()
    assert "The BMC of host-401 failed" in page and "401" in page
    assert BmcCall.objects.get(asset=asset).outcome == "failed"
