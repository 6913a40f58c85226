"""python manage.py testcard issue|expired|sign|revoke: the JPKI-TEST card from the command line.

The same code the tests and the demo use (consents.jpki.testcard), on the hierarchy kept in
settings.JPKI_TEST_DIR. Refused unless settings.JPKI_TRUST is "test": its keys never reach the
production trust.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy


def _holder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="family and given name, split by a full-width space")
    parser.add_argument("--address", required=True, help="from the prefecture, full-width")
    parser.add_argument("--birth-date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--sex", default="1", choices=["1", "2", "3"])
    parser.add_argument("--name-substituted", default="", help="substituted-character marker of the name")
    parser.add_argument("--address-substituted", default="", help="substituted-character marker of the address")
    parser.add_argument("--out", required=True, type=Path, help="writes OUT.pem (certificate) and OUT.key (key)")


class Command(BaseCommand):
    help = "Issue, sign with, revoke and expire JPKI-TEST signing certificates (test and demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        _holder_arguments(commands.add_parser("issue", help="issue a holder's signing certificate"))
        expired = commands.add_parser("expired", help="issue a certificate that has already expired")
        _holder_arguments(expired)
        expired.add_argument("--expired-on", type=date.fromisoformat, help="its last valid day (default: yesterday)")
        sign = commands.add_parser("sign", help="sign a statement file as the card does (PKCS#1 v1.5, SHA-256)")
        sign.add_argument("--card", required=True, type=Path, help="the OUT prefix given to issue")
        sign.add_argument("--statement", required=True, type=Path)
        sign.add_argument("--out", type=Path, help="signature file (default: STATEMENT.sig)")
        revoke = commands.add_parser("revoke", help="add a certificate to the test CRL and write the CRL (DER)")
        which = revoke.add_mutually_exclusive_group(required=True)
        which.add_argument("--card", type=Path, help="the OUT prefix given to issue")
        which.add_argument("--serial", type=int)
        revoke.add_argument("--reason", choices=[r.value for r in x509.ReasonFlags], help="CRL reason code")
        revoke.add_argument("--out", type=Path, help="also write the CRL here")

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        if settings.JPKI_TRUST != "test":
            raise CommandError("the test card works only when ONESTOP_JPKI_TRUST is 'test'")
        hierarchy = TestHierarchy.load_or_create(Path(settings.JPKI_TEST_DIR))
        getattr(self, f"_{command}")(hierarchy, **options)

    def _issue(self, hierarchy: TestHierarchy, **options: Any) -> None:
        self._save(hierarchy.issue_card(_holder(options)), options["out"])

    def _expired(self, hierarchy: TestHierarchy, **options: Any) -> None:
        self._save(hierarchy.issue_expired_card(_holder(options), expired_on=options["expired_on"]), options["out"])

    def _save(self, card: TestCard, out: Path) -> None:
        certificate, key = card.save(out)
        end = card.certificate.not_valid_after_utc.isoformat()
        self.stdout.write(f"serial {card.serial}, valid until {end}\ncertificate {certificate}\nkey {key}")

    def _sign(self, hierarchy: TestHierarchy, *, card: Path, statement: Path, out: Path | None, **_: Any) -> None:
        signature = _card(card).sign(statement.read_bytes())
        target = out or statement.with_name(statement.name + ".sig")
        target.write_bytes(signature)
        self.stdout.write(f"signature {target}")

    def _revoke(self, hierarchy: TestHierarchy, **options: Any) -> None:
        serial = options["serial"] if options["card"] is None else _card(options["card"]).serial
        reason = x509.ReasonFlags(options["reason"]) if options["reason"] else None
        der = hierarchy.revoke(serial, reason=reason)
        written = [Path(settings.JPKI_TEST_DIR) / "signing_ca.crl"]
        if options["out"]:
            options["out"].write_bytes(der)
            written.append(options["out"])
        number = x509.load_der_x509_crl(der).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        self.stdout.write(f"revoked serial {serial}; CRL #{number} written to " + ", ".join(map(str, written)))


def _holder(options: dict[str, Any]) -> CardHolder:
    return CardHolder(
        name=options["name"],
        address=options["address"],
        birth_date=options["birth_date"],
        sex=options["sex"],
        name_substituted=options["name_substituted"],
        address_substituted=options["address_substituted"],
    )


def _card(prefix: Path) -> TestCard:
    try:
        return TestCard.load(prefix)
    except FileNotFoundError as exc:
        raise CommandError(f"no card at {prefix} ({exc.filename})") from None
