"""The applier sits above consents and the gateway (issue #21's layers): it reaches the gateway's
table only through the gateway's inbox (jlis_gateway/inbox.py), and no app runs test-only code
(the one-by-one path lives in tests/support)."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
NOT_APPS = {"tests", "bench"}


def _imports_of(graph: grimp.ImportGraph, package: str) -> set[tuple[str, str]]:
    modules = {package, *graph.find_descendants(package)}
    return {(m, imported) for m in modules for imported in graph.find_modules_directly_imported_by(m)}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*FIRST_PARTY, exclude_type_checking_imports=True, cache_dir=None)


def test_the_applier_reaches_the_gateway_only_through_its_inbox() -> None:
    gateway = sorted(
        f"{m} -> {imported}"
        for m, imported in _imports_of(_graph(), "applier")
        if imported.split(".")[0] == "jlis_gateway" and imported != "jlis_gateway.inbox"
    )
    assert gateway == []


def test_no_app_imports_the_tests() -> None:
    graph = _graph()
    into_tests = sorted(
        f"{m} -> {imported}"
        for app in set(FIRST_PARTY) - NOT_APPS
        for m, imported in _imports_of(graph, app)
        if imported.split(".")[0] == "tests"
    )
    assert into_tests == []
