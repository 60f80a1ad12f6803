"""One hostname rule (assets/validators.py) for the API, the inventory import and the admin's asset form."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from assets.models import Asset
from assets.validators import hostname_problem
from tests.api.helpers import API, assert_error, assert_ok

GOOD = ["demo-001", "web1", "10gbe-sw1", "node7.rack1.ams1.example.com", "A" * 63, ".".join(["a" * 63] * 3 + ["a" * 61])]
BAD = {
    "node_7": "'_'",
    "-node": "label '-node'",
    "node-": "label 'node-'",
    "node 7": "label 'node 7'",
    "node..rack1": "empty label",
    "node.": "empty label",
    ".node": "empty label",
    "a" * 64: "longer than 63",
    ".".join(["a" * 63] * 4): "longer than 253",
    "nöde": "label 'nöde'",
    "": "empty",
}


@pytest.mark.parametrize("hostname", GOOD)
def test_rfc_1123_hostnames_are_valid(hostname):
    assert hostname_problem(hostname) is None


@pytest.mark.parametrize("hostname, problem", BAD.items())
def test_anything_else_is_refused_saying_why(hostname, problem):
    assert problem in hostname_problem(hostname)


def asset_body(hostname):
    return {"hostname": hostname, "hardware_model": "test-model", "pool": "batch"}


# The three doors agree ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hostname, valid", [("node-7", True), ("node_7", False), ("node-", False)])
def test_the_api_the_import_and_the_admin_agree(api, admin_client, hardware_model, pool, tmp_path, hostname, valid):
    # the API
    response = api("staff").post(f"{API}/assets/", asset_body(hostname), format="json")
    if valid:
        assert_ok(response, 201)
        Asset.objects.filter(hostname=hostname).delete()
    else:
        body = assert_error(response, 400, "hostname")
        assert "not a valid hostname" in body["hostname"][0]

    # the inventory import
    path = tmp_path / "inventory.csv"
    path.write_text(f"hostname,hardware_model,pool\n{hostname},test-model,batch\n")
    if valid:
        call_command("import_inventory", str(path))
        Asset.objects.filter(hostname=hostname).delete()
    else:
        with pytest.raises(CommandError, match="Nothing imported"):
            call_command("import_inventory", str(path))

    # the admin's asset form
    response = admin_client.post(reverse("admin:assets_asset_add"), {
        "hostname": hostname, "hardware_model": hardware_model.pk, "pool": pool.pk, "site": "", "rack": "",
        "serial": "", "asset_tag": ""})
    if valid:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert "not a valid hostname" in str(response.context["adminform"].form.errors["hostname"])
    assert Asset.objects.filter(hostname=hostname).exists() == valid


def test_receive_delivery_follows_the_same_rule(hardware_model, pool):
    with pytest.raises(CommandError, match="'_' is not allowed"):
        call_command("receive_delivery", "node_7", "--hardware-model", hardware_model.name, "--pool", pool.name)
