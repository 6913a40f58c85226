"""The divergences the model-based test found, each replayed as a plain sequence of the machine's
steps (tests/model/machine.py) and compared with the model after every step. An `xfail(strict=True)`
names the entry in /work/wt/NOTES-rules.md and goes once the fix is on main."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from .japan import japan_date
from .machine import HoldersAgainstTheModel

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def machine(model_world: type[HoldersAgainstTheModel]) -> Iterator[HoldersAgainstTheModel]:
    run = model_world()
    yield run
    run.teardown()


def registered_and_reflected(run: HoldersAgainstTheModel, i: int, items: set[str], *, days_ago: int = 0) -> None:
    run.register(i, items, "13")
    run.made(run.jlis.reflect(run.jlis_consent_of(i), japan_date(run.now) - timedelta(days=days_ago)))
    run.deliver(list(run.jlis.made))
    run.apply("batch")
    run.check()


@pytest.mark.parametrize("path", ["batch", "single"])
def test_r04_r10_the_prefecture_follows_a_move_to_another_prefecture(
    machine: HoldersAgainstTheModel, path: str
) -> None:
    machine.add_holders(2)
    registered_and_reflected(machine, 0, {"address"})
    machine.made(machine.jlis.change(machine.jholders[0], address="大阪府門真市一番町２３番１６号"))
    machine.deliver(list(machine.jlis.made))
    machine.apply(path)
    machine.check()  # the record's prefecture is Osaka's (27): Osaka's counter serves the holder now
    machine.register(0, {"address"}, "27")
    machine.check()


def test_r04_r11_the_prefecture_follows_the_address_a_mynaportal_registration_applies(
    machine: HoldersAgainstTheModel,
) -> None:
    machine.add_holders(1)
    registered_and_reflected(machine, 0, {"address"})
    machine.link(0, "13")
    machine.made(machine.jlis.revoke(machine.jlis_consent_of(0), "jpki_mobile"))
    assert machine.jlis.change(machine.jholders[0], address="大阪府大阪市北区梅田一丁目１番３号") is None  # no consent
    # The holder registers again through Mynaportal, signed with the new card (an Osaka address).
    registration = machine.jlis.register(machine.jholders[0], ["address"], japan_date(machine.now))
    machine.made(registration, machine_certificate(machine, 0))
    machine.deliver(list(machine.jlis.made))
    machine.apply("batch")
    machine.check()  # the certificate's address applied, and with it Osaka's prefecture (27)
    machine.link(0, "27")
    machine.check()


def test_r06_a_late_mynaportal_consent_with_an_older_consent_date_does_not_govern(
    machine: HoldersAgainstTheModel,
) -> None:
    machine.add_holders(1)
    registered_and_reflected(machine, 0, {"address"}, days_ago=1)
    machine.link(0, "13")
    # The holder registered through Mynaportal yesterday; J-LIS's event reaches us after today's
    # counter consent was reflected.
    machine.register(0, {"name"}, "13")
    counter = machine.jlis_consent_of(0)
    registration = machine.jlis.register(machine.jholders[0], ["address"], japan_date(machine.now) - timedelta(days=1))
    machine.made(registration, machine_certificate(machine, 0))
    machine.jlis.made.remove(registration)
    machine.made(machine.jlis.reflect(counter, japan_date(machine.now)))
    machine.deliver(list(machine.jlis.made))
    machine.apply("batch")
    machine.check()
    machine.deliver([registration])
    machine.apply("batch")
    machine.check()  # today's counter consent stays active; the late one is superseded at once


@pytest.mark.parametrize("path", ["batch", "single"])
def test_r10_r13_a_consent_reflected_after_a_move_does_not_relink_the_replaced_serial(
    machine: HoldersAgainstTheModel, path: str
) -> None:
    machine.add_holders(1)
    registered_and_reflected(machine, 0, {"address"})
    machine.register(0, {"address", "name"}, "13")  # signed with the card the move below replaces
    renewal = machine.jlis_consent_of(0)
    machine.made(machine.jlis.change(machine.jholders[0], address="東京都府中市多磨町３丁目１番地"))  # sequence 2
    machine.made(machine.jlis.reflect(renewal, japan_date(machine.now)))  # sequence 3: names the new serial
    machine.deliver(list(machine.jlis.made))
    machine.apply(path)
    machine.check()  # linked to the new card's serial, not to the one the consent was signed with
    machine.made(machine.jlis.change(machine.jholders[0], address="東京都新宿区西新宿二丁目８番１号"))  # sequence 4
    machine.deliver(list(machine.jlis.made))
    machine.apply(path)
    machine.check()  # the next move is applied, not skipped as stale


@pytest.mark.parametrize("path", ["batch", "single"])
def test_r10_r13_a_move_reaching_us_after_a_later_reflection_is_applied(
    machine: HoldersAgainstTheModel, path: str
) -> None:
    machine.add_holders(1)
    registered_and_reflected(machine, 0, {"address"})
    machine.register(0, {"address", "name"}, "13")
    renewal = machine.jlis_consent_of(0)
    move = machine.jlis.change(machine.jholders[0], address="東京都府中市多磨町３丁目１番地")  # sequence 2
    machine.made(move)
    machine.made(machine.jlis.reflect(renewal, japan_date(machine.now)))  # sequence 3: links the new serial
    machine.deliver([e for e in machine.jlis.made if e is not move])
    machine.apply(path)
    machine.check()
    machine.deliver([move])  # names the serial the record was linked to before: found, and newer than its data
    machine.apply(path)
    machine.check()


def machine_certificate(machine: HoldersAgainstTheModel, i: int) -> dict[str, object]:
    holder = machine.jholders[i]
    return {
        "name": holder.name,
        "address": holder.address,
        "birth_date": holder.birth_date,
        "not_after": holder.not_after,
    }


def test_r09_a_revocation_through_mynaportal_is_honoured_without_a_local_linkage_row(
    machine: HoldersAgainstTheModel,
) -> None:
    machine.add_holders(2)
    registered_and_reflected(machine, 1, {"name"})
    machine.made(machine.jlis.revoke(machine.jlis_consent_of(1), "mynaportal"))
    machine.made(machine.jlis.change(machine.jholders[1], name="佐藤　花子"))  # nothing: J-LIS has no consent
    machine.deliver(list(machine.jlis.made))
    machine.apply("batch")
    machine.check()  # the consent is revoked, the event applied


@pytest.mark.parametrize("path", ["batch", "single"])
def test_order_a_mynaportal_registration_older_than_the_data_applied_changes_neither_data_nor_serial(
    machine: HoldersAgainstTheModel, path: str
) -> None:
    machine.add_holders(1)
    registered_and_reflected(machine, 0, {"name", "address", "birth_date"})
    machine.link(0, "13")
    registration = machine.jlis.register(machine.jholders[0], ["name", "address"], japan_date(machine.now))
    machine.made(registration, machine_certificate(machine, 0))
    machine.jlis.made.remove(registration)  # J-LIS's sequence 2: it reaches us last
    machine.made(machine.jlis.change(machine.jholders[0], name="高橋　美咲"))  # sequence 3
    machine.deliver(list(machine.jlis.made))
    machine.apply(path)
    machine.check()
    machine.deliver([registration])
    machine.apply(path)
    machine.check()  # the consent is recorded; the name stays 高橋, the serial the renamed card's


def test_r06_an_active_consent_behind_five_newer_pending_ones_still_governs_the_feed(
    machine: HoldersAgainstTheModel,
) -> None:
    machine.add_holders(1)
    registered_and_reflected(machine, 0, {"address"})
    for _ in range(5):  # J-LIS has not reflected these yet: the active one governs meanwhile
        machine.register(0, {"name"}, "13")
    machine.check()  # feed: active (J-LIS's updates are applied under the active consent)
