"""The personal-data map (onestop/personal_data/, docs/personal-data.md) covers every column that
can hold text, JSON, bytes or an address, of every model installed (the libraries' included), so
no new column slips in unmapped; and the document is the map."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from io import StringIO
from pathlib import Path

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import models
from django.db.models.functions import Length, Upper

from onestop.management.commands.personal_data_map import document_with_map
from onestop.models import User
from onestop.personal_data import MARK_END, MARK_START, NO_PERSONAL_DATA, PERSONAL, map_markdown
from onestop.personal_data.holders import HOLDER_COLUMNS
from onestop.personal_data.service import SERVICE_COLUMNS

DOC = Path(__file__).resolve().parents[2] / "docs" / "personal-data.md"
# What can carry a person's data in a column: text of any kind (e-mail, slugs, URLs and file
# paths are text too), JSON, bytes, network addresses and UUIDs.
CARRIERS = (models.CharField, models.TextField, models.JSONField, models.BinaryField, models.GenericIPAddressField)
CARRIERS += (models.UUIDField, models.FileField, models.FilePathField)


def _columns() -> Iterator[tuple[str, models.Field]]:
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            yield f"{model._meta.label_lower}.{field.name}", field


def stored_as(field: models.Field) -> models.Field:
    """The field whose values the column holds: a generated column's output, a foreign key's
    target (a key may be a text column of another table), an array's element."""
    if isinstance(field, models.GeneratedField):
        return stored_as(field.output_field)
    if isinstance(field, models.ForeignKey):  # one-to-one included
        return stored_as(field.target_field)
    base = getattr(field, "base_field", None)  # django.contrib.postgres's ArrayField
    return stored_as(base) if isinstance(base, models.Field) else field


def unmapped(columns: Iterable[tuple[str, models.Field]]) -> list[str]:
    """The carrier columns in neither list of the map."""
    return sorted(
        label
        for label, field in columns
        if isinstance(stored_as(field), CARRIERS) and label not in PERSONAL and label not in NO_PERSONAL_DATA
    )


def test_every_text_json_binary_or_address_column_is_in_the_map():
    missing = unmapped(_columns())
    assert missing == [], "add these to onestop/personal_data/ (PERSONAL or NO_PERSONAL_DATA): " + ", ".join(missing)


def test_the_check_finds_a_new_unmapped_column():
    """A column added tomorrow, of each kind, is reported (the check can fail)."""
    new = [(f"driver_records.driverrecord.new_{i}", kind()) for i, kind in enumerate(CARRIERS)]
    assert unmapped([*_columns(), *new]) == sorted(label for label, _field in new)
    assert unmapped([("driver_records.driverrecord.new_date", models.DateField())]) == []  # not a carrier


def test_the_check_sees_what_a_generated_key_or_array_column_holds():
    """A generated column, a foreign key and an array are reported by what their column stores."""
    text = models.CharField(max_length=2)
    new = {
        "driver_records.driverrecord.new_generated": models.GeneratedField(
            expression=Upper("address"), output_field=text, db_persist=True
        ),
        "driver_records.driverrecord.new_session": models.ForeignKey(
            Session, to_field="session_key", on_delete=models.CASCADE
        ),
        "driver_records.driverrecord.new_array": ArrayField(models.TextField()),
    }
    assert unmapped(new.items()) == sorted(new)
    numbers = {
        "driver_records.driverrecord.new_generated_number": models.GeneratedField(
            expression=Length("address"), output_field=models.IntegerField(), db_persist=True
        ),
        "driver_records.driverrecord.new_user": models.ForeignKey(User, on_delete=models.CASCADE),
        "driver_records.driverrecord.new_array_of_numbers": ArrayField(models.IntegerField()),
    }
    assert unmapped(numbers.items()) == []


def test_the_map_names_only_columns_that_exist_and_each_once():
    existing = {label for label, _field in _columns()}
    assert sorted(set(PERSONAL) - existing) == []
    assert sorted(set(NO_PERSONAL_DATA) - existing) == []
    assert sorted(set(PERSONAL) & set(NO_PERSONAL_DATA)) == []


def test_every_personal_column_says_what_why_who_how_long_and_what_erases_it():
    incomplete = [label for label, p in PERSONAL.items() if not all(vars(p).values())]
    assert incomplete == []


RULE = re.compile(r"\bR(?:[1-9]|1[0-7])\b")  # DOMAIN.md's R1-R17
MEASURE = re.compile(r"\b(?:docs/[a-z-]+\.md|onestop/[a-z_]+\.py)\b")
ROLES = re.compile(r"\b(?:clerks?|supervisors?|auditors?|terminals?|superusers?|holder|database's roles)\b")


def test_why_names_the_rule_of_the_terms_or_the_measure_that_needs_the_column():
    """A holder's column is kept for a rule of the terms; the service's own for a rule or for a
    measure its document describes."""
    assert [label for label, p in HOLDER_COLUMNS.items() if not RULE.search(p.rule)] == []
    assert [label for label, p in SERVICE_COLUMNS.items() if not (RULE.search(p.rule) or MEASURE.search(p.rule))] == []


def test_who_reads_names_roles():
    """Readers are named by the roles of docs/security.md (or: no role, the database's only)."""
    assert [label for label, p in PERSONAL.items() if not ROLES.search(p.readers)] == []
    assert not RULE.search("R18") and not ROLES.search("everyone")  # the patterns can refuse


def test_the_document_is_the_map():
    text = DOC.read_text(encoding="utf-8")
    assert MARK_START in text and MARK_END in text
    assert text == document_with_map(text), "run: manage.py personal_data_map --write docs/personal-data.md"
    for label in PERSONAL:
        table = apps.get_model(label.rsplit(".", 1)[0])._meta.db_table
        assert f"### `{table}`" in map_markdown()


def test_the_map_names_every_table():
    """Every table of the database, many-to-many tables included, has its heading or is named
    among the tables without a column the map covers."""
    text = map_markdown()
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    assert sorted(t for t in tables if f"`{t}`" not in text) == []
    assert "onestop_user_groups" in tables  # the many-to-many tables are among them


def test_personal_data_map_write_brings_a_stale_document_up_to_date(tmp_path):
    """The command rewrites the generated part only; the words around it stay."""
    stale = f"# Title\n\nWords before.\n\n{MARK_START}\n### `old_table`\n{MARK_END}\n\nWords after.\n"
    path = tmp_path / "personal-data.md"
    path.write_text(stale, encoding="utf-8")
    call_command("personal_data_map", write=str(path), stdout=StringIO())
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\nWords before.\n\n{MARK_START}\n")
    assert text.endswith(f"{MARK_END}\n\nWords after.\n")
    assert "old_table" not in text and "### `driver_records_driverrecord`" in text
    assert text == document_with_map(text)  # what test_the_document_is_the_map asks of the real one
