"""Tests of cumulo/db/migrations/: expand-only, shipped as package data, and producing
exactly the tables of cumulo/db/models.py on every backend."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from cumulo.db.engine import MIGRATIONS, alembic_config
from cumulo.db.models import Base

VERSIONS = sorted((MIGRATIONS / "versions").glob("[0-9]*.py"))

# Operations that remove or rename what an older release still reads.
CONTRACTING = {"drop_table", "drop_column", "rename_table", "drop_constraint", "drop_index"}


def _calls(path: Path, function: str) -> list[ast.Call]:
    tree = ast.parse(path.read_text(), str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
            return sorted(calls, key=lambda call: (call.lineno, call.col_offset))
    raise AssertionError(f"{path.name} has no {function}()")


def _contracting(path: Path) -> list[str]:
    found = []
    for call in _calls(path, "upgrade"):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else None
        if name in CONTRACTING:
            found.append(f"{path.name}:{call.lineno} {name}")
        if name == "alter_column" and any(k.arg == "new_column_name" for k in call.keywords):
            found.append(f"{path.name}:{call.lineno} alter_column(new_column_name=...)")
        if isinstance(call.func, ast.Attribute) and call.func.attr == "execute":
            text = ast.unparse(call).upper()
            if "DROP " in text or "RENAME " in text:
                found.append(f"{path.name}:{call.lineno} execute(DROP/RENAME ...)")
    return found


def test_there_are_migrations():
    assert [p.name for p in VERSIONS] == [
        "0001_initial.py",
        "0002_release_0_2.py",
        "0003_release_0_3.py",
        "0004_identity.py",
        "0005_keypairs_quotas.py",
        "0006_networks.py",
        "0007_allocations.py",
    ]


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.name)
def test_migrations_are_expand_only(path):
    assert _contracting(path) == []


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.name)
def test_migrations_have_no_downgrade(path):
    calls = _calls(path, "downgrade")
    assert [ast.unparse(c.func) for c in calls] == ["NotImplementedError"]


def test_the_expand_only_check_sees_drops(tmp_path):
    bad = tmp_path / "0002_bad.py"
    bad.write_text(
        "from alembic import op\n"
        "def upgrade():\n"
        "    op.drop_column('instances', 'host')\n"
        "    with op.batch_alter_table('flavors') as batch:\n"
        "        batch.drop_column('swap')\n"
        "        batch.alter_column('name', new_column_name='label')\n"
        "    op.execute('DROP TABLE volumes')\n"
    )
    assert [entry.split(" ")[1] for entry in _contracting(bad)] == [
        "drop_column",
        "drop_column",
        "alter_column(new_column_name=...)",
        "execute(DROP/RENAME",
    ]


def test_revisions_form_one_line_of_history():
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == ["0007"]
    revisions = list(script.walk_revisions())
    assert [r.revision for r in revisions][-1] == "0001"
    assert all(len(r.nextrev) <= 1 for r in revisions)


def test_the_migration_files_are_package_data():
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "__init__.py").is_file() and (
        MIGRATIONS / "versions/__init__.py"
    ).is_file()
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert '"*.mako"' in pyproject.read_text()


def test_the_migrated_schema_is_the_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_names_fit_every_backend(database):
    inspector = inspect(database.engine)
    names = []
    for table in inspector.get_table_names():
        names.append(table)
        names.extend(i["name"] for i in inspector.get_indexes(table) if i["name"])
        names.extend(u["name"] for u in inspector.get_unique_constraints(table) if u["name"])
        names.extend(f["name"] for f in inspector.get_foreign_keys(table) if f["name"])
    assert names and max(len(n) for n in names) <= 63
