"""The volume store's block-storage details (description, error kind and message,
image, attach time) kept beside the ``Volume`` 1.0 record, and the attaching and
detaching transitions the compute hosts go through."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from cumulo.model import Volume, VolumeStatus
from cumulo.volume import InvalidVolumeState, VolumeDetails, VolumeStore


@pytest.fixture
def store(tmp_path: Path) -> VolumeStore:
    return VolumeStore(tmp_path / "volumes")


def test_the_record_keeps_the_1_0_shape_and_details_live_beside_it(store):
    volume = store.create(1, "data", project_id="p1", description="notes")
    record = json.loads((store.root / f"{volume.id}.json").read_text())
    assert record["volume"]["cumulo_object.version"] == "1.0"
    assert store.details(volume.id) == VolumeDetails(description="notes")
    # The files an older release looks at are only <id>.json and <id>.img.
    assert {p.suffix for p in store.root.iterdir() if not p.name.startswith(".")} == {
        ".json",
        ".img",
        ".details",
    }
    assert [v.id for v in store.list().objects] == [volume.id]


def test_a_volume_without_details_has_the_defaults(store):
    volume = store.create(1, "old")
    assert not (store.root / f"{volume.id}.details").exists()
    assert store.details(volume.id) == VolumeDetails()
    (store.root / f"{volume.id}.details").write_text("{not json")
    assert store.details(volume.id) == VolumeDetails()


def test_update_name_and_description(store):
    volume = store.create(1, "before")
    store.update(volume.id, description="why")
    assert store.get(volume.id).name == "before"
    store.update(volume.id, name="after")
    assert store.get(volume.id).name == "after"
    assert store.details(volume.id).description == "why"
    with pytest.raises(ValueError, match="description: expected at most 255"):
        store.update(volume.id, description="x" * 256)
    with pytest.raises(ValueError, match="description: expected at most 255"):
        store.create(1, description="x" * 256)


def test_a_volume_from_an_image_is_creating_until_finished(store):
    volume = store.create(1, "boot", image_id="img-1")
    assert volume.status is VolumeStatus.CREATING
    assert store.details(volume.id) == VolumeDetails(bootable=True, image_id="img-1")
    with pytest.raises(InvalidVolumeState):
        store.attach(volume.id, instance_uuid=uuid.uuid4(), host="h", mountpoint="/dev/vdb")
    assert store.finish_create(volume.id).status is VolumeStatus.AVAILABLE
    with pytest.raises(InvalidVolumeState, match="finish creating"):
        store.finish_create(volume.id)


def test_errors_carry_their_kind_and_message_while_in_error(store):
    volume = store.create(1, "bad", description="kept")
    store.set_error(volume.id, "it broke", kind="error_extending")
    entry = store.entry(volume.id)
    assert entry.volume.status is VolumeStatus.ERROR
    assert entry.details.error_kind == "error_extending"
    assert entry.details.error_message == "it broke"
    assert entry.details.description == "kept"
    with pytest.raises(ValueError, match="kind"):
        store.set_error(volume.id, "?", kind="broken")
    # An older release rewrites the record whole (here: back to available): the
    # stale error is not shown, the description survives.
    path = store.root / f"{volume.id}.json"
    record = json.loads(path.read_text())
    record["volume"]["cumulo_object.data"]["status"] = "available"
    path.write_text(json.dumps(record))
    details = store.details(volume.id)
    assert (details.error_kind, details.error_message, details.description) == (
        None,
        None,
        "kept",
    )
    store.delete(volume.id)
    assert list(store.root.glob(f"{volume.id}*")) == []


def test_attaching_in_use_detaching_available(store):
    volume = store.create(1, "moving")
    server = uuid.uuid4()
    attached = store.attach(
        volume.id, instance_uuid=server, host="host-a", mountpoint="/dev/vdb", attaching=True
    )
    assert attached.status is VolumeStatus.ATTACHING and attached.is_attached
    noted = store.details(volume.id)
    assert noted.attachment_id == str(attached.attachment_id) and noted.attached_at
    with pytest.raises(InvalidVolumeState):
        store.begin_detach(volume.id, instance_uuid=server)  # not in-use yet
    assert store.mark_in_use(volume.id, instance_uuid=server).status is VolumeStatus.IN_USE
    with pytest.raises(InvalidVolumeState, match="not"):
        store.begin_detach(volume.id, instance_uuid=uuid.uuid4())
    assert store.begin_detach(volume.id, instance_uuid=server).status is VolumeStatus.DETACHING
    # A failed detach: back in use, same attachment.
    again = store.mark_in_use(volume.id, instance_uuid=server)
    assert again.status is VolumeStatus.IN_USE and again.attachment_id == attached.attachment_id
    store.begin_detach(volume.id, instance_uuid=server)
    done = store.detach(volume.id, instance_uuid=server)
    assert done.status is VolumeStatus.AVAILABLE and not done.is_attached
    assert store.details(volume.id).attached_at is None  # noted for a gone attachment


def test_entries_are_oldest_first_with_times(store):
    first = store.create(1, "a", project_id="p1")
    second = store.create(1, "b", project_id="p2")
    entries = store.entries()
    assert [e.volume.id for e in entries] == [first.id, second.id]
    assert entries[0].created_at <= entries[0].updated_at
    assert [e.volume.id for e in store.entries(project_id="p2")] == [second.id]
    assert isinstance(store.entry(first.id).volume, Volume)
