"""R10/R13: the linked serial only moves forward, by the holder's J-LIS sequence (link_moves). The
expected links follow from the rule: the serial J-LIS named at the highest holder sequence."""

from __future__ import annotations

from datetime import UTC, datetime

from driver_records.linking import Link, link_moves

END = datetime(2030, 5, 17, 14, 59, 59, tzinfo=UTC)
LATER_END = datetime(2031, 5, 17, 14, 59, 59, tzinfo=UTC)


def test_r10_a_serial_named_later_replaces_the_linked_one_with_its_validity():
    assert link_moves(Link("S1", 3, END), Link("S2", 4, LATER_END)) == Link("S2", 4, LATER_END)


def test_r13_a_serial_named_earlier_never_replaces_the_linked_one():
    # A consent reflected late, signed with the certificate a move replaced.
    assert link_moves(Link("S2", 4, LATER_END), Link("S1", 3, END)) is None
    assert link_moves(Link("S2", 4, LATER_END), Link("S1", 3, None)) is None


def test_r13_an_unknown_validity_is_learnt_later_for_the_linked_serial_and_kept_otherwise():
    # A reflection names the holder's current serial without its validity: the one known stays.
    assert link_moves(Link("S2", 4, LATER_END), Link("S2", 6, None)) == Link("S2", 6, LATER_END)
    # An older event that tells the linked serial's validity end teaches it, the link stays.
    assert link_moves(Link("S2", 6, None), Link("S2", 4, LATER_END)) == Link("S2", 6, LATER_END)
    # A new serial named without its validity: nothing is known of its end.
    assert link_moves(Link("S1", 3, END), Link("S2", 5, None)) == Link("S2", 5, None)


def test_r13_the_same_event_again_changes_nothing():
    assert link_moves(Link("S2", 4, LATER_END), Link("S2", 4, LATER_END)) is None


def test_r13_a_service_called_without_a_jlis_order_links_only_a_record_no_event_linked():
    assert link_moves(Link("", 0, None), Link("S1", 0, END)) == Link("S1", 0, END)
    assert link_moves(Link("S1", 0, END), Link("S2", 0, LATER_END)) == Link("S2", 0, LATER_END)
    assert link_moves(Link("S2", 4, LATER_END), Link("S1", 0, END)) is None
