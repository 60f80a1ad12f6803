"""Admin console for the fleet: assets with their lifecycle buttons and one timeline, bulk actions, inventory
import, hardware models, pools, faults, the audit trail and isolations waiting for approval.

State changes go through the lifecycle (lifecycle/), never through the admin's own save: the lifecycle writes the audit row
and starts the follow-up jobs (repair ticket, inspection). Faults and audit rows are records and stay read-only.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.db import IntegrityError
from django.db.models import BooleanField, ExpressionWrapper
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters
from django_fsm import can_proceed
from django_fsm.admin import FSMAdminMixin

from assets.choices import RequestStatus, Transition
from assets.filtersets import AssetFilterSet
from assets.forms import AssetForm, BulkReasonForm, InventoryUploadForm, PowerReasonForm, TransitionReasonForm
from assets.models import (Asset, AssetTransition, AutomationDecision, Fault, FleetAutomation, HardwareModel,
                           IsolationRequest, Pool)
from console import inventory, timeline, ui
from console.ui import ReadOnlyAdmin
import lifecycle
from integrations import bmc

# The BMC's power actions, as the asset page's buttons name them.
POWER_LABELS = {"status": "Power status", "on": "Power on", "off": "Power off", "cycle": "Power cycle"}
# How much of an asset's past its page shows; the full lists are one link away.
TIMELINE_ROWS = 100
# A bulk action acts on at most this many machines at once: each one is its own locked transaction.
BULK_LIMIT = 500


def conflict_message(exc: lifecycle.TransitionConflict) -> str:
    """The admin's wording of the API's 409: what went wrong and what is allowed instead."""
    return f"{exc.detail} Allowed now: {', '.join(exc.allowed) or 'nothing by hand'}."


@admin.register(HardwareModel)
class HardwareModelAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "cpu_logical_cores", "memory_gib"]
    search_fields = ["name", "vendor"]  # also serves the autocomplete on the asset form

    @admin.display(description="Memory (GiB)", ordering="memory_bytes")
    def memory_gib(self, obj: HardwareModel) -> str:
        return f"{obj.memory_bytes / 2**30:.1f}"


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "automation", "isolate_on", "max_unavailable", "probation_hours",
                    "scheduled_checks"]
    search_fields = ["name"]  # also serves the autocomplete on the asset form


# The asset list's filters ----------------------------------------------------------------------------------------
def _open_ticket_model():
    return Asset._meta.get_field("repair_tickets").related_model


class YesNoFilter(admin.SimpleListFilter):
    """One of the API's asset filters (assets/filtersets.py, by `parameter_name`), asked yes or no: one definition
    serves both."""

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        value = {"yes": True, "no": False}.get(self.value())
        if value is None:
            return queryset
        return AssetFilterSet.base_filters[self.parameter_name].filter(queryset, value)


class HasOpenTicketFilter(YesNoFilter):
    title = "open repair ticket"
    parameter_name = "open_ticket"


class OverdueFilter(YesNoFilter):
    """The repair is past its SLA and still to be done (a resolved ticket waits for its inspection instead)."""

    title = "repair overdue"
    parameter_name = "overdue"


class PendingApprovalFilter(YesNoFilter):
    title = "isolation pending approval"
    parameter_name = "pending_approval"


class AutomationFilter(admin.SimpleListFilter):
    """Two of the API's asset filters in one menu: exclude_from_automation=true, flapping=true."""

    title = "automation"
    parameter_name = "automation"
    FILTERS = {"excluded": "exclude_from_automation", "flapping": "flapping"}

    def lookups(self, request, model_admin):
        return [("excluded", "Excluded from automation"), ("flapping", "Flapping")]

    def queryset(self, request, queryset):
        if self.value() in self.FILTERS:
            return AssetFilterSet.base_filters[self.FILTERS[self.value()]].filter(queryset, True)
        return queryset


class AssetChangeList(ChangeList):
    """The asset list, with what each row shows beyond the asset itself (its open repair ticket, an isolation
    waiting for approval) read for the page's rows only: two queries, however deep into the fleet the page is.
    (As annotations they would be computed for every row an OFFSET skips.)"""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        ids = [asset.pk for asset in self.result_list]
        Ticket = _open_ticket_model()
        tickets = {asset_id: (ticket_id, overdue) for asset_id, ticket_id, overdue in Ticket.objects.unclosed().filter(
            asset_id__in=ids).annotate(is_overdue=ExpressionWrapper(Ticket.objects.overdue_condition(),
                                                                    output_field=BooleanField()))
            .values_list("asset_id", "id", "is_overdue")}
        pending = set(IsolationRequest.objects.filter(asset_id__in=ids, status=RequestStatus.PENDING)
                      .values_list("asset_id", flat=True))
        for asset in self.result_list:
            asset.open_ticket_id, asset.open_ticket_overdue = tickets.get(asset.pk, (None, False))
            asset.pending_approval = asset.pk in pending


@admin.register(Asset)
class AssetAdmin(FSMAdminMixin, admin.ModelAdmin):
    list_display = ["hostname", "state_badge", "pool", "hardware_model", "site", "rack", "open_ticket",
                    "flags", "state_since"]
    list_filter = ["state", "pool", "site", "hardware_model", HasOpenTicketFilter, OverdueFilter,
                   PendingApprovalFilter, AutomationFilter]
    search_fields = ["hostname", "serial", "asset_tag"]
    search_help_text = "Hostname, serial or asset tag (part of it is enough)."
    list_select_related = ["pool", "hardware_model"]
    list_per_page = 100
    # Autocomplete: a select listing every pool or model is fine today, a search box stays fine as they grow.
    autocomplete_fields = ["hardware_model", "pool"]
    # A filtered page need not count the whole fleet a second time just to print "of 100000".
    show_full_result_count = False
    form = AssetForm  # the one hostname rule (assets/validators.py), the BMC password write-only
    fieldsets = [
        (None, {"fields": ["hostname", "state", "state_changed_at", "hardware_model", "pool", "site", "rack",
                           "serial", "asset_tag", "exclude_from_automation", "flapping", "created_at"]}),
        ("BMC (Redfish): out-of-band power", {"fields": ["bmc_url", "bmc_system", "bmc_username", "bmc_password",
                                                         "clear_bmc_password", "bmc_verify_tls"]}),
    ]
    # `state` is added by the mixin (protected FSM field); state_changed_at is the lifecycle's to set.
    readonly_fields = ["state_changed_at", "created_at"]
    actions = ["isolate_selected", "dismiss_selected", "approve_isolation_selected", "decline_isolation_selected",
               "exclude_from_automation_selected", "include_in_automation_selected"]

    # django-fsm-2's admin: it lists the transitions allowed now and permitted to this user, and asks for a
    # reason in a form.
    fsm_fields = ["state"]
    fsm_forms = dict.fromkeys(Transition.values, TransitionReasonForm)
    # Our own templates: they add the asset's summary and timeline (django_fsm is not an installed app, so its
    # stock templates would not be found anyway).
    change_form_template = "admin/assets/asset/change_form.html"
    change_list_template = "admin/assets/asset/change_list.html"
    fsm_transition_form_template = "admin/assets/asset/transition_form.html"

    def get_changelist(self, request, **kwargs):
        return AssetChangeList

    # Django's error reports (a 500 mailed or logged) show the POST: never the BMC password.
    @method_decorator(sensitive_post_parameters("bmc_password"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        # Deleting an asset would delete its audit trail, faults and tickets with it.
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("assets.change_isolationrequest")

    # The list's columns ----------------------------------------------------------------------------------------
    @admin.display(description="State", ordering="state")
    def state_badge(self, asset: Asset):
        return ui.state_badge(asset.state)

    @admin.display(description="Repair ticket")
    def open_ticket(self, asset: Asset):
        ticket_id = getattr(asset, "open_ticket_id", None)
        if not ticket_id:
            return "—"
        url = reverse("admin:repairs_repairticket_change", args=[ticket_id])
        if getattr(asset, "open_ticket_overdue", False):
            return format_html('<a href="{}">#{}</a> {}', url, ticket_id, ui.badge("overdue", "bad"))
        return format_html('<a href="{}">#{}</a>', url, ticket_id)

    @admin.display(description="Flags")
    def flags(self, asset: Asset):
        marks = []
        if getattr(asset, "pending_approval", False):
            marks.append(ui.badge("pending approval", "warn"))
        if asset.exclude_from_automation:
            marks.append(ui.badge("no automation", "plain"))
        if asset.flapping:
            marks.append(ui.badge("flapping", "bad"))
        return format_html(" ".join(["{}"] * len(marks)), *marks) if marks else ""

    @admin.display(description="Since", ordering="state_changed_at")
    def state_since(self, asset: Asset):
        return format_html('<time datetime="{}" title="{}">{}</time>', asset.state_changed_at.isoformat(),
                           asset.state_changed_at.strftime("%Y-%m-%d %H:%M UTC"),
                           asset.state_changed_at.strftime("%Y-%m-%d %H:%M"))

    # One machine: transitions and the timeline ----------------------------------------------------------------
    def response_change(self, request, obj):
        # The mixin would call any method named in the POST and fail with a 500 on a made-up name.
        name = request.POST.get(self.fsm_post_param)
        if name and name not in Transition.values:
            self.message_user(request, conflict_message(lifecycle.transition_refused(obj, name)), messages.ERROR)
            return redirect("admin:assets_asset_change", object_id=obj.pk)
        return super().response_change(request, obj)

    def is_fsm_transition_visible(self, transition) -> bool:
        # The same flag the API's 409 lists: only transitions a person may ask for get a button.
        return bool(transition.custom.get("manual"))

    def get_help_text(self, transition) -> str | None:
        # The transition method's docstring already says what it means in the staff's words.
        return transition.custom.get("help_text") or (transition.method.__doc__ or "").strip() or None

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        """The reason form, refused up front when the transition cannot be asked for now (or ever, by hand)."""
        asset = self.get_object(request, object_id)
        refused = lifecycle.transition_refused(asset, transition_name) if asset is not None else None
        if refused is not None:
            self.message_user(request, conflict_message(refused), messages.ERROR)
            return redirect("admin:assets_asset_change", object_id=asset.pk)
        if asset is not None and not self.has_change_permission(request, asset):
            self.message_user(request, "You may look at this machine but not move it.", messages.ERROR)
            return redirect("admin:assets_asset_change", object_id=asset.pk)
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:
        # Replaces the mixin's "call the method, obj.save()": the lifecycle step locks the row, writes the audit
        # row and starts the next job, exactly as for the API.
        reason = (kwargs or {}).get("reason", "")
        try:
            lifecycle.request_transition(asset=obj, transition=transition_name,
                                         actor=request.user.username, reason=reason)
        except lifecycle.TransitionConflict as exc:  # someone else moved it first
            obj.refresh_from_db()  # the form shown again says where the asset is now
            self.message_user(request, conflict_message(exc), messages.ERROR)
            return False
        obj.refresh_from_db()
        self.message_user(request, f"{obj.hostname}: {transition_name} done; it is now {obj.state}.",
                          messages.SUCCESS)
        return True

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            Ticket = _open_ticket_model()
            Inspection = Asset._meta.get_field("inspections").related_model
            context.update(
                timeline=timeline.asset_timeline(obj, rows=TIMELINE_ROWS),
                timeline_rows=TIMELINE_ROWS,
                timeline_kinds=timeline.KINDS,
                open_ticket=Ticket.objects.unclosed().filter(asset=obj).first(),
                last_inspection=Inspection.objects.filter(asset=obj).order_by("-id").first(),
                pending_request=obj.isolation_requests.filter(status=RequestStatus.PENDING).first(),
                power_actions=POWER_LABELS.items(),
                now=timezone.now(),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def save_model(self, request, obj, form, change):
        # Only the fields the form changed: the lifecycle may move this machine while the form is open, and a full
        # save would write its old state_changed_at back.
        if change:
            if fields := form.changed_model_fields():
                obj.save(update_fields=fields)
        else:
            obj.save()

    # Bulk actions: a confirmation page with the reason, then one lifecycle step per machine --------------------
    def _bulk(self, request, queryset, *, action: str, title: str, verb: str, check, apply, transition: str = ""):
        """Ask for a reason on a page listing what will happen to each machine; then do it, one machine at a
        time, and report per machine what was done and what was refused (and why)."""
        count = queryset.count()
        if count > BULK_LIMIT:
            self.message_user(request, f"{count} machines selected: at most {BULK_LIMIT} at once. Narrow the list "
                                       "with the filters.", messages.ERROR)
            return None
        assets = list(queryset.select_related("pool", "hardware_model").order_by("hostname"))
        form = BulkReasonForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            done, refused = [], []
            for asset in assets:
                try:
                    apply(asset, reason)
                    done.append(asset.hostname)
                except lifecycle.TransitionConflict as exc:
                    refused.append(f"{asset.hostname} ({conflict_message(exc)})")
                except lifecycle.RequestConflict as exc:
                    refused.append(f"{asset.hostname} ({exc.detail})")
                except ValueError as exc:
                    refused.append(f"{asset.hostname} ({exc})")
            if done:
                self.message_user(request, f"{verb}: {len(done)} machine{'s' if len(done) != 1 else ''} "
                                           f"({', '.join(done)}).", messages.SUCCESS)
            if refused:
                self.message_user(request, f"Not done for {len(refused)}: " + "; ".join(refused),
                                  messages.WARNING)
            return None
        rows = [(asset, check(asset)) for asset in assets]
        return TemplateResponse(request, "admin/assets/asset/bulk_confirm.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "action": action,
            "verb": verb,
            "rows": rows,
            "able": sum(1 for _, why_not in rows if not why_not),
            "form": form,
            "transition": transition,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "media": self.media,
        })

    def _transition_bulk(self, request, queryset, name: str, title: str, verb: str):
        def check(asset):
            if can_proceed(getattr(asset, name)):
                return ""
            return f"it is {asset.state}; allowed: {', '.join(asset.manual_transitions()) or 'nothing by hand'}"

        def apply(asset, reason):
            lifecycle.request_transition(asset=asset, transition=name, actor=request.user.username, reason=reason)

        return self._bulk(request, queryset, action=f"{name}_selected", title=title, verb=verb, check=check,
                          apply=apply, transition=name)

    @admin.action(description="Isolate selected machines…", permissions=["change"])
    def isolate_selected(self, request, queryset):
        return self._transition_bulk(request, queryset, "isolate", "Isolate machines", "Isolated")

    @admin.action(description="Dismiss (false alarm) selected isolated machines…", permissions=["change"])
    def dismiss_selected(self, request, queryset):
        return self._transition_bulk(request, queryset, "dismiss", "Dismiss isolations (false alarm)", "Dismissed")

    def _request_bulk(self, request, queryset, *, action: str, title: str, verb: str, decide):
        pending = dict(IsolationRequest.objects.filter(asset__in=queryset, status=RequestStatus.PENDING)
                       .values_list("asset_id", "id"))

        def check(asset):
            return "" if asset.pk in pending else "no isolation waits for approval"

        def apply(asset, reason):
            if asset.pk not in pending:
                raise ValueError("no isolation waits for approval")
            decide(request_id=pending[asset.pk], actor=request.user.username, reason=reason)

        return self._bulk(request, queryset, action=action, title=title, verb=verb, check=check, apply=apply)

    @admin.action(description="Approve pending isolation of selected machines…", permissions=["approve"])
    def approve_isolation_selected(self, request, queryset):
        return self._request_bulk(request, queryset, action="approve_isolation_selected",
                                  title="Approve isolations waiting for approval", verb="Approved and isolated",
                                  decide=lifecycle.approve_isolation)

    @admin.action(description="Decline pending isolation of selected machines…", permissions=["approve"])
    def decline_isolation_selected(self, request, queryset):
        return self._request_bulk(request, queryset, action="decline_isolation_selected",
                                  title="Decline isolations waiting for approval", verb="Declined",
                                  decide=lifecycle.dismiss_isolation_request)

    def _automation_bulk(self, request, queryset, *, exclude: bool):
        def check(asset):
            if asset.exclude_from_automation == exclude:
                return "already excluded" if exclude else "already under automation"
            return ""

        def apply(asset, reason):
            if check(asset):
                raise ValueError(check(asset))
            # Not a lifecycle transition (the state does not change): the reason goes into the console's log,
            # which the asset's timeline shows.
            Asset.objects.filter(pk=asset.pk).update(exclude_from_automation=exclude)
            what = "Excluded from automation" if exclude else "Put back under automation"
            self.log_change(request, asset, f"{what}: {reason}")

        action = "exclude_from_automation_selected" if exclude else "include_in_automation_selected"
        title = "Exclude from automation" if exclude else "Put back under automation"
        return self._bulk(request, queryset, action=action, title=title,
                          verb="Excluded from automation" if exclude else "Back under automation",
                          check=check, apply=apply)

    @admin.action(description="Exclude selected machines from automation…", permissions=["change"])
    def exclude_from_automation_selected(self, request, queryset):
        return self._automation_bulk(request, queryset, exclude=True)

    @admin.action(description="Put selected machines back under automation…", permissions=["change"])
    def include_in_automation_selected(self, request, queryset):
        return self._automation_bulk(request, queryset, exclude=False)

    # Inventory import -------------------------------------------------------------------------------------------
    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="assets_asset_import"),
            path("<path:object_id>/power/<str:action>/", self.admin_site.admin_view(self.power_view),
                 name="assets_asset_power"),
            *super().get_urls(),
        ]

    # Out-of-band power through the BMC: the same call as POST assets/{hostname}/power/ ----------------------------
    def power_view(self, request, object_id, action):
        """A reason form for one BMC action; then the call, its answer shown on the asset's page (and its
        timeline)."""
        asset = self.get_object(request, object_id)
        if asset is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        back = redirect("admin:assets_asset_change", object_id=asset.pk)
        if action not in POWER_LABELS:
            self.message_user(request, f"{action} is not a power action (status, on, off, cycle).", messages.ERROR)
            return back
        if not self.has_change_permission(request, asset):
            self.message_user(request, "You may look at this machine but not power it.", messages.ERROR)
            return back
        if not asset.has_bmc:
            self.message_user(request, f"{asset.hostname} has no BMC: set its BMC URL below.", messages.ERROR)
            return back
        form = PowerReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                call = bmc.power(asset=asset, action=action, actor=request.user.username,
                                 reason=form.cleaned_data["reason"])
            except bmc.BmcFailed as failure:
                self.message_user(request, f"The BMC of {asset.hostname} failed: {failure}", messages.ERROR)
            else:
                self.message_user(request, f"{asset.hostname} {POWER_LABELS[action].lower()}: {call.answer}.",
                                  messages.SUCCESS)
            return back
        return TemplateResponse(request, "admin/assets/asset/power_form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": asset, "action": action,
            "label": POWER_LABELS[action], "form": form, "title": f"{POWER_LABELS[action]}: {asset.hostname}",
        })

    def import_view(self, request):
        """Upload a CSV, see what every row would do (dry run), then import it."""
        if not self.has_add_permission(request):
            self.message_user(request, "You may not import inventory.", messages.ERROR)
            return redirect("admin:assets_asset_changelist")
        form = InventoryUploadForm(request.POST or None, request.FILES or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            text = form.text()
            apply = "apply" in request.POST
            try:
                preview = inventory.inventory_import(text, dry_run=not apply)
            except IntegrityError:
                self.message_user(request, "Someone added one of these machines meanwhile; check the file again.",
                                  messages.ERROR)
                preview = inventory.inventory_import(text, dry_run=True)
                apply = False
            if apply and preview.ok:
                counts = preview.counts
                self.message_user(request, f"Imported: {counts['create']} created, {counts['update']} updated, "
                                           f"{counts['unchanged']} unchanged.", messages.SUCCESS)
                return redirect("admin:assets_asset_changelist")
            form = InventoryUploadForm(initial={"csv_text": text})
        return TemplateResponse(request, "admin/assets/asset/import.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import inventory from CSV",
            "form": form,
            "preview": preview,
            "columns": inventory.COLUMNS,
        })


@admin.register(Fault)
class FaultAdmin(ReadOnlyAdmin):
    list_display = ["id", "asset", "component", "severity_badge", "summary", "detector", "observed_at",
                    "received_at"]
    list_filter = ["component", "severity"]
    search_fields = ["asset__hostname", "summary"]
    list_select_related = ["asset"]
    show_full_result_count = False
    fields = ["asset", "component", "severity", "summary", "details", "detector", "event_id", "repeat_of",
              "observed_at", "received_at"]

    @admin.display(description="Severity", ordering="severity")
    def severity_badge(self, fault: Fault):
        return ui.badge(fault.severity, ui.SEVERITY_TONE.get(fault.severity, ""))


class TransitionFilter(admin.SimpleListFilter):
    """The lifecycle's transition names, from the code: the default filter would read every audit row to list them."""

    title = "transition"
    parameter_name = "transition"

    def lookups(self, request, model_admin):
        return Transition.choices

    def queryset(self, request, queryset):
        return queryset.filter(transition=self.value()) if self.value() else queryset


@admin.register(AssetTransition)
class AssetTransitionAdmin(ReadOnlyAdmin):
    list_display = ["at", "asset", "transition", "source", "target_badge", "actor", "reason"]
    list_filter = [TransitionFilter]
    search_fields = ["asset__hostname", "actor"]
    list_select_related = ["asset"]
    show_full_result_count = False
    # Newest first by primary key: ids grow with time and the key is indexed; sorting the whole trail by `at`
    # is not.
    ordering = ["-id"]
    fields = ["asset", "transition", "source", "target", "actor", "reason", "at"]

    @admin.display(description="To", ordering="target")
    def target_badge(self, row: AssetTransition):
        return ui.state_badge(row.target)


@admin.register(IsolationRequest)
class IsolationRequestAdmin(ReadOnlyAdmin):
    """Isolations automation wanted but the pool's budget held back; staff decide them from the asset list's
    bulk actions (filter: isolation pending approval)."""

    list_display = ["id", "asset", "status", "reason", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["asset__hostname"]
    list_select_related = ["asset"]
    show_full_result_count = False


@admin.register(AutomationDecision)
class AutomationDecisionAdmin(ReadOnlyAdmin):
    list_display = ["at", "asset", "decision", "reason", "actor"]
    list_filter = ["decision"]
    search_fields = ["asset__hostname"]
    list_select_related = ["asset"]
    show_full_result_count = False
    ordering = ["-id"]


@admin.register(FleetAutomation)
class FleetAutomationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "reason", "changed_by", "changed_at"]
    fields = ["paused", "reason"]

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user.username
        super().save_model(request, obj, form, change)
