"""The four items in the signing certificate's subjectAltName (DOMAIN.md, "The four items")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from consents.jpki import verify_consent_signature
from consents.jpki.profile import (
    OID_ADDRESS,
    OID_BIRTH_DATE,
    OID_NAME,
    OID_SEX,
    decode_birth_date,
    der_utf8string,
    encode_birth_date,
    holder_items,
)
from consents.jpki.testcard import CardHolder, TestHierarchy

SIGNED = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("319890107", date(1989, 1, 7)),  # last day of Shōwa
        ("419890108", date(1989, 1, 8)),  # first day of Heisei
        ("420190430", date(2019, 4, 30)),
        ("520190501", date(2019, 5, 1)),  # first day of Reiwa
        ("319270101", date(1927, 1, 1)),
        ("219120730", date(1912, 7, 30)),
    ],
)
def test_era_coded_birth_date_decodes_to_the_gregorian_date(value: str, day: date) -> None:
    assert decode_birth_date(value) == day
    assert encode_birth_date(day) == value


@pytest.mark.parametrize("value", ["419890107", "320190501", "19890108", "4198901O8", "419890230"])
def test_birth_date_with_a_wrong_era_or_shape_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        decode_birth_date(value)


def test_items_missing_the_name_are_refused() -> None:
    with pytest.raises(ValueError, match=OID_NAME.dotted_string):
        holder_items(
            {
                OID_SEX: der_utf8string("1"),
                OID_BIRTH_DATE: der_utf8string("319800517"),
                OID_ADDRESS: der_utf8string("東京都千代田区"),
            }
        )


@pytest.mark.django_db
@pytest.mark.usefixtures("jpki_crl")
def test_r03_the_four_items_decode_with_substituted_character_markers_kept_as_data(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    holder = CardHolder(
        name="𠮷田　髙太郎",
        name_substituted="吉田　高太郎",  # the markers are data: kept exactly as the card has them
        address="北海道札幌市中央区北一条西二丁目１番地　サッポロハイツ１０１号",
        address_substituted="０００１０",
        birth_date=date(1989, 1, 7),
        sex="3",
    )
    card = jpki_hierarchy.issue_card(holder, issued_at=datetime(2025, 1, 10, tzinfo=UTC), key=jpki_card_key)
    statement = "同意".encode()

    result = verify_consent_signature(
        statement=statement, signature=card.sign(statement), certificate_der=card.certificate_der, signed_at=SIGNED
    )

    assert result.name == "𠮷田　髙太郎"
    assert result.name.split("　") == ["𠮷田", "髙太郎"]  # family and given name, full-width space
    assert result.name_substituted == "吉田　高太郎"
    assert result.address == "北海道札幌市中央区北一条西二丁目１番地　サッポロハイツ１０１号"
    assert result.address_substituted == "０００１０"
    assert result.birth_date == date(1989, 1, 7)
    assert result.sex == "3"
