"""Attack 31: a role removed mid-session, and the kept answers of the idempotency layer.

A POST carrying a key has its answer kept and replayed to its repeats (onestop/idempotency.py),
before the view runs. Some of those answers are pages with a holder's personal data (a
revocation's confirmation step shows the holder and the consent). A supervisor whose role is
taken away, or who is moved to another prefecture's office, must get from then on what the view
answers them (403), not the page kept from before: pressing "resend" on the browser's last POST
is all it takes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from onestop.models import Office
from onestop.permission_matrix import Principal
from onestop.roles import Role

pytestmark = pytest.mark.django_db

FORM = {"reason": "本人の申出により取消し", "idempotency_key": "revoke-step-0001"}


def _confirmation_page(client, world):
    return client.post(reverse("consents:revoke", args=[world.consent.pk]), FORM)


def test_a_supervisor_whose_role_is_removed_gets_no_kept_page_of_a_holder(world):
    supervisor = world.users[Principal.SUPERVISOR]
    client = world.client(Principal.SUPERVISOR)
    first = _confirmation_page(client, world)
    assert first.status_code == 200 and world.consent.reference in first.content.decode()

    supervisor.groups.remove(Group.objects.get(name=Role.SUPERVISOR.value))  # mid-session
    again = _confirmation_page(client, world)
    assert again.status_code == 403
    assert world.consent.reference not in again.content.decode()


def test_a_supervisor_moved_to_another_prefecture_gets_no_kept_page_of_a_holder(world):
    supervisor = world.users[Principal.SUPERVISOR]
    client = world.client(Principal.SUPERVISOR)
    assert _confirmation_page(client, world).status_code == 200

    supervisor.office = Office.objects.get(prefecture="27")  # now at Osaka's licence centre
    supervisor.save(update_fields=["office"])
    again = _confirmation_page(client, world)
    assert again.status_code == 403
    assert world.consent.reference not in again.content.decode()


def test_the_same_supervisor_still_gets_the_kept_answer(world):
    """The control: nothing changed, the repeat is the first answer (no second render)."""
    client = world.client(Principal.SUPERVISOR)
    first = _confirmation_page(client, world)
    again = _confirmation_page(client, world)
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
