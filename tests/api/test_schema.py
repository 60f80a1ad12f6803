"""The OpenAPI 3 schema and the browsable docs describe the contract's endpoints."""
import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from tests.api.helpers import API

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
