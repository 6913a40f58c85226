"""Attack 31: a holder's name and birthdate in the address of the search's results.

Counter PCs are shared. When the holder search was a GET form, the name and birthdate typed
travelled in the address (/counter/?q=...&birth_date=...), which the browser keeps in its
history, its address-bar suggestions and its session restore, where the next person at the PC
reads them after the clerk has logged out. (The server's own logs leave the query string out;
the browser's history is out of their reach.)

The tests submit the page's own search form as a browser would (its method, its action, its
hidden fields, with the CSRF check on) and look at every address the browser is sent to."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from urllib.parse import unquote_plus, urljoin

import pytest
from django.http import HttpResponse
from django.urls import reverse

from driver_records.models import DriverRecord
from onestop.models import User
from onestop.wareki import wareki
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory
from tests.security.r14_text import with_check_digit

pytestmark = pytest.mark.django_db

BORN = date(1970, 1, 2)
NAME = "武蔵野　花子"
TYPED_NAME = "武蔵野花子"
TYPED_BIRTH_DATE = "昭和45年1月2日"
MY_NUMBER = with_check_digit("12345678901")  # the ordinance's check digit (DOMAIN.md's example)
MY_NUMBER_SPACED = f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}"  # as the card prints it


@pytest.fixture
def holder(db: None) -> DriverRecord:
    return DriverRecordFactory(name=NAME, address="東京都武蔵野市中町一丁目１番", birth_date=BORN)


def _login(user: User) -> StaffClient:
    client = StaffClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _submit_search(client: StaffClient, q: str, birth_date: str = "") -> HttpResponse:
    """Fill the page's search form and send it as the browser does, following redirects."""
    page_url = reverse("counter:home")
    page = client.get(page_url).content.decode()
    form = re.search(r"<form([^>]*role=\"search\"[^>]*)>(.*?)</form>", page, re.S)
    assert form, "the page has the search form"
    attrs, inner = form.groups()
    method = _attribute(attrs, "method").lower() or "get"
    action = urljoin(page_url, _attribute(attrs, "action"))
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', inner)
    }
    fields |= {"q": q, "birth_date": birth_date}
    send = client.post if method == "post" else client.get
    return send(action, fields, follow=True)


def _attribute(attrs: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', attrs)
    return unescape(found.group(1)) if found else ""


def _addresses(response: HttpResponse) -> list[str]:
    """Every address the browser showed: each redirect's target and the final page's own."""
    query = response.request.get("QUERY_STRING", "")
    final = response.request["PATH_INFO"] + (f"?{query}" if query else "")
    return [url for url, _status in response.redirect_chain] + [final]


def _carries(address: str, typed: str) -> bool:
    return typed in unquote_plus(address) or typed in address


def test_the_search_does_not_put_the_typed_name_and_birthdate_in_the_address(clerk: User, holder: DriverRecord):
    response = _submit_search(_login(clerk), TYPED_NAME, TYPED_BIRTH_DATE)
    assert response.status_code == 200
    addresses = _addresses(response)
    leaked = [a for a in addresses if _carries(a, TYPED_NAME) or _carries(a, TYPED_BIRTH_DATE) or _carries(a, "昭和")]
    assert leaked == [], f"typed text in the address: {leaked}"
    # The results are still shown: the holder, with the birthdate the clerk may read.
    body = response.content.decode()
    assert holder.number in body and NAME in body
    assert wareki(BORN) in body


def test_a_record_number_still_opens_the_holder_page(clerk: User, holder: DriverRecord):
    response = _submit_search(_login(clerk), holder.number)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("counter:record", args=[holder.pk])
    assert not any(_carries(a, holder.number) for a in _addresses(response))


def test_a_refused_search_answers_with_its_errors_and_no_typed_text_in_the_address(clerk: User, holder: DriverRecord):
    """A date that does not exist: the answer to the form itself says so, at the search's address."""
    response = _submit_search(_login(clerk), TYPED_NAME, "昭和45年2月30日")
    assert response.status_code == 200
    assert response.redirect_chain == []
    assert _addresses(response) == [reverse("counter:home")]
    body = response.content.decode()
    assert 'aria-invalid="true"' in body
    assert holder.number not in body  # no results for a search that was refused


def test_the_results_address_shows_nothing_to_another_session_or_after_logout(
    clerk: User, supervisor: User, holder: DriverRecord
):
    """The next person at the PC who opens the address from the history sees an empty search."""
    first = _login(clerk)
    results_address = _addresses(_submit_search(first, TYPED_NAME, TYPED_BIRTH_DATE))[-1]
    assert holder.number in first.get(results_address).content.decode()  # reload: still there

    first.post(reverse("logout"), {"csrfmiddlewaretoken": first.cookies["csrftoken"].value})
    for client in (_login(clerk), _login(supervisor)):
        response = client.get(results_address)
        assert response.status_code == 200
        body = response.content.decode()
        assert holder.number not in body and NAME not in body
        assert TYPED_NAME not in body and TYPED_BIRTH_DATE not in body
        assert "この検索の結果はもう表示できません" in body  # says why the page is empty


def test_the_empty_search_says_why_in_english_too(clerk: User):
    client = _login(clerk)
    body = client.get(reverse("counter:home"), {"s": "not-a-token"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The results of this search can no longer be shown" in body


def test_a_my_number_typed_is_refused_by_the_post_itself_and_kept_nowhere(clerk: User, holder: DriverRecord):
    """R14: the refusal is the answer to the form; the session keeps nothing of what was typed."""
    client = _login(clerk)
    response = _submit_search(client, f"武蔵野 {MY_NUMBER_SPACED}")
    assert _addresses(response) == [reverse("counter:home")]
    assert "個人番号" in response.content.decode()
    kept = json.dumps(dict(client.session.items()), ensure_ascii=False)
    assert MY_NUMBER not in kept.replace(" ", "") and "武蔵野" not in kept


def test_another_prefectures_holder_is_still_shown_as_the_directory_only(clerk: User):
    """The scope rule through the form: whether the holder is listed does not depend on whether
    a typed birthdate is theirs (test_attack31_search_birthdate.py); without one the directory
    row is listed; no row shows the birthdate or address."""
    osaka = DriverRecordFactory(name="浪速　次郎", address="大阪府大阪市北区梅田一丁目１番", birth_date=BORN)
    client = _login(clerk)
    bodies = [_submit_search(client, "浪速次郎", typed).content.decode() for typed in ("", "1970-01-02", "1970-01-03")]
    assert osaka.number in bodies[0]
    assert (osaka.number in bodies[1]) == (osaka.number in bodies[2])
    assert not any(osaka.address in body or wareki(BORN) in body for body in bodies)


def test_the_session_keeps_only_the_last_searches(clerk: User, holder: DriverRecord):
    """Each search adds to the session only until the oldest are let go: it does not grow."""
    client = _login(clerk)

    def session_size() -> int:
        return len(json.dumps(dict(client.session.items()), ensure_ascii=False))

    addresses = []
    for n in range(40):
        addresses.append(_addresses(_submit_search(client, TYPED_NAME, TYPED_BIRTH_DATE))[-1])
        if n == 19:
            after_twenty = session_size()
    assert session_size() <= after_twenty
    assert holder.number in client.get(addresses[-1]).content.decode()  # the latest is still there
    assert holder.number not in client.get(addresses[0]).content.decode()  # the first was let go
