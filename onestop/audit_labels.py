"""The audit trail's action codes in words, for auditors (the admin's list, detail and CSV).

The code stays what the trail stores and signs; only its display is translated. A code stored
before its action was renamed or removed is shown as it is.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .audit_actions import AuditAction

# What a row is about, in words (the codes each app writes as `subject_type`).
SUBJECT_LABELS = {
    "consent": _("consent"),
    "consent_statement": _("consent statement"),
    "counter_terminal": _("counter terminal"),
    "crl_import": _("CRL import"),
    "disclosure_request": _("disclosure request"),
    "driver_record": _("holder's record"),
    "record": _("holder's record"),
    "quarantined_event": _("quarantined J-LIS event"),
    "retention": _("retention"),
    "suspension_request": _("suspension request"),
    "user": _("staff user"),
}


def action_label(code: str) -> str:
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code


def subject_label(code: str) -> str:
    label = SUBJECT_LABELS.get(code)
    return code if label is None else str(label)
