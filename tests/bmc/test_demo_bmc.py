"""`make demo-bmc` (manage.py demo_bmc): the emulator serves the demo pool's machines, their BMC fields point at it,
pool demo reboots through it, and SIGTERM stops the emulator with it."""
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from assets.models import Asset, Pool
from integrations import bmc, redfish_emulator
from tests.e2e.conftest import ROOT, _database_url


@pytest.mark.django_db(transaction=True)
def test_demo_bmc_gives_the_demo_machines_a_working_bmc(hardware_model, tmp_path):
    demo = Pool.objects.create(name="demo")
    for n in (4, 5):
        Asset.objects.create(hostname=f"demo-00{n}", hardware_model=hardware_model, pool=demo)
    port = redfish_emulator.free_port()
    log = tmp_path / "demo_bmc.log"
    env = {**os.environ, "DATABASE_URL": _database_url(), "DAM_DATA_DIR": str(settings.DATA_DIR)}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "manage.py", "demo_bmc", "--port", str(port)], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C stops it" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        asset = Asset.objects.select_related("pool").get(hostname="demo-005")
        assert asset.bmc_url == f"http://127.0.0.1:{port}" and asset.bmc_system == "demo-005"
        assert asset.pool.auto_repair == "reboot" and asset.bmc_password_set
        call = bmc.power(asset=asset, action="status", actor="test", reason="demo")
        assert call.outcome == "ok" and call.power_state == "On"
        assert asset.bmc_password() not in log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    # The emulator went with it: nothing answers on its port any more.
    with pytest.raises(bmc.BmcFailed, match="ConnectionError"):
        bmc.power(asset=asset, action="status", actor="test", reason="after")
