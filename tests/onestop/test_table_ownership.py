"""Each app owns its tables (docs/architecture.md): another app changes them only through the
owner's services and reads them only through its selectors. Read from the syntax tree of every
app's modules (migrations aside), not by running the code, so a write or a read on a path no test
takes is found too.

Two forms of a write are refused in an app's module when the table belongs to another app:
- the ORM: `<Model>.objects.<write>(...)`, or a write on a queryset kept from it, where the
  model is another app's (imported from any of that app's modules, a re-export included);
- raw SQL: a string literal (f-strings' fixed parts included, docstrings not) holding
  `INSERT INTO t`, `UPDATE t`, `DELETE FROM t`, `COPY t` or `TRUNCATE t`, where `t` is another
  app's table (a model's table, or a name starting with that app's label and `_`).
A `.save()` on an instance of another app's model is not seen (the tree carries no types): such a
write goes through the owner's service as well, and review looks for it.

A read through another app's manager is refused too: `<Model>.objects...` (any method), and
`get_object_or_404(<Model>, ...)` or `get_list_or_404(<Model>, ...)`, where the model is another
app's; the read moves into a selector of the owner. The ground floor `onestop` is the exception:
its models (staff, offices, the audit trail) are shared by every app, which reads them directly.
Reading a related object off an instance (`consent.record`) is not a read through a manager and
is not seen.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps as django_apps

ROOT = Path(__file__).resolve().parents[2]
APPS = ("onestop", "driver_records", "jlis_gateway", "consents", "applier", "safeguards", "operations")
# The ground floor: every app reads its models (staff, offices, the audit trail) directly.
GROUND_FLOOR = frozenset({"onestop"})
# A queryset or manager method that changes rows.
WRITES = frozenset(
    {"update", "create", "get_or_create", "update_or_create", "delete", "bulk_create", "bulk_update", "save"}
)
SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?\"?([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)


def _model_owners() -> dict[str, str]:
    """Model class name -> the app that owns it (our apps only)."""
    return {m.__name__: m._meta.app_label for m in django_apps.get_models() if m._meta.app_label in APPS}


def _table_owners() -> dict[str, str]:
    return {
        m._meta.db_table: m._meta.app_label
        for m in django_apps.get_models(include_auto_created=True)
        if m._meta.app_label in APPS
    }


def table_owner(table: str, tables: dict[str, str]) -> str | None:
    table = table.lower()
    if table in tables:
        return tables[table]
    return next((app for app in APPS if table.startswith(f"{app}_")), None)


def _foreign_models(
    tree: ast.Module, app: str, owners: dict[str, str], *, shared: frozenset[str] = frozenset()
) -> set[str]:
    """Names of another app's models this module imports (`from <other app>.<module> import X`),
    the models of the `shared` apps aside."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.partition(".")[0] not in APPS:
                continue
            for alias in node.names:
                if owners.get(alias.name, app) not in {app, *shared}:
                    names.add(alias.asname or alias.name)
    return names


def _root(node: ast.expr) -> ast.expr:
    """The start of a chain such as `X.objects.filter(...).exclude(...)`."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return node


def _on_manager_of(node: ast.expr, models: set[str]) -> bool:
    """Whether a chain starts at `<Model>.objects` of one of these models."""
    while isinstance(node, ast.Call | ast.Attribute):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _orm_writes(tree: ast.Module, models: set[str]) -> Iterator[tuple[int, str]]:
    # Querysets kept in a variable (`rows = X.objects.filter(...)`) count as the manager's.
    querysets = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _on_manager_of(node.value, models)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES):
            continue
        root = _root(node.func)
        if _on_manager_of(node.func, models) or (isinstance(root, ast.Name) and root.id in querysets):
            yield node.lineno, ast.unparse(node.func)


SHORTCUTS = frozenset({"get_object_or_404", "get_list_or_404"})


def _orm_reads(tree: ast.Module, models: set[str]) -> Iterator[tuple[int, str]]:
    """`<Model>.objects`, and the 404 shortcuts given the model itself (given a queryset, its
    `.objects` is found already)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            yield node.lineno, ast.unparse(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in SHORTCUTS
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in models
        ):
            yield node.lineno, f"{ast.unparse(node.func)}({ast.unparse(node.args[0])}, ...)"


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _sql_writes(tree: ast.Module, app: str, tables: dict[str, str]) -> Iterator[tuple[int, str]]:
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        for match in SQL_WRITE.finditer(node.value):
            owner = table_owner(match.group(1), tables)
            if owner is not None and owner != app:
                yield node.lineno, " ".join(match.group(0).split())


def foreign_writes(
    path: Path,
    app: str,
    *,
    base: Path = ROOT,
    owners: dict[str, str] | None = None,
    tables: dict[str, str] | None = None,
) -> Iterator[str]:
    """`file:line: what` for each write this module makes to another app's table."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    owners = _model_owners() if owners is None else owners
    tables = _table_owners() if tables is None else tables
    found = [*_orm_writes(tree, _foreign_models(tree, app, owners)), *_sql_writes(tree, app, tables)]
    for lineno, what in sorted(found):
        yield f"{path.relative_to(base)}:{lineno}: {what}"


def foreign_reads(path: Path, app: str, *, base: Path = ROOT, owners: dict[str, str] | None = None) -> Iterator[str]:
    """`file:line: what` for each read this module makes through another app's manager (the
    ground floor's aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    owners = _model_owners() if owners is None else owners
    for lineno, what in sorted(_orm_reads(tree, _foreign_models(tree, app, owners, shared=GROUND_FLOOR))):
        yield f"{path.relative_to(base)}:{lineno}: {what}"


def _modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts)


@pytest.mark.parametrize("app", APPS)
def test_an_app_writes_only_its_own_tables(app):
    owners, tables = _model_owners(), _table_owners()
    found = [w for path in _modules(app) for w in foreign_writes(path, app, owners=owners, tables=tables)]
    assert found == [], "\n".join(["writes to another app's tables:", *found])


@pytest.mark.parametrize("app", APPS)
def test_an_app_reads_another_apps_tables_only_through_its_selectors(app):
    owners = _model_owners()
    found = [r for path in _modules(app) for r in foreign_reads(path, app, owners=owners)]
    assert found == [], "\n".join(["reads through another app's manager:", *found])


def test_every_app_is_scanned():
    """A new app with models must join the scan (and the layers in pyproject.toml)."""
    # The project's own apps: a folder named as an installed app is not one (`make run`'s
    # collectstatic makes staticfiles/, the label of django.contrib.staticfiles).
    labels = {config.label for config in django_apps.get_app_configs() if Path(config.path) == ROOT / config.label}
    assert labels - {"jlis_simulator", "terminal"} <= set(APPS)


def test_the_check_sees_each_form_of_a_foreign_write(tmp_path):
    """The check itself: it finds the forms of a write it is meant to refuse, and no read, no
    write to the module's own tables, no prose."""
    source = tmp_path / "sample.py"
    source.write_text(
        '"""Docstring: UPDATE driver_records_driverrecord is prose here."""\n'  # 1
        "from jlis_gateway.models import OutboxMessage\n"  # 2
        "from driver_records.services import DriverRecord as Rec\n"  # 3: a re-export counts
        "from .models import Consent\n"  # 4
        "def f(c, cursor, t):\n"  # 5
        "    rows = OutboxMessage.objects.filter(consent=c)\n"  # 6
        "    rows.filter(status='pending').update(status='failed')\n"  # 7
        "    OutboxMessage.objects.create(consent=c)\n"  # 8
        "    OutboxMessage.objects.filter(consent=c).exists()\n"  # 9
        "    Consent.objects.filter(pk=c).delete()\n"  # 10
        "    Rec.objects.filter(pk=c).update(version=1)\n"  # 11
        "    cursor.execute('update driver_records_driverrecord set version = 1')\n"  # 12
        "    cursor.execute(f'INSERT INTO jlis_gateway_outboxmessage (x) SELECT {t}')\n"  # 13
        "    cursor.copy('COPY driver_records_recordchange (record_id) FROM STDIN')\n"  # 14
        "    cursor.execute('DELETE FROM \"safeguards_suspensionrequest\" WHERE id = 1')\n"  # 15
        "    cursor.execute('TRUNCATE TABLE operations_heartbeat')\n"  # 16
        "    cursor.execute('UPDATE consents_consent SET status = 1')\n"  # 17: its own table
        "    cursor.execute('SELECT 1 FROM driver_records_driverrecord FOR UPDATE')\n"  # 18: a read
        "    return 'update the record, then copy it'\n",  # 19: prose
        encoding="utf-8",
    )
    found = list(foreign_writes(source, "consents", base=tmp_path))
    assert [int(line.split(":")[1]) for line in found] == [7, 8, 11, 12, 13, 14, 15, 16]


def test_the_check_sees_each_form_of_a_foreign_read(tmp_path):
    """The check itself: it finds reads through another app's manager and the 404 shortcuts on
    another app's model, and not the module's own models, the ground floor's, or a selector."""
    source = tmp_path / "sample.py"
    source.write_text(
        "from django.shortcuts import get_object_or_404, get_list_or_404\n"  # 1
        "from driver_records.models import DriverRecord\n"  # 2
        "from jlis_gateway.selectors import JlisEvent as Event\n"  # 3: a re-export counts
        "from onestop.models import User, Office\n"  # 4: the ground floor
        "from driver_records.selectors import record_or_404\n"  # 5
        "from .models import Consent\n"  # 6
        "def f(pk):\n"  # 7
        "    DriverRecord.objects.get(pk=pk)\n"  # 8
        "    Event.objects.filter(pk=pk).only('id').first()\n"  # 9
        "    get_object_or_404(DriverRecord.objects.select_related('x'), pk=pk)\n"  # 10
        "    get_list_or_404(Event, pk=pk)\n"  # 11
        "    get_object_or_404(Consent, pk=pk)\n"  # 12: its own model
        "    Consent.objects.get(pk=pk)\n"  # 13: its own model
        "    User.objects.get(pk=pk); Office.objects.all()\n"  # 14: the ground floor
        "    get_object_or_404(User, pk=pk)\n"  # 15: the ground floor
        "    return record_or_404(pk=pk)\n",  # 16: through the owner's selector
        encoding="utf-8",
    )
    found = list(foreign_reads(source, "consents", base=tmp_path))
    assert [int(line.split(":")[1]) for line in found] == [8, 9, 10, 11]
