"""The outbox: a job owed to Celery is a row written in the same transaction as the change that owes it.

The row is sent to the broker once the transaction commits, and is finished when a worker has run the job to the
end. The relay (tasks.relay_outbox, on beat) sends again every job that is not finished in time: one the broker never
took (it was down) and one a worker took but never finished (it was killed, the message was lost). Every job is safe
to run twice, so a job is sent at least once and possibly more; the database, not the broker, says what is owed.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from reliability.models import OutboxJob

log = logging.getLogger(__name__)

# Celery task ids of outbox jobs: "outbox-<row id>-<send number>", so a worker can tell the row it finished.
TASK_ID_PREFIX = "outbox-"
# A job sent again and again (say it kills its worker every time) is tried at most this often.
MAX_BACKOFF = timedelta(hours=1)
# The broker is gone: give up the send fast; the relay sends it when the broker is back.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def job_owe(task, *args) -> OutboxJob:
    """Owe `task(*args)` to Celery: recorded in the current transaction, sent once it commits."""
    return jobs_owe(task, [args])[0]


def jobs_owe(task, many: list) -> list[OutboxJob]:
    """Owe `task(*args)` for each args of `many`: one multi-row INSERT in the current transaction (a storm's
    jobs cost one query, not one each), each sent once it commits."""
    if not many:
        return []
    now = timezone.now()
    due = now + timedelta(seconds=settings.DAM_OUTBOX_GRACE_SECONDS)
    jobs = OutboxJob.objects.bulk_create([OutboxJob(task=task.name, args=list(args), created_at=now, next_try_at=due)
                                          for args in many])
    for job in jobs:
        transaction.on_commit(lambda job=job: job_send(job), robust=True)
    return jobs


def job_send(job: OutboxJob) -> bool:
    """Hand the job to the broker. False if the broker did not take it; the row stays owed either way."""
    sends = job.sends + 1
    try:
        current_app.tasks[job.task].apply_async(args=job.args, task_id=f"{TASK_ID_PREFIX}{job.id}-{sends}",
                                                retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # broker unreachable (or the task unknown here): the relay tries again
        log.warning("outbox: job #%s %s not sent: %s", job.id, job.task, exc)
        OutboxJob.objects.filter(pk=job.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:500])
        return False
    now = timezone.now()
    wait = min(timedelta(seconds=settings.DAM_OUTBOX_REDELIVER_SECONDS * 2 ** (sends - 1)), MAX_BACKOFF)
    OutboxJob.objects.filter(pk=job.pk).update(sends=sends, sent_at=now, next_try_at=now + wait, last_error="")
    job.sends = sends
    return True


def job_id_of(task_id) -> int | None:
    """The outbox row of a Celery task id ("outbox-<row id>-<send number>"), None for a task sent otherwise."""
    if not task_id or not str(task_id).startswith(TASK_ID_PREFIX):
        return None
    return int(str(task_id)[len(TASK_ID_PREFIX):].split("-")[0])


def job_is_finished(job_id: int | None) -> bool:
    return bool(job_id) and OutboxJob.objects.filter(pk=job_id, finished_at__isnull=False).exists()


def jobs_take_over(task, *, but: int | None, limit: int) -> list[list]:
    """Coalescing, for a job that is cheaper done for many at once: take over up to `limit` other jobs of `task`
    that are sent and not finished (under load, their messages wait in the broker behind this one) and return
    their args. Call it inside the transaction that does their work: they are marked finished with it (or not at
    all, if it rolls back), so that their own messages, when they come, find nothing left to do (job_is_finished).
    A job that another worker is running at this moment may be taken over too: it is then done twice, which every
    job is safe to be."""
    taken = list(OutboxJob.objects.select_for_update(skip_locked=True)
                 .filter(task=task.name, finished_at__isnull=True, sent_at__isnull=False).exclude(pk=but)
                 .order_by("id")[:limit])
    if taken:
        OutboxJob.objects.filter(pk__in=[job.pk for job in taken]).update(finished_at=timezone.now(),
                                                                           outcome="SUCCESS")
    return [job.args for job in taken]


def job_finished_signal(sender=None, task_id=None, state=None, **kwargs) -> None:
    """Celery's task_postrun, in the worker: an outbox job that ran to the end (or failed for good) is finished."""
    job_id = job_id_of(task_id)
    if job_id is None:
        return
    now = timezone.now()
    owed = OutboxJob.objects.filter(pk=job_id, finished_at__isnull=True)
    try:
        if state in ("SUCCESS", "FAILURE"):
            owed.update(finished_at=now, outcome=state)
        elif state == "RETRY":  # the task rescheduled itself with Celery: give it time before sending it again
            owed.update(next_try_at=now + MAX_BACKOFF)
    except DatabaseError as exc:  # the job is done; at worst the relay sends it once more
        log.warning("outbox: could not mark job #%s finished: %s", job_id, exc)


def relay_owed(*, batch: int = 500) -> int:
    """Send again the jobs whose time came and that are not finished. Stops at the first send the broker refuses."""
    now = timezone.now()
    sent = 0
    owed = OutboxJob.objects.filter(finished_at__isnull=True, next_try_at__lte=now).order_by("next_try_at")[:batch]
    for job in owed:
        # Claim it first, so two relays running at once do not both send it.
        claimed = OutboxJob.objects.filter(pk=job.pk, next_try_at=job.next_try_at).update(
            next_try_at=now + timedelta(seconds=settings.DAM_OUTBOX_GRACE_SECONDS))
        if not claimed:
            continue
        if not job_send(job):
            break
        sent += 1
    if sent:
        log.info("outbox: sent %s owed jobs again", sent)
    return sent


def purge_finished(*, now=None) -> int:
    now = now or timezone.now()
    deleted, _ = OutboxJob.objects.filter(
        finished_at__lt=now - timedelta(hours=settings.DAM_OUTBOX_KEEP_HOURS)).delete()
    return deleted
