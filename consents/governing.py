"""Which of a record's consents governs it (R6): the one definition that the applier, the feed
state, the holder page and the API all read.

- Taking effect. Of the consents J-LIS has dated, the later consent date governs, then the later
  in J-LIS's order (`jlis_seq`: the holder sequence of the event that reflected or registered
  it). When our row was made never counts: a consent given through Mynaportal yesterday can
  reach us after today's counter consent was reflected. A consent that another one outranks when
  it takes effect is superseded at once; on equal rank the one taking effect now wins.
- Governing now. The active consent (at most one per record, a unique index). When none is
  active, the latest one we registered that is neither superseded, rejected nor withdrawn: it says why
  nothing governs (pending, revoked, expired, suspended). Every other consent of the record is
  looked at, however many there are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Case, F, JSONField, Q, QuerySet, Value, When, prefetch_related_objects
from django.db.models.expressions import RawSQL

from onestop.sql_params import fetch_rows, json_values

from .models import Consent, ConsentStatus

# A withdrawn consent never took effect (withdrawn before J-LIS reflected it, services/withdrawal.py).
NEVER_GOVERN = (ConsentStatus.SUPERSEDED, ConsentStatus.REJECTED, ConsentStatus.WITHDRAWN)
# The active consent first, then the latest registered (the id is the order we stored them in).
GOVERNING_ORDER = (Case(When(status=ConsentStatus.ACTIVE, then=Value(0)), default=Value(1)).asc(), F("id").desc())


def consent_rank(consent: Consent) -> tuple[date, int]:
    """Where a consent J-LIS has dated stands in R6's order: (consent date, J-LIS's order)."""
    assert consent.consent_date is not None, "only a consent J-LIS has dated has a rank"
    return consent.consent_date, consent.jlis_seq


def consent_outranking(consent: Consent) -> Consent | None:
    """The consent of the same record that J-LIS dated after this one (the highest-ranked, of
    any status), or None when this one may govern. Rows are locked: the caller holds the record."""
    day, seq = consent_rank(consent)
    return (
        Consent.objects.select_for_update()
        .filter(record_id=consent.record_id, consent_date__isnull=False)
        .filter(Q(consent_date__gt=day) | Q(consent_date=day, jlis_seq__gt=seq))
        .exclude(pk=consent.pk)
        .order_by("-consent_date", "-jlis_seq", "-id")
        .first()
    )


def consents_governing_first(consents: QuerySet[Consent]) -> QuerySet[Consent]:
    """These consents less those that never govern, the governing one of each record first."""
    return consents.exclude(status__in=NEVER_GOVERN).order_by(*GOVERNING_ORDER)


# The governing consent a record was loaded with (record_with_consents), as a list of 0 or 1.
GOVERNING = "governing_consent_list"
# All the record's consents, newest first, when it was loaded with them (record_with_consents).
CONSENTS = "consents_newest_first"
# What the holder page and the consent status show of a consent besides its own fields, joined
# in the read. The terms' text is the terms in full, never shown with a consent (only its version).
_SHOWN_WITH = ("terms_version", "office")
# Never shown with a consent, and the bulk of its row: the signed statement, the signature, the
# certificate (DER) and the verification evidence (a copy of the certificate's contents) are for
# the receipt's and the auditor's own reads, not the governing consent's or the holder page's.
_NOT_SHOWN = ("terms_version__text", "statement_bytes", "signature", "certificate", "verification")


def _governing_read(record_id: int) -> Consent | None:
    consents = Consent.objects.filter(record_id=record_id).select_related(*_SHOWN_WITH)
    return consents_governing_first(consents.defer(*_NOT_SHOWN)).first()


def _consents_read(record_id: int) -> tuple[Consent | None, list[Consent]]:
    """The record's governing consent and all its consents, newest first, in one query. The
    governing one is the first in GOVERNING_ORDER that may govern: the order is the database's,
    as consents_governing_first gives it, and leaving out the others afterwards keeps it."""
    rows = list(
        Consent.objects.filter(record_id=record_id)
        .select_related(*_SHOWN_WITH)
        .defer(*_NOT_SHOWN)
        .order_by(*GOVERNING_ORDER)
    )
    # The consent that superseded one is of the same record (R6), so among these rows; who
    # withdrew one is read only when one was withdrawn (joining both costs the ORM more than the
    # rest of the read).
    by_id = {c.pk: c for c in rows}
    for consent in rows:
        if consent.superseded_by_id in by_id:
            consent.superseded_by = by_id[consent.superseded_by_id]
    prefetch_related_objects([c for c in rows if c.withdrawn_by_id], "withdrawn_by")
    governing = next((c for c in rows if c.status not in NEVER_GOVERN), None)
    return governing, sorted(rows, key=lambda c: c.pk, reverse=True)


def record_with_consents(record: Any) -> Any:
    """The record with every consent of it read once, along (the holder page's feed, eligibility
    and consent sections ask for the governing one, and list those waiting, refused and past: one
    plain query; a sliced prefetch would cost the ORM three times as long to write)."""
    governing, consents = _consents_read(record.pk)
    setattr(record, GOVERNING, [governing] if governing is not None else [])
    setattr(record, CONSENTS, consents)
    return record


def record_consents(record: Any) -> tuple[Consent | None, list[Consent]]:
    """The governing consent and every consent of the record, newest first: those it was loaded
    with (record_with_consents), else read now, and not kept on the record."""
    loaded = getattr(record, CONSENTS, None)
    if loaded is None:
        return _consents_read(record.pk)
    return governing_consent(record), loaded


def governing_consent(record: Any) -> Consent | None:
    """The consent that governs the record now: the one it was loaded with (record_with_consents),
    else read from the database."""
    loaded = getattr(record, GOVERNING, None)
    if loaded is not None:
        return loaded[0] if loaded else None
    return _governing_read(record.pk)


def _is_json(field: str) -> bool:
    return isinstance(Consent._meta.get_field(field), JSONField)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def governing_consents(record_ids: Iterable[int], *fields: str) -> dict[int, tuple[Any, ...]]:
    """For many records at once (the applier's batch), the `fields` of each record's governing
    consent, by record id; a record with none is left out. One query."""
    ids = set(record_ids)
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        # The ids as one JSON parameter (an IN list of a thousand placeholders costs more to send
        # and plan), and DISTINCT ON keeps each record's first row in GOVERNING_ORDER.
        keys = RawSQL("SELECT json_array_elements_text(%s::json)::bigint", [json_values(ids)])
        query = (
            consents_governing_first(Consent.objects.filter(record_id__in=keys))
            .order_by("record_id", *GOVERNING_ORDER)
            .distinct("record_id")
            .values_list("record_id", *fields)
        )
        # The ORM writes the statement; psycopg's C loaders read its rows (Django's converters,
        # run value by value, cost three times the query for a batch's thousand rows).
        decode = [_is_json(field) for field in fields]
        return {
            row[0]: tuple(_json(v) if d else v for v, d in zip(row[1:], decode, strict=True))
            for row in fetch_rows(*query.query.sql_with_params())
        }
    chosen: dict[int, tuple[Any, ...]] = {}
    rows = consents_governing_first(Consent.objects.filter(record_id__in=ids)).values_list("record_id", *fields)
    for row in rows:
        chosen.setdefault(row[0], row[1:])
    return chosen
