"""The indexes of the tables every applied J-LIS event writes, each with the read that needs it.

An applied event rewrites its record's name, address, birth date or serial (indexed columns, so
PostgreSQL's UPDATE is never HOT: a new entry in every index of the table), marks its event and
appends history and audit rows. An index no read needs is paid for by every event and every
page of records it dirties (docs/performance.md, B6). Django adds some by itself: a LIKE twin for
each indexed or `unique=True` CharField, which is why such fields are unique by a constraint.
A new index goes here with its reader; one that is not here fails the test.
"""

from __future__ import annotations

import pytest
from django.db import connection

WRITTEN_PER_EVENT: dict[str, dict[str, str]] = {
    "driver_records_driverrecord": {
        "driver_records_driverrecord_pkey": "every read by id, the applier's UPDATE",
        "record_number_unique": "a record number is unique; the counter's search by number",
        "record_name_search_idx": "the counter's search by name prefix, in name order",
        "record_given_search_idx": "the counter's search by given-name prefix",
        "record_birth_date_idx": "a name search narrowed to a birthdate",
        "record_cert_serial_idx": "lookups by serial (consents, the door, the feed's checks)",
        "unique_linked_certificate": "a serial links one record; the applier's locked read by serial",
    },
    "jlis_gateway_jlisevent": {
        "jlis_gateway_jlisevent_pkey": "reads by id",
        "jlis_event_id_unique": "an event is stored once (the poller's lookup of ids it has)",
        "jlis_event_pending_idx": "the applier's claim of pending events in id order",
        "jlis_event_serial_idx": "earlier pending events naming a serial (each holder's order)",
        "jlis_event_consent_id_idx": "consent events by J-LIS consent id",
        "jlis_event_announces_idx": "the door's and the applier's lookup of serials events move to",
        "jlis_event_consent_pending_idx": "pending consent events",
    },
    "driver_records_recordchange": {
        "driver_records_recordchange_pkey": "reads by id",
        "driver_records_recordchange_record_id_b268968e": "a record's history (holder page, R13)",
        "driver_records_recordchange_changed_at_06abaf57": "retention's deletion by age; the admin's order",
        "one_change_per_event_field": "an event changes a field at most once",
        "record_change_old_serial_idx": "the serials a record was linked to before (R13)",
        "record_change_actor_idx": "a staff member's changes (skips the applier's rows)",
    },
    "onestop_auditevent": {
        "onestop_auditevent_pkey": "reads by id, newest first",
        "onestop_auditevent_occurred_at_98f06120": "the auditors' date range",
        "audit_action_idx": "the auditors' filter by action",
        "audit_record_number_idx": "a holder's trail by record number",
        "audit_serial_idx": "a certificate's trail by serial",
        "audit_actor_idx": "a staff member's trail (skips the applier's rows)",
        "audit_office_idx": "an office's trail (skips the applier's rows)",
    },
}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(WRITTEN_PER_EVENT))
def test_every_index_an_applied_event_writes_has_a_reader(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        present = {name for (name,) in cursor.fetchall()}
    assert present == set(WRITTEN_PER_EVENT[table])
