"""factory_boy factories shared by the tests."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from driver_records.models import DriverRecord, HoldingStatus, RecordKind
from driver_records.normalise import name_search_key
from onestop.prefectures import prefecture_of_address


class DriverRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DriverRecord

    kind = RecordKind.LICENCE
    number = factory.Sequence(lambda n: f"30{n:09d}0")
    name = factory.Sequence(lambda n: f"山田　太郎{n}")
    name_key = factory.LazyAttribute(lambda o: name_search_key(o.name))
    birth_date = datetime.date(1980, 5, 17)
    address = "東京都千代田区霞が関二丁目１番１号"
    holding_status = HoldingStatus.LICENCE_CARD_ONLY

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        """The database derives the prefecture from the address (R4); a test that names one too
        must name the address's (a holder of Osaka lives at an address in Osaka)."""
        prefecture = kwargs.pop("prefecture", None)
        if prefecture is not None and prefecture != prefecture_of_address(kwargs["address"]):
            raise ValueError(f"prefecture {prefecture} is not the address's: give an address in it")
        return kwargs
