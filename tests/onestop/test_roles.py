import pytest
from django.urls import reverse

from onestop.models import Office
from tests.factories import DriverRecordFactory


@pytest.mark.django_db
def test_clerk_cannot_enter_the_admin(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302  # sent to the admin login: not staff


@pytest.mark.django_db
def test_auditor_reads_records_in_the_admin(client, auditor):
    record = DriverRecordFactory()
    client.force_login(auditor)
    listing = client.get(reverse("admin:driver_records_driverrecord_changelist"))
    assert listing.status_code == 200
    assert record.number in listing.content.decode()
    detail = client.get(reverse("admin:driver_records_driverrecord_change", args=[record.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # read-only: no save button


@pytest.mark.django_db
def test_auditor_cannot_change_anything_in_the_admin(client, auditor):
    record = DriverRecordFactory(address="東京都千代田区１")
    client.force_login(auditor)
    change_url = reverse("admin:driver_records_driverrecord_change", args=[record.pk])
    response = client.post(change_url, {"address": "大阪府大阪市１", "number": record.number})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.address == "東京都千代田区１"
    assert client.get(reverse("admin:driver_records_driverrecord_add")).status_code == 403
    assert (
        client.post(reverse("admin:driver_records_driverrecord_delete", args=[record.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.post(reverse("admin:onestop_office_add"), {"code": "x", "name": "x"}).status_code == 403
    assert not Office.objects.filter(code="x").exists()


@pytest.mark.django_db
def test_every_counter_view_declares_its_roles(client, personas):
    """A view without a role rule fails here: every counter URL answers by role, not by luck."""
    from django.urls import get_resolver

    resolver = get_resolver()
    counter = next(p for p in resolver.url_patterns if getattr(p, "app_name", None) == "counter")
    for pattern in counter.url_patterns:
        assert hasattr(pattern.callback, "allowed_roles"), f"{pattern.name} has no role rule"


@pytest.mark.django_db
def test_a_role_taken_away_is_gone_for_the_next_check_of_the_same_user(clerk):
    """Role checks read the roles the user was loaded with, or the database: nothing the first
    check read is pinned on the instance for later ones."""
    from django.contrib.auth.models import Group

    from onestop.roles import Role, is_counter_staff, users_with_roles

    assert is_counter_staff(clerk)
    clerk.groups.remove(Group.objects.get(name=Role.CLERK.value))

    assert not is_counter_staff(clerk)
    assert not is_counter_staff(users_with_roles().get(pk=clerk.pk))


@pytest.mark.django_db
def test_a_signed_in_request_reads_its_user_and_roles_once_whatever_it_checks(client, clerk, django_assert_num_queries):
    """The user comes with their roles (onestop.auth_backend): a page that checks roles many times
    asks for them with the user, never again."""
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    from onestop.roles import is_auditor, is_counter_staff, is_supervisor

    client.force_login(clerk)
    request = RequestFactory().get("/")
    request.session = client.session
    with django_assert_num_queries(3):  # the session, the user, the user's groups
        user = get_user(request)
        for _ in range(5):
            assert is_counter_staff(user) and not is_supervisor(user) and not is_auditor(user)
