"""Attack 31: the holder search's birthdate box as an oracle on another prefecture's holders.

Staff of one prefecture see another prefecture's holders as the directory only: name, record
number, prefecture (docs/security.md, the object-scope rule). A birthdate is personal data they
may not read. The search narrows by a typed birthdate; if it narrowed the directory rows too, a
clerk could learn any holder's birthdate by trying dates one by one and watching whether the
holder stays in the list (about 36,500 requests for a century, fewer with a rough age)."""

from __future__ import annotations

from datetime import date

import pytest

from driver_records.models import DriverRecord
from onestop.models import User
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db

BORN = date(1970, 1, 2)
NOT_BORN = date(1970, 1, 3)


def _login(user: User) -> StaffClient:
    client = StaffClient()
    client.force_login(user)
    return client


def _listed(client: StaffClient, record: DriverRecord, birth_date: date) -> bool:
    response = client.get("/counter/", {"q": "浪速 次郎", "birth_date": birth_date.isoformat()})
    assert response.status_code == 200
    return record.number in response.content.decode()


@pytest.fixture
def osaka_holder(db: None) -> DriverRecord:
    return DriverRecordFactory(name="浪速　次郎", address="大阪府大阪市北区梅田一丁目１番", birth_date=BORN)


@pytest.fixture
def tokyo_holder(db: None) -> DriverRecord:
    return DriverRecordFactory(name="浪速　次郎", address="東京都港区芝公園四丁目２番", birth_date=BORN)


def test_a_tokyo_clerk_cannot_learn_an_osaka_holders_birthdate_by_searching_with_dates(clerk, osaka_holder):
    client = _login(clerk)
    # Whether the holder is listed must not depend on whether the typed date is theirs.
    assert _listed(client, osaka_holder, BORN) == _listed(client, osaka_holder, NOT_BORN)


def test_the_birthdate_still_narrows_the_holders_whose_birthdate_the_searcher_reads(
    clerk, auditor, tokyo_holder, osaka_holder
):
    """The controls: a clerk narrows their own prefecture's holders; an auditor, everyone's."""
    clerk_client = _login(clerk)
    assert _listed(clerk_client, tokyo_holder, BORN)
    assert not _listed(clerk_client, tokyo_holder, NOT_BORN)
    auditor_client = _login(auditor)
    assert _listed(auditor_client, osaka_holder, BORN)
    assert not _listed(auditor_client, osaka_holder, NOT_BORN)


def test_without_a_birthdate_the_directory_still_lists_another_prefectures_holder(clerk, osaka_holder):
    """So the clerk can still say where the holder must go."""
    response = _login(clerk).get("/counter/", {"q": "浪速 次郎"})
    body = response.content.decode()
    assert osaka_holder.number in body
    assert BORN.isoformat() not in body and osaka_holder.address not in body
