"""The demo fleet: pool `demo`, assets demo-001 … demo-020 of hardware model `demo-model`.

This machine stands in for every demo asset, so demo-model's spec is this machine's inventory and its first
baseline version is seeded from reference runs here; once enough demo inspections have passed, learned versions
follow (inspection/services.py).
"""
from django.db import transaction

from assets.models import Asset, HardwareModel, Pool
from inspection import measure, services

DEMO_ASSETS = 20


def demo_model_spec() -> dict:
    here = measure.inventory(mounts=["/"])
    return {"vendor": "This machine", "cpu_logical_cores": here["cpu_logical_cores"],
            "memory_bytes": here["memory_total_bytes"], "disks": here["disks"]}


def demo_fleet_load(*, seed_baselines: bool = True) -> HardwareModel:
    with transaction.atomic():
        model, _ = HardwareModel.objects.update_or_create(name="demo-model", defaults=demo_model_spec())
        # A quarter of the demo pool may be out of service at once (5 of 20 machines).
        pool, _ = Pool.objects.get_or_create(name="demo", defaults={"description": "Demo fleet",
                                                                     "max_unavailable": "25%"})
        for n in range(1, DEMO_ASSETS + 1):
            Asset.objects.get_or_create(hostname=f"demo-{n:03d}", defaults={
                "hardware_model": model, "pool": pool, "serial": f"DEMO{n:06d}", "asset_tag": f"AT-{n:05d}",
                "site": "lab", "rack": f"R{(n - 1) // 10 + 1:02d}",
            })
    if seed_baselines and not model.baseline_versions.exists():
        services.baseline_seed_from_here(hardware_model=model)
    return model
