from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.personal_data import MARK_END, MARK_START, map_markdown


def document_with_map(text: str) -> str:
    """`text` with the part between the map's markers replaced by the current map."""
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {MARK_START} ... {MARK_END} block")
    return text[: start + len(MARK_START)] + "\n" + map_markdown() + text[end:]


class Command(BaseCommand):
    help = "Print the personal-data map as Markdown, or write it into a document's map block."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="FILE", help="e.g. docs/personal-data.md")

    def handle(self, *args: Any, write: str | None = None, **options: Any) -> None:
        if write is None:
            self.stdout.write(map_markdown(), ending="")
            return
        path = Path(write)
        try:
            path.write_text(document_with_map(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"map written into {path}")
