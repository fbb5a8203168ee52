"""The token key repository: a directory of Fernet keys, laid out as Keystone's.

Each key is a file named by an integer:

- ``0`` is the *staged* key: not used yet, but every API process already accepts
  it, so it can be copied to every host before it becomes primary;
- the highest number is the *primary* key, which encrypts new tokens;
- the numbers between are *secondary* keys, kept so the tokens they encrypted stay
  valid until they leave the repository.

:meth:`KeyRepository.rotate` promotes the staged key to primary (``0`` becomes
``max + 1``), stages a new ``0`` and removes the oldest secondaries beyond
``max_active_keys`` (staged and primary included). With the default of 3, a token
survives one rotation and is refused after the second. Files are written
atomically (temporary file, then rename), mode 0600 in a 0700 directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from .exceptions import KeyRepositoryError

DEFAULT_MAX_ACTIVE_KEYS = 3
KEY_REPOSITORY_ENV = "CUMULO_KEY_REPOSITORY"
DEFAULT_KEY_REPOSITORY = "var/fernet-keys"
"""The embedded default, beside the default SQLite file under ``./var``."""

_LOCK = ".lock"
_READ_ATTEMPTS = 5


def default_key_repository() -> Path:
    """``$CUMULO_KEY_REPOSITORY``, else ``var/fernet-keys``."""
    return Path(os.environ.get(KEY_REPOSITORY_ENV) or DEFAULT_KEY_REPOSITORY)


@dataclass(frozen=True)
class KeyRing:
    """The keys of a repository at one moment: ``primary`` encrypts, all decrypt."""

    indexes: tuple[int, ...]
    """Key numbers, primary first, then the secondaries (newest first), then 0."""
    fernet: MultiFernet

    @property
    def primary(self) -> int:
        return self.indexes[0]


class KeyRepository:
    """One key directory (see the module docstring). Reading is cached: the keys are
    re-read only when a key file is added, removed, renamed or rewritten (one
    ``stat`` per key to tell), so a running API process picks a rotation, or keys
    copied in by hand, up at its next token."""

    def __init__(self, path: Path | str, max_active_keys: int = DEFAULT_MAX_ACTIVE_KEYS) -> None:
        if max_active_keys < 2:
            raise KeyRepositoryError(
                f"max_active_keys must be at least 2 (a staged and a primary key), "
                f"not {max_active_keys}"
            )
        self.path = Path(path)
        self.max_active_keys = max_active_keys
        self._cached: tuple[tuple[tuple[str, int, int, int], ...], KeyRing] | None = None

    def __repr__(self) -> str:
        return f"KeyRepository({str(self.path)!r})"

    # --- reading -------------------------------------------------------------------------

    def indexes(self) -> list[int]:
        """The key numbers present, ascending (``[]``: not set up)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeyRepositoryError(f"cannot read key repository {self.path}: {exc}") from exc
        return sorted(int(name) for name in names if name.isdigit())

    def keyring(self) -> KeyRing:
        """The current keys; raises ``KeyRepositoryError`` naming what is wrong."""
        stamp = self._stamp()
        cached = self._cached
        if cached is not None and cached[0] == stamp:
            return cached[1]
        ring = self._read()
        self._cached = (stamp, ring)
        return ring

    def _stamp(self) -> tuple[tuple[str, int, int, int], ...]:
        """What changes when a key is added, removed, renamed or rewritten in place:
        the name, inode, size and modification time of each key file."""
        try:
            entries = [e for e in os.scandir(self.path) if e.name.isdigit()]
            stamps = []
            for entry in entries:
                info = entry.stat()
                stamps.append((entry.name, info.st_ino, info.st_size, info.st_mtime_ns))
        except FileNotFoundError as exc:
            raise KeyRepositoryError(
                f"no key repository at {self.path}: run `cumulo identity bootstrap` "
                "or `cumulo identity setup-keys`"
            ) from exc
        except OSError as exc:
            raise KeyRepositoryError(f"cannot read key repository {self.path}: {exc}") from exc
        return tuple(sorted(stamps))

    def _read(self) -> KeyRing:
        for _attempt in range(_READ_ATTEMPTS):
            indexes = self.indexes()
            if not indexes or indexes == [0]:
                raise KeyRepositoryError(
                    f"key repository {self.path} has no primary key: run "
                    "`cumulo identity setup-keys`"
                )
            ordered = [i for i in reversed(indexes) if i != 0] + ([0] if 0 in indexes else [])
            try:
                keys = [self._load(index) for index in ordered]
            except FileNotFoundError:
                continue  # a rotation renamed or removed a key meanwhile: list again
            return KeyRing(tuple(ordered), MultiFernet(keys))
        raise KeyRepositoryError(f"key repository {self.path} keeps changing while read")

    def _load(self, index: int) -> Fernet:
        path = self.path / str(index)
        try:
            return Fernet(path.read_bytes().strip())
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise KeyRepositoryError(f"cannot read key {path}: {exc}") from exc
        except ValueError as exc:
            raise KeyRepositoryError(f"{path} is not a Fernet key: {exc}") from exc

    # --- writing -------------------------------------------------------------------------

    def setup(self) -> bool:
        """Create the directory with a staged and a primary key if it has no keys;
        returns whether it did (like ``keystone-manage fernet_setup``)."""
        with self._locked():
            if self.indexes():
                return False
            self._write(0, Fernet.generate_key())
            self._write(1, Fernet.generate_key())
            return True

    def rotate(self) -> tuple[int, list[int]]:
        """Promote the staged key, stage a new one, drop the oldest beyond
        ``max_active_keys``; returns the new primary and the numbers removed."""
        with self._locked():
            indexes = self.indexes()
            if not indexes:
                raise KeyRepositoryError(
                    f"key repository {self.path} has no keys: run `cumulo identity setup-keys`"
                )
            primary = max(indexes) + 1
            if 0 in indexes:
                os.replace(self.path / "0", self.path / str(primary))
            else:
                self._write(primary, Fernet.generate_key())
            self._write(0, Fernet.generate_key())
            secondaries = sorted(i for i in indexes if i not in (0, primary))
            removed = []
            while len(secondaries) + 2 > self.max_active_keys:
                oldest = secondaries.pop(0)
                (self.path / str(oldest)).unlink()
                removed.append(oldest)
            _fsync_directory(self.path)
            return primary, removed

    def _write(self, index: int, key: bytes) -> None:
        temporary = self.path / f".{index}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, key)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path / str(index))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The repository, created if needed, locked against a concurrent rotation."""
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
                self.path.chmod(0o700)
            descriptor = os.open(self.path / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyRepositoryError(f"cannot write key repository {self.path}: {exc}") from exc
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
