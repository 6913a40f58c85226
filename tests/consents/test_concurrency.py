"""Two submissions of one signed statement racing each other make one consent (the claim)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from consents.errors import ConsentRefused
from consents.models import Consent
from consents.services import consent_register
from jlis_gateway.models import OutboxMessage

from .conftest import signed


@pytest.mark.django_db(transaction=True)
def test_racing_submissions_of_one_statement_make_one_consent(make_statement, issue_card_for, clerk, record):
    statement = make_statement(record)
    submission = signed(statement, issue_card_for(record))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            start.wait()
            consent_register(statement_id=statement.pk, actor=clerk, **submission)
            outcomes.append("registered")
        except ConsentRefused as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["registered", "statement_used"]
    assert Consent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
