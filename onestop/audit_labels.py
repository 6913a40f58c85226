"""The audit trail's action codes in words, for auditors (the admin's list, detail and CSV).

The code stays what the trail stores and signs; only its display is translated. A code not
listed here is shown as it is.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "admin.export": _("CSV export from the admin"),
    "auth.second_factor_enrolled": _("Second factor enrolled"),
    "auth.second_factor_verified": _("Second factor verified"),
    "crl_imported": _("Certificate revocation list imported"),
    "consent.event_not_applied": _("J-LIS event not applied to the consent"),
    "consent.expire": _("Consent expired"),
    "consent.jlis_failed": _("Sending to J-LIS failed"),
    "consent.jlis_resend": _("Sent to J-LIS again by a supervisor"),
    "consent.jlis_sent": _("Sent to J-LIS"),
    "consent.reflect": _("Consent reflected by J-LIS"),
    "consent.refuse": _("Consent refused"),
    "consent.register": _("Consent registered"),
    "consent.reject": _("Consent rejected by J-LIS"),
    "consent.revoke": _("Consent revoked"),
    "consent.statement_create": _("Statement to sign made"),
    "consent.supersede": _("Consent superseded"),
    "consent.suspend": _("Consent stopped (suspension)"),
    "consent.view": _("Consent receipt viewed"),
    "disclosure.advance": _("Disclosure request advanced"),
    "disclosure.register": _("Disclosure request registered"),
    "disclosure.report": _("Disclosure report made"),
    "disclosure.view": _("Disclosure request viewed"),
    "holder_data.erase": _("Holder's collected data erased"),
    "jlis_event.pending_skipped": _("Waiting J-LIS event skipped"),
    "jlis_event.refetch": _("J-LIS event read again"),
    "mynaportal.link": _("Mynaportal linkage recorded"),
    "retention.purge": _("Retention run: data kept its time deleted"),
    "record.apply_jlis": _("Record updated from J-LIS"),
    "record.consent_status_view": _("Consent status read"),
    "record.link_certificate": _("Signing certificate linked to the record"),
    "record.update": _("Record changed"),
    "record.view": _("Holder page viewed"),
    "record.view_elsewhere": _("Holder of another prefecture looked up"),
    "suspension.confirm": _("Suspension confirmed"),
    "suspension.propose": _("Suspension proposed"),
    "suspension.reject": _("Suspension rejected"),
    "suspension.view": _("Suspension viewed"),
    "terminal.create": _("Counter terminal registered"),
    "terminal.revoke": _("Counter terminal revoked"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))
