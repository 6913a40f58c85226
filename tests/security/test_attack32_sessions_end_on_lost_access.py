"""Attack 32: an account that loses its access keeps its sessions, and the searches kept in them.

The holder search keeps what was typed (a holder's name, a birthdate) in the signed-in session
(driver_records/search_session.py). A clerk whose account is deactivated, whose role is taken
away, who is moved to another prefecture's office or whose authenticator is withdrawn must lose
every session at once, and with them the searches: no row of the session store may go on
holding them (they are personal data, docs/personal-data.md), and the old cookie must be worth
nothing, even if the account is given its access back later (a deactivated account's session
was only unusable while the account was inactive: reactivated, the same cookie was signed in
again, second factor included).

Each test signs the clerk in, searches by name and birthdate through the search form, changes
the account the way an operator does, and then looks into the session store and uses the old
cookie."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from driver_records.models import DriverRecord
from onestop.models import AuditEvent, Office, User
from onestop.roles import Role
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the sessions end when the change commits

NAME = "武蔵野　花子"
TYPED_NAME = "武蔵野花子"
TYPED_BIRTH_DATE = "1970-01-02"


@pytest.fixture
def holder(db: None) -> DriverRecord:
    return DriverRecordFactory(name=NAME, address="東京都武蔵野市中町一丁目１番", birth_date=date(1970, 1, 2))


def _signed_in_with_a_search(user: User) -> tuple[StaffClient, str]:
    """A session of `user` that searched by name and birthdate; the results page's address."""
    client = StaffClient()
    client.force_login(user)
    answer = client.post(reverse("counter:home"), {"q": TYPED_NAME, "birth_date": TYPED_BIRTH_DATE})
    assert answer.status_code == 303
    results = answer["Location"]
    page = client.get(results)
    assert page.status_code == 200 and NAME in page.content.decode()  # the search is kept and read back
    return client, results


def _sessions_of(user: User) -> list[Session]:
    """Every row of the session store signed in as `user`, expired or not."""
    return [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]


def _store_holds_the_search() -> bool:
    return any(
        TYPED_NAME in str(s.get_decoded()) or TYPED_BIRTH_DATE in str(s.get_decoded()) for s in Session.objects.all()
    )


def _deactivate(user: User) -> None:
    user.is_active = False
    user.save()


def _remove_role(user: User) -> None:
    user.groups.remove(Group.objects.get(name=Role.CLERK.value))


def _remove_from_the_group(user: User) -> None:
    """The same, from the group's side (the admin's group page, a script)."""
    Group.objects.get(name=Role.CLERK.value).user_set.remove(user)


def _clear_roles(user: User) -> None:
    user.groups.clear()


def _empty_the_group(user: User) -> None:
    Group.objects.get(name=Role.CLERK.value).user_set.clear()


def _move_to_osaka(user: User) -> None:
    user.office = Office.objects.create(code="27-LC", name="門真運転免許試験場", kind="licence_centre", prefecture="27")
    user.save(update_fields=["office"])


def _withdraw_the_authenticator(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()


def _set_a_new_password(user: User) -> None:
    user.set_password("a-new-password-0123456789")
    user.save()


LOSSES: dict[str, Callable[[User], None]] = {
    "deactivated": _deactivate,
    "role removed": _remove_role,
    "removed from the group": _remove_from_the_group,
    "roles cleared": _clear_roles,
    "group emptied": _empty_the_group,
    "moved to another prefecture": _move_to_osaka,
    "authenticator withdrawn": _withdraw_the_authenticator,
    "password reset": _set_a_new_password,
}


@pytest.mark.parametrize("lose_access", LOSSES.values(), ids=LOSSES.keys())
def test_an_account_that_loses_its_access_loses_its_sessions_and_their_searches(clerk, holder, lose_access):
    client, results = _signed_in_with_a_search(clerk)
    other_window, _other_results = _signed_in_with_a_search(clerk)  # a second browser of the same clerk
    assert len(_sessions_of(clerk)) == 2 and _store_holds_the_search()

    lose_access(User.objects.get(pk=clerk.pk))

    assert _sessions_of(clerk) == []
    assert not _store_holds_the_search()
    for cookie in (client, other_window):
        page = cookie.get(results)
        assert page.status_code == 302 and page["Location"].startswith(reverse("login"))
        assert NAME not in page.content.decode()


def test_a_deactivated_account_given_back_its_access_does_not_get_its_old_sessions_back(clerk, holder):
    """Before: the session stayed in the store, unused while the account was inactive; once it was
    active again the same cookie read the kept search, without a password or a second factor."""
    client, results = _signed_in_with_a_search(clerk)
    _deactivate(User.objects.get(pk=clerk.pk))
    client.get(reverse("counter:home"))  # the browser goes on asking meanwhile
    reactivated = User.objects.get(pk=clerk.pk)
    reactivated.is_active = True
    reactivated.save()

    page = client.get(results)
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))


def test_an_operator_deactivating_a_clerk_in_the_admin_ends_the_clerks_sessions(clerk, holder, tokyo_office):
    """The path an operator takes: the admin's change form of the staff user."""
    client, results = _signed_in_with_a_search(clerk)
    operator = User.objects.create_superuser("operator", password="operator-pw-0123456789")
    TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    admin = StaffClient()
    admin.force_login(operator)
    form = admin.get(reverse("admin:onestop_user_change", args=[clerk.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data |= {"groups": [g.pk for g in clerk.groups.all()], "office": tokyo_office.pk, "is_active": ""}
    data |= {"date_joined_0": clerk.date_joined.strftime("%Y-%m-%d"), "date_joined_1": "00:00:00"}
    data.pop("is_active")
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    data.pop("date_joined", None)
    answer = admin.post(reverse("admin:onestop_user_change", args=[clerk.pk]), data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert not User.objects.get(pk=clerk.pk).is_active

    assert _sessions_of(clerk) == [] and not _store_holds_the_search()
    ended = AuditEvent.objects.filter(action="auth.sessions_ended", subject_id=str(clerk.pk))
    assert [(e.subject_type, e.new_values) for e in ended] == [
        ("user", {"changed": ["is_active"], "sessions_ended": 1})
    ]
    assert _sessions_of(operator) != []  # the operator's own session is untouched
    page = client.get(results)
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))


def test_other_accounts_and_harmless_changes_keep_their_sessions(clerk, supervisor, holder):
    """The control: ending sessions is for a loss of access, not for every save of a user."""
    client, results = _signed_in_with_a_search(clerk)
    _signed_in_with_a_search(supervisor)

    _deactivate(User.objects.get(pk=supervisor.pk))
    same = User.objects.get(pk=clerk.pk)
    same.first_name = "Alice"
    same.save()
    StaffClient().force_login(same)  # signing in elsewhere writes last_login

    assert _sessions_of(supervisor) == []
    assert len(_sessions_of(clerk)) == 2  # this one and the new one
    assert NAME in client.get(results).content.decode()


def test_an_expired_session_and_its_searches_are_deleted_by_beat(clerk, holder):
    """Past the idle timeout a session signs no one in, but its row kept the searches until
    someone ran `manage.py clearsessions`, which nothing scheduled."""
    from django.conf import settings
    from django.utils import timezone

    from onestop.celery import app

    _signed_in_with_a_search(clerk)
    _signed_in_with_a_search(User.objects.get(pk=clerk.pk))
    expired = Session.objects.order_by("expire_date").first()
    Session.objects.filter(pk=expired.pk).update(expire_date=timezone.now() - timezone.timedelta(seconds=1))

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "onestop.sessions_expired_clear")
    assert entry["schedule"] <= settings.SESSION_COOKIE_AGE  # within one idle timeout of expiring
    app.tasks[entry["task"]].apply().get()

    assert not Session.objects.filter(pk=expired.pk).exists()
    assert len(_sessions_of(clerk)) == 1  # the live one stays


def test_changing_ones_own_password_keeps_that_session_and_ends_the_others(auditor):
    """Django gives the session the password was changed in a new key; the account's other
    sessions (a browser left signed in elsewhere) end with their data."""
    here = StaffClient()
    here.force_login(auditor)
    elsewhere = StaffClient()
    elsewhere.force_login(auditor)
    new = "another-auditor-password-0123"
    answer = here.post(
        reverse("admin:password_change"),
        {"old_password": "pw-carol-0123456789", "new_password1": new, "new_password2": new},
    )
    assert answer.status_code == 302, answer.content.decode()[:1000]
    assert here.get(reverse("admin:index")).status_code == 200
    assert len(_sessions_of(auditor)) == 1
    gone = elsewhere.get(reverse("admin:index"))
    assert gone.status_code == 302 and "login" in gone["Location"]
