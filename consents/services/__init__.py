"""Writes to consents. Counter services are each one durable transaction; the services for J-LIS
events join the caller's transaction (see lifecycle)."""

from .lifecycle import (
    EventOutcome,
    consent_expire_due,
    consent_jlis_id_record,
    consent_reflect,
    consent_reject,
    consent_revoke,
    consent_revoke_elsewhere,
)
from .mynaportal import consent_register_from_mynaportal, mynaportal_link_record, record_for_mynaportal
from .registration import consent_register
from .statements import statement_create
from .suspension import consent_statements_text_erase, consents_evidence_erase, consents_suspend
from .terms import terms_version_ensure
from .withdrawal import consent_withdraw, consent_withdrawal_refused

__all__ = [
    "EventOutcome",
    "consent_expire_due",
    "consent_jlis_id_record",
    "consent_reflect",
    "consent_register",
    "consent_register_from_mynaportal",
    "consent_reject",
    "consent_revoke",
    "consent_revoke_elsewhere",
    "consent_statements_text_erase",
    "consent_withdraw",
    "consent_withdrawal_refused",
    "consents_evidence_erase",
    "consents_suspend",
    "mynaportal_link_record",
    "record_for_mynaportal",
    "statement_create",
    "terms_version_ensure",
]
