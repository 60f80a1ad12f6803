"""`celery worker`, but every lifecycle step and every measurement takes DAM_TEST_STEP_SECONDS longer, so that a
test can kill the worker in the middle of one. The step sleeps inside its transaction, after the state changed and
before the commit: killed there, nothing of the step is kept. Usage: python slow_worker.py -A dam worker ..."""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")

import django  # noqa: E402

django.setup()

from celery.bin.celery import main  # noqa: E402

import lifecycle  # noqa: E402
from lifecycle import transitions  # noqa: E402
from inspection import services as inspection_services  # noqa: E402

STEP = float(os.environ.get("DAM_TEST_STEP_SECONDS", "1"))
apply_steps, measure = transitions.apply_many, inspection_services.measure_here


def slow_apply_many(*args, **kwargs):
    apply_steps(*args, **kwargs)
    time.sleep(STEP)


def slow_measure(*args, **kwargs):
    time.sleep(STEP)
    return measure(*args, **kwargs)


# Every state change goes through transitions.apply_many (apply is apply_many with one asset); the batch steps hold
# their own name for it.
transitions.apply_many = slow_apply_many
for step in (lifecycle.isolation, lifecycle.repair):
    step.apply_many = slow_apply_many
inspection_services.measure_here = slow_measure

if __name__ == "__main__":
    sys.argv[0] = "celery"
    sys.exit(main())
