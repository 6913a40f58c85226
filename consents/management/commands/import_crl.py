"""python manage.py import_crl <file.der> ...: import J-LIS CRLs into the revocation store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consents.jpki.crl import CrlImportError, crl_import


class Command(BaseCommand):
    help = "Import full CRLs (DER) of the trusted JPKI signing CAs; each is checked, numbers only move forward."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="CRL files, DER encoded, oldest first")

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        for path in files:
            try:
                der = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: cannot read ({exc.strerror})") from None
            started = time.perf_counter()
            try:
                record = crl_import(der=der, actor_label="import_crl")
            except CrlImportError as exc:
                raise CommandError(f"{path}: refused: {exc}") from None
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path}: imported CRL #{record.crl_number} of CA key {record.issuer_key_id} "
                    f"(thisUpdate {record.this_update.isoformat()}): {record.entries} entries "
                    f"in {time.perf_counter() - started:.1f}s"
                )
            )
