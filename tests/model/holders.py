"""A reference model of holders, their consents and J-LIS's events, written from the rules alone
(/work/shared/DOMAIN.md R1-R17 and the terms of use). It imports nothing of the application: no
applier, no decision function, no service, no period function. It is small and slow on purpose.

Given the counter's acts (registrations, revocations, holding-status changes, suspensions, the daily
expiry) and the J-LIS events as they are delivered (late, out of order, twice), it says what each
record, consent and event must be, and the feed state of each record.

The rules, as the model reads them
- R1/R12: only マイナ免許証のみ / マイナ経歴証明書のみ holders register; latest information for a
  holder who is not card-only is skipped (`not_eligible`). Leaving the card-only statuses stops the
  feed for every consent registered before (`feed_stopped_holding_status`), even if the status
  comes back ("Our choice" in DOMAIN.md): a new registration (counter or Mynaportal) starts it.
- R2: only the items the governing consent names are applied (an item J-LIS sends that the consent
  does not name is dropped). And only what a consent may cover is stored: latest information is
  kept, when it is received, with the items of the consents in force (active, not past their last
  valid day) or pending of the holder its serial names, together, none when the service is stopped
  for them, and no items at all when its serial names nobody. A serial names a holder who is or
  was linked to it, who has a pending consent signed with it, or whom an event received and not
  yet applied (stored before, or in the same delivery) names it for: latest information its
  new serial (for whoever its serial names), a registration through Mynaportal its serial and
  previous serials (for whoever the first of them naming someone names; its items count as a
  pending consent's), a reflection its serial (for the holder of the consent it reflects).
- R4: the counter of the holder's prefecture of residence, which is the prefecture the record's
  address begins with: it follows every change of address. Mynaportal needs a prior linkage: a
  registration through Mynaportal for a record without it is skipped (`no_mynaportal_link`).
- R5: the consent date is the day J-LIS reflected it; valid from the next day for ten years (民法
  140/143, tests/model/japan.py), up to 23:59:59 JST of the last valid day. An active consent past
  its last valid day governs nothing (`consent_expired`) even before the daily expiry marks it.
- R6: which consent governs: the later J-LIS consent date, then the later J-LIS order (the holder
  sequence of the event that reflected or registered it); never when our row was made. The other
  becomes superseded; a consent reflected after a newer one was reflected is superseded at once.
- R9: a revocation J-LIS reports (Mynaportal or JPKI Mobile) is honoured whatever we hold locally
  (with or without a Mynaportal linkage row); after it nothing is applied under that consent, not
  even information J-LIS sent earlier that reaches us later.
- R10/R13: latest information relinks the record to the new serial. The link only moves forward:
  it is the serial J-LIS named at the highest holder sequence seen for the holder (a reflection
  names the holder's current serial at J-LIS, which is what we link, not the certificate the
  consent was signed with).
- R11: nothing is applied from a certificate past its end of validity (the event occurred after
  the named certificate's not_after: `certificate_expired`), and the feed state says so once the
  linked certificate has expired; a new registration relinks the record.
- R15: a confirmed suspension turns pending and active consents to suspended; the events about the
  holder still waiting are skipped at once (`consent_suspended`), and every later event for the
  holder is skipped (a registration through Mynaportal `service_suspended`; information and
  events about its consents find them suspended, `consent_suspended`, or say why else they
  cannot be applied) and the counter refuses new registrations. Nothing the holder's later events
  carry (name, address, birth date, certificate) is kept.
- Order (DESIGN.md: "an older event never overwrites newer data"): each holder's events are taken
  in holder sequence. The record's data (name, address, birth date) move as one: information older
  than the data already applied is skipped (`stale`). A consent event is never stale: a late
  reflection, rejection or revocation still acts on its consent; only its relink obeys the
  sequence.

Our choices where the rules are silent (each also in docs/rules.md)
- An event we cannot place yet (a serial we have never seen, a consent id we do not know) waits,
  pending, and is tried again at every apply run: its predecessor may still be on its way. A
  registration through Mynaportal naming no serial we know is skipped at once (`unknown_serial`):
  the linkage it needs is made at the counter with the record's linked serial, so no event to come
  can place it.
- A record is found by a serial it is or was linked to (DESIGN.md: "find the record by the linked
  serial"). Latest information that is skipped links nothing: J-LIS's next event about the
  certificate it named cannot be placed and waits (the real applier gives up on it after a grace
  period, `unknown_serial`; the model-based test sets that grace beyond its runs).
- A consent event for a consent already ended changes nothing: `duplicate` when it repeats the
  consent's present state, otherwise `consent_<status>`.
- The reason given for latest information's skip is the first that holds in this order: stale,
  the governing consent (the one the feed state follows, below: none or pending, revoked,
  expired, suspended), not card-only, feed stopped by R12, certificate expired. (Both suspension
  codes read "the service is stopped for this holder".)
- Whether a consent has expired is judged on the Japan date of applying; whether a certificate had
  expired, on the time J-LIS says the event occurred.
- Feed state, first that holds: suspended; no consent at all (`none`); the governing consent is
  the active one, else the latest registered that is neither superseded nor rejected (`pending`,
  `revoked`, `expired`); past its last valid day (`expired`); not card-only or stopped by R12
  (`stopped_holding_status`); the linked certificate expired (`stopped_certificate_expired`);
  otherwise `active`. (The state "waiting for a new certificate" depends on imported CRLs, which the
  model does not follow.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .japan import consent_period, japan_date, prefecture_of

ITEMS = ("name", "address", "birth_date")
CARD_ONLY = frozenset({"licence_card_only", "history_card_only"})
LIVE = frozenset({"pending", "active"})


@dataclass
class Consent:
    key: str  # the test's handle for it (our reference, or J-LIS's id for a Mynaportal consent)
    channel: str
    items: frozenset[str]
    cert_serial: str
    cert_not_after: datetime | None
    order: int  # when we stored it
    epoch: int  # R12: the holder's feed stops counted when it was registered
    status: str = "pending"
    jlis_id: str = ""
    consent_date: date | None = None
    first_day: date | None = None
    last_valid_day: date | None = None
    jlis_order: int = 0  # the holder sequence that reflected or registered it

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints a draw so
        printer.text(repr(self))

    def __repr__(self) -> str:  # what a failing example prints for a drawn consent
        return f"<consent {self.key} {self.channel} {self.status}>"

    def reflect(self, consent_date: date, seq: int) -> None:
        self.consent_date = consent_date
        self.first_day, self.last_valid_day = consent_period(consent_date)
        self.jlis_order = seq

    @property
    def rank(self) -> tuple[date, int]:
        assert self.consent_date is not None
        return (self.consent_date, self.jlis_order)


@dataclass
class Holder:
    key: Any
    name: str
    address: str
    birth_date: date
    holding_status: str
    mynaportal_linked: bool = False
    serial: str = ""  # the linked serial (R13)
    link_seq: int = 0  # the holder sequence the link comes from
    data_seq: int = 0  # the holder sequence of the data applied last
    known_serials: set[str] = field(default_factory=set)
    not_after: dict[str, datetime | None] = field(default_factory=dict)  # serial -> end of validity
    epoch: int = 0  # R12: how many times the holding status left card-only
    suspended: bool = False
    consents: list[Consent] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # situations met (the test names known divergences by them)

    @property
    def prefecture(self) -> str | None:
        return prefecture_of(self.address)

    @property
    def cert_not_after(self) -> datetime | None:
        return self.not_after.get(self.serial)

    def fields(self) -> dict[str, Any]:
        """What the record must hold."""
        return {
            "name": self.name,
            "address": self.address,
            "birth_date": self.birth_date,
            "prefecture": self.prefecture,
            "holding_status": self.holding_status,
            "cert_serial": self.serial,
        }

    def link(self, serial: str, seq: int, not_after: datetime | None) -> None:
        self.known_serials.add(serial)
        if serial not in self.not_after or not_after is not None:
            self.not_after[serial] = not_after
        if seq > self.link_seq:
            self.serial, self.link_seq = serial, seq

    def active(self) -> Consent | None:
        return next((c for c in self.consents if c.status == "active"), None)


@dataclass
class Event:
    """A J-LIS event as delivered (protocol v1): data holds the kind's fields, dates as `date`,
    times as aware `datetime`, and for `consent_registered` the certificate's items and end."""

    id: str
    kind: str
    holder_seq: int
    serial: str
    occurred_at: datetime
    data: dict[str, Any]
    status: str = "pending"
    reason: str = ""  # why it was skipped, or why it waits
    holder: Any = None  # the key of the holder it was found to be about


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Model:
    def __init__(self) -> None:
        self.holders: dict[Any, Holder] = {}
        self.events: dict[str, Event] = {}  # by J-LIS event id, in delivery order
        self._order = 0

    # --- the world on our side --------------------------------------------------------------
    def holder_add(self, key: Any, *, name: str, address: str, birth_date: date, holding_status: str) -> Holder:
        holder = Holder(key, name, address, birth_date, holding_status)
        self.holders[key] = holder
        return holder

    def consent(self, key: str) -> Consent:
        return next(c for h in self.holders.values() for c in h.consents if c.key == key)

    def holder_of(self, consent: Consent) -> Holder:
        return next(h for h in self.holders.values() if consent in h.consents)

    def counter_refusal(self, holder_key: Any, *, office_prefecture: str) -> str | None:
        """Why the counter may not start a consent for the holder (R4, R15, R1), or None. Another
        prefecture's counter is told only that (it learns nothing of the holder's state)."""
        holder = self.holders[holder_key]
        if office_prefecture != holder.prefecture:
            return "wrong_prefecture"
        if holder.suspended:
            return "service_suspended"
        if holder.holding_status not in CARD_ONLY:
            return "not_eligible"
        return None

    def counter_register(
        self,
        holder_key: Any,
        *,
        key: str,
        items: set[str],
        office_prefecture: str,
        cert_serial: str,
        cert_not_after: datetime | None,
    ) -> Consent:
        """R1, R3 (the card is valid: the test signs with a good one), R4, R15."""
        refusal = self.counter_refusal(holder_key, office_prefecture=office_prefecture)
        if refusal:
            raise Refused(refusal)
        holder = self.holders[holder_key]
        consent = Consent(key, "counter", frozenset(items), cert_serial, cert_not_after, self._next(), holder.epoch)
        holder.consents.append(consent)
        return consent

    def counter_sent(self, key: str, jlis_id: str) -> None:
        """The relay gave the submission to J-LIS, which answered with its consent id."""
        self.consent(key).jlis_id = jlis_id

    def counter_revoke(self, key: str, *, office_prefecture: str) -> None:
        """R9 at the counter of residence (R4)."""
        consent = self.consent(key)
        holder = self.holder_of(consent)
        if office_prefecture != holder.prefecture:
            raise Refused("wrong_prefecture")
        if consent.status not in LIVE:
            raise Refused("not_revocable")
        consent.status = "revoked"

    def holding_status_set(self, holder_key: Any, status: str, *, office_prefecture: str) -> None:
        """Recorded by the counter of residence (R4)."""
        holder = self.holders[holder_key]
        if office_prefecture != holder.prefecture:
            raise Refused("wrong_prefecture")
        if holder.holding_status in CARD_ONLY and status not in CARD_ONLY:
            holder.epoch += 1  # R12: stopped until a new registration
        holder.holding_status = status

    def mynaportal_link(self, holder_key: Any, *, office_prefecture: str) -> None:
        """R4, R13: recorded at the counter of residence, with the linked serial."""
        holder = self.holders[holder_key]
        if office_prefecture != holder.prefecture:
            raise Refused("wrong_prefecture")
        if not holder.serial:
            raise Refused("no_linked_certificate")
        holder.mynaportal_linked = True

    def suspend(self, holder_key: Any) -> None:
        """R15, once a second supervisor confirms."""
        holder = self.holders[holder_key]
        holder.suspended = True
        for consent in holder.consents:
            if consent.status in LIVE:
                consent.status = "suspended"
        # Nothing waiting about the holder will be applied: skipped at once (its data is erased).
        serials = holder.known_serials | {c.cert_serial for c in holder.consents}
        ids = {c.jlis_id for c in holder.consents} - {""}
        for event in self.events.values():
            named = {event.serial, *event.data.get("previous_serials", ())}
            if event.status == "pending" and (named & serials or event.data.get("consent_id") in ids):
                event.status, event.reason, event.holder = "skipped", "consent_suspended", holder_key

    def expire_due(self, today: date) -> int:
        """R5: the daily task, on Japan's `today`."""
        due = [
            c
            for h in self.holders.values()
            for c in h.consents
            if c.status == "active" and c.last_valid_day is not None and c.last_valid_day < today
        ]
        for consent in due:
            consent.status = "expired"
        return len(due)

    # --- J-LIS's events ---------------------------------------------------------------------
    def receive(self, delivered: list[Event], at: datetime) -> None:
        """The poller stores each event once (a repeat of an id is the same event), latest
        information with only the items R2 lets it keep when it is received (at `at`)."""
        new: dict[str, Event] = {}
        for event in delivered:
            if event.id not in self.events:
                new.setdefault(event.id, event)
        waiting = [*(e for e in self.events.values() if e.status == "pending"), *new.values()]
        names = self._serials_named(waiting)
        registrations = [e for e in waiting if e.kind == "consent_registered"]
        allowed = {}
        for event in new.values():
            if event.kind == "latest_info":
                holder = names.get(event.serial)
                allowed[event.id] = self._items_kept(holder, names, registrations, japan_date(at))
        for event in new.values():
            if event.id in allowed:
                event.data = {k: v for k, v in event.data.items() if k not in ITEMS or k in allowed[event.id]}
            self.events[event.id] = event

    def _serials_named(self, waiting: list[Event]) -> dict[str, Holder]:
        """serial -> the holder it names when events are received (R2 above)."""
        names: dict[str, Holder] = {}
        for holder in self.holders.values():
            for consent in holder.consents:
                if consent.status == "pending":
                    names.setdefault(consent.cert_serial, holder)
        for holder in self.holders.values():
            names |= dict.fromkeys(holder.known_serials, holder)
        for event in waiting:
            if event.kind == "consent_reflected" and event.serial not in names:
                for holder in self.holders.values():
                    if any(c.jlis_id and c.jlis_id == event.data["consent_id"] for c in holder.consents):
                        names[event.serial] = holder
        grown = True
        while grown:
            grown = False
            for event in waiting:
                if event.kind == "latest_info" and event.serial in names and event.data["new_serial"] not in names:
                    names[event.data["new_serial"]] = names[event.serial]
                    grown = True
                elif event.kind == "consent_registered":
                    serials = [event.serial, *event.data.get("previous_serials", ())]
                    whose = next((names[s] for s in serials if s in names), None)
                    for serial in serials:
                        if whose is not None and serial not in names:
                            names[serial] = whose
                            grown = True
        return names

    def _items_kept(
        self, holder: Holder | None, names: dict[str, Holder], registrations: list[Event], today: date
    ) -> frozenset[str]:
        if holder is None or holder.suspended:
            return frozenset()
        kept: set[str] = set()
        for consent in holder.consents:
            in_force = consent.status == "active" and (
                consent.last_valid_day is None or consent.last_valid_day >= today
            )
            if in_force or consent.status == "pending":
                kept |= consent.items
        for event in registrations:
            serials = [event.serial, *event.data.get("previous_serials", ())]
            if next((names[s] for s in serials if s in names), None) is holder:
                kept |= set(event.data["items"])
        return frozenset(kept)

    def apply(self, at: datetime) -> None:
        """Apply what can be applied, each holder's events in holder sequence, until nothing more
        can be placed (an event placed by one applied before it is applied in the same run)."""
        while True:
            placed: dict[Any, list[tuple[Event, Any]]] = {}
            for event in self.events.values():
                if event.status == "pending":
                    found = self._place(event)
                    if found == "unknown_serial" and event.kind == "consent_registered":
                        event.status, event.reason = "skipped", found  # no linkage without a linked serial
                    elif isinstance(found, str):
                        event.reason = found
                    else:
                        placed.setdefault(found[0].key, []).append((event, found))
            if not placed:
                return
            for events in placed.values():
                first = min(events, key=lambda pair: pair[0].holder_seq)
                _apply_one(self, first[0], first[1], at)

    def stored(self, event: Event) -> None:
        """An event as it already sits in the inbox, past the door (`receive`): for a caller
        whose events were kept by the real poller, or copied in as it would keep them
        (tests/faults/world.py). A repeat of an id is the same event."""
        self.events.setdefault(event.id, event)

    def apply_placed(self, event: Event, holder: Holder, at: datetime) -> None:
        """Apply one event already placed on its holder, for a caller that places events itself
        (tests/faults/world.py indexes serials to fold 100,000 events: `apply` scans every event
        and every holder each round). The caller keeps the model's order: each holder's placed
        events in holder sequence. Only for events that name a serial (not a consent id)."""
        _apply_one(self, event, (holder, None), at)

    def _place(self, event: Event) -> tuple[Holder, Consent | None] | str:
        """The holder (and consent) an event is about, or why it must wait."""
        if event.kind in ("latest_info", "consent_registered"):
            serials = [event.serial, *event.data.get("previous_serials", ())]
            for serial in serials:
                for holder in self.holders.values():
                    if serial in holder.known_serials:
                        return holder, None
            return "unknown_serial"
        for holder in self.holders.values():
            for consent in holder.consents:
                if consent.jlis_id and consent.jlis_id == event.data["consent_id"]:
                    return holder, consent
        return "unknown_consent"

    def _next(self) -> int:
        self._order += 1
        return self._order

    # --- what follows from the state --------------------------------------------------------
    def governing(self, holder: Holder) -> Consent | None:
        """The consent the feed follows: the active one, else the latest registered that is neither
        superseded nor rejected (a revocation after a registration shows as revoked)."""
        active = holder.active()
        if active is not None:
            return active
        deciding = [c for c in holder.consents if c.status not in ("superseded", "rejected")]
        return deciding[-1] if deciding else None

    def feed_state(self, holder_key: Any, now: datetime) -> str:
        holder = self.holders[holder_key]
        if holder.suspended:
            return "suspended"
        consent = self.governing(holder)
        if consent is None:
            return "none"
        if consent.status != "active":
            return consent.status
        assert consent.last_valid_day is not None
        if consent.last_valid_day < japan_date(now):
            return "expired"
        if holder.holding_status not in CARD_ONLY or consent.epoch < holder.epoch:
            return "stopped_holding_status"
        not_after = holder.cert_not_after
        if not_after is not None and not_after < now:
            return "stopped_certificate_expired"
        return "active"

    def information_skip(self, holder: Holder, event: Event, today: date) -> str:
        """Why latest information is not applied ("" when it is), first reason first."""
        if event.holder_seq <= holder.data_seq:
            return "stale"
        consent = self.governing(holder)
        if consent is None or consent.status == "pending":
            return "no_active_consent"
        if consent.status != "active":
            return f"consent_{consent.status}"
        assert consent.last_valid_day is not None
        if consent.last_valid_day < today:
            return "consent_expired"
        if holder.holding_status not in CARD_ONLY:
            return "not_eligible"
        if consent.epoch < holder.epoch:
            return "feed_stopped_holding_status"
        not_after = holder.not_after.get(event.serial)
        if not_after is not None and not_after < event.occurred_at:
            return "certificate_expired"
        return ""


def _apply_one(self: Model, event: Event, placed: tuple[Holder, Consent | None], at: datetime) -> None:
    """Apply one placed event (it is the holder's lowest pending sequence)."""
    holder, consent = placed
    kind, data = event.kind, event.data
    event.holder = holder.key

    def done(reason: str = "") -> None:
        event.status, event.reason = ("skipped", reason) if reason else ("applied", "")

    if kind == "latest_info":
        reason = self.information_skip(holder, event, japan_date(at))
        if reason:
            return done(reason)
        governing = holder.active()
        assert governing is not None
        for item in ITEMS:
            if item in governing.items and item in data:
                setattr(holder, item, data[item])
        holder.data_seq = event.holder_seq
        holder.link(data["new_serial"], event.holder_seq, data["not_after"])
        return done()

    if kind == "consent_registered":
        if holder.suspended:
            return done("service_suspended")
        if any(c.jlis_id == data["consent_id"] for c in holder.consents):
            return done("duplicate")
        if holder.holding_status not in CARD_ONLY:
            return done("not_eligible")
        if not holder.mynaportal_linked:
            return done("no_mynaportal_link")
        certificate = data["certificate"]
        new = Consent(
            data["consent_id"], "mynaportal", frozenset(data["items"]), event.serial, certificate["not_after"],
            self._next(), holder.epoch, jlis_id=data["consent_id"],
        )  # fmt: skip
        holder.consents.append(new)
        _take_effect(holder, new, data["consent_date"], event.holder_seq)
        if event.holder_seq > holder.data_seq:  # R11: the certificate's data, at once
            for item in ITEMS:
                if item in new.items:
                    setattr(holder, item, certificate[item])
            holder.data_seq = event.holder_seq
        else:
            holder.seen.add("registration older than the data")
        holder.link(event.serial, event.holder_seq, certificate["not_after"])
        return done()

    assert consent is not None
    if consent.status == "suspended":
        return done("consent_suspended")
    if kind == "consent_reflected":
        if consent.status == "active" and consent.consent_date == data["consent_date"]:
            return done("duplicate")
        if consent.status != "pending":
            return done(f"consent_{consent.status}")
        _take_effect(holder, consent, data["consent_date"], event.holder_seq)
        not_after = consent.cert_not_after if event.serial == consent.cert_serial else None
        holder.link(event.serial, event.holder_seq, not_after)
        return done()
    if kind == "consent_rejected":
        if consent.status == "rejected":
            return done("duplicate")
        if consent.status != "pending":
            return done(f"consent_{consent.status}")
        consent.status = "rejected"
        return done()
    if kind == "consent_revoked":
        if consent.status == "revoked":
            return done("duplicate")
        if consent.status not in LIVE:
            return done(f"consent_{consent.status}")
        consent.status = "revoked"
        return done()
    raise ValueError(f"unknown event kind {kind}")


def _take_effect(holder: Holder, consent: Consent, consent_date: date, seq: int) -> None:
    """R5, R6: reflected on J-LIS's day; the later (consent date, J-LIS order) governs."""
    consent.reflect(consent_date, seq)
    newer = [c for c in holder.consents if c is not consent and c.consent_date is not None and c.rank > consent.rank]
    if newer:
        consent.status = "superseded"
        return
    for other in holder.consents:
        if other.status == "active":
            other.status = "superseded"
    consent.status = "active"
