"""Importing J-LIS CRLs (DER) into the revocation store, in bulk.

The CRL's signature is checked against the signing CA that issued it (found by key), its CRL
number only moves forward per CA key, and its entries (serial, date, reason code) go into
RevokedCertificate: COPY into a staging table and one INSERT ... ON CONFLICT on PostgreSQL, so a
CRL of a million entries imports in seconds; bulk_create on SQLite.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from django.db import connection, transaction
from django.utils import timezone

from consents.models import CrlImport, RevokedCertificate
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction

from .trust import TrustAnchor, TrustStore, trust_store

logger = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=5)
BATCH = 10_000


class CrlImportError(Exception):
    """A CRL that was refused; nothing of it was imported."""


@dataclass(frozen=True)
class VerifiedCrl:
    crl: x509.CertificateRevocationList
    issuer: TrustAnchor
    number: int


def crl_verify(der: bytes, *, trust: TrustStore) -> VerifiedCrl:
    """Parse a DER CRL and check it was signed by one of the trusted signing-CA keys."""
    try:
        crl = x509.load_der_x509_crl(der)
        extensions = crl.extensions
    except ValueError as exc:
        raise CrlImportError(f"not a readable DER CRL ({exc})") from None
    try:
        number = extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        raise CrlImportError("the CRL has no CRL number, so its order cannot be checked") from None
    if any(isinstance(extension.value, x509.DeltaCRLIndicator) for extension in extensions):
        raise CrlImportError("delta CRLs are not supported: import the full CRL")
    if crl.next_update_utc is None:
        # RFC 5280 5.1.2.5: without nextUpdate nothing says when this CRL stops being current.
        raise CrlImportError("the CRL has no nextUpdate, so its freshness cannot be checked")
    issuer = _issuer_of(crl, trust)
    if issuer is None:
        raise CrlImportError("the CRL's signature does not verify with any trusted signing-CA key")
    if crl.last_update_utc > timezone.now() + CLOCK_SKEW:
        raise CrlImportError(f"the CRL's thisUpdate {crl.last_update_utc.isoformat()} is in the future")
    return VerifiedCrl(crl=crl, issuer=issuer, number=number)


def _issuer_of(crl: x509.CertificateRevocationList, trust: TrustStore) -> TrustAnchor | None:
    try:
        hint = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        hint = None
    hint_hex = hint.hex() if hint else None
    for anchor in sorted(trust.anchors, key=lambda a: a.key_id != hint_hex):
        if crl.issuer == anchor.certificate.subject and crl.is_signature_valid(anchor.certificate.public_key()):  # type: ignore[arg-type]
            return anchor
    return None


def _entries(crl: x509.CertificateRevocationList) -> Iterator[tuple[str, datetime, str]]:
    for entry in crl:
        reason = ""
        for extension in entry.extensions:
            if isinstance(extension.value, x509.CRLReason):
                reason = extension.value.reason.value
        yield str(entry.serial_number), entry.revocation_date_utc, reason


def crl_import(*, der: bytes, trust: TrustStore | None = None, actor_label: str = "system") -> CrlImport:
    """Import one full CRL; refuses (CrlImportError) a bad signature or a number not newer."""
    verified = crl_verify(der, trust=trust or trust_store())
    key_id, crl = verified.issuer.key_id, verified.crl
    with transaction.atomic(durable=True):
        _lock_issuer(key_id)
        latest = (
            CrlImport.objects.filter(issuer_key_id=key_id)
            .order_by("-crl_number")
            .values_list("crl_number", flat=True)
            .first()
        )
        if latest is not None and verified.number <= latest:
            raise CrlImportError(
                f"CRL number {verified.number} is not newer than #{latest}, already imported for "
                f"{verified.issuer.description}: nothing was imported"
            )
        if connection.vendor == "postgresql":
            entries = _store_postgres(key_id, _entries(crl))
        else:
            entries = _store_bulk_create(key_id, _entries(crl))
        record = CrlImport.objects.create(
            issuer_key_id=key_id,
            crl_number=verified.number,
            this_update=crl.last_update_utc,
            next_update=crl.next_update_utc,
            entries=entries,
            imported_at=timezone.now(),
        )
        audit_log(
            AuditEntry(
                action=AuditAction.CRL_IMPORTED,
                subject_type="crl_import",
                subject_id=str(record.pk),
                actor_label=actor_label,
                new_values={"issuer_key_id": key_id, "crl_number": str(verified.number), "entries": entries},
            )
        )
    logger.info("crl import %s: %s entries", record.pk, entries)
    return record


def _lock_issuer(key_id: str) -> None:
    """One import per CA key at a time (SQLite's IMMEDIATE transactions already serialise)."""
    if connection.vendor == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(key_id.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _store_postgres(key_id: str, entries: Iterator[tuple[str, datetime, str]]) -> int:
    table = connection.ops.quote_name(RevokedCertificate._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        # Dropped at commit; dropped first too, for a caller that imports twice in one transaction.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.crl_staging")
        cursor.execute(
            "CREATE TEMPORARY TABLE crl_staging (serial varchar(64) NOT NULL, revoked_at timestamptz NOT NULL,"
            " reason varchar(32) NOT NULL) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY crl_staging (serial, revoked_at, reason) FROM STDIN") as copy:
            lines: list[str] = []
            for serial, revoked_at, reason in entries:
                # Digits, an ISO time and a reason keyword: nothing that COPY's text format escapes.
                lines.append(f"{serial}\t{revoked_at.astimezone(UTC).isoformat()}\t{reason}\n")
                if len(lines) == BATCH:
                    copy.write("".join(lines))
                    count += len(lines)
                    lines.clear()
            copy.write("".join(lines))
            count += len(lines)
        # A serial listed twice keeps its earliest date; a changed reason or date is updated.
        cursor.execute(
            f"INSERT INTO {table} (issuer_key_id, serial, revoked_at, reason)"  # noqa: S608 - quoted table name
            " SELECT DISTINCT ON (serial) %s, serial, revoked_at, reason FROM crl_staging"
            " ORDER BY serial, revoked_at"
            " ON CONFLICT (issuer_key_id, serial) DO UPDATE"
            " SET revoked_at = EXCLUDED.revoked_at, reason = EXCLUDED.reason"
            f" WHERE ({table}.revoked_at, {table}.reason) IS DISTINCT FROM (EXCLUDED.revoked_at, EXCLUDED.reason)",
            [key_id],
        )
    return count


def _store_bulk_create(key_id: str, entries: Iterator[tuple[str, datetime, str]]) -> int:
    count = 0
    batch: dict[str, RevokedCertificate] = {}

    def flush() -> None:
        RevokedCertificate.objects.bulk_create(
            list(batch.values()),
            batch_size=2_000,
            update_conflicts=True,
            unique_fields=["issuer_key_id", "serial"],
            update_fields=["revoked_at", "reason"],
        )
        batch.clear()

    for serial, revoked_at, reason in entries:
        count += 1
        listed = batch.get(serial)
        if listed is None or revoked_at < listed.revoked_at:  # listed twice: the earliest date counts
            batch[serial] = RevokedCertificate(
                issuer_key_id=key_id, serial=serial, revoked_at=revoked_at, reason=reason
            )
        if len(batch) == BATCH:
            flush()
    flush()
    return count
