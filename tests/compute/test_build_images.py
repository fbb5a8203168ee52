"""Builds on a host that fetches images from the image API (a real one over HTTP,
see ``image_api``): the fake driver boots the fetched bytes and records them, two
instances share one cached base, a failed fetch ends the build in ERROR with a
fault naming the image, and the periodic cleanup keeps the bases in use."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from cumulo.compute.image_cache import ImageFetchConfig
from cumulo.model import VmState
from cumulo.virt.fake import FakeDriver

from .deployment import Deployment
from .image_api import SERVICE_PASSWORD, ImageApi


@pytest.fixture(scope="module")
def api(image_api: ImageApi) -> ImageApi:
    return image_api


def _fetch_config(api: ImageApi) -> ImageFetchConfig:
    return ImageFetchConfig(image_url=api.image_url, credential=api.credential(), max_age=0.0)


@pytest.fixture
def fetching(tmp_path, api) -> Iterator[Deployment]:
    """A deployment whose host-a fetches images into ``tmp_path/cache-a``."""
    deployment = Deployment(tmp_path, hosts=()).start()
    try:
        driver = deployment.add_host(
            "host-a", images_path=tmp_path / "cache-a", storage_pool="pool-a"
        )
        deployment.managers["host-a"].images = _fetch_config(api).cache_for(driver)
        yield deployment
    finally:
        deployment.stop()


def test_instances_boot_the_fetched_bytes_from_one_cached_base(fetching, api):
    data = b"CUMULO-BOOT-FROM-API" * 4096
    image = api.add("from-api", data)
    flavor = fetching.flavor()
    first = fetching.boot(flavor, image_ref=image.id, name="one")
    second = fetching.boot(flavor, image_ref=image.id, name="two")
    assert first.vm_state == second.vm_state == VmState.ACTIVE
    cache = fetching.managers["host-a"].images
    assert cache is not None and cache.downloads == 1
    for instance in (first, second):
        view = fetching.drivers["host-a"].describe_guest(instance.uuid)
        assert view.image_id == image.id
        assert view.image_checksum == hashlib.md5(data).hexdigest() == image.checksum
        assert view.image_os_hash_value == hashlib.sha512(data).hexdigest()


def test_a_failed_fetch_ends_the_build_in_error_with_a_fault_naming_the_image(fetching):
    missing = "5d1a0f7e-0000-4000-8000-00000000dead"
    instance = fetching.boot(fetching.flavor(), image_ref=missing)
    assert instance.vm_state == VmState.ERROR and instance.task_state is None
    fault = fetching.fault(instance.uuid)
    assert fault is not None and fault.host == "host-a"
    assert f"cannot fetch image {missing}: no such image" in fault.message
    assert SERVICE_PASSWORD not in fault.message and SERVICE_PASSWORD not in (fault.details or "")
    assert fetching.drivers["host-a"].describe_host().guests == ()


def test_a_tampered_image_is_not_booted(fetching, api):
    image = api.add("tampered", b"good bytes" * 100)
    (api.images_dir / image.id).write_bytes(b"evil bytes" * 100)
    instance = fetching.boot(fetching.flavor(), image_ref=image.id)
    assert instance.vm_state == VmState.ERROR
    assert "does not match the image's os_hash_value" in fetching.fault(instance.uuid).message


def test_the_periodic_cleanup_keeps_bases_in_use(fetching, api):
    kept, dropped = api.add("kept", b"k" * 512), api.add("dropped", b"d" * 512)
    flavor = fetching.flavor()
    stays = fetching.boot(flavor, image_ref=kept.id)
    goes = fetching.boot(flavor, image_ref=dropped.id)
    manager = fetching.managers["host-a"]
    fetching.cast_and_wait("terminate_instance", goes)
    manager.periodic_tasks()  # max_age 0: unused is old enough
    assert manager.images is not None
    assert manager.images.cached_ids() == [kept.id]
    assert fetching.instance(stays.uuid).vm_state == VmState.ACTIVE


def test_a_live_migration_destination_fetches_the_image_first(fetching, api, tmp_path):
    image = api.add("migrating", b"m" * 4096)
    driver = fetching.add_host("host-c", images_path=tmp_path / "cache-c", storage_pool="pool-c")
    fetching.managers["host-c"].images = _fetch_config(api).cache_for(driver)
    disky = fetching.flavor("m1.disk", memory_mb=1024, vcpus=1, root_gb=1)
    inst = fetching.boot(disky, image_ref=image.id, host="host-a")
    fetching.tasks.live_migrate_instance(fetching.ctx(), inst.uuid, "host-c", block_migration=True)
    assert fetching.instance(inst.uuid).host == "host-c"
    assert (tmp_path / "cache-c" / image.id).read_bytes() == b"m" * 4096


def test_a_driver_without_an_image_directory_cannot_fetch(api):
    with pytest.raises(ValueError, match="no image directory"):
        _fetch_config(api).cache_for(FakeDriver("h"))
