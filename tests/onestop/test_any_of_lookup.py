"""`field__any_of=values` (onestop/sql_params.py): the rows `__in` finds, as one statement whatever
the number of values. Runs on the database the suite runs on (PostgreSQL in CI, SQLite as the
embedded default)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from driver_records.models import DriverRecord
from tests.factories import DriverRecordFactory

ODD = ["61000001", "it's", 'say "x"', "全角の発行番号", "a,b", "%s", "\\"]


@pytest.fixture
def records(db: None) -> list[DriverRecord]:
    return [DriverRecordFactory(cert_serial=serial) for serial in ODD]


@pytest.mark.parametrize("chosen", [[], ODD[:1], ODD, [*ODD[2:5], "nobody's serial"]])
def test_any_of_finds_what_in_finds_for_text(records: list[DriverRecord], chosen: list[str]):
    by_in = set(DriverRecord.objects.filter(cert_serial__in=chosen).values_list("cert_serial", flat=True))
    by_any_of = set(DriverRecord.objects.filter(cert_serial__any_of=chosen).values_list("cert_serial", flat=True))
    assert by_any_of == by_in == set(chosen) & set(ODD)


def test_any_of_finds_what_in_finds_for_keys(records: list[DriverRecord]):
    ids = [records[0].pk, records[3].pk, 10**12]
    assert set(DriverRecord.objects.filter(pk__any_of=ids).values_list("pk", flat=True)) == {
        records[0].pk,
        records[3].pk,
    }


def test_any_of_is_one_statement_with_one_value_whatever_their_number(records: list[DriverRecord]):
    """The point of it: a statement's text that does not change with the number of values, so the
    driver's parse of it is reused (with `__in` each length is a new text)."""

    def compiled(values: list[str]) -> tuple[str, tuple[object, ...]]:
        query = DriverRecord.objects.filter(cert_serial__any_of=values).values_list("pk").query
        sql, params = query.get_compiler(connection=connection).as_sql()
        return sql, tuple(params)

    one, many = compiled(ODD[:1]), compiled([f"6100{n:04d}" for n in range(500)])
    assert one[0] == many[0]
    assert (len(one[1]), len(many[1])) == (1, 1)
    in_one = DriverRecord.objects.filter(cert_serial__in=ODD[:1]).query
    in_many = DriverRecord.objects.filter(cert_serial__in=ODD).query
    assert str(in_one.get_compiler(connection=connection).as_sql()[0]) != str(
        in_many.get_compiler(connection=connection).as_sql()[0]
    )  # the control: what `__in` does


def test_any_of_finds_what_in_finds_for_a_foreign_key(db: None):
    kinds = [*ContentType.objects.order_by("pk").values_list("pk", flat=True)[:3], 10**12]
    by_in = set(Permission.objects.filter(content_type__in=kinds).values_list("pk", flat=True))
    assert by_in  # the control finds some
    assert set(Permission.objects.filter(content_type__any_of=kinds).values_list("pk", flat=True)) == by_in
