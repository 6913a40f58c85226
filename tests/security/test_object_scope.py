"""The object-scope rule (driver_records/access.py): staff read and change only the holders of
their own prefecture of residence (R4: "at the counter of the holder's residence"); elsewhere a
search and the holder page give name, record number and prefecture, so the clerk can say where
to go; auditors read everyone; terminals stay in their prefecture. Issue 17's findings 2 and 5.
The permission matrix (test_permission_matrix.py) walks every URL the same way; these name the
findings and look at what each answer holds."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from consents.models import ConsentStatement
from driver_records.access import HolderAccess, holder_access, holders_readable
from driver_records.models import DriverRecord
from driver_records.services import record_update
from onestop.models import AuditEvent, Office, User
from onestop.roles import Role
from onestop.wareki import wareki
from tests.conftest import StaffClient, _staff

pytestmark = pytest.mark.django_db

TOKYO, OSAKA = "13", "27"


def _login(user: User) -> StaffClient:
    client = StaffClient()
    client.force_login(user)
    return client


def _osaka_clerk() -> User:
    return User.objects.get(username="olivia")  # the world's Osaka clerk


def _personal_data(record: DriverRecord, body: str) -> list[str]:
    values = {
        "address": record.address,
        "birth date": record.birth_date.isoformat(),
        "birth date (和暦)": wareki(record.birth_date),
        "certificate serial": record.cert_serial,
        "holding status": str(record.get_holding_status_display()),
    }
    return [what for what, value in values.items() if value and value in body]


# --- finding 2: any clerk could change any holder's holding status ---------------------------


def test_finding2_a_tokyo_clerk_cannot_change_an_osaka_holders_holding_status(world):
    osaka = world.elsewhere.record
    before = DriverRecord.objects.get(pk=osaka.pk)
    client = _login(world.users["clerk"])
    response = client.post(
        reverse("counter:holding-status", args=[osaka.pk]),
        {"version": before.version, "holding_status": "licence_both", "reason": "交付", "confirmed": "1"},
    )
    assert response.status_code == 403
    after = DriverRecord.objects.get(pk=osaka.pk)
    assert (after.holding_status, after.feed_stopped_at, after.version) == (
        before.holding_status,
        before.feed_stopped_at,
        before.version,
    )  # R12's stop never happened
    assert not AuditEvent.objects.filter(action="record.update", subject_id=str(osaka.pk)).exists()


def test_finding2_an_osaka_clerk_changes_an_osaka_holders_holding_status(world):
    """The control: the same request by staff of the holder's prefecture is recorded."""
    osaka = world.elsewhere.record
    client = _login(_osaka_clerk())
    response = client.post(
        reverse("counter:holding-status", args=[osaka.pk]),
        {"version": osaka.version, "holding_status": "licence_both", "reason": "交付", "confirmed": "1"},
    )
    assert response.status_code == 302
    assert DriverRecord.objects.get(pk=osaka.pk).holding_status == "licence_both"


def test_finding2_the_record_service_refuses_staff_of_another_prefecture(world):
    osaka = world.elsewhere.record
    for actor in (world.users["clerk"], world.users["supervisor"], world.users["auditor"]):
        with pytest.raises(PermissionDenied):
            record_update(
                record_id=osaka.pk,
                expected_version=osaka.version,
                changes={"holding_status": "licence_both"},
                actor=actor,
            )
    assert DriverRecord.objects.get(pk=osaka.pk).holding_status == "licence_card_only"


# --- finding 5: clerks read every prefecture's holders ---------------------------------------


def test_finding5_an_osaka_clerk_sees_where_a_tokyo_holder_must_go_and_no_personal_data(world):
    tokyo = world.record
    body = _login(_osaka_clerk()).get(reverse("counter:record", args=[tokyo.pk])).content.decode()
    assert _personal_data(tokyo, body) == []
    assert world.consent.reference not in body  # no consent, receipt or history
    assert tokyo.name in body and tokyo.number in body
    assert "東京都" in body and "住所地" in body  # which prefecture's counter to visit
    assert "署名する同意文を作成" not in body and "保有状況を記録" not in body  # no form to act
    viewed = AuditEvent.objects.filter(subject_id=str(tokyo.pk), actor=_osaka_clerk())
    assert list(viewed.values_list("action", flat=True)) == ["record.view_elsewhere"]


def test_finding5_the_page_for_a_holder_of_another_prefecture_reads_none_of_their_consents(world):
    """What is not shown is not read either: the consents' table is not queried for that page
    (it was, and the page dropped what it read)."""
    tokyo = world.record
    client = _login(_osaka_clerk())
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("counter:record", args=[tokyo.pk])).status_code == 200
    assert [q["sql"] for q in queries if "consents_consent" in q["sql"]] == []
    with CaptureQueriesContext(connection) as queries:  # the control: the holder's own prefecture
        assert _login(world.users["clerk"]).get(reverse("counter:record", args=[tokyo.pk])).status_code == 200
    assert any("consents_consent" in q["sql"] for q in queries)


def test_finding5_an_osaka_clerk_cannot_open_a_tokyo_holders_receipt(world):
    response = _login(_osaka_clerk()).get(reverse("consents:receipt", args=[world.consent.pk]))
    assert response.status_code == 403
    assert world.consent.reference not in response.content.decode()
    assert not AuditEvent.objects.filter(action="consent.view", actor=_osaka_clerk()).exists()


def test_finding5_a_search_shows_another_prefectures_holder_by_name_number_and_prefecture_only(world):
    tokyo = world.record
    client = _login(_osaka_clerk())
    body = client.get(reverse("counter:home"), {"q": tokyo.name}).content.decode()
    assert tokyo.name in body and tokyo.number in body and "東京都" in body
    assert _personal_data(tokyo, body) == []
    assert str(tokyo.get_kind_display()) not in body.split("<tbody>")[1]
    # An exact record number opens the holder's page: for another prefecture's, where to go.
    by_number = client.get(reverse("counter:home"), {"q": tokyo.number}, follow=True)
    assert by_number.templates[0].name == "driver_records/record_elsewhere.html"
    assert _personal_data(tokyo, by_number.content.decode()) == []
    own = client.get(reverse("counter:home"), {"q": world.elsewhere.record.name}).content.decode()
    assert str(world.elsewhere.record.get_holding_status_display()) in own  # the control: their own holder
    assert wareki(world.elsewhere.record.birth_date) in own


def test_finding5_the_consent_status_api_refuses_staff_and_terminals_of_another_prefecture(world):
    url = reverse("api:consent-status", args=[world.record.pk])
    response = _login(_osaka_clerk()).get(url)
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "forbidden"
    assert "items" not in json.loads(response.content)
    osaka_terminal = world.client("terminal").get(reverse("api:consent-status", args=[world.elsewhere.record.pk]))
    assert osaka_terminal.status_code == 403  # the Tokyo terminal, an Osaka holder
    assert world.client("clerk").get(url).status_code == 200  # the control: Tokyo's own


def test_finding5_the_statement_api_tells_another_prefectures_clerk_only_where_the_holder_belongs(world):
    """A refusal must not say what the holder page would not: a two-card holder's holding status."""
    tokyo = world.record
    DriverRecord.objects.filter(pk=tokyo.pk).update(holding_status="licence_both")
    response = _login(_osaka_clerk()).post(
        reverse("api:statements"),
        json.dumps({"record_id": tokyo.pk, "items": ["address"]}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="scope-00000001",
    )
    assert (response.status_code, response.json()["code"]) == (422, "wrong_prefecture")
    assert "2枚持ち" not in response.content.decode()


def test_finding5_a_supervisor_of_another_prefecture_cannot_open_the_revocation_page(world):
    osaka_supervisor = User.objects.get(username="oscar")
    response = _login(osaka_supervisor).get(reverse("consents:revoke", args=[world.consent.pk]))
    assert response.status_code == 403
    assert _personal_data(world.record, response.content.decode()) == []


def test_auditors_read_every_prefectures_holder_and_each_read_is_audited(world):
    client = _login(world.users["auditor"])
    for holder in (world.record, world.elsewhere.record):
        body = client.get(reverse("counter:record", args=[holder.pk])).content.decode()
        assert holder.address in body
    for consent in (world.consent, world.elsewhere.consent):
        assert client.get(reverse("consents:receipt", args=[consent.pk])).status_code == 200
    views = AuditEvent.objects.filter(actor=world.users["auditor"]).values_list("action", flat=True)
    assert sorted(views) == ["consent.view", "consent.view", "record.view", "record.view"]


def test_the_admin_and_its_export_show_other_staff_only_their_prefectures_holders(world):
    """Only auditors are given the admin; should a clerk be made staff with the view permission,
    the list, a row and the CSV export still follow the rule."""
    clerk = world.users["clerk"]
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(Permission.objects.get(codename="view_driverrecord"))
    TOTPDevice.objects.create(user=clerk, name="authenticator", confirmed=True)  # the admin asks for it
    client = _login(User.objects.get(pk=clerk.pk))
    listed = client.get(reverse("admin:driver_records_driverrecord_changelist")).content.decode()
    assert world.record.number in listed and world.elsewhere.record.number not in listed
    export = b"".join(client.get(reverse("admin:driver_records_driverrecord_export")).streaming_content).decode()
    assert world.record.number in export and world.elsewhere.record.number not in export
    other_row = client.get(reverse("admin:driver_records_driverrecord_change", args=[world.elsewhere.record.pk]))
    assert other_row.status_code == 302  # the admin's "no such row" answer: back to its index
    auditor = _login(world.users["auditor"])
    export = b"".join(auditor.get(reverse("admin:driver_records_driverrecord_export")).streaming_content).decode()
    assert world.record.number in export and world.elsewhere.record.number in export


def test_a_terminal_lists_no_open_statement_of_a_holder_who_moved_away(world):
    statements = reverse("api:statements")
    listed = world.client("terminal").get(statements).json()
    assert world.statement.pk in [s["id"] for s in listed]
    DriverRecord.objects.filter(pk=world.record.pk).update(address="大阪府門真市一番町２３番１６号")  # moved to Osaka
    listed = world.client("terminal").get(statements).json()
    assert world.statement.pk not in [s["id"] for s in listed]
    assert world.client("terminal").get(reverse("api:statement", args=[world.statement.pk])).status_code == 403


# --- the rule itself, against a table written from it ------------------------------------------

# (who, office prefecture) -> access to a Tokyo holder, as the rule says it.
EXPECTED = {
    ("clerk", TOKYO): HolderAccess.WRITE,
    ("clerk", OSAKA): HolderAccess.DIRECTORY,
    ("clerk", None): HolderAccess.DIRECTORY,
    ("supervisor", TOKYO): HolderAccess.WRITE,
    ("supervisor", OSAKA): HolderAccess.DIRECTORY,
    ("auditor", None): HolderAccess.READ,
    ("auditor", OSAKA): HolderAccess.READ,
    ("no role", TOKYO): HolderAccess.NONE,
    ("terminal", TOKYO): HolderAccess.WRITE,
    ("terminal", OSAKA): HolderAccess.NONE,
    ("anonymous", None): HolderAccess.NONE,
}
ROLES = {"clerk": Role.CLERK, "supervisor": Role.SUPERVISOR, "auditor": Role.AUDITOR}


def _principal(who: str, prefecture: str | None, n: int) -> object:
    office = (
        Office.objects.get_or_create(
            code=f"{prefecture}-X", defaults={"name": "署", "kind": "police_station", "prefecture": prefecture}
        )[0]
        if prefecture
        else None
    )
    if who == "anonymous":
        return AnonymousUser()
    if who == "terminal":
        from consents.models import CounterTerminal

        return CounterTerminal(name=f"t{n}", office=office)
    if who == "no role":
        user = User.objects.create_user(username=f"nobody{n}", password="pw-nobody-0123456789")
        user.office = office
        return user
    return _staff(f"{who}{n}", ROLES[who], office)


def test_holder_access_is_the_rule_for_every_kind_of_principal(db):
    got = {key: holder_access(_principal(*key, n), TOKYO) for n, key in enumerate(EXPECTED)}
    assert got == EXPECTED


def test_a_superuser_reads_every_holder_in_the_admin_and_changes_none_at_the_counter(db):
    root = User.objects.create_superuser(username="root", password="pw-root-0123456789")
    assert holder_access(root, TOKYO) == HolderAccess.READ
    assert holders_readable(root, DriverRecord.objects.all()).query.where.children == []  # unfiltered


def test_lists_filtered_by_the_rule_keep_only_the_staffs_prefecture(world):
    statements = ConsentStatement.objects.all()
    tokyo_only = holders_readable(world.users["clerk"], statements, "record__prefecture")
    assert {s.record.prefecture for s in tokyo_only} == {TOKYO}
    assert set(holders_readable(world.users["auditor"], statements, "record__prefecture")) == set(statements)
    assert list(holders_readable(AnonymousUser(), statements, "record__prefecture")) == []
