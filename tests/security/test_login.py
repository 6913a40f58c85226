import pytest
from django.contrib.sessions.models import Session
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
    client = Client()
    _login(client, "carol", staff_password("carol"))
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
