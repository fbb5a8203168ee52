"""`cumulo db sync` (cumulo/cli/db.py), in-process and as the installed script."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from cumulo.db.engine import create_engine, current_revision, head_revision

from .support import run


def test_sync_creates_then_keeps_the_schema(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    for _ in range(2):
        code, out, err = run(capsys, "db", "sync", "--database-url", url)
        assert (code, err) == (0, "")
        assert out == f"SQLite database at {tmp_path / 'c.db'} is at schema revision 0007\n"
    engine = create_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        assert "instances" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_default_is_the_environment_then_the_embedded_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUMULO_DATABASE_URL", raising=False)
    assert run(capsys, "db", "sync")[0] == 0
    assert (tmp_path / "var" / "cumulo.db").is_file()
    monkeypatch.setenv("CUMULO_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert run(capsys, "db", "sync")[0] == 0
    assert (tmp_path / "env.db").is_file()


def test_an_unreachable_database_is_one_clear_line(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run(
        capsys, "db", "sync", "--database-url", f"postgresql://postgres@127.0.0.1:{port}/cumulo"
    )
    assert code == 2 and out == ""
    assert err.startswith(
        f"cumulo: error: cannot connect to postgresql database 'cumulo' at 127.0.0.1:{port}: "
    )
    assert err.count("\n") == 1


def test_an_unsupported_url(capsys):
    code, _, err = run(capsys, "db", "sync", "--database-url", "oracle://x/y")
    assert code == 2 and "unsupported database 'oracle'" in err


@pytest.mark.subprocess
def test_the_installed_script_needs_no_alembic_ini(tmp_path):
    found = shutil.which("cumulo", path=str(Path(sys.executable).parent))
    command = [found] if found else [sys.executable, "-m", "cumulo.cli"]
    env = {k: v for k, v in os.environ.items() if k != "CUMULO_DATABASE_URL"}
    done = subprocess.run(
        [*command, "db", "sync"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "is at schema revision 0007" in done.stdout
    assert not list(tmp_path.glob("*.ini"))
