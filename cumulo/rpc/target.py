"""``Target``: where a message goes (topic, server, fanout) and what it speaks
(version, namespace); and the version compatibility rule of RPC APIs."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from .exceptions import InvalidTarget

Version = tuple[int, int, int]


@lru_cache(maxsize=1024)
def parse_version(version: str) -> Version:
    """``"X.Y"`` or ``"X.Y.Z"`` as ``(X, Y, Z)``; a missing ``Z`` is 0."""
    parts = version.split(".") if isinstance(version, str) else []
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
        raise InvalidTarget(f"invalid RPC version {version!r}: expected 'X.Y' or 'X.Y.Z'")
    major, minor, *rest = (int(p) for p in parts)
    return major, minor, rest[0] if rest else 0


def version_is_compatible(available: str, requested: str) -> bool:
    """True when an API at ``available`` can handle a message at ``requested``.

    oslo.messaging's rule: same major, and the requested minor (then revision) is
    not newer than the available one. An endpoint at 1.2 accepts 1.0 and 1.2 and
    refuses 1.3 and 2.0.
    """
    have = parse_version(available)
    want = parse_version(requested)
    return have[0] == want[0] and want[1:] <= have[1:]


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """Where a message goes and which API version it speaks.

    A client's target names the ``topic`` (and ``server`` to address one host,
    or ``fanout`` to reach every server on the topic) and the message
    ``version``; a server's target names the ``topic`` and its ``server`` name;
    an endpoint's target names the ``version`` and ``namespace`` it serves.
    """

    topic: str | None = None
    server: str | None = None
    version: str | None = None
    namespace: str | None = None
    fanout: bool = False

    def __post_init__(self) -> None:
        if self.version is not None:
            parse_version(self.version)
        for name in ("topic", "server"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidTarget(f"Target.{name} must be a non-empty string, got {value!r}")

    def replace(self, **changes: Any) -> Target:
        return dataclasses.replace(self, **changes)

    def __str__(self) -> str:
        parts = [f"topic={self.topic}"]
        if self.server:
            parts.append(f"server={self.server}")
        if self.fanout:
            parts.append("fanout")
        if self.namespace:
            parts.append(f"namespace={self.namespace}")
        if self.version:
            parts.append(f"version={self.version}")
        return "<Target " + " ".join(parts) + ">"
