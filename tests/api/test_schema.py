"""The OpenAPI 3 schema and the browsable docs describe the contract's endpoints."""
import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from tests.api.helpers import API, assert_error

# The contract's table: path → methods it promises.
CONTRACT_PATHS = {
    "/api/v1/faults/": {"get", "post"},
    "/api/v1/assets/": {"get", "post"},
    "/api/v1/assets/{hostname}/": {"get"},
    "/api/v1/assets/{hostname}/history/": {"get"},
    "/api/v1/assets/{hostname}/transitions/": {"post"},
    "/api/v1/hardware-models/": {"get", "post"},
    "/api/v1/hardware-models/{name}/": {"get"},
    "/api/v1/pools/": {"get", "post"},
    "/api/v1/pools/{name}/": {"get", "patch"},
    "/api/v1/tickets/": {"get"},
    "/api/v1/tickets/{id}/": {"get", "patch"},
    "/api/v1/tickets/{id}/resolve/": {"post"},
    "/api/v1/inspections/": {"get"},
    "/api/v1/inspections/{id}/": {"get"},
    "/api/v1/agent/inspections/next/": {"get"},
    "/api/v1/agent/inspections/{id}/start/": {"post"},
    "/api/v1/agent/inspections/{id}/report/": {"post"},
}


@pytest.fixture(scope="module")
def schema():
    """The document /api/v1/schema/ serves (generated once for the module; the endpoint is tested below)."""
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_endpoint_serves_openapi_3(api):
    response = api("viewer").get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["openapi"].startswith("3.") and body["info"]["title"] == "DAM API"
    assert set(CONTRACT_PATHS) <= set(body["paths"])


@pytest.mark.parametrize("path, methods", CONTRACT_PATHS.items())
def test_schema_has_the_contract_paths(schema, path, methods):
    assert path in schema["paths"], sorted(schema["paths"])
    assert methods <= set(schema["paths"][path]), schema["paths"][path].keys()


def test_schema_has_no_delete_or_put(schema):
    assert not [(p, m) for p, ops in schema["paths"].items() for m in ops if m in ("delete", "put")]


def test_schema_documents_token_auth(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("type") == "apiKey" and s.get("name") == "Authorization" or s.get("scheme") == "token"
               for s in schemes.values()), schemes


def test_schema_names_assets_by_hostname_and_shows_their_state(schema):
    asset = schema["components"]["schemas"]["Asset"]["properties"]
    assert {"hostname", "state", "state_changed_at", "open_ticket", "last_inspection"} <= set(asset)
    assert asset["state"]["readOnly"] is True
    assert asset["last_inspection"]["nullable"] is True


def test_schema_is_yaml_by_default(api):
    response = api("viewer").get(f"{API}/schema/")
    assert response.status_code == 200
    assert "/api/v1/faults/" in yaml.safe_load(response.content)["paths"]


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/assets/{hostname}/transitions/" in yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]


def test_docs_page_is_html(api):
    response = api("viewer").get(f"{API}/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower() and b"<script>" not in response.content  # CSP: no inline script
    script = api("viewer").get(f"{API}/docs/?script=")
    assert script.status_code == 200 and b"/api/v1/schema/" in script.content


def test_schema_says_faults_arrive_one_or_many(schema):
    body = schema["paths"]["/api/v1/faults/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    one_of = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["oneOf"]
    assert {"type": "array", "items": {"$ref": "#/components/schemas/FaultInRequest"}} in one_of
    assert {"$ref": "#/components/schemas/FaultInRequest"} in one_of
    assert {"202", "400", "413"} <= set(schema["paths"]["/api/v1/faults/"]["post"]["responses"])


def test_every_request_body_is_json_alone(schema):
    # JSON only: one content type per body, so a generated client sends each body one way
    bodies = {(path, method): op["requestBody"]["content"] for path, ops in schema["paths"].items()
              for method, op in ops.items() if isinstance(op, dict) and "requestBody" in op}
    assert bodies
    assert {path: list(content) for (path, _), content in bodies.items() if list(content) != ["application/json"]} \
        == {}


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "transition=isolate&reason=x"),
    ("multipart/form-data; boundary=BoUnDaRy", '--BoUnDaRy\r\nContent-Disposition: form-data; name="reason"\r\n\r\n'
                                               'x\r\n--BoUnDaRy--\r\n'),
])
def test_a_form_body_is_415(api, asset, content_type, body):
    response = api("staff").post(f"{API}/assets/{asset.hostname}/transitions/", body, content_type=content_type)
    assert response.status_code == 415, response.content
    assert "detail" in response.json()
    assert asset.transitions.count() == 0


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_docs_in_a_browser_without_a_token_go_to_the_console_login_and_back(client, admin_user):
    response = client.get(f"{API}/docs/", HTTP_ACCEPT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2Fapi%2Fv1%2Fdocs%2F"

    # the console's login sends the browser back to the docs, which now load, and so does their schema
    login = client.post(response["Location"], {"username": "admin", "password": "password",
                                               "next": "/api/v1/docs/"})
    assert login.status_code == 302 and login["Location"] == "/api/v1/docs/"
    page = client.get(login["Location"], HTTP_ACCEPT=BROWSER)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert client.get(f"{API}/schema/").status_code == 200


def test_docs_for_a_script_without_a_token_stay_a_json_401(client, db):
    assert_error(client.get(f"{API}/docs/"), 401)
    assert_error(client.get(f"{API}/docs/", HTTP_ACCEPT=BROWSER, HTTP_AUTHORIZATION="Token wrong"), 401)


def test_the_fault_body_is_required(schema):
    # one fault or a list of them: a generated client must not let a detector post nothing
    assert schema["paths"]["/api/v1/faults/"]["post"]["requestBody"]["required"] is True
