"""The holders' columns: their records, consents, J-LIS's events and the safeguards."""

from __future__ import annotations

from .kinds import (
    AUDITORS,
    DIRECTORY,
    EVENT_LIFE,
    FOREVER,
    HISTORY_LIFE,
    HOLDER_PAGE,
    NOBODY,
    NOT_ERASED,
    R15,
    RECORD,
    RECORD_LIFE,
    SAFEGUARDS,
    SERIAL,
    Personal,
)

HOLDER_COLUMNS: dict[str, Personal] = {
    # --- driver records ---------------------------------------------------------------------
    "driver_records.driverrecord.number": Personal(
        "the licence or driving-history number",
        RECORD,
        DIRECTORY + "; the terminal API (consent status)",
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.name": Personal("the holder's name", RECORD, DIRECTORY, RECORD_LIFE, NOT_ERASED),
    "driver_records.driverrecord.name_key": Personal(
        "the name folded for search (NFKC, no spaces)",
        "R4, R8: the counter finds the holder by name to register a consent or show its status",
        DIRECTORY,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.given_key": Personal(
        "the given name's part of the search key, a column the database generates from name_key",
        "R4, R8: the counter finds the holder by given name too",
        DIRECTORY,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.birth_date": Personal(
        "the holder's date of birth", RECORD, HOLDER_PAGE, RECORD_LIFE, NOT_ERASED
    ),
    "driver_records.driverrecord.address": Personal(
        "the holder's address", RECORD, HOLDER_PAGE, RECORD_LIFE, NOT_ERASED
    ),
    "driver_records.driverrecord.prefecture": Personal(
        "the prefecture of residence, a column the database generates from the address",
        "R4, R9: which counters serve the holder",
        DIRECTORY,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.kind": Personal(
        "licence or driving-history certificate", RECORD, HOLDER_PAGE, RECORD_LIFE, NOT_ERASED
    ),
    "driver_records.driverrecord.holding_status": Personal(
        "what the holder carries (card only, card and plastic, plastic only)",
        "R1, R12",
        HOLDER_PAGE,
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.driverrecord.cert_serial": Personal(SERIAL, "R10, R13", HOLDER_PAGE, RECORD_LIFE, NOT_ERASED),
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
    "driver_records.driverrecord.service_stopped_at": Personal(
        "when the service was stopped for the holder: that a second supervisor confirmed a prohibited act "
        "(its reason stays with the suspension request)",
        "R15: no consent can be registered, J-LIS's updates are neither kept nor applied",
        HOLDER_PAGE + " (the feed state and the refusal say the service is stopped)",
        RECORD_LIFE,
        NOT_ERASED,
    ),
    "driver_records.recordchange.old_value": Personal(
        "a changed field's value before the change (name, address, birth date, holding status, serial...)",
        "the record's history: what J-LIS changed (R10) and what the counter changed; a disclosure request "
        "(R16) and an audit read it",
        HOLDER_PAGE,
        HISTORY_LIFE,
        R15 + ": every value J-LIS gave; values typed at the counter stay; the retention run deletes the row",
    ),
    "driver_records.recordchange.new_value": Personal(
        "a changed field's value after the change",
        "the record's history: what J-LIS changed (R10) and what the counter changed; a disclosure request "
        "(R16) and an audit read it",
        HOLDER_PAGE,
        HISTORY_LIFE,
        R15 + ": every value J-LIS gave; values typed at the counter stay; the retention run deletes the row",
    ),
    "driver_records.recordchange.reason": Personal(
        "staff's reason for a change of the record (free text, may name people; never a My Number, R14)",
        "R12: a holding-status change stops the feed; why it was recorded",
        HOLDER_PAGE,
        FOREVER,
        NOT_ERASED,
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
        "the holder's signing certificate: the four basic items (name, address, date of birth, sex) in full; "
        "the one column meant to keep them (see 'The signing certificate' above)",
        "R3: the evidence the consent was signed with the holder's card",
        NOBODY + " (the admin and its export leave it out; the disclosure report says whether it is held); "
        "J-LIS, in the consent's submission",
        "as long as the consent, which nothing deletes: no time limit",
        R15,
    ),
    "consents.consent.verification": Personal(
        "how the signature was checked: serial, issuer key, validity, trust anchor, revocation source",
        "R3",
        AUDITORS,
        FOREVER,
        R15 + " (keeps only the check's own facts)",
    ),
    "consents.consent.cert_serial": Personal(SERIAL, "R3, R13", HOLDER_PAGE, FOREVER, NOT_ERASED),
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
    "consents.consent.withdrawn_reason": Personal(
        "the supervisor's reason for withdrawing a consent taken by mistake (free text, may name people; "
        "never a My Number, R14)",
        "R6, R9: why a pending consent taken by mistake never took effect (withdrawn before J-LIS reflected it)",
        HOLDER_PAGE,
        FOREVER,
        NOT_ERASED,
    ),
    "consents.mynaportallink.cert_serial": Personal(
        SERIAL + ", as linked to Mynaportal", "R4, R13", HOLDER_PAGE, FOREVER, NOT_ERASED
    ),
    "consents.revokedcertificate.serial": Personal(
        "serials of revoked signing certificates (anyone's: J-LIS's CRL)",
        "R3: the revocation check",
        AUDITORS,
        FOREVER + " (each CRL import adds and updates entries)",
        NOT_ERASED,
    ),
    # --- J-LIS gateway ---------------------------------------------------------------------------
    "jlis_gateway.jlisevent.serial": Personal(SERIAL, "R9-R13", AUDITORS, EVENT_LIFE, "the retention run (the row)"),
    "jlis_gateway.jlisevent.jlis_consent_id": Personal(
        "J-LIS's id of the holder's consent", "R5, R9", AUDITORS, EVENT_LIFE, "the retention run (the row)"
    ),
    "jlis_gateway.jlisevent.payload": Personal(
        "what J-LIS sent about the holder: of the latest name, address and date of birth (R10) only the items "
        "of the holder's consents in force or pending when it arrived, none for a serial nobody knew (the door, "
        "docs/jlis-protocol.md); a Mynaportal registration's signing certificate only until the applier has "
        "read it (R11: it then lives on the consent); serials, dates",
        "R2, R9-R12: applied to the record, then kept to look into a question about an update",
        AUDITORS + "; the holder, in a disclosure report (R16)",
        EVENT_LIFE,
        "the applier scrubs the items the governing consent does not name (R2) and drops a registration's "
        "certificate, applied or not; " + R15 + " keeps only identifiers and dates; the retention run deletes "
        "the row",
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
}
