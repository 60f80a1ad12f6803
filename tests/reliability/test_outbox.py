"""The outbox, step by step (eager jobs, in this process): a job owed is a row of the same transaction, gone if the
transaction rolls back; sent after the commit and finished when it ran; the relay sends what is owed and not yet
finished, once per turn, and leaves alone what is not due."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

import lifecycle
from lifecycle import transitions
from dam.celery import app as celery_app
from reliability import outbox
from reliability.models import OutboxJob


def test_a_job_is_recorded_in_the_transaction_of_the_change_and_finished_once_it_ran(fleet, eager_jobs):
    asset = fleet(1)[0]
    lifecycle.isolate(asset_id=asset.id, actor="tests", reason="fans")

    job = OutboxJob.objects.get()
    assert (job.task, job.args, job.sends, job.outcome) == ("lifecycle.tasks.open_repair_ticket", [asset.id], 1, "SUCCESS")
    assert job.sent_at and job.finished_at
    asset.refresh_from_db()
    assert asset.state == "in_repair"


def test_a_rolled_back_change_owes_nothing(fleet, eager_jobs):
    asset = fleet(1)[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.isolate(asset_id=asset.id, actor="tests", reason="fans")
        raise RuntimeError("the change fails after the step")
    assert not OutboxJob.objects.exists()
    asset.refresh_from_db()
    assert asset.state == "active"


def test_the_relay_sends_what_is_owed_and_due_only(fleet, eager_jobs):
    asset = fleet(1)[0]
    now = timezone.now()
    with transaction.atomic():  # as if the broker had refused them: owed, never sent
        asset_locked = transitions.locked(asset.id)
        transitions.apply(asset_locked, "isolate", actor="tests", reason="fans")
        due = OutboxJob.objects.create(task="lifecycle.tasks.open_repair_ticket", args=[asset.id],
                                       next_try_at=now - timedelta(seconds=1))
        later = OutboxJob.objects.create(task="lifecycle.tasks.open_repair_ticket", args=[asset.id],
                                         next_try_at=now + timedelta(minutes=5))

    assert outbox.relay_owed() == 1

    due.refresh_from_db()
    later.refresh_from_db()
    assert due.finished_at and due.outcome == "SUCCESS" and due.sends == 1
    assert later.sent_at is None and later.finished_at is None
    asset.refresh_from_db()
    assert asset.state == "in_repair"
    assert outbox.relay_owed() == 0  # nothing else is due


def test_a_job_sent_but_never_finished_is_sent_again_with_a_growing_wait(fleet, settings):
    settings.DAM_OUTBOX_REDELIVER_SECONDS = 10
    job = OutboxJob.objects.create(task="lifecycle.tasks.reconcile_stuck_assets", args=[], next_try_at=timezone.now())
    # Not eager: the job goes to the broker and no worker runs it, as if the worker had died with it.
    waits = []
    try:
        for _ in range(3):
            OutboxJob.objects.filter(pk=job.pk).update(next_try_at=timezone.now() - timedelta(seconds=1))
            assert outbox.relay_owed() == 1
            job.refresh_from_db()
            waits.append(round((job.next_try_at - job.sent_at).total_seconds()))
    finally:  # leave nothing in the (possibly shared) broker
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    assert job.sends == 3 and job.finished_at is None
    assert waits == [10, 20, 40]


def test_a_worker_that_finishes_a_job_marks_it_finished(db):
    job = OutboxJob.objects.create(task="lifecycle.tasks.reconcile_stuck_assets", args=[], next_try_at=timezone.now(),
                                   sends=2)
    outbox.job_finished_signal(task_id=f"outbox-{job.id}-2", state="RETRY")
    job.refresh_from_db()
    assert job.finished_at is None and job.next_try_at > timezone.now() + timedelta(minutes=30)
    outbox.job_finished_signal(task_id=f"outbox-{job.id}-2", state="FAILURE")
    outbox.job_finished_signal(task_id="some-beat-task-id", state="SUCCESS")  # not an outbox job: ignored
    job.refresh_from_db()
    assert job.finished_at and job.outcome == "FAILURE"


def test_finished_jobs_are_purged_after_a_day(db):
    now = timezone.now()
    old = OutboxJob.objects.create(task="t", next_try_at=now, finished_at=now - timedelta(hours=25))
    recent = OutboxJob.objects.create(task="t", next_try_at=now, finished_at=now - timedelta(hours=1))
    owed = OutboxJob.objects.create(task="t", next_try_at=now - timedelta(days=3))
    assert outbox.purge_finished() == 1
    assert set(OutboxJob.objects.values_list("id", flat=True)) == {recent.id, owed.id}
    assert old.id not in OutboxJob.objects.values_list("id", flat=True)
