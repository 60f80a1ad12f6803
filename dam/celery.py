"""The Celery application: the worker, beat and the web process all configure it from Django settings."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")

app = Celery("dam")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The lifecycle's jobs live in dam/tasks.py, beside dam/lifecycle.py; the apps' own in <app>/tasks.py.
app.autodiscover_tasks()
app.autodiscover_tasks(["dam"])
