"""The counter API against its own OpenAPI schema (/api/schema/, drf-spectacular), on a live
server, with schemathesis: generated requests, valid and invalid, as a clerk (session) and as a
counter terminal (token). No answer is a server error, and every answer is what the schema
says (status code documented, body and content type as described; errors are {code, message}).

The operations are driven by hand with hypothesis (schemathesis's own pytest integration
rewrites pytest's private node ids, which pytest 9 no longer has)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from consents.services.terminals import terminal_create

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

EXAMPLES = 25  # per operation and generation mode
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


@pytest.fixture
def clerk_auth(live_server, client, clerk, record, terms, make_statement) -> dict[str, str]:
    """What Alice's browser sends: her session cookie, and the CSRF token as her pages do. Sent
    as headers of each case, so that schemathesis can also try the request without them."""
    make_statement(record)  # a statement to list and read
    client.force_login(clerk)
    session_id = client.cookies["sessionid"].value
    page = requests.get(f"{live_server.url}/counter/", cookies={"sessionid": session_id}, timeout=30)
    csrf = page.cookies["csrftoken"]
    return {"Cookie": f"sessionid={session_id}; csrftoken={csrf}", "X-CSRFToken": csrf}


@pytest.fixture
def served_schema(live_server, clerk_auth) -> dict[str, Any]:
    """The schema as /api/schema/ serves it to a signed-in clerk."""
    response = requests.get(f"{live_server.url}/api/schema/?format=json", headers=clerk_auth, timeout=30)
    assert response.status_code == 200
    return response.json()


def fuzz(
    raw: dict[str, Any], base_url: str, auth: dict[str, str], ids: dict[str, int] | None = None
) -> dict[str, Counter[int]]:
    """Every operation, with valid and invalid requests; returns the statuses each answered.
    `ids` fixes path parameters (a real statement, a real record) instead of generating them."""
    schema = schemathesis.openapi.from_dict(raw)
    schema.config.update(base_url=base_url)
    schema.config.generation.update(with_security_parameters=False)  # the caller's credentials go as they are
    # A well-formed request may still be refused for what it asks (documented): a statement
    # already used (409) or expired (410), a holder who may not consent here (422), ...
    schema.config.checks.positive_data_acceptance.expected_statuses = ["2xx", "401", "403", "404", "409", "410", "422"]
    # An invalid request is refused as the schema documents; a body over the limit with 413.
    rejected = schema.config.checks.negative_data_rejection.expected_statuses
    schema.config.checks.negative_data_rejection.expected_statuses = [*rejected, "413"]
    statuses: dict[str, Counter[int]] = {}
    with requests.Session() as session:  # closed after: the live server's thread lets its connection go
        for result in schema.get_all_operations():
            operation = result.ok()
            fixed = {p.name: ids[p.name] for p in operation.path_parameters if p.name in (ids or {})}
            statuses[operation.label] = fuzz_operation(operation, auth, session, fixed)
    return statuses


def fuzz_operation(
    operation: schemathesis.APIOperation, auth: dict[str, str], session: requests.Session, fixed: dict[str, int]
) -> Counter[int]:
    statuses: Counter[int] = Counter()
    for mode in MODES:

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            statuses[case.call_and_validate(headers=auth, session=session).status_code] += 1

        try:
            run()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, no body, or the path fixed).
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
    return statuses


def test_the_api_as_a_clerk_answers_as_its_schema_says_and_never_with_a_server_error(
    live_server, clerk_auth, served_schema
):
    statuses = fuzz(served_schema, live_server.url, clerk_auth)
    assert len(statuses) == 6 and all(statuses.values()), statuses


def test_the_api_as_a_terminal_answers_as_its_schema_says_and_never_with_a_server_error(
    live_server, served_schema, tokyo_office, record, make_statement
):
    # The terminal works on a real statement and record: its requests reach the signature check
    # and the consent status, not only the "not found" answers that random ids get.
    statement = make_statement(record)
    _terminal, token = terminal_create(name="府中1", office=tokyo_office, actor=None)
    ids = {"statement_id": statement.pk, "record_id": record.pk}
    statuses = fuzz(served_schema, live_server.url, {"Authorization": f"Bearer {token}"}, ids)
    assert len(statuses) == 6 and all(statuses.values()), statuses
    assert statuses["POST /api/v1/statements/{statement_id}/signature/"][422] > 0  # refused after verification
    assert statuses["GET /api/v1/records/{record_id}/consent-status/"][200] > 0, statuses
