"""The consent lifecycle under orders of events the other suites do not take (attack round 32).

Each expected outcome comes from the rules (DOMAIN.md R1-R17, the terms of use), never from the
code under test."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from consents.errors import ConsentRefused
from consents.models import Consent, TermsVersion
from consents.services import consent_register
from jlis_gateway.models import OutboxMessage
from onestop.clock import JST, japan_today

from .conftest import signed

pytestmark = pytest.mark.django_db(transaction=True)


def test_r17_a_statement_made_under_the_old_terms_and_signed_after_new_terms_took_effect_is_refused(
    make_statement, issue_card_for, clerk, record, terms
):
    """Order: the statement is made under the terms in force (2025.1); new terms take effect
    (the day changes in Japan while the holder reads); the holder signs. R17: use after a change
    means acceptance of the new version, and every consent records the version it was given
    under; the holder signed a statement naming the old one, so no consent can record it: the
    signature is refused, nothing is stored or sent, and a new statement names the new terms."""
    statement = make_statement(record)
    assert "利用規約の版: 2025.1" in statement.text
    TermsVersion.objects.create(version="2026.1", effective_date=japan_today(), text="改定後の利用規約（試験用）")
    card = issue_card_for(record)
    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, card))
    assert caught.value.code == "terms_changed"
    assert not Consent.objects.exists()
    assert not OutboxMessage.objects.exists()
    again = make_statement(record)
    assert "利用規約の版: 2026.1" in again.text
    consent = consent_register(statement_id=again.pk, actor=clerk, **signed(again, card))
    assert consent.terms_version.version == "2026.1"


def test_r17_terms_that_take_effect_tomorrow_do_not_touch_todays_statement(
    make_statement, issue_card_for, clerk, record, terms
):
    """New terms announced for tomorrow (Japan) are not in force yet: today's statement holds."""
    statement = make_statement(record)
    TermsVersion.objects.create(
        version="2026.1", effective_date=japan_today() + timedelta(days=1), text="改定後の利用規約（試験用）"
    )
    consent = consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, issue_card_for(record)))
    assert consent.terms_version == terms
    assert consent.created_at <= timezone.now()


@pytest.mark.parametrize(
    ("consent_date", "last_day_is"),
    [
        (date(2027, 1, 1), "元日 (and the year-end closure of offices, 12/29-1/3)"),
        (date(2026, 5, 3), "憲法記念日, a Saturday"),
        (date(2026, 5, 4), "みどりの日, a Sunday"),
    ],
)
def test_r05_a_period_ending_on_a_holiday_is_not_extended(register, record, consent_date, last_day_is):
    """R5 (DOMAIN.md "Period"): the consent holds up to 23:59:59 JST of its last valid day. Our
    choice (docs/rules.md): 民法 142 (a period ending on a Sunday or holiday ends the next day) is
    not applied: it concerns acts that need a counter open on the last day, and nothing needs one
    for a consent to hold; J-LIS's feed runs every day."""
    from consents.feed import FeedState, record_feed
    from consents.services import consent_expire_due, consent_reflect
    from tests.model.japan import consent_period

    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=consent_date)
    consent.refresh_from_db()
    last = consent_period(consent_date)[1]
    assert consent.last_valid_day == last
    assert consent_expire_due(today=last) == 0
    day_after = datetime.combine(last + timedelta(days=1), time(0), tzinfo=JST)
    record.refresh_from_db()
    assert record_feed(record, at=day_after).state == FeedState.EXPIRED
    assert consent_expire_due(today=last + timedelta(days=1)) == 1
