from django.core.management.base import BaseCommand, CommandError, CommandParser

from consents.services.terminals import terminal_create
from onestop.models import Office


class Command(BaseCommand):
    help = "Create a counter terminal for an office and print its API token (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--office", required=True, help="the office code, e.g. 13-LC-FUCHU")
        parser.add_argument("--name", required=True, help="a name that tells the terminal apart")

    def handle(self, *args: object, office: str, name: str, **options: object) -> None:
        found = Office.objects.filter(code=office).first()
        if found is None:
            raise CommandError(f"no office with code {office}")
        try:
            terminal, token = terminal_create(name=name, office=found, actor=None)
        except ValueError as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"terminal {terminal.pk} ({terminal.name}, {found.code})")
        self.stdout.write(f"token: {token}")
