"""Every Cumulo object, at every version of its history, fully populated, backports
and loads into that version's strict historical schema (tests/objects/strategies.py)."""

import json

import pytest

from cumulo import model
from cumulo.objects import REGISTRY, BackportError, VersionedObject, versions
from tests.objects.strategies import (
    BACKPORT_FIXUPS,
    check_all_versions,
    check_backport,
    class_versions,
    version_id,
)

PAIRS = class_versions(REGISTRY, model.NAMESPACE)


def _writable_before_1_1(obj: VersionedObject, version: str) -> None:
    # BlockDeviceMapping refuses to tell a 1.0 peer about a read-only volume.
    if versions.parse(version) < versions.parse("1.1"):
        obj.read_only = False  # type: ignore[attr-defined]


BACKPORT_FIXUPS["BlockDeviceMapping"] = _writable_before_1_1


def test_the_whole_model_is_covered():
    names = {cls.obj_name() for cls, _ in PAIRS}
    assert names == set(json.loads(model.LOCKFILE.read_text()))
    assert {"Instance", "LiveMigrateData", "NetworkInfo", "Diagnostics", "Service"} <= names


@pytest.mark.parametrize(("cls", "version"), PAIRS, ids=version_id)
def test_backports(cls, version):
    check_backport(cls, version, max_examples=10)


def test_check_all_versions_over_the_namespace():
    # The one-call form the framework offers, over every registered Cumulo object.
    check_all_versions(REGISTRY, model.NAMESPACE, max_examples=3)


def test_a_read_only_volume_is_not_told_to_a_1_0_peer():
    bdm = model.BlockDeviceMapping(
        uuid="5d8a7c1e-2b3f-4a6d-9e0c-1f2a3b4c5d6e",
        instance_uuid="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        source_type=model.SourceType.VOLUME,
        destination_type=model.DestinationType.VOLUME,
        read_only=True,
    )
    with pytest.raises(BackportError, match=r"read-only; version 1\.0 cannot say so"):
        bdm.obj_to_primitive(target_version="1.0")
    bdm.read_only = False
    assert "read_only" not in bdm.obj_to_primitive(target_version="1.0")["cumulo_object.data"]


def test_nvme_is_refused_before_1_1():
    bdm = model.BlockDeviceMapping(
        uuid="5d8a7c1e-2b3f-4a6d-9e0c-1f2a3b4c5d6e",
        instance_uuid="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        source_type=model.SourceType.VOLUME,
        destination_type=model.DestinationType.VOLUME,
        disk_bus=model.DiskBus.NVME,
    )
    with pytest.raises(BackportError, match="nvme"):
        bdm.obj_to_primitive(target_version="1.0")
