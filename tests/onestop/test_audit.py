import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from onestop.audit import AuditEntry, audit_chain_verify, audit_log, audit_log_bulk, audit_log_many
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent
from tests.audit_roles import acting_as, owner_role_make, refusal
from tests.factories import DriverRecordFactory


def _entries(n: int, actor=None) -> list[AuditEntry]:
    return [AuditEntry(action="record.update", subject_type="thing", subject_id=str(i), actor=actor) for i in range(n)]


class _TriggersOff:
    """Edits the table behind the application's back, as a database superuser could
    (on PostgreSQL, bypassing the append-only trigger with session_replication_role)."""

    def __enter__(self):
        self.cursor = connection.cursor()
        if connection.vendor == "postgresql":
            self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.cursor.execute("SET LOCAL session_replication_role = replica")
        return self.cursor

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            self.cursor.execute("SET LOCAL session_replication_role = origin")
        self.cursor.close()


def _tamper(seq: int, **values) -> None:
    """Change the row linked at `seq` (its hashes are in its link)."""
    links = {k: values.pop(k) for k in ("prev_hash", "row_hash") if k in values}
    with _TriggersOff() as cursor:
        for table, key, changes in (("onestop_auditevent", "id", values), ("onestop_auditlink", "event_id", links)):
            if changes:
                sets = ", ".join(f"{k} = %s" for k in changes)
                cursor.execute(
                    f"UPDATE {table} SET {sets} WHERE {key} = (SELECT event_id FROM onestop_auditlink WHERE seq = %s)",  # noqa: S608
                    [*changes.values(), seq],
                )


def _append(entries: list[AuditEntry]) -> None:
    with transaction.atomic():
        audit_log_many(entries)
    audit_chain_link()


@pytest.mark.django_db
def test_audit_chain_links_each_row_to_the_previous(clerk):
    _append(_entries(3, clerk))
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[1].prev_hash == rows[0].row_hash and rows[2].prev_hash == rows[1].row_hash
    assert audit_chain_verify() is None
    assert AuditEvent.objects.get(seq=1).office == clerk.office


@pytest.mark.django_db
def test_audit_verify_passes_on_a_good_chain(capsys):
    _append(_entries(5))
    call_command("audit_verify")
    assert "audit chain intact: 5 rows" in capsys.readouterr().out


@pytest.mark.django_db
def test_audit_verify_names_the_tampered_row():
    _append(_entries(5))
    _tamper(3, subject_id="forged")
    with pytest.raises(CommandError, match="seq=3: content does not match its hash"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_audit_verify_names_the_row_after_a_rewritten_one():
    # Recomputing the tampered row's own hash does not help: the next row's link breaks.
    _append(_entries(5))
    row = AuditEvent.objects.get(seq=2)
    row.subject_id = "forged"
    from onestop.audit import compute_hash

    _tamper(2, subject_id="forged", row_hash=compute_hash(row))
    with pytest.raises(CommandError, match="seq=3: link to the previous row does not match"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_audit_verify_notices_a_missing_last_row():
    _append(_entries(3))
    with _TriggersOff() as cursor:
        cursor.execute(
            "DELETE FROM onestop_auditevent WHERE id = (SELECT event_id FROM onestop_auditlink WHERE seq = 3)"
        )
        cursor.execute("DELETE FROM onestop_auditlink WHERE seq = 3")
    broken = audit_chain_verify()
    assert broken is not None and broken.seq == 3


@pytest.mark.django_db(transaction=True)
def test_audit_event_is_written_in_the_transaction_of_its_change():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_log(AuditEntry(action="record.update", subject_type="y", subject_id="1"))
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_log(AuditEntry(action="record.update", subject_type="y", subject_id="1"))
        1 / 0  # noqa: B018
    assert not AuditEvent.objects.exists()  # the rollback took the audit row with it


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE onestop_auditevent SET action = 'forged'",
        "DELETE FROM onestop_auditevent",
        "TRUNCATE onestop_auditevent",
    ],
)
def test_postgresql_refuses_changes_to_the_audit_table_even_to_its_owner(statement):
    with transaction.atomic():
        audit_log(AuditEntry(action="record.update", subject_type="y", subject_id="1"))
    owner = owner_role_make()
    with acting_as(owner):
        assert "append-only" in refusal(statement)
    assert AuditEvent.objects.get().action == "record.update"


@pytest.mark.django_db
def test_auditor_exports_a_filtered_list_as_csv_and_the_export_is_audited(client, auditor):
    kept = DriverRecordFactory(holding_status="licence_both")
    other = DriverRecordFactory(holding_status="licence_card_only")
    client.force_login(auditor)
    url = reverse("admin:driver_records_driverrecord_export")
    response = client.get(url, {"holding_status__exact": "licence_both"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert kept.number in body and other.number not in body
    export = AuditEvent.objects.get(action="admin.export")
    assert export.actor == auditor
    assert export.new_values["rows"] == 1
    assert export.new_values["filters"] == {"holding_status__exact": "licence_both"}


@pytest.mark.django_db
def test_clerk_cannot_export(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:driver_records_driverrecord_export"))
    assert response.status_code == 302  # to the admin login
    assert not AuditEvent.objects.filter(action="admin.export").exists()


@pytest.mark.django_db
def test_audit_admin_is_read_only_and_searchable(client, auditor, clerk):
    record = DriverRecordFactory()
    client.force_login(clerk)
    client.get(reverse("counter:record", args=[record.pk]))
    client.force_login(auditor)
    listing = client.get(reverse("admin:onestop_auditevent_changelist"), {"q": record.number})
    assert listing.status_code == 200
    assert "record.view" in listing.content.decode()
    event = AuditEvent.objects.get(action="record.view")
    change = client.post(reverse("admin:onestop_auditevent_change", args=[event.pk]), {"action": "forged"})
    assert change.status_code == 403


@pytest.mark.django_db
def test_bulk_rows_join_the_chain_between_single_rows_and_verify(clerk):
    """The applier's bulk path (COPY on PostgreSQL) makes the same chain as the row-by-row one."""
    with transaction.atomic():
        audit_log(AuditEntry(action="record.update", subject_type="thing", subject_id="0", actor=clerk))
        assert audit_log_bulk(_entries(250)) == 250
        audit_log(AuditEntry(action="record.update", subject_type="thing", subject_id="0", actor=clerk))
    audit_chain_link()
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, 253))
    assert rows[1].prev_hash == rows[0].row_hash and rows[-1].prev_hash == rows[-2].row_hash
    assert (rows[0].actor_id, rows[1].actor_id, rows[-1].office_id) == (clerk.pk, None, clerk.office_id)
    assert audit_chain_verify() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_chainers_of_an_empty_trail_both_go_on():
    """The second finds no head, then the first creates it and commits: the second's insert of
    the genesis head meets the primary key (which the chainer expects), not the head's guard."""
    import psycopg

    from onestop.models import AuditChainHead

    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1", port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"] or None, dbname=settings_dict["NAME"],
    ) as second:  # fmt: skip
        assert second.execute("SELECT 1 FROM onestop_auditchainhead WHERE id = 1 FOR UPDATE").fetchone() is None
        with transaction.atomic():
            audit_log(AuditEntry(action="record.update", subject_type="t", subject_id="1"))
        audit_chain_link()
        with pytest.raises(psycopg.errors.UniqueViolation):
            second.execute("INSERT INTO onestop_auditchainhead (id, last_seq, last_hash) VALUES (1, 0, %s)", ["0" * 64])
    assert AuditChainHead.objects.get(pk=1).last_seq == 1
