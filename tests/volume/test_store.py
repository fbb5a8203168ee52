"""The local volume store: sparse files, versioned records, attachments, connection
info, capacity, and one lock for threads and processes."""

from __future__ import annotations

import json
import multiprocessing
import threading
import uuid
from pathlib import Path

import pytest

from cumulo.model import (
    AccessMode,
    Volume,
    VolumeConnector,
    VolumeDriverType,
    VolumeStatus,
)
from cumulo.volume import (
    GIB,
    InvalidVolumeSize,
    InvalidVolumeState,
    VolumeInUse,
    VolumeNotFound,
    VolumeNotReachable,
    VolumeRecordCorrupt,
    VolumeStore,
    VolumeStoreFull,
)


@pytest.fixture
def store(tmp_path: Path) -> VolumeStore:
    return VolumeStore(tmp_path / "volumes")


def connector(host: str = "host-a") -> VolumeConnector:
    return VolumeConnector(host=host, ip="10.0.0.1")


class TestCreate:
    def test_a_new_volume_is_an_available_sparse_file(self, store: VolumeStore) -> None:
        volume = store.create(2, "data", project_id="p1", user_id="alice")
        assert volume.status is VolumeStatus.AVAILABLE
        assert (volume.name, volume.size_gb, volume.project_id) == ("data", 2, "p1")
        assert volume.host is None and not volume.is_attached
        assert volume.obj_what_changed() == set()
        path = Path(volume.path or "")
        assert path.parent == store.root
        stat = path.stat()
        assert stat.st_size == 2 * GIB
        assert stat.st_blocks * 512 < 1024 * 1024  # sparse: nothing written
        assert volume.created_at is None  # the database's to set (Volume.create)

    def test_the_record_is_the_versioned_object(self, store: VolumeStore) -> None:
        volume = store.create(1)
        record = json.loads((store.root / f"{volume.id}.json").read_text())
        assert record["volume"]["cumulo_object.name"] == "Volume"
        assert record["volume"]["cumulo_object.version"] == Volume.VERSION
        assert Volume.obj_from_primitive(volume.obj_to_primitive()) == volume

    @pytest.mark.parametrize("size", [0, -1, 1.5, True, "1"])
    def test_sizes_are_whole_gib(self, store: VolumeStore, size: object) -> None:
        with pytest.raises(InvalidVolumeSize, match="size_gb"):
            store.create(size)  # type: ignore[arg-type]
        assert store.list().objects == []

    def test_name_length(self, store: VolumeStore) -> None:
        with pytest.raises(ValueError, match="255"):
            store.create(1, "x" * 256)


class TestLookup:
    def test_get_and_list(self, store: VolumeStore) -> None:
        first = store.create(1, "a", project_id="p1")
        second = store.create(1, "b", project_id="p2")
        third = store.create(1, "c", project_id="p1")
        assert store.get(second.id) == second
        assert store.get(str(second.id)) == second
        assert store.get(second) == second
        assert [v.id for v in store.list().objects] == [first.id, second.id, third.id]
        assert [v.name for v in store.list(project_id="p1").objects] == ["a", "c"]

    def test_unknown_volume(self, store: VolumeStore) -> None:
        missing = uuid.uuid4()
        with pytest.raises(VolumeNotFound, match=str(missing)):
            store.get(missing)
        with pytest.raises(ValueError, match="not-a-uuid"):
            store.get("not-a-uuid")

    def test_another_store_on_the_directory_sees_the_same_volumes(self, store: VolumeStore) -> None:
        volume = store.create(3, "kept")
        reopened = VolumeStore(store.root)
        assert reopened.get(volume.id) == volume
        reopened.delete(volume.id)
        with pytest.raises(VolumeNotFound):
            store.get(volume.id)

    def test_a_corrupt_record_is_reported_with_its_path(self, store: VolumeStore) -> None:
        volume = store.create(1)
        record = store.root / f"{volume.id}.json"
        record.write_text("{not json")
        with pytest.raises(VolumeRecordCorrupt, match=str(record)):
            store.get(volume.id)


class TestDelete:
    def test_delete_removes_the_files(self, store: VolumeStore) -> None:
        volume = store.create(1)
        store.delete(volume)
        assert list(store.root.glob(f"{volume.id}*")) == []
        with pytest.raises(VolumeNotFound):
            store.delete(volume)

    def test_an_attached_volume_is_not_deleted(self, store: VolumeStore) -> None:
        volume = store.create(1)
        instance = uuid.uuid4()
        store.attach(volume, instance_uuid=instance, host="host-a", mountpoint="/dev/vdb")
        with pytest.raises(VolumeInUse, match=str(instance)):
            store.delete(volume)
        assert Path(store.get(volume).path or "").exists()
        store.detach(volume)
        store.delete(volume)


class TestAttachments:
    def test_attach_and_detach(self, store: VolumeStore) -> None:
        volume = store.create(1)
        instance = uuid.uuid4()
        attached = store.attach(
            volume.id, instance_uuid=instance, host="host-a", mountpoint="/dev/vdb"
        )
        assert attached.status is VolumeStatus.IN_USE
        assert (attached.attached_to, attached.attached_host, attached.mountpoint) == (
            instance,
            "host-a",
            "/dev/vdb",
        )
        assert attached.attachment_id is not None
        assert store.get(volume.id) == attached
        detached = store.detach(volume.id, instance_uuid=instance)
        assert detached.status is VolumeStatus.AVAILABLE
        assert detached.attached_to is None and detached.attachment_id is None

    def test_a_volume_attaches_once(self, store: VolumeStore) -> None:
        volume = store.create(1)
        store.attach(volume, instance_uuid=uuid.uuid4(), host="h", mountpoint="/dev/vdb")
        with pytest.raises(VolumeInUse):
            store.attach(volume, instance_uuid=uuid.uuid4(), host="h", mountpoint="/dev/vdb")

    def test_detach_checks_what_is_attached(self, store: VolumeStore) -> None:
        volume = store.create(1)
        with pytest.raises(InvalidVolumeState, match="detach"):
            store.detach(volume)
        owner = uuid.uuid4()
        store.attach(volume, instance_uuid=owner, host="h", mountpoint="/dev/vdb")
        with pytest.raises(InvalidVolumeState, match=str(owner)):
            store.detach(volume, instance_uuid=uuid.uuid4())
        assert store.get(volume).attached_to == owner


class TestConnectionInfo:
    def test_file_connection(self, store: VolumeStore) -> None:
        volume = store.create(1)
        info = store.connection_info(volume, connector())
        assert info.driver_volume_type is VolumeDriverType.FILE
        assert info.volume_id == volume.id and info.serial == str(volume.id)
        assert info.path == volume.path
        assert info.access_mode is AccessMode.READ_WRITE
        attached = store.attach(volume, instance_uuid=uuid.uuid4(), host="h", mountpoint="/x")
        assert store.connection_info(volume, connector()).attachment_id == attached.attachment_id

    def test_a_local_store_serves_its_own_host_only(self, tmp_path: Path) -> None:
        local = VolumeStore(tmp_path / "local", host="host-a")
        volume = local.create(1)
        assert volume.host == "host-a"
        assert local.connection_info(volume, connector("host-a")).path == volume.path
        with pytest.raises(VolumeNotReachable, match="host-b"):
            local.connection_info(volume, connector("host-b"))
        with pytest.raises(VolumeNotReachable):
            local.attach(volume, instance_uuid=uuid.uuid4(), host="host-b", mountpoint="/x")

    def test_a_shared_store_serves_every_host(self, store: VolumeStore) -> None:
        volume = store.create(1)
        for host in ("host-a", "host-b"):
            assert store.connection_info(volume, connector(host)).path == volume.path


class TestResizeAndCapacity:
    def test_resize_grows_the_file(self, store: VolumeStore) -> None:
        volume = store.create(1)
        grown = store.resize(volume, 3)
        assert grown.size_gb == 3 == store.get(volume).size_gb
        assert Path(volume.path or "").stat().st_size == 3 * GIB
        with pytest.raises(InvalidVolumeSize, match="only grow"):
            store.resize(volume, 2)

    def test_an_attached_volume_is_not_resized(self, store: VolumeStore) -> None:
        volume = store.create(1)
        store.attach(volume, instance_uuid=uuid.uuid4(), host="h", mountpoint="/dev/vdb")
        with pytest.raises(VolumeInUse):
            store.resize(volume, 2)

    def test_capacity(self, tmp_path: Path) -> None:
        store = VolumeStore(tmp_path, capacity_gb=5)
        small = store.create(2)
        store.create(2)
        assert store.used_gb() == 4
        with pytest.raises(VolumeStoreFull, match="2 GiB requested, 1 GiB free of 5 GiB"):
            store.create(2)
        with pytest.raises(VolumeStoreFull):
            store.resize(small, 4)
        store.resize(small, 3)
        assert store.used_gb() == 5


class TestConcurrency:
    def test_threads_never_overfill_the_store(self, tmp_path: Path) -> None:
        store = VolumeStore(tmp_path, capacity_gb=10)
        made: list[Volume] = []
        refused: list[Exception] = []

        def create() -> None:
            for _ in range(5):
                try:
                    made.append(store.create(1))
                except VolumeStoreFull as exc:
                    refused.append(exc)

        threads = [threading.Thread(target=create) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(made) == 10 and len(refused) == 20
        assert store.used_gb() == 10

    @pytest.mark.subprocess  # three Python interpreters sharing the store
    def test_processes_never_overfill_the_store(self, tmp_path: Path) -> None:
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=_create_until_full, args=(str(tmp_path),)) for _ in range(3)
        ]
        for p in processes:
            p.start()
        for p in processes:
            p.join(timeout=60)
            assert p.exitcode == 0
        store = VolumeStore(tmp_path, capacity_gb=12)
        assert store.used_gb() == 12
        assert len(store.list().objects) == 12


def _create_until_full(root: str) -> None:
    store = VolumeStore(root, capacity_gb=12)
    for _ in range(12):
        try:
            store.create(1)
        except VolumeStoreFull:
            return
