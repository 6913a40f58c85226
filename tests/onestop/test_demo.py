import re
from pathlib import Path

import pytest
from django.utils import translation
from django_otp.oath import totp

from driver_records.models import DriverRecord, HoldingStatus, RecordKind
from onestop.demo import DEMO_LOGINS, demo_holders, seed_demo
from onestop.models import Office, User
from onestop.prefectures import PREFECTURES, prefecture_of_address


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


# The README's demo holders (issue 18: "the README names no demo holder, so a newcomer guesses
# surnames"): each row names a holder seed_demo makes, as the row says, and the four cases a
# newcomer tries are there for the Tokyo logins.
_README_ROW = re.compile(
    r"^\| (?P<case>[^|]+) \| (?P<status>[^|]+) \| (?P<prefecture>[^|]+) \| (?P<name>[^|]+) \| `(?P<number>\d{12})` \|$"
)


def test_the_readme_names_demo_holders_that_seed_demo_makes():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Demo holders")[1].split("\n## ")[0]
    rows = [m for line in section.splitlines() if (m := _README_ROW.match(line))]
    holders = {h.number: h for h in demo_holders()}
    with translation.override("ja"):
        labels = {status.value: str(status.label) for status in HoldingStatus}
    cases = set()
    for row in rows:
        holder = holders.get(row["number"])
        assert holder is not None, f"seed_demo makes no holder {row['number']}"
        prefecture = prefecture_of_address(holder.address)
        assert (row["name"], row["status"], row["prefecture"]) == (
            holder.name, labels[holder.holding_status], PREFECTURES[prefecture],
        ), row["number"]  # fmt: skip
        cases.add((holder.holding_status, prefecture))
    assert {("licence_card_only", "13"), ("history_card_only", "13"), ("licence_both", "13")} <= cases
    assert any(prefecture != "13" for _status, prefecture in cases)  # another prefecture than the staff's


_README_LOGIN = re.compile(r"^\| (?P<role>[^|]+) \| `(?P<username>[^`]+)` \| `(?P<password>[^`]+)` \| [^|]+ \|$")


@pytest.mark.django_db(transaction=True)
def test_the_readmes_demo_logins_sign_in_and_a_police_station_clerk_is_among_them(client):
    """Each login the README's table gives signs in with its password as the role it says, and
    counter staff of a police station are there to try as well as those of a licence centre."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [m for line in readme.splitlines() if (m := _README_LOGIN.match(line))]
    assert {m["username"] for m in rows} == {login.username for login in DEMO_LOGINS}
    seed_demo()
    for row in rows:
        client.logout()
        answer = client.post("/accounts/login/", {"username": row["username"], "password": row["password"]})
        assert answer.status_code == 302, row["username"]
    kinds = {User.objects.get(username=m["username"]).office.kind for m in rows if "counter staff" in m["role"]}
    assert kinds == {Office.Kind.LICENCE_CENTRE, Office.Kind.POLICE_STATION}
