"""The ``clouds.yaml`` that ``cumulo all-in-one`` writes for the OpenStack clients: its
text, and a writer that never replaces a file someone else changed.

Whether the file is still Cumulo's is told by a marker beside it holding the SHA-256
of what was last written: a file matching it (or matching the new text) is Cumulo's
to rewrite; any other is the user's, kept unless the caller forces it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

CLOUD_NAME = "cumulo"


@dataclass(frozen=True)
class CloudEntry:
    """What the ``cumulo`` entry of the file says."""

    auth_url: str
    password: str
    username: str = "admin"
    project_name: str = "admin"
    region_name: str = "RegionOne"


def render(entry: CloudEntry) -> str:
    """The file's text: one cloud, ``cumulo``, with password auth on the Default domain."""

    def quoted(value: str) -> str:
        return json.dumps(value)  # a JSON string is a YAML double-quoted scalar

    return (
        "# Written by cumulo all-in-one; it is rewritten at each start while unchanged.\n"
        "clouds:\n"
        f"  {CLOUD_NAME}:\n"
        "    auth:\n"
        f"      auth_url: {quoted(entry.auth_url)}\n"
        f"      username: {quoted(entry.username)}\n"
        f"      password: {quoted(entry.password)}\n"
        f"      project_name: {quoted(entry.project_name)}\n"
        '      user_domain_name: "Default"\n'
        '      project_domain_name: "Default"\n'
        f"    region_name: {quoted(entry.region_name)}\n"
        "    identity_api_version: 3\n"
    )


class Outcome(enum.Enum):
    WROTE = "wrote"
    """There was no file."""
    KEPT = "kept"
    """The file already says exactly this."""
    UPDATED = "updated"
    """The file was Cumulo's previous text."""
    OVERWROTE = "overwrote"
    """The file was someone else's, replaced because the caller forced it."""


class ChangedByUser(Exception):
    """The file is not what Cumulo last wrote, and the caller did not force it."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} was changed since cumulo wrote it and is left as it is; "
            "pass --force to overwrite it"
        )
        self.path = path


def marker_path(path: Path) -> Path:
    """Where the SHA-256 of the last text written to ``path`` is kept."""
    return path.with_name(f".{path.name}.sha256")


def write_clouds_yaml(path: Path, text: str, *, force: bool = False) -> Outcome:
    """Make ``path`` say ``text`` (mode 0600: it holds a password) unless it is the
    user's (see the module docstring).

    Raises:
        ChangedByUser: ``path`` differs from ``text`` and from what was last written,
            and ``force`` is false; nothing is written.
    """
    marker = marker_path(path)
    if not path.exists():
        outcome = Outcome.WROTE
    else:
        current = path.read_bytes()
        if current == text.encode():
            outcome = Outcome.KEPT
        elif marker.exists() and marker.read_text().strip() == _digest(current):
            outcome = Outcome.UPDATED
        elif force:
            outcome = Outcome.OVERWROTE
        else:
            raise ChangedByUser(path)
    if outcome is not Outcome.KEPT:
        _write_private(path, text)
    _write_private(marker, _digest(text.encode()) + "\n")
    return outcome


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover temporary file keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)
