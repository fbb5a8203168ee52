"""Cumulo's compute domain objects: what the conductor, compute nodes and drivers
exchange, all versioned objects in namespace ``"cumulo"``.

Importing this package registers every object. ``objects.lock.json`` beside it
records the fingerprint of every version of every object; ``cumulo objects
check`` (and ``tests/model/test_lockfile.py``) fail when an object changes
without the version bump it needs.
"""

from __future__ import annotations

from pathlib import Path

from .base import CumuloObject
from .flavor import Flavor
from .security_group import (
    Direction,
    EtherType,
    Protocol,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
)

NAMESPACE = CumuloObject.OBJ_PROJECT_NAMESPACE
"""The project namespace every Cumulo object is registered under."""

LOCKFILE = Path(__file__).with_name("objects.lock.json")
"""The committed fingerprints of every version of every Cumulo object."""

__all__ = [
    "LOCKFILE",
    "NAMESPACE",
    "CumuloObject",
    "Direction",
    "EtherType",
    "Flavor",
    "Protocol",
    "SecurityGroup",
    "SecurityGroupList",
    "SecurityGroupRule",
]
