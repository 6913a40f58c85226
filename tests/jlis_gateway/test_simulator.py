"""The simulator speaks the protocol over real HTTP and plays the world by the rules."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from cryptography import x509
from django.conf import settings
from django.core.management import call_command

from consents.jpki import testcard
from jlis_gateway.client import JlisClient, JlisRefused
from jlis_simulator.people import person_from_certificate

JST = ZoneInfo("Asia/Tokyo")


def submit(client: JlisClient, card, *, items=("address", "name"), key: str | None = None, statement=b"I consent"):
    return client.submit_consent(
        idempotency_key=key or uuid.uuid4().hex,
        reference="C-1",
        statement=statement,
        signature=card.sign(statement),
        certificate=card.certificate_der,
        items=list(items),
    )


def all_events(client: JlisClient):
    page = client.events_page(after="", limit=1000)
    assert not page.invalid
    return page.events


@pytest.fixture
def client(jlis_simulator) -> JlisClient:
    return JlisClient.from_settings()


def test_a_submission_is_pending_until_reflected_with_the_japan_day(client, jlis_simulator, holder_card):
    submitted = submit(client, holder_card)
    assert submitted.status == "pending"
    assert client.consent_status(consent_id=submitted.consent_id).status == "pending"
    assert all_events(client) == []
    jlis_simulator.reflect()
    [event] = all_events(client)
    assert (event.kind, event.consent_id, event.serial) == (
        "consent_reflected",
        submitted.consent_id,
        holder_card.serial,
    )
    assert event.data["consent_date"] == datetime.now(JST).date().isoformat()
    state = client.consent_status(consent_id=submitted.consent_id)
    assert (state.status, state.items, state.consent_date) == (
        "active",
        ("address", "name"),
        event.data["consent_date"],
    )


def test_reflecting_a_day_later_gives_the_next_japan_day(client, jlis_simulator, holder_card):
    submit(client, holder_card)
    jlis_simulator.reflect(day="next")
    [event] = all_events(client)
    assert event.data["consent_date"] == (datetime.now(JST).date() + timedelta(days=1)).isoformat()


def test_the_same_idempotency_key_acts_once_and_replays_the_first_answer(client, jlis_simulator, holder_card):
    first = submit(client, holder_card, key="row-1", statement=b"same")
    again = submit(client, holder_card, key="row-1", statement=b"same")
    assert again == first
    assert jlis_simulator.state()["consents"] == {"pending": 1}
    [logged] = jlis_simulator.requests()
    assert (logged["key"], logged["received"], logged["replays"]) == ("row-1", 2, 1)
    with pytest.raises(JlisRefused) as caught:
        submit(client, holder_card, key="row-1", statement=b"different")
    assert caught.value.code == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [("signature", "signature_invalid"), ("hierarchy", "certificate_untrusted")],
)
def test_r03_a_consent_that_fails_the_checks_is_rejected_with_the_reason(
    client, jlis_simulator, holder_card, spoil, reason
):
    card = holder_card
    if spoil == "hierarchy":
        card = testcard.TestHierarchy.generate().issue_card(holder_card.holder)
    statement = b"signed"
    client.submit_consent(
        idempotency_key=uuid.uuid4().hex,
        reference="C-1",
        statement=statement,
        signature=card.sign(b"something else" if spoil == "signature" else statement),
        certificate=card.certificate_der,
        items=["address"],
    )
    jlis_simulator.reflect()
    [event] = all_events(client)
    assert (event.kind, event.data["reason"]) == ("consent_rejected", reason)


def test_r10_a_move_revokes_the_certificate_and_reports_only_the_consented_items(client, jlis_simulator, holder_card):
    submitted = submit(client, holder_card, items=("address",))
    jlis_simulator.reflect()
    moved = jlis_simulator.move(holder=1, address="東京都府中市多磨町３丁目１番地")
    events = all_events(client)
    assert [e.kind for e in events] == ["consent_reflected", "latest_info"]
    info = events[1]
    assert info.serial == holder_card.serial == moved["old_serial"]
    assert info.data["new_serial"] == moved["new_serial"] != holder_card.serial
    assert info.data["address"] == "東京都府中市多磨町３丁目１番地"
    assert "name" not in info.data and "birth_date" not in info.data  # R2
    assert [e.holder_seq for e in events] == [1, 2]
    # The new certificate comes from the same JPKI-TEST hierarchy and carries the new address.
    card = jlis_simulator.card(1)
    certificate = x509.load_pem_x509_certificate(card["certificate_pem"].encode())
    certificate.verify_directly_issued_by(
        testcard.TestHierarchy.load_or_create(settings.JPKI_TEST_DIR).signing_ca.certificate
    )
    assert person_from_certificate(certificate).address == "東京都府中市多磨町３丁目１番地"
    assert str(certificate.serial_number) == moved["new_serial"]
    # The consent signed with the old certificate stays active (R7).
    assert client.consent_status(consent_id=submitted.consent_id).status == "active"


def test_a_name_change_reports_the_new_name_when_the_name_is_consented(client, jlis_simulator, holder_card):
    submit(client, holder_card, items=("name", "birth_date"))
    jlis_simulator.reflect()
    jlis_simulator.rename(holder=1, name="佐藤　太郎")
    info = all_events(client)[-1]
    assert (info.data["name"], info.data["birth_date"]) == ("佐藤　太郎", "1980-05-17")
    assert "address" not in info.data


def test_r11_after_expiry_nothing_is_sent_even_after_a_new_certificate_until_registration(
    client, jlis_simulator, holder_card
):
    submit(client, holder_card)
    jlis_simulator.reflect()
    jlis_simulator.expire(holder=1)
    assert jlis_simulator.renew(holder=1)["event_id"] == ""
    assert jlis_simulator.move(holder=1, address="大阪府門真市一番町２３番１６号")["event_id"] == ""
    assert [e.kind for e in all_events(client)] == ["consent_reflected"]
    # Registering again through Mynaportal restarts the feed; the event carries the certificate.
    registered = jlis_simulator.register(holder=1, items=["address"])
    jlis_simulator.move(holder=1, address="東京都新宿区西新宿二丁目８番１号")
    events = all_events(client)
    assert [e.kind for e in events] == ["consent_reflected", "consent_registered", "latest_info"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(events[1].data["certificate"]))
    assert person_from_certificate(certificate).address == "大阪府門真市一番町２３番１６号"
    assert events[1].serial == registered["serial"] == events[2].serial
    assert events[2].data["address"] == "東京都新宿区西新宿二丁目８番１号"


def test_a_registration_through_mynaportal_for_a_new_holder_issues_a_card(client, jlis_simulator):
    registered = jlis_simulator.register(
        items=["name"], name="鈴木　花子", address="北海道札幌市中央区北二条西七丁目", birth_date="1990-01-02"
    )
    [event] = all_events(client)
    assert (event.kind, event.data["items"], event.serial) == ("consent_registered", ["name"], registered["serial"])


@pytest.mark.parametrize("channel", ["mynaportal", "jpki_mobile"])
def test_r09_a_revocation_elsewhere_is_an_event_with_its_channel(client, jlis_simulator, holder_card, channel):
    submitted = submit(client, holder_card)
    jlis_simulator.reflect()
    jlis_simulator.revoke(holder=1, channel=channel)
    event = all_events(client)[-1]
    assert (event.kind, event.consent_id, event.data["channel"]) == ("consent_revoked", submitted.consent_id, channel)
    # After revocation nothing more is sent for this holder.
    jlis_simulator.move(holder=1, address="大阪府門真市一番町２３番１６号")
    assert all_events(client)[-1].kind == "consent_revoked"


def test_our_revocation_is_idempotent_and_makes_no_event(client, jlis_simulator, holder_card):
    submitted = submit(client, holder_card)
    jlis_simulator.reflect()
    for _ in range(2):
        result = client.revoke_consent(idempotency_key=uuid.uuid4().hex, consent_id=submitted.consent_id)
        assert result.status == "revoked"
    assert client.consent_status(consent_id=submitted.consent_id).status == "revoked"
    assert [e.kind for e in all_events(client)] == ["consent_reflected"]
    with pytest.raises(JlisRefused) as caught:
        client.revoke_consent(idempotency_key=uuid.uuid4().hex, consent_id="jc_unknown")
    assert caught.value.code == "consent_not_found"


def test_generated_load_has_consistent_serial_chains_and_sequences(client, jlis_simulator):
    answer = jlis_simulator.generate(count=300, holders=7, items=["address"], seed=3)
    assert len(answer["holders"]) == 7
    current = {h["holder"]: h["serial"] for h in answer["holders"]}
    seq = dict.fromkeys(current, 0)
    holder_of = {h["serial"]: h["holder"] for h in answer["holders"]}
    page = client.events_page(after="", limit=1000)
    assert len(page.events) == 300 and not page.invalid
    for event in page.events:
        holder = holder_of[event.serial]
        assert event.serial == current[holder]
        assert event.holder_seq == seq[holder] + 1
        assert set(event.data) == {"old_serial", "new_serial", "not_after", "address"}
        current[holder], seq[holder] = event.data["new_serial"], event.holder_seq
        holder_of[event.data["new_serial"]] = holder


def test_events_are_read_in_pages_after_a_cursor(client, jlis_simulator):
    jlis_simulator.generate(count=25, holders=5)
    seen, cursor, more = [], "", True
    while more:
        page = client.events_page(after=cursor, limit=10)
        seen += [e.id for e in page.events]
        cursor, more = page.next_cursor, page.has_more
    assert len(seen) == len(set(seen)) == 25
    assert client.events_page(after=cursor, limit=10).events == []


def test_the_management_command_drives_the_simulator(jlis_simulator, capsys, tmp_path):
    jlis_simulator.register(
        items=["address"], name="鈴木　花子", address="北海道札幌市中央区北二条西七丁目", birth_date="1990-01-02"
    )
    url = jlis_simulator.base_url
    call_command("jlis_simulator", "--url", url, "move", "--holder", "1", "--address", "東京都府中市多磨町３丁目１番地")
    moved = json.loads(capsys.readouterr().out)
    assert moved["event_id"]
    call_command("jlis_simulator", "--url", url, "fault", "error_5xx", "--count", "2")
    call_command("jlis_simulator", "--url", url, "card", "--holder", "1", "--out", str(tmp_path))
    capsys.readouterr()
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
    call_command("jlis_simulator", "--url", url, "state")
    state = json.loads(capsys.readouterr().out)
    assert (state["events"], state["faults"][0]["kind"]) == (2, "error_5xx")


def test_the_page_lists_the_world_and_its_forms_act(jlis_simulator):
    jlis_simulator.register(
        items=["address"], name="鈴木　花子", address="北海道札幌市中央区北二条西七丁目", birth_date="1990-01-02"
    )
    url = jlis_simulator.base_url
    page = requests.get(url + "/", timeout=10)
    assert "鈴木　花子" in page.text and 'action="/control/move"' in page.text
    moved = requests.post(
        url + "/control/move",
        data={"holder": "1", "address": "東京都府中市多磨町３丁目１番地"},
        headers={"Origin": url},
        timeout=30,
        allow_redirects=False,
    )
    assert moved.status_code == 303
    assert "東京都府中市多磨町３丁目１番地" in requests.get(url + "/", timeout=10).text
    elsewhere = requests.post(url + "/control/reset", data={}, headers={"Origin": "http://evil.example"}, timeout=10)
    assert elsewhere.status_code == 403


def test_a_cancelled_consent_is_never_reflected_and_the_cancel_is_idempotent(client, jlis_simulator, holder_card):
    submitted = submit(client, holder_card)
    key = uuid.uuid4().hex
    for _ in range(2):  # the same key replays; a new key answers the same
        assert client.cancel_consent(idempotency_key=key, consent_id=submitted.consent_id).status == "cancelled"
    assert (
        client.cancel_consent(idempotency_key=uuid.uuid4().hex, consent_id=submitted.consent_id).status == "cancelled"
    )
    assert jlis_simulator.reflect()["consents"] == []
    assert client.consent_status(consent_id=submitted.consent_id).status == "cancelled"
    assert all_events(client) == []


def test_a_cancel_after_the_reflection_is_refused_and_the_consent_must_be_revoked(client, jlis_simulator, holder_card):
    submitted = submit(client, holder_card)
    jlis_simulator.reflect()
    with pytest.raises(JlisRefused) as caught:
        client.cancel_consent(idempotency_key=uuid.uuid4().hex, consent_id=submitted.consent_id)
    assert (caught.value.status, caught.value.code) == (409, "consent_already_reflected")
    assert client.consent_status(consent_id=submitted.consent_id).status == "active"
    client.revoke_consent(idempotency_key=uuid.uuid4().hex, consent_id=submitted.consent_id)
    assert client.consent_status(consent_id=submitted.consent_id).status == "revoked"
