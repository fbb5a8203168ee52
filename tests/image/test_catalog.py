"""The image catalog (cumulo/image/catalog.py): images added with their checksums
and sniffed format, read back, and files that are not images skipped; the write
path: create, locked updates, an upload's states, refused bodies leaving nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import uuid

import pytest

from cumulo.image import (
    ImageCatalog,
    ImageConflict,
    ImageNotFound,
    ImageTooLarge,
    UploadIncomplete,
    add_image,
    new_image,
)


def _disk(tmp_path, data: bytes, name: str = "disk"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_added_image_is_listed_with_its_checksums(tmp_path):
    images = tmp_path / "images"
    data = b"\x00" * 4096
    image = add_image(images, "cirros", _disk(tmp_path, data), min_ram=64)
    assert (images / image.id).read_bytes() == data
    assert image.disk_format == "raw" and image.size == 4096 and image.min_ram == 64
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.os_hash_value == hashlib.sha512(data).hexdigest()
    catalog = ImageCatalog(images)
    assert catalog.images() == [image]
    assert catalog.get(image.id) == image
    assert catalog.find("cirros") == [image]


def test_qcow2_is_sniffed(tmp_path):
    image = add_image(tmp_path / "images", "q", _disk(tmp_path, b"QFI\xfb" + b"\x00" * 60))
    assert image.disk_format == "qcow2"


def test_an_unknown_or_malformed_id_is_not_found(tmp_path):
    catalog = ImageCatalog(tmp_path)
    for image_id in ("nope", "../etc/passwd", "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"):
        with pytest.raises(ImageNotFound):
            catalog.get(image_id)


def test_no_directory_is_an_empty_catalog(tmp_path):
    assert ImageCatalog(None).images() == []
    assert ImageCatalog(tmp_path / "absent").images() == []


def test_metadata_without_its_disk_or_garbage_is_skipped(tmp_path):
    images = tmp_path / "images"
    kept = add_image(images, "kept", _disk(tmp_path, b"x"))
    lost = add_image(images, "lost", _disk(tmp_path, b"y", "other"))
    (images / lost.id).unlink()
    (images / "junk.json").write_text("{not json")
    (images / "0b7ad51e-7d44-4ab9-9a6b-0e1d5f1e2a3b.json").write_text(json.dumps({"id": 1}))
    assert ImageCatalog(images).images() == [kept]


# --- the write path -------------------------------------------------------------------


def test_a_queued_image_is_listed_without_data_and_deleted(tmp_path):
    catalog = ImageCatalog(tmp_path / "images")
    image = catalog.create(new_image(name="q", owner="p"))
    assert image.status == "queued" and catalog.images() == [image]
    assert catalog.data_path(image) is None
    with pytest.raises(ImageConflict):
        catalog.create(image)
    catalog.delete(image.id)
    assert catalog.images() == [] and sorted(p.name for p in catalog.directory.iterdir()) == [
        ".lock"
    ]


def test_concurrent_updates_all_land(tmp_path):
    # Each update is a read-modify-write under the directory's flock (one open file
    # description per call, so threads exclude each other as processes do).
    catalog = ImageCatalog(tmp_path / "images")
    image = catalog.create(new_image(name="shared"))

    def add(index: int) -> None:
        for step in range(10):
            key = f"k{index}_{step}"
            catalog.update(
                image.id,
                lambda current, key=key: dataclasses.replace(
                    current, properties={**current.properties, key: "v"}
                ),
            )

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(catalog.get(image.id).properties) == 60


def test_an_upload_goes_queued_saving_active(tmp_path):
    catalog = ImageCatalog(tmp_path / "images")
    image = catalog.create(new_image(name="u", disk_format="raw", container_format="bare"))
    catalog.start_upload(image.id)
    assert catalog.get(image.id).status == "saving"
    with pytest.raises(ImageConflict):
        catalog.start_upload(image.id)
    received = catalog.receive(image.id, iter([b"ab", b"cd"]), limit=10, expected=4)
    done = catalog.finish_upload(image.id, received, virtual_size=4)
    assert done.status == "active" and done.size == 4 and done.virtual_size == 4
    assert done.checksum == hashlib.md5(b"abcd").hexdigest()
    assert catalog.data_path(done).read_bytes() == b"abcd"
    assert not received.path.exists()


@pytest.mark.parametrize(
    ("chunks", "expected", "error"),
    [([b"x" * 6, b"x" * 6], None, ImageTooLarge), ([b"abc"], 5, UploadIncomplete)],
)
def test_a_refused_body_leaves_no_file(tmp_path, chunks, expected, error):
    catalog = ImageCatalog(tmp_path / "images")
    with pytest.raises(error):
        catalog.receive(str(uuid.uuid4()), iter(chunks), limit=10, expected=expected)
    assert [p.name for p in catalog.directory.iterdir()] == []


def test_an_image_deleted_during_its_upload_drops_the_data(tmp_path):
    catalog = ImageCatalog(tmp_path / "images")
    image = catalog.create(new_image(name="gone", disk_format="raw", container_format="bare"))
    catalog.start_upload(image.id)
    received = catalog.receive(image.id, iter([b"data"]), limit=10, expected=None)
    catalog.delete(image.id)
    with pytest.raises(ImageNotFound):
        catalog.finish_upload(image.id, received, None)
    assert not received.path.exists() and catalog.images() == []
    catalog.abandon_upload(image.id, "killed")  # nothing to do: no error


def test_stale_upload_files_are_removed(tmp_path):
    catalog = ImageCatalog(tmp_path / "images")
    catalog.directory.mkdir()
    stale, fresh = catalog.directory / ".upload-a.1", catalog.directory / ".upload-b.2"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(stale, (0, 0))
    assert catalog.remove_stale_uploads() == [stale]
    assert fresh.exists() and not stale.exists()
