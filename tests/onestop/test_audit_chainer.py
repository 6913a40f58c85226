"""Issue 20: the audit chain linked by one chainer after the writers' commits, not under a lock
every writer takes. Real PostgreSQL, real concurrent transactions (threads, each with its own
connection); whether a transaction waits is read from the server (pg_stat_activity), not timed.

What the rules ask (docs/security.md, "The chain"): a writer's audit row is in its change's
transaction and no writer waits for another; every committed row ends up linked exactly once,
seq 1..N with no gap, each hash over the row and the previous hash; a chainer killed mid-batch
leaves the chain as it was and the next run links the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction

from onestop import audit_chain
from onestop.audit import AuditEntry, audit_chain_verify, audit_log, audit_log_bulk
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditChainHead, AuditEvent, AuditLink, AuditPending
from tests.jlis_fixtures import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _entry(subject: str) -> AuditEntry:
    return AuditEntry(action="record.update", subject_type="thing", subject_id=subject)


def _raw() -> psycopg.Connection[Any]:
    """A connection of its own, outside Django's, to watch and steer the others."""
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"] or None, dbname=s["NAME"], autocommit=True
    )


def _waiting_on_a_lock(watcher: psycopg.Connection[Any], query_start: str) -> list[int]:
    """The backends whose current statement begins with `query_start` and that wait for a lock."""
    rows = watcher.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND query LIKE %s",
        [query_start + "%"],
    ).fetchall()
    return [pid for (pid,) in rows]


class _Thread(threading.Thread):
    """A thread with its own Django connection, closed at its end; keeps its exception."""

    def __init__(self, target: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self._work, self.error, self.result = target, None, None

    def run(self) -> None:
        try:
            self.result = self._work()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connection.close()


@contextmanager
def _open_writer(subject: str) -> Iterator[threading.Event]:
    """A writer that has written its audit row and keeps its transaction open until released."""
    written, release = threading.Event(), threading.Event()

    def write() -> None:
        with transaction.atomic():
            audit_log(_entry(subject))
            written.set()
            release.wait(60)

    thread = _Thread(write)
    thread.start()
    wait_until(lambda: written.is_set() or not thread.is_alive(), 30, "the first writer to write")
    try:
        yield release
    finally:
        release.set()
        thread.join(60)
    assert thread.error is None, thread.error


def _write_one(subject: str) -> None:
    with transaction.atomic():
        audit_log(_entry(subject))


@contextmanager
def _second_writer_beside_an_open_first() -> Iterator[tuple[_Thread, Callable[[], bool]]]:
    """The first writer's transaction held open and a second writer started: yields the second
    writer once it has committed or is seen waiting, and a check of whether it waits on a lock."""
    with _open_writer("first"):
        second = _Thread(lambda: _write_one("second"))
        second.start()
        watcher = _raw()
        try:
            wait_until(
                lambda: not second.is_alive() or _waiting_on_a_lock(watcher, ""),
                30,
                "the second writer to commit or wait",
            )
            yield second, lambda: _waiting_on_a_lock(watcher, "")
        finally:
            watcher.close()


def test_a_writer_does_not_wait_for_another_writers_open_transaction():
    with _second_writer_beside_an_open_first() as (second, _waits):
        assert not second.is_alive(), "the second writer waits for the first"
        assert second.error is None, second.error
        # Committed while the first is still open: its row is there, the first's not yet.
        assert list(AuditEvent.objects.values_list("subject_id", flat=True)) == ["second"]
    assert sorted(AuditEvent.objects.values_list("subject_id", flat=True)) == ["first", "second"]


def test_control_a_lock_on_the_head_as_writers_took_it_made_the_second_writer_wait(monkeypatch):
    """The control for the test above: with the writer taking the chain head's lock first, as
    every writer did before the chainer (SELECT ... FOR UPDATE on onestop_auditchainhead), the
    same second writer is seen waiting for the first."""
    AuditChainHead.objects.create(pk=1)
    real_log = audit_log

    def audit_log_under_the_head_lock(entry: AuditEntry) -> AuditEvent:
        list(AuditChainHead.objects.select_for_update().filter(pk=1))
        return real_log(entry)

    monkeypatch.setitem(globals(), "audit_log", audit_log_under_the_head_lock)
    with _second_writer_beside_an_open_first() as (second, waits):
        assert second.is_alive() and waits(), "the second writer did not wait"
    second.join(60)
    assert second.error is None, second.error


def test_a_writer_does_not_wait_for_a_chainer_at_work_and_a_second_chainer_leaves_at_once():
    with transaction.atomic():
        audit_log(_entry("before"))
    audit_chain_link()
    holder = _raw()
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM onestop_auditchainhead WHERE id = 1 FOR UPDATE")  # a chainer mid-batch
        _write_one("during")  # would hang here if writers still took the head
        second_chainer = _Thread(audit_chain_link)
        second_chainer.start()
        second_chainer.join(60)
        assert not second_chainer.is_alive() and second_chainer.error is None
        assert second_chainer.result == 0  # it found the head taken and left
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert audit_chain_link() == 1
    assert audit_chain_verify() is None


def test_concurrent_writers_and_chainers_make_one_gap_free_chain():
    """Writers in 6 threads commit (and some roll back) small and COPY-sized batches while two
    chainers run over and over; at the end every committed row has exactly one link, seq 1..N,
    and the chain verifies. N is counted by the writers themselves."""
    committed: list[int] = []
    lock = threading.Lock()
    writers_done = threading.Event()

    def writer(number: int) -> Callable[[], None]:
        def work() -> None:
            for round_ in range(25):
                size = 1 + (number + round_) % 3
                entries = [_entry(f"w{number}-r{round_}-{i}") for i in range(size)]
                try:
                    with transaction.atomic():
                        if round_ % 10 == 9:
                            audit_log_bulk(entries * 40)  # the applier's COPY path
                            size *= 40
                        else:
                            for entry in entries:
                                audit_log(entry)
                        if round_ % 7 == 3:
                            raise _RolledBack
                except _RolledBack:
                    continue
                with lock:
                    committed.append(size)

        return work

    def chainer() -> None:
        while not writers_done.is_set():
            audit_chain_link(batch_size=7)  # small batches: many transactions, many interleavings

    writers = [_Thread(writer(n)) for n in range(6)]
    chainers = [_Thread(chainer) for _ in range(2)]
    for thread in (*chainers, *writers):
        thread.start()
    for thread in writers:
        thread.join(300)
    writers_done.set()
    for thread in chainers:
        thread.join(300)
    for thread in (*chainers, *writers):
        assert thread.error is None, thread.error
    audit_chain_link()
    total = sum(committed)
    assert total > 100 and AuditEvent.objects.count() == total  # no rolled-back row kept
    seqs = list(AuditLink.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    assert AuditLink.objects.values("event_id").distinct().count() == total  # one link per row
    assert not AuditPending.objects.exists()
    assert audit_chain_verify() is None
    assert AuditChainHead.objects.get(pk=1).last_seq == total


class _RolledBack(Exception):
    pass


def test_rows_committed_out_of_id_order_are_linked_in_the_order_the_chainer_sees_them():
    with _open_writer("earlier id, committed later"):
        _write_one("later id, committed first")
        assert audit_chain_link() == 1
    assert audit_chain_link() == 1
    order = list(AuditEvent.objects.order_by("seq").values_list("subject_id", "id"))
    assert [subject for subject, _id in order] == ["later id, committed first", "earlier id, committed later"]
    assert order[0][1] > order[1][1]
    assert audit_chain_verify() is None


def _commit(count: int, prefix: str) -> None:
    with transaction.atomic():
        for i in range(count):
            audit_log(_entry(f"{prefix}{i}"))


def test_a_chainer_killed_mid_batch_leaves_the_chain_whole_and_the_next_links_the_rest():
    _commit(5, "a")
    assert audit_chain_link() == 5
    head_before = AuditChainHead.objects.values_list("last_seq", "last_hash").get(pk=1)
    _commit(10, "b")
    blocker, watcher = _raw(), _raw()
    try:
        # Hold one waiting row, so the chainer stops inside its batch: its links written, the
        # rows not yet taken off the waiting list, the head not moved, nothing committed.
        blocker.execute("BEGIN")
        blocker.execute("SELECT 1 FROM onestop_auditpending ORDER BY event_id DESC LIMIT 1 FOR UPDATE")
        chainer = _Thread(audit_chain_link)
        chainer.start()
        wait_until(lambda: _waiting_on_a_lock(watcher, "DELETE FROM onestop_auditpending"), 30, "the chainer mid-batch")
        (pid,) = _waiting_on_a_lock(watcher, "DELETE FROM onestop_auditpending")
        in_flight = watcher.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = 'onestop_auditlink'::regclass", [pid]
        ).fetchone()
        assert in_flight and in_flight[0] >= 1  # it had written into the links
        watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
        chainer.join(60)
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
        watcher.close()
    assert isinstance(chainer.error, OperationalError)
    # Nothing half-linked: the chain is the five rows it was, and it verifies.
    assert AuditLink.objects.count() == 5
    assert AuditChainHead.objects.values_list("last_seq", "last_hash").get(pk=1) == head_before
    assert audit_chain_verify() is None
    assert AuditPending.objects.count() == 10
    assert audit_chain_link() == 10
    assert list(AuditLink.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 16))
    assert audit_chain_verify() is None


def test_a_chainer_failing_mid_batch_leaves_the_chain_whole(monkeypatch):
    _commit(3, "a")
    audit_chain_link()
    _commit(4, "b")
    real_write = audit_chain._links_write

    def write_then_fail(links: list[tuple[int, int, str, str]]) -> None:
        real_write(links)
        raise RuntimeError("the chainer stops here")

    monkeypatch.setattr(audit_chain, "_links_write", write_then_fail)
    with pytest.raises(RuntimeError, match="stops here"):
        audit_chain_link()
    assert AuditLink.objects.count() == 3 and audit_chain_verify() is None
    monkeypatch.undo()
    assert audit_chain_link() == 4
    assert audit_chain_verify() is None


def test_audit_verify_reports_rows_left_unlinked_as_a_finding_not_a_break(settings, capsys):
    _commit(2, "linked")
    audit_chain_link()
    _commit(3, "waiting")
    settings.AUDIT_UNLINKED_FINDING_SECONDS = 0
    call_command("audit_verify")  # no CommandError: the chain itself holds
    out, err = capsys.readouterr()
    assert "audit chain intact: 2 rows; 3 rows written since are not linked yet" in out
    assert "finding: 3 audit rows written more than 0s ago are not linked into the chain yet" in err
    audit_chain_link()
    call_command("audit_verify")
    out, err = capsys.readouterr()
    assert "audit chain intact: 5 rows" in out and "finding" not in err


@pytest.mark.celery_worker
def test_an_audited_commit_has_its_row_linked_by_a_real_worker(celery_worker_process):
    _write_one("linked after the commit")
    wait_until(lambda: AuditEvent.objects.filter(seq__isnull=False).exists(), 60, "the chainer task to link the row")
    assert audit_chain_verify() is None


def test_beat_sweeps_with_the_chainer_every_few_seconds(settings):
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "onestop.audit_chain_link"]
    assert entry["schedule"] <= 10


def test_a_burst_of_audited_commits_queues_the_chainer_once_now_and_once_at_the_window_end(settings, monkeypatch):
    """Every holder-page view is an audited commit: a chainer run queued for each would be as many
    broker messages and head claims as page views. Within AUDIT_CHAIN_QUEUE_SECONDS a process
    queues one run at once and one more for the window's end, so every commit is still followed
    by a run that starts after it (the chain links it within the window)."""
    from onestop.tasks import audit_chain_link_task

    settings.AUDIT_CHAIN_QUEUE_SECONDS = 60
    queued: list[float | None] = []
    monkeypatch.setattr(audit_chain_link_task, "apply_async", lambda *a, countdown=None, **kw: queued.append(countdown))
    for n in range(10):
        _write_one(f"burst {n}")
    assert len(queued) == 2, queued
    assert queued[0] is None  # the first commit's run, at once
    assert queued[1] is not None and 55 < queued[1] <= 60  # the window's end: after every commit of it
