"""Version strings ("X.Y" or "X.Y.Z") and the compatibility rule between them."""

from __future__ import annotations

import re
from functools import lru_cache

from .exceptions import ObjectDeclarationError

Version = tuple[int, int]

# ASCII digits only: str.isdigit() would admit superscripts and other scripts.
_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+(?:\.[0-9]+)?")


@lru_cache(maxsize=4096)
def parse(version: str) -> Version:
    """Return ``(major, minor)`` of ``"X.Y"`` or ``"X.Y.Z"`` (a ``.Z`` is ignored)."""
    if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
        raise ObjectDeclarationError(f"invalid version {version!r}: expected 'X.Y' or 'X.Y.Z'")
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def is_valid(version: object) -> bool:
    if not isinstance(version, str):
        return False
    try:
        parse(version)
    except ObjectDeclarationError:
        return False
    return True


def fmt(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def is_compatible(requested: str, available: str) -> bool:
    """True when an object at ``available`` can serve one asked for at ``requested``.

    Same rule as oslo.versionedobjects: same major, and the available minor is
    at least the requested one.
    """
    req = parse(requested)
    have = parse(available)
    return req[0] == have[0] and have[1] >= req[1]
