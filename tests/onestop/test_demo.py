import pytest
from django_otp.oath import totp

from driver_records.models import DriverRecord, HoldingStatus, RecordKind
from onestop.demo import DEMO_LOGINS, seed_demo
from onestop.models import Office, User


@pytest.mark.django_db(transaction=True)
def test_demo_data_covers_every_status_and_is_idempotent():
    seed_demo()
    seed_demo()
    assert DriverRecord.objects.count() == 50
    assert set(DriverRecord.objects.values_list("holding_status", flat=True)) == set(HoldingStatus)
    assert set(DriverRecord.objects.values_list("kind", flat=True)) == set(RecordKind)
    assert Office.objects.values("prefecture").distinct().count() >= 3
    assert {u.username for u in User.objects.all()} >= {"clerk", "supervisor", "auditor"}
    assert User.objects.get(username="auditor").groups.get().name == "auditor"


@pytest.mark.django_db(transaction=True)
def test_demo_clerk_can_log_in_and_find_a_holder(client):
    seed_demo()
    response = client.post("/accounts/login/", {"username": "clerk", "password": "demo-clerk-2026"})
    assert response.status_code == 302
    clerk = next(login for login in DEMO_LOGINS if login.username == "clerk")
    code = f"{totp(bytes.fromhex(clerk.totp_key)):06d}"  # the key make run prints
    assert client.post("/accounts/second-factor/", {"token": code}).status_code == 302
    holder = DriverRecord.objects.filter(holding_status="licence_card_only").first()
    body = client.get("/counter/", {"q": holder.number}, follow=True).content.decode()  # to the holder page
    assert holder.name in body


@pytest.mark.django_db(transaction=True)
def test_every_demo_office_has_eligible_holders_of_its_own_prefecture():
    seed_demo()
    for office in Office.objects.all():
        assert DriverRecord.objects.filter(
            prefecture=office.prefecture, holding_status__in=["licence_card_only", "history_card_only"]
        ).exists(), office.code
