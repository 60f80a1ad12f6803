"""Admin for webhooks, the record of every delivery and of every call to a BMC."""
from django.contrib import admin

from integrations.models import BmcCall, Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "events"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "kind", "target", "status", "attempts", "last_result", "created_at"]
    list_filter = ["status", "kind", "event"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BmcCall)
class BmcCallAdmin(admin.ModelAdmin):
    """A record: every call to a BMC, as the asset's timeline shows it."""

    list_display = ["id", "asset", "action", "reset_type", "outcome", "power_state", "actor", "at", "answer"]
    list_filter = ["outcome", "action"]
    search_fields = ["asset__hostname", "actor"]
    list_select_related = ["asset"]
    readonly_fields = [f.name for f in BmcCall._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
