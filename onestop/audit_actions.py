"""Every action the audit trail records: one enumeration, so a code is never misspelt and each
has its words for auditors (the admin's list, detail and CSV).

The trail stores and signs the code (the value); only its label is translated. Adding an action is
adding a member here: `audit_log` refuses a code this enumeration does not list.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    ADMIN_EXPORT = "admin.export", _("CSV export from the admin")
    AUTH_ENROLMENT_CODE_ISSUED = "auth.enrolment_code_issued", _("Second-factor enrolment code issued")
    AUTH_SECOND_FACTOR_ENROLLED = "auth.second_factor_enrolled", _("Second factor enrolled")
    AUTH_SECOND_FACTOR_VERIFIED = "auth.second_factor_verified", _("Second factor verified")
    AUTH_SESSIONS_ENDED = "auth.sessions_ended", _("Staff account's sessions ended (its access changed)")
    CRL_IMPORTED = "crl_imported", _("Certificate revocation list imported")
    CONSENT_EVENT_NOT_APPLIED = "consent.event_not_applied", _("J-LIS event not applied to the consent")
    CONSENT_EXPIRE = "consent.expire", _("Consent expired")
    CONSENT_JLIS_FAILED = "consent.jlis_failed", _("Sending to J-LIS failed")
    CONSENT_JLIS_RESEND = "consent.jlis_resend", _("Sent to J-LIS again by a supervisor")
    CONSENT_JLIS_SENT = "consent.jlis_sent", _("Sent to J-LIS")
    CONSENT_REFLECT = "consent.reflect", _("Consent reflected by J-LIS")
    CONSENT_REFUSE = "consent.refuse", _("Consent refused")
    CONSENT_REGISTER = "consent.register", _("Consent registered")
    CONSENT_REJECT = "consent.reject", _("Consent rejected by J-LIS")
    CONSENT_REVOKE = "consent.revoke", _("Consent revoked")
    CONSENT_STATEMENT_CREATE = "consent.statement_create", _("Statement to sign made")
    CONSENT_WITHDRAW = "consent.withdraw", _("Consent withdrawn before J-LIS reflected it")
    CONSENT_SUPERSEDE = "consent.supersede", _("Consent superseded")
    CONSENT_SUSPEND = "consent.suspend", _("Consent stopped (suspension)")
    CONSENT_VIEW = "consent.view", _("Consent receipt viewed")
    DISCLOSURE_ADVANCE = "disclosure.advance", _("Disclosure request advanced")
    DISCLOSURE_REGISTER = "disclosure.register", _("Disclosure request registered")
    DISCLOSURE_REPORT = "disclosure.report", _("Disclosure report made")
    DISCLOSURE_VIEW = "disclosure.view", _("Disclosure request viewed")
    HOLDER_DATA_ERASE = "holder_data.erase", _("Holder's collected data erased")
    JLIS_EVENT_PENDING_SKIPPED = "jlis_event.pending_skipped", _("Waiting J-LIS event skipped")
    JLIS_EVENT_REFETCH = "jlis_event.refetch", _("J-LIS event read again")
    MYNAPORTAL_LINK = "mynaportal.link", _("Mynaportal linkage recorded")
    RETENTION_PURGE = "retention.purge", _("Retention run: data kept its time deleted")
    RECORD_APPLY_JLIS = "record.apply_jlis", _("Record updated from J-LIS")
    RECORD_CONSENT_STATUS_VIEW = "record.consent_status_view", _("Consent status read")
    RECORD_LINK_CERTIFICATE = "record.link_certificate", _("Signing certificate linked to the record")
    RECORD_SERVICE_STOP = "record.service_stop", _("Service stopped for the holder (suspension)")
    RECORD_UPDATE = "record.update", _("Record changed")
    RECORD_VIEW = "record.view", _("Holder page viewed")
    RECORD_VIEW_ELSEWHERE = "record.view_elsewhere", _("Holder of another prefecture looked up")
    SUSPENSION_CONFIRM = "suspension.confirm", _("Suspension confirmed")
    SUSPENSION_PROPOSE = "suspension.propose", _("Suspension proposed")
    SUSPENSION_REJECT = "suspension.reject", _("Suspension rejected")
    SUSPENSION_VIEW = "suspension.view", _("Suspension viewed")
    TERMINAL_CREATE = "terminal.create", _("Counter terminal registered")
    TERMINAL_REVOKE = "terminal.revoke", _("Counter terminal revoked")
