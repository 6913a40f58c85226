"""R3 fails closed: a signature is accepted only when a current CRL of its issuing CA says it is not
revoked. No CRL, or one past its nextUpdate beyond the grace (settings.JPKI_CRL_GRACE_HOURS), is
no evidence: the consent is refused as `revocation_status_unknown` and nothing is stored or sent.

Real CRLs signed by the test CA's key, imported through crl_import; real cards and signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pytest_django.fixtures import Settings

from consents.errors import ConsentRefused
from consents.jpki import JpkiError, JpkiErrorCode, verify_consent_signature
from consents.jpki.crl import CrlImportError, crl_import
from consents.jpki.revocation import CrlFreshness, crl_state, crl_states
from consents.jpki.testcard import CardHolder, RevokedEntry, TestCard, TestHierarchy, make_crl
from consents.jpki.trust import TrustStore, signing_anchor, trust_store
from consents.models import Consent, ConsentStatement, CrlImport
from consents.services import consent_register
from driver_records.models import DriverRecord
from jlis_gateway.models import OutboxMessage
from onestop.models import User
from tests.consents.conftest import signed
from tests.consents.jpki_certs import crl_without_next_update

pytestmark = pytest.mark.django_db

STATEMENT = "同意書 record=7 items=address nonce=crl".encode()
HOLDER = CardHolder(name="中村　次郎", address="東京都新宿区西新宿二丁目８番１号", birth_date=date(1975, 9, 9))
GRACE_HOURS = 6


@pytest.fixture(autouse=True)
def grace(settings: Settings) -> int:
    settings.JPKI_CRL_GRACE_HOURS = GRACE_HOURS
    return GRACE_HOURS


@pytest.fixture(scope="module")
def card(jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey) -> TestCard:
    """Valid now and for years: only the revocation status is in question."""
    return jpki_hierarchy.issue_card(HOLDER, issued_at=datetime.now(UTC) - timedelta(days=30), key=jpki_card_key)


def import_crl(
    hierarchy: TestHierarchy, *, next_update: datetime, entries: list[RevokedEntry] | None = None, number: int = 1
) -> CrlImport:
    """A CRL as J-LIS issues it (a day between thisUpdate and nextUpdate), ending at `next_update`."""
    der = make_crl(
        hierarchy.signing_ca,
        entries or [],
        number=number,
        this_update=next_update - timedelta(days=1),
        next_update=next_update,
    )
    return crl_import(der=der)


def verify_now(card: TestCard) -> object:
    return verify_consent_signature(
        statement=STATEMENT,
        signature=card.sign(STATEMENT),
        certificate_der=card.certificate_der,
        signed_at=timezone.now(),
    )


def refusal(card: TestCard) -> JpkiError:
    with pytest.raises(JpkiError) as caught:
        verify_now(card)
    return caught.value


def test_r03_no_crl_for_the_issuing_ca_is_refused_as_revocation_status_unknown(card: TestCard) -> None:
    error = refusal(card)
    assert error.code == JpkiErrorCode.REVOCATION_STATUS_UNKNOWN == "revocation_status_unknown"
    assert error.detail == "no CRL imported for this CA"
    assert "失効" in error.message_ja and "CRL" in error.message_en


def test_r03_a_crl_of_another_ca_key_does_not_count(card: TestCard, foreign_hierarchy: TestHierarchy) -> None:
    """A current CRL for one key says nothing of another key's certificates (CAs share one name)."""
    store_with_both = _store_with(foreign_hierarchy)
    der = make_crl(foreign_hierarchy.signing_ca, [], number=1)
    crl_import(der=der, trust=store_with_both)
    assert refusal(card).code == JpkiErrorCode.REVOCATION_STATUS_UNKNOWN


def test_r03_crl_past_next_update_beyond_the_grace_is_refused(card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    # Weeks late, and (the boundary's neighbour) ten minutes beyond the grace.
    import_crl(jpki_hierarchy, next_update=timezone.now() - timedelta(days=21), number=1)
    assert refusal(card).code == JpkiErrorCode.REVOCATION_STATUS_UNKNOWN
    import_crl(jpki_hierarchy, next_update=timezone.now() - timedelta(hours=GRACE_HOURS, minutes=10), number=2)
    error = refusal(card)
    assert error.code == JpkiErrorCode.REVOCATION_STATUS_UNKNOWN
    assert error.detail.startswith("crl #2 ") and "expired: next_update" in error.detail


def test_r03_crl_past_next_update_within_the_grace_is_accepted(card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    import_crl(jpki_hierarchy, next_update=timezone.now() - timedelta(hours=GRACE_HOURS) + timedelta(minutes=10))
    result = verify_now(card)
    assert result.serial == card.serial  # type: ignore[attr-defined]
    assert "(late: next_update" in result.revocation_source  # type: ignore[attr-defined]


def test_r03_no_grace_configured_refuses_a_crl_as_soon_as_it_is_past_next_update(
    card: TestCard, jpki_hierarchy: TestHierarchy, settings: Settings
) -> None:
    settings.JPKI_CRL_GRACE_HOURS = 0
    import_crl(jpki_hierarchy, next_update=timezone.now() - timedelta(minutes=10))
    assert refusal(card).code == JpkiErrorCode.REVOCATION_STATUS_UNKNOWN


def test_r03_current_crl_without_the_serial_is_accepted(card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    import_crl(jpki_hierarchy, next_update=timezone.now() + timedelta(hours=12))
    assert verify_now(card).revocation_source.startswith("crl #1 this_update ")  # type: ignore[attr-defined]


def test_r03_current_crl_listing_the_serial_is_refused_as_revoked(
    card: TestCard, jpki_hierarchy: TestHierarchy
) -> None:
    revoked_at = timezone.now() - timedelta(days=2)
    entries: list[RevokedEntry] = [(card.certificate.serial_number, revoked_at, x509.ReasonFlags.affiliation_changed)]
    import_crl(jpki_hierarchy, next_update=timezone.now() + timedelta(hours=12), entries=entries)
    assert refusal(card).code == JpkiErrorCode.REVOKED


def test_r03_expired_crl_listing_the_serial_still_says_revoked(card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    """A revocation is never undone: an old CRL that lists the serial is proof enough."""
    entries: list[RevokedEntry] = [(card.certificate.serial_number, timezone.now() - timedelta(days=30), None)]
    import_crl(jpki_hierarchy, next_update=timezone.now() - timedelta(days=7), entries=entries)
    assert refusal(card).code == JpkiErrorCode.REVOKED


# --- the boundary, with an explicit clock -----------------------------------------------------


@pytest.mark.parametrize(
    ("after_next_update", "freshness"),
    [
        (timedelta(seconds=-1), CrlFreshness.CURRENT),
        (timedelta(0), CrlFreshness.CURRENT),
        (timedelta(seconds=1), CrlFreshness.LATE),
        (timedelta(hours=GRACE_HOURS), CrlFreshness.LATE),
        (timedelta(hours=GRACE_HOURS, seconds=1), CrlFreshness.EXPIRED),
    ],
)
def test_r03_crl_freshness_at_next_update_and_at_the_end_of_the_grace(
    jpki_hierarchy: TestHierarchy, after_next_update: timedelta, freshness: CrlFreshness
) -> None:
    next_update = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    import_crl(jpki_hierarchy, next_update=next_update)
    state = crl_state(issuer_key_id=jpki_hierarchy.signing_ca.key_id, now=next_update + after_next_update)
    assert state.freshness == freshness
    assert state.usable == (freshness != CrlFreshness.EXPIRED)


def test_r03_missing_crl_is_not_usable(jpki_hierarchy: TestHierarchy) -> None:
    state = crl_state(issuer_key_id=jpki_hierarchy.signing_ca.key_id, now=timezone.now())
    assert (state.freshness, state.usable, state.crl_number) == (CrlFreshness.MISSING, False, None)


def test_r03_a_crl_without_next_update_is_refused_at_import(jpki_hierarchy: TestHierarchy) -> None:
    der = crl_without_next_update(jpki_hierarchy.signing_ca, number=1, this_update=timezone.now() - timedelta(hours=1))
    with pytest.raises(CrlImportError, match="no nextUpdate"):
        crl_import(der=der)
    assert not CrlImport.objects.exists()


def test_r03_a_stored_crl_without_next_update_is_not_usable(jpki_hierarchy: TestHierarchy) -> None:
    """Rows imported before the import refused such CRLs: nothing says they are current."""
    CrlImport.objects.create(
        issuer_key_id=jpki_hierarchy.signing_ca.key_id,
        crl_number=1,
        this_update=timezone.now() - timedelta(hours=1),
        next_update=None,
        entries=0,
        imported_at=timezone.now(),
    )
    state = crl_state(issuer_key_id=jpki_hierarchy.signing_ca.key_id, now=timezone.now())
    assert (state.freshness, state.usable) == (CrlFreshness.EXPIRED, False)


# --- the counter: refused with the reason, nothing stored or sent --------------------------------


def test_r03_counter_registration_without_a_current_crl_is_refused_and_nothing_is_sent(
    record: DriverRecord,
    make_statement: Callable[..., ConsentStatement],
    jpki_hierarchy: TestHierarchy,
    jpki_card_key: rsa.RSAPrivateKey,
    clerk: User,
) -> None:
    statement = make_statement(record)
    holder = CardHolder(name=record.name, address=record.address, birth_date=record.birth_date)
    record_card = jpki_hierarchy.issue_card(holder, key=jpki_card_key)

    with translation.override("ja"), pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, record_card))

    assert caught.value.code == "revocation_status_unknown"
    assert "失効" in caught.value.message  # the clerk's language comes first
    assert not Consent.objects.exists() and not OutboxMessage.objects.exists()
    statement.refresh_from_db()
    assert statement.refused_code == "revocation_status_unknown" and statement.used_at is None


# --- the monitor: each CA's CRL state ----------------------------------------------------------


def test_r03_monitor_shows_each_cas_crl_state(client: Client, supervisor: User, jpki_hierarchy: TestHierarchy) -> None:
    client.force_login(supervisor)
    with translation.override("en"):
        page = client.get(reverse("gateway:monitor"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"JPKI-TEST signing CA {jpki_hierarchy.signing_ca.key_id}" in page
    assert 'data-freshness="missing"' in page

    import_crl(jpki_hierarchy, next_update=timezone.now() - timedelta(hours=1), number=5)
    page = client.get(reverse("gateway:monitor"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-freshness="late"' in page and "#5" in page

    [row] = crl_states()
    assert (row.crl.freshness, row.crl.crl_number) == (CrlFreshness.LATE, 5)


def test_r03_monitor_says_in_japanese_that_consents_are_refused(client: Client, supervisor: User) -> None:
    client.force_login(supervisor)
    page = client.get(reverse("gateway:monitor"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "失効リスト" in page and "同意は受け付けません" in page


# --- helpers -------------------------------------------------------------------------------------


def _store_with(other: TestHierarchy) -> TrustStore:
    """The test store, and another CA key besides (so its CRL can be imported)."""
    store = trust_store()
    return TrustStore(
        name=store.name,
        policy=store.policy,
        anchors=(*store.anchors, signing_anchor("other", other.signing_ca.certificate)),
    )
