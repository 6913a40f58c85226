"""Writing to the audit trail, always inside the transaction of the change it records, and
checking its hash chain (which onestop/audit_chain.py makes after the commit)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from .audit_actions import AuditAction
from .audit_signing import Checkpoint
from .idempotency import idempotent_answer_holders_note
from .models import AuditChainHead, AuditEvent, AuditLink, AuditPending, Office, User
from .request_context import request_id_var

GENESIS_HASH = "0" * 64
# Fields whose values the audit trail keeps masked: the change history holds them for the
# roles that need them, and the trail proves that they changed, when and by whom.
PERSONAL_FIELDS = frozenset({"name", "address", "birth_date", "sex", "certificate", "statement"})


def mask_personal(field_name: str, value: Any) -> Any:
    return "***" if field_name in PERSONAL_FIELDS and value not in ("", None) else value


@dataclass(frozen=True)
class AuditEntry:
    action: AuditAction
    subject_type: str
    subject_id: str
    actor: User | None = None
    actor_label: str = ""
    office: Office | None = None
    record_number: str = ""
    serial: str = ""
    old_values: Mapping[str, Any] = field(default_factory=dict)
    new_values: Mapping[str, Any] = field(default_factory=dict)


def canonical_form(event: AuditEvent) -> bytes:
    """The bytes a linked row's hash covers: sorted-key JSON, UTC times, no whitespace. The link
    (`seq`, `prev_hash`) is the row's AuditLink, which the manager reads with it."""
    if event.seq is None or event.prev_hash is None:
        raise ValueError("an audit row has no hash before the chainer links it")
    return _canonical(
        event.seq, _utc_text(event.occurred_at), event.actor_id, event.actor_label, event.office_id, event.action,
        event.subject_type, event.subject_id, event.record_number, event.serial, event.old_values,
        event.new_values, event.request_id, event.prev_hash,
    )  # fmt: skip


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical(
    seq: int, occurred_at: str, actor_id: int | None, actor_label: str, office_id: int | None, action: str,
    subject_type: str, subject_id: str, record_number: str, serial: str, old_values: Any, new_values: Any,
    request_id: str, prev_hash: str,
) -> bytes:  # fmt: skip
    body = {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "office_id": office_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "record_number": record_number,
        "serial": serial,
        "old_values": old_values,
        "new_values": new_values,
        "request_id": request_id,
        "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_form(event)).hexdigest()


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so the hash covers exactly what the database will return; a flat
    # dict of strings, numbers and None comes back unchanged, so it skips the round trip.
    if all(type(k) is str and (v is None or type(v) in _PLAIN) for k, v in values.items()):
        return dict(values)
    plain: dict[str, Any] = json.loads(json.dumps(dict(values), default=str, ensure_ascii=False))
    return plain


_PLAIN = (str, int, bool)


def _office_id(entry: AuditEntry) -> int | None:
    """The entry's office, else its actor's (by id: no query)."""
    return entry.office.pk if entry.office is not None else getattr(entry.actor, "office_id", None)


def _values(entries: Iterable[AuditEntry]) -> Iterator[tuple[AuditEntry, dict[str, Any]]]:
    """Each entry's column values, for audit_log_many and audit_batch_make alike. No link: the
    chainer (onestop/audit_chain.py) gives the row its seq and hashes once it has committed."""
    now = timezone.now()
    request_id = request_id_var.get()
    for entry in entries:
        yield (
            entry,
            {
                "occurred_at": now,
                "actor_id": entry.actor.pk if entry.actor else None,
                "actor_label": entry.actor_label or (entry.actor.get_username() if entry.actor else "system"),
                "office_id": _office_id(entry),
                "action": AuditAction(entry.action).value,  # an unlisted code fails here, before the write
                "subject_type": entry.subject_type,
                "subject_id": str(entry.subject_id),
                "record_number": entry.record_number,
                "serial": entry.serial,
                "old_values": _jsonable(entry.old_values),
                "new_values": _jsonable(entry.new_values),
                "request_id": request_id,
            },
        )


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be written inside the transaction of their change")


def audit_log_many(entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """Append entries to the trail. Must run inside the caller's transaction; takes no lock that
    another writer waits for (the chainer links the rows after the commit)."""
    entries = list(entries)
    if not entries:
        return []
    _in_transaction()
    rows: list[AuditEvent] = []
    for entry, values in _values(entries):
        row = AuditEvent(**values)
        row.actor = entry.actor  # the caller's instance, not a query if it is read
        rows.append(row)
    AuditEvent.objects.bulk_create(rows)
    _written()
    # Every read or change of a holder's data is audited: so the answer to an idempotent POST
    # learns here which holders it is about (R15 erases it with them).
    idempotent_answer_holders_note(row.record_number for row in rows)
    return rows


def _written() -> None:
    """Rows were appended in this transaction: have them linked. PostgreSQL: the chainer, queued
    when the transaction commits (beat's sweep links them if the broker is down). SQLite (the
    embedded default, one writer at a time anyway): linked at once, in this transaction."""
    from .audit_chain import audit_chain_link, audit_chain_link_soon

    if connection.vendor == "postgresql":
        transaction.on_commit(audit_chain_link_soon, robust=True)
    else:
        audit_chain_link()


@dataclass
class AuditBatch:
    """Audit rows made in memory, for audit_batch_write to COPY."""

    rows: list[tuple[Any, ...]]


# The columns audit_batch_write COPYs, in the order of audit_batch_make's rows.
_COLUMNS = (
    "occurred_at", "actor_id", "actor_label", "office_id", "action", "subject_type", "subject_id",
    "record_number", "serial", "old_values", "new_values", "request_id",
)  # fmt: skip


def audit_batch_make(entries: Iterable[AuditEntry]) -> AuditBatch:
    """The rows audit_log_many would write, with no database work: a writer can make them while
    PostgreSQL runs its other statements."""
    rows = []
    for _entry, values in _values(entries):
        values["old_values"] = json.dumps(values["old_values"], ensure_ascii=False)
        values["new_values"] = json.dumps(values["new_values"], ensure_ascii=False)
        rows.append(tuple(values[column] for column in _COLUMNS))
    return AuditBatch(rows)


def audit_batch_write(batch: AuditBatch) -> None:
    """Append the batch's rows (PostgreSQL: COPY) inside the caller's transaction."""
    if not batch.rows:
        return
    _in_transaction()
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY onestop_auditevent ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in batch.rows:
            copy.write_row(row)
    _written()


def audit_log_bulk(entries: Iterable[AuditEntry]) -> int:
    """audit_log_many for writers of thousands of rows: the same rows, streamed with COPY on
    PostgreSQL and not returned. Must run inside the transaction."""
    entries = list(entries)
    if not entries or connection.vendor != "postgresql":
        return len(audit_log_many(entries))
    audit_batch_write(audit_batch_make(entries))
    return len(entries)


def audit_log(entry: AuditEntry) -> AuditEvent:
    return audit_log_many([entry])[0]


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_chain_verify(*, checkpoints: Sequence[Checkpoint] = (), batch_size: int = 5000) -> ChainBreak | None:
    """The first row that does not hold, or None when the chain is whole: each row's hash and
    link, each checkpoint's hash at its row, a chain that reaches every checkpoint, and a head
    on the last row. Read in one snapshot (PostgreSQL), so writers may go on meanwhile."""
    anchored: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        anchored.setdefault(checkpoint.seq, []).append(checkpoint)
    with consistent_read():
        rows = AuditEvent.objects.filter(link__isnull=False).order_by("link__seq").iterator(chunk_size=batch_size)
        broken, last_seq, last_hash = _walk(rows, after_seq=0, after_hash=GENESIS_HASH, anchored=anchored)
        head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    if broken is not None:
        return broken
    if checkpoints and (furthest := max(checkpoints, key=lambda c: c.seq)).seq > last_seq:
        return ChainBreak(
            last_seq + 1, f"missing: the checkpoint signed at {furthest.at} covers the chain up to seq={furthest.seq}"
        )
    return _head_break(head or (0, GENESIS_HASH), last_seq, last_hash)


def audit_chain_verify_since(
    *, after_seq: int, after_hash: str, head: tuple[int, str], batch_size: int = 5000
) -> ChainBreak | None:
    """audit_chain_verify for the rows after a checkpoint (`after_seq` had `after_hash`) up to
    `head`, read by the caller in the same snapshot: what a new checkpoint adds to the last."""
    if head[0] < after_seq:
        return ChainBreak(head[0] + 1, f"missing: the last checkpoint covers the chain up to seq={after_seq}")
    if after_seq and not AuditLink.objects.filter(seq=after_seq, row_hash=after_hash).exists():
        return ChainBreak(after_seq, "does not match the last checkpoint")
    rows = AuditEvent.objects.filter(link__seq__gt=after_seq, link__seq__lte=head[0]).order_by("link__seq")
    broken, last_seq, last_hash = _walk(
        rows.iterator(chunk_size=batch_size), after_seq=after_seq, after_hash=after_hash, anchored={}
    )
    return broken or _head_break(head, last_seq, last_hash)


def _walk(
    rows: Iterable[AuditEvent], *, after_seq: int, after_hash: str, anchored: Mapping[int, list[Checkpoint]]
) -> tuple[ChainBreak | None, int, str]:
    """Follow the chain from the row after `after_seq`: the first break, and the last row reached."""
    prev_hash, expected_seq = after_hash, after_seq + 1
    matched = after_seq  # the last row a checkpoint vouches for
    for row in rows:
        if row.seq != expected_seq:
            return ChainBreak(expected_seq, "missing row"), expected_seq - 1, prev_hash
        if row.prev_hash != prev_hash:
            return ChainBreak(row.seq, "link to the previous row does not match"), expected_seq - 1, prev_hash
        if compute_hash(row) != row.row_hash:
            return ChainBreak(row.seq, "content does not match its hash"), expected_seq - 1, prev_hash
        for checkpoint in anchored.get(row.seq, ()):
            if checkpoint.hash != row.row_hash:
                reason = (
                    f"does not match the checkpoint signed at {checkpoint.at}: a row from seq={matched + 1} "
                    f"to seq={row.seq} was changed and the chain after it rehashed"
                )
                return ChainBreak(row.seq, reason), expected_seq - 1, prev_hash
        if row.seq in anchored:
            matched = row.seq
        prev_hash, expected_seq = row.row_hash, expected_seq + 1
    return None, expected_seq - 1, prev_hash


def _head_break(head: tuple[int, str], last_seq: int, last_hash: str) -> ChainBreak | None:
    head_seq, head_hash = head
    if head_seq > last_seq:
        return ChainBreak(last_seq + 1, f"missing: the chain head says the chain goes on to seq={head_seq}")
    if head_seq < last_seq:
        reason = f"the chain head was moved back to seq={head_seq}; the chain ends at seq={last_seq}"
        return ChainBreak(head_seq + 1, reason)
    if head_hash != last_hash:
        return ChainBreak(last_seq, "the chain head's hash does not match this row's")
    return None


@dataclass(frozen=True)
class Unlinked:
    """Rows committed but not linked into the chain after `older_than`: a finding (the chainer is
    behind or stopped, or a row was kept from it), not a break of the chain."""

    count: int
    oldest: datetime | None
    older_than: timedelta


def audit_unlinked(*, older_than: timedelta | None = None, thorough: bool = False) -> Unlinked:
    """The rows written more than `older_than` ago (default AUDIT_UNLINKED_FINDING_SECONDS) that
    have no link. `thorough` looks at the whole trail (audit_verify reads it all anyway); else,
    on PostgreSQL, only at the rows waiting for the chainer, which is cheap."""
    if older_than is None:
        older_than = timedelta(seconds=settings.AUDIT_UNLINKED_FINDING_SECONDS)
    rows = AuditEvent._base_manager.filter(occurred_at__lt=timezone.now() - older_than)
    if thorough or connection.vendor != "postgresql":
        rows = rows.filter(link__isnull=True)
    else:
        rows = rows.filter(pk__in=AuditPending.objects.values("event_id"))
    found = rows.aggregate(count=Count("pk"), oldest=Min("occurred_at"))
    return Unlinked(found["count"], found["oldest"], older_than)


@contextmanager
def consistent_read(*, durable: bool = False) -> Iterator[None]:
    """A transaction whose reads all see one snapshot (PostgreSQL: REPEATABLE READ, read only)."""
    with transaction.atomic(durable=durable):
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
