"""Attack 32: whoever has the password of an account without an authenticator chooses its second
factor.

An account with no confirmed device was shown a QR code and its secret right after the password
(first login, or after its authenticator was withdrawn): a stranger who had the password enrolled
their own phone and was through on the password alone. Worse, the unconfirmed secret was the same
for every session of the account until someone confirmed it: a stranger who only looked at the
page kept a working copy of the authenticator the account's own user then enrolled.

The mend: an operator issues a one-time enrolment code (`manage.py enrolment_code`), handed over
in person; only a session that gives it is shown a secret, a new one, for itself alone."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from onestop.models import AuditEvent, User
from tests.conftest import staff_password
from tests.security.leaks import log_texts

pytestmark = pytest.mark.django_db


def _password_only(username: str) -> Client:
    client = Client()
    assert (
        client.post(reverse("login"), {"username": username, "password": staff_password(username)}).status_code == 302
    )
    return client


def _secret_shown(client: Client) -> str | None:
    body = client.get(reverse("second_factor")).content.decode()
    found = re.search(r'id="totp-key">[^<]*<code>([A-Z2-7]+)</code>', body)
    return found.group(1) if found else None


def _code_for(secret: str) -> str:
    import base64

    return f"{totp(base64.b32decode(secret), step=30, digits=6):06d}"


def _issue(username: str, *args: str) -> str:
    out = StringIO()
    call_command("enrolment_code", username, *args, stdout=out)
    return out.getvalue().split()[0]


@pytest.fixture
def newcomer(clerk: User) -> User:
    """A clerk whose account has no authenticator yet (a new account, or one whose phone was lost)."""
    TOTPDevice.objects.filter(user=clerk).delete()
    return clerk


def test_a_password_alone_shows_no_secret_and_enrols_nothing(newcomer):
    stranger = _password_only("alice")
    page = stranger.get(reverse("second_factor")).content.decode()
    assert "<svg" not in page and 'id="totp-key"' not in page
    assert "登録コード" in page  # it asks for the enrolment code instead
    assert not TOTPDevice.objects.filter(user=newcomer).exists()
    assert stranger.get(reverse("counter:home")).status_code == 302  # not through


def test_the_secret_is_shown_only_to_the_session_that_gave_the_code(newcomer):
    """The stranger with the password looks first; the clerk then enrols with the operator's code:
    the stranger must hold nothing that passes the clerk's second factor."""
    stranger = _password_only("alice")
    assert _secret_shown(stranger) is None
    clerk = _password_only("alice")
    code = _issue("alice")
    assert clerk.post(reverse("second_factor"), {"enrolment_code": code}).status_code == 302
    secret = _secret_shown(clerk)
    assert secret is not None
    assert _secret_shown(stranger) is None  # the same account, another session
    assert clerk.post(reverse("second_factor"), {"token": _code_for(secret)}).status_code == 302
    assert clerk.get(reverse("counter:home")).status_code == 200
    assert stranger.get(reverse("counter:home")).status_code == 302
    assert AuditEvent.objects.filter(action="auth.second_factor_enrolled", subject_id=str(newcomer.pk)).exists()


def test_an_enrolment_code_works_once_for_its_own_account_before_it_expires(newcomer, supervisor, settings):
    code = _issue("alice")
    # Another account's code, a wrong one, a used one and an expired one are refused alike.
    TOTPDevice.objects.filter(user=supervisor).delete()
    other = _password_only("bob")
    refused = other.post(reverse("second_factor"), {"enrolment_code": code})
    assert refused.status_code == 200 and "登録コードが正しくない" in refused.content.decode()
    assert (
        _password_only("alice").post(reverse("second_factor"), {"enrolment_code": "ABCD-EFGH-JKMN-PQRS"}).status_code
        == 200
    )

    first = _password_only("alice")
    assert first.post(reverse("second_factor"), {"enrolment_code": code.lower().replace("-", " ")}).status_code == 302
    again = _password_only("alice").post(reverse("second_factor"), {"enrolment_code": code})
    assert again.status_code == 200 and "登録コードが正しくない" in again.content.decode()

    late = _issue("alice")
    assert settings.ENROLMENT_CODE_HOURS == 24
    from onestop.models import EnrolmentCode

    EnrolmentCode.objects.filter(user=newcomer).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _password_only("alice").post(reverse("second_factor"), {"enrolment_code": late})
    assert expired.status_code == 200 and _secret_shown(_password_only("alice")) is None


def test_the_code_is_kept_only_as_a_digest_and_its_issue_is_audited(newcomer):
    code = _issue("alice")
    typed = code.replace("-", "")
    assert re.fullmatch(r"[A-Z]{16}", typed)  # letters only: never written like a My Number (R14)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM onestop_enrolmentcode")
        rows = cursor.fetchall()
    assert len(rows) == 1 and not any(typed in str(value) or code in str(value) for value in rows[0])
    issued = AuditEvent.objects.get(action="auth.enrolment_code_issued")
    assert issued.subject_id == str(newcomer.pk) and typed not in str(issued.new_values)


def test_an_account_with_an_authenticator_gets_a_code_only_by_withdrawing_it(clerk):
    with pytest.raises(CommandError):
        _issue("alice")
    assert TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()
    code = _issue("alice", "--replace")  # a lost phone
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    session = _password_only("alice")
    assert session.post(reverse("second_factor"), {"enrolment_code": code}).status_code == 302
    assert _secret_shown(session) is not None


def test_neither_the_enrolment_code_nor_the_secret_reaches_a_log_line(newcomer, every_log):
    """Both are credentials: every logger at DEBUG, the whole enrolment, no record carries them."""
    code = _issue("alice")
    session = _password_only("alice")
    session.get(reverse("second_factor"))
    session.post(reverse("second_factor"), {"enrolment_code": code})
    secret = _secret_shown(session)
    assert secret is not None
    session.post(reverse("second_factor"), {"token": _code_for(secret)})
    texts = log_texts(every_log)
    assert texts  # the loggers did write
    for text in texts:
        for value in (code, code.replace("-", ""), secret):
            assert value not in text


def test_an_operator_issues_codes_in_the_admin_and_an_auditor_cannot(clerk, auditor):
    """The admin's action on staff users: the codes are on its answer only, each works once, and
    the chosen accounts' authenticators are withdrawn. An auditor (read only) is refused."""
    from tests.conftest import StaffClient

    operator = User.objects.create_superuser("operator", password="operator-pw-0123456789")
    TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    admin = StaffClient()
    admin.force_login(operator)
    changelist = reverse("admin:onestop_user_changelist")
    action = {"action": "issue_enrolment_codes", "_selected_action": [clerk.pk]}
    page = admin.post(changelist, action)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    code = re.search(r"<code>([A-Z]{4}(?:-[A-Z]{4}){3})</code>", page.content.decode()).group(1)
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    session = _password_only("alice")
    assert session.post(reverse("second_factor"), {"enrolment_code": code}).status_code == 302
    assert _secret_shown(session) is not None
    assert AuditEvent.objects.filter(action="auth.enrolment_code_issued", actor_label="operator").exists()

    reader = StaffClient()
    reader.force_login(auditor)
    assert reader.post(changelist, action).status_code == 403
    assert TOTPDevice.objects.filter(user=auditor, confirmed=True).exists()
