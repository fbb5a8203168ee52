"""``ImageCache``: a host's directory of base images fetched from the image API, one
file per image id (what the QEMU driver boots as ``images_path/<image_ref>``, under
per-instance qcow2 overlays).

An image missing from the cache is streamed into a temporary file there, its
SHA-512 (``os_hash_value``) and size checked against the image API's record, and
renamed into place, so the cache never holds a partial or altered base. Builds of
one image on this host wait for one download. Beside each base it fetched, the
cache keeps ``<id>.cached`` (what the image API said of it); :meth:`ImageCache.clean`
removes only such bases, and only when no instance of the host used them for
``max_age`` seconds — files an operator put there by hand are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from .exceptions import ImageFetchFailed
from .image_client import DEFAULT_TIMEOUT_S, ImageApiClient, ImageRecord, ServiceCredential

LOG = logging.getLogger(__name__)

DEFAULT_MAX_AGE_S: Final = 24 * 3600.0
MARKER_SUFFIX: Final = ".cached"
PARTIAL_PREFIX: Final = ".fetch-"


@dataclass(frozen=True)
class CachedImage:
    """A base image in the cache and what the image API said of it."""

    id: str
    path: Path
    size: int
    checksum: str | None
    """MD5 of the data (Glance's ``checksum``)."""
    os_hash_algo: str
    os_hash_value: str
    disk_format: str | None


def _safe_name(image_id: str) -> str:
    # An id names a file of the cache: nothing that could leave the directory.
    if not image_id or image_id in (".", "..") or "/" in image_id or "\0" in image_id:
        raise ImageFetchFailed(image_id, "not an image id")
    if image_id.startswith(".") or image_id.endswith(MARKER_SUFFIX):
        raise ImageFetchFailed(image_id, "not an image id")
    return image_id


class ImageCache:
    """Base images of one host in ``directory``, fetched with ``client``.

    Args:
        directory: the cache (the QEMU driver's ``images_path``); made if missing.
        client: reads the image API with the host's service credential.
        max_age: seconds a base no instance uses is kept (see :meth:`clean`).
        clock: the time, in seconds (tests move it).
    """

    def __init__(
        self,
        directory: Path,
        client: ImageApiClient,
        *,
        max_age: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_age < 0:
            raise ValueError(f"image cache max age: expected seconds >= 0, got {max_age}")
        self.directory = directory
        self.client = client
        self.max_age = max_age
        self._clock = clock
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.downloads = 0
        """Images downloaded by this cache since it was made."""

    def __repr__(self) -> str:
        return f"<ImageCache {self.directory} from {self.client.image_url}>"

    def path_of(self, image_id: str) -> Path:
        return self.directory / _safe_name(image_id)

    def _marker(self, image_id: str) -> Path:
        return self.directory / f"{_safe_name(image_id)}{MARKER_SUFFIX}"

    @contextlib.contextmanager
    def _image_lock(self, image_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(image_id, threading.Lock())
        with lock:
            yield

    # --- fetch -------------------------------------------------------------------------

    def ensure(self, image_id: str) -> CachedImage:
        """The cached base of ``image_id``, downloaded first when the cache lacks it;
        its last use is now (so :meth:`clean` keeps it ``max_age`` longer).

        Raises:
            ImageFetchFailed: it could not be fetched (the reason says why); the cache
                is as it was.
        """
        path = self.path_of(image_id)
        with self._image_lock(image_id):
            cached = self._read(image_id)
            if cached is None:
                cached = self._fetch(image_id)
            self._touch(path)
            return cached

    def _read(self, image_id: str) -> CachedImage | None:
        path, marker = self.path_of(image_id), self._marker(image_id)
        if not path.is_file():
            return None
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
            return CachedImage(**{**data, "path": path})
        except (OSError, ValueError, TypeError):
            return None  # no (readable) record: fetched anew, replacing the file

    def _fetch(self, image_id: str) -> CachedImage:
        record = self.client.show(image_id)
        algo, expected = self._expected_hash(image_id, record)
        self.directory.mkdir(parents=True, exist_ok=True)
        LOG.info("fetching image %s (%s bytes) into %s", image_id, record.size, self.directory)
        fd, name = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{image_id}.", dir=self.directory)
        partial = Path(name)
        try:
            digest, md5, size = hashlib.new(algo), hashlib.md5(usedforsecurity=False), 0
            with (
                os.fdopen(fd, "wb") as stream,
                contextlib.closing(self.client.download(image_id)) as chunks,
            ):
                for chunk in chunks:
                    stream.write(chunk)
                    digest.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                stream.flush()
                os.fsync(stream.fileno())
            if record.size is not None and size != record.size:
                raise ImageFetchFailed(
                    image_id, f"downloaded {size} bytes, the image API records {record.size}"
                )
            if digest.hexdigest() != expected.lower():
                raise ImageFetchFailed(
                    image_id,
                    f"the downloaded data's {algo} does not match the image's os_hash_value "
                    "(data altered in transit or at rest); the download was discarded",
                )
            cached = CachedImage(
                id=image_id,
                path=self.path_of(image_id),
                size=size,
                checksum=record.checksum or md5.hexdigest(),
                os_hash_algo=algo,
                os_hash_value=expected.lower(),
                disk_format=record.disk_format,
            )
            self._write_marker(cached)
            os.chmod(partial, 0o644)
            os.replace(partial, cached.path)  # atomic: a base is whole or absent
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.downloads += 1
        LOG.info("image %s cached at %s", image_id, cached.path)
        return cached

    @staticmethod
    def _expected_hash(image_id: str, record: ImageRecord) -> tuple[str, str]:
        if record.status != "active":
            raise ImageFetchFailed(
                image_id, f"the image is {record.status or 'of no status'}, not active"
            )
        if not record.os_hash_value:
            raise ImageFetchFailed(image_id, "the image API records no os_hash_value for it")
        algo = (record.os_hash_algo or "sha512").lower()
        if algo not in hashlib.algorithms_available:
            raise ImageFetchFailed(image_id, f"unknown os_hash_algo {record.os_hash_algo!r}")
        return algo, record.os_hash_value

    def _write_marker(self, cached: CachedImage) -> None:
        data = {k: v for k, v in asdict(cached).items() if k != "path"}
        marker = self._marker(cached.id)
        staged = marker.with_name(f"{PARTIAL_PREFIX}{marker.name}")
        staged.write_text(json.dumps(data), encoding="utf-8")
        os.replace(staged, marker)

    def _touch(self, path: Path) -> None:
        now = self._clock()
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, (now, now))

    # --- clean -------------------------------------------------------------------------

    def cached_ids(self) -> list[str]:
        """The images this cache fetched and still holds."""
        if not self.directory.is_dir():
            return []
        return sorted(
            marker.name.removesuffix(MARKER_SUFFIX)
            for marker in self.directory.glob(f"*{MARKER_SUFFIX}")
            if not marker.name.startswith(".")
        )

    def clean(self, in_use: Iterable[str]) -> list[str]:
        """Remove the bases this cache fetched that no instance of ``in_use`` (the
        image refs of the host's instances) uses and that were last used more than
        ``max_age`` ago; a base in use counts as used now. Leftover partial downloads
        that old go too. Returns the image ids removed."""
        used = set(in_use)
        now = self._clock()
        removed: list[str] = []
        for image_id in self.cached_ids():
            with self._image_lock(image_id):
                path = self.path_of(image_id)
                if image_id in used:
                    self._touch(path)
                    continue
                try:
                    last_used = path.stat().st_mtime
                except FileNotFoundError:
                    last_used = 0.0
                if now - last_used <= self.max_age:
                    continue
                path.unlink(missing_ok=True)
                self._marker(image_id).unlink(missing_ok=True)
                removed.append(image_id)
                LOG.info("removed cached image %s, unused since %.0f s", image_id, now - last_used)
        for partial in self.directory.glob(f"{PARTIAL_PREFIX}*") if self.directory.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):
                if now - partial.stat().st_mtime > max(self.max_age, 3600.0):
                    partial.unlink()
        return removed


@dataclass(frozen=True, kw_only=True)
class ImageFetchConfig:
    """How the hosts of a deployment fetch images: the image API, the service
    credential, and how long unused bases stay cached."""

    image_url: str
    """The image API's root, e.g. ``http://cloud:8774/image``."""
    credential: ServiceCredential
    max_age: float = DEFAULT_MAX_AGE_S
    timeout: float = DEFAULT_TIMEOUT_S

    def cache_for(self, driver: object) -> ImageCache:
        """The cache of the host ``driver`` serves, in the driver's image directory
        (its ``images_path``: where it boots ``<image_ref>`` files from).

        Raises:
            ValueError: the driver has no image directory, or a URL is not usable.
        """
        directory = getattr(driver, "images_path", None)
        if not isinstance(directory, Path):
            raise ValueError(
                f"{driver!r}: no image directory (images_path) to cache images fetched "
                "from the image API in"
            )
        client = ImageApiClient(self.image_url, self.credential, timeout=self.timeout)
        return ImageCache(directory, client, max_age=self.max_age)
