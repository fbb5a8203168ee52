"""``cumulo compute``'s image options (--image-api, the service credential from a
file or $CUMULO_SERVICE_PASSWORD, --image-cache-max-age) and ``cumulo identity
service-user``; bad values are one-line usage errors that never show a password."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cumulo import cli
from cumulo.cli import services
from cumulo.cli.common import UsageError

API = "http://127.0.0.1:8774/image"


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["compute", "--host", "h", *argv])


def test_without_image_api_the_host_fetches_nothing() -> None:
    assert services._image_fetch(parse()) is None
    assert "images_path" not in services._driver_options(parse())  # fake: as before


def test_the_credential_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CUMULO_SERVICE_PASSWORD", "env-secret")
    fetch = services._image_fetch(parse("--image-api", API, "--image-cache-max-age", "2h"))
    assert fetch is not None and fetch.max_age == 7200.0
    assert fetch.credential.identity_url == "http://127.0.0.1:8774/identity"
    assert (fetch.credential.username, fetch.credential.project) == ("compute", "service")
    assert fetch.credential.password == "env-secret" and "env-secret" not in repr(fetch)


def test_the_credential_comes_from_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CUMULO_SERVICE_PASSWORD", raising=False)
    secret = tmp_path / "pw"
    secret.write_text("file-secret\n")
    args = parse(
        "--image-api", API, "--identity-url", "http://keystone:5000", "--service-user",
        "nova", "--service-project", "services", "--service-password-file", str(secret),
    )  # fmt: skip
    fetch = services._image_fetch(args)
    assert fetch is not None and fetch.credential.password == "file-secret"
    assert fetch.credential.identity_url == "http://keystone:5000"
    assert fetch.max_age == 24 * 3600.0


def test_a_fake_host_fetching_images_keeps_them_in_its_state_dir(monkeypatch, tmp_path) -> None:
    args = parse("--image-api", API, "--state-dir", str(tmp_path))
    assert services._driver_options(args)["images_path"] == str(tmp_path / "images")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "--image-api needs --service-password-file or $CUMULO_SERVICE_PASSWORD"),
        (("--image-cache-max-age", "soon"), "--image-cache-max-age: expected seconds"),
        (("--image-cache-max-age=-1h",), "expected a duration >= 0"),
        (("--service-password-file", "/nonexistent/pw"), "/nonexistent/pw: No such file"),
    ],
)
def test_bad_image_options_are_usage_errors(monkeypatch, argv, message) -> None:
    monkeypatch.delenv("CUMULO_SERVICE_PASSWORD", raising=False)
    with pytest.raises(UsageError, match=message.replace("$", r"\$")):
        services._image_fetch(parse("--image-api", API, *argv))


def test_urls_are_checked(monkeypatch) -> None:
    monkeypatch.setenv("CUMULO_SERVICE_PASSWORD", "pw")
    with pytest.raises(UsageError, match="--identity-url is needed"):
        services._image_fetch(parse("--image-api", "http://glance:9292"))
    with pytest.raises(UsageError, match="must not carry a user or password"):
        services._image_fetch(parse("--image-api", "http://u:hunter2@api/image"))
    with pytest.raises(UsageError, match="--identity-url: only with --image-api"):
        services._image_fetch(parse("--identity-url", "http://k:5000"))


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("30m", 1800.0), ("1.5d", 129600.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert services.parse_duration(text) == seconds


def test_service_user_is_created_then_kept(tmp_path, capsys, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    keys = str(tmp_path / "keys")
    assert cli.main(["db", "sync", "--database-url", url]) == 0
    monkeypatch.setenv("CUMULO_ADMIN_PASSWORD", "admin-pw")
    boot = ["identity", "bootstrap", "--database-url", url, "--key-repository", keys]
    assert cli.main(boot) == 0
    capsys.readouterr()
    monkeypatch.setenv("CUMULO_SERVICE_PASSWORD", "svc-pw-5b2e")
    argv = ["identity", "service-user", "--database-url", url, "--key-repository", keys]
    assert cli.main(argv) == 0
    lines = [line.split(" (")[0] for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        "created project service",
        "created user compute",
        "created role service",
        "granted role service on project service for user compute",
        "kept role reader",
        "granted role reader on project service for user compute",
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert all(line.startswith("kept ") for line in out.splitlines()) and "svc-pw" not in out
    monkeypatch.setenv("CUMULO_SERVICE_PASSWORD", "changed-pw")
    assert cli.main(argv) == 0
    assert "updated user compute" in capsys.readouterr().out


def test_service_user_needs_a_password(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CUMULO_SERVICE_PASSWORD", raising=False)
    code = cli.main(["identity", "service-user", "--database-url", f"sqlite:///{tmp_path}/x"])
    assert code == 2
    assert "needs --password-file or $CUMULO_SERVICE_PASSWORD" in capsys.readouterr().err
