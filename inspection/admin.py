"""Admin console for inspections (read-only: the server judges what the host measured) and baseline versions
(staff pin one, or set a band by hand)."""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from assets.models import HardwareModel
from console import inspection_chart, ui
from console.ui import ReadOnlyAdmin
from inspection import services
from inspection.models import Baseline, BaselineVersion, Inspection, InspectionCheck

class BaselinePointInline(admin.TabularInline):
    """A version's points, as learned, seeded or set. Versions are never edited: a new band makes a new version."""

    model = Baseline
    fields = ["metric", "expected", "low", "high", "limit", "unit", "tolerance_pct", "spread", "samples",
              "hand_set", "source"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Limit (worst that passes)")
    def limit(self, baseline: Baseline) -> str:
        return f"{baseline.limit():.4g}"


class SetBandForm(forms.Form):
    hardware_model = forms.ModelChoiceField(queryset=HardwareModel.objects.all(), to_field_name="name")
    metric = forms.CharField(max_length=100, help_text="A point, e.g. disk.seq_write_mb_per_s[1MiB], or a whole "
                                                       "curve, e.g. disk.seq_write_mb_per_s.")
    low = forms.FloatField(required=False, min_value=0, help_text="A throughput's limit: the lowest that passes.")
    high = forms.FloatField(required=False, min_value=0, help_text="A latency's limit: the highest that passes.")
    expected = forms.FloatField(required=False, min_value=0, help_text="The centre; by default the current one.")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(BaselineVersion)
class BaselineVersionAdmin(admin.ModelAdmin):
    """Baseline versions: which one judges each hardware model (pinned, else the newest), where each came from.
    Staff pin a version, or set one point's band by hand (a new version)."""

    list_display = ["__str__", "hardware_model", "number", "kind", "current", "pinned", "samples", "source",
                    "created_by", "created_at"]
    list_filter = ["hardware_model", "kind", "pinned"]
    search_fields = ["hardware_model__name", "source"]
    list_select_related = ["hardware_model"]
    readonly_fields = ["hardware_model", "number", "kind", "source", "samples", "learned_up_to", "inventory",
                       "pinned", "pinned_by", "created_by", "created_at"]
    inlines = [BaselinePointInline]
    actions = ["pin", "unpin"]
    change_list_template = "admin/inspection/baselineversion/change_list.html"

    @admin.display(boolean=True, description="Judges now")
    def current(self, version: BaselineVersion) -> bool:
        current = services.baseline_current(version.hardware_model)
        return current is not None and current.pk == version.pk

    @admin.action(description="Pin the selected version (judge its model against it)", permissions=["change"])
    def pin(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Pick exactly one version to pin.", messages.ERROR)
            return
        version = services.baseline_pin(version=queryset.get(), actor=request.user.username)
        self.message_user(request, f"Pinned: {version.hardware_model} is judged against v{version.number}.",
                          messages.SUCCESS)

    @admin.action(description="Unpin (judge against the newest version again)", permissions=["change"])
    def unpin(self, request, queryset):
        for model in {v.hardware_model for v in queryset}:
            if was := services.baseline_unpin(hardware_model=model, actor=request.user.username):
                self.message_user(request, f"{model}: v{was.number} unpinned.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        # The admin's list page does not tell its template whether the user may change: the set-band link needs it.
        extra_context = {**(extra_context or {}), "has_change_permission": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [path("set-band/", self.admin_site.admin_view(self.set_band_view),
                     name="inspection_baselineversion_set_band"), *super().get_urls()]

    def set_band_view(self, request):
        """Set one point's (or curve's) band by hand: a new version, kept by learning until released."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = SetBandForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                version = services.baseline_set_band(
                    hardware_model=data["hardware_model"], metric=data["metric"], low=data["low"],
                    high=data["high"], expected=data["expected"], actor=request.user.username,
                    reason=data["reason"])
            except services.BaselineConflict as conflict:
                form.add_error(None, str(conflict))
            else:
                self.message_user(request, f"{version.hardware_model} baseline v{version.number}: {version.source}",
                                  messages.SUCCESS)
                return redirect("admin:inspection_baselineversion_change", version.pk)
        return TemplateResponse(request, "admin/inspection/baselineversion/set_band.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": "Set a baseline band by hand"})

    # Versions are made by seeding, learning and set-band, never typed in or edited.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Baseline)
class BaselineAdmin(ReadOnlyAdmin):
    """Every baseline point of every version, to search across them. Read-only: a band is set by hand through
    the baseline versions' "Set a band" page, which makes a new version."""

    list_display = ["hardware_model", "version", "metric", "expected", "unit", "low", "high", "tolerance_pct",
                    "limit", "samples", "hand_set", "source"]
    list_filter = ["hardware_model", "hand_set"]
    search_fields = ["metric", "hardware_model__name"]
    list_select_related = ["hardware_model", "version"]

    @admin.display(description="Limit (worst that passes)")
    def limit(self, baseline: Baseline) -> str:
        return f"{baseline.limit():.4g} {baseline.unit}"


class InspectionCheckInline(admin.TabularInline):
    model = InspectionCheck
    fields = ["name", "measured", "expected", "limit", "band_low", "band_high", "deviation_pct", "sigmas", "unit",
              "passed", "skipped", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):  # verdicts come from the judged measurements only
    list_display = ["id", "asset", "purpose", "verdict_badge", "summary_short", "requested_at", "finished_at", "runner"]
    list_filter = ["verdict", "purpose"]
    search_fields = ["asset__hostname"]
    search_help_text = "Asset hostname."
    list_select_related = ["asset"]
    show_full_result_count = False
    readonly_fields = ["asset", "purpose", "profile", "ticket", "verdict", "summary", "baseline_version",
                       "requested_at", "started_at", "finished_at", "runner", "raw_report"]
    fieldsets = [
        (None, {"fields": ["asset", "purpose", "profile", "ticket", "verdict", "summary", "baseline_version",
                           "requested_at", "started_at", "finished_at", "runner"]}),
        ("What the host sent", {"fields": ["raw_report"], "classes": ["collapse"]}),
    ]
    inlines = [InspectionCheckInline]
    # The verdict's words, the measured values drawn against the baseline, then the numbers.
    change_form_template = "admin/inspection/inspection/change_form.html"

    @admin.display(description="Verdict", ordering="verdict")
    def verdict_badge(self, inspection: Inspection):
        return ui.badge(inspection.verdict, ui.VERDICT_TONE.get(inspection.verdict, ""))

    @admin.display(description="Summary")
    def summary_short(self, inspection: Inspection) -> str:
        return inspection.summary if len(inspection.summary) <= 140 else inspection.summary[:139] + "…"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["charts"] = inspection_chart.inspection_charts(obj)
            context["curves_json"] = context["charts"]["curves"]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

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
