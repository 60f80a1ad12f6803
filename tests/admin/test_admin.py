"""The admin console, driven as hardware staff drive it: a logged-in superuser and the admin's own pages and forms."""
import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assets.models import Asset, AssetTransition, Fault
import lifecycle
from inspection.models import Inspection
from repairs.models import RepairTicket


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def transition_url(asset, name):
    return reverse("admin:assets_asset_transition", kwargs={"object_id": asset.pk, "transition_name": name})


def fault_on(asset, summary="SMART: reallocated sectors") -> Fault:
    return Fault.objects.create(asset=asset, component="disk", severity="critical", summary=summary,
                                detector="smartd")


def in_repair(asset) -> RepairTicket:
    """Take an asset from active to in_repair the way the jobs do, with a fault on its ticket."""
    fault_on(asset)
    lifecycle.isolate(asset_id=asset.id, actor="job:isolate", reason="critical disk fault")
    return lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")


def passing_report(model) -> dict:
    """What a healthy host of `model` reports: its spec's inventory and every baseline metric well on the good
    side. (Made up rather than measured: the console's tests are about the console, not about this machine's
    speed while other work runs on it.)"""
    return {"inventory": {"cpu_logical_cores": model.cpu_logical_cores, "memory_total_bytes": model.memory_bytes,
                          "disks": model.disks},
            "measurements": {b.metric: (b.expected * 10 if b.higher_is_better else b.expected / 10)
                             for b in model.baselines.all()}}


@pytest.fixture
def repaired_asset(make_asset):
    """An asset that went the whole way once: fault, repair, judged verification inspection, returned."""
    asset = make_asset("host-repaired")
    ticket = in_repair(asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced disk")
    inspection = Inspection.objects.get(asset=asset)
    report = passing_report(asset.hardware_model)
    lifecycle.inspection_finished(inspection_id=inspection.id, report=report, runner="worker:test")
    asset.refresh_from_db()
    assert asset.state == "returned"
    return asset


# Every page opens ---------------------------------------------------------------------------------------------
MODELS = ["assets.asset", "assets.hardwaremodel", "assets.pool", "assets.fault", "assets.assettransition",
          "repairs.repairticket", "inspection.inspection", "inspection.baseline"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_pages_open(admin_client, repaired_asset, model):
    app_label, model_name = model.split(".")
    obj = apps.get_model(app_label, model_name).objects.first()

    changelist = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    change = admin_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))

    assert changelist.status_code == 200
    assert change.status_code == 200


def test_asset_page_shows_history_faults_and_tickets(admin_client, repaired_asset):
    response = admin_client.get(reverse("admin:assets_asset_change", args=[repaired_asset.pk]))

    page = response.content.decode()
    assert "Lifecycle history" in page and "pass_verification" in page and "replaced disk" in page
    assert "SMART: reallocated sectors" in page
    ticket = RepairTicket.objects.get(asset=repaired_asset)
    assert reverse("admin:repairs_repairticket_change", args=[ticket.pk]) in page


@pytest.mark.parametrize("model", ["assets.assettransition", "assets.fault", "repairs.repairticket"])
def test_asset_page_links_to_its_whole_lists(admin_client, repaired_asset, make_asset, model):
    in_repair(make_asset("host-other"))
    url = reverse("admin:{}_{}_changelist".format(*model.split(".")))
    assert f"{url}?asset__id__exact={repaired_asset.pk}" in admin_client.get(
        reverse("admin:assets_asset_change", args=[repaired_asset.pk])).content.decode()

    response = admin_client.get(url, {"asset__id__exact": repaired_asset.pk})

    rows = response.context["cl"].result_list
    assert rows and {row.asset_id for row in rows} == {repaired_asset.pk}


def test_inspection_page_shows_its_checks(admin_client, repaired_asset):
    inspection = Inspection.objects.get(asset=repaired_asset)
    check = inspection.checks.first()

    response = admin_client.get(reverse("admin:inspection_inspection_change", args=[inspection.pk]))

    assert response.status_code == 200
    assert check.name in response.content.decode()


def test_records_are_read_only(admin_client, repaired_asset):
    fault = Fault.objects.first()
    for name in ["assets_fault_add", "assets_assettransition_add", "inspection_inspection_add",
                 "repairs_repairticket_add"]:
        assert admin_client.get(reverse(f"admin:{name}")).status_code == 403

    response = admin_client.post(reverse("admin:assets_fault_change", args=[fault.pk]),
                                 {"summary": "edited", "component": "cpu", "severity": "info"})

    assert response.status_code == 403
    fault.refresh_from_db()
    assert fault.summary == "SMART: reallocated sectors"


# The asset list ------------------------------------------------------------------------------------------------
def test_asset_list_filters_by_state(admin_client, make_asset):
    make_asset("host-001")
    lifecycle.isolate(asset_id=make_asset("host-002").id, actor="test", reason="test")

    response = admin_client.get(reverse("admin:assets_asset_changelist"), {"state__exact": "isolated"})

    assert response.status_code == 200
    assert [a.hostname for a in response.context["cl"].result_list] == ["host-002"]


def test_asset_list_searches_hostname(admin_client, make_asset):
    make_asset("rack1-node7")
    make_asset("rack2-node1")

    response = admin_client.get(reverse("admin:assets_asset_changelist"), {"q": "node7"})

    assert [a.hostname for a in response.context["cl"].result_list] == ["rack1-node7"]


def test_asset_created_from_admin_is_active(admin_client, hardware_model, pool):
    response = admin_client.post(reverse("admin:assets_asset_add"), {
        "hostname": "new-host", "hardware_model": hardware_model.pk, "pool": pool.pk, "site": "ams1",
        "rack": "", "serial": "SN1", "asset_tag": "",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Asset.objects.get(hostname="new-host").state == "active"


def test_editing_an_asset_leaves_its_state_alone(admin_client, asset):
    lifecycle.isolate(asset_id=asset.id, actor="test", reason="test")

    response = admin_client.post(reverse("admin:assets_asset_change", args=[asset.pk]), {
        "hostname": asset.hostname, "hardware_model": asset.hardware_model_id, "pool": asset.pool_id,
        "site": "fra2", "rack": "r12", "serial": "", "asset_tag": "", "state": "active",
    })

    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.state, asset.rack) == ("isolated", "r12")


# Transitions ---------------------------------------------------------------------------------------------------
def test_isolate_from_the_admin_asks_for_a_reason_and_runs_the_lifecycle(admin_client, admin_user, asset,
                                                                           eager_jobs):
    page = admin_client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()
    assert transition_url(asset, "isolate") in page
    form = admin_client.get(transition_url(asset, "isolate"))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()

    no_reason = admin_client.post(transition_url(asset, "isolate"), {"reason": ""})
    assert no_reason.status_code == 200  # the form again, with its error
    assert Asset.objects.get(pk=asset.pk).state == "active"

    response = admin_client.post(transition_url(asset, "isolate"), {"reason": "fans screaming in rack 4"})

    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.state == "in_repair"  # the job opened the repair ticket right after isolation
    assert RepairTicket.objects.filter(asset=asset, closed_at__isnull=True).exists()
    row = AssetTransition.objects.get(asset=asset, transition="isolate")
    assert (row.source, row.target, row.actor, row.reason) == (
        "active", "isolated", admin_user.username, "fans screaming in rack 4")


def test_machine_only_transitions_are_not_offered(admin_client, asset):
    ticket = in_repair(asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="reseated DIMM")

    page = admin_client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()
    response = admin_client.post(transition_url(asset, "pass_verification"), {"reason": "looks fine to me"})

    assert transition_url(asset, "pass_verification") not in page
    assert transition_url(asset, "fail_verification") not in page
    assert response.status_code == 302
    assert any("Allowed now" in m for m in messages_of(response))
    assert Asset.objects.get(pk=asset.pk).state == "verifying"


def test_forbidden_transition_posted_anyway_is_refused(admin_client, asset):
    response = admin_client.post(transition_url(asset, "dismiss"), {"reason": "false alarm"})

    assert response.status_code == 302
    [message] = messages_of(response)
    assert "it is active" in message and "isolate" in message
    assert Asset.objects.get(pk=asset.pk).state == "active"
    assert not AssetTransition.objects.filter(asset=asset).exists()


def test_transition_lost_to_someone_else_is_reported(admin_client, asset, monkeypatch):
    """The form was allowed when opened; by the time it is sent the asset has moved on."""
    real = lifecycle.request_transition

    def someone_isolates_first(**kwargs):
        lifecycle.isolate(asset_id=asset.id, actor="job:isolate", reason="critical fault")
        return real(**kwargs)

    monkeypatch.setattr(lifecycle, "request_transition", someone_isolates_first)

    response = admin_client.post(transition_url(asset, "isolate"), {"reason": "by hand"})

    page = response.content.decode()
    assert response.status_code == 200  # the form again, under the message, with the asset as it is now
    assert "it is isolated. Allowed now:" in page and "It is isolated now." in page
    assert AssetTransition.objects.filter(asset=asset).count() == 1


# Repair tickets ------------------------------------------------------------------------------------------------
def test_resolve_a_ticket_from_the_admin(admin_client, admin_user, asset):
    ticket = in_repair(asset)
    page = admin_client.get(reverse("admin:repairs_repairticket_change", args=[ticket.pk])).content.decode()
    resolve_url = reverse("admin:repairs_repairticket_resolve", kwargs={"object_id": ticket.pk})
    assert resolve_url in page and "SMART: reallocated sectors" in page  # the button, the linked fault

    response = admin_client.post(resolve_url, {"action_taken": "replaced disk in bay 2"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    asset.refresh_from_db()
    assert (ticket.status, ticket.action_taken) == ("resolved", "replaced disk in bay 2")
    assert asset.state == "verifying"
    assert AssetTransition.objects.get(asset=asset, transition="start_verification").actor == admin_user.username


def test_resolving_a_resolved_ticket_is_refused(admin_client, asset):
    ticket = in_repair(asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced disk")

    response = admin_client.post(reverse("admin:repairs_repairticket_resolve", kwargs={"object_id": ticket.pk}),
                                 {"action_taken": "again"})

    assert response.status_code == 302
    assert any("only open or in_progress" in m for m in messages_of(response))
    ticket.refresh_from_db()
    assert ticket.action_taken == "replaced disk"


def test_ticket_status_moves_only_between_open_and_in_progress(admin_client, asset):
    ticket = in_repair(asset)
    url = reverse("admin:repairs_repairticket_change", args=[ticket.pk])

    resolved = admin_client.post(url, {"status": "resolved", "assignee": "kim", "notes": ticket.notes})
    taken = admin_client.post(url, {"status": "in_progress", "assignee": "kim", "notes": ticket.notes + "\non it"})

    assert resolved.status_code == 200 and "status" in resolved.context["adminform"].form.errors
    assert taken.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("in_progress", "kim")
    assert ticket.notes.endswith("on it")
    assert Asset.objects.get(pk=asset.pk).state == "in_repair"


# Pages stay fast with a big fleet ------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_list_pages_do_not_query_per_row(admin_client, make_asset, model, django_assert_max_num_queries):
    """The number of queries of a list page does not grow with its rows (list_select_related and friends)."""
    def one_more_repaired_asset(n):
        asset = make_asset(f"host-{n:03}")
        ticket = in_repair(asset)
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced disk")

    url = reverse("admin:{}_{}_changelist".format(*model.split(".")))
    one_more_repaired_asset(1)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for n in range(2, 7):
        one_more_repaired_asset(n)

    with django_assert_max_num_queries(len(few)):
        admin_client.get(url)


def test_a_made_up_transition_name_is_refused_not_a_500(admin_client, asset):
    response = admin_client.post(f"/admin/assets/asset/{asset.pk}/change/", {
        "hostname": asset.hostname, "hardware_model": asset.hardware_model_id, "pool": asset.pool_id,
        "_fsm_transition_to": "delete"}, follow=True)
    assert response.status_code == 200
    assert "not a transition of the lifecycle" in response.content.decode()
    assert Asset.objects.filter(pk=asset.pk, state="active").exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_transition_is_called_unknown_with_what_is_allowed(admin_client, asset, method):
    """Not "Cannot frobnicate asset host-001: it is active", which reads as if frobnicate were a real transition
    the state forbids."""
    response = getattr(admin_client, method)(transition_url(asset, "frobnicate"), {"reason": "why not"})

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message == ("Unknown transition 'frobnicate': it is not a transition of the lifecycle. "
                       "Allowed now: isolate.")
    assert not AssetTransition.objects.filter(asset=asset).exists()


def test_a_made_up_transition_name_posted_on_the_form_lists_what_is_allowed(admin_client, asset):
    response = admin_client.post(f"/admin/assets/asset/{asset.pk}/change/", {
        "hostname": asset.hostname, "hardware_model": asset.hardware_model_id, "pool": asset.pool_id,
        "_fsm_transition_to": "delete"})
    [message] = messages_of(response)
    assert message.startswith("Unknown transition 'delete'") and message.endswith("Allowed now: isolate.")


def test_a_verdict_transition_asked_for_by_name_says_whose_it_is(admin_client, asset):
    in_repair(asset)
    response = admin_client.get(transition_url(asset, "pass_verification"))
    [message] = messages_of(response)
    assert message.startswith("pass_verification is decided by an inspection's verdict, not by hand.")


def test_assets_cannot_be_deleted_from_the_admin(admin_client, asset):
    response = admin_client.post(f"/admin/assets/asset/{asset.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Asset.objects.filter(pk=asset.pk).exists()
