"""The queues of the jobs: taking a machine out of service does not wait behind the paperwork."""
from dam.celery import app


def test_isolate_jobs_have_a_queue_of_their_own_that_every_worker_serves_by_default(settings):
    route = app.amqp.router.route
    assert route({}, "lifecycle.tasks.isolate_asset")["queue"].name == settings.DAM_ISOLATE_QUEUE
    assert route({}, "lifecycle.tasks.open_repair_ticket")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    assert route({}, "lifecycle.tasks.run_inspection")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    # a worker started without -Q consumes every queue the app declares
    assert set(app.amqp.queues) == {settings.CELERY_TASK_DEFAULT_QUEUE, settings.DAM_ISOLATE_QUEUE}
