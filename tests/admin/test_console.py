"""The console beyond the stock admin: staff groups, bulk actions with a reason, the asset timeline, the ticket
queue, the inspection charts, inventory import and the fleet dashboard — and that none of its pages queries per row."""
import json
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from assets.choices import AssetState
from assets.models import Asset, AssetTransition, Fault, IsolationRequest
from console import dashboard, inspection_chart, timeline, ui
from console.groups import HARDWARE_STAFF, VIEWER
import lifecycle
from inspection.models import Inspection
from repairs import services
from repairs.models import RepairTicket
from tests.admin.test_admin import fault_on, in_repair, messages_of, passing_report

CHANGELIST = reverse("admin:assets_asset_changelist")
QUEUE = reverse("admin:repairs_repairticket_changelist")


@pytest.fixture(autouse=True)
def fresh_dashboard_figures():
    """The dashboard keeps its window figures in the shared cache; each test has its own fleet."""
    cache.clear()


def user_in(group: str, name: str) -> User:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def technician_client(client, db):
    client.force_login(user_in(HARDWARE_STAFF, "kim"))
    return client


@pytest.fixture
def viewer_client(client, db):
    client.force_login(user_in(VIEWER, "vic"))
    return client


def bulk(client, action: str, assets, **extra):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [a.pk for a in assets], **extra})


# Groups --------------------------------------------------------------------------------------------------------
def test_the_migration_creates_both_groups_with_their_permissions(db):
    staff = set(Group.objects.get(name=HARDWARE_STAFF).permissions.values_list("codename", flat=True))
    viewer = set(Group.objects.get(name=VIEWER).permissions.values_list("codename", flat=True))

    assert {"view_asset", "change_asset", "add_asset", "change_repairticket", "change_isolationrequest",
            "view_inspection", "view_fault"} <= staff
    assert {"view_asset", "view_repairticket", "view_inspection", "view_fault", "view_assettransition"} <= viewer
    assert not any(code.startswith(("add_", "change_", "delete_")) for code in viewer)
    assert not any(code.startswith("delete_") for code in staff)


def test_a_viewer_reads_everything_and_changes_nothing(viewer_client, asset):
    page = viewer_client.get(reverse("admin:assets_asset_change", args=[asset.pk]))
    transition = viewer_client.post(reverse("admin:assets_asset_transition", kwargs={
        "object_id": asset.pk, "transition_name": "isolate"}), {"reason": "because"})
    bulk_isolate = bulk(viewer_client, "isolate_selected", [asset], confirm="yes", reason="because")

    assert page.status_code == 200 and "fsm-transition" not in page.content.decode()
    assert viewer_client.get(reverse("console:dashboard")).status_code == 200
    assert transition.status_code == 302
    assert bulk_isolate.status_code in (200, 302)
    assert Asset.objects.get(pk=asset.pk).state == "active"
    assert not AssetTransition.objects.exists()


def test_hardware_staff_move_machines_from_the_console(technician_client, asset):
    response = technician_client.post(reverse("admin:assets_asset_transition", kwargs={
        "object_id": asset.pk, "transition_name": "isolate"}), {"reason": "PSU smells burnt"})

    assert response.status_code == 302
    row = AssetTransition.objects.get(asset=asset)
    assert (row.transition, row.actor, row.reason) == ("isolate", "kim", "PSU smells burnt")


# Bulk actions --------------------------------------------------------------------------------------------------
def test_bulk_isolate_asks_for_a_reason_then_reports_per_machine(technician_client, make_asset):
    ready = [make_asset("host-001"), make_asset("host-002")]
    busy = make_asset("host-003")
    lifecycle.isolate(asset_id=busy.id, actor="job:isolate_asset", reason="disk")

    confirm = bulk(technician_client, "isolate_selected", [*ready, busy])
    page = confirm.content.decode()
    assert confirm.status_code == 200 and 'name="reason"' in page
    assert "2 of 3 selected machines can be acted on now" in page and "it is isolated" in page
    assert not AssetTransition.objects.filter(asset__in=ready).exists()

    no_reason = bulk(technician_client, "isolate_selected", [*ready, busy], confirm="yes", reason="")
    assert no_reason.status_code == 200 and not AssetTransition.objects.filter(asset__in=ready).exists()

    done = bulk(technician_client, "isolate_selected", [*ready, busy], confirm="yes",
                reason="rack R07 loses power at 14:00")

    assert done.status_code == 302
    rows = AssetTransition.objects.filter(asset__in=ready, transition="isolate")
    assert {(r.asset.hostname, r.actor, r.reason) for r in rows} == {
        ("host-001", "kim", "rack R07 loses power at 14:00"), ("host-002", "kim", "rack R07 loses power at 14:00")}
    success, warning = messages_of(done)
    assert "Isolated: 2 machines (host-001, host-002)" in success
    assert "host-003" in warning and "it is isolated" in warning and "Allowed now" in warning


def test_bulk_dismiss_puts_false_alarms_back(technician_client, make_asset):
    assets = [make_asset(f"host-{n}") for n in range(2)]
    for a in assets:
        lifecycle.isolate(asset_id=a.id, actor="job:isolate_asset", reason="flaky detector")

    response = bulk(technician_client, "dismiss_selected", assets, confirm="yes", reason="detector bug #12")

    assert response.status_code == 302
    assert set(Asset.objects.values_list("state", flat=True)) == {"active"}
    assert AssetTransition.objects.filter(transition="dismiss", reason="detector bug #12").count() == 2


def test_bulk_approve_isolates_what_waited_for_the_budget(technician_client, make_asset, pool):
    pool.max_unavailable = "0"
    pool.save()
    waiting = make_asset("host-waiting")
    other = make_asset("host-other")
    fault = fault_on(waiting)
    assert lifecycle.isolate_for_faults([(waiting.id, fault.id, "")])[waiting.id] == "pending_approval"

    page = technician_client.get(CHANGELIST, {"pending_approval": "yes"})
    assert [a.hostname for a in page.context["cl"].result_list] == ["host-waiting"]

    response = bulk(technician_client, "approve_isolation_selected", [waiting, other], confirm="yes",
                    reason="budget is fine, the spare pool took the load")

    assert response.status_code == 302
    assert Asset.objects.get(pk=waiting.pk).state == "isolated"
    assert IsolationRequest.objects.get(asset=waiting).status == "approved"
    row = AssetTransition.objects.get(asset=waiting)
    assert row.actor == "kim" and "the spare pool took the load" in row.reason
    assert any("host-other (no isolation waits for approval)" in m for m in messages_of(response))


def test_bulk_exclude_from_automation_keeps_the_reason_on_the_timeline(technician_client, asset):
    response = bulk(technician_client, "exclude_from_automation_selected", [asset], confirm="yes",
                    reason="burn-in test this week")

    assert response.status_code == 302
    assert Asset.objects.get(pk=asset.pk).exclude_from_automation is True
    assert "burn-in test this week" in LogEntry.objects.get(object_id=str(asset.pk)).get_change_message()
    page = technician_client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()
    assert "Excluded from automation: burn-in test this week" in page
    assert "excluded from automation" in page


# The asset list's filters ----------------------------------------------------------------------------------------
def test_open_ticket_and_overdue_filters(technician_client, make_asset):
    make_asset("host-fine")
    late = make_asset("host-late")
    ticket = in_repair(late)
    RepairTicket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(hours=1))
    in_repair(make_asset("host-fresh"))

    def hostnames(**params):
        return sorted(a.hostname for a in technician_client.get(CHANGELIST, params).context["cl"].result_list)

    assert hostnames(open_ticket="yes") == ["host-fresh", "host-late"]
    assert hostnames(open_ticket="no") == ["host-fine"]
    assert hostnames(overdue="yes") == ["host-late"]
    page = technician_client.get(CHANGELIST, {"overdue": "yes"}).content.decode()
    assert "overdue" in page and 'class="badge state-in_repair"' in page


def test_a_resolved_ticket_past_its_due_time_is_overdue_nowhere(technician_client, make_asset):
    """Overdue is one definition (the contract's additions): still being worked (open or in_progress) past
    due_at. A resolved ticket that waits for its machine's verification is unclosed but not overdue — not in the
    asset list's filter and column, not in the ticket queue, not on the dashboard."""
    late = in_repair(make_asset("host-late"))
    waiting = in_repair(make_asset("host-waiting"))
    lifecycle.resolve_ticket(ticket_id=waiting.id, actor="tech", action_taken="replaced disk")
    RepairTicket.objects.filter(pk__in=[late.pk, waiting.pk]).update(due_at=timezone.now() - timedelta(hours=2))
    assert RepairTicket.objects.get(pk=waiting.pk).closed_at is None

    assets = technician_client.get(CHANGELIST, {"open_ticket": "yes"})
    queue = technician_client.get(QUEUE, {"queue": "overdue"})
    live = technician_client.get(reverse("console:dashboard-data"), {"part": "live"}).json()

    assert [a.hostname for a in technician_client.get(CHANGELIST, {"overdue": "yes"}).context["cl"].result_list] == [
        "host-late"]
    rows = {a.hostname: a for a in assets.context["cl"].result_list}
    assert (rows["host-late"].open_ticket_overdue, rows["host-waiting"].open_ticket_overdue) == (True, False)
    assert assets.content.decode().count("tone-bad\">overdue") == 1
    assert [t.pk for t in queue.context["cl"].result_list] == [late.pk]
    assert (live["tickets"]["overdue"], live["tickets"]["open"]) == (1, 2)
    page = technician_client.get(QUEUE, {"queue": "open"}).content.decode()
    assert page.count(">overdue ") == 1  # the queue's Due column marks only the late one


def test_search_by_serial_and_asset_tag(technician_client, make_asset):
    make_asset("host-a", serial="SN-777", asset_tag="AT-1")
    make_asset("host-b", serial="SN-888", asset_tag="AT-2")

    assert [a.hostname for a in technician_client.get(CHANGELIST, {"q": "SN-888"}).context["cl"].result_list] == [
        "host-b"]
    assert [a.hostname for a in technician_client.get(CHANGELIST, {"q": "AT-1"}).context["cl"].result_list] == [
        "host-a"]


# The asset page's timeline ------------------------------------------------------------------------------------------
def test_the_timeline_merges_everything_newest_first(technician_client, asset):
    ticket = in_repair(asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced disk")
    inspection = Inspection.objects.get(asset=asset)
    lifecycle.inspection_finished(inspection_id=inspection.id, report=None, runner="worker:test", error="no agent")

    response = technician_client.get(reverse("admin:assets_asset_change", args=[asset.pk]))

    events = response.context["timeline"]
    kinds = {e.kind for e in events}
    assert {"fault", "transition", "ticket", "inspection"} <= kinds
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    titles = [e.title for e in events]
    assert titles.index("fail_verification: verifying → in_repair") < titles.index(
        "start_verification: in_repair → verifying") < titles.index("isolate: active → isolated")
    page = response.content.decode()
    assert "replaced disk" in page and "critical disk fault" in page and f"inspection #{inspection.pk} error" in page


def test_the_asset_page_offers_only_what_the_state_allows(technician_client, asset):
    ticket = in_repair(asset)
    page = technician_client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()

    assert "transition-start_verification" in page and "transition-retire" in page
    assert "transition-isolate" not in page and "transition-dismiss" not in page
    assert f"#{ticket.pk}" in page


# The ticket queue --------------------------------------------------------------------------------------------------
def test_queue_mine_unassigned_overdue_and_assign_to_me(technician_client, make_asset):
    first = in_repair(make_asset("host-1"))
    second = in_repair(make_asset("host-2"))
    RepairTicket.objects.filter(pk=second.pk).update(due_at=timezone.now() - timedelta(minutes=5))

    def ids(queue):
        return sorted(t.pk for t in technician_client.get(QUEUE, {"queue": queue}).context["cl"].result_list)

    assert ids("unassigned") == sorted([first.pk, second.pk]) and ids("mine") == []
    assert ids("overdue") == [second.pk]

    response = technician_client.post(QUEUE, {"action": "assign_to_me", "_selected_action": [first.pk]})

    assert response.status_code == 302
    assert ids("mine") == [first.pk] and ids("unassigned") == [second.pk]
    first.refresh_from_db()
    assert first.assignee == "kim" and "Assigned to kim" in first.notes
    assert "overdue" in technician_client.get(QUEUE, {"queue": "overdue"}).content.decode()


def test_the_ticket_form_keeps_a_resolve_that_happened_while_it_was_open(technician_client, asset):
    """The form was loaded when the ticket was open; the technician saves a new assignee after the lifecycle
    resolved it: the resolve stays, the assignee is saved, the status the form still shows is not written back."""
    ticket = in_repair(asset)
    url = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
    form = technician_client.get(url).context["adminform"].form
    loaded = {name: form.initial[name] for name in ("status", "assignee", "notes")}
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced disk")

    # What a browser sends: the fields (the notes' lines ending in CR LF) and the values the page was loaded with.
    response = technician_client.post(url, {
        "status": "in_progress", "assignee": "kim", "notes": loaded["notes"].replace("\n", "\r\n"),
        **{f"initial-{name}": value for name, value in loaded.items()}})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.action_taken) == ("resolved", "kim", "replaced disk")
    assert "Resolved by tech" in ticket.notes
    assert any("Status not changed: the ticket is resolved now" in m for m in messages_of(response))


def test_notes_edited_over_a_note_added_meanwhile_are_not_saved_over_it(technician_client, asset):
    ticket = in_repair(asset)
    url = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
    loaded = technician_client.get(url).context["adminform"].form.initial
    services.ticket_note(ticket=RepairTicket.objects.get(pk=ticket.pk), text="BMC: power cycle failed")

    response = technician_client.post(url, {
        "status": "open", "assignee": "kim", "notes": loaded["notes"] + "\r\nparts ordered",
        **{f"initial-{name}": loaded[name] for name in ("status", "assignee", "notes")}})

    ticket.refresh_from_db()
    assert ticket.assignee == "kim" and "BMC: power cycle failed" in ticket.notes
    assert "parts ordered" not in ticket.notes
    assert any("changed by someone else while you edited: notes" in m for m in messages_of(response))


def test_resolve_with_the_repair_done(technician_client, asset):
    ticket = in_repair(asset)

    response = technician_client.post(reverse("admin:repairs_repairticket_resolve", kwargs={"object_id": ticket.pk}),
                                      {"performed_action": "reimage", "action_taken": "reimaged, memtest clean"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.performed_action, ticket.action_taken) == (
        "resolved", "reimage", "reimaged, memtest clean")


# Inspection charts -------------------------------------------------------------------------------------------------
def test_the_inspection_page_draws_each_check_and_marks_the_failing_one(admin_client, asset):
    ticket = in_repair(asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="swapped DIMM")
    inspection = Inspection.objects.get(asset=asset)
    model = asset.hardware_model
    report = {"inventory": {"cpu_logical_cores": model.cpu_logical_cores,
                            "memory_total_bytes": model.memory_bytes // 2, "disks": model.disks},
              "measurements": {"cpu.sha256_mb_per_s": 100.0, "memory.copy_mb_per_s": 100.0,
                               "disk.seq_write_mb_per_s": 100.0, "disk.fsync_p50_ms": 1.0}}
    lifecycle.inspection_finished(inspection_id=inspection.id, report=report, runner="agent:host-001")

    page = admin_client.get(reverse("admin:inspection_inspection_change", args=[inspection.pk])).content.decode()

    assert 'class="verdict-banner failed"' in page and "Failed: memory" in page
    assert 'class="bullet fail" data-check="inventory.memory_total_bytes"' in page
    assert 'class="bullet pass"' in page


def test_the_verification_engines_curve_points_are_drawn_with_their_own_band():
    check = SimpleNamespace(name="disk.seq_write_mb_per_s", unit="MB/s", expected=1400.0, limit=1200.0, passed=False,
                            points=[{"key": "disk.seq_write_mb_per_s[4KiB]", "x": 4096, "label": "4 KiB",
                                     "measured": 300.0, "expected": 320.0, "low": 280.0, "high": 360.0, "passed": True},
                                    {"key": "disk.seq_write_mb_per_s[1MiB]", "x": 1048576, "label": "1 MiB",
                                     "measured": 600.0, "expected": 1400.0, "low": 1200.0, "high": 1600.0,
                                     "passed": False}])

    curve = inspection_chart.curve(check)

    assert [(p["label"], p["y"], p["lo"], p["hi"], p["fail"]) for p in curve["points"]] == [
        ("4 KiB", 300.0, 280.0, 360.0, False), ("1 MiB", 600.0, 1200.0, 1600.0, True)]


def test_a_model_with_two_filesystems_gets_a_bullet_for_each_not_a_curve(admin_client, asset):
    model = asset.hardware_model
    model.disks = [{"mount": "/", "size_bytes": 100 * 1024 ** 3}, {"mount": "/data", "size_bytes": 400 * 1024 ** 3}]
    model.save()
    ticket = in_repair(asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="swapped the data disk")
    inspection = Inspection.objects.get(asset=asset)
    report = {"inventory": {"cpu_logical_cores": model.cpu_logical_cores, "memory_total_bytes": model.memory_bytes,
                            "disks": [{"mount": "/", "size_bytes": 100 * 1024 ** 3},
                                      {"mount": "/data", "size_bytes": 300 * 1024 ** 3}]},
              "measurements": {"cpu.sha256_mb_per_s": 100.0, "memory.copy_mb_per_s": 100.0,
                               "disk.seq_write_mb_per_s": 100.0, "disk.fsync_p50_ms": 1.0}}
    lifecycle.inspection_finished(inspection_id=inspection.id, report=report, runner="agent:host-001")

    charts = inspection_chart.inspection_charts(inspection)
    page = admin_client.get(reverse("admin:inspection_inspection_change", args=[inspection.pk])).content.decode()

    assert not any(c["name"].startswith("inventory.") for c in charts["curves"])
    assert {b.name: b.passed for b in charts["bullets"] if b.name.startswith("inventory.disk")} == {
        "inventory.disk[/]": True, "inventory.disk[/data]": False}
    assert 'class="bullet pass" data-check="inventory.disk[/]"' in page
    assert 'class="bullet fail" data-check="inventory.disk[/data]"' in page
    assert "Filesystem /data size" in page


def test_a_check_without_a_curve_draws_its_bullet_only():
    check = SimpleNamespace(name="disk.fsync_p50_ms", unit="ms", measured=40.0, expected=0.25, limit=5.25,
                            passed=False, detail="slow")

    bullet = inspection_chart.bullet(check)

    assert inspection_chart.curve(check) is None
    assert bullet.band_from == 0 and 0 < bullet.band_to < bullet.measured_at == 100 / 1.15


# Inventory import --------------------------------------------------------------------------------------------------
GOOD_CSV = "hostname,hardware_model,pool,serial,site,rack\nnew-001,test-model,batch,SN1,ams1,R1\nhost-001,,,SN-NEW,,\n"


def test_import_command_dry_run_then_import(asset, tmp_path, capsys):
    path = tmp_path / "inventory.csv"
    path.write_text(GOOD_CSV)

    call_command("import_inventory", str(path), "--dry-run")
    assert "1 to create, 1 to update" in capsys.readouterr().out
    assert not Asset.objects.filter(hostname="new-001").exists()

    call_command("import_inventory", str(path))

    created = Asset.objects.get(hostname="new-001")
    assert (created.state, created.pool.name, created.serial, created.rack) == ("active", "batch", "SN1", "R1")
    asset.refresh_from_db()
    assert (asset.serial, asset.site) == ("SN-NEW", "")  # an empty cell leaves the field as it was


def test_import_lists_every_bad_row_and_imports_nothing(asset, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("hostname,hardware_model,pool\nok-1,test-model,batch\nbad host,test-model,batch\n"
                    "ok-2,nope-model,batch\nok-1,test-model,batch\nok-3,test-model,\n")

    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_inventory", str(path))

    errors = capsys.readouterr().err
    assert "line 3: bad host: hostname: 'bad host' is not a valid host name" in errors
    assert "line 4: ok-2: hardware_model: unknown 'nope-model'" in errors
    assert "line 5: ok-1: hostname: 'ok-1' appears already on line 2" in errors
    assert "line 6: ok-3: pool: required for a new machine" in errors
    assert not Asset.objects.filter(hostname__startswith="ok-").exists()


def test_import_page_previews_then_imports(technician_client, asset):
    url = reverse("admin:assets_asset_import")

    preview = technician_client.post(url, {"csv_text": GOOD_CSV, "dry_run": "1"})
    page = preview.content.decode()
    assert preview.status_code == 200 and "Dry run: nothing written yet" in page
    assert "serial:" in page and "SN-NEW" in page and not Asset.objects.filter(hostname="new-001").exists()

    done = technician_client.post(url, {"csv_text": GOOD_CSV, "apply": "1"})

    assert done.status_code == 302
    assert Asset.objects.filter(hostname="new-001").exists()
    assert any("1 created, 1 updated" in m for m in messages_of(done))


def test_import_page_with_errors_offers_no_import_button(technician_client, asset):
    response = technician_client.post(reverse("admin:assets_asset_import"),
                                      {"csv_text": "hostname,colour\nx,red\n", "dry_run": "1"})
    page = response.content.decode()
    assert "Unknown column(s): colour" in page and 'name="apply"' not in page


def test_a_viewer_cannot_import(viewer_client):
    response = viewer_client.post(reverse("admin:assets_asset_import"), {"csv_text": GOOD_CSV, "apply": "1"})
    assert response.status_code == 302 and not Asset.objects.exists()


# A state's label, colour and description: assets/choices.py, read by every page ------------------------------------
def test_every_page_and_the_dashboard_read_the_states_from_their_choices(technician_client, make_asset):
    """Label, colour and description live with the states (assets/choices.py): the badge shows the label with the
    description as its tooltip, every console page carries the colours as styles, the dashboard hands them to its
    script. Nothing parses a label or keeps a colour of its own."""
    asset = make_asset("host-new", state="new")
    new, returned = AssetState.NEW, AssetState.RETURNED

    assert str(ui.state_badge("new")) == f'<span class="badge state-new" title="{escape(new.description)}">New</span>'
    assert ">Returned<" in str(ui.state_badge("returned")) and returned.description.startswith("Back in service")
    page = technician_client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()
    assert f'<span class="badge big state-new" title="{escape(new.description)}">New</span>' in page
    for state in AssetState:
        assert f"--c-{state.value}: {state.colour}; --c-{state.value}-bg: {state.background};" in page

    dashboard_page = technician_client.get(reverse("console:dashboard"))
    script_data = json.loads(re.search(r'<script id="asset-states" type="application/json">(.*?)</script>',
                                       dashboard_page.content.decode(), re.S).group(1))
    assert [(s["value"], s["label"], s["colour"]) for s in script_data] == [
        (s.value, s.label, s.colour) for s in AssetState]

    static = Path(settings.BASE_DIR) / "console" / "static" / "console"
    script, css = (static / "dashboard.js").read_text(), (static / "console.css").read_text()
    assert not [s for s in AssetState if f'"{s.value}"' in script]  # no list of states, no made-up labels
    assert ".replace(" not in script and ".split(" not in script
    assert not [s for s in AssetState if f"--c-{s.value}:" in css or f".state-{s.value}" in css]


def test_a_transition_on_the_timeline_takes_its_target_state_colour(technician_client, asset):
    lifecycle.isolate(asset_id=asset.id, actor="job:isolate", reason="critical disk fault")

    [event] = [e for e in timeline.asset_timeline(asset) if e.kind == "transition"]
    page = technician_client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()

    assert event.marker == "state-isolated"
    assert '<li class="state-isolated" data-kind="transition">' in page
    assert "ol.timeline li.state-isolated::before { background: var(--c-isolated); }" in page


# The dashboard -----------------------------------------------------------------------------------------------------
def test_dashboard_figures_from_the_audit_trail(admin_client, make_asset):
    now = timezone.now()
    repaired = make_asset("host-repaired")
    ticket = in_repair(repaired)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced disk")
    inspection = Inspection.objects.get(asset=repaired)
    # A returned machine, isolated yesterday at noon (the audit rows say when). A fixed hour of the day, not
    # "30 hours ago": that lands the day before yesterday whenever the suite runs before 06:00.
    isolated_at = (now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    AssetTransition.objects.filter(asset=repaired, transition="isolate").update(at=isolated_at)
    lifecycle.inspection_finished(inspection_id=inspection.id, runner="worker:test",
                                  report=healthy_report(repaired.hardware_model))
    in_repair(make_asset("host-broken"))
    make_asset("host-fine")

    data = admin_client.get(reverse("console:dashboard-data")).json()

    assert data["live"]["by_state"]["returned"] == 1 and data["live"]["by_state"]["in_repair"] == 1
    assert data["live"]["total"] == 3 and data["live"]["out_of_service"] == 1
    assert data["live"]["pools"] == [{"pool": "batch", "states": data["live"]["by_state"], "total": 3,
                                      "out_of_service": 1}]
    assert data["time_to_repair"]["repairs"] == 1 and data["time_to_repair"]["mean_hours"] == pytest.approx(
        (now - isolated_at).total_seconds() / 3600, abs=0.1)
    assert data["first_time_fix"] == {"closed": 1, "first_time": 1, "rate_pct": 100.0}
    assert data["per_day"]["isolations"][-2:] == [1, 1]
    assert data["per_day"]["returns"][-1] == 1
    [model] = data["failure_rates"]["by_model"]
    assert (model["machines"], model["incidents"], model["rate"]) == (3, 2, pytest.approx(66.67))
    assert data["failure_rates"]["by_component"] == [{"name": "disk", "incidents": 2}]
    assert admin_client.get(reverse("console:dashboard-data"), {"part": "live"}).json()["total"] == 3


def test_dashboard_page_draws_from_local_files_only(admin_client, asset):
    page = admin_client.get(reverse("console:dashboard")).content.decode()

    assert "console/vendor/chart.umd.min.js" in page and 'id="dashboard-data"' in page
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)  # every script, style and link is DAM's own


def test_dashboard_needs_a_login(client, db):
    assert client.get(reverse("console:dashboard-data")).status_code == 302


def healthy_report(model) -> dict:
    return passing_report(model)


def test_repeat_offenders_are_the_machines_with_several_incidents(db, make_asset):
    flaky = make_asset("host-flaky")
    in_repair(flaky)
    lifecycle.retire(asset_id=flaky.id, actor="kim", reason="third PSU this month")
    lifecycle.reinstate(asset_id=flaky.id, actor="kim", reason="new PSU batch arrived")
    lifecycle.start_repair(asset_id=flaky.id, actor="job:open_repair_ticket")
    in_repair(make_asset("host-once"))

    offenders = dashboard.repeat_offenders(timezone.now() - timedelta(days=90))

    assert [(o["hostname"], o["incidents"], o["state"]) for o in offenders] == [("host-flaky", 2, "in_repair")]


# No page queries per row ---------------------------------------------------------------------------------------------
def _grow(make_asset, start: int, count: int):
    for n in range(start, start + count):
        asset = make_asset(f"grow-{n:03}")
        ticket = in_repair(asset)
        for _ in range(3):
            fault_on(asset, f"repeat {n}")
        if n % 2 == 0:  # the first one too: every filtered page has a row from the start
            RepairTicket.objects.filter(pk=ticket.pk).update(assignee="kim", due_at=timezone.now() - timedelta(hours=1))


@pytest.mark.parametrize("url", [
    CHANGELIST, CHANGELIST + "?open_ticket=yes&overdue=yes&pending_approval=no",
    QUEUE, QUEUE + "?queue=mine", QUEUE + "?queue=overdue",
    reverse("console:dashboard"), reverse("console:dashboard-data"),
])
def test_console_pages_do_not_query_per_row(technician_client, make_asset, url, django_assert_max_num_queries):
    _grow(make_asset, 0, 1)
    with CaptureQueriesContext(connection) as few:
        assert technician_client.get(url).status_code == 200
    _grow(make_asset, 1, 6)

    with django_assert_max_num_queries(len(few)):
        technician_client.get(url)


def test_asset_page_queries_do_not_grow_with_its_past(technician_client, asset, django_assert_max_num_queries):
    url = reverse("admin:assets_asset_change", args=[asset.pk])
    in_repair(asset)
    with CaptureQueriesContext(connection) as few:
        assert technician_client.get(url).status_code == 200
    Fault.objects.bulk_create([Fault(asset=asset, component="disk", severity="warning", summary=f"w{n}",
                                     detector="smartd") for n in range(300)])

    with django_assert_max_num_queries(len(few)):
        response = technician_client.get(url)
    assert len(response.context["timeline"]) == 100
