from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import staff_password


def _login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


@pytest.mark.django_db
def test_repeated_failures_lock_the_account(clerk, supervisor):
    client = Client()
    for _ in range(4):
        assert "正しくありません" in _login(client, "alice", "wrong-password").content.decode()
    assert _login(client, "alice", "wrong-password").status_code == 429  # the fifth failure locks
    locked = _login(client, "alice", staff_password("alice"))  # even the right password now
    assert locked.status_code == 429
    assert "ロック" in locked.content.decode()
    # Another account from the same terminal is not affected.
    assert _login(Client(), "bob", staff_password("bob")).status_code == 302


@pytest.mark.django_db
def test_a_clerk_gives_the_second_factor_too(clerk):
    """Clerks read their prefecture's holders' personal data: a password alone is not enough
    (issue 17, finding 3's rule)."""
    client = Client()
    assert _login(client, "alice", staff_password("alice"))["Location"] == reverse("counter:home")
    page = client.get(reverse("counter:home"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("second_factor"))
    device = TOTPDevice.objects.get(user=clerk)
    assert client.post(reverse("second_factor"), {"token": _code(device)}).status_code == 302
    assert client.get(reverse("counter:home")).status_code == 200


@pytest.mark.django_db
def test_supervisor_must_pass_the_second_factor(supervisor):
    client = Client()
    assert _login(client, "bob", staff_password("bob")).status_code == 302
    page = client.get(reverse("counter:home"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("second_factor"))
    api = client.get("/api/schema/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"
    device = TOTPDevice.objects.get(user=supervisor)
    ok = client.post(reverse("second_factor"), {"token": _code(device), "next": reverse("counter:home")})
    assert ok.status_code == 302
    assert client.get(reverse("counter:home")).status_code == 200


@pytest.mark.django_db
def test_wrong_second_factor_codes_are_refused_and_slowed_down(supervisor):
    client = Client()
    _login(client, "bob", staff_password("bob"))
    wrong = client.post(reverse("second_factor"), {"token": "000000"})
    assert "コードが正しくない" in wrong.content.decode()
    device = TOTPDevice.objects.get(user=supervisor)
    throttled = client.post(reverse("second_factor"), {"token": _code(device)})
    assert "数秒待って" in throttled.content.decode()
    assert client.get(reverse("counter:home")).status_code == 302  # still not through


@pytest.mark.django_db
def test_auditor_without_a_device_enrols_on_first_login(auditor):
    TOTPDevice.objects.filter(user=auditor).delete()
    code = StringIO()
    call_command("enrolment_code", "carol", stdout=code)  # the operator's, handed over in person
    client = Client()
    _login(client, "carol", staff_password("carol"))
    client.post(reverse("second_factor"), {"enrolment_code": code.getvalue().split()[0]})
    page = client.get(reverse("second_factor"))
    body = page.content.decode()
    assert "<svg" in body and "認証アプリ" in body  # a QR code and the instructions
    assert client.get(reverse("admin:index")).status_code == 302  # not yet
    device = TOTPDevice.objects.get(user=auditor, confirmed=False)
    assert client.post(reverse("second_factor"), {"token": _code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_an_idle_counter_session_expires(clerk, settings):
    client = Client()
    _login(client, "alice", staff_password("alice"))
    client.post(reverse("second_factor"), {"token": _code(TOTPDevice.objects.get(user=clerk))})
    assert client.get(reverse("counter:home")).status_code == 200
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE == 30 * 60
    # Idle past the limit: the stored session has expired.
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get(reverse("counter:home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_weak_passwords_are_refused(clerk):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["password123", "12345678901234", "alice-short"]:
        with pytest.raises(ValidationError):
            validate_password(weak, clerk)


def _login_from(address: str, username: str, password: str, **headers: str):
    return Client().post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


COUNTER, STRANGER = "10.13.0.5", "198.51.100.7"


@pytest.mark.django_db
def test_finding8_a_stranger_cannot_lock_a_supervisor_out_from_elsewhere(supervisor):
    """Issue 17, finding 8: five anonymous requests locked any supervisor out for 15 minutes.
    The lock is on the username from that address."""
    answers = [_login_from(STRANGER, "bob", "wrong-password").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    assert _login_from(STRANGER, "bob", staff_password("bob")).status_code == 429  # the stranger stays locked
    assert _login_from(COUNTER, "bob", staff_password("bob")).status_code == 302  # bob at the counter is not


@pytest.mark.django_db
def test_finding8_one_password_sprayed_over_many_usernames_is_limited(clerk, settings):
    """Issue 17, finding 8: one password tried against many usernames was never limited. The
    address is locked after LOGIN_ADDRESS_FAILURE_LIMIT failures across usernames."""
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        assert _login_from(STRANGER, f"user{n}", "Spring2026!").status_code in (200, 429)
    assert _login_from(STRANGER, "alice", staff_password("alice")).status_code == 429
    assert _login_from(COUNTER, "alice", staff_password("alice")).status_code == 302


@pytest.mark.django_db
def test_finding8_a_station_sharing_one_address_is_not_locked_by_a_few_typos(clerk, supervisor, settings):
    """The address limit is well above one user's: several clerks' typos from one address lock
    only the one who made five."""
    for username in ("alice", "bob", "carol-typo", "dave-typo"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _login_from(COUNTER, username, "wrong-password").status_code == 200
    assert _login_from(COUNTER, "alice", staff_password("alice")).status_code == 302


@pytest.mark.django_db
def test_finding8_a_client_cannot_pick_its_address_with_x_forwarded_for(clerk, settings):
    """X-Forwarded-For is believed only from a trusted proxy (ONESTOP_TRUSTED_PROXIES): a sprayer
    that writes another address in each request is still counted at its own."""
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        _login_from(STRANGER, f"user{n}", "Spring2026!", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    again = _login_from(STRANGER, "alice", staff_password("alice"), HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert again.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_address_it_forwards_is_the_clients(clerk, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    sprayer = "198.51.100.99"
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):  # what the sprayer writes itself comes first
        _login_from("10.0.0.2", f"user{n}", "Spring2026!", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {sprayer}")
    locked = _login_from("10.0.0.2", "alice", staff_password("alice"), HTTP_X_FORWARDED_FOR=sprayer)
    assert locked.status_code == 429
    other_client = _login_from("10.0.0.2", "alice", staff_password("alice"), HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert other_client.status_code == 302
