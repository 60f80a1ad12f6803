"""Staff actions in the admin and the API are audited: who, when, what (the request, secrets masked) and from which
address, with the answer they got."""
from django.urls import reverse
from django.utils import timezone

from reliability.models import StaffAction
from tests.api.helpers import API, assert_ok


def test_a_staff_write_in_the_api_is_logged_with_who_when_what_and_where(api, fleet):
    fleet(1)
    staff = api("staff", name="alice")
    before = timezone.now()
    assert_ok(staff.post(f"{API}/assets/host-001/transitions/", {"transition": "isolate", "reason": "fans loud"},
                         format="json", REMOTE_ADDR="198.51.100.7"))

    action = StaffAction.objects.get()
    assert (action.actor, action.address, action.via, action.method, action.status_code) == (
        "alice", "198.51.100.7", "api", "POST", 200)
    assert action.path == f"{API}/assets/host-001/transitions/"
    assert action.target == "asset-transitions hostname=host-001"
    assert '"reason": "fans loud"' in action.body and before <= action.at <= timezone.now()


def test_refused_and_failed_staff_writes_are_logged_too(api, fleet):
    fleet(1)
    staff = api("staff", name="alice")
    staff.post(f"{API}/assets/host-001/transitions/", {"transition": "dismiss", "reason": "x"}, format="json")
    staff.post(f"{API}/pools/", {"name": "a/b"}, format="json")
    assert list(StaffAction.objects.order_by("id").values_list("status_code", flat=True)) == [409, 400]


def test_reads_and_other_roles_writes_are_not_staff_actions(api, fleet):
    fleet(1)
    api("staff").get(f"{API}/assets/")
    api("detector").post(f"{API}/faults/", {"asset": "host-001", "component": "cpu", "severity": "info",
                                            "summary": "x"}, format="json")
    api("viewer").post(f"{API}/pools/", {"name": "x"}, format="json")
    assert not StaffAction.objects.exists()


def test_an_admin_action_is_logged_with_the_form_and_secrets_masked(admin_client, fleet):
    asset = fleet(1)[0]
    url = reverse("admin:assets_asset_transition", kwargs={"object_id": asset.pk, "transition_name": "isolate"})
    admin_client.post(url, {"reason": "smoke from PSU"}, REMOTE_ADDR="203.0.113.5")
    admin_client.post("/admin/auth/user/add/", {"username": "kim", "password1": "s3cret-Pass-123",
                                                "password2": "s3cret-Pass-123"}, REMOTE_ADDR="203.0.113.5")

    actions = list(StaffAction.objects.order_by("id"))
    assert [a.via for a in actions] == ["admin", "admin"]
    assert all(a.actor == "admin" and a.address == "203.0.113.5" for a in actions)
    assert "smoke from PSU" in actions[0].body
    assert "s3cret" not in actions[1].body and '"password1": "***"' in actions[1].body
    asset.refresh_from_db()
    assert asset.state in ("isolated", "in_repair")


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(api, fleet, settings):
    fleet(1)
    settings.DAM_TRUSTED_PROXY_HOPS = 1
    api("staff").post(f"{API}/pools/", {"name": "p"}, format="json", REMOTE_ADDR="10.0.0.2",
                      HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44")  # the client may forge the left part only
    assert StaffAction.objects.get().address == "192.0.2.44"

