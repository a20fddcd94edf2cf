"""schemathesis against `/openapi.json` of the running stack: whatever it sends, no 5xx and no
answer outside the documented schema; boundary values, invalid data and texts holding NUL (which
Postgres refuses) included. The stats stream never ends, so it is tested on its own."""

import importlib

import hypothesis
import schemathesis
from hypothesis import strategies
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from gateway.auth import Role
from tests.gateway.stack import Stack

# Loaded now, while collection is single-threaded: schemathesis imports it lazily, and pytest's
# assertion rewriting of it racing the served app's threads trips CPython 3.11's AST depth check.
importlib.import_module("schemathesis.specs.openapi.schemas")

EXAMPLES_PER_OPERATION = 25
# Drawn valid or invalid, per operation: with the coverage phase's boundary values, about 4,400
# cases in under a minute. allow_x00 puts NUL in about 1 % of them, so tests/gateway/
# test_http_body_values.py also sends NUL in every text of every body, on purpose.
EXAMPLES_OF_BOTH_MODES_PER_OPERATION = 100
BOTH_MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
COVERAGE_PHASE = "coverage"
NUL = "\x00"
ALL_ROLES = (Role.FAN, Role.VENUE_STAFF, Role.VENUE_MANAGER, Role.ADMIN)
ENDLESS_PATHS = {"/v1/venue/events/{event_id}/stats/stream"}
# What the contract promises. Rules across fields (closes_at after opens_at) are beyond a schema,
# so a schema-valid body may still be a 422; that is checked by the route tests instead.
CONTRACT_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Invalid data, and methods a path does not have, may be refused with any 4xx; none may reach a
# server error.
INVALID_DATA_CHECKS = [not_a_server_error]
# A run must reach this many cases, some of them with NUL in a body, a query or a path.
CASES_MIN = 3_000
CASES_WITH_NUL_MIN = 10


def served_schema(stack: Stack) -> schemathesis.BaseSchema:
    """The served document, generating texts with NUL in them (as any client may send)."""
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
    schema.config.generation.update(modes=BOTH_MODES, allow_x00=True, codec="utf-8")
    return schema


def test_api_answers_within_its_schema_and_never_with_a_server_error(stack: Stack) -> None:
    schema = served_schema(stack)
    headers = {"Authorization": f"Bearer {stack.token(roles=ALL_ROLES)}"}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ENDLESS_PATHS:
            continue

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        def answers_within_schema(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=stack.base_url, headers=headers, checks=CONTRACT_CHECKS)

        answers_within_schema()
        tested.append(operation.label)
    assert len(tested) >= 14, tested


def holds_nul(value: object) -> bool:
    """Whether a case's part (its body, query or path) holds NUL in a text, a key included."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    return False


def test_api_never_answers_with_a_server_error_when_sent_boundary_values_nul_or_invalid_data(
    stack: Stack,
) -> None:
    """schemathesis's coverage phase (each constraint's boundary values, valid and invalid) and
    invalid data drawn at random, with texts holding NUL: a valid case is answered within the
    contract, and no case with a 5xx."""
    schema = served_schema(stack)
    headers = {"Authorization": f"Bearer {stack.token(roles=ALL_ROLES)}"}
    sent: list[schemathesis.Case] = []

    def send(case: schemathesis.Case) -> None:
        valid = case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE
        checks = CONTRACT_CHECKS if valid else INVALID_DATA_CHECKS
        case.call_and_validate(base_url=stack.base_url, headers=headers, checks=checks)
        sent.append(case)

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ENDLESS_PATHS:
            continue
        generation = schema.config.generation_for(operation=operation, phase=COVERAGE_PHASE)
        for case in schema.iter_coverage_cases(
            operation, generation_modes=BOTH_MODES, generation_config=generation
        ):
            send(case)

        # Both modes, as schemathesis draws them: an operation without parameters or a body has
        # no invalid data at all.
        drawn = [operation.as_strategy(generation_mode=mode) for mode in BOTH_MODES]

        @hypothesis.given(case=strategies.one_of(drawn))
        @hypothesis.settings(
            max_examples=EXAMPLES_OF_BOTH_MODES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        def never_fails_on_our_side(case: schemathesis.Case) -> None:
            send(case)

        never_fails_on_our_side()

    with_nul = [case for case in sent if holds_nul((case.body, case.query, case.path_parameters))]
    assert len(sent) >= CASES_MIN, len(sent)
    assert len(with_nul) >= CASES_WITH_NUL_MIN, len(with_nul)
