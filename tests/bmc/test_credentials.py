"""BMC passwords at rest (assets/bmc.py): encrypted under DAM_BMC_KEY, rotated by listing keys, and the embedded
default's key made once, private, in the data directory."""
import stat

import pytest
from cryptography.fernet import Fernet

from assets import bmc as bmc_secrets
from tests.bmc.conftest import PASSWORD


def test_the_embedded_default_makes_one_private_key_in_the_data_directory(settings, tmp_path):
    settings.DAM_BMC_KEY, settings.DATA_DIR = "", tmp_path
    token = bmc_secrets.encrypt(PASSWORD)
    key_file = tmp_path / "bmc_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert PASSWORD not in token and bmc_secrets.decrypt(token) == PASSWORD
    key = key_file.read_text()
    assert bmc_secrets.decrypt(bmc_secrets.encrypt("again")) == "again" and key_file.read_text() == key
    assert [p.name for p in tmp_path.iterdir()] == ["bmc_key"]  # no temporary file left behind


def test_keys_from_the_environment_rotate(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.DAM_BMC_KEY = old
    token = bmc_secrets.encrypt(PASSWORD)
    settings.DAM_BMC_KEY = f"{new},{old}"  # the new key encrypts, the old one still decrypts
    assert bmc_secrets.decrypt(token) == PASSWORD
    assert Fernet(new.encode()).decrypt(bmc_secrets.encrypt("x").encode()) == b"x"
    settings.DAM_BMC_KEY = new  # the old key dropped before the passwords were set again
    with pytest.raises(bmc_secrets.PasswordUnreadable):
        bmc_secrets.decrypt(token)


@pytest.mark.django_db
def test_a_password_the_key_cannot_read_is_a_502_saying_so_not_a_crash(api, asset, with_bmc, settings):
    settings.DAM_BMC_KEY = Fernet.generate_key().decode()
    with_bmc(asset)
    settings.DAM_BMC_KEY = Fernet.generate_key().decode()
    response = api("staff").post(f"/api/v1/assets/{asset.hostname}/power/", {"action": "status", "reason": "x"},
                                 format="json")
    assert response.status_code == 502 and "cannot be decrypted" in response.json()["detail"]


@pytest.mark.parametrize("url, stored", [
    ("https://10.1.2.3/redfish/v1/", "https://10.1.2.3"), ("http://bmc-17:8000", "http://bmc-17:8000"),
    ("  https://[fd00::17]/  ", "https://[fd00::17]"), ("", "")])
def test_bmc_urls_are_stored_without_the_implied_redfish_path(url, stored):
    assert bmc_secrets.normalized_url(url) == stored
