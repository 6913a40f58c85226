"""A model-based test of one holder's consent lifecycle (hypothesis RuleBasedStateMachine): any
sequence of counter registrations, J-LIS reflecting and rejecting, revocations at the counter
and elsewhere, the clock moving on, holding-status changes and J-LIS latest information runs
through the real services and applier, and after every step the database equals a small model
of the rules (R1, R2, R5, R6, R9, R11, R12):
- at most one consent of the record is active;
- a rejected, revoked, expired or superseded consent never changes again (never active again);
- the period of a reflected consent is the one DOMAIN.md states (computed here independently);
- latest information is applied only to a card-only holder under an active, in-force consent
  registered since the feed last stopped, with an unexpired certificate, and only the items
  consented to; otherwise nothing of it reaches the record.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from applier.batch import events_apply_pending
from consents.errors import ConsentRefused
from consents.models import Consent, ConsentStatus
from consents.period import JST
from consents.services import (
    consent_expire_due,
    consent_reflect,
    consent_register,
    consent_reject,
    consent_revoke,
    consent_revoke_elsewhere,
    statement_create,
)
from driver_records.models import CARD_ONLY_STATUSES, DriverRecord
from driver_records.services import record_update
from jlis_gateway.models import EventKind, JlisEvent
from tests.conftest import holder_of_record
from tests.factories import DriverRecordFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

ITEMS = ("address", "name", "birth_date")
ADDRESSES = ["東京都府中市多磨町３丁目１番地", "東京都新宿区西新宿二丁目８番１号", "東京都千代田区霞が関二丁目１番１号"]
NAMES = ["山田　太郎", "佐藤　花子", "鈴木　一郎"]
BIRTH_DATES = [date(1980, 5, 17), date(1975, 1, 31)]
HOLDING = ["licence_card_only", "licence_both", "licence_plastic_only"]
FINAL = frozenset({ConsentStatus.REJECTED, ConsentStatus.REVOKED, ConsentStatus.EXPIRED, ConsentStatus.SUPERSEDED})


def last_valid_day(consent_date: date) -> date:
    """DOMAIN.md "Period", said again independently: from the next day, ten years, ending on the
    day before the same month-day; with no such day, on the last day of that month."""
    first = consent_date + timedelta(days=1)
    year = first.year + 10
    if first.day > calendar.monthrange(year, first.month)[1]:
        return date(year, first.month, calendar.monthrange(year, first.month)[1])
    return date(year, first.month, first.day) - timedelta(days=1)


@dataclass
class ModelConsent:
    pk: int
    order: int  # registration order (created_at)
    items: frozenset[str]
    epoch: int  # feed stops before its registration
    cert_serial: str
    cert_not_after: datetime
    status: str = ConsentStatus.PENDING
    consent_date: date | None = None
    jlis_order: int = 0  # the J-LIS sequence that reflected it
    history: list[str] = field(default_factory=lambda: [ConsentStatus.PENDING])


class _Rollback(Exception):
    pass


class ConsentLifecycle(RuleBasedStateMachine):
    """One holder at the Tokyo counter (the test sets `people` before running)."""

    people: dict[str, Any] = {}

    def __init__(self) -> None:
        super().__init__()
        # Each run of the machine is undone afterwards, like a test's transaction; the services'
        # durable transactions run inside it as they do in a TestCase.
        self.block = transaction.atomic()
        self.block._from_testcase = True
        self.block.__enter__()
        self.clerk, self.supervisor = self.people["clerk"], self.people["supervisor"]
        self.hierarchy, self.card_key = self.people["hierarchy"], self.people["card_key"]
        self.record = DriverRecordFactory(prefecture="13", holding_status="licence_card_only")
        self.consents: list[ModelConsent] = []
        self.orders = itertools.count()
        self.serials = itertools.count(1)
        self.today = datetime.now(JST).date()
        self.epoch = 0
        self.holding = "licence_card_only"
        self.values = {"name": self.record.name, "address": self.record.address, "birth_date": self.record.birth_date}
        self.linked: tuple[str, datetime | None] = ("", None)  # serial, certificate end
        self.current: tuple[str, datetime | None] = ("", None)  # the holder's certificate at J-LIS now
        self.seq = 0  # the holder sequence of the data applied last

    def teardown(self) -> None:
        self.block.__exit__(_Rollback, _Rollback(), None)

    # --- helpers ------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.combine(self.today, time(12), tzinfo=JST)

    def governing(self) -> ModelConsent | None:
        """The consent the feed follows (R6, as tests/model/holders.py reads it): the active one,
        else the latest registered that is neither superseded nor rejected."""
        active = [c for c in self.consents if c.status == ConsentStatus.ACTIVE]
        if active:
            return active[0]
        deciding = [c for c in self.consents if c.status not in (ConsentStatus.SUPERSEDED, ConsentStatus.REJECTED)]
        return max(deciding, key=lambda c: c.order, default=None)

    def why_not_applied(self, occurred_at: datetime) -> str:
        """Why latest information is not applied now ("" when it is), in the rules' order."""
        consent, (_serial, not_after) = self.governing(), self.linked
        if consent is None or consent.status == ConsentStatus.PENDING:
            return "no_active_consent"
        if consent.status == ConsentStatus.REVOKED:
            return "consent_revoked"
        if consent.status == ConsentStatus.EXPIRED or last_valid_day(consent.consent_date) < self.today:
            return "consent_expired"
        if self.holding not in CARD_ONLY_STATUSES:
            return "not_eligible"  # R12
        if consent.epoch != self.epoch:
            return "feed_stopped_holding_status"  # R12: until a new registration
        if not_after is not None and not_after < occurred_at:
            return "certificate_expired"  # R11
        return ""

    def set_status(self, consent: ModelConsent, status: str) -> None:
        consent.status = status
        consent.history.append(status)

    # --- the world's steps --------------------------------------------------------------------
    @initialize(items=st.sets(st.sampled_from(ITEMS), min_size=1), reflected=st.booleans())
    def start(self, items: set[str], reflected: bool) -> None:
        """Half the runs start from a holder whose consent J-LIS has already reflected."""
        assert not Consent.objects.filter(record=self.record).exists()
        if reflected:
            self.register_at_the_counter(items)
            self.reflect(self.consents[0])

    @rule(items=st.sets(st.sampled_from(ITEMS), min_size=1))
    def register_at_the_counter(self, items: set[str]) -> None:
        """R1, R6: a card-only holder may register (again) at any time; it waits for J-LIS."""
        record = DriverRecord.objects.get(pk=self.record.pk)
        card = self.hierarchy.issue_card(holder_of_record(record), key=self.card_key)
        try:
            statement = statement_create(record_id=record.pk, items=sorted(items), actor=self.clerk)
            text = statement.text.encode("utf-8")
            consent = consent_register(
                statement_id=statement.pk, signature=card.sign(text), certificate_der=card.certificate_der,
                actor=self.clerk,
            )  # fmt: skip
        except ConsentRefused as refusal:
            assert self.holding not in CARD_ONLY_STATUSES and refusal.code == "not_eligible", refusal.code
            event("register: refused, not card-only")
            return
        assert self.holding in CARD_ONLY_STATUSES
        self.current = (consent.cert_serial, consent.cert_not_after)  # the card issued is the holder's now
        self.consents.append(
            ModelConsent(consent.pk, next(self.orders), frozenset(items), self.epoch, consent.cert_serial,
                         consent.cert_not_after)
        )  # fmt: skip

    @rule(items=st.sets(st.sampled_from(ITEMS), min_size=1))
    def holder_consents_again_and_jlis_reflects_it(self, items: set[str]) -> None:
        """R6: a new consent during the period restarts the ten years; the old one is superseded."""
        count = len(self.consents)
        self.register_at_the_counter(items)
        if len(self.consents) > count:
            self.reflect(self.consents[-1])

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def jlis_reflects(self, data: st.DataObject) -> None:
        """R5, R6: reflected on J-LIS's day; the one J-LIS reflected last is the active one,
        whichever we registered first."""
        self.reflect(data.draw(st.sampled_from(self.consents)))

    def reflect(self, consent: ModelConsent) -> None:
        jlis_order = next(self.serials)  # J-LIS's sequence for the holder: it reflects in this order
        outcome = consent_reflect(
            consent_id=consent.pk, consent_date=self.today, event_id=f"r{jlis_order}", holder_seq=jlis_order,
            serial=self.current[0],
        )  # fmt: skip
        if consent.status != ConsentStatus.PENDING:
            same_day = consent.status == ConsentStatus.ACTIVE and consent.consent_date == self.today
            reason = "duplicate" if same_day else f"consent_{consent.status}"
            assert (outcome.applied, outcome.reason) == (False, reason)
            event(f"reflect: not applied ({reason})")
            return
        assert outcome.applied
        # R10/R13: J-LIS's event names the holder's serial now, and it is the newest in J-LIS's order.
        serial = self.current[0]
        known = {consent.cert_serial: consent.cert_not_after, self.linked[0]: self.linked[1]}
        self.linked = (serial, known.get(serial))
        consent.consent_date, consent.jlis_order = self.today, jlis_order
        rank = (consent.consent_date, consent.jlis_order)
        if any(c.consent_date is not None and (c.consent_date, c.jlis_order) > rank for c in self.consents):
            self.set_status(consent, ConsentStatus.SUPERSEDED)  # J-LIS dated another one after it
            event("reflect: outranked, superseded at once")
            return
        active = next((c for c in self.consents if c.status == ConsentStatus.ACTIVE), None)
        if active is not None and active.order > consent.order:
            event("reflect: an older registration reflected later governs")
        if active is not None:
            self.set_status(active, ConsentStatus.SUPERSEDED)
            event("reflect: supersedes the active consent")
        self.set_status(consent, ConsentStatus.ACTIVE)

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def jlis_rejects(self, data: st.DataObject) -> None:
        consent = data.draw(st.sampled_from(self.consents))
        outcome = consent_reject(consent_id=consent.pk, reason="署名が無効", event_id=f"j{next(self.serials)}")
        if consent.status == ConsentStatus.PENDING:
            assert outcome.applied
            self.set_status(consent, ConsentStatus.REJECTED)
            event("reject: rejected")
        else:
            reason = "duplicate" if consent.status == ConsentStatus.REJECTED else f"consent_{consent.status}"
            assert (outcome.applied, outcome.reason) == (False, reason)

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def supervisor_revokes_at_the_counter(self, data: st.DataObject) -> None:
        """R9."""
        consent = data.draw(st.sampled_from(self.consents))
        try:
            consent_revoke(consent_id=consent.pk, actor=self.supervisor, reason="本人からの申出")
        except ConsentRefused as refusal:
            assert consent.status not in (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
            assert refusal.code == "not_revocable"
            return
        assert consent.status in (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
        event(f"counter revocation of a {consent.status} consent")
        self.set_status(consent, ConsentStatus.REVOKED)

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def holder_revokes_in_jpki_mobile(self, data: st.DataObject) -> None:
        """R9: a revocation made elsewhere reaches us as a J-LIS event."""
        consent = data.draw(st.sampled_from(self.consents))
        outcome = consent_revoke_elsewhere(
            consent_id=consent.pk, channel="jpki_mobile", revoked_at=self.now(), event_id=f"v{next(self.serials)}"
        )
        if consent.status in (ConsentStatus.PENDING, ConsentStatus.ACTIVE):
            assert outcome.applied
            event(f"JPKI Mobile revocation of a {consent.status} consent")
            self.set_status(consent, ConsentStatus.REVOKED)
        else:
            reason = "duplicate" if consent.status == ConsentStatus.REVOKED else f"consent_{consent.status}"
            assert (outcome.applied, outcome.reason) == (False, reason)

    @precondition(lambda self: self.consents)
    @rule(days=st.sampled_from([1, 365, 3651, 3653]))
    def the_clock_moves_on(self, days: int) -> None:
        """R5: an active consent past its last valid day (Japan date) becomes expired."""
        self.today += timedelta(days=days)
        expired = consent_expire_due(today=self.today)
        active = [c for c in self.consents if c.status == ConsentStatus.ACTIVE]
        due = [c for c in active if last_valid_day(c.consent_date) < self.today]
        assert expired == len(due)
        event(f"clock: {len(due)} expired")
        for consent in due:
            self.set_status(consent, ConsentStatus.EXPIRED)

    @rule(status=st.sampled_from(HOLDING))
    def holding_status_changes(self, status: str) -> None:
        """R12: leaving the card-only statuses stops the feed until a new registration."""
        version = DriverRecord.objects.values_list("version", flat=True).get(pk=self.record.pk)
        record_update(record_id=self.record.pk, expected_version=version, changes={"holding_status": status},
                      actor=self.clerk)  # fmt: skip
        if self.holding in CARD_ONLY_STATUSES and status not in CARD_ONLY_STATUSES:
            self.epoch += 1
        self.holding = status

    @precondition(lambda self: self.linked[0])
    @rule(
        address=st.sampled_from(ADDRESSES),
        name=st.sampled_from(NAMES),
        birth_date=st.sampled_from(BIRTH_DATES),
    )
    def jlis_sends_latest_information(self, address: str, name: str, birth_date: date) -> None:
        """R2, R10-R12: applied only when the rules allow, and only the consented items."""
        serial = self.linked[0]
        occurred_at = self.now() - timedelta(minutes=1)
        seq = next(self.serials)  # J-LIS's one sequence for the holder's events
        new_serial, new_not_after = f"9{seq:08d}", self.now() + timedelta(days=5 * 365)
        sent = {"address": address, "name": name, "birth_date": birth_date}
        JlisEvent.objects.create(
            event_id=f"li{seq}", kind=EventKind.LATEST_INFO, holder_seq=seq, serial=serial,
            occurred_at=occurred_at, received_at=self.now(),
            payload={"old_serial": serial, "new_serial": new_serial, "not_after": new_not_after.isoformat(),
                     **{k: v.isoformat() if isinstance(v, date) else v for k, v in sent.items()}},
        )  # fmt: skip
        why = self.why_not_applied(occurred_at)
        event(f"latest information: {why or 'applied'}")
        self.current = (new_serial, new_not_after)  # the holder's new certificate, applied or not
        result = events_apply_pending(at=self.now())
        assert (result.applied, dict(result.skipped_by_reason), result.waiting) == (
            (1, {}, 0) if not why else (0, {why: 1}, 0)
        )
        if not why:
            consent = self.governing()
            assert consent is not None
            for item in consent.items:
                self.values[item] = sent[item]
            self.linked, self.seq = (new_serial, new_not_after), seq

    # --- what must hold after every step ------------------------------------------------------
    @invariant()
    def statuses_are_the_models_and_final_ones_never_change(self) -> None:
        stored = dict(Consent.objects.filter(record=self.record).values_list("pk", "status"))
        assert stored == {c.pk: c.status for c in self.consents}
        for consent in self.consents:
            finals = [i for i, s in enumerate(consent.history) if s in FINAL]
            assert not finals or finals[0] == len(consent.history) - 1  # nothing after a final status

    @invariant()
    def at_most_one_consent_is_active(self) -> None:
        assert Consent.objects.filter(record=self.record, status=ConsentStatus.ACTIVE).count() <= 1

    @invariant()
    def each_reflected_consent_has_the_period_of_its_consent_date(self) -> None:
        for consent_date, first_day, last_day in Consent.objects.filter(
            record=self.record, consent_date__isnull=False
        ).values_list("consent_date", "first_day", "last_valid_day"):
            assert (first_day, last_day) == (consent_date + timedelta(days=1), last_valid_day(consent_date))

    @invariant()
    def the_record_holds_only_what_was_allowed(self) -> None:
        record = DriverRecord.objects.get(pk=self.record.pk)
        assert {"name": record.name, "address": record.address, "birth_date": record.birth_date} == self.values
        assert (record.cert_serial, record.jlis_seq) == (self.linked[0], self.seq)


def test_the_consent_lifecycle_keeps_the_rules_through_any_sequence_of_events(
    clerk, supervisor, terms, jpki_hierarchy, jpki_card_key, jpki_crl
):
    ConsentLifecycle.people = {
        "clerk": clerk, "supervisor": supervisor, "hierarchy": jpki_hierarchy, "card_key": jpki_card_key,
    }  # fmt: skip
    run_state_machine_as_test(
        ConsentLifecycle,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
