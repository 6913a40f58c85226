from typing import Any

from django.core.management.base import BaseCommand, CommandError

from onestop.audit import audit_chain_verify
from onestop.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and name the first broken row."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit_chain_verify()
        if broken is not None:
            raise CommandError(f"audit chain broken at row seq={broken.seq}: {broken.reason}")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {AuditEvent.objects.count()} rows"))
