"""factory_boy factories shared by the tests."""

from __future__ import annotations

import datetime

import factory

from driver_records.models import DriverRecord, HoldingStatus, RecordKind
from driver_records.normalise import name_search_key


class DriverRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DriverRecord

    kind = RecordKind.LICENCE
    number = factory.Sequence(lambda n: f"30{n:09d}0")
    name = factory.Sequence(lambda n: f"山田　太郎{n}")
    name_key = factory.LazyAttribute(lambda o: name_search_key(o.name))
    birth_date = datetime.date(1980, 5, 17)
    address = "東京都千代田区霞が関二丁目１番１号"
    prefecture = "13"
    holding_status = HoldingStatus.LICENCE_CARD_ONLY
