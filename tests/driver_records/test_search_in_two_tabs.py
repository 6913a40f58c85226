"""Two tabs of one session search at once: each shows its own results.

The holder search keeps what was typed in the session and shows the results at `?s=<token>`
(Post/Redirect/Get, driver_records/search_session.py). A request loads the whole session when
it starts and writes it back whole when it ends (every request: the idle timeout), so a
request of the other tab in flight meanwhile wrote back a session without this tab's search,
and this tab's results page said "no longer available".

The other tab's request in flight is the configured session store itself, loaded before this
tab's search and saved after it, as the server does for a request that overlaps another; this
tab's search goes through the page's own form and results address."""

from __future__ import annotations

import re
from datetime import date
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.urls import reverse

from driver_records.models import DriverRecord
from driver_records.search_session import search_keep
from onestop.models import User
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db
GONE = "この検索の結果はもう表示できません"


@pytest.fixture
def holders(db: None) -> tuple[DriverRecord, DriverRecord]:
    return (
        DriverRecordFactory(name="武蔵野　花子", birth_date=date(1970, 1, 2)),
        DriverRecordFactory(name="多摩川　一郎", birth_date=date(1981, 5, 6)),
    )


def _client(user: User) -> StaffClient:
    client = StaffClient()
    client.force_login(user)
    return client


def _search(client: StaffClient, q: str) -> str:
    """The results address the page's form leads to."""
    response = client.post(reverse("counter:home"), {"q": q, "birth_date": ""})
    assert response.status_code == 303
    assert re.search(r"\?s=", response["Location"])
    return response["Location"]


def _other_tab_in_flight(client: StaffClient):
    """The other tab's request: it has loaded the session and not written it back yet."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(client.session.session_key)
    store.load()
    store._get_session()  # loaded now, as a request reading the session does
    return store


def test_a_search_made_while_the_other_tab_searched_keeps_its_results(clerk, holders):
    mine, theirs = holders
    client = _client(clerk)
    other = _other_tab_in_flight(client)
    address = _search(client, "武蔵野")  # this tab's search, kept and redirected
    their_token = search_keep(other, {"q": "多摩川", "birth_date": ""})  # the other tab's, meanwhile
    other.save()

    body = client.get(address).content.decode()
    assert GONE not in body
    assert mine.number in body and theirs.number not in body
    body = client.get(reverse("counter:home"), {"s": their_token}).content.decode()
    assert GONE not in body
    assert theirs.number in body and mine.number not in body


def test_a_page_of_the_other_tab_loaded_before_the_search_does_not_lose_it(clerk, holders):
    mine, _theirs = holders
    client = _client(clerk)
    other = _other_tab_in_flight(client)  # e.g. the other tab reloading its results page
    address = _search(client, "武蔵野")
    other.save()  # the session written back at the end of that request, as every request does

    body = client.get(address).content.decode()
    assert GONE not in body and mine.number in body


def test_after_logout_a_request_still_in_flight_brings_no_search_back(clerk, holders):
    """Logging out flushes the session; a request of another tab ending afterwards must not
    make the old searches readable again (attack 31)."""
    mine, _theirs = holders
    client = _client(clerk)
    address = _search(client, "武蔵野")
    other = _other_tab_in_flight(client)
    client.post(reverse("logout"))
    with pytest.raises(UpdateError):  # the session is gone: not written back, nor merged into
        other.save()
    client.force_login(clerk)
    body = client.get(address).content.decode()
    assert mine.number not in body and GONE in body


def test_a_request_that_changes_nothing_still_pushes_the_idle_timeout_forward(clerk, holders):
    """The idle timeout (SESSION_IDLE_SECONDS) counts from the last request, a results page
    read too, although such a request no longer writes the session's data back."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = _client(clerk)
    address = _search(client, "武蔵野")
    key = client.session.session_key
    soon = timezone.now() + timedelta(seconds=60)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    assert holders[0].number in client.get(address).content.decode()
    assert Session.objects.get(session_key=key).expire_date > soon + timedelta(seconds=settings.SESSION_COOKIE_AGE / 2)
