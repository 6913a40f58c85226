"""People acting at once: two clerks registering one holder, a double-clicked form, an API POST
sent twice with one Idempotency-Key. Each race is made to happen: the test holds the holder's
record locked until every request under test has reached its database work (or the point where
it would), then lets go. (A supervisor's revocation racing the applier is in
tests/driver_records/test_concurrency.py, with its control.)"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import requests
from django.db import connection, transaction
from django.urls import reverse

from consents.models import Consent, ConsentStatement, ConsentStatus
from consents.services import consent_reflect, consent_register
from consents.services.terminals import terminal_create
from driver_records.models import DriverRecord
from jlis_gateway.models import OutboxKind, OutboxMessage
from onestop.models import AuditEvent, IdempotentRequest
from onestop.roles import Role
from tests.conftest import _staff
from tests.consents.conftest import signed
from tests.jlis_fixtures import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Long enough for a second request, if nothing held it back, to reach the lock the first waits on.
SETTLE_SECONDS = 1.0


def waiting_on_locks() -> int:
    """How many database sessions are waiting for a row lock right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is a snapshot
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def at_once(record: DriverRecord, calls: list[Callable[[], Any]]) -> tuple[list[Any], int]:
    """Run the calls in threads while the record is locked; return their results (in call order)
    and how many of them were waiting for the record when the lock was let go."""
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with transaction.atomic():
        DriverRecord.objects.select_for_update().get(pk=record.pk)
        for thread in threads:
            thread.start()
        wait_until(lambda: waiting_on_locks() >= 1, 30, "a call to wait for the record")
        time.sleep(SETTLE_SECONDS)
        waiting = waiting_on_locks()
        assert all(thread.is_alive() for thread in threads)  # nobody has finished: they did overlap
    for thread in threads:
        thread.join(60)
    return results, waiting


@pytest.fixture
def second_clerk(tokyo_office):
    """Frank works the same counter as Alice."""
    return _staff("frank", Role.CLERK, tokyo_office)


def test_r06_two_clerks_registering_one_holder_at_once_make_two_pending_consents_and_jlis_order_decides(
    record, make_statement, clerk, second_clerk, issue_card_for
):
    card = issue_card_for(record)
    statements = [make_statement(record, ("address",), actor=clerk), make_statement(record, actor=second_clerk)]
    calls = [
        lambda s=s, actor=actor: consent_register(statement_id=s.pk, actor=actor, **signed(s, card))
        for s, actor in zip(statements, (clerk, second_clerk), strict=True)
    ]
    results, waiting = at_once(record, calls)
    assert waiting == 2  # both registrations were inside their transactions, at the record, at once
    # R6: a new consent is allowed while another exists; both wait for J-LIS, each sent once.
    assert all(isinstance(r, Consent) for r in results), results
    assert sorted(Consent.objects.values_list("status", flat=True)) == ["pending", "pending"]
    assert set(Consent.objects.values_list("statement_id", flat=True)) == {s.pk for s in statements}
    assert not ConsentStatement.objects.filter(used_at__isnull=True).exists()
    submissions = OutboxMessage.objects.filter(kind=OutboxKind.SUBMIT_CONSENT)
    assert sorted(submissions.values_list("consent_id", flat=True)) == sorted(r.pk for r in results)
    assert AuditEvent.objects.filter(action="consent.register").count() == 2

    # J-LIS reflects both on the same day, the older registration last in its order; the two
    # events are applied at once. R6: the later in J-LIS's order governs, whichever we registered
    # first and whichever is applied first; the other is superseded by it (one active per record).
    older, newer = sorted(results, key=lambda c: (c.created_at, c.pk))
    reflect = [
        lambda c=c, seq=seq: consent_reflect(
            consent_id=c.pk, consent_date=date(2026, 4, 1), event_id=f"ev-{seq}", holder_seq=seq
        )
        for c, seq in ((newer, 1), (older, 2))
    ]
    outcomes, waiting = at_once(record, reflect)
    assert waiting == 2
    assert all(o.applied for o in outcomes), outcomes
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status, newer.superseded_by_id) == (ConsentStatus.ACTIVE, "superseded", older.pk)
    assert older.last_valid_day == date(2036, 4, 1)
    record.refresh_from_db()
    assert record.cert_serial == card.serial


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrfmiddlewaretoken|idempotency_key)" value="([^"]+)"', html))


@pytest.fixture
def browser(live_server, client, clerk) -> Iterator[requests.Session]:
    """Alice's browser against the live server (her session, logged in)."""
    client.force_login(clerk)
    with requests.Session() as session:
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        yield session


@pytest.mark.parametrize("same_form", [True, False], ids=["double-click", "control-two-forms"])
def test_a_double_clicked_sign_form_makes_one_consent_and_both_clicks_land_on_its_receipt(
    live_server, browser, record, make_statement, demo_cards, same_form
):
    statement = make_statement(record)
    url = live_server.url + reverse("consents:statement", args=[statement.pk])
    pages = [browser.get(url).text for _ in range(1 if same_form else 2)]
    forms = [form_fields(page) | {"variant": "valid"} for page in pages]
    assert all(set(form) == {"csrfmiddlewaretoken", "idempotency_key", "variant"} for form in forms)
    sign = live_server.url + reverse("consents:statement-demo-sign", args=[statement.pk])
    clicks = [
        lambda form=forms[0]: browser.post(sign, data=form, headers={"Referer": url}, allow_redirects=False),
        lambda form=forms[-1]: browser.post(sign, data=form, headers={"Referer": url}, allow_redirects=False),
    ]
    responses, waiting = at_once(record, clicks)
    consent = Consent.objects.get()  # one consent either way: the statement is claimed once
    assert OutboxMessage.objects.count() == 1
    receipt = reverse("consents:receipt", args=[consent.pk])
    if same_form:
        # The same form twice: the second click waits for the first and gets its answer.
        assert waiting == 1
        assert [r.status_code for r in responses] == [302, 302]
        assert [r.headers["Location"] for r in responses] == [receipt, receipt]
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
        assert IdempotentRequest.objects.count() == 1
    else:
        # Control: two copies of the page (two keys) both reach the registration at once; the
        # statement's claim keeps it to one consent, the other click is told it was used.
        assert waiting == 2
        locations = sorted(r.headers["Location"] for r in responses)
        assert locations == sorted([receipt, reverse("consents:statement", args=[statement.pk])])


@pytest.mark.parametrize("same_key", [True, False], ids=["same-key", "control-two-keys"])
def test_an_api_post_sent_twice_at_once_with_one_key_makes_one_consent_and_the_same_answer(
    live_server, record, make_statement, tokyo_office, issue_card_for, same_key
):
    statement = make_statement(record)
    _terminal, token = terminal_create(name="府中1", office=tokyo_office, actor=None)
    good = signed(statement, issue_card_for(record))
    body = {key: base64.b64encode(good[field]).decode() for key, field in
            (("signature", "signature"), ("certificate", "certificate_der"))}  # fmt: skip
    url = f"{live_server.url}/api/v1/statements/{statement.pk}/signature/"

    def post(key: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        return requests.post(url, json=body, headers=headers, timeout=30)

    keys = ["sign-key-0001", "sign-key-0001" if same_key else "sign-key-0002"]
    responses, waiting = at_once(record, [lambda k=k: post(k) for k in keys])
    consent = Consent.objects.get()
    assert OutboxMessage.objects.count() == 1
    statuses = sorted(r.status_code for r in responses)
    if same_key:
        assert waiting == 1
        assert statuses == [201, 201]
        assert responses[0].json() == responses[1].json() and responses[0].json()["reference"] == consent.reference
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
        again = post(keys[0])  # and a retry long after: the same answer again, nothing done
        assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (
            201,
            responses[0].json(),
            "true",
        )
        assert Consent.objects.count() == 1
    else:
        assert waiting == 2
        assert statuses == [201, 409]
        assert sorted(r.json().get("code", "") for r in responses) == ["", "statement_used"]
