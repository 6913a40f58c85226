from __future__ import annotations

from datetime import date

import pytest

from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy


@pytest.fixture(scope="session")
def holder_card(jpki_hierarchy: TestHierarchy) -> TestCard:
    """A card of the JPKI-TEST hierarchy the app and the simulator share."""
    holder = CardHolder(name="山田　太郎", address="東京都千代田区霞が関二丁目１番１号", birth_date=date(1980, 5, 17))
    return jpki_hierarchy.issue_card(holder)


@pytest.fixture
def signed_consent(holder_card: TestCard):
    """Makes pending counter consents signed with the test card (what the counter would store)."""
    import hashlib
    import itertools

    from django.utils import timezone

    from consents.models import Channel, Consent, ConsentStatus, TermsVersion
    from tests.factories import DriverRecordFactory

    numbers = itertools.count(1)

    def make(items: tuple[str, ...] = ("address", "name")) -> Consent:
        terms, _ = TermsVersion.objects.get_or_create(
            version="2025-03", defaults={"effective_date": date(2025, 3, 24), "text": "利用規約"}
        )
        statement = f"consent statement {next(numbers)}".encode()
        return Consent.objects.create(
            record=DriverRecordFactory(),
            reference=f"C-{Consent.objects.count() + 1:06d}-{next(numbers)}",
            items=list(items),
            channel=Channel.COUNTER,
            terms_version=terms,
            statement_bytes=statement,
            statement_sha256=hashlib.sha256(statement).hexdigest(),
            signature=holder_card.sign(statement),
            certificate=holder_card.certificate_der,
            cert_serial=holder_card.serial,
            status=ConsentStatus.PENDING,
            created_at=timezone.now(),
        )

    return make
