"""``cumulo.compute.image_cache`` against a real image API over HTTP (the API's
application served by the in-process cheroot server): one download for concurrent
builds, the hash check, missing images, a refused credential, an API that is down,
re-authentication, and the cleanup that keeps the bases in use."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from pathlib import Path

import pytest

from cumulo.compute.exceptions import ImageFetchFailed
from cumulo.compute.image_cache import ImageCache
from cumulo.compute.image_client import ImageApiClient, ServiceCredential

from .image_api import SERVICE_PASSWORD, ImageApi

DATA = bytes(range(256)) * 5000  # > 1 MiB: several chunks


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def api(image_api: ImageApi) -> ImageApi:
    return image_api


@pytest.fixture(scope="module")
def client(api: ImageApi) -> ImageApiClient:
    """One client for the module: one password check (slow by design) for most tests."""
    return api.client()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(client: ImageApiClient, tmp_path: Path, clock: Clock) -> ImageCache:
    return ImageCache(tmp_path / "cache", client, max_age=3600.0, clock=clock)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_two_builds_of_one_image_download_it_once(api, cache):
    image = api.add("twice", DATA)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.ensure(image.id))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.downloads == 1 and len(results) == 4
    cached = cache.ensure(image.id)
    assert cache.downloads == 1
    assert cached.path == cache.directory / image.id and cached.path.read_bytes() == DATA
    assert cached.os_hash_value == hashlib.sha512(DATA).hexdigest()
    assert cached.checksum == hashlib.md5(DATA).hexdigest() == image.checksum
    assert _leftovers(cache.directory) == sorted([image.id, f"{image.id}.cached"])


def test_data_that_does_not_match_its_hash_is_refused_and_not_kept(api, cache):
    image = api.add("tampered", DATA)
    (api.images_dir / image.id).write_bytes(DATA[:-1] + b"\x00")  # same size, other bytes
    with pytest.raises(ImageFetchFailed) as caught:
        cache.ensure(image.id)
    assert image.id in str(caught.value) and "os_hash_value" in str(caught.value)
    assert _leftovers(cache.directory) == []


def test_a_short_download_is_refused(api, cache):
    image = api.add("short", DATA)
    (api.images_dir / image.id).write_bytes(DATA[:1000])
    with pytest.raises(ImageFetchFailed, match="downloaded 1000 bytes"):
        cache.ensure(image.id)
    assert _leftovers(cache.directory) == []


def test_a_missing_image_is_a_404_naming_it(cache):
    missing = "0b6d7a1e-0000-4000-8000-000000000404"
    with pytest.raises(ImageFetchFailed) as caught:
        cache.ensure(missing)
    assert str(caught.value).startswith(f"cannot fetch image {missing}: no such image")
    assert "404" in str(caught.value)


def test_a_private_image_of_another_project_is_fetched(api, cache):
    image = api.add("theirs", b"private bytes", visibility="private", owner="another-project")
    assert cache.ensure(image.id).path.read_bytes() == b"private bytes"


def test_a_refused_credential_is_named_without_the_password(api, tmp_path):
    cache = ImageCache(tmp_path / "c", api.client(password="wrong-password-93f1"))
    image = api.add("refused", b"x" * 10)
    with pytest.raises(ImageFetchFailed) as caught:
        cache.ensure(image.id)
    message = str(caught.value)
    assert "refused the service credential of user 'compute'" in message and "401" in message
    assert "wrong-password" not in message and "wrong-password" not in repr(cache.client)


def test_an_image_api_that_is_down_is_named(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    credential = ServiceCredential(
        identity_url=f"http://127.0.0.1:{port}/identity", username="compute", password="pw"
    )
    client = ImageApiClient(f"http://127.0.0.1:{port}/image", credential, timeout=5.0)
    with pytest.raises(ImageFetchFailed, match=r"identity API unreachable at http://127\.0\.0\.1"):
        ImageCache(tmp_path / "c", client).ensure("any-image")


def test_a_rejected_token_is_replaced_once(api, cache):
    image = api.add("reauth", b"abc")
    cache.client.token(image.id)
    cache.client._token = "not-a-token"  # revoked, as far as the API is concerned
    assert cache.ensure(image.id).path.read_bytes() == b"abc"
    assert cache.client._token != "not-a-token"


def test_a_token_near_its_expiry_is_taken_again(api, clock):
    client = api.client(clock=clock)
    first = client.token("x")
    assert client.token("x") == first
    clock.now = client._expires - 1.0  # within the refresh margin
    assert client.token("x") != first


def test_urls_with_passwords_are_refused():
    credential = ServiceCredential(identity_url="http://h/identity", username="u", password="p")
    with pytest.raises(ValueError, match="must not carry a user or password"):
        ImageApiClient("http://u:secret@h/image", credential)
    assert "p'" not in repr(credential) and "password" not in repr(credential)


def test_cleanup_removes_only_old_unused_bases_the_cache_fetched(api, cache, clock):
    used, unused, recent = (api.add(name, name.encode() * 100) for name in ("u1", "u2", "u3"))
    cache.ensure(used.id)
    cache.ensure(unused.id)
    by_hand = cache.directory / "operator-image"
    by_hand.write_bytes(b"put here by hand")
    clock.now += 1800.0
    cache.ensure(recent.id)
    clock.now += 1900.0  # used/unused last used 3700 s ago, recent 1900 s ago
    assert cache.clean(in_use=[used.id]) == [unused.id]
    assert sorted(cache.cached_ids()) == sorted([used.id, recent.id])
    assert by_hand.exists() and not (cache.directory / unused.id).exists()
    assert not (cache.directory / f"{unused.id}.cached").exists()
    # The base in use counts as used at each cleanup: once unused, it lasts max_age more.
    clock.now += 3000.0
    assert cache.clean(in_use=[]) == [recent.id]
    clock.now += 1000.0
    assert cache.clean(in_use=[]) == [used.id]
    # Fetched again on the next build.
    assert cache.ensure(used.id).path.is_file() and cache.downloads == 4


def test_a_cached_base_without_its_record_is_fetched_again(api, cache):
    image = api.add("record", b"r" * 64)
    cache.ensure(image.id)
    (cache.directory / f"{image.id}.cached").unlink()
    cache.ensure(image.id)
    assert cache.downloads == 2
    assert json.loads((cache.directory / f"{image.id}.cached").read_text())["id"] == image.id


def test_ids_that_would_leave_the_cache_are_refused(cache):
    for bad in ("../etc", ".hidden", "x.cached", ""):
        with pytest.raises(ImageFetchFailed, match="not an image id"):
            cache.ensure(bad)


def test_the_service_password_is_kept_out_of_reprs(api):
    client = api.client()
    assert SERVICE_PASSWORD not in repr(client) and SERVICE_PASSWORD not in repr(client.credential)
