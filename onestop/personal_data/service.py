"""The service's own columns: the audit trail, the idempotency layer, staff and their logins,
and every text, JSON or binary column that holds no personal data."""

from __future__ import annotations

from .kinds import (
    ADMIN_HISTORY,
    ADMIN_HISTORY_READERS,
    ANSWER_LIFE,
    AUDIT_TRAIL,
    AUDITORS,
    AUTHENTICATION,
    FOREVER,
    LOCKOUT,
    LOGIN_HISTORY,
    NOBODY,
    NOT_ERASED,
    R15,
    REPLAY,
    SERIAL,
    NoPersonalData,
    Personal,
)

SERVICE_COLUMNS: dict[str, Personal] = {
    # --- the audit trail and the idempotency layer -----------------------------------------------
    "onestop.auditevent.actor_label": Personal(
        "who acted: a staff username, a terminal's name or J-LIS",
        AUDIT_TRAIL,
        AUDITORS,
        FOREVER + " (append-only: the database refuses changes)",
        NOT_ERASED,
    ),
    "onestop.auditevent.record_number": Personal(
        "the holder's record number",
        AUDIT_TRAIL,
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.auditevent.serial": Personal(SERIAL, AUDIT_TRAIL, AUDITORS, FOREVER + " (append-only)", NOT_ERASED),
    "onestop.auditevent.subject_id": Personal(
        "the changed object's id (a record's or a user's)",
        AUDIT_TRAIL,
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.auditevent.old_values": Personal(
        "the changed fields' old values: holding status, prefecture, serials and statuses in clear; name, "
        "address, birth date, sex, certificate and statement masked (onestop.audit.PERSONAL_FIELDS)",
        AUDIT_TRAIL,
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.auditevent.new_values": Personal(
        "the changed fields' new values, masked as above; a revocation's reason in full; an admin export's shape "
        "(typed values masked)",
        AUDIT_TRAIL,
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.idempotentrequest.body": Personal(
        "the first answer to a form or API request, replayed to a repeat: a page or JSON that may quote a "
        "holder's data (a statement's text, a holder page); never an answer that refused a My Number (R14)",
        REPLAY,
        NOBODY + "; the same caller's repeat",
        ANSWER_LIFE,
        R15 + " for answers about the holder; the retention run",
    ),
    "onestop.idempotentanswerholder.record_number": Personal(
        "the record numbers an answer was about",
        "R15: finding the answers to erase",
        NOBODY,
        "as long as its answer",
        R15 + "; the retention run, with its answer",
    ),
    # --- staff and their logins ------------------------------------------------------------------
    "onestop.user.username": Personal(
        "a staff member's username",
        AUTHENTICATION,
        AUDITORS + "; the audit trail names it",
        FOREVER,
        NOT_ERASED + " (an account is deactivated, not deleted: audit rows refer to it)",
    ),
    "onestop.user.first_name": Personal("a staff member's given name", AUTHENTICATION, AUDITORS, FOREVER, NOT_ERASED),
    "onestop.user.last_name": Personal("a staff member's family name", AUTHENTICATION, AUDITORS, FOREVER, NOT_ERASED),
    "onestop.user.email": Personal("a staff member's e-mail address", AUTHENTICATION, AUDITORS, FOREVER, NOT_ERASED),
    "axes.accessattempt.username": Personal(
        "the username typed at a failed login (never a My Number: the form refuses one first)",
        LOCKOUT,
        AUDITORS,
        "until a successful login or the cool-off resets it",
        "a successful login (AXES_RESET_ON_SUCCESS)",
    ),
    "axes.accessattempt.ip_address": Personal(
        "the address a failed login came from", LOCKOUT, AUDITORS, "as the username above", "as above"
    ),
    "axes.accessattempt.user_agent": Personal("the browser's description", LOCKOUT, AUDITORS, "as above", "as above"),
    "axes.accessattempt.get_data": Personal(
        "the login request's query string", LOCKOUT, AUDITORS, "as above", "as above"
    ),
    "axes.accessattempt.post_data": Personal(
        "the login form's fields, the password masked", LOCKOUT, AUDITORS, "as above", "as above"
    ),
    "axes.accesslog.username": Personal("a successful login's username", LOGIN_HISTORY, AUDITORS, FOREVER, NOT_ERASED),
    "axes.accesslog.ip_address": Personal("the address it came from", LOGIN_HISTORY, AUDITORS, FOREVER, NOT_ERASED),
    "axes.accesslog.user_agent": Personal("the browser's description", LOGIN_HISTORY, AUDITORS, FOREVER, NOT_ERASED),
    "axes.accesslog.session_hash": Personal("a hash of the session key", LOGIN_HISTORY, AUDITORS, FOREVER, NOT_ERASED),
    "axes.accessfailurelog.username": Personal(
        "each failed login's username",
        LOGIN_HISTORY + " (AXES_ENABLE_ACCESS_FAILURE_LOG)",
        AUDITORS,
        FOREVER,
        NOT_ERASED,
    ),
    "axes.accessfailurelog.ip_address": Personal(
        "the address it came from", LOGIN_HISTORY, AUDITORS, FOREVER, NOT_ERASED
    ),
    "axes.accessfailurelog.user_agent": Personal(
        "the browser's description", LOGIN_HISTORY, AUDITORS, FOREVER, NOT_ERASED
    ),
    "sessions.session.session_data": Personal(
        "a signed-in staff member's session: user id, password hash's digest, second-factor device; the "
        "criteria of the holder search's last ten searches (the name or record number and the birthdate typed)",
        AUTHENTICATION + "; the search's results page, whose address names no holder (docs/security.md, No caching)",
        "the database's roles only; the search's criteria, the same session's search page (no other page or API)",
        "30 minutes idle (SESSION_IDLE_SECONDS); beat deletes the expired rows every 15 minutes "
        "(SESSION_CLEAR_SECONDS)",
        "logging out; every session of an account that is deactivated, deleted, loses or changes a role, "
        "a permission, its office, a flag, its password or its authenticator (onestop/staff_sessions.py); "
        "beat's sweep of expired rows",
    ),
    "admin.logentry.object_repr": Personal(
        "a changed object's name as the admin showed it (a record's number, a username)",
        ADMIN_HISTORY,
        ADMIN_HISTORY_READERS + "; the superuser who made the change (recent actions)",
        FOREVER,
        NOT_ERASED,
    ),
    "admin.logentry.object_id": Personal(
        "the changed object's id", ADMIN_HISTORY, ADMIN_HISTORY_READERS, FOREVER, NOT_ERASED
    ),
    "admin.logentry.change_message": Personal(
        "which fields an admin change touched (names, not values)",
        ADMIN_HISTORY,
        ADMIN_HISTORY_READERS,
        FOREVER,
        NOT_ERASED,
    ),
}

_CHOICE = "one of the field's fixed codes"
_ID = "an identifier the service or J-LIS made, about no person"

NO_PERSONAL_DATA: dict[str, NoPersonalData] = {
    "onestop.office.code": NoPersonalData("an office's code"),
    "onestop.office.name": NoPersonalData("an office's name"),
    "onestop.office.kind": NoPersonalData(_CHOICE),
    "onestop.office.prefecture": NoPersonalData(_CHOICE),
    "onestop.office.address": NoPersonalData("an office's own address, printed on receipts and slips"),
    "onestop.office.phone": NoPersonalData("an office's public telephone number, printed on receipts and slips"),
    "onestop.user.password": NoPersonalData("a password hash: a secret, kept out of every page and log"),
    "onestop.auditevent.action": NoPersonalData("the action's name"),
    "onestop.auditevent.subject_type": NoPersonalData("a model's name"),
    "onestop.auditevent.request_id": NoPersonalData("the request's random id"),
    "onestop.auditlink.prev_hash": NoPersonalData("a hash of the previous row in the chain"),
    "onestop.auditlink.row_hash": NoPersonalData("a hash of the row and its link"),
    "onestop.auditchainhead.last_hash": NoPersonalData("a hash"),
    "onestop.idempotentrequest.caller": NoPersonalData(
        "the principal's model and id, and a digest of its roles and office"
    ),
    "onestop.idempotentrequest.key": NoPersonalData("the SHA-256 of the client's key, never the key"),
    "onestop.idempotentrequest.fingerprint": NoPersonalData(
        "a SHA-256 of the request (not kept for a request that refused a My Number)"
    ),
    "onestop.idempotentrequest.headers": NoPersonalData("Content-Type, Location, Content-Language"),
    "jlis_gateway.quarantinedevent.paths": NoPersonalData(
        "the JSON paths that could not be read (e.g. data.birth_date), never their values"
    ),
    "jlis_gateway.quarantinedevent.body_sha256": NoPersonalData(
        "a SHA-256 of the body as received, hex; the body itself is not kept"
    ),
    "auth.permission.name": NoPersonalData("a permission's name"),
    "auth.permission.codename": NoPersonalData("a permission's code"),
    "auth.group.name": NoPersonalData("a role's name"),
    "contenttypes.contenttype.app_label": NoPersonalData("an app's name"),
    "contenttypes.contenttype.model": NoPersonalData("a model's name"),
    "sessions.session.session_key": NoPersonalData("a random key"),
    "axes.accessattempt.http_accept": NoPersonalData("the browser's Accept header"),
    "axes.accessattempt.path_info": NoPersonalData("the login page's path"),
    "axes.accesslog.http_accept": NoPersonalData("the browser's Accept header"),
    "axes.accesslog.path_info": NoPersonalData("the login page's path"),
    "axes.accessfailurelog.http_accept": NoPersonalData("the browser's Accept header"),
    "axes.accessfailurelog.path_info": NoPersonalData("the login page's path"),
    "onestop.enrolmentcode.code_sha256": NoPersonalData(
        "a SHA-256 of a random one-time enrolment code (onestop/enrolment.py); the code itself is not kept"
    ),
    "otp_totp.totpdevice.name": NoPersonalData("the device's name ('authenticator')"),
    "otp_totp.totpdevice.key": NoPersonalData("the TOTP secret: hidden in the admin (OTP_ADMIN_HIDE_SENSITIVE_DATA)"),
    "driver_records.recordchange.field": NoPersonalData("the changed field's name"),
    "driver_records.recordchange.source": NoPersonalData(_CHOICE),
    "driver_records.recordchange.jlis_event_id": NoPersonalData(_ID),
    "consents.termsversion.version": NoPersonalData("the terms' version"),
    "consents.termsversion.text": NoPersonalData("the terms of use"),
    "consents.consentstatement.nonce": NoPersonalData("a random one-time value"),
    "consents.consentstatement.refused_code": NoPersonalData("a refusal's code"),
    "consents.consent.reference": NoPersonalData(_ID),
    "consents.consent.channel": NoPersonalData(_CHOICE),
    "consents.consent.statement_sha256": NoPersonalData("a hash of the signed statement (erased with it, R15)"),
    "consents.consent.status": NoPersonalData(_CHOICE),
    "consents.consent.rejected_reason": NoPersonalData("J-LIS's refusal code"),
    "consents.consent.revoked_channel": NoPersonalData(_CHOICE),
    "consents.counterterminal.name": NoPersonalData("a counter terminal's name"),
    "consents.counterterminal.token_prefix": NoPersonalData("the start of a terminal's token"),
    "consents.counterterminal.token_hash": NoPersonalData("a SHA-256 of a terminal's token"),
    "consents.crlimport.issuer_key_id": NoPersonalData("a CA's key id"),
    "consents.revokedcertificate.issuer_key_id": NoPersonalData("a CA's key id"),
    "consents.revokedcertificate.reason": NoPersonalData("a CRL reason code"),
    "jlis_gateway.jlisevent.event_id": NoPersonalData(_ID),
    "jlis_gateway.jlisevent.kind": NoPersonalData(_CHOICE),
    "jlis_gateway.jlisevent.status": NoPersonalData(_CHOICE),
    "jlis_gateway.jlisevent.reason": NoPersonalData("the reason code an event was not applied"),
    "jlis_gateway.quarantinedevent.event_id": NoPersonalData(_ID),
    "jlis_gateway.quarantinedevent.cursor": NoPersonalData("J-LIS's cursor"),
    "jlis_gateway.quarantinedevent.reason": NoPersonalData("why the body could not be read"),
    "jlis_gateway.pollstate.name": NoPersonalData("the poll's name"),
    "jlis_gateway.pollstate.cursor": NoPersonalData("J-LIS's cursor"),
    "jlis_gateway.pollstate.last_error": NoPersonalData("the last poll error's kind"),
    "jlis_gateway.pollstate.claim_token": NoPersonalData("a random token"),
    "jlis_gateway.outboxmessage.kind": NoPersonalData(_CHOICE),
    "jlis_gateway.outboxmessage.idempotency_key": NoPersonalData("a random key"),
    "jlis_gateway.outboxmessage.payload": NoPersonalData(
        "empty: the relay builds each request from the consent when it sends (jlis_gateway.outbox)"
    ),
    "jlis_gateway.outboxmessage.status": NoPersonalData(_CHOICE),
    "jlis_gateway.outboxmessage.last_error": NoPersonalData("the last sending error's kind"),
    "safeguards.suspensionrequest.status": NoPersonalData(_CHOICE),
    "safeguards.suspensionrequest.erased": NoPersonalData("counts of what the erasure emptied, by kind"),
    "safeguards.disclosurerequest.reference": NoPersonalData(_ID),
    "safeguards.disclosurerequest.status": NoPersonalData(_CHOICE),
    "safeguards.disclosurerequest.answer_method": NoPersonalData(_CHOICE),
    "operations.heartbeat.component": NoPersonalData("a component's name"),
}
