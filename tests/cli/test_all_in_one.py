"""The pieces of ``cumulo all-in-one`` that need no running cloud
(cumulo/cli/allinone.py; the command itself: tests/integration/test_all_in_one.py)."""

from __future__ import annotations

import stat

import pytest

from cumulo.cli import allinone, main
from cumulo.cli.allinone import admin_password, host_names
from cumulo.cli.common import UsageError


@pytest.mark.parametrize(
    ("given", "hosts"),
    [
        (None, ("host-a", "host-b")),
        ("3", ("host-a", "host-b", "host-c")),
        ("1", ("host-a",)),
        ("east, west", ("east", "west")),
    ],
)
def test_host_names(given, hosts):
    assert host_names(given) == hosts


@pytest.mark.parametrize("given", ["0", "27", "a,,b", "a,a"])
def test_host_names_refuses(given):
    with pytest.raises(UsageError, match="--hosts"):
        host_names(given)


def test_a_password_is_generated_once_and_kept_private(tmp_path):
    password, origin = admin_password(tmp_path, None)
    kept = tmp_path / "admin-password"
    assert origin.startswith("generated") and len(password) >= 20
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert admin_password(tmp_path, None) == (password, f"kept in {kept}")


def test_a_given_password_is_not_kept_and_drops_a_stale_one(tmp_path):
    admin_password(tmp_path, None)
    assert admin_password(tmp_path, "mine") == ("mine", "given")
    assert not (tmp_path / "admin-password").exists()


def test_a_bad_bind_is_one_line(tmp_path, capsys):
    assert main(["all-in-one", "--state-dir", str(tmp_path), "--bind", "nowhere"]) == 2
    assert "--bind: expected HOST:PORT, got 'nowhere'" in capsys.readouterr().err


def test_the_default_image_is_seeded_once(tmp_path):
    from cumulo.image import ImageCatalog

    images = tmp_path / "images"
    image_id = allinone.seed_default_image(images, "fake")
    assert image_id is not None
    (image,) = ImageCatalog(images).images()
    assert (image.id, image.name, image.disk_format) == (image_id, "cirros", "raw")
    assert image.size == allinone.PLACEHOLDER_BYTES
    assert allinone.seed_default_image(images, "fake") is None  # a second start keeps it
    assert [p.name for p in images.iterdir() if p.name.startswith(".")] == []


def test_the_qemu_default_image_is_the_probe_guest(tmp_path):
    from cumulo.image import ImageCatalog
    from cumulo.virt.qemu.images import probe_guest_sector

    allinone.seed_default_image(tmp_path, "qemu")
    (image,) = ImageCatalog(tmp_path).images()
    assert (tmp_path / image.id).read_bytes()[:512] == probe_guest_sector()
