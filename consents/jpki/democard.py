"""The demo card: each holder's own test card, for signing at the counter in demo mode; and the
demo's CRL, published and imported as J-LIS's would be (consents are refused without one, R3).

It carries the record's name, address and date of birth, is issued by the JPKI-TEST hierarchy,
and is kept under settings.JPKI_TEST_DIR/cards/, so the same record signs with the same card
(same serial) until it is reissued: on request, when it has expired, or when the record's name,
address or date of birth no longer match (JPKI reissues on any such change).
"""

from __future__ import annotations

import fcntl
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from consents.models import CrlImport
from driver_records.models import DriverRecord

from .crl import crl_import
from .testcard import CardHolder, TestCard, TestHierarchy
from .trust import TrustAnchor


def _cards_dir() -> Path:
    if settings.JPKI_TRUST != "test":
        raise ImproperlyConfigured("the demo card exists only when JPKI_TRUST is 'test'")
    return Path(settings.JPKI_TEST_DIR) / "cards"


def demo_crl_refresh(*, actor_label: str = "demo") -> CrlImport:
    """Reissue the JPKI-TEST signing CA's CRL (its revocations so far, the next number, a day's
    validity) and import it, as an operator imports J-LIS's daily CRL."""
    directory = Path(settings.JPKI_TEST_DIR)
    _cards_dir()  # refuses unless JPKI_TRUST is "test"
    der = TestHierarchy.load_or_create(directory).publish_crl()
    return crl_import(der=der, actor_label=actor_label)


def _holder(record: DriverRecord) -> CardHolder:
    return CardHolder(name=record.name, address=record.address, birth_date=record.birth_date)


def _current(card: TestCard, record: DriverRecord, hierarchy: TestHierarchy) -> bool:
    holder = _holder(record)
    return (
        (card.holder.name, card.holder.address, card.holder.birth_date)
        == (holder.name, holder.address, holder.birth_date)
        and card.certificate.not_valid_after_utc > datetime.now(UTC)
        and TrustAnchor("JPKI-TEST signing CA", hierarchy.signing_ca.certificate).issued(card.certificate)
    )


def demo_card_for(record: DriverRecord, *, reissue: bool = False) -> TestCard:
    """The record's demo card; a new one (new serial) only when reissued or out of date."""
    cards = _cards_dir()
    hierarchy = TestHierarchy.load_or_create(Path(settings.JPKI_TEST_DIR))
    cards.mkdir(parents=True, exist_ok=True)
    prefix = cards / f"record-{record.pk}"  # by database id: no personal data in file names
    with open(cards / f".record-{record.pk}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not reissue and prefix.with_name(prefix.name + ".pem").exists():
            card = TestCard.load(prefix)
            if _current(card, record, hierarchy):
                return card
        card = hierarchy.issue_card(_holder(record))
        card.save(prefix)
        return card
