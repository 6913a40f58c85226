"""driver_records is the register, just above the `onestop` core (docs: issue #21's layers): it
imports nothing of the apps above it (consents, the gateway, the applier, safeguards, operations),
nor the core's composition root (urls, settings, demo, admin site, wsgi), which may import them."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
# Every first-party package of the repository (a directory with an __init__.py at its root).
FIRST_PARTY = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
COMPOSITION_ROOT = {"onestop.urls", "onestop.settings", "onestop.demo", "onestop.admin_site", "onestop.wsgi"}


def _allowed(imported: str) -> bool:
    top = imported.split(".")[0]
    if top == "driver_records":
        return True
    if top == "onestop":
        return not any(imported == m or imported.startswith(m + ".") for m in COMPOSITION_ROOT)
    return top not in FIRST_PARTY  # Django, the standard library, third-party packages


def test_driver_records_imports_only_the_onestop_core() -> None:
    # Type hints of a higher app's classes under `if TYPE_CHECKING:` run nothing: they are left out.
    graph = grimp.build_graph(*FIRST_PARTY, exclude_type_checking_imports=True, cache_dir=None)
    modules = {"driver_records", *graph.find_descendants("driver_records")}
    upward = sorted(
        f"{module} -> {imported}"
        for module in modules
        for imported in graph.find_modules_directly_imported_by(module)
        if not _allowed(imported)
    )
    assert upward == []
