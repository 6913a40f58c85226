"""The client reads every event strictly: a malformed one is refused with a reason that names
the field (never its value), and the page's other events are kept."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from jlis_gateway.client import InvalidEvent, PageMalformed, event_parse, page_parse
from jlis_gateway.client.events import KINDS


def envelope(kind: str, data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    event = {
        "id": "ev_1",
        "kind": kind,
        "holder_seq": 3,
        "occurred_at": "2026-05-01T10:02:11+09:00",
        "serial": "4096551234",
        "data": data,
    }
    event.update(overrides)
    return event


def latest_info(**data: Any) -> dict[str, Any]:
    base = {"old_serial": "4096551234", "new_serial": "4096559876", "not_after": "2031-05-17T14:59:59Z"}
    base.update(data)
    return envelope("latest_info", base)


@pytest.fixture
def good_events(holder_card) -> dict[str, dict[str, Any]]:
    certificate = base64.b64encode(holder_card.certificate_der).decode()
    return {
        "consent_reflected": envelope("consent_reflected", {"consent_id": "jc_1", "consent_date": "2026-04-02"}),
        "consent_rejected": envelope("consent_rejected", {"consent_id": "jc_1", "reason": "signature_invalid"}),
        "consent_revoked": envelope("consent_revoked", {"consent_id": "jc_1", "channel": "jpki_mobile"}),
        "consent_registered": envelope(
            "consent_registered",
            {"consent_id": "jc_2", "items": ["address"], "consent_date": "2026-04-02", "certificate": certificate},
            serial=holder_card.serial,
        ),
        "latest_info": latest_info(address="東京都府中市多磨町３丁目１番地"),
    }


def test_every_kind_of_well_formed_event_is_read(good_events):
    assert set(good_events) == set(KINDS)
    for kind, raw in good_events.items():
        event = event_parse(raw)
        assert event.kind == kind
        assert event.holder_seq == 3
        assert event.occurred_at == datetime(2026, 5, 1, 1, 2, 11, tzinfo=UTC)
    assert event_parse(good_events["consent_revoked"]).consent_id == "jc_1"
    assert event_parse(good_events["latest_info"]).consent_id == ""


def test_r02_latest_info_keeps_only_the_three_items_and_never_an_unknown_field():
    event = event_parse(latest_info(address="東京都千代田区", sex="1", my_number="123456789018"))
    assert event.data == {
        "old_serial": "4096551234",
        "new_serial": "4096559876",
        "not_after": "2031-05-17T14:59:59+00:00",
        "address": "東京都千代田区",
    }


MALFORMED_EVENTS: dict[str, tuple[Any, str]] = {
    "not an object": (["ev_1"], "event is not an object"),
    "missing id": (envelope("consent_revoked", {"consent_id": "c", "channel": "mynaportal"}, id=None), "id is not"),
    "id with spaces": (
        envelope("consent_revoked", {"consent_id": "c", "channel": "mynaportal"}, id="e 1"),
        "id is not",
    ),
    "unknown kind": (envelope("address_changed", {}), "kind is not one of"),
    "holder_seq a string": (latest_info(address="a", **{}) | {"holder_seq": "3"}, "holder_seq is not"),
    "holder_seq a boolean": (latest_info(address="a") | {"holder_seq": True}, "holder_seq is not"),
    "holder_seq zero": (latest_info(address="a") | {"holder_seq": 0}, "holder_seq is not"),
    "occurred_at without offset": (latest_info(address="a") | {"occurred_at": "2026-05-01T10:02:11"}, "occurred_at"),
    "occurred_at not a time": (latest_info(address="a") | {"occurred_at": "2026-13-01T10:02:11Z"}, "occurred_at"),
    "serial not decimal": (latest_info(address="a") | {"serial": "0x1f"}, "serial is not"),
    "data not an object": (envelope("latest_info", ["a"]), "data is not an object"),
    "reflected without date": (envelope("consent_reflected", {"consent_id": "c"}), "data.consent_date"),
    "reflected impossible date": (
        envelope("consent_reflected", {"consent_id": "c", "consent_date": "2026-02-30"}),
        "data.consent_date is not a calendar date",
    ),
    "reflected date in another format": (
        envelope("consent_reflected", {"consent_id": "c", "consent_date": "20260401"}),
        "data.consent_date is not a YYYY-MM-DD",
    ),
    "rejected without reason": (envelope("consent_rejected", {"consent_id": "c"}), "data.reason"),
    "revoked by an unknown channel": (
        envelope("consent_revoked", {"consent_id": "c", "channel": "counter"}),
        "data.channel",
    ),
    "revoked without consent id": (envelope("consent_revoked", {"channel": "mynaportal"}), "data.consent_id"),
    "registered with a non-base64 certificate": (
        envelope(
            "consent_registered",
            {"consent_id": "c", "items": ["name"], "consent_date": "2026-04-02", "certificate": "not base64!"},
        ),
        "data.certificate is not valid base64",
    ),
    "registered with garbage DER": (
        envelope(
            "consent_registered",
            {
                "consent_id": "c",
                "items": ["name"],
                "consent_date": "2026-04-02",
                "certificate": base64.b64encode(b"garbage").decode(),
            },
        ),
        "data.certificate is not a DER",
    ),
    "latest_info without new serial": (latest_info(address="a", new_serial=None), "data.new_serial"),
    "latest_info new serial equal to old": (latest_info(address="a", new_serial="4096551234"), "equals"),
    "latest_info old serial not the event serial": (latest_info(address="a", old_serial="1"), "differs"),
    "latest_info without any item": (latest_info(), "none of name, address, birth_date"),
    "latest_info name not a string": (latest_info(name=["山田"]), "data.name"),
    "latest_info address with a control character": (latest_info(address="東京都\x00"), "data.address"),
    "latest_info bad birth date": (latest_info(birth_date="1980-02-30"), "data.birth_date"),
    "latest_info naive not_after": (latest_info(address="a", not_after="2031-05-17T23:59:59"), "data.not_after"),
}


@pytest.mark.parametrize("case", list(MALFORMED_EVENTS))
def test_a_malformed_event_is_refused_with_a_reason_naming_the_field(case):
    raw, reason = MALFORMED_EVENTS[case]
    with pytest.raises(InvalidEvent) as caught:
        event_parse(raw)
    assert reason in caught.value.reason


def test_a_registered_consent_whose_certificate_has_another_serial_is_refused(good_events):
    raw = copy.deepcopy(good_events["consent_registered"])
    raw["serial"] = "1"
    with pytest.raises(InvalidEvent, match="certificate serial differs"):
        event_parse(raw)


@pytest.mark.parametrize(
    ("previous", "reason"),
    [
        ("123", "data.previous_serials is not a list"),
        (["12", "x"], "data.previous_serials[1]"),
        (["1"] * 11, "at most"),
    ],
)
def test_a_registered_consent_with_malformed_previous_serials_is_refused(good_events, previous, reason):
    raw = copy.deepcopy(good_events["consent_registered"])
    raw["data"]["previous_serials"] = previous
    with pytest.raises(InvalidEvent) as caught:
        event_parse(raw)
    assert reason in caught.value.reason


def test_a_registered_consent_keeps_the_previous_serials(good_events):
    raw = copy.deepcopy(good_events["consent_registered"])
    raw["data"]["previous_serials"] = ["4096551234", "4096550001"]
    assert event_parse(raw).data["previous_serials"] == ["4096551234", "4096550001"]


def test_an_invalid_event_keeps_its_id_reason_path_and_hash_never_a_value():
    raw = latest_info(name="山田\x07太郎", address="大阪府大阪市北区中之島一丁目３番２０号")
    with pytest.raises(InvalidEvent) as caught:
        event_parse(raw)
    bad = caught.value
    kept = repr(vars(bad)) + str(bad)
    for value in ("山田", "大阪", raw["serial"], raw["data"]["new_serial"]):
        assert value not in kept
    assert (bad.event_id, bad.paths) == ("ev_1", ["data.name"])
    # The hash J-LIS can recompute: SHA-256 of the event as canonical JSON (docs/jlis-protocol.md).
    canonical = json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert bad.body_sha256 == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda e: e.update(id="山田 太郎"), "id"),
        (lambda e: e.update(kind="name_changed"), "kind"),
        (lambda e: e.update(holder_seq=0), "holder_seq"),
        (lambda e: e["data"].update(birth_date="1980-02-30"), "data.birth_date"),
        (lambda e: e["data"].pop("new_serial"), "data.new_serial"),
        (lambda e: e.update(data="大阪府"), "data"),
    ],
)
def test_an_invalid_event_names_the_json_path_that_failed_and_keeps_no_identifier_that_is_not_one(change, path):
    raw = latest_info(address="大阪府大阪市")
    change(raw)
    with pytest.raises(InvalidEvent) as caught:
        event_parse(raw)
    assert caught.value.paths == [path]
    assert caught.value.event_id in ("ev_1", "")  # an id that is not an identifier is not kept either
    assert "山田" not in caught.value.event_id


def page(events: list[Any], next_cursor: str = "p2", has_more: bool = False) -> dict[str, Any]:
    return {"events": events, "next_cursor": next_cursor, "has_more": has_more}


def test_one_bad_event_is_set_apart_and_the_rest_of_the_page_is_kept(good_events):
    bad = latest_info(address="a") | {"id": "ev_bad", "holder_seq": "x"}
    parsed = page_parse(
        page([good_events["consent_reflected"], bad, good_events["latest_info"] | {"id": "ev_3"}]),
        after="p1",
        limit=10,
    )
    assert [e.id for e in parsed.events] == ["ev_1", "ev_3"]
    assert [(i.event_id, i.reason) for i in parsed.invalid] == [("ev_bad", "holder_seq is not a positive integer")]
    assert parsed.next_cursor == "p2"


MALFORMED_PAGES: dict[str, tuple[Any, str]] = {
    "a list": ([], "body is not an object"),
    "events missing": ({"next_cursor": "p2", "has_more": False}, "events is not a list"),
    "events an object": ({"events": {}, "next_cursor": "p2", "has_more": False}, "events is not a list"),
    "cursor missing": ({"events": [], "has_more": False}, "next_cursor"),
    "cursor a number": (page([], next_cursor=2), "next_cursor"),  # type: ignore[arg-type]
    "cursor too long": (page([], next_cursor="c" * 129), "next_cursor"),
    "has_more a string": (page([], has_more="false"), "has_more"),  # type: ignore[arg-type]
    "more events than the limit": (page([{}] * 3), "3 events for a limit of 2"),
    "events without moving the cursor": (page([{}], next_cursor="p1"), "does not move"),
    "has_more without moving the cursor": (page([], next_cursor="p1", has_more=True), "does not move"),
}


@pytest.mark.parametrize("case", list(MALFORMED_PAGES))
def test_a_malformed_page_is_refused_as_a_whole(case):
    body, reason = MALFORMED_PAGES[case]
    with pytest.raises(PageMalformed, match=reason):
        page_parse(body, after="p1", limit=2)


def test_an_empty_last_page_keeps_the_cursor():
    parsed = page_parse(page([], next_cursor="p1"), after="p1", limit=2)
    assert (parsed.events, parsed.invalid, parsed.next_cursor, parsed.has_more) == ([], [], "p1", False)
