"""`manage.py health [check ...]`: the readiness checks from the command line, for docker
compose's health checks (beat has no HTTP port) and for an operator's shell. Exit 1 on failure."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.health import CHECKS, checks_run


class Command(BaseCommand):
    help = "Run health checks (all by default); exit 1 if any fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("checks", nargs="*", choices=sorted(CHECKS), metavar="check", help=", ".join(CHECKS))

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = checks_run(options["checks"] or None)
        for outcome in outcomes:
            self.stdout.write(f"{outcome.name}: {'ok' if outcome.ok else 'FAILING'} ({outcome.detail})")
        failing = [outcome.name for outcome in outcomes if not outcome.ok]
        if failing:
            raise CommandError(f"failing: {', '.join(failing)}")
