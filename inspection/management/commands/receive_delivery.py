"""Record a newly delivered machine as `new`; its delivery inspection (full profile) decides when it first serves."""
from django.core.management.base import BaseCommand, CommandError

from assets.validators import hostname_problem
from assets.models import Asset, HardwareModel, Pool
import lifecycle


class Command(BaseCommand):
    help = ("Receive a delivered machine: it is created `new` and inspected (full profile) before it becomes active. "
            "In the demo: manage.py receive_delivery demo-021")

    def add_arguments(self, parser):
        parser.add_argument("hostname")
        parser.add_argument("--hardware-model", default="demo-model")
        parser.add_argument("--pool", default="demo")
        parser.add_argument("--serial", default="")
        parser.add_argument("--asset-tag", default="")
        parser.add_argument("--site", default="")
        parser.add_argument("--rack", default="")

    def handle(self, *args, hostname, hardware_model, pool, serial, asset_tag, site, rack, **options):
        if problem := hostname_problem(hostname):  # the same rule as the API, the admin and the import
            raise CommandError(f"{hostname}: not a valid hostname: {problem}.")
        if Asset.objects.filter(hostname=hostname).exists():
            raise CommandError(f"{hostname} exists already.")
        model = HardwareModel.objects.filter(name=hardware_model).first()
        group = Pool.objects.filter(name=pool).first()
        if model is None or group is None:
            raise CommandError(f"Unknown {'hardware model ' + hardware_model if model is None else 'pool ' + pool}.")
        asset = lifecycle.receive_delivery(actor="manage.py receive_delivery", hostname=hostname,
                                           hardware_model=model, pool=group, serial=serial, asset_tag=asset_tag,
                                           site=site, rack=rack)
        inspection = asset.inspections.get()
        self.stdout.write(f"{hostname} is new; delivery inspection #{inspection.id} ({inspection.profile} profile) "
                          "requested. It becomes active when the inspection passes.")
