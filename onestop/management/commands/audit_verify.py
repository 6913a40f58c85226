from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from onestop.audit import audit_chain_verify, audit_unlinked
from onestop.audit_signing import checkpoints_read, trusted_public_keys
from onestop.models import AuditEvent, AuditLink


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain against the signed checkpoints and name the first row "
        "that does not hold. Exits non-zero on a broken chain or a checkpoint line that does not verify. "
        "Rows not linked into the chain long after they were written are reported (a finding, not a break)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help="the checkpoint file (default: ONESTOP_AUDIT_CHECKPOINT_FILE); a copy from the logs works too",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["checkpoints"] or settings.AUDIT_CHECKPOINT_FILE
        trusted = trusted_public_keys()
        read = checkpoints_read(path, trusted)
        for problem in read.problems:
            self.stderr.write(f"checkpoint file {path}: {problem}")
        if not trusted:
            self.stderr.write("no public key configured (ONESTOP_AUDIT_PUBLIC_KEY): checkpoints cannot be checked")
        elif not read.checkpoints:
            self.stderr.write(
                f"no checkpoint in {path}: only the chain's own links were checked, which a rewrite "
                "that rehashes every row after its change would pass"
            )
        broken = audit_chain_verify(checkpoints=read.checkpoints)
        if broken is not None:
            raise CommandError(f"audit chain broken at row seq={broken.seq}: {broken.reason}")
        if read.problems:
            raise CommandError(f"{len(read.problems)} line(s) of the checkpoint file {path} do not verify")
        unlinked = audit_unlinked(thorough=True)
        if unlinked.count:
            self.stderr.write(
                f"finding: {unlinked.count} audit rows written more than {unlinked.older_than.total_seconds():.0f}s "
                f"ago are not linked into the chain yet (the oldest at {unlinked.oldest}): is the chainer running?"
            )
        summary = f"audit chain intact: {AuditLink.objects.count()} rows"
        if read.checkpoints:
            last = max(read.checkpoints, key=lambda c: (c.seq, c.at))
            summary += f", matching {len(read.checkpoints)} checkpoints (the last signed at {last.at}, seq={last.seq})"
        if waiting := AuditEvent.objects.filter(link__isnull=True).count():
            summary += f"; {waiting} rows written since are not linked yet"
        self.stdout.write(self.style.SUCCESS(summary))
