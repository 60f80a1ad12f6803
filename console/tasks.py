"""The console's job: keep the dashboard's window figures computed, so no page view waits for them."""
from celery import shared_task

from console import dashboard


@shared_task(acks_late=True)
def dashboard_refresh() -> None:
    """Recompute the default window's figures into the cache (beat runs it every minute; safe to run twice)."""
    dashboard.history_refresh(dashboard.WINDOW_DAYS)
