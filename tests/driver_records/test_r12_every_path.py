"""R12 by every path: when the holding status leaves マイナ免許証のみ / マイナ経歴証明書のみ, automatic
updates stop at once, and (our choice, DOMAIN.md) stay stopped for the consents registered until
then, even if the status comes back, until a new registration. Whichever path writes the status:
the counter's service, the admin, a shell's plain save(), a bulk QuerySet.update(), raw SQL.

Each path leaves card-only and comes back; then J-LIS's latest information must be skipped
(`feed_stopped_holding_status`) and the feed state say why. PostgreSQL: its trigger is what holds
(the SQLite trigger of the embedded default is tested in test_r12_sqlite.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from applier.batch import events_apply_pending
from consents.feed import FeedState, record_feed
from driver_records.models import DriverRecord
from driver_records.services import record_update
from onestop.models import User
from tests.factories import DriverRecordFactory

from .world import consent_for, holder, latest_info

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TWO_CARDS = "licence_both"
CARD_ONLY = "licence_card_only"


def _counter(record: DriverRecord, status: str, clerk: User) -> None:
    version = DriverRecord.objects.values_list("version", flat=True).get(pk=record.pk)
    record_update(record_id=record.pk, expected_version=version, changes={"holding_status": status}, actor=clerk)


def _plain_save(record: DriverRecord, status: str, _clerk: User) -> None:
    obj = DriverRecord.objects.get(pk=record.pk)
    obj.holding_status = status
    obj.save()


def _bulk_update(record: DriverRecord, status: str, _clerk: User) -> None:
    DriverRecord.objects.filter(pk=record.pk).update(holding_status=status)


def _raw_sql(record: DriverRecord, status: str, _clerk: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE driver_records_driverrecord SET holding_status = %s WHERE id = %s", [status, record.pk])


PATHS: dict[str, Callable[[DriverRecord, str, User], None]] = {
    "counter": _counter,
    "shell save()": _plain_save,
    "QuerySet.update()": _bulk_update,
    "raw SQL": _raw_sql,
}


def _feed(record: DriverRecord) -> FeedState:
    return record_feed(DriverRecord.objects.get(pk=record.pk)).state


def _information_is_skipped_for_the_stop(record: DriverRecord) -> None:
    record = DriverRecord.objects.get(pk=record.pk)
    event = latest_info(
        seq=record.jlis_seq + 1, old=record.cert_serial, new="S-NEW", address="東京都府中市多磨町３丁目１番地"
    )
    result = events_apply_pending()
    assert dict(result.skipped_by_reason) == {"feed_stopped_holding_status": 1}
    event.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", "feed_stopped_holding_status")
    assert DriverRecord.objects.get(pk=record.pk).address == record.address


@pytest.mark.parametrize("path", PATHS)
def test_r12_leaving_card_only_stops_the_feed_by_every_path_and_it_stays_stopped(path, clerk):
    record = holder(serial="S-1", prefecture="13")
    assert _feed(record) == FeedState.ACTIVE

    PATHS[path](record, TWO_CARDS, clerk)
    assert _feed(record) == FeedState.STOPPED_HOLDING_STATUS
    stopped = DriverRecord.objects.get(pk=record.pk)
    assert stopped.feed_stopped_at is not None and stopped.holding_status_changed_at is not None

    PATHS[path](record, CARD_ONLY, clerk)  # back to card-only: still stopped until a new registration
    assert _feed(record) == FeedState.STOPPED_HOLDING_STATUS
    _information_is_skipped_for_the_stop(record)


@pytest.mark.parametrize("path", PATHS)
def test_r12_the_stop_covers_a_consent_stamped_by_a_clock_ahead_of_the_writers(path, clerk):
    # A worker whose clock runs ahead (workers scale out across machines) registered the consent
    # through Mynaportal a moment before the counter recorded the plastic licence: registered
    # before the change, it is stopped, whatever the two clocks said.
    record = DriverRecordFactory(cert_serial="S-2", cert_issuer_key_id="ab" * 20, prefecture="13")
    consent_for(
        record,
        created_at=timezone.now() + timedelta(minutes=10),
        last_valid_day=date(2035, 12, 31),
    )
    assert _feed(record) == FeedState.ACTIVE

    PATHS[path](record, TWO_CARDS, clerk)
    PATHS[path](record, CARD_ONLY, clerk)

    assert _feed(record) == FeedState.STOPPED_HOLDING_STATUS
    _information_is_skipped_for_the_stop(record)


def test_r12_nothing_restarts_a_stopped_feed_by_moving_the_stop_back(clerk):
    record = holder(serial="S-3", prefecture="13")
    _counter(record, TWO_CARDS, clerk)
    _counter(record, CARD_ONLY, clerk)
    for moved_back in (None, timezone.now() - timedelta(days=365)):
        with pytest.raises(DatabaseError, match="R12"), transaction.atomic():
            DriverRecord.objects.filter(pk=record.pk).update(feed_stopped_at=moved_back)
    assert _feed(record) == FeedState.STOPPED_HOLDING_STATUS


def _as_posted(form: Any) -> dict[str, str]:
    """What the browser sends back for the change form as it was shown."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), local.time().isoformat()
        else:
            data[name] = "" if value is None else str(value)
    return data


@pytest.fixture
def superuser(db: None) -> User:
    user = User.objects.create_superuser("root", password="root-password-0123456789")
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def test_r12_the_admin_shows_the_holding_status_and_its_stop_but_cannot_change_them(client, superuser, clerk):
    # The counter of residence records a holding status (R4), through the service that keeps the
    # history and the audit trail; the admin, a plain save, is no way around it.
    record = holder(serial="S-4", prefecture="13")
    _counter(record, TWO_CARDS, clerk)
    before = DriverRecord.objects.get(pk=record.pk)
    client.force_login(superuser)
    url = reverse("admin:driver_records_driverrecord_change", args=[record.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert {"holding_status", "feed_stopped_at", "holding_status_changed_at"}.isdisjoint(form.fields)

    data = _as_posted(form)
    data.update(holding_status=CARD_ONLY, feed_stopped_at_0="", feed_stopped_at_1="")
    answer = client.post(url, data)
    assert answer.status_code == 302  # saved: the fields it shows, not these
    after = DriverRecord.objects.get(pk=record.pk)
    assert (after.holding_status, after.feed_stopped_at) == (TWO_CARDS, before.feed_stopped_at)
    assert _feed(record) == FeedState.STOPPED_HOLDING_STATUS
