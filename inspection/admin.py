"""Admin console for inspections (read-only: the server judges what the host measured) and baselines (staff set them)."""
import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from inspection.models import Baseline, Inspection, InspectionCheck


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    list_display = ["hardware_model", "metric", "expected", "unit", "tolerance_pct", "higher_is_better", "limit",
                    "source", "updated_at"]
    list_filter = ["hardware_model"]
    search_fields = ["metric", "hardware_model__name"]
    list_select_related = ["hardware_model"]
    autocomplete_fields = ["hardware_model"]

    @admin.display(description="Limit (worst that passes)")
    def limit(self, baseline: Baseline) -> str:
        return f"{baseline.limit():g} {baseline.unit}"


class InspectionCheckInline(admin.TabularInline):
    model = InspectionCheck
    fields = ["name", "measured", "expected", "limit", "unit", "passed", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["id", "asset", "purpose", "verdict", "requested_at", "finished_at", "runner"]
    list_filter = ["verdict", "purpose"]
    search_fields = ["asset__hostname"]
    search_help_text = "Asset hostname."
    list_select_related = ["asset"]
    show_full_result_count = False
    fields = ["asset", "purpose", "ticket", "verdict", "summary", "requested_at", "started_at", "finished_at",
              "runner", "raw_report"]
    readonly_fields = fields
    inlines = [InspectionCheckInline]

    # Verdicts come from the judged measurements only, never typed in.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Repair ticket")
    def ticket(self, inspection: Inspection):
        # ticket_id is a plain column (inspection does not depend on repairs); link it by URL name.
        if inspection.ticket_id is None:
            return "—"
        url = reverse("admin:repairs_repairticket_change", args=[inspection.ticket_id])
        return format_html('<a href="{}">#{}</a>', url, inspection.ticket_id)

    @admin.display(description="Raw report")
    def raw_report(self, inspection: Inspection):
        return format_html("<pre>{}</pre>", json.dumps(inspection.raw, indent=2, sort_keys=True))
