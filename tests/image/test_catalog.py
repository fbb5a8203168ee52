"""The image catalog (cumulo/image/catalog.py): images added with their checksums
and sniffed format, read back, and files that are not images skipped."""

from __future__ import annotations

import hashlib
import json

import pytest

from cumulo.image import ImageCatalog, ImageNotFound, add_image


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
