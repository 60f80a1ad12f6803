"""Admin console for repair tickets: the technicians' queue.

Technicians take tickets (assign to me), edit the assignee and notes and move a ticket between open and in
progress. Resolving goes through the lifecycle (lifecycle/) (it sends the machine to verification); tickets are opened and
closed by the lifecycle only.
"""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from console import ui
import lifecycle
from repairs import services
from repairs.choices import WORKABLE, RepairAction, TicketStatus
from repairs.models import RepairTicket

STATUS_TONE = {TicketStatus.OPEN: "warn", TicketStatus.IN_PROGRESS: "info", TicketStatus.RESOLVED: "good",
               TicketStatus.CANCELLED: "plain"}

# The fields a person edits; everything else on a ticket is written by the lifecycle.
EDITABLE = list(services.STAFF_FIELDS)


class NotesField(forms.CharField):
    """A browser sends a textarea's lines ending in CR LF; the notes are stored with LF. Read as stored, so notes
    nobody touched do not count as changed."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class RepairTicketForm(forms.ModelForm):
    class Meta:
        model = RepairTicket
        fields = EDITABLE
        field_classes = {"notes": NotesField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            # Resolving and cancelling move the asset too: they have their own button (Resolve) and transition
            # (dismiss), as in the API.
            self.fields["status"].choices = [(s.value, s.label) for s in WORKABLE]
        for field in self.fields.values():
            # The page sends back the values it was loaded with: what the technician changed is what differs
            # from those (not from the ticket as it is by now), and what they started from is known (seen()).
            field.show_hidden_initial = True

    def seen(self) -> dict:
        """The values of the editable fields when the page was loaded, for those the page sent back."""
        values = {}
        for name, field in self.fields.items():
            key = self.add_initial_prefix(name)
            if key in self.data:
                values[name] = field.to_python(field.hidden_widget().value_from_datadict(self.data, self.files, key))
        return values


class ResolveTicketForm(forms.Form):
    performed_action = forms.ChoiceField(
        choices=[("", "As planned on the ticket"), *RepairAction.choices], required=False, label="Repair done",
        help_text="Which rung of the ladder was done: the next incident of this machine escalates from it.")
    # Same limit as the API's resolve endpoint.
    action_taken = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80, "autofocus": True,
                                     "placeholder": "e.g. replaced DIMM B2 (serial …), memtest clean"}),
        help_text="What was done to the machine. It then goes to verification: an inspection checks it.",
    )


class QueueFilter(admin.SimpleListFilter):
    """The technician's views of the queue: everything still open, mine, nobody's, past its SLA."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("open", "Open (not closed)"), ("mine", "Mine to work on"), ("unassigned", "Unassigned"),
                ("overdue", "Overdue")]

    def queryset(self, request, queryset):
        # Mine, unassigned and overdue are the tickets someone still has to work on: a resolved ticket waits for
        # its machine's inspection, not for a technician.
        to_work = queryset.workable()
        match self.value():
            case "open":
                return queryset.unclosed()
            case "mine":
                return to_work.filter(assignee=request.user.get_username())
            case "unassigned":
                return to_work.filter(assignee="")
            case "overdue":
                return queryset.overdue()
        return queryset


@admin.register(RepairTicket)
class RepairTicketAdmin(admin.ModelAdmin):
    form = RepairTicketForm
    list_display = ["id", "asset_link", "asset_state", "status_badge", "repair_action", "summary", "assignee",
                    "opened", "due", "reopen_count"]
    list_display_links = ["id"]
    list_filter = [QueueFilter, "status", "repair_action"]
    search_fields = ["asset__hostname"]
    search_help_text = "Asset hostname."
    list_select_related = ["asset"]
    list_per_page = 100
    show_full_result_count = False
    actions = ["assign_to_me"]
    fields = ["asset", "status", "summary", "repair_action", "escalation", "assignee", "notes", "linked_faults",
              "performed_action", "action_taken", "opened_by", "opened_at", "due_at", "resolved_at", "closed_at",
              "reopen_count"]
    change_form_template = "admin/repairs/repairticket/change_form.html"

    # The queue's columns -----------------------------------------------------------------------------------
    @admin.display(description="Machine", ordering="asset__hostname")
    def asset_link(self, ticket: RepairTicket):
        return format_html('<a href="{}">{}</a>', reverse("admin:assets_asset_change", args=[ticket.asset_id]),
                           ticket.asset.hostname)

    @admin.display(description="Machine state", ordering="asset__state")
    def asset_state(self, ticket: RepairTicket):
        return ui.state_badge(ticket.asset.state)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, ticket: RepairTicket):
        return ui.badge(ticket.get_status_display(), STATUS_TONE.get(ticket.status, ""))

    @admin.display(description="Opened", ordering="opened_at")
    def opened(self, ticket: RepairTicket):
        return format_html('<span title="{}">{} ago</span>', ticket.opened_at.strftime("%Y-%m-%d %H:%M UTC"),
                           _short_age(timezone.now() - ticket.opened_at))

    @admin.display(description="Due", ordering="due_at")
    def due(self, ticket: RepairTicket):
        if not services.is_workable(ticket) or not ticket.due_at:
            return "—"  # resolved (waiting for its verification) or over: nothing is due from a technician
        left = ticket.due_at - timezone.now()
        if ticket.overdue:
            return ui.badge(f"overdue {_short_age(-left)}", "bad")
        return format_html('<span title="{}">in {}</span>', ticket.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                           _short_age(left))

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        """Take the selected tickets that are still open; a closed one is left as it is."""
        me = request.user.get_username()
        taken, skipped = [], []
        for ticket_id in queryset.values_list("id", flat=True)[:500]:
            if services.ticket_assign(ticket_id=ticket_id, assignee=me) is None:
                status = RepairTicket.objects.filter(pk=ticket_id).values_list("status", flat=True).first()
                skipped.append(f"#{ticket_id} ({status})")
            else:
                taken.append(f"#{ticket_id}")
        if taken:
            self.message_user(request, f"Assigned to you: {', '.join(taken)}.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Not assigned, no longer open: {', '.join(skipped)}.", messages.WARNING)

    def has_add_permission(self, request):
        return False  # a ticket is opened by the lifecycle when its asset enters repair

    def has_delete_permission(self, request, obj=None):
        return False  # the incident's record stays

    def get_readonly_fields(self, request, obj=None):
        editable = EDITABLE if obj is None or services.is_workable(obj) else ["assignee", "notes"]
        return [name for name in self.fields if name not in editable]

    @admin.display(description="Faults")
    def linked_faults(self, ticket: RepairTicket):
        rows = ticket.faults.order_by("-id")
        return format_html_join(
            "\n", '<div><a href="{}">#{}</a> {} {} {}: {}</div>',
            ((reverse("admin:assets_fault_change", args=[f.pk]), f.pk, f.observed_at.strftime("%Y-%m-%d %H:%M"),
              f.severity, f.component, f.summary) for f in rows),
        ) or "—"

    def save_model(self, request, obj, form, change):
        # Through the service, with only the fields the form changed: the lifecycle may resolve, close or reopen
        # this ticket while the form is open, and a full save would write its old status, notes or dates back.
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE}
        if "status" not in form.fields and request.POST.get("status", obj.status) not in (
                obj.status, request.POST.get(form.add_initial_prefix("status"))):
            # The page offered the status, but the ticket stopped being worked before it was sent (the field is
            # read-only by now, so the form does not even take it): say so rather than drop it in silence.
            self.message_user(request, f"Status not changed: the ticket is {obj.status} now.", messages.WARNING)
        if not changes:
            return
        current, refused = services.ticket_update(ticket_id=obj.pk, changes=changes, seen=form.seen())
        if "status" in refused and not services.is_workable(current):
            refused.remove("status")
            self.message_user(request, f"Status not changed: the ticket is {current.status} now.", messages.WARNING)
        if refused:
            self.message_user(request, f"Not saved, changed by someone else while you edited: {', '.join(refused)}. "
                                       "Here is the ticket as it is now; make your change again.", messages.WARNING)

    # The Resolve button ------------------------------------------------------------------------------------
    def get_urls(self):
        return [
            path("<path:object_id>/resolve/", self.admin_site.admin_view(self.resolve_view),
                 name="repairs_repairticket_resolve"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_resolve"] = obj is not None and services.is_workable(obj) and self.has_change_permission(request, obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def resolve_view(self, request, object_id):
        """Ask for the action taken, then resolve: the asset goes to verifying and is inspected."""
        ticket = self.get_object(request, object_id)
        if ticket is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, ticket):
            self.message_user(request, "You may not resolve repair tickets.", messages.ERROR)
            return redirect("admin:repairs_repairticket_change", object_id=ticket.pk)

        form = ResolveTicketForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                lifecycle.resolve_ticket(ticket_id=ticket.pk, actor=request.user.username,
                                         action_taken=form.cleaned_data["action_taken"],
                                         action=form.cleaned_data["performed_action"])
            except lifecycle.TicketConflict as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                ticket.refresh_from_db()
                ticket.asset.refresh_from_db()
                self.message_user(request, f"Ticket #{ticket.pk} resolved; {ticket.asset.hostname} is now "
                                           f"{ticket.asset.state}.", messages.SUCCESS)
            return redirect("admin:repairs_repairticket_change", object_id=ticket.pk)

        return TemplateResponse(request, "admin/repairs/repairticket/resolve_form.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": ticket,
            "form": form,
            "title": f"Resolve ticket #{ticket.pk}",
        })


def _short_age(delta) -> str:
    """3d 4h, 5h 10m, 12m: how long, at a glance."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
