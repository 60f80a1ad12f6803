"""Assertions the API tests share: every error is JSON with a "detail", and names the fields that were wrong."""

API = "/api/v1"


def assert_error(response, status: int, *fields: str) -> dict:
    """The response is a JSON error of this status whose body has a "detail" and a key for each named field."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], body
    for field in fields:
        assert field in body, f"{field!r} not named in {body}"
    return body


def assert_ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json() if response.content else None
