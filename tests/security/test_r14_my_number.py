"""R14: no My Number enters the system. Every free-text field of every form, API serializer and
admin form refuses one (bare, hyphenated, full-width, inside text); record numbers are never
checked against it, since about 18% of them pass the check digit."""

from __future__ import annotations

import importlib
import io
import pkgutil
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from consents.api.serializers import Base64Field
from consents.models import ConsentStatus
from driver_records.models import DriverRecord
from onestop.models import AuditEvent, User
from onestop.validators import NOT_FREE_TEXT, NoMyNumber, contains_my_number, search_refusal
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory
from tests.security.r14_text import check_digit as my_number_check_digit

PROJECT_PACKAGES = ("onestop", "driver_records", "consents", "jlis_gateway", "safeguards")
# Form fields that take a record number or text: refused only when the input is not a whole
# record number (onestop.validators.search_refusal); tested below.
SEARCH_FIELDS = {"driver_records.forms.RecordSearchForm.q"}


def my_number(first_eleven: str) -> str:
    return first_eleven + str(my_number_check_digit(first_eleven))


MY_NUMBER = my_number("12345678901")  # DOMAIN.md's example: check digit 8
VARIANTS = [
    MY_NUMBER,
    "1234-5678-9018",
    "1234 5678 9018",
    "１２３４５６７８９０１８",  # full-width digits
    "１２３４－５６７８－９０１８",  # full-width hyphens
    "1234ー5678ー9018",  # the long-vowel mark a Japanese keyboard types for a hyphen
    "1234−5678−9018",  # minus sign
    "個人番号は 1234　5678　9018 です",  # inside text, full-width spaces
]
# A record number that passes the My Number check, and one that does not.
RECORD_NUMBER_PASSING = my_number("30123456789")
RECORD_NUMBER_FAILING = RECORD_NUMBER_PASSING[:11] + str((int(RECORD_NUMBER_PASSING[11]) + 1) % 10)


def test_r14_the_check_digit_is_the_one_of_the_ordinance():
    assert my_number_check_digit("12345678901") == 8
    assert MY_NUMBER == "123456789018"


@pytest.mark.parametrize("text", VARIANTS)
def test_r14_a_my_number_is_refused_however_it_is_typed(text):
    with pytest.raises(ValidationError) as refused:
        NoMyNumber("メモ")(text)
    assert refused.value.code == "my_number"
    assert "「メモ」" in refused.value.messages[0]  # the refusal names the field


@settings(deadline=None)  # a busy machine is slow; speed is not what this proves
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_r14_every_valid_check_digit_is_refused_and_every_other_digit_accepted(first_eleven):
    right = my_number_check_digit(first_eleven)
    assert contains_my_number(first_eleven + str(right))
    assert contains_my_number(f"番号 {first_eleven[:4]}-{first_eleven[4:8]}-{first_eleven[8:]}{right} です")
    for wrong in set(range(10)) - {right}:
        assert not contains_my_number(first_eleven + str(wrong))


@pytest.mark.parametrize(
    "text",
    [
        RECORD_NUMBER_FAILING,  # a licence number that fails the check
        "1234567890180",  # thirteen digits
        "12345678901",  # eleven
        "03-1234-5678",  # a telephone number
        "東京都千代田区霞が関二丁目１番１号",
        "",
    ],
)
def test_r14_other_numbers_and_text_are_accepted(text):
    NoMyNumber("メモ")(text)


def test_r14_a_search_takes_a_whole_record_number_even_one_passing_the_check():
    assert search_refusal(RECORD_NUMBER_PASSING) is None
    n = RECORD_NUMBER_PASSING
    assert search_refusal(f"{n[:4]}-{n[4:8]}-{n[8:]}") is None  # typed with hyphens
    assert search_refusal(f"山田 {MY_NUMBER}") is not None
    assert search_refusal("山田\x00") is not None


# --- every free-text field has the validator ---------------------------------------------------


def _project_modules() -> None:
    for package in PROJECT_PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] in PROJECT_PACKAGES


def _refusal(field: forms.Field | serializers.Field, value: str | list[str]) -> str | None:
    try:
        field.clean(value) if isinstance(field, forms.Field) else field.run_validation(value)
    except ValidationError as refused:
        return " ".join(refused.messages)
    except serializers.ValidationError as refused:
        return str(refused.detail)
    return None


def test_r14_every_free_text_field_of_every_form_refuses_a_my_number():
    _project_modules()
    checked, unguarded = [], []
    for form_class in {c for c in _subclasses(forms.BaseForm) if _ours(c)}:
        for name, field in form_class.base_fields.items():
            label = f"{form_class.__module__}.{form_class.__name__}.{name}"
            if not isinstance(field, forms.CharField) or isinstance(field.widget, forms.PasswordInput):
                continue
            if label in SEARCH_FIELDS or (field.max_length is not None and field.max_length < 12):
                continue
            checked.append(label)
            refusal = _refusal(field, f"メモ {MY_NUMBER}")
            if refusal is None or f"「{field.label}」" not in refusal:  # refused, naming the field
                unguarded.append(label)
    assert unguarded == []
    assert "consents.forms.RevokeForm.reason" in checked
    assert "onestop.forms.StaffAuthenticationForm.username" in checked


def test_r14_every_free_text_field_of_every_api_request_refuses_a_my_number():
    _project_modules()
    checked, unguarded = [], []
    for serializer_class in {c for c in _subclasses(serializers.Serializer) if _ours(c)}:
        for name, field in serializer_class().fields.items():
            if field.read_only:
                continue  # an answer's field: never takes input
            inner = field.child if isinstance(field, serializers.ListField) else field
            if not isinstance(inner, serializers.CharField) or isinstance(inner, Base64Field):
                continue  # base64 carries binary (a signature, a certificate), not typed text
            label = f"{serializer_class.__name__}.{name}"
            checked.append(label)
            refusal = _refusal(field, [MY_NUMBER] if inner is not field else MY_NUMBER)
            if refusal is None or f"「{name}」" not in refusal:
                unguarded.append(label)
    assert unguarded == []
    assert "StatementCreateSerializer.items" in checked


@pytest.fixture
def superuser(db: None) -> User:
    user = User.objects.create_superuser("root", password="root-password-0123456789")
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


@pytest.mark.django_db
def test_r14_every_free_text_field_of_every_admin_form_refuses_a_my_number(world, superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    checked, wrong = [], []
    for model, model_admin in admin.site._registry.items():
        obj = world.url_args[model]
        for form_class in {model_admin.get_form(request, None), model_admin.get_form(request, obj, change=True)}:
            for name, field in form_class.base_fields.items():
                if not isinstance(field, forms.CharField) or isinstance(field, forms.JSONField):
                    continue
                if isinstance(field.widget, forms.PasswordInput) or name.startswith("password"):
                    continue
                label = f"{model._meta.label_lower}.{name}"
                free_text = label not in NOT_FREE_TEXT and (field.max_length is None or field.max_length >= 12)
                checked.append(label)
                guarded = any(isinstance(v, NoMyNumber) for v in field.validators)
                names_field = f"「{field.label}」" in (_refusal(field, MY_NUMBER) or "")
                if free_text != guarded or (guarded and not names_field):
                    wrong.append(label)
    assert wrong == []
    for label in ("driver_records.driverrecord.name", "driver_records.driverrecord.address", "onestop.user.username"):
        assert label in checked


# --- the same, as the user sees it ----------------------------------------------------------------


@pytest.mark.django_db
def test_r14_the_counter_search_finds_a_record_number_that_passes_the_check(client, clerk):
    record = DriverRecordFactory(number=RECORD_NUMBER_PASSING)
    client.force_login(clerk)
    found = client.get(reverse("counter:home"), {"q": RECORD_NUMBER_PASSING})
    assert (found.status_code, found["Location"]) == (302, reverse("counter:record", args=[record.pk]))
    refused = client.get(reverse("counter:home"), {"q": f"山田 {MY_NUMBER}"})
    assert refused.context["results"] is None
    assert "個人番号" in refused.content.decode()


@pytest.mark.django_db
def test_r14_a_revocation_reason_with_a_my_number_is_refused(client, world, supervisor):
    client.force_login(supervisor)
    url = reverse("consents:revoke", args=[world.consent.pk])
    page = client.post(url, {"reason": "本人申出 1234-5678-9018", "confirmed": "1"})
    assert page.status_code == 200 and "個人番号" in page.content.decode()
    world.consent.refresh_from_db()
    assert world.consent.status == ConsentStatus.PENDING


@pytest.mark.django_db
def test_r14_the_api_refuses_a_my_number_in_a_request(client, world, clerk):
    client.force_login(clerk)
    answer = client.post(
        reverse("api:statements"),
        {"record_id": world.record.pk, "items": [MY_NUMBER]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="r14-api-0001",
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "validation_error" and "個人番号" in str(body["errors"])


@pytest.mark.django_db
def test_r14_a_my_number_typed_as_a_username_is_refused_and_not_kept(clerk):
    page = Client().post(reverse("login"), {"username": "1234-5678-9018", "password": "whatever-it-is"})
    assert page.status_code == 200 and "個人番号" in page.content.decode()
    assert not AccessAttempt.objects.exists()  # no failed attempt recorded under that name


@pytest.mark.django_db
def test_r14_the_admin_takes_a_record_number_passing_the_check_and_refuses_a_my_number_in_a_name(superuser):
    client = StaffClient()
    client.force_login(superuser)
    add = reverse("admin:driver_records_driverrecord_add")
    fields = {
        "kind": "licence",
        "number": RECORD_NUMBER_PASSING,
        "name": "山田　花子",
        "birth_date": "1990-04-01",
        "address": "東京都千代田区１",
        "prefecture": "13",
        "holding_status": "licence_card_only",
    }
    assert client.post(add, fields).status_code == 302
    assert DriverRecord.objects.filter(number=RECORD_NUMBER_PASSING).exists()
    refused = client.post(add, {**fields, "number": RECORD_NUMBER_FAILING, "name": f"山田 {MY_NUMBER}"})
    assert refused.status_code == 200 and "個人番号" in refused.content.decode()
    assert not DriverRecord.objects.filter(number=RECORD_NUMBER_FAILING).exists()


@pytest.mark.django_db
def test_r14_the_admin_search_takes_record_numbers_and_refuses_a_my_number_in_text(client, auditor):
    record = DriverRecordFactory(number=RECORD_NUMBER_PASSING)
    client.force_login(auditor)
    listing = reverse("admin:driver_records_driverrecord_changelist")
    found = client.get(listing, {"q": RECORD_NUMBER_PASSING})
    assert found.status_code == 200 and record.number in found.content.decode()
    refused = client.get(listing, {"q": f"山田 {MY_NUMBER}", "kind": "licence"}, follow=True)
    assert refused.redirect_chain[0][0] == listing + "?kind=licence"
    assert "個人番号" in refused.content.decode()
    exported = client.get(reverse("admin:driver_records_driverrecord_export"), {"q": f"山田 {MY_NUMBER}"})
    assert exported.status_code == 302 and exported["Location"] == listing
    assert not AuditEvent.objects.filter(action="admin.export").exists()  # the search never reached the trail


@pytest.mark.django_db
def test_r14_a_terminals_name_with_a_my_number_is_refused_before_it_reaches_the_audit_trail(tokyo_office):
    from django.core.management import CommandError, call_command

    from consents.models import CounterTerminal

    with pytest.raises(CommandError, match="個人番号"):
        call_command(
            "terminal_create", office=tokyo_office.code, name=f"端末 {MY_NUMBER[:4]}.{MY_NUMBER[4:8]}.{MY_NUMBER[8:]}"
        )
    assert not CounterTerminal.objects.exists()
    assert not AuditEvent.objects.filter(action="terminal.create").exists()
    call_command("terminal_create", office=tokyo_office.code, name="窓口端末2", stdout=io.StringIO())
    assert CounterTerminal.objects.get().name == "窓口端末2"
