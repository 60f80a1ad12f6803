"""A client generated from DAM's OpenAPI schema with openapi-python-client (the usual way a team consumes an
OpenAPI document) imports, and walks the lifecycle against a live server: a fault, a transition answered 409, a
ticket resolved. The schema lists application/json alone, so each body goes one way (contract: "JSON only")."""
import importlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from assets.models import Asset
from repairs.models import RepairTicket

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def token(name: str, role: str) -> str:
    out = io.StringIO()
    call_command("issue_token", name, role=role, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def generated(live_server, tmp_path):
    """The package openapi-python-client generates from the schema the live server serves."""
    schema = requests.get(f"{live_server.url}/api/v1/schema/", params={"format": "json"}, timeout=30,
                          headers={"Authorization": f"Token {token('schema-reader', 'viewer')}"})
    assert schema.status_code == 200, schema.text
    (tmp_path / "schema.json").write_text(schema.text)
    run = subprocess.run([str(GENERATOR), "generate", "--path", "schema.json", "--output-path", "client"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={"PATH": f"{GENERATOR.parent}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        package = importlib.import_module("dam_api_client")
        # Every operation's module imports (it did not: `NameError: Unset` in assets_transitions_create).
        for module in sorted((tmp_path / "client" / "dam_api_client" / "api").glob("*/*.py")):
            if module.stem != "__init__":
                importlib.import_module(f"dam_api_client.api.{module.parent.name}.{module.stem}")
        yield package
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m == "dam_api_client" or m.startswith("dam_api_client.")]:
            del sys.modules[name]


def test_a_generated_client_walks_the_lifecycle(generated, live_server, eager_jobs, asset):
    from dam_api_client import AuthenticatedClient
    from dam_api_client.api.assets import assets_retrieve, assets_transitions_create
    from dam_api_client.api.faults import faults_create
    from dam_api_client.api.tickets import tickets_list, tickets_resolve_create
    from dam_api_client.models import (ComponentEnum, FaultBatchResult, FaultInRequest, ResolveRequest,
                                       SeverityEnum, TransitionConflict, TransitionEnum, TransitionRequestRequest)

    def client(role):
        return AuthenticatedClient(base_url=live_server.url, token=token(f"client-{role}", role), prefix="Token",
                                   timeout=120)

    detector, staff = client("detector"), client("staff")

    # a detector reports a critical disk fault: isolated, a repair ticket opened
    answer = faults_create.sync_detailed(client=detector, body=FaultInRequest(
        asset=asset.hostname, component=ComponentEnum.DISK, severity=SeverityEnum.CRITICAL,
        summary="SMART: 120 reallocated sectors", event_id="smart-1"))
    assert answer.status_code == 202, answer.content
    assert isinstance(answer.parsed, FaultBatchResult) and answer.parsed.accepted == 1
    machine = assets_retrieve.sync(asset.hostname, client=staff)
    assert machine.state == "in_repair" and machine.open_ticket

    # staff ask for a transition the state does not allow: 409, read by the client as the schema says
    refused = assets_transitions_create.sync_detailed(asset.hostname, client=staff, body=TransitionRequestRequest(
        transition=TransitionEnum.END_PROBATION, reason="looks fine to me"))
    assert refused.status_code == 409, refused.content
    assert isinstance(refused.parsed, TransitionConflict)
    assert refused.parsed.state == "in_repair" and "start_verification" in refused.parsed.allowed

    # the technician resolves the ticket: the machine goes on to verification
    [ticket] = tickets_list.sync(client=staff, asset=asset.hostname).results
    assert ticket.id == machine.open_ticket
    resolved = tickets_resolve_create.sync_detailed(ticket.id, client=staff, body=ResolveRequest(
        action_taken="replaced the disk"))
    assert resolved.status_code == 200, resolved.content
    assert RepairTicket.objects.get(pk=ticket.id).resolved_at is not None
    assert Asset.objects.get(pk=asset.pk).transitions.filter(transition="start_verification").exists()
