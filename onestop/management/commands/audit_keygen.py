from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from onestop.audit_signing import public_key_text, signing_key_create


class Command(BaseCommand):
    help = (
        "Make an Ed25519 key to sign the audit chain's checkpoints: the private key goes to PATH "
        "(readable by its owner only; never overwritten), the public key is printed for "
        "ONESTOP_AUDIT_PUBLIC_KEY. Keep the private key out of the database and its backups."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = signing_key_create(options["path"])
        except FileExistsError as exc:
            raise CommandError(f"{options['path']} exists: a signing key is never overwritten") from exc
        self.stdout.write(f"ONESTOP_AUDIT_PUBLIC_KEY={public_key_text(key)}")
