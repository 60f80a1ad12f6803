"""The staff action log and the outbox, read-only: the console shows who did what from where, and what work is owed."""
from django.contrib import admin

from console.ui import ReadOnlyAdmin
from reliability.models import OutboxJob, StaffAction


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "address", "via", "method", "path", "status_code"]
    list_filter = ["via", "method", "status_code"]
    search_fields = ["actor", "path", "address", "target"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(OutboxJob)
class OutboxJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "task", "args", "created_at", "sends", "sent_at", "finished_at", "outcome", "last_error"]
    list_filter = ["task", "outcome"]
    show_full_result_count = False
