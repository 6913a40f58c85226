"""The counter's holder search finds people as a clerk types them (issue 18, item 2).

What should match comes from the rule, spelt out in each test: the registered name in one form,
the clerk's typing in another (variant kanji, widths, spaces), a given name alone, a birthdate
in 和暦 or Gregorian. Other prefectures' holders show the directory only (the object-scope rule)."""

from datetime import date

import pytest
from django.urls import reverse

from consents.models import ConsentStatus
from driver_records.models import DriverRecord
from driver_records.services import record_update
from tests.factories import DriverRecordFactory

from .world import consent_for

pytestmark = pytest.mark.django_db


def _names(client, **query) -> list[str]:
    response = client.get(reverse("counter:home"), query)
    assert response.status_code == 200
    return sorted(row.name for row in response.context["results"] or [])


@pytest.fixture
def holders():
    made = {
        name: DriverRecordFactory(name=name, birth_date=born)
        for name, born in [
            ("髙橋　結衣", date(1990, 4, 1)),
            ("高橋　一郎", date(1975, 6, 3)),
            ("齋藤　花子", date(1962, 2, 14)),
            ("渡邊　翔", date(2001, 8, 30)),
            ("山﨑　葵", date(1988, 11, 11)),
            ("田中　結衣", date(1985, 1, 20)),
            ("結城　蓮", date(1999, 9, 9)),
            ("山田　太郎", date(1990, 4, 1)),
            ("山田　太郎 ", date(1970, 12, 31)),
        ]
    }
    return made


def test_a_name_typed_with_standard_kanji_finds_the_holder_registered_with_a_variant(client, clerk, holders):
    client.force_login(clerk)
    assert _names(client, q="高橋　結衣") == ["髙橋　結衣"]
    assert _names(client, q="高橋 結衣") == ["髙橋　結衣"]
    assert _names(client, q="ﾀｶﾊｼ") == []  # kana is not kanji: nothing found, nothing invented
    assert _names(client, q="斎藤") == ["齋藤　花子"]
    assert _names(client, q="齊藤　花子") == ["齋藤　花子"]
    assert _names(client, q="渡辺") == ["渡邊　翔"]
    assert _names(client, q="山崎") == ["山﨑　葵"]
    assert _names(client, q="髙橋") == ["高橋　一郎", "髙橋　結衣"]


def test_a_given_name_alone_finds_its_holders(client, clerk, holders):
    client.force_login(clerk)
    # 結衣 is a given name of two holders; 結城's family name starts with 結 but not with 結衣.
    assert _names(client, q="結衣") == ["田中　結衣", "髙橋　結衣"]
    assert _names(client, q="結") == ["田中　結衣", "結城　蓮", "髙橋　結衣"]


def test_a_birthdate_in_either_calendar_tells_two_holders_of_one_name_apart(client, clerk, holders):
    client.force_login(clerk)
    assert len(_names(client, q="山田　太郎")) == 2
    for typed in ("平成2年4月1日", "H2.4.1", "1990-04-01", "１９９０／４／１"):
        response = client.get(reverse("counter:home"), {"q": "山田 太郎", "birth_date": typed})
        assert [r.pk for r in response.context["results"]] == [holders["山田　太郎"].pk], typed
    assert _names(client, q="結衣", birth_date="平成2年4月1日") == ["髙橋　結衣"]
    assert _names(client, q="山田", birth_date="昭和45年12月31日") == ["山田　太郎 "]


def test_a_birthdate_its_era_did_not_have_is_refused_with_the_forms_a_clerk_may_type(client, clerk, holders):
    client.force_login(clerk)
    response = client.get(reverse("counter:home"), {"q": "山田", "birth_date": "平成31年5月1日"})
    assert response.context["results"] is None
    assert "H2.4.1" in response.content.decode()


def test_a_row_shows_birthdate_address_and_consent_state_for_the_clerks_own_prefecture(client, clerk, holders):
    consent_for(holders["髙橋　結衣"], status=ConsentStatus.ACTIVE)
    client.force_login(clerk)
    body = client.get(reverse("counter:home"), {"q": "高橋"}).content.decode()
    assert "平成2年4月1日" in body and "1990年4月1日" in body
    assert "東京都千代田区霞が関二丁目１番１号" in body
    assert "有効" in body  # 髙橋 結衣's consent
    assert "同意なし" in body  # 高橋 一郎 has none


def test_another_prefectures_holder_shows_name_number_and_prefecture_only(client, clerk):
    osaka = DriverRecordFactory(
        name="髙橋　結衣", prefecture="27", address="大阪府門真市一番町２３番１６号", birth_date=date(1990, 4, 1)
    )
    consent_for(osaka, status=ConsentStatus.ACTIVE)
    client.force_login(clerk)
    response = client.get(reverse("counter:home"), {"q": "高橋"})
    body = response.content.decode()
    assert osaka.name in body and osaka.number in body and "大阪府" in body
    for personal in ("門真市", "平成2年", "1990", "有効", "マイナ免許証のみ"):
        assert personal not in body.split("<tbody>")[1], personal


def test_an_exact_record_number_opens_the_holder_page(client, clerk, holders):
    record = holders["髙橋　結衣"]
    client.force_login(clerk)
    for typed in (record.number, "３０" + record.number[2:], f"{record.number[:4]}-{record.number[4:]}"):
        response = client.get(reverse("counter:home"), {"q": typed})
        assert response.status_code == 302, typed
        assert response["Location"] == reverse("counter:record", args=[record.pk])
    missing = client.get(reverse("counter:home"), {"q": "999999999999"})
    assert missing.status_code == 200 and missing.context["results"] == []


def test_a_name_changed_at_the_counter_is_found_by_its_new_name_and_given_name(client, clerk, holders):
    record = holders["高橋　一郎"]
    record_update(record_id=record.pk, expected_version=record.version, changes={"name": "濱田　一郎"}, actor=clerk)
    client.force_login(clerk)
    assert _names(client, q="浜田") == ["濱田　一郎"]
    assert "濱田　一郎" in _names(client, q="一郎")
    assert _names(client, q="高橋　一") == []
    assert DriverRecord.objects.get(pk=record.pk).given_key == "一郎"


def test_more_than_fifty_matches_say_so(client, clerk):
    DriverRecordFactory.create_batch(51, name="佐藤　花子")
    client.force_login(clerk)
    response = client.get(reverse("counter:home"), {"q": "佐藤"})
    assert len(response.context["results"]) == 50 and response.context["more"]
    assert 'data-testid="more"' in response.content.decode()
