import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # A model change without its migration fails here instead of on a production deploy.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_a_second_database_migrates_from_empty_with_its_own_roles(django_db_blocker):
    """`migrate --database other` (a restore target, a benchmark's scratch database) runs every
    data migration on the database it migrates, not on the default one: it migrates, and the
    staff roles with their permissions are there."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("a second database next to the first is made on PostgreSQL here")
    from bench.scratch import add_alias, scratch_database

    add_alias("second")
    try:
        with (
            django_db_blocker.unblock(),
            scratch_database("migrations", alias="second"),
            connections["second"].cursor() as cursor,
        ):
            cursor.execute(
                "SELECT g.name, count(p.id) FROM auth_group g LEFT JOIN auth_group_permissions p"
                " ON p.group_id = g.id GROUP BY g.name ORDER BY g.name"
            )
            groups = dict(cursor.fetchall())
    finally:
        connections["second"].close()
        del connections.settings["second"]

    assert set(groups) == {"auditor", "counter_staff", "supervisor"}
    assert groups["auditor"] > 0 and groups["counter_staff"] == groups["supervisor"] == 0


def test_every_data_migration_works_on_the_database_being_migrated():
    """A data migration's queries name the database being migrated (schema_editor.connection.alias):
    without it they read and write the default database, and a second database (a restore
    target, a benchmark's scratch database) is migrated without its data (the test above only
    sees it when the data are roles)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    missing = []
    for path in sorted(root.glob("*/migrations/0*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "RunPython":
                for arg in call.args:
                    function = functions.get(getattr(arg, "id", ""))
                    source = ast.unparse(function) if function else ""
                    if ".objects" in source and "schema_editor.connection.alias" not in source:
                        missing.append(f"{path.relative_to(root)}::{function.name}")
    assert missing == []
