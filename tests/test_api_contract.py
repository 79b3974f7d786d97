"""The API against its own OpenAPI document, by property-based fuzzing (schemathesis): requests
generated from the document, valid and invalid, on a service with the demo data and a trained model.

No request may end in a 500, every status and body must be one the document declares, and invalid
input must be refused. A separate service: the fuzzing edits and deletes articles and tickets."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.conftest import demo_runtime

# Refusals that follow from rules across fields or stored state, which a JSON schema cannot state:
# a report's `until` before its `since`; feedback naming a decision and another decision's ticket;
# an erasure cut-off that falls before year 1 once converted to UTC; an SLA policy whose resolution
# target is shorter than its first-response target.
EXAMPLES = 20  # per operation and mode: 31 operations x 2 modes
KEYED_EXAMPLES = 8  # the same with an admin key
STATEFUL_RULES = {"GET /v1/reports/triage", "POST /v1/feedback", "POST /v1/tickets/erase",
                  "PUT /v1/sla/policies/{plan}/{priority}"}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance,
          checks.negative_data_rejection, checks.positive_data_acceptance, checks.unsupported_method]


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory):
    from api.app import create_app

    rt = demo_runtime(tmp_path_factory.mktemp("contract"), 300)
    yield create_app(runtime=rt, start_worker=False)  # queued training jobs stay queued
    rt.close()


def _fuzz(app, examples: int, extra_checks=(), headers: dict | None = None) -> list[str]:
    """Every operation, with valid and with invalid requests; the failures, described."""
    api = schemathesis.openapi.from_wsgi("/v1/openapi.json", app, headers=headers or {})
    failures = []
    for result in api.get_all_operations():
        operation = result.ok()
        excluded = [checks.positive_data_acceptance] if operation.label in STATEFUL_RULES else []
        for mode in GenerationMode:
            @given(operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                case.call_and_validate(headers=headers,
                                       checks=[c for c in [*CHECKS, *extra_checks] if c not in excluded])

            try:
                run()
            except Unsatisfiable:  # negative mode: an operation with no input that can be invalid
                assert mode is GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # noqa: BLE001 - collected, then reported together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


def test_api_keeps_its_documented_contract(contract_app):
    """Open access (no API key exists yet): all failures reported together."""
    failures = _fuzz(contract_app, EXAMPLES)
    assert not failures, "\n\n".join(failures)


def test_with_api_keys_the_contract_holds_and_every_operation_needs_a_key(contract_app):
    """Once a key exists the document requires one. With an admin key, requests keep the contract;
    for each operation schemathesis also sends a successful request again without the key and with
    a made-up one (``ignored_auth``), which must be refused."""
    from application import access

    rt = contract_app.extensions["kbtriage"]
    with rt.db.session() as s:
        _, key = access.create(session=s, name="contract-admin", role="admin")
    try:
        failures = _fuzz(contract_app, KEYED_EXAMPLES, [checks.ignored_auth],
                         headers={"Authorization": f"Bearer {key}"})
        document = contract_app.test_client().get("/v1/openapi.json").get_json()
    finally:
        with rt.db.session() as s:
            for row in access.list_keys(session=s):  # this one and any the fuzzing created
                s.delete(row)
            s.commit()
    assert not failures, "\n\n".join(failures)
    assert {} not in document["security"]  # no longer optional
