"""Issue 21: the gateway sits below consents, the applier, safeguards and operations; it knows
nothing above it (the consent side and the task name are how it reaches them)."""

from __future__ import annotations

import grimp

ABOVE = ("consents", "applier", "safeguards", "operations")
# driver_records' applier and its task belong to the applier, above the gateway (issue 21).
APPLIER_TODAY = ("driver_records.applier", "driver_records.tasks")
# The door's suspension check moves onto the record (issue 21, R15); until it does, this one stays.
TEMPORARY = {("jlis_gateway.services.door", "safeguards.status")}


def _imports_above() -> set[tuple[str, str]]:
    graph = grimp.build_graph(
        "jlis_gateway", "consents", "driver_records", "safeguards", "operations", "onestop",
        # External packages too: an app not named above (the applier, once it exists) still shows.
        include_external_packages=True, exclude_type_checking_imports=True, cache_dir=None,
    )  # fmt: skip
    found = set()
    for module in graph.find_descendants("jlis_gateway") | {"jlis_gateway"}:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.split(".")[0] in ABOVE or imported.startswith(APPLIER_TODAY):
                found.add((module, imported))
    return found


def test_the_gateway_imports_nothing_above_it():
    assert _imports_above() == TEMPORARY
