"""What the personal-data map says of a column, and the phrases its entries share."""

from __future__ import annotations

from dataclasses import dataclass

from onestop import retention_defaults as keep


@dataclass(frozen=True)
class Personal:
    holds: str
    rule: str  # why it is kept
    readers: str
    kept: str
    erased_by: str


@dataclass(frozen=True)
class NoPersonalData:
    why: str


# Who reads, as the object-scope rule (docs/security.md) has it.
HOLDER_PAGE = (
    "clerks and supervisors of the holder's prefecture (holder page); auditors (admin, read pages); "
    "the holder, in a disclosure report (R16)"
)
DIRECTORY = HOLDER_PAGE + "; every clerk and supervisor, in the directory of other prefectures' holders"
AUDITORS = "auditors and superusers (admin)"
ADMIN_HISTORY_READERS = "auditors (the history page of a row they may read in the admin); superusers"
SAFEGUARDS = "supervisors of the holder's prefecture and auditors (safeguards pages); auditors (admin)"
NOBODY = "no page or API shows it; the database's roles only"

# Why, for the service's own columns (no rule of the terms asks for them: a security measure does).
AUTHENTICATION = "signing staff in (docs/security.md, Authentication)"
LOCKOUT = "locking a username out after failed logins (docs/security.md, Authentication: lockout)"
LOGIN_HISTORY = "the login history the auditor reads (docs/security.md, Authentication: lockout)"
AUDIT_TRAIL = "the audit trail (docs/security.md, The audit trail)"
ADMIN_HISTORY = "the admin's change history of a row (docs/security.md, the permission matrix: history)"
REPLAY = "a double click or a retried request does the work once (onestop/idempotency.py; docs/reliability.md)"

# How long, and what erases it.
RECORD_LIFE = "as long as the police keep the record (Road Traffic Act); the service never deletes a record"
FOREVER = "no time limit: nothing deletes it"
NOT_ERASED = "nothing"
R15 = "a confirmed suspension (R15: safeguards.services.erasure)"

RECORD = "the police's own licence or driving-history record (R10, R13), kept current by J-LIS's updates (R2)"
SERIAL = "the serial (発行番号) of the holder's signing certificate: how J-LIS names the holder (R13)"

# How long, where the retention run (operations/retention.py) deletes: the defaults, with the
# setting that changes each (settings.py); docs/personal-data.md, "How long things are kept".
RETENTION = "the retention run, daily at 03:30 JST"
EVENT_LIFE = (
    f"{keep.JLIS_EVENTS_DAYS} Japan days after it was applied or skipped (ONESTOP_RETAIN_JLIS_EVENTS_DAYS), "
    f"then {RETENTION} deletes the row; an event waiting to be applied is kept until it is taken"
)
HISTORY_LIFE = (
    f"{keep.HISTORY_DAYS} Japan days (ten years) after the change (ONESTOP_RETAIN_HISTORY_DAYS), "
    f"then {RETENTION} deletes the row"
)
ANSWER_LIFE = (
    f"{keep.IDEMPOTENT_ANSWERS_HOURS} hours (ONESTOP_RETAIN_IDEMPOTENT_ANSWERS_HOURS), then {RETENTION} "
    "deletes it (so up to a day more)"
)
