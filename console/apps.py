from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Console"

    def ready(self):
        from console.groups import groups_sync_after_migrate

        # The migration creates the groups; this keeps their permissions whole when later migrations add models
        # (and brings the groups back after a test database flush).
        post_migrate.connect(groups_sync_after_migrate, dispatch_uid="console.groups_sync")
