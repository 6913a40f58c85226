"""The register's bulk reads hand the applier rows of RECORD_FIELDS; the applier builds its
in-memory record from them by position, so both must name the same columns in the same order."""

from dataclasses import fields

from applier.decide import RecordState
from driver_records.bulk import RECORD_FIELDS
from driver_records.models import DriverRecord


def test_the_applier_reads_the_locked_rows_in_their_column_order():
    assert tuple(f.name for f in fields(RecordState)) == RECORD_FIELDS


def test_each_field_is_a_column_of_the_record():
    columns = {f.attname for f in DriverRecord._meta.concrete_fields}
    assert set(RECORD_FIELDS) <= columns
