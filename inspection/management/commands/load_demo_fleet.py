"""Load the demo fleet (pool demo, demo-001 … demo-020), with baselines seeded from reference runs here."""
from django.core.management.base import BaseCommand

from assets.models import Asset
from inspection import services
from inspection.demo import demo_fleet_load


class Command(BaseCommand):
    help = "Load the demo fleet. With --if-empty, only when the database has no assets yet."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true")

    def handle(self, *args, if_empty, **options):
        if if_empty and Asset.objects.exists():
            self.stdout.write("Assets exist already; demo fleet not loaded.")
            return
        self.stdout.write("Loading the demo fleet and measuring this machine for demo-model's baselines…")
        model = demo_fleet_load()
        version = services.baseline_current(model)
        if version is not None:
            self.stdout.write(f"  {version}: {version.source}, {version.points.count()} curve points")
        self.stdout.write(self.style.SUCCESS("Demo fleet loaded: pool demo, demo-001 … demo-020."))
