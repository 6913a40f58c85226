"""R4: the holder's prefecture of residence is the prefecture the address begins with, and it
follows the address through every path that changes it. The expected codes come from the model's
own table (tests/model/japan.py, written from JIS X 0401), not from the application's."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from driver_records.access import OutOfScope
from driver_records.models import DriverRecord
from driver_records.services import record_update
from tests.factories import DriverRecordFactory
from tests.model.japan import PREFECTURE_CODES, prefecture_of

pytestmark = pytest.mark.django_db

TOKYO = "東京都千代田区霞が関二丁目１番１号"
OSAKA = "大阪府門真市一番町２３番１６号"


def stored_prefecture(record: DriverRecord) -> str:
    return DriverRecord.objects.values_list("prefecture", flat=True).get(pk=record.pk)


def test_r04_every_prefecture_is_read_from_the_address_that_begins_with_it() -> None:
    records = {name: DriverRecordFactory(address=f"{name}中央区一丁目１番") for name in PREFECTURE_CODES}
    for name, record in records.items():
        assert stored_prefecture(record) == PREFECTURE_CODES[name] == prefecture_of(record.address)


def test_r04_the_prefecture_follows_a_counter_edit_of_the_address(clerk) -> None:
    record = DriverRecordFactory(address=TOKYO)
    updated = record_update(record_id=record.pk, expected_version=1, changes={"address": OSAKA}, actor=clerk)
    assert updated.prefecture == stored_prefecture(record) == "27"
    # Tokyo's clerk no longer serves the holder: Osaka's counter does (R4).
    with pytest.raises(OutOfScope):
        record_update(record_id=record.pk, expected_version=2, changes={"address": TOKYO}, actor=clerk)


def test_r04_the_prefecture_is_not_edited_apart_from_the_address(clerk) -> None:
    record = DriverRecordFactory(address=TOKYO)
    with pytest.raises(ValueError, match="not editable"):
        record_update(record_id=record.pk, expected_version=1, changes={"prefecture": "27"}, actor=clerk)
    with pytest.raises(ValidationError):
        record_update(record_id=record.pk, expected_version=1, changes={"address": "門真市一番町"}, actor=clerk)
    assert stored_prefecture(record) == "13"


def test_r04_the_prefecture_follows_a_plain_save_as_the_admin_makes_it() -> None:
    record = DriverRecordFactory(address=TOKYO)
    record.address = OSAKA
    record.save()
    assert record.prefecture == "27"  # read again from the database
    record.prefecture = "13"  # whatever a caller sets, the database derives it
    record.save()
    assert stored_prefecture(record) == "27"


def test_r04_the_prefecture_follows_a_bulk_update_and_plain_sql() -> None:
    record = DriverRecordFactory(address=TOKYO)
    DriverRecord.objects.filter(pk=record.pk).update(address=OSAKA)
    assert stored_prefecture(record) == "27"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE driver_records_driverrecord SET address = %s WHERE id = %s", [TOKYO, record.pk])
    assert stored_prefecture(record) == "13"


def test_r04_an_address_naming_no_prefecture_leaves_the_holder_to_no_office() -> None:
    record = DriverRecordFactory(address=TOKYO)
    DriverRecord.objects.filter(pk=record.pk).update(address="千代田区霞が関")
    assert stored_prefecture(record) == ""


def test_a_test_holder_cannot_be_given_a_prefecture_its_address_is_not_in() -> None:
    with pytest.raises(ValueError, match="not the address's"):
        DriverRecordFactory(address=TOKYO, prefecture="27")
    assert DriverRecordFactory(address=OSAKA, prefecture="27").prefecture == "27"
