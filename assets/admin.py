"""Admin console for the fleet: assets with their lifecycle buttons, hardware models, pools, faults, the audit trail.

State changes go through dam/lifecycle.py, never through the admin's own save: the lifecycle writes the audit row
and starts the follow-up jobs (repair ticket, inspection). Faults and audit rows are records and stay read-only.
"""
from django.contrib import admin, messages
from django.shortcuts import redirect
from django_fsm.admin import FSMAdminMixin

from assets.choices import Transition
from assets.forms import TransitionReasonForm
from assets.models import Asset, AssetTransition, Fault, HardwareModel, Pool
from dam import lifecycle

# How much of an asset's past its page shows; the full lists are one link away.
HISTORY_ROWS = 50
RECENT_ROWS = 20


def conflict_message(exc: lifecycle.TransitionConflict) -> str:
    """The admin's wording of the API's 409: what went wrong and what is allowed instead."""
    return f"{exc.detail} Allowed now: {', '.join(exc.allowed) or 'nothing by hand'}."


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are written by the system only (raw fault events, audit rows, inspections)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HardwareModel)
class HardwareModelAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "cpu_logical_cores", "memory_gib"]
    search_fields = ["name", "vendor"]  # also serves the autocomplete on the asset form

    @admin.display(description="Memory (GiB)", ordering="memory_bytes")
    def memory_gib(self, obj: HardwareModel) -> str:
        return f"{obj.memory_bytes / 2**30:.1f}"


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "probation_hours"]
    search_fields = ["name"]  # also serves the autocomplete on the asset form


@admin.register(Asset)
class AssetAdmin(FSMAdminMixin, admin.ModelAdmin):
    list_display = ["hostname", "state", "pool", "hardware_model", "site", "rack", "state_changed_at"]
    list_filter = ["state", "pool", "hardware_model", "site"]
    search_fields = ["hostname", "serial", "asset_tag"]
    search_help_text = "Hostname, serial or asset tag."
    list_select_related = ["pool", "hardware_model"]
    # Autocomplete: a select listing every pool or model is fine today, a search box stays fine as they grow.
    autocomplete_fields = ["hardware_model", "pool"]
    # A filtered page need not count the whole fleet a second time just to print "of 100000".
    show_full_result_count = False
    fields = ["hostname", "state", "state_changed_at", "hardware_model", "pool", "site", "rack", "serial",
              "asset_tag", "created_at"]
    # `state` is added by the mixin (protected FSM field); state_changed_at is the lifecycle's to set.
    readonly_fields = ["state_changed_at", "created_at"]

    # django-fsm-2's admin: it lists the transitions allowed now and asks for a reason in a form.
    fsm_fields = ["state"]
    fsm_forms = dict.fromkeys(Transition.values, TransitionReasonForm)
    # Our own templates: they add the asset's history, faults and tickets (django_fsm is not an installed app,
    # so its stock templates would not be found anyway).
    change_form_template = "admin/assets/asset/change_form.html"
    fsm_transition_form_template = "admin/assets/asset/transition_form.html"

    def has_delete_permission(self, request, obj=None):
        # Deleting an asset would delete its audit trail, faults and tickets with it.
        return False

    def response_change(self, request, obj):
        # The mixin would call any method named in the POST and fail with a 500 on a made-up name.
        name = request.POST.get(self.fsm_post_param)
        if name and name not in Transition.values:
            self.message_user(request, f"{name} is not a transition of the lifecycle.", messages.ERROR)
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
        if asset is not None and transition_name not in asset.manual_transitions():
            conflict = lifecycle.TransitionConflict(asset, transition_name)
            self.message_user(request, conflict_message(conflict), messages.ERROR)
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
            # Reverse relations only: this app does not import repairs (see assets/selectors.py).
            context.update(
                audit_rows=obj.transitions.all()[:HISTORY_ROWS],
                recent_faults=obj.faults.all()[:RECENT_ROWS],
                repair_tickets=obj.repair_tickets.order_by("-id")[:RECENT_ROWS],
                history_rows=HISTORY_ROWS,
                recent_rows=RECENT_ROWS,
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(Fault)
class FaultAdmin(ReadOnlyAdmin):
    list_display = ["id", "asset", "component", "severity", "summary", "detector", "observed_at", "received_at"]
    list_filter = ["component", "severity"]
    search_fields = ["asset__hostname", "summary"]
    list_select_related = ["asset"]
    show_full_result_count = False
    fields = ["asset", "component", "severity", "summary", "details", "detector", "event_id", "observed_at",
              "received_at"]


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
    list_display = ["at", "asset", "transition", "source", "target", "actor", "reason"]
    list_filter = [TransitionFilter]
    search_fields = ["asset__hostname", "actor"]
    list_select_related = ["asset"]
    show_full_result_count = False
    # Newest first by primary key: ids grow with time and the key is indexed; sorting the whole trail by `at`
    # is not.
    ordering = ["-id"]
    fields = ["asset", "transition", "source", "target", "actor", "reason", "at"]
