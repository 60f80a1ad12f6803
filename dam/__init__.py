"""DAM: hardware asset lifecycle manager. The Celery app is loaded with Django so on_commit jobs find it."""
from dam.celery import app as celery_app

__all__ = ["celery_app"]
