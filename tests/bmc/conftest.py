"""A real Redfish BMC for the tests: sushy-emulator (fake driver) on a free port, one system per test hostname."""
import pytest

from integrations import redfish_emulator

USERNAME = "root"
# Distinctive, so a test can look for it in every answer, log line and page.
PASSWORD = "Bmc-pa55-9f3kQz"
# One system per test that powers it, so that no test sees another's reset still under way (the emulator, like a
# real BMC, turns a machine back on some seconds after a reset).
SYSTEMS = ["host-001", "host-002", "host-e2e", "host-dry", "host-401", "host-down", "host-console"]


@pytest.fixture(scope="session")
def bmc_emulator(tmp_path_factory):
    """(url, directory): the emulator's log is directory/emulator.log, one line per request it served."""
    directory = tmp_path_factory.mktemp("bmc")
    process, url = redfish_emulator.start(directory, systems=SYSTEMS, username=USERNAME, password=PASSWORD)
    yield url, directory
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def bmc_url(bmc_emulator):
    return bmc_emulator[0]


@pytest.fixture
def bmc_log(bmc_emulator):
    return lambda: (bmc_emulator[1] / "emulator.log").read_text()


@pytest.fixture
def with_bmc(bmc_url):
    """Give an asset the emulator's BMC (its own system on it)."""
    def give(asset, *, password: str = PASSWORD, url: str | None = None):
        asset.bmc_url, asset.bmc_system, asset.bmc_username = url or bmc_url, asset.hostname, USERNAME
        asset.set_bmc_password(password)
        asset.save()
        return asset
    return give


@pytest.fixture
def down_bmc_url():
    """A BMC that does not answer: a port nothing listens on."""
    return f"http://127.0.0.1:{redfish_emulator.free_port()}"
