"""The clouds.yaml writer of ``cumulo all-in-one`` (cumulo/cli/clouds_yaml.py)."""

from __future__ import annotations

import stat

import pytest
import yaml
from openstack.config import loader

from cumulo.cli.clouds_yaml import (
    ChangedByUser,
    CloudEntry,
    Outcome,
    marker_path,
    render,
    write_clouds_yaml,
)

ENTRY = CloudEntry(auth_url="http://127.0.0.1:8774/identity", password='p"w: #x')


def test_the_text_is_a_cloud_openstacksdk_reads(tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text(render(ENTRY))
    config = loader.OpenStackConfig(config_files=[str(path)], vendor_files=[], load_envvars=False)
    cloud = config.get_one("cumulo")
    assert cloud.config["auth"]["auth_url"] == "http://127.0.0.1:8774/identity"
    assert cloud.config["auth"]["password"] == 'p"w: #x'  # quoted, so any password fits
    assert cloud.config["auth"]["username"] == "admin"
    assert cloud.config["auth"]["project_name"] == "admin"
    assert cloud.config["region_name"] == "RegionOne"


def test_a_new_file_is_written_private(tmp_path):
    path = tmp_path / "clouds.yaml"
    assert write_clouds_yaml(path, render(ENTRY)) is Outcome.WROTE
    assert yaml.safe_load(path.read_text())["clouds"]["cumulo"]["auth"]["password"] == 'p"w: #x'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert marker_path(path).exists()


def test_the_same_text_keeps_the_file(tmp_path):
    path = tmp_path / "clouds.yaml"
    write_clouds_yaml(path, render(ENTRY))
    before = path.stat().st_mtime_ns
    assert write_clouds_yaml(path, render(ENTRY)) is Outcome.KEPT
    assert path.stat().st_mtime_ns == before


def test_its_own_previous_text_is_updated(tmp_path):
    path = tmp_path / "clouds.yaml"
    write_clouds_yaml(path, render(ENTRY))
    moved = CloudEntry(auth_url="http://127.0.0.1:9999/identity", password="pw")
    assert write_clouds_yaml(path, render(moved)) is Outcome.UPDATED
    assert path.read_text() == render(moved)


@pytest.mark.parametrize("with_marker", [True, False])
def test_a_file_the_user_changed_is_kept_unless_forced(tmp_path, with_marker):
    path = tmp_path / "clouds.yaml"
    write_clouds_yaml(path, render(ENTRY))
    if not with_marker:  # a file cumulo never wrote
        marker_path(path).unlink()
    edited = render(ENTRY) + "# mine\n"
    path.write_text(edited)
    moved = CloudEntry(auth_url="http://127.0.0.1:9999/identity", password="pw")
    with pytest.raises(ChangedByUser, match=r"clouds\.yaml was changed .* pass --force"):
        write_clouds_yaml(path, render(moved))
    assert path.read_text() == edited
    assert write_clouds_yaml(path, render(moved), force=True) is Outcome.OVERWROTE
    assert path.read_text() == render(moved)
    # Cumulo's again: the next change is an update.
    assert write_clouds_yaml(path, render(ENTRY)) is Outcome.UPDATED
