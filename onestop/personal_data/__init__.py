"""The personal-data map: every column of every table that can hold personal data, what it holds,
why (the rule), who can read it, how long it is kept and what erases it; and every other text,
JSON or binary column, declared to hold none, with the reason.

docs/personal-data.md is written from here (`manage.py personal_data_map --write
docs/personal-data.md`). tests/onestop/test_personal_data_map.py fails when a model's text, JSON,
binary or address column is in neither list (so no new column slips in), when an entry names a
column that no longer exists, and when the document differs from this module. Columns are named
`app_label.model.field`, as Django labels them; no model is imported here.
"""

from __future__ import annotations

from .holders import HOLDER_COLUMNS
from .kinds import NoPersonalData, Personal
from .service import NO_PERSONAL_DATA, SERVICE_COLUMNS

__all__ = ["MARK_END", "MARK_START", "NO_PERSONAL_DATA", "PERSONAL", "NoPersonalData", "Personal", "map_markdown"]

MARK_START = "<!-- personal-data-map:start -->"
MARK_END = "<!-- personal-data-map:end -->"
PERSONAL: dict[str, Personal] = {**HOLDER_COLUMNS, **SERVICE_COLUMNS}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def map_markdown() -> str:
    """The map as Markdown, table by table in the order of INSTALLED_APPS."""
    from django.apps import apps

    lines: list[str] = []
    unlisted: list[str] = []
    for model_class in apps.get_models(include_auto_created=True):
        model, table = model_class._meta.label_lower, model_class._meta.db_table
        personal = {k: v for k, v in PERSONAL.items() if k.rsplit(".", 1)[0] == model}
        none = {k: v for k, v in NO_PERSONAL_DATA.items() if k.rsplit(".", 1)[0] == model}
        if not personal and not none:
            unlisted.append(f"`{table}`")
            continue
        lines += ["", f"### `{table}` ({model})", ""]
        if personal:
            lines += [
                "| column | holds | why | who can read it | kept | erased by |",
                "|---|---|---|---|---|---|",
            ]
            for label, p in personal.items():
                cells = [p.holds, p.rule, p.readers, p.kept, p.erased_by]
                lines.append(f"| `{label.rsplit('.', 1)[1]}` | " + " | ".join(map(_cell, cells)) + " |")
        else:
            lines.append("No column holds personal data.")
        if none:
            lines.append("")
            listed = "; ".join(f"`{label.rsplit('.', 1)[1]}` ({_cell(n.why)})" for label, n in none.items())
            lines.append(f"Holding none: {listed}.")
    if unlisted:
        # Every table is named: these have no column of text, JSON, bytes, address, UUID or path.
        lines += ["", "### Other tables", ""]
        lines.append("No column of text, JSON, bytes, an address, a UUID or a path (ids, numbers, dates and flags): ")
        lines[-1] += ", ".join(unlisted) + "."
    return "\n".join(lines[1:]) + "\n"
