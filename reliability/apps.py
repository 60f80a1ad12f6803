from django.apps import AppConfig


class ReliabilityConfig(AppConfig):
    name = "reliability"
    verbose_name = "Reliability and security"

    def ready(self):
        # A job the outbox sent is finished when its task has run to the end in a worker (see outbox.py).
        from celery.signals import task_postrun

        from reliability import outbox

        task_postrun.connect(outbox.job_finished_signal, weak=False, dispatch_uid="reliability.outbox")
        # A revoked token, or one whose owner changed, is refused at once despite the token cache (dam/auth.py).
        from dam.auth import connect_signals
        connect_signals()
