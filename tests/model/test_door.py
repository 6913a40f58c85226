"""R2 at the door, played through the real system and the model side by side (machine.py): what
latest information keeps depends on what names its serial when it is received, and the records
follow from that."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jlis_gateway.models import JlisEvent

from .japan import japan_date
from .machine import TOKYO, HoldersAgainstTheModel

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def machine(model_world: type[HoldersAgainstTheModel]) -> Iterator[HoldersAgainstTheModel]:
    run = model_world()
    yield run
    run.teardown()


def items_stored(event_id: str) -> set[str]:
    return set(JlisEvent.objects.get(event_id=event_id).payload) & {"name", "address", "birth_date"}


@pytest.mark.parametrize("together", [False, True], ids=["later_move_first", "same_delivery"])
def test_r02_a_move_received_before_the_one_naming_its_serial(machine: HoldersAgainstTheModel, together: bool) -> None:
    machine.add_holders(1)
    machine.register(0, {"address"}, "13")
    machine.made(machine.jlis.reflect(machine.jlis_consent_of(0), japan_date(machine.now)))
    machine.deliver(list(machine.jlis.made))
    machine.apply("batch")
    first = machine.jlis.change(machine.jholders[0], address=TOKYO[1])
    second = machine.jlis.change(machine.jholders[0], address=TOKYO[2])
    machine.made(first)
    machine.made(second)
    if together:  # the second names the first's new serial, in the same page: it is known
        machine.deliver([second, first])
        assert items_stored(second["id"]) == items_stored(first["id"]) == {"address"}
    else:  # nothing names the second's serial when it is received: it keeps no item
        machine.deliver([second])
        machine.check()
        assert items_stored(second["id"]) == set()
        machine.deliver([first])
        assert items_stored(first["id"]) == {"address"}
    machine.apply("batch")
    machine.check()  # the record's address: the second move's, or the first's when the second came bare
