"""Read quarantined events from J-LIS again once J-LIS has corrected them (docs/jlis-protocol.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jlis_gateway.client import JlisError
from jlis_gateway.models import QuarantinedEvent
from jlis_gateway.services.refetch import quarantined_refetch

SAYS = {
    "stored": "stored: it reads now and will be applied in its holder's order",
    "already_stored": "J-LIS serves it as stored: marked resolved",
    "still_malformed": "still unreadable",
    "conflicting": "J-LIS serves the id with other content than the event stored: ask J-LIS which is right",
    "not_served": "J-LIS no longer serves this id after its cursor",
    "no_id": "it had no readable id: ask J-LIS by its cursor and body hash",
    "resolved_before": "already resolved",
}


class Command(BaseCommand):
    help = "Read quarantined J-LIS events again (by id, or every unresolved one with --all)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="quarantined event ids (the monitor and admin show them)")
        parser.add_argument("--all", action="store_true", help="every quarantined event not yet resolved")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(options["ids"])
        if options["all"]:
            ids += list(QuarantinedEvent.objects.filter(resolved_at=None).order_by("pk").values_list("pk", flat=True))
        if not ids:
            raise CommandError("name quarantined event ids, or --all")
        for pk in dict.fromkeys(ids):
            if not QuarantinedEvent.objects.filter(pk=pk).exists():
                raise CommandError(f"no quarantined event {pk}")
            try:
                result = quarantined_refetch(quarantined_id=pk)
            except JlisError as exc:
                raise CommandError(f"J-LIS did not answer: {exc}") from exc
            detail = f" ({result.reason}; fields: {', '.join(result.paths)})" if result.reason else ""
            self.stdout.write(f"{pk}: {SAYS[result.outcome]}{detail}")
