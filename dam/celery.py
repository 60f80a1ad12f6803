"""The Celery application: the worker, beat and the web process all configure it from Django settings."""
import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")

app = Celery("dam")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The apps' jobs live in <app>/tasks.py; the lifecycle's in lifecycle/tasks.py (a package, not an installed app).
app.autodiscover_tasks()
app.autodiscover_tasks(["lifecycle"])


@task_prerun.connect(weak=False)
def _close_broken_connections(task=None, **kwargs):
    """Jobs keep their database connection, as web requests do (CONN_MAX_AGE; settings.CELERY_DB_REUSE_MAX stops
    Celery's Django fixup from closing it around every job: a new PostgreSQL connection per job was a third of a
    short job's time). Like Django before a request, drop only a connection that is broken or too old."""
    from django.db import close_old_connections, connection
    if not getattr(task.request, "is_eager", False) and not connection.in_atomic_block:
        close_old_connections()
