"""Admin console for repair tickets: the technicians' queue.

Technicians edit the assignee and notes and move a ticket between open and in progress. Resolving goes through
dam/lifecycle.py (it sends the machine to verification); tickets are opened and closed by the lifecycle only.
"""
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from dam import lifecycle
from repairs.choices import WORKABLE
from repairs.models import RepairTicket

# The fields a person edits; everything else on a ticket is written by the lifecycle.
EDITABLE = ["status", "assignee", "notes"]


def is_workable(ticket: RepairTicket) -> bool:
    return ticket.closed_at is None and ticket.status in WORKABLE


class RepairTicketForm(forms.ModelForm):
    class Meta:
        model = RepairTicket
        fields = EDITABLE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            # Resolving and cancelling move the asset too: they have their own button (Resolve) and transition
            # (dismiss), as in the API.
            self.fields["status"].choices = [(s.value, s.label) for s in WORKABLE]


class ResolveTicketForm(forms.Form):
    # Same limit as the API's resolve endpoint.
    action_taken = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="What was done to the machine. It then goes to verification: an inspection checks it.",
    )


@admin.register(RepairTicket)
class RepairTicketAdmin(admin.ModelAdmin):
    form = RepairTicketForm
    list_display = ["id", "asset", "status", "summary", "assignee", "opened_at", "resolved_at", "closed_at",
                    "reopen_count"]
    list_filter = ["status"]
    search_fields = ["asset__hostname"]
    search_help_text = "Asset hostname."
    list_select_related = ["asset"]
    show_full_result_count = False
    fields = ["asset", "status", "summary", "assignee", "notes", "linked_faults", "action_taken", "opened_by",
              "opened_at", "resolved_at", "closed_at", "reopen_count"]
    change_form_template = "admin/repairs/repairticket/change_form.html"

    def has_add_permission(self, request):
        return False  # a ticket is opened by the lifecycle when its asset enters repair

    def has_delete_permission(self, request, obj=None):
        return False  # the incident's record stays

    def get_readonly_fields(self, request, obj=None):
        editable = EDITABLE if obj is None or is_workable(obj) else ["assignee", "notes"]
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
        # Write only the fields the form edits: the lifecycle may resolve, close or reopen this ticket while the
        # form is being saved, and a full save would write its old status, notes or dates back.
        fields = [name for name in form.changed_data if name in EDITABLE]
        if not fields:
            return
        with transaction.atomic():
            current = RepairTicket.objects.select_for_update().get(pk=obj.pk)
            if "status" in fields and not is_workable(current):
                fields.remove("status")
                self.message_user(request, f"Status not changed: the ticket is {current.status} now.",
                                  messages.WARNING)
            if fields:
                obj.save(update_fields=fields)

    # The Resolve button ------------------------------------------------------------------------------------
    def get_urls(self):
        return [
            path("<path:object_id>/resolve/", self.admin_site.admin_view(self.resolve_view),
                 name="repairs_repairticket_resolve"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_resolve"] = obj is not None and is_workable(obj) and self.has_change_permission(request, obj)
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
                                         action_taken=form.cleaned_data["action_taken"])
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
