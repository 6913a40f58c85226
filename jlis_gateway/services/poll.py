"""Polling J-LIS's event feed: store each event once, never move the cursor past one unkept,
and keep of each only what may be kept (the door, door.py).

Protocol and guarantees: docs/jlis-protocol.md ("What the gateway does with a page").
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from onestop.clock import japan_date

from ..client import Event, EventPage, JlisClient, JlisError
from ..client.events import body_hash
from ..models import EventStatus, JlisEvent, PollState, QuarantinedEvent
from .door import events_at_the_door

logger = logging.getLogger(__name__)

FEED = "events"
REDIS_LOCK_KEY = "onestop:jlis:poll"


class PollLost(Exception):
    """Another poll took over (our lease ran out): this one must not move the cursor."""


@dataclass
class PollResult:
    status: str  # done | busy | failed | lost
    pages: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    has_more: bool = False
    error: str = ""


def events_poll(*, client: JlisClient | None = None, max_pages: int | None = None) -> PollResult:
    """One poll: claim the feed, read pages after the cursor until J-LIS has no more.

    Network calls happen outside transactions; each page is kept in its own transaction
    together with the cursor that passes it. Must not run inside a transaction.
    """
    client = client or JlisClient.from_settings()
    max_pages = max_pages or settings.JLIS_POLL_MAX_PAGES
    with _redis_lock() as lock:
        if lock is False:
            return PollResult("busy")
        token = _claim()
        if token is None:
            return PollResult("busy")
        try:
            result = _read_pages(client, token, max_pages, lock)
        finally:
            PollState.objects.filter(name=FEED, claim_token=token).update(claim_token="", claimed_until=None)
    logger.info(
        "jlis poll %s: pages=%d stored=%d duplicates=%d quarantined=%d more=%s",
        result.status,
        result.pages,
        result.stored,
        result.duplicates,
        result.quarantined,
        result.has_more,
    )
    return result


def _lease() -> timedelta:
    return timedelta(seconds=settings.JLIS_POLL_LEASE_SECONDS)


def _claim() -> str | None:
    """Take the feed with a conditional UPDATE; the database decides who polls."""
    PollState.objects.get_or_create(name=FEED)
    token, now = secrets.token_hex(16), timezone.now()
    claimed = (
        PollState.objects.filter(name=FEED)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + _lease(), last_attempt_at=now)
    )
    return token if claimed == 1 else None


@contextmanager
def _redis_lock() -> Iterator[Any]:
    """A cheap first gate when Redis is there: a second poll gives up without a database write.

    Yields the lock, False when another poll holds it, or None without Redis (the database
    claim alone then decides, as it always does in the end).
    """
    if not settings.REDIS_URL:
        yield None
        return
    try:
        lock = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).lock(
            REDIS_LOCK_KEY, timeout=settings.JLIS_POLL_LEASE_SECONDS, blocking=False
        )
        acquired = lock.acquire()
    except redis.RedisError as exc:
        logger.warning("jlis poll: Redis lock unavailable (%s); the database claim decides", type(exc).__name__)
        yield None
        return
    if not acquired:
        yield False
        return
    try:
        yield lock
    finally:
        with suppress(redis.RedisError):  # expired or Redis gone: the lease ends by itself
            lock.release()


def _read_pages(client: JlisClient, token: str, max_pages: int, lock: Any) -> PollResult:
    result = PollResult("done")
    cursor = PollState.objects.values_list("cursor", flat=True).get(name=FEED)
    while True:
        if not connection.in_atomic_block:  # (a test's outer transaction must survive)
            close_old_connections()  # a long poll must not keep a connection the server dropped
        try:
            page = client.events_page(after=cursor, limit=settings.JLIS_PAGE_SIZE)
        except JlisError as exc:
            result.status, result.error = "failed", str(exc)[:300]
            _record(token, error=result.error)
            return result
        try:
            _page_store(token=token, after=cursor, page=page, result=result)
        except PollLost:
            result.status = "lost"
            return result
        cursor, result.pages = page.next_cursor, result.pages + 1
        if lock:
            with suppress(redis.RedisError):
                lock.reacquire()
        if not page.has_more:
            break
        if result.pages >= max_pages:
            result.has_more = True
            break
    _record(token, error="")
    return result


def _record(token: str, *, error: str) -> None:
    now = timezone.now()
    updates: dict[str, Any] = {"last_error": error}
    if not error:
        updates["last_success_at"] = now
    PollState.objects.filter(name=FEED, claim_token=token).update(**updates)


def event_identity(event: Event) -> tuple[str, int, str, str]:
    """What a repeat of an event must match (the payload may since have been erased, R15)."""
    return event.kind, event.holder_seq, event.serial, event.consent_id


def _page_store(*, token: str, after: str, page: EventPage, result: PollResult) -> None:
    """Keep a page and move the cursor past it, all in one transaction."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        state = PollState.objects.select_for_update().get(name=FEED)
        if state.claim_token != token or state.cursor != after:
            raise PollLost
        quarantine: list[QuarantinedEvent] = [
            QuarantinedEvent(
                event_id=bad.event_id,
                cursor=after,
                reason=bad.reason[:300],
                paths=bad.paths,
                body_sha256=bad.body_sha256,
                received_at=now,
            )
            for bad in page.invalid
        ]
        unique: dict[str, Event] = {}
        for event in page.events:
            first = unique.setdefault(event.id, event)
            if first is not event and event_identity(first) != event_identity(event):
                quarantine.append(_conflict(event, after, now))
        stored = {
            row[0]: row[1:]
            for row in JlisEvent.objects.filter(event_id__in=list(unique)).values_list(
                "event_id", "kind", "holder_seq", "serial", "jlis_consent_id"
            )
        }
        new: list[Event] = []
        for event in unique.values():
            if event.id not in stored:
                new.append(event)
            elif stored[event.id] != event_identity(event):
                quarantine.append(_conflict(event, after, now))
            else:
                result.duplicates += 1
        result.duplicates += len(page.events) - len(unique)
        # R2: only what a consent covers goes in (services/door.py).
        events_insert([event_row(event, now) for event in events_at_the_door(new, today=japan_date(now))])
        result.stored += len(new)
        fresh = _quarantine_new(quarantine)
        QuarantinedEvent.objects.bulk_create(fresh)
        result.quarantined += len(fresh)
        PollState.objects.filter(pk=state.pk).update(cursor=page.next_cursor, claimed_until=now + _lease())


def _conflict(event: Event, cursor: str, now: Any) -> QuarantinedEvent:
    return QuarantinedEvent(
        event_id=event.id,
        cursor=cursor,
        reason="event id seen before with a different kind, holder_seq, serial or consent",
        paths=["kind", "holder_seq", "serial", "data.consent_id"],
        body_sha256=body_hash(event.sent),
        received_at=now,
    )


def _quarantine_new(rows: list[QuarantinedEvent]) -> list[QuarantinedEvent]:
    """Each bad event is kept once, however often J-LIS sends it."""
    known = set(
        QuarantinedEvent.objects.filter(event_id__in=[r.event_id for r in rows if r.event_id]).values_list(
            "event_id", "reason"
        )
    )
    fresh = []
    for row in rows:
        if row.event_id and (row.event_id, row.reason) in known:
            continue
        known.add((row.event_id, row.reason))
        fresh.append(row)
    return fresh


def event_row(event: Event, now: Any) -> JlisEvent:
    return JlisEvent(
        event_id=event.id,
        kind=event.kind,
        holder_seq=event.holder_seq,
        serial=event.serial,
        jlis_consent_id=event.consent_id,
        occurred_at=event.occurred_at,
        payload=event.data,
        received_at=now,
    )


COLUMNS = ("event_id", "kind", "holder_seq", "serial", "jlis_consent_id", "occurred_at", "payload", "received_at")


def events_insert(rows: list[JlisEvent]) -> None:
    """Insert in feed order; a repeat is ignored (the claim makes this the only writer anyway).

    On PostgreSQL through COPY and one INSERT ... ON CONFLICT DO NOTHING: several times faster
    than the ORM's bulk insert for pages of a thousand events.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        JlisEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        return
    table = connection.ops.quote_name(JlisEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.jlis_event_staging")
        cursor.execute(
            "CREATE TEMPORARY TABLE jlis_event_staging (position integer, event_id text, kind text,"
            " holder_seq bigint, serial text, jlis_consent_id text, occurred_at timestamptz, payload jsonb,"
            " received_at timestamptz) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY jlis_event_staging (position, {', '.join(COLUMNS)}) FROM STDIN") as copy:
            for position, row in enumerate(rows):
                copy.write_row(
                    (
                        position,
                        row.event_id,
                        row.kind,
                        row.holder_seq,
                        row.serial,
                        row.jlis_consent_id,
                        row.occurred_at,
                        json.dumps(row.payload, ensure_ascii=False),
                        row.received_at,
                    )
                )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}, status, reason)"  # noqa: S608 (quoted table name)
            f" SELECT {', '.join(COLUMNS)}, %s, '' FROM jlis_event_staging ORDER BY position"
            " ON CONFLICT (event_id) DO NOTHING",
            [EventStatus.PENDING],
        )
