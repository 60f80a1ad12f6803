"""`make demo-bmc`: a Redfish BMC for the demo fleet — OpenStack's sushy-emulator with its fake driver, one system per
demo machine, HTTP Basic auth from a bcrypt htpasswd — and the demo machines' BMC fields pointing at it, with pool
demo rebooting machines through it (auto_repair: reboot). Runs in the foreground beside `make run`; Ctrl-C stops it."""
import os
import secrets
import signal
import subprocess

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assets.models import Asset, Pool
from integrations import redfish_emulator

USERNAME = "admin"


class Command(BaseCommand):
    help = "Start a demo Redfish BMC (sushy-emulator, fake driver) for the demo fleet and give its machines BMCs."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("DAM_DEMO_BMC_PORT", "8100")))
        parser.add_argument("--pool", default="demo")

    def handle(self, *args, port: int, pool: str, **options):
        try:
            demo = Pool.objects.get(name=pool)
        except Pool.DoesNotExist:
            raise CommandError(f"No pool {pool}: `make run` loads the demo fleet first.") from None
        hostnames = list(Asset.objects.filter(pool=demo).order_by("hostname").values_list("hostname", flat=True))
        if not hostnames:
            raise CommandError(f"Pool {pool} has no machines.")
        # A new password each start: the emulator's htpasswd keeps its bcrypt digest, DAM keeps it encrypted.
        password = secrets.token_urlsafe(16)
        directory = settings.DATA_DIR / "demo-bmc"
        process, url = redfish_emulator.start(directory, systems=hostnames, username=USERNAME, password=password,
                                              port=port)
        with transaction.atomic():
            for asset in Asset.objects.select_for_update().filter(hostname__in=hostnames):
                asset.bmc_url, asset.bmc_system, asset.bmc_username = url, asset.hostname, USERNAME
                asset.set_bmc_password(password)
                asset.save(update_fields=["bmc_url", "bmc_system", "bmc_username", "bmc_password_encrypted"])
            demo.auto_repair = "reboot"
            demo.save(update_fields=["auto_repair"])
        self.stdout.write(self.style.SUCCESS(
            f"Demo BMC (sushy-emulator, fake driver) serves {len(hostnames)} systems at {url}/redfish/v1/ "
            f"({hostnames[0]} … {hostnames[-1]}); their BMC fields point at it, and pool {pool} reboots "
            f"machines through it (auto_repair: reboot). Log: {directory / 'emulator.log'}. Ctrl-C stops it."))
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            process.wait()
        except KeyboardInterrupt:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
