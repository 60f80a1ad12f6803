"""hardware-models/ and pools/: named resources everyone reads and staff write."""
import pytest

from assets.models import HardwareModel, Pool
from tests.api.helpers import API, assert_error, assert_ok

MODELS = f"{API}/hardware-models/"
POOLS = f"{API}/pools/"
GiB = 1024 ** 3


def new_model(name="r650", **fields):
    return {"name": name, "vendor": "Dell", "cpu_logical_cores": 64, "memory_bytes": 256 * GiB, **fields}


# Roles ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [MODELS, f"{MODELS}test-model/", POOLS, f"{POOLS}batch/"])
def test_no_token_is_401(client, hardware_model, pool, path):
    assert_error(client.get(path), 401)


def test_no_token_cannot_write(client, pool):
    assert_error(client.post(MODELS, new_model(), content_type="application/json"), 401)
    assert_error(client.post(POOLS, {"name": "web"}, content_type="application/json"), 401)
    assert_error(client.patch(f"{POOLS}batch/", {"probation_hours": 1}, content_type="application/json"), 401)


@pytest.mark.parametrize("role", ["viewer", "agent", "detector", "staff"])
@pytest.mark.parametrize("path", [MODELS, f"{MODELS}test-model/", POOLS, f"{POOLS}batch/"])
def test_every_role_reads(api, hardware_model, pool, role, path):
    assert_ok(api(role).get(path))


@pytest.mark.parametrize("role", ["viewer", "agent", "detector"])
def test_only_staff_write(api, pool, role):
    client = api(role)
    assert_error(client.post(MODELS, new_model(), format="json"), 403)
    assert_error(client.post(POOLS, {"name": "web"}, format="json"), 403)
    assert_error(client.patch(f"{POOLS}batch/", {"probation_hours": 1}, format="json"), 403)
    assert not HardwareModel.objects.exists() and list(Pool.objects.values_list("name", flat=True)) == ["batch"]
    assert Pool.objects.get().probation_hours == 24


# Hardware models --------------------------------------------------------------------------------------------
def test_staff_create_a_hardware_model(api):
    disks = [{"mount": "/", "size_bytes": 480 * GiB}, {"mount": "/data", "size_bytes": 4000 * GiB}]
    body = assert_ok(api("staff").post(MODELS, new_model(disks=disks), format="json"), 201)
    assert body == {"name": "r650", "vendor": "Dell", "cpu_logical_cores": 64, "memory_bytes": 256 * GiB,
                    "disks": disks}
    assert HardwareModel.objects.get(name="r650").disks == disks


def test_hardware_model_disks_are_optional(api):
    assert assert_ok(api("staff").post(MODELS, new_model(), format="json"), 201)["disks"] == []


def test_get_hardware_model_by_name(api, hardware_model):
    viewer = api("viewer")
    body = assert_ok(viewer.get(f"{MODELS}test-model/"))
    assert (body["name"], body["cpu_logical_cores"], body["memory_bytes"]) == (
        "test-model", hardware_model.cpu_logical_cores, hardware_model.memory_bytes)
    assert [m["name"] for m in assert_ok(viewer.get(MODELS))] == ["test-model"]


def test_hardware_model_name_with_dots(api):
    assert_ok(api("staff").post(MODELS, new_model(name="PowerEdge R6.5"), format="json"), 201)
    assert assert_ok(api("viewer").get(f"{MODELS}PowerEdge R6.5/"))["name"] == "PowerEdge R6.5"


@pytest.mark.parametrize("field, payload", [
    ("name", new_model(name="test-model")),
    ("vendor", {k: v for k, v in new_model().items() if k != "vendor"}),
    ("cpu_logical_cores", new_model(cpu_logical_cores=-1)),
    ("memory_bytes", new_model(memory_bytes="lots")),
    ("disks", new_model(disks=[{"mount": "/"}])),
    ("disks", new_model(disks={"mount": "/", "size_bytes": 1})),
])
def test_invalid_hardware_model_is_400_naming_the_field(api, hardware_model, field, payload):
    assert_error(api("staff").post(MODELS, payload, format="json"), 400, field)
    assert HardwareModel.objects.count() == 1


def test_hardware_models_are_not_changed_through_the_api(api, hardware_model):
    assert_error(api("staff").patch(f"{MODELS}test-model/", {"vendor": "x"}, format="json"), 405)


def test_unknown_hardware_model_is_404(api):
    assert_error(api("viewer").get(f"{MODELS}no-such-model/"), 404)


# Pools ------------------------------------------------------------------------------------------------------
def test_staff_create_a_pool_with_the_default_probation(api, settings):
    settings.DAM_DEFAULT_PROBATION_HOURS = 12
    body = assert_ok(api("staff").post(POOLS, {"name": "web", "description": "Front ends"}, format="json"), 201)
    assert {k: body[k] for k in ("name", "description", "probation_hours")} == {
        "name": "web", "description": "Front ends", "probation_hours": 12}
    # the safe defaults of the isolation policy
    assert (body["isolate_on"], body["max_unavailable"], body["automation"]) == ("critical", "10%", "on")


def test_get_pool_by_name(api, pool):
    body = assert_ok(api("viewer").get(f"{POOLS}batch/"))
    assert (body["name"], body["description"], body["probation_hours"]) == ("batch", "", 24)
    assert [p["name"] for p in assert_ok(api("viewer").get(POOLS))] == ["batch"]


def test_staff_patch_probation_hours(api, pool):
    body = assert_ok(api("staff").patch(f"{POOLS}batch/", {"probation_hours": 2.5}, format="json"))
    assert body["probation_hours"] == 2.5
    assert Pool.objects.get().probation_hours == 2.5


@pytest.mark.parametrize("value", [-1, "soon"])
def test_invalid_probation_hours_is_400(api, pool, value):
    assert_error(api("staff").patch(f"{POOLS}batch/", {"probation_hours": value}, format="json"), 400,
                 "probation_hours")
    assert Pool.objects.get().probation_hours == 24


def test_duplicate_pool_is_400(api, pool):
    assert_error(api("staff").post(POOLS, {"name": "batch"}, format="json"), 400, "name")


def test_pools_are_not_replaced_or_deleted(api, pool):
    staff = api("staff")
    assert_error(staff.put(f"{POOLS}batch/", {"name": "batch", "probation_hours": 1}, format="json"), 405)
    assert_error(staff.delete(f"{POOLS}batch/"), 405)
    assert Pool.objects.filter(name="batch").exists()


def test_unknown_pool_is_404(api):
    assert_error(api("viewer").get(f"{POOLS}no-such-pool/"), 404)
    assert_error(api("staff").patch(f"{POOLS}no-such-pool/", {"probation_hours": 1}, format="json"), 404)


def test_staff_choose_a_pools_scheduled_checks(api, pool):
    assert assert_ok(api("viewer").get(f"{POOLS}batch/"))["scheduled_checks"] == "facts"  # serving machines: facts only
    body = assert_ok(api("staff").patch(f"{POOLS}batch/", {"scheduled_checks": "full"}))
    assert body["scheduled_checks"] == "full" and Pool.objects.get(name="batch").scheduled_checks == "full"
    assert_error(api("staff").patch(f"{POOLS}batch/", {"scheduled_checks": "fast"}), 400, "scheduled_checks")
