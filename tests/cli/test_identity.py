"""Tests of cumulo/cli/identity.py and cumulo/cli/api.py's checks before serving."""

from __future__ import annotations

import pytest

from cumulo import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def synced(tmp_path, capsys) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert run(capsys, "db", "sync", "--database-url", url)[0] == 0
    return url


def test_setup_and_rotate_keys(tmp_path, capsys):
    keys = tmp_path / "keys"
    code, out, _ = run(capsys, "identity", "setup-keys", "--key-repository", str(keys))
    assert (code, out) == (0, f"created key repository {keys} (keys [0, 1])\n")
    code, out, _ = run(capsys, "identity", "setup-keys", "--key-repository", str(keys))
    assert out == f"already set up: key repository {keys} (keys [0, 1])\n"
    code, out, _ = run(capsys, "identity", "rotate-keys", "--key-repository", str(keys))
    assert out == f"rotated {keys}: primary key 2, staged a new key 0 (keys [0, 1, 2])\n"
    code, out, _ = run(capsys, "identity", "rotate-keys", "--key-repository", str(keys))
    assert out == f"rotated {keys}: primary key 3, staged a new key 0, removed 1 (keys [0, 2, 3])\n"


def test_rotating_no_repository_is_an_error(tmp_path, capsys):
    code, _, err = run(capsys, "identity", "rotate-keys", "--key-repository", str(tmp_path / "k"))
    assert code == 2 and "has no keys: run `cumulo identity setup-keys`" in err


def test_bootstrap_is_idempotent(synced, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CUMULO_ADMIN_PASSWORD", "pw")
    keys = str(tmp_path / "keys")
    argv = ("identity", "bootstrap", "--database-url", synced, "--key-repository", keys)
    code, out, _ = run(capsys, *argv)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"created key repository {keys} (keys [0, 1])"
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "created domain Default",
        "created role admin",
        "created role member",
        "created role reader",
        "created project admin",
        "created user admin",
        "granted role admin on project admin to user admin",
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and all(line.startswith("kept ") for line in out.splitlines())
    assert "pw" not in out


def test_bootstrap_needs_a_password_and_a_synced_database(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CUMULO_ADMIN_PASSWORD", raising=False)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    keys = str(tmp_path / "keys")
    code, _, err = run(
        capsys, "identity", "bootstrap", "--database-url", url, "--key-repository", keys
    )
    assert code == 2 and "--admin-password (or $CUMULO_ADMIN_PASSWORD) is required" in err
    code, _, err = run(
        capsys,
        "identity",
        "bootstrap",
        "--admin-password",
        "pw",
        "--database-url",
        url,
        "--key-repository",
        keys,
    )
    assert code == 2 and "schema revision none" in err and "cumulo db sync" in err


def test_api_refuses_to_start_without_schema_or_keys(synced, tmp_path, capsys):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = run(capsys, "api", "--database-url", empty, "--key-repository", str(tmp_path))
    assert code == 2 and "run `cumulo db sync` first" in err
    code, _, err = run(
        capsys, "api", "--database-url", synced, "--key-repository", str(tmp_path / "none")
    )
    assert code == 2 and "run `cumulo identity bootstrap`" in err
    code, _, err = run(capsys, "api", "--database-url", synced, "--workers", "0")
    assert code == 2 and "--workers and --threads must be at least 1" in err
    code, _, err = run(
        capsys, "api", "--database-url", synced, "--policy-file", str(tmp_path / "no.yaml")
    )
    assert code == 2 and "no such file" in err
