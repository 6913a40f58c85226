"""R15 for suspensions confirmed before the record held the fact: the migration that adds
DriverRecord.service_stopped_at stops the service for exactly the holders whose suspension was
confirmed, from the time it was confirmed. Run by Django's migration executor on the real schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from driver_records.models import DriverRecord
from driver_records.normalise import name_search_key

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("driver_records", "0012_record_change_reason"), ("safeguards", "0001_suspension_and_disclosure_requests")]
AFTER = [("driver_records", "0013_record_service_stopped_at")]
PROPOSED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_r15_the_migration_stops_the_service_for_holders_suspended_before(tokyo_office, supervisor, second_supervisor):
    executor = migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Record, Request = old.get_model("driver_records", "DriverRecord"), old.get_model("safeguards", "SuspensionRequest")

    def record(n: int):
        name = f"山田　太郎{n}"
        return Record.objects.create(
            kind="licence",
            number=f"3100000000{n}0",
            name=name,
            name_key=name_search_key(name),
            birth_date=datetime(1980, 5, 17).date(),
            address="東京都千代田区霞が関二丁目１番１号",
            holding_status="licence_card_only",
        )

    def request(on, status: str, decided_after: timedelta | None):
        decided = {} if decided_after is None else {"decided_by_id": second_supervisor.pk}
        return Request.objects.create(
            record=on,
            reason_code="misuse",
            grounds="evident",
            note="目的外の利用",
            status=status,
            office_id=tokyo_office.pk,
            proposed_by_id=supervisor.pk,
            proposed_at=PROPOSED_AT,
            decided_at=None if decided_after is None else PROPOSED_AT + decided_after,
            **decided,
        )

    confirmed, rejected_then_confirmed, rejected, proposed, untouched = (record(n) for n in range(5))
    request(confirmed, "confirmed", timedelta(hours=2))
    request(rejected_then_confirmed, "rejected", timedelta(hours=1))
    request(rejected_then_confirmed, "confirmed", timedelta(days=3))
    request(rejected, "rejected", timedelta(hours=1))
    request(proposed, "proposed", None)

    migrate(AFTER)

    stopped = dict(DriverRecord.objects.values_list("pk", "service_stopped_at"))
    assert stopped == {
        confirmed.pk: PROPOSED_AT + timedelta(hours=2),
        rejected_then_confirmed.pk: PROPOSED_AT + timedelta(days=3),
        rejected.pk: None,
        proposed.pk: None,
        untouched.pk: None,
    }
