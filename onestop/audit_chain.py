"""The chainer: links committed audit rows into the hash chain, one chainer at a time.

Writers append audit rows in their own transactions and take no shared lock (onestop/audit.py).
The chainer then gives each committed, unlinked row the next `seq` and its hash, in the order it
finds them (by id among the rows committed so far), in an append-only table of links
(AuditLink), and moves the chain's head: all in one transaction per batch, so a chainer killed
mid-batch leaves nothing half-linked and the next one starts from the same head. Holding the
head's row lock (taken with SKIP LOCKED, so a second chainer leaves at once instead of queueing)
is what makes it the one chainer. docs/security.md, "The chain", argues the design.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from .audit import _canonical, _utc_text
from .models import AuditChainHead, AuditEvent, AuditLink, AuditPending

# The content columns the hash covers, read back from the database: the chainer hashes exactly
# what audit_verify will read.
_CONTENT = (
    "id", "occurred_at", "actor_id", "actor_label", "office_id", "action", "subject_type", "subject_id",
    "record_number", "serial", "old_values", "new_values", "request_id",
)  # fmt: skip


def audit_chain_link(*, batch_size: int = 5000, max_rows: int = 200_000) -> int:
    """Link the committed rows waiting for it, a batch per transaction, until none is left (or
    `max_rows`: the next run goes on). 0 at once when another chainer holds the head."""
    linked = 0
    while linked < max_rows:
        with transaction.atomic():
            head = _head_claim()
            if head is None:
                return linked
            done = _link_batch(head, batch_size)
        linked += done
        if done < batch_size:
            break
    return linked


class QueueWindow:
    """When a process queues the chainer: at once for the first audited commit of a window of
    AUDIT_CHAIN_QUEUE_SECONDS, and once more for the window's end if more commits come within it.
    Every commit is so followed by a run that starts after it, and a process sends at most two
    messages a window, however many pages it serves (each run claims the chain's head)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._ends_at = 0.0
            self._end_queued = False

    def countdown(self, now: float, seconds: float) -> float | None:
        """0 to queue a run now, the seconds to the window's end to queue one then, None for none."""
        with self._lock:
            if now >= self._ends_at:
                self._ends_at, self._end_queued = now + seconds, False
                return 0.0
            if self._end_queued:
                return None
            self._end_queued = True
            return self._ends_at - now


QUEUE_WINDOW = QueueWindow()


def audit_chain_link_soon() -> None:
    """After an audited commit: have the chainer run (QueueWindow says when). If the broker is
    down, beat's sweep links the rows within AUDIT_CHAIN_SWEEP_SECONDS of its return."""
    from .tasks import audit_chain_link_task  # the tasks import this module

    countdown = QUEUE_WINDOW.countdown(time.monotonic(), settings.AUDIT_CHAIN_QUEUE_SECONDS)
    if countdown is not None:
        audit_chain_link_task.apply_async(countdown=countdown or None)


def _head_claim() -> AuditChainHead | None:
    """The head, locked to the end of the transaction, or None when another chainer holds it.
    The first run on an empty chain makes the genesis head (its trigger allows only that)."""
    heads = AuditChainHead.objects.select_for_update(skip_locked=True).filter(pk=1)
    head = heads.first()
    if head is None and not AuditChainHead.objects.filter(pk=1).exists():
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(pk=1)
        except IntegrityError:  # another chainer made it first
            pass
        head = heads.first()
    return head


def _link_batch(head: AuditChainHead, batch_size: int) -> int:
    """Link up to `batch_size` waiting rows after `head` and move the head past them."""
    waiting = AuditEvent._base_manager.order_by("id")  # the base manager: no link to read
    if connection.vendor == "postgresql":  # the first rows of the list, by its primary key
        waiting = waiting.filter(pk__in=AuditPending.objects.order_by("event_id").values("event_id")[:batch_size])
    else:  # SQLite links in the writer's transaction: the unlinked rows are only this one's
        waiting = waiting.filter(link__isnull=True)[:batch_size]
    rows = list(waiting.values_list(*_CONTENT))
    if not rows:
        return 0
    links = list(_links(rows, head.last_seq, head.last_hash))
    _links_write(links)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM onestop_auditpending WHERE event_id = ANY(%s)", [[r[0] for r in rows]])
    last_seq, _event_id, _prev, last_hash = links[-1]
    AuditChainHead.objects.filter(pk=head.pk).update(last_seq=last_seq, last_hash=last_hash)
    return len(links)


def _links(rows: Sequence[tuple[Any, ...]], seq: int, prev_hash: str) -> list[tuple[int, int, str, str]]:
    """(seq, event id, prev_hash, row_hash) for each row, after the link (seq, prev_hash)."""
    links = []
    for event_id, occurred_at, actor, label, office, action, kind, subject, number, serial, old, new, request in rows:
        seq += 1
        canonical = _canonical(
            seq, _utc_text(occurred_at), actor, label, office, action, kind, subject, number, serial, old, new,
            request, prev_hash,
        )  # fmt: skip
        row_hash = hashlib.sha256(canonical).hexdigest()
        links.append((seq, event_id, prev_hash, row_hash))
        prev_hash = row_hash
    return links


def _links_write(links: list[tuple[int, int, str, str]]) -> None:
    if connection.vendor != "postgresql":
        AuditLink.objects.bulk_create([AuditLink(seq=s, event_id=e, prev_hash=p, row_hash=r) for s, e, p, r in links])
        return
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy("COPY onestop_auditlink (seq, event_id, prev_hash, row_hash) FROM STDIN") as copy,
    ):
        for link in links:
            copy.write_row(link)
