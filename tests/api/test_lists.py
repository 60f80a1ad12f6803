"""Every list's query parameters: the asset list's filters, search and ordering (assets/filtersets.py), and a
parameter no list knows is a 400 naming it, on every list endpoint."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assets.choices import RequestStatus
from assets.models import Asset, IsolationRequest
from repairs.choices import TicketStatus
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error, assert_ok

ASSETS = f"{API}/assets/"


@pytest.fixture
def fleet(make_asset):
    """Six machines, each with one thing true of it."""
    now = timezone.now()
    plain = make_asset("node-a1", serial="SN-111", asset_tag="TAG-9")
    flapping = make_asset("node-b2", flapping=True)
    excluded = make_asset("node-c3", exclude_from_automation=True, serial="sn-xyz")
    late = make_asset("node-d4")
    RepairTicket.objects.create(asset=late, summary="disk", opened_by="tests", due_at=now - timedelta(hours=1))
    waiting = make_asset("node-e5")
    # resolved past due: still unclosed (open_ticket) but not overdue (the technician's part is done)
    RepairTicket.objects.create(asset=waiting, summary="psu", opened_by="tests", status=TicketStatus.RESOLVED,
                                due_at=now - timedelta(hours=1))
    pending = make_asset("node-f6")
    IsolationRequest.objects.create(asset=pending, reason="budget", status=RequestStatus.PENDING)
    for i, a in enumerate([plain, flapping, excluded, late, waiting, pending]):
        Asset.objects.filter(pk=a.pk).update(state_changed_at=now - timedelta(minutes=10 * ((i * 4) % 6)))
    return {"plain": plain, "flapping": flapping, "excluded": excluded, "late": late, "waiting": waiting,
            "pending": pending}


def hostnames(client, **params):
    return [a["hostname"] for a in assert_ok(client.get(ASSETS, params))["results"]]


@pytest.mark.parametrize("params, expected", [
    ({"flapping": "true"}, ["node-b2"]),
    ({"flapping": "false"}, ["node-a1", "node-c3", "node-d4", "node-e5", "node-f6"]),
    ({"exclude_from_automation": "true"}, ["node-c3"]),
    ({"exclude_from_automation": "False"}, ["node-a1", "node-b2", "node-d4", "node-e5", "node-f6"]),
    ({"open_ticket": "true"}, ["node-d4", "node-e5"]),
    ({"open_ticket": "false"}, ["node-a1", "node-b2", "node-c3", "node-f6"]),
    ({"overdue": "true"}, ["node-d4"]),
    ({"overdue": "false"}, ["node-a1", "node-b2", "node-c3", "node-e5", "node-f6"]),
    ({"pending_approval": "true"}, ["node-f6"]),
    ({"search": "sn-"}, ["node-a1", "node-c3"]),  # serial, any case
    ({"search": "tag-9"}, ["node-a1"]),  # asset tag
    ({"search": "E5"}, ["node-e5"]),  # hostname
    ({"search": "sn-", "flapping": "false", "exclude_from_automation": "true"}, ["node-c3"]),
    ({"state": "active", "pool": "batch", "hardware_model": "test-model"},
     ["node-a1", "node-b2", "node-c3", "node-d4", "node-e5", "node-f6"]),
    ({"pool": "other"}, []),
])
def test_asset_filters(api, fleet, params, expected):
    assert hostnames(api("viewer"), **params) == expected


def test_ordering_by_hostname_and_state_change_follows_the_pages(api, fleet):
    viewer = api("viewer")
    assert hostnames(viewer, ordering="-hostname") == ["node-f6", "node-e5", "node-d4", "node-c3", "node-b2",
                                                       "node-a1"]
    by_change = sorted(Asset.objects.all(), key=lambda a: (a.state_changed_at, a.hostname))
    assert hostnames(viewer, ordering="state_changed_at") == [a.hostname for a in by_change]

    # the cursor keeps the order across pages
    seen, url = [], ASSETS + "?ordering=-state_changed_at&page_size=4"
    while url:
        page = assert_ok(viewer.get(url))
        seen += [a["hostname"] for a in page["results"]]
        url = page["next"]
    assert seen == [a.hostname for a in reversed(by_change)]


@pytest.mark.parametrize("params, field", [
    ({"flapping": "yes-please"}, "flapping"),
    ({"overdue": "1"}, "overdue"),
    ({"ordering": "serial"}, "ordering"),
    ({"state": "broken"}, "state"),
])
def test_a_bad_filter_value_is_400_naming_it(api, fleet, params, field):
    assert_error(api("viewer").get(ASSETS, params), 400, field)


LISTS = ["assets/", "faults/", "tickets/", "inspections/", "baselines/", "isolation-requests/", "hardware-models/",
         "pools/", "assets/node-a1/history/"]


@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_parameter_is_400_naming_it_on_every_list(api, fleet, path):
    body = assert_error(api("viewer").get(f"{API}/{path}", {"flappy": "true"}), 400)
    assert body["detail"] == "Unknown filter: flappy"
    assert "flappy" not in body["allowed"]
    if path in ("assets/", "faults/", "tickets/", "inspections/", "baselines/", "isolation-requests/",
                "assets/node-a1/history/"):
        assert {"cursor", "page_size"} <= set(body["allowed"])  # pagination's own parameters pass
    if path == "assets/":
        assert {"state", "pool", "hardware_model", "site", "flapping", "open_ticket", "overdue", "pending_approval",
                "exclude_from_automation", "search", "ordering"} <= set(body["allowed"])


@pytest.mark.parametrize("path", LISTS)
def test_known_parameters_and_pagination_pass_on_every_list(api, fleet, path):
    assert_ok(api("viewer").get(f"{API}/{path}", {"format": "json"}))
    if path not in ("hardware-models/", "pools/"):
        assert_ok(api("viewer").get(f"{API}/{path}", {"page_size": "2"}))


def test_the_ticket_list_overdue_filter_is_the_one_definition(api, fleet):
    body = assert_ok(api("viewer").get(f"{API}/tickets/", {"overdue": "true"}))
    assert [t["asset"] for t in body["results"]] == ["node-d4"]


@pytest.mark.parametrize("admin_filter, api_filter", [
    ({"open_ticket": "yes"}, {"open_ticket": "true"}), ({"open_ticket": "no"}, {"open_ticket": "false"}),
    ({"overdue": "yes"}, {"overdue": "true"}), ({"overdue": "no"}, {"overdue": "false"}),
    ({"pending_approval": "yes"}, {"pending_approval": "true"}),
    ({"automation": "flapping"}, {"flapping": "true"}),
    ({"automation": "excluded"}, {"exclude_from_automation": "true"}),
])
def test_the_console_filters_mean_what_the_api_filters_mean(api, admin_client, fleet, admin_filter, api_filter):
    page = admin_client.get(reverse("admin:assets_asset_changelist"), admin_filter)
    assert page.status_code == 200
    assert sorted(a.hostname for a in page.context["cl"].result_list) == hostnames(api("viewer"), **api_filter)
