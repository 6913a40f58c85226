"""R2 at the door: the poller stores of J-LIS's latest information only the items a consent of the
holder covers (in force or pending), and none for a serial nobody knows. Against the simulator
over real HTTP; the expected items come from R2 and the consents each test gives the holders."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applier.batch import events_apply_pending
from consents.models import Channel, Consent, ConsentStatus, TermsVersion
from consents.period import consent_period
from consents.services import mynaportal_link_record
from driver_records.models import DriverRecord
from driver_records.normalise import name_search_key
from jlis_gateway.client import Event, EventPage
from jlis_gateway.models import JlisEvent, PollState, QuarantinedEvent
from jlis_gateway.services.door import events_at_the_door
from jlis_gateway.services.poll import PollResult, _page_store, events_poll
from jlis_gateway.services.refetch import quarantined_refetch
from onestop.clock import japan_date
from safeguards.services.suspension import suspension_confirm, suspension_propose
from tests.counter_flow import register_at_counter
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db

ITEMS = {"name", "address", "birth_date"}
NO_ITEMS = {"old_serial", "new_serial", "not_after"}  # what R2 leaves of latest information


def poll_until_caught_up() -> None:
    for _ in range(400):
        result = events_poll()
        if result.status == "done" and not result.has_more:
            return
    pytest.fail("the poll did not catch up")


def items_stored(payload: dict) -> set[str]:
    return set(payload) & ITEMS


def test_r02_latest_information_about_a_serial_nobody_knows_keeps_no_item(jlis_simulator):
    jlis_simulator.generate(count=60, holders=6)  # J-LIS's holders: none has a record here
    poll_until_caught_up()
    payloads = list(JlisEvent.objects.filter(kind="latest_info").values_list("payload", flat=True))
    assert len(payloads) == 60
    assert all(set(payload) == NO_ITEMS for payload in payloads)
    if connection.vendor != "postgresql":
        return  # the table read as PostgreSQL stores it, below; the ORM's reading of it is above
    with connection.cursor() as cursor:  # the table itself, not the ORM's reading of it
        cursor.execute(
            "SELECT count(*) FROM jlis_gateway_jlisevent WHERE payload ?| array['name', 'address', 'birth_date']"
        )
        assert cursor.fetchone()[0] == 0
        # Names and addresses are Japanese: no column of any row holds a character outside ASCII.
        cursor.execute("SELECT count(*) FROM jlis_gateway_jlisevent AS e WHERE e::text ~ '[^\\x01-\\x7f]'")
        assert cursor.fetchone()[0] == 0


def _records_for(holders: list[dict]) -> list[DriverRecord]:
    """A card-only record per generated holder, linked to the holder's first serial (R13)."""
    return DriverRecord.objects.bulk_create(
        DriverRecord(
            kind="licence",
            number=f"7{h['holder']:010d}0",
            name=h["name"],
            name_key=name_search_key(h["name"]),
            birth_date=date.fromisoformat(h["birth_date"]),
            address=h["address"],
            holding_status="licence_card_only",
            cert_serial=h["serial"],
            cert_not_after=timezone.now() + timedelta(days=4 * 365),
        )
        for h in holders
    )


def _consent(record: DriverRecord, items: list[str], status: str, *, days_ago: int = 1) -> Consent:
    terms, _ = TermsVersion.objects.get_or_create(
        version="2025-03", defaults={"effective_date": date(2025, 3, 24), "text": "利用規約"}
    )
    dated = status != ConsentStatus.PENDING
    consent_date = timezone.localdate() - timedelta(days=days_ago)
    first_day, last_day = consent_period(consent_date) if dated else (None, None)
    return Consent.objects.create(
        record=record,
        reference=f"D-{Consent.objects.count() + 1:06d}",
        items=items,
        channel=Channel.COUNTER,
        terms_version=terms,
        status=status,
        created_at=timezone.now() - timedelta(days=days_ago),
        cert_serial=record.cert_serial,
        consent_date=consent_date if dated else None,
        first_day=first_day,
        last_valid_day=last_day,
    )


def _holder_of_each_event(holders: list[dict]) -> dict[str, int]:
    """event id -> the generated holder it is about, following J-LIS's own serial chains
    (old serial -> new serial) from each holder's first serial."""
    owner = {h["serial"]: i for i, h in enumerate(holders)}
    events = list(JlisEvent.objects.filter(kind="latest_info").order_by("holder_seq"))
    about: dict[str, int] = {}
    while len(about) < len(events):
        before = len(about)
        for event in events:
            if event.event_id not in about and event.serial in owner:
                about[event.event_id] = owner[event.serial]
                owner[event.payload["new_serial"]] = owner[event.serial]
        assert len(about) > before, "every event follows from a holder's first serial"
    return about


def test_r02_a_known_serial_keeps_the_items_of_the_holders_consents_in_force_or_pending(
    jlis_simulator, settings, supervisor, second_supervisor
):
    answer = jlis_simulator.generate(count=120, holders=7, items=sorted(ITEMS), seed=4)  # J-LIS sends all three
    holders = answer["holders"]
    records = _records_for(holders)
    _consent(records[0], ["address"], ConsentStatus.ACTIVE)
    _consent(records[1], ["address"], ConsentStatus.ACTIVE)
    _consent(records[1], ["name"], ConsentStatus.PENDING)  # may govern soon: its item is kept too
    _consent(records[2], ["address", "name"], ConsentStatus.REVOKED)
    _consent(records[3], ["birth_date"], ConsentStatus.PENDING)
    _consent(records[4], ["address"], ConsentStatus.ACTIVE, days_ago=3660)  # past its last valid day (R5)
    _consent(records[5], ["address"], ConsentStatus.ACTIVE)
    proposal = suspension_propose(
        record_id=records[5].pk, actor=supervisor, reason_code="misuse", grounds="evident", note="不正利用"
    )
    suspension_confirm(request_id=proposal.pk, actor=second_supervisor)  # R15: nothing more is kept
    # records[6]: no consent at all
    expected = [{"address"}, {"address", "name"}, set(), {"birth_date"}, set(), set(), set()]

    settings.JLIS_PAGE_SIZE = 7  # a holder's chain of serials crosses pages: known through events stored before
    jlis_simulator.fault("out_of_order", probability=1.0)  # and within a page, in no holder's order
    poll_until_caught_up()

    about = _holder_of_each_event(holders)
    stored = dict(JlisEvent.objects.filter(kind="latest_info").values_list("event_id", "payload"))
    assert len(stored) == 120 and {about[e] for e in stored} == set(range(7))  # every holder has events
    wrong = {e: (about[e], sorted(items_stored(p))) for e, p in stored.items() if items_stored(p) != expected[about[e]]}
    assert not wrong, wrong


# --- the real path: counter -> outbox -> J-LIS -> poll -> apply ------------------------------------
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"


@pytest.fixture
def holder_record(clerk):
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約")
    return DriverRecordFactory(address="東京都千代田区霞が関二丁目１番１号", name="山田　太郎")


@pytest.mark.django_db(transaction=True)
def test_r02_latest_information_just_before_the_reflection_keeps_and_applies_the_consented_items(
    holder_record, clerk, issue_card_for, jlis_simulator, settings
):
    card = issue_card_for(holder_record)
    consent = register_at_counter(holder_record, clerk, card, ("address",))  # pending here
    jlis_simulator.reflect(consent_id=consent.jlis_consent_id)
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)  # latest information about the card's serial
    # The reflection reaches us after the latest information: J-LIS serves it unreadable first
    # (quarantined), then again once corrected.
    settings.JLIS_PAGE_SIZE = 1
    jlis_simulator.fault("malformed_event", count=1)
    poll_until_caught_up()
    assert list(JlisEvent.objects.values_list("kind", flat=True)) == ["latest_info"]
    latest = JlisEvent.objects.get()
    holder_record.refresh_from_db()
    assert latest.serial == card.serial and holder_record.cert_serial == ""  # nothing links it yet
    assert items_stored(latest.payload) == {"address"}  # the pending consent's item, kept at the door

    events_apply_pending()
    latest.refresh_from_db()
    assert latest.status == "pending"  # it waits for what links its serial
    quarantined = QuarantinedEvent.objects.get()
    jlis_simulator.repair(event_id=quarantined.event_id)
    assert quarantined_refetch(quarantined_id=quarantined.pk).outcome == "stored"
    events_apply_pending()  # the reflection, then the information that waited for it

    latest.refresh_from_db()
    holder_record.refresh_from_db()
    consent.refresh_from_db()
    assert (consent.status, latest.status) == (ConsentStatus.ACTIVE, "applied")
    assert holder_record.address == NEW_ADDRESS
    assert holder_record.cert_serial == latest.payload["new_serial"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page_size", [1, 50], ids=["stored_before", "same_page"])
def test_r02_r11_a_mynaportal_registration_not_yet_applied_makes_its_serial_and_items_known(
    holder_record, clerk, issue_card_for, jlis_simulator, settings, page_size
):
    card = issue_card_for(holder_record)
    counter = register_at_counter(holder_record, clerk, card, ("address",))
    jlis_simulator.reflect(consent_id=counter.jlis_consent_id)
    poll_until_caught_up()
    events_apply_pending()
    mynaportal_link_record(record_id=holder_record.pk, actor=clerk)
    # The card's certificate expires; the holder registers again through Mynaportal with the new
    # one, choosing the name too (R11), then changes name: J-LIS's latest information is about
    # the new certificate's serial, which only the registration names.
    jlis_simulator.expire(holder=1)
    renewed = jlis_simulator.renew(holder=1)
    registration = jlis_simulator.register(holder=1, items=["address", "name"])
    renamed = jlis_simulator.rename(holder=1, name="佐藤　花子")
    assert registration["serial"] == renamed["old_serial"] == renewed["new_serial"] != card.serial

    settings.JLIS_PAGE_SIZE = page_size
    poll_until_caught_up()
    latest = JlisEvent.objects.get(kind="latest_info")
    assert JlisEvent.objects.get(kind="consent_registered").status == "pending"  # not applied yet
    assert items_stored(latest.payload) == {"address", "name"}  # the counter consent's and the registration's

    events_apply_pending()
    holder_record.refresh_from_db()
    latest.refresh_from_db()
    assert latest.status == "applied"
    assert holder_record.name == "佐藤　花子"
    assert holder_record.cert_serial == latest.payload["new_serial"]


def _latest(event_id: str, seq: int, serial: str, new_serial: str) -> Event:
    data = {"old_serial": serial, "new_serial": new_serial, "not_after": "2031-01-01T00:00:00+00:00"}
    data |= {"address": "東京都府中市多磨町３丁目１番地", "name": "佐藤　花子", "birth_date": "1980-05-17"}
    return Event(event_id, "latest_info", seq, timezone.now(), serial, "", data)


def test_r02_a_reflection_in_the_page_names_the_holders_serial_at_jlis_for_its_consents_record():
    """J-LIS names the holder's current serial in a reflection, which is not the certificate the
    consent was signed with when the holder moved meanwhile (docs/jlis-protocol.md)."""
    record = DriverRecordFactory(cert_serial="")
    consent = _consent(record, ["address"], ConsentStatus.PENDING)
    Consent.objects.filter(pk=consent.pk).update(cert_serial="100", jlis_consent_id="jc_r1")
    reflected = Event("ev_r", "consent_reflected", 2, timezone.now(), "200", "jc_r1", {"consent_id": "jc_r1"})
    reflected.data["consent_date"] = timezone.localdate().isoformat()
    # in the page: the holder's next move first, then the one after the reflection, then the reflection
    page = EventPage(
        events=[_latest("ev_b", 4, "201", "202"), _latest("ev_a", 3, "200", "201"), reflected], next_cursor="1"
    )
    PollState.objects.create(name="events", cursor="", claim_token="mine")
    _page_store(token="mine", after="", page=page, result=PollResult("done"))
    kept = dict(JlisEvent.objects.filter(kind="latest_info").values_list("event_id", "payload"))
    assert {event_id: items_stored(payload) for event_id, payload in kept.items()} == {
        "ev_a": {"address"},
        "ev_b": {"address"},
    }


def _chain_stored(record: DriverRecord, depth: int, *, prefix: str) -> str:
    """`depth` stored latest information not yet applied, each announcing the next serial after the
    record's; returns the last serial announced (known only through that chain)."""
    serials = [record.cert_serial] + [f"{prefix}{n:03d}" for n in range(1, depth + 1)]
    for n, (serial, new_serial) in enumerate(pairwise(serials), start=1):
        event = _latest(f"ev_{prefix}_{n}", n, serial, new_serial)
        JlisEvent.objects.create(
            event_id=event.id,
            kind=event.kind,
            holder_seq=event.holder_seq,
            serial=event.serial,
            occurred_at=event.occurred_at,
            payload=event.data,
            received_at=timezone.now(),
        )
    return serials[-1]


@pytest.mark.parametrize("depth", [1, 2, 12])
def test_r02_a_serial_known_through_a_chain_of_stored_announcements_keeps_its_consented_items(depth):
    """A holder moved `depth` times before the poller got to apply any of it: the serial of the
    page's event is the record's only through the whole chain (R13), and its consent's items are
    kept (R2); a serial nobody knows keeps none."""
    record = DriverRecordFactory(cert_serial=f"5{depth:03d}000")
    _consent(record, ["address"], ConsentStatus.ACTIVE)
    last = _chain_stored(record, depth, prefix=f"6{depth:03d}")
    page = [_latest("ev_page", depth + 1, last, f"7{depth:03d}000"), _latest("ev_nobody", 1, "8000", "8001")]
    kept = events_at_the_door(page, today=japan_date(timezone.now()))
    assert [items_stored(event.data) for event in kept] == [{"address"}, set()]


@pytest.mark.postgres  # one recursive statement there; elsewhere (SQLite) one per link, by design
def test_the_door_reads_a_page_in_the_same_number_of_queries_however_long_the_chains():
    """The serials a page names are resolved set-wise: a chain of twelve stored announcements costs
    the door no more statements than a chain of one (each link used to cost a round of lookups)."""
    counts = []
    for depth in (1, 12):
        record = DriverRecordFactory(cert_serial=f"5{depth:03d}000")
        _consent(record, ["address"], ConsentStatus.ACTIVE)
        last = _chain_stored(record, depth, prefix=f"6{depth:03d}")
        page = [_latest(f"ev_page{depth}", depth + 1, last, f"7{depth:03d}000")]
        with CaptureQueriesContext(connection) as queries:
            kept = events_at_the_door(page, today=japan_date(timezone.now()))
        assert items_stored(kept[0].data) == {"address"}
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner and statistics")
def test_the_doors_lookup_of_stored_announcements_probes_the_index_with_many_events_pending():
    """A poll that catches up stores thousands of events before the applier runs, and PostgreSQL's
    statistics, taken when none was pending, say none is: the lookup of the page's serials among
    the stored announcements still probes the announcements' index once a serial, and is cheap
    enough not to be JIT-compiled (it read every pending event per page before)."""
    from jlis_gateway.services.door import _ANNOUNCING, _CHAIN_SQL
    from onestop.sql_params import json_values

    received = timezone.now()
    JlisEvent.objects.bulk_create(
        JlisEvent(
            event_id=f"ev_many_{n}",
            kind="latest_info",
            holder_seq=1,
            serial=f"{3_000_000 + n}",
            occurred_at=received,
            payload={"old_serial": f"{3_000_000 + n}", "new_serial": f"{3_000_000 + n + 5_000}"},
            received_at=received,
            status="applied",
        )
        for n in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jlis_gateway_jlisevent")  # statistics of a moment with nothing pending
        JlisEvent.objects.update(status="pending")  # then the poll catches up
        serials = [f"{3_010_000 + n}" for n in range(500)]
        cursor.execute(f"EXPLAIN (FORMAT JSON) {_CHAIN_SQL}", [json_values(serials), *_ANNOUNCING, *_ANNOUNCING])
        plan = cursor.fetchone()[0][0]["Plan"]
        cursor.execute("SELECT current_setting('jit_above_cost')::float")
        jit_above_cost = cursor.fetchone()[0]

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    reads = [n for n in nodes(plan) if n.get("Relation Name") == "jlis_gateway_jlisevent"]
    probes = [n for n in nodes(plan) if n.get("Index Name") == "jlis_event_announces_idx"]
    assert reads and all(n["Node Type"] in ("Index Scan", "Bitmap Heap Scan") for n in reads), reads
    assert len(probes) == len(reads) and all(n["Plan Rows"] < 1_000 for n in probes), probes
    assert plan["Total Cost"] < jit_above_cost, plan["Total Cost"]


def _applied(event_id: str, kind: str, seq: int, serial: str, payload: dict, consent_id: str = "") -> None:
    JlisEvent.objects.create(
        event_id=event_id, kind=kind, holder_seq=seq, serial=serial, jlis_consent_id=consent_id,
        occurred_at=timezone.now(), received_at=timezone.now(), payload=payload, status="applied",
    )  # fmt: skip


@pytest.mark.parametrize("named_by", ["a move", "a chain of two moves", "a reflection"])
def test_r02_r13_a_serial_an_applied_event_named_where_the_link_did_not_follow_keeps_its_items(named_by):
    """The record's link is at a later sequence already (a reflection linked 9102 at seq 3), and an
    applied event of the holder named another serial of theirs (e1: 9100 -> 9101 at seq 1): the
    link did not follow, but J-LIS named 9101 the holder's, and the applier places the holder's
    events by it (R13). Their next event naming it carries the holder's consented items (R2);
    stored without them, the holder's new address was lost. A serial nobody named keeps none."""
    record = DriverRecordFactory(cert_serial="9102")
    consent = _consent(record, ["address"], ConsentStatus.ACTIVE)
    record.changes.create(field="cert_serial", old_value="9100", new_value="9102", source="jlis",
                          jlis_event_id="c3", changed_at=timezone.now())  # fmt: skip
    if named_by == "a reflection":  # a late reflection of a consent of the record's, naming 9101
        Consent.objects.filter(pk=consent.pk).update(jlis_consent_id="jc_late")
        _applied("c2", "consent_reflected", 2, "9101", {"consent_id": "jc_late"}, consent_id="jc_late")
        named = "9101"
    else:
        _applied("e1", "latest_info", 1, "9100", {"old_serial": "9100", "new_serial": "9101"})
        named = "9101"
        if named_by == "a chain of two moves":
            _applied("e1b", "latest_info", 2, "9101", {"old_serial": "9101", "new_serial": "9105"})
            named = "9105"
    page = [_latest("ev_next", 4, named, "9102"), _latest("ev_nobody", 1, "9900", "9901")]
    kept = events_at_the_door(page, today=japan_date(timezone.now()))
    assert [items_stored(event.data) for event in kept] == [{"address"}, set()]
