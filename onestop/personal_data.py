"""The personal-data map: every column of every table that can hold personal data, what it holds,
why (the rule), who can read it, how long it is kept and what erases it; and every other text,
JSON or binary column, declared to hold none, with the reason.

docs/personal-data.md is written from here (`manage.py personal_data_map --write
docs/personal-data.md`). tests/onestop/test_personal_data_map.py fails when a model's text, JSON,
binary or address column is in neither list (so no new column slips in), when an entry names a
column that no longer exists, and when the document differs from this module. Columns are named
`app_label.model.field`, as Django labels them; no model is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

MARK_START = "<!-- personal-data-map:start -->"
MARK_END = "<!-- personal-data-map:end -->"


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
SAFEGUARDS = "supervisors of the holder's prefecture and auditors (safeguards pages); auditors (admin)"
NOBODY = "no page or API shows it; the database's roles only"

# How long, and what erases it.
RECORD_LIFE = "as long as the police keep the record (Road Traffic Act); the service never deletes a record"
FOREVER = "no time limit: nothing deletes it"
NOT_ERASED = "nothing"
R15 = "a confirmed suspension (R15: safeguards.services.erasure)"

_RECORD = "the police's own licence or driving-history record (R10, R13), kept current by J-LIS's updates (R2)"
_SERIAL = "the serial (発行番号) of the holder's signing certificate: how J-LIS names the holder (R13)"

PERSONAL: dict[str, Personal] = {
    # --- driver records ---------------------------------------------------------------------
    "driver_records.driverrecord.number": Personal(
        "the licence or driving-history number",
        _RECORD,
        DIRECTORY + "; the terminal API (consent status)",
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.name": Personal("the holder's name", _RECORD, DIRECTORY, RECORD_LIFE, NOT_ERASED),
    "driver_records.driverrecord.name_key": Personal(
        "the name folded for search (NFKC, no spaces)",
        "finding a holder by name at the counter",
        DIRECTORY,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.birth_date": Personal(
        "the holder's date of birth", _RECORD, HOLDER_PAGE, RECORD_LIFE, NOT_ERASED
    ),
    "driver_records.driverrecord.address": Personal(
        "the holder's address", _RECORD, HOLDER_PAGE, RECORD_LIFE, NOT_ERASED
    ),
    "driver_records.driverrecord.prefecture": Personal(
        "the prefecture of residence (part of the address)",
        "R4, R9: which counters serve the holder",
        DIRECTORY,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.kind": Personal(
        "licence or driving-history certificate", _RECORD, HOLDER_PAGE, RECORD_LIFE, NOT_ERASED
    ),
    "driver_records.driverrecord.holding_status": Personal(
        "what the holder carries (card only, card and plastic, plastic only)",
        "R1, R12",
        HOLDER_PAGE,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.cert_serial": Personal(_SERIAL, "R10, R13", HOLDER_PAGE, RECORD_LIFE, NOT_ERASED),
    "driver_records.driverrecord.cert_issuer_key_id": Personal(
        "the key id of the CA that issued the linked certificate",
        "R13 (a serial is unique per issuer)",
        HOLDER_PAGE,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.cert_not_after": Personal(
        "the linked certificate's end of validity (the 5th birthday after issue: it tells the birthday)",
        "R11: an expired certificate stops the feed",
        HOLDER_PAGE,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.recordchange.old_value": Personal(
        "a changed field's value before the change (name, address, birth date, holding status, serial...)",
        "the record's history: what J-LIS changed (R10) and what the counter changed",
        HOLDER_PAGE,
        FOREVER,
        R15 + ": every value J-LIS gave; values typed at the counter stay",
    ),
    "driver_records.recordchange.new_value": Personal(
        "a changed field's value after the change",
        "the record's history: what J-LIS changed (R10) and what the counter changed",
        HOLDER_PAGE,
        FOREVER,
        R15 + ": every value J-LIS gave; values typed at the counter stay",
    ),
    # --- consents -------------------------------------------------------------------------------
    "consents.consentstatement.text": Personal(
        "the statement shown for signing: record number, kind, items chosen, office, time",
        "R3: the exact bytes the holder's card signs",
        "the office that made it (counter pages, its terminals through the API); auditors (admin)",
        FOREVER,
        R15,
    ),
    "consents.consentstatement.items": Personal(
        "the items the holder chose (address, name, date of birth)", "R2", HOLDER_PAGE, FOREVER, NOT_ERASED
    ),
    "consents.consent.items": Personal(
        "the items the holder chose",
        "R2, R8: the consent's status",
        HOLDER_PAGE + "; the terminal API (status)",
        FOREVER,
        NOT_ERASED,
    ),
    "consents.consent.statement_bytes": Personal(
        "the signed statement (record number, items, office, time)",
        "R3: evidence of what was signed",
        HOLDER_PAGE + " (the report says whether it is held)",
        FOREVER,
        R15,
    ),
    "consents.consent.signature": Personal(
        "the holder's signature over the statement",
        "R3: evidence",
        NOBODY + " (the admin leaves it out)",
        FOREVER,
        R15,
    ),
    "consents.consent.certificate": Personal(
        "the holder's signing certificate: name, address, date of birth and sex",
        "R3: the evidence the consent was signed with the holder's card",
        NOBODY + " (the admin leaves it out)",
        FOREVER,
        R15,
    ),
    "consents.consent.verification": Personal(
        "how the signature was checked: serial, issuer key, validity, trust anchor, revocation source",
        "R3",
        AUDITORS,
        FOREVER,
        R15 + " (keeps only the check's own facts)",
    ),
    "consents.consent.cert_serial": Personal(_SERIAL, "R3, R13", HOLDER_PAGE, FOREVER, NOT_ERASED),
    "consents.consent.cert_issuer_key_id": Personal(
        "the key id of the certificate's issuer", "R3, R13", HOLDER_PAGE, FOREVER, NOT_ERASED
    ),
    "consents.consent.jlis_consent_id": Personal(
        "J-LIS's id of the holder's consent",
        "R5, R9: how J-LIS names the consent",
        HOLDER_PAGE,
        FOREVER,
        NOT_ERASED,
    ),
    "consents.consent.revoked_reason": Personal(
        "the supervisor's reason for revoking (free text, may name people; never a My Number, R14)",
        "R9",
        HOLDER_PAGE,
        FOREVER,
        NOT_ERASED,
    ),
    "consents.mynaportallink.cert_serial": Personal(
        _SERIAL + ", as linked to Mynaportal", "R4, R13", HOLDER_PAGE, FOREVER, NOT_ERASED
    ),
    "consents.revokedcertificate.serial": Personal(
        "serials of revoked signing certificates (anyone's: J-LIS's CRL)",
        "R3: the revocation check",
        AUDITORS,
        FOREVER + " (each CRL import adds and updates entries)",
        NOT_ERASED,
    ),
    # --- J-LIS gateway ---------------------------------------------------------------------------
    "jlis_gateway.jlisevent.serial": Personal(_SERIAL, "R9-R13", AUDITORS, FOREVER, NOT_ERASED),
    "jlis_gateway.jlisevent.jlis_consent_id": Personal(
        "J-LIS's id of the holder's consent", "R5, R9", AUDITORS, FOREVER, NOT_ERASED
    ),
    "jlis_gateway.jlisevent.payload": Personal(
        "what J-LIS sent about the holder: the latest name, address, date of birth (R10), a Mynaportal "
        "registration's certificate data (R11), serials, dates",
        "R2, R9-R12: applied to the record, then kept as the record of what J-LIS gave",
        AUDITORS + "; the holder, in a disclosure report (R16)",
        FOREVER,
        "the applier scrubs the items the holder did not choose (R2); " + R15 + " keeps only identifiers and dates",
    ),
    "jlis_gateway.quarantinedevent.raw": Personal(
        "an unreadable event's body as received (may hold every item J-LIS sent)",
        "operators look into what J-LIS sent",
        AUDITORS,
        FOREVER,
        R15 + ", for bodies naming the holder",
    ),
    "jlis_gateway.outboxmessage.response": Personal(
        "J-LIS's answer to a submission: its consent id and status", "R5", AUDITORS, FOREVER, NOT_ERASED
    ),
    # --- safeguards ------------------------------------------------------------------------------
    "safeguards.suspensionrequest.reason_code": Personal(
        "the prohibited act the holder is said to have done (article 6)", "R15", SAFEGUARDS, FOREVER, NOT_ERASED
    ),
    "safeguards.suspensionrequest.grounds": Personal(
        "whether the act is evident or suspected (article 7)", "R15", SAFEGUARDS, FOREVER, NOT_ERASED
    ),
    "safeguards.suspensionrequest.note": Personal(
        "the proposer's account of the act (free text, may name people; never a My Number, R14)",
        "R15 (the audit trail keeps its SHA-256 only)",
        SAFEGUARDS,
        FOREVER,
        NOT_ERASED,
    ),
    "safeguards.suspensionrequest.decision_note": Personal(
        "the deciding supervisor's note (free text)", "R15 (four eyes)", SAFEGUARDS, FOREVER, NOT_ERASED
    ),
    "safeguards.disclosurerequest.requester_kind": Personal(
        "who asked: the holder, a legal representative or an agent", "R16", SAFEGUARDS, FOREVER, NOT_ERASED
    ),
    "safeguards.disclosurerequest.requester_name": Personal(
        "the requester's name as written on the form (not in the audit trail)",
        "R16",
        SAFEGUARDS,
        FOREVER,
        NOT_ERASED,
    ),
    "safeguards.disclosurerequest.identity_document": Personal(
        "which identity document was seen (never its number)",
        "R16: identity is verified",
        SAFEGUARDS,
        FOREVER,
        NOT_ERASED,
    ),
    "safeguards.disclosurerequest.identity_note": Personal(
        "how identity was checked (free text; never a document's number)", "R16", SAFEGUARDS, FOREVER, NOT_ERASED
    ),
    "safeguards.disclosurerequest.fee_receipt_number": Personal(
        "the fee's receipt number", "R16: a fee is taken", SAFEGUARDS, FOREVER, NOT_ERASED
    ),
    # --- the audit trail and the idempotency layer -----------------------------------------------
    "onestop.auditevent.actor_label": Personal(
        "who acted: a staff username, a terminal's name or J-LIS",
        "the audit trail (security.md)",
        AUDITORS,
        FOREVER + " (append-only: the database refuses changes)",
        NOT_ERASED,
    ),
    "onestop.auditevent.record_number": Personal(
        "the holder's record number",
        "the audit trail: which holder",
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.auditevent.serial": Personal(_SERIAL, "the audit trail", AUDITORS, FOREVER + " (append-only)", NOT_ERASED),
    "onestop.auditevent.subject_id": Personal(
        "the changed object's id (a record's or a user's)",
        "the audit trail",
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.auditevent.old_values": Personal(
        "the changed fields' old values: holding status, prefecture, serials and statuses in clear; name, "
        "address, birth date, sex, certificate and statement masked (onestop.audit.PERSONAL_FIELDS)",
        "the audit trail",
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.auditevent.new_values": Personal(
        "the changed fields' new values, masked as above; a revocation's reason in full; an admin export's shape "
        "(typed values masked)",
        "the audit trail",
        AUDITORS,
        FOREVER + " (append-only)",
        NOT_ERASED,
    ),
    "onestop.idempotentrequest.body": Personal(
        "the first answer to a form or API request, replayed to a repeat: a page or JSON that may quote a "
        "holder's data (a statement's text, a holder page); never an answer that refused a My Number (R14)",
        "a double click or a retried request does the work once (security.md)",
        NOBODY + "; the same caller's repeat",
        "24 hours (onestop.idempotency.KEEP_FOR; the daily purge at 03:30)",
        R15 + " for answers about the holder; the purge",
    ),
    "onestop.idempotentanswerholder.record_number": Personal(
        "the record numbers an answer was about",
        "R15: finding the answers to erase",
        NOBODY,
        "as long as its answer",
        R15 + "; the purge",
    ),
    # --- staff and their logins ------------------------------------------------------------------
    "onestop.user.username": Personal(
        "a staff member's username",
        "authentication",
        AUDITORS + "; the audit trail names it",
        FOREVER,
        NOT_ERASED + " (an account is deactivated, not deleted: audit rows refer to it)",
    ),
    "onestop.user.first_name": Personal("a staff member's given name", "authentication", AUDITORS, FOREVER, NOT_ERASED),
    "onestop.user.last_name": Personal("a staff member's family name", "authentication", AUDITORS, FOREVER, NOT_ERASED),
    "onestop.user.email": Personal("a staff member's e-mail address", "authentication", AUDITORS, FOREVER, NOT_ERASED),
    "axes.accessattempt.username": Personal(
        "the username typed at a failed login (never a My Number: the form refuses one first)",
        "lockout after failed logins (security.md)",
        AUDITORS,
        "until a successful login or the cool-off resets it",
        "a successful login (AXES_RESET_ON_SUCCESS)",
    ),
    "axes.accessattempt.ip_address": Personal(
        "the address a failed login came from", "lockout", AUDITORS, "as the username above", "as above"
    ),
    "axes.accessattempt.user_agent": Personal("the browser's description", "lockout", AUDITORS, "as above", "as above"),
    "axes.accessattempt.get_data": Personal(
        "the login request's query string", "lockout", AUDITORS, "as above", "as above"
    ),
    "axes.accessattempt.post_data": Personal(
        "the login form's fields, the password masked", "lockout", AUDITORS, "as above", "as above"
    ),
    "axes.accesslog.username": Personal(
        "a successful login's username", "login history", AUDITORS, FOREVER, NOT_ERASED
    ),
    "axes.accesslog.ip_address": Personal("the address it came from", "login history", AUDITORS, FOREVER, NOT_ERASED),
    "axes.accesslog.user_agent": Personal("the browser's description", "login history", AUDITORS, FOREVER, NOT_ERASED),
    "axes.accesslog.session_hash": Personal(
        "a hash of the session key", "login history", AUDITORS, FOREVER, NOT_ERASED
    ),
    "axes.accessfailurelog.username": Personal(
        "each failed login's username",
        "login history (AXES_ENABLE_ACCESS_FAILURE_LOG)",
        AUDITORS,
        FOREVER,
        NOT_ERASED,
    ),
    "axes.accessfailurelog.ip_address": Personal(
        "the address it came from", "login history", AUDITORS, FOREVER, NOT_ERASED
    ),
    "axes.accessfailurelog.user_agent": Personal(
        "the browser's description", "login history", AUDITORS, FOREVER, NOT_ERASED
    ),
    "sessions.session.session_data": Personal(
        "a signed-in staff member's session: user id, password hash's digest, second-factor device",
        "authentication",
        NOBODY,
        "30 minutes idle (SESSION_IDLE_SECONDS); an expired row stays until "
        "`manage.py clearsessions`, which nothing schedules",
        "logging out; clearsessions",
    ),
    "admin.logentry.object_repr": Personal(
        "a changed object's name as the admin showed it (a record's number, a username)",
        "Django admin's change history",
        "the superuser who made the change (admin's recent actions)",
        FOREVER,
        NOT_ERASED,
    ),
    "admin.logentry.object_id": Personal(
        "the changed object's id", "Django admin's change history", "the superuser who made it", FOREVER, NOT_ERASED
    ),
    "admin.logentry.change_message": Personal(
        "which fields an admin change touched (names, not values)",
        "Django admin's change history",
        "the superuser who made it",
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
    "onestop.user.password": NoPersonalData("a password hash: a secret, kept out of every page and log"),
    "onestop.auditevent.action": NoPersonalData("the action's name"),
    "onestop.auditevent.subject_type": NoPersonalData("a model's name"),
    "onestop.auditevent.request_id": NoPersonalData("the request's random id"),
    "onestop.auditevent.prev_hash": NoPersonalData("a hash of the previous row"),
    "onestop.auditevent.row_hash": NoPersonalData("a hash of the row"),
    "onestop.auditchainhead.last_hash": NoPersonalData("a hash"),
    "onestop.idempotentrequest.caller": NoPersonalData("a SHA-256 of the caller's credentials"),
    "onestop.idempotentrequest.key": NoPersonalData("the client's random key (letters, digits, -_.:)"),
    "onestop.idempotentrequest.fingerprint": NoPersonalData(
        "a SHA-256 of the request (not kept for a request that refused a My Number)"
    ),
    "onestop.idempotentrequest.headers": NoPersonalData("Content-Type, Location, Content-Language"),
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def map_markdown() -> str:
    """The map as Markdown, table by table in the order of INSTALLED_APPS."""
    from django.apps import apps

    lines: list[str] = []
    for model_class in apps.get_models():
        model, table = model_class._meta.label_lower, model_class._meta.db_table
        personal = {k: v for k, v in PERSONAL.items() if k.rsplit(".", 1)[0] == model}
        none = {k: v for k, v in NO_PERSONAL_DATA.items() if k.rsplit(".", 1)[0] == model}
        if not personal and not none:
            continue
        lines += ["", f"### `{table}` ({model})", ""]
        if personal:
            lines += [
                "| column | holds | why | who can read it | kept | erased by |",
                "|---|---|---|---|---|---|",
            ]
            for label, p in personal.items():
                cells = [p.holds, p.rule, p.readers, p.kept, p.erased_by]
                lines.append(f"| `{label.rsplit('.', 1)[1]}` | " + " | ".join(map(_cell, cells)) + " |")
        else:
            lines.append("No column holds personal data.")
        if none:
            lines.append("")
            listed = "; ".join(f"`{label.rsplit('.', 1)[1]}` ({_cell(n.why)})" for label, n in none.items())
            lines.append(f"Holding none: {listed}.")
    return "\n".join(lines[1:]) + "\n"
