"""Schemathesis against DAM's own OpenAPI schema, as /api/v1/schema/ serves it: for every operation, requests that
fit the schema and requests that do not. No answer is a 5xx, and every answer the schema documents matches it
(content type, body). Bounded: DAM_SCHEMATHESIS_EXAMPLES examples per operation that fit (default 10), half as many
that do not; derandomized so that a run is repeatable.

(Schemathesis's own pytest plugin does not run under pytest 9 yet, so the operations are walked here with
Hypothesis directly, which is the plugin's documented Python API.)"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

import lifecycle
from dam.wsgi import application

EXAMPLES = int(os.environ.get("DAM_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def staff_token(token):
    return token("schemathesis", "staff")


@pytest.fixture
def dam_schema(eager_jobs, fleet, staff_token):
    """The served schema, with a few real objects behind it: machines in several stages, tickets, an inspection."""
    assets = fleet(3)
    lifecycle.isolate(asset_id=assets[1].id, actor="tests", reason="x")
    lifecycle.isolate(asset_id=assets[2].id, actor="tests", reason="x")
    lifecycle.resolve_ticket(ticket_id=assets[2].repair_tickets.get().id, actor="tests", action_taken="fixed")
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application,
                                          headers={"Authorization": f"Token {staff_token}",
                                                   "Accept": "application/vnd.oai.openapi+json"})


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_schema_and_never_answers_5xx(dam_schema, staff_token, mode):
    auth = {"Authorization": f"Token {staff_token}"}
    examples = EXAMPLES if mode == GenerationMode.POSITIVE else max(EXAMPLES // 2, 1)
    failures, operations = [], 0
    for result in dam_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        if mode == GenerationMode.NEGATIVE and not (operation.body or operation.query):
            continue  # nothing to send wrong but the path, which the 404 tests cover

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            response = case.call(headers=auth)
            case.validate_response(response, checks=CHECKS, headers=auth)

        try:
            call()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # nothing in this operation can be sent wrong: fine
        except (Exception, BaseExceptionGroup) as failure:  # gathered: one run shows every failing operation
            failures.append(f"{operation.label}: {failure}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
