"""Declared history helpers: ``@backport_hook`` for real semantic conversions.

Dropping fields added after a target version, refusing enum values the target
did not know and moving children to the manifest's versions are automatic (see
``codec.backport_primitive``). A hook is only for a change of *meaning*, for
example a field whose unit changed in 1.2::

    @backport_hook("1.2")
    @classmethod
    def _before_1_2(cls, data: dict[str, Any], target: str) -> None:
        if "disk_gb" in data:
            data["disk_mb"] = data.pop("disk_gb") * 1024

It receives the primitive ``data`` dict and the target version, and runs when a
backport goes below the version it names (newest hook first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import versions

F = TypeVar("F")


def backport_hook(version: str) -> Callable[[F], F]:
    """Mark a classmethod as the conversion from ``version`` to anything older."""
    versions.parse(version)

    def mark(func: F) -> F:
        target: Any = getattr(func, "__func__", func)
        target._obj_backport_from = version
        return func

    return mark
