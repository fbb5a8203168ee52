"""What connects the fake hosts of one process: who is reachable for live migration,
which instance storage they share, and which addresses they get.

Each :class:`~cumulo.virt.fake.FakeDriver` is one host; hosts built with the same
:class:`FakeHypervisorNetwork` can live-migrate to each other, and those naming
the same storage pool see the same instance directories (shared storage).

Hosts in *different processes* cannot share a :class:`FakeHypervisorNetwork`; they
live-migrate through a :class:`FakeMigrationChannel`, a directory they all see
(see :class:`~cumulo.virt.fake.FakeDriver` for what travels and when it lands).
"""

from __future__ import annotations

import ipaddress
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar
from uuid import UUID

if TYPE_CHECKING:
    from .fake import FakeDriver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


_Item = TypeVar("_Item", UUID, str)


class SharedSet(Generic[_Item]):
    """A set the threads of several fake hosts use at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[_Item] = set()

    def add(self, item: _Item) -> None:
        with self._lock:
            self._items.add(item)

    def discard(self, item: _Item) -> None:
        with self._lock:
            self._items.discard(item)

    def __contains__(self, item: object) -> bool:
        with self._lock:
            return item in self._items

    def sorted(self) -> list[_Item]:
        """The items, sorted."""
        with self._lock:
            return sorted(self._items)


class FakeStorage:
    """One pool of instance storage: the instance directories it holds (``dirs``,
    by instance uuid) and the shared-storage probes left in it (``probes``, by file
    name). Thread-safe."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dirs: SharedSet[UUID] = SharedSet()
        self.probes: SharedSet[str] = SharedSet()

    def __repr__(self) -> str:
        return f"<FakeStorage {self.name!r}>"


class FakeHypervisorNetwork:
    """The fake hosts of one process that can reach each other.

    A host joins when its ``FakeDriver`` is made with ``network=`` this object and
    leaves with :meth:`leave`. Host addresses come from ``subnet`` in joining
    order (``10.0.0.1``, ``10.0.0.2``...) unless a driver is given its own.
    """

    def __init__(self, subnet: str = "10.0.0.0/8") -> None:
        self._lock = threading.Lock()
        self._drivers: dict[str, FakeDriver] = {}
        self._storage: dict[str, FakeStorage] = {}
        self._subnet = ipaddress.ip_network(subnet)
        self._next_address = 1

    def join(self, driver: FakeDriver) -> None:
        """Add ``driver``'s host; a host name can be taken once."""
        with self._lock:
            if driver.host in self._drivers:
                raise ValueError(f"host {driver.host!r} is already on this fake network")
            self._drivers[driver.host] = driver

    def leave(self, host: str) -> None:
        """Remove a host (it can no longer be migrated to)."""
        with self._lock:
            self._drivers.pop(host, None)

    def driver(self, host: str) -> FakeDriver | None:
        """The driver of ``host``, if it is on the network."""
        with self._lock:
            return self._drivers.get(host)

    def hosts(self) -> list[str]:
        """The host names on the network, sorted."""
        with self._lock:
            return sorted(self._drivers)

    def storage(self, name: str) -> FakeStorage:
        """The storage pool called ``name`` (made on first use)."""
        with self._lock:
            pool = self._storage.get(name)
            if pool is None:
                pool = self._storage[name] = FakeStorage(name)
            return pool

    def allocate_address(self) -> IPAddress:
        """The next free host address of the subnet."""
        with self._lock:
            if self._next_address >= self._subnet.num_addresses - 1:
                raise ValueError(f"fake network: no host address left in {self._subnet}")
            address = self._subnet.network_address + self._next_address
            self._next_address += 1
            return address

    def group_addresses(self) -> dict[int, set[IPAddress]]:
        """Security group id → the fixed IPs of every filtered guest in that group,
        over all hosts (resolves rules that name a remote group)."""
        with self._lock:
            drivers = list(self._drivers.values())
        merged: dict[int, set[IPAddress]] = {}
        for driver in drivers:
            for group_id, addresses in driver.group_addresses().items():
                merged.setdefault(group_id, set()).update(addresses)
        return merged


class FakeMigrationChannel:
    """A directory the fake hosts of several processes share to live-migrate guests
    between processes (the fake's stand-in for the hypervisors' migration link).

    Each host that opens the channel gets ``<path>/<host>/``. The destination's
    ``pre_live_migration`` leaves ``<uuid>.expected`` there (the guest may come);
    the source's ``live_migration`` replaces it with ``<uuid>.guest`` (the guest's
    state, written atomically); the destination takes the guest in when it next
    looks (``post_live_migration_at_destination``). Safe across processes for one
    writer per file, which the migration steps guarantee.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"<FakeMigrationChannel {str(self.path)!r}>"

    def _dir(self, host: str) -> Path:
        if not host or host in (".", "..") or "/" in host or "\\" in host:
            raise ValueError(f"fake migration channel: bad host name {host!r}")
        return self.path / host

    def open(self, host: str) -> None:
        """Make ``host`` reachable through the channel."""
        self._dir(host).mkdir(exist_ok=True)

    def is_open(self, host: str) -> bool:
        return self._dir(host).is_dir()

    def expect(self, host: str, instance_uuid: UUID) -> None:
        """``host`` is prepared to receive the guest ``instance_uuid``."""
        (self._dir(host) / f"{instance_uuid}.expected").touch()

    def expects(self, host: str, instance_uuid: UUID) -> bool:
        return (self._dir(host) / f"{instance_uuid}.expected").exists()

    def forget(self, host: str, instance_uuid: UUID) -> None:
        """Drop what the channel holds for the guest on ``host`` (a rollback)."""
        for suffix in ("expected", "guest"):
            (self._dir(host) / f"{instance_uuid}.{suffix}").unlink(missing_ok=True)

    def send(self, host: str, instance_uuid: UUID, payload: bytes) -> None:
        """Deliver the guest's state to ``host`` (which expects it)."""
        folder = self._dir(host)
        partial = folder / f".{instance_uuid}.guest.{os.getpid()}"
        partial.write_bytes(payload)
        os.replace(partial, folder / f"{instance_uuid}.guest")
        (folder / f"{instance_uuid}.expected").unlink(missing_ok=True)

    def receive(self, host: str, instance_uuid: UUID) -> bytes | None:
        """The guest's state delivered to ``host``, taken off the channel; ``None``
        when none arrived."""
        path = self._dir(host) / f"{instance_uuid}.guest"
        try:
            payload = path.read_bytes()
        except FileNotFoundError:
            return None
        path.unlink(missing_ok=True)
        return payload
