from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.permission_matrix import MARK_END, MARK_START, matrix_markdown


def document_with_matrix(text: str) -> str:
    """`text` with the part between the matrix markers replaced by the current matrix."""
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {MARK_START} ... {MARK_END} block")
    return text[: start + len(MARK_START)] + "\n" + matrix_markdown() + text[end:]


class Command(BaseCommand):
    help = "Print the permission matrix as Markdown, or write it into a document's matrix block."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="FILE", help="e.g. docs/security.md")

    def handle(self, *args: Any, write: str | None = None, **options: Any) -> None:
        if write is None:
            self.stdout.write(matrix_markdown(), ending="")
            return
        path = Path(write)
        try:
            path.write_text(document_with_matrix(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"matrix written into {path}")
