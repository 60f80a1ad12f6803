"""The Celery application: the worker, beat and the web process all configure it from Django settings."""
import os

from celery import Celery
from celery.signals import task_prerun

from dam import embedded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")

app = Celery("dam")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The apps' jobs live in <app>/tasks.py; the lifecycle's in lifecycle/tasks.py (a package, not an installed app).
app.autodiscover_tasks()
app.autodiscover_tasks(["lifecycle"])


@app.on_configure.connect(weak=False)
def _prepare_data_directory(sender=None, **kwargs):
    """Sent when the app first reads its configuration, before the Django settings it reads it from are loaded in
    a worker or beat: the data directory and the secret key are then there for the settings to read."""
    embedded.prepare()


@app.on_after_configure.connect(weak=False)
def _embedded_broker(sender=None, source=None, **kwargs):
    """"filesystem://" means DAM's own filesystem transport, which writes each message whole before a worker can see
    it (dam/broker.py). An alias, not broker_transport: a URL given later (CELERY_BROKER_WRITE_URL) still decides.
    Set here, once the configuration is read and before any connection is made from it."""
    urls = (source.broker_url, source.broker_read_url, source.broker_write_url)
    if any(str(url or "").startswith("filesystem://") for url in urls):
        from kombu.transport import TRANSPORT_ALIASES
        TRANSPORT_ALIASES["filesystem"] = "dam.broker:Transport"


@task_prerun.connect(weak=False)
def _close_broken_connections(task=None, **kwargs):
    """Jobs keep their database connection, as web requests do (CONN_MAX_AGE; settings.CELERY_DB_REUSE_MAX stops
    Celery's Django fixup from closing it around every job: a new PostgreSQL connection per job was a third of a
    short job's time). Like Django before a request, drop only a connection that is broken or too old."""
    from django.db import close_old_connections, connection
    if not getattr(task.request, "is_eager", False) and not connection.in_atomic_block:
        close_old_connections()
