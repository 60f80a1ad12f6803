"""Errors are JSON with a "detail", never an HTML page or a traceback; health checks answer without a token."""
import pytest

from tests.api.helpers import API, assert_error


@pytest.mark.parametrize("path", [f"{API}/nonexistent/", f"{API}/assets/host-001/nonexistent/",
                                  f"{API}/agent/nothing/", "/api/v2/assets/"])
def test_unknown_api_path_is_404_json(client, api, path):
    assert_error(client.get(path), 404)
    assert_error(api("staff").get(path), 404)
    assert_error(api("staff").post(path, {}, format="json"), 404)


def test_invalid_token_is_401_json(client, asset):
    assert_error(client.get(f"{API}/assets/", HTTP_AUTHORIZATION="Token not-a-real-token"), 401)
    assert_error(client.get(f"{API}/assets/", HTTP_AUTHORIZATION="Token"), 401)


def test_401_says_which_scheme(client):
    response = client.get(f"{API}/assets/")
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")


def test_method_not_allowed_is_405_json(api, asset):
    assert_error(api("staff").put(f"{API}/assets/{asset.hostname}/", {}, format="json"), 405)
    assert_error(api("staff").delete(f"{API}/faults/"), 405)


def test_unsupported_media_type_is_415_json(api, asset):
    assert_error(api("staff").post(f"{API}/assets/{asset.hostname}/transitions/", "transition=isolate",
                                   content_type="text/plain"), 415)


def test_malformed_json_anywhere_is_400_json(api, asset):
    assert_error(api("staff").post(f"{API}/pools/", "{", content_type="application/json"), 400)


def test_html_clients_still_get_json_errors(client):
    response = client.get(f"{API}/assets/", HTTP_ACCEPT="text/html")
    assert response.status_code in (401, 406)
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_every_4xx_is_json_with_detail(api, client, repair_ticket, asset):
    """One of each kind of client error, across the resources."""
    staff, viewer = api("staff"), api("viewer")
    cases = [
        (client.get(f"{API}/faults/"), 401),
        (viewer.post(f"{API}/pools/", {"name": "x"}, format="json"), 403),
        (staff.get(f"{API}/tickets/999999/"), 404),
        (staff.get(f"{API}/inspections/abc/"), 404),
        (staff.get(f"{API}/assets/?cursor=garbage"), 404),
        (staff.post(f"{API}/assets/", {}, format="json"), 400),
        (staff.post(f"{API}/faults/", "12", content_type="application/json"), 400),
        (staff.get(f"{API}/faults/?severity=loud"), 400),
        (staff.post(f"{API}/assets/{asset.hostname}/transitions/", {"transition": "dismiss", "reason": "x"},
                    format="json"), 409),
        (staff.patch(f"{API}/tickets/{repair_ticket.id}/", {"status": "resolved"}, format="json"), 400),
        (api("agent", name=asset.hostname).post(f"{API}/agent/inspections/999999/start/", format="json"), 404),
        (staff.post(f"{API}/faults/", [{}] * 1001, format="json"), 413),
    ]
    for response, status in cases:
        assert_error(response, status)


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_an_unexpected_error_is_500_json_without_a_traceback(api, asset, monkeypatch):
    # A real bug cannot be produced on demand, so one is planted in the transition step.
    def broken(**kwargs):
        raise RuntimeError("planted bug")

    monkeypatch.setattr("lifecycle.request_transition", broken)
    staff = api("staff")
    staff.raise_request_exception = False

    response = staff.post(f"{API}/assets/{asset.hostname}/transitions/", {"transition": "isolate", "reason": "x"},
                          format="json")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "planted bug" not in response.content.decode() and response.json()["detail"]


def test_readyz_is_503_naming_the_broker_that_does_not_answer(client, db, monkeypatch):
    # Celery reads the write URL from the environment first; nothing listens on port 1.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unavailable")
