"""The audit trail's action codes in words, for auditors (the admin's list, detail and CSV).

The code stays what the trail stores and signs; only its display is translated. A code stored
before its action was renamed or removed is shown as it is.
"""

from __future__ import annotations

from .audit_actions import AuditAction


def action_label(code: str) -> str:
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code
