"""The registry of object classes, keyed by (project namespace, object name)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

from . import versions
from .exceptions import IncompatibleObjectVersion, ObjectDeclarationError, UnsupportedObjectError

if TYPE_CHECKING:
    from .base import VersionedObject

C = TypeVar("C", bound="type[VersionedObject]")


class Registry:
    """Maps ``(namespace, name)`` to the registered classes, newest version first.

    Two projects use two namespaces, so their objects never collide even when
    they share a name.
    """

    def __init__(self) -> None:
        self._classes: dict[tuple[str, str], list[type[VersionedObject]]] = {}
        self._lock = threading.Lock()

    def register(self, cls: C) -> C:
        key = (cls.OBJ_PROJECT_NAMESPACE, cls.obj_name())
        new_v = versions.parse(cls.VERSION)
        with self._lock:
            known = self._classes.setdefault(key, [])
            for i, other in enumerate(known):
                if versions.parse(other.VERSION) == new_v:
                    if other.__qualname__ != cls.__qualname__ or other.__module__ != cls.__module__:
                        raise ObjectDeclarationError(
                            f"{key[1]} {cls.VERSION} is already registered in namespace "
                            f"{key[0]!r} by {other.__module__}.{other.__qualname__}"
                        )
                    known[i] = cls  # re-registration of the same class (module reload)
                    return cls
            known.append(cls)
            known.sort(key=lambda c: versions.parse(c.VERSION), reverse=True)
        return cls

    def unregister(self, cls: type[VersionedObject]) -> None:
        key = (cls.OBJ_PROJECT_NAMESPACE, cls.obj_name())
        with self._lock:
            known = self._classes.get(key, [])
            if cls in known:
                known.remove(cls)
            if not known:
                self._classes.pop(key, None)

    def newest(self, namespace: str, name: str) -> type[VersionedObject]:
        known = self._classes.get((namespace, name))
        if not known:
            raise UnsupportedObjectError(f"unknown object {name!r} in namespace {namespace!r}", "$")
        return known[0]

    def lookup(self, namespace: str, name: str, version: str) -> type[VersionedObject]:
        """The class serving ``name`` at ``version``: exact, else the newest compatible."""
        known = self._classes.get((namespace, name))
        if not known:
            raise UnsupportedObjectError(f"unknown object {name!r} in namespace {namespace!r}", "$")
        wanted = versions.parse(version)
        compatible = None
        for cls in known:
            have = versions.parse(cls.VERSION)
            if have == wanted:
                return cls
            if have[0] == wanted[0] and have[1] >= wanted[1] and compatible is None:
                compatible = cls
        if compatible is None:
            raise IncompatibleObjectVersion(name, version, known[0].VERSION)
        return compatible

    def namespaces(self) -> set[str]:
        return {ns for ns, _ in self._classes}

    def classes(self, namespace: str | None = None) -> Iterator[type[VersionedObject]]:
        """The newest class of every registered name, sorted by name."""
        for (ns, _name), known in sorted(self._classes.items()):
            if namespace is None or ns == namespace:
                yield known[0]

    def names(self, namespace: str) -> dict[str, type[VersionedObject]]:
        return {name: known[0] for (ns, name), known in self._classes.items() if ns == namespace}


REGISTRY = Registry()
"""The process-wide default registry used by :func:`register`."""


def register(cls: C) -> C:
    """Class decorator: register ``cls`` in its registry (``cls.OBJ_REGISTRY``)."""
    cls.OBJ_REGISTRY.register(cls)
    return cls
