"""The safeguards' boundaries (docs: issue 21's layers). Safeguards acts on the consents, the
records and the gateway, so none of them may import it: a suspension reaches them as a fact of
the record (DriverRecord.service_stopped_at). And an app writes only its own tables: the
safeguards' and the consents' services change another app's rows through that app's services.

The imports are import-linter's contracts (pyproject.toml, run by make lint and make test); the
writes are read here from the syntax tree, not by running the code."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("onestop", "driver_records", "jlis_gateway", "consents", "safeguards", "operations")
# A queryset or manager method that changes rows.
WRITES = frozenset(
    {"update", "create", "get_or_create", "update_or_create", "delete", "bulk_create", "bulk_update", "save"}
)


def _foreign_models(tree: ast.Module, app: str) -> set[str]:
    """Names of models this module imports from another app (`from <app>.models import X`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top, _, rest = node.module.partition(".")
            if top in APPS and top != app and rest == "models":
                names |= {alias.asname or alias.name for alias in node.names}
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


def foreign_writes(path: Path, app: str, *, base: Path = ROOT) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    models = _foreign_models(tree, app)
    if not models:
        return
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
            yield f"{path.relative_to(base)}:{node.lineno}: {ast.unparse(node.func)}"


@pytest.mark.parametrize("app", ["safeguards", "consents"])
def test_the_services_write_only_their_own_apps_tables(app):
    found = [w for path in sorted((ROOT / app / "services").rglob("*.py")) for w in foreign_writes(path, app)]
    assert found == []


def test_the_write_check_sees_a_write_through_a_kept_queryset(tmp_path):
    """The check itself: it finds the forms of a write it is meant to refuse, and no read."""
    source = tmp_path / "sample.py"
    source.write_text(
        "from jlis_gateway.models import OutboxMessage\n"
        "from .models import Mine\n"
        "def f(c):\n"
        "    rows = OutboxMessage.objects.filter(consent=c)\n"
        "    rows.filter(status='pending').update(status='failed')\n"
        "    OutboxMessage.objects.create(consent=c)\n"
        "    OutboxMessage.objects.filter(consent=c).exists()\n"
        "    Mine.objects.filter(consent=c).delete()\n",
        encoding="utf-8",
    )
    found = list(foreign_writes(source, "consents", base=tmp_path))
    assert sorted(line.split(":")[1] for line in found) == ["5", "6"]
