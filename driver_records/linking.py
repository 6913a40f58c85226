"""R10/R13: which certificate serial a record is linked to. One rule for every path that links
(latest information, a consent reflected, a registration through Mynaportal), in the applier and
in the consents services alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Link:
    serial: str
    seq: int  # the holder sequence of the J-LIS event that named the serial (0: no J-LIS order)
    not_after: datetime | None  # the certificate's end of validity, when known


def link_moves(linked: Link, named: Link) -> Link | None:
    """The record's link once J-LIS has named `named.serial` at holder sequence `named.seq`, or
    None when it stays as it is.

    The link is the serial J-LIS named at the highest holder sequence: a serial named by an older
    event (a consent reflected late, a registration signed with a certificate a move has replaced)
    never takes the place of a newer one, whatever order the events reach us in. Sequence 0 (a
    service called with no J-LIS event) links only a record no J-LIS event has linked. A validity
    end learnt for the linked serial is kept, whichever event tells it.
    """
    if named.seq >= linked.seq:
        same = named.serial == linked.serial
        not_after = linked.not_after if same and named.not_after is None else named.not_after
        moved = Link(named.serial, named.seq, not_after)
    elif named.serial == linked.serial and named.not_after is not None:
        moved = Link(linked.serial, linked.seq, named.not_after)
    else:
        return None
    return None if moved == linked else moved
