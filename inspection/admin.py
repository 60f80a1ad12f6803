"""Admin console for inspections (read-only: the server judges what the host measured) and baseline versions
(staff pin one, or set a band by hand)."""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.conf import settings
from django.utils.html import format_html, format_html_join

from assets.models import HardwareModel
from console import inspection_chart, ui
from console.ui import ReadOnlyAdmin
from inspection import services, verdict
from inspection.choices import Verdict
from inspection.models import Baseline, BaselineVersion, Inspection, InspectionCheck

DISTURBANCE_COLUMNS = [("others_cpu_pct", "Others' CPU %"), ("steal_pct", "Steal %"),
                       ("others_disk_pct", "Others' disk I/O % of ours"), ("others_disk_mb_per_s", "Others' disk MB/s"),
                       ("memory_available_min_pct", "Memory available (min) %"), ("cpu_mhz_min", "CPU MHz (min)"),
                       ("cpu_mhz_max", "CPU MHz (max)"), ("attempts", "Attempts")]


class BaselinePointInline(admin.TabularInline):
    """A version's points, as learned, seeded or set. Versions are never edited: a new band makes a new version."""

    model = Baseline
    fields = ["metric", "expected", "low", "high", "limit", "unit", "tolerance_pct", "spread", "curve_spread_pct",
              "detectable", "samples", "hand_set", "source"]
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

    @admin.display(description="Detectable (%)")
    def detectable(self, baseline: Baseline) -> str:
        found = verdict.detectable_pct(baseline.spec())
        return "—" if found is None else f"{found:.1f}"


def detectable_table(version: BaselineVersion):
    """Per curve, the smallest degradation this version catches with ≥ 99 % probability at ≤ 1 % false fails."""
    rows = [(verdict.words(curve), "— (no learned noise)" if found is None else f"{found:.1f} %")
            for curve, found in services.detectable_by_curve(list(version.points.all())).items()]
    if not rows:
        return "—"
    return format_html('<table><tr><th>curve</th><th>smallest degradation caught (≥ 99 %, ≤ 1 % false fails)</th>'
                       '</tr>{}</table>', format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows))


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
                       "pinned", "pinned_by", "created_by", "created_at", "detectable"]
    inlines = [BaselinePointInline]
    actions = ["pin", "unpin"]
    change_list_template = "admin/inspection/baselineversion/change_list.html"

    @admin.display(description="What it can see")
    def detectable(self, version: BaselineVersion):
        return detectable_table(version)

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
    readonly_fields = ["asset", "purpose", "profile", "ticket", "verdict", "summary", "what_next", "baseline_version",
                       "requested_at", "started_at", "finished_at", "runner", "disturbance", "raw_report"]
    fieldsets = [
        (None, {"fields": ["asset", "purpose", "profile", "ticket", "verdict", "summary", "what_next",
                           "baseline_version", "requested_at", "started_at", "finished_at", "runner"]}),
        ("What else the machine did during each curve", {"fields": ["disturbance"]}),
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

    @admin.display(description="What happens next")
    def what_next(self, inspection: Inspection) -> str:
        """Why a machine stays where it is: an inconclusive verdict is neither a pass nor a fail."""
        if inspection.verdict == Verdict.RUNNING and services.awaiting_confirmation(inspection):
            return "The first run failed on performance: the failing curves are being measured again before it counts."
        if inspection.verdict != Verdict.INCONCLUSIVE:
            return "—"
        later = Inspection.objects.filter(asset=inspection.asset, purpose=inspection.purpose, id__gt=inspection.id)
        if later.exists():
            return f"Inconclusive: inspection #{later.order_by('id').first().id} was asked for after it."
        tries = Inspection.objects.filter(asset=inspection.asset, purpose=inspection.purpose,
                                          verdict=Verdict.INCONCLUSIVE).count()
        return (f"Inconclusive (the machine was too disturbed to judge): it stays {inspection.asset.state}, neither "
                f"returned nor sent back to repair. Measured again automatically after a back-off, up to "
                f"{settings.DAM_INCONCLUSIVE_RETRIES} more times (this is try {tries}); after the last, staff decide.")

    @admin.display(description="Disturbance")
    def disturbance(self, inspection: Inspection):
        curves = ((inspection.raw or {}).get("disturbance") or {}).get("curves")
        if not curves:
            return "Not measured (an older agent, or no curve measured)."
        limits = services.disturbance_limits()
        over = verdict.disturbed_groups(inspection.raw["disturbance"], limits)
        head = format_html_join("", "<th>{}</th>", [(label,) for _, label in DISTURBANCE_COLUMNS])
        rows = format_html_join("", "<tr><td>{}{}</td>{}</tr>", [
            (group, " ⚠" if group in over else "",
             format_html_join("", "<td>{}</td>", [("—" if figures.get(k) is None else figures[k],)
                                                  for k, _ in DISTURBANCE_COLUMNS]))
            for group, figures in curves.items()])
        limits_text = ", ".join(f"{k} {v:g}" for k, v in limits.items()) or "none"
        return format_html('<table><tr><th>curve</th>{}</tr>{}</table><p class="muted">Limits: {}. ⚠: past a limit '
                           '(a failing curve measured so is inconclusive, not failed).</p>', head, rows, limits_text)

    @admin.display(description="Raw report")
    def raw_report(self, inspection: Inspection):
        return format_html("<pre>{}</pre>", json.dumps(inspection.raw, indent=2, sort_keys=True))
