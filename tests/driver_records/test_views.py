import pytest
from django.urls import reverse

from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory


@pytest.mark.django_db
def test_counter_requires_login(client):
    response = client.get(reverse("counter:home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.django_db
def test_clerk_finds_a_holder_by_record_number(client, clerk):
    record = DriverRecordFactory(number="301234567890", name="佐藤　花子")
    client.force_login(clerk)
    response = client.get(reverse("counter:home"), {"q": "３０１２３４５６７８９０"})
    assert (response.status_code, response["Location"]) == (302, reverse("counter:record", args=[record.pk]))


@pytest.mark.django_db
def test_clerk_finds_a_holder_by_name_typed_without_the_space(client, clerk):
    DriverRecordFactory(name="佐藤　花子")
    DriverRecordFactory(name="鈴木　一郎")
    client.force_login(clerk)
    body = client.get(reverse("counter:home"), {"q": "佐藤花子"}).content.decode()
    assert "佐藤　花子" in body
    assert "鈴木　一郎" not in body


@pytest.mark.django_db
def test_search_with_no_match_says_so_in_japanese(client, clerk):
    client.force_login(clerk)
    body = client.get(reverse("counter:home"), {"q": "存在しない"}).content.decode()
    assert "該当する" in body


@pytest.mark.django_db
def test_holder_page_shows_the_record_and_audits_the_view(client, clerk):
    record = DriverRecordFactory(holding_status="licence_both")
    client.force_login(clerk)
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    assert record.number in body
    assert "2枚持ち" in body
    viewed = AuditEvent.objects.get(action="record.view")
    assert (viewed.actor, viewed.record_number) == (clerk, record.number)
