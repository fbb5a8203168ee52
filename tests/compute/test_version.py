"""The service version history (like Nova's TestServiceVersion): the last level is
this code's, so an object or compute RPC bump without a new level fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cumulo.compute import version
from cumulo.compute.resource_tracker import object_manifest
from cumulo.compute.rpcapi import API_VERSION
from cumulo.compute.version import (
    OLDEST_SUPPORTED_SERVICE_VERSION,
    SERVICE_VERSION,
    SERVICE_VERSION_HISTORY,
    UnsupportedServiceVersion,
    check_compute_level,
    levels_summary,
)

RELEASES = Path(__file__).resolve().parents[2] / "upgrade" / "releases.json"


def test_the_last_level_is_this_code() -> None:
    assert len(SERVICE_VERSION_HISTORY) == SERVICE_VERSION + 1, (
        "SERVICE_VERSION_HISTORY needs one entry per level, the last one SERVICE_VERSION's"
    )
    last = SERVICE_VERSION_HISTORY[SERVICE_VERSION]
    assert last.compute_rpc == API_VERSION, (
        "the compute RPC API changed: bump SERVICE_VERSION and add a history entry"
    )
    assert dict(last.object_manifest) == object_manifest(), (
        "the object manifest changed: bump SERVICE_VERSION and add a history entry"
    )


def test_levels_are_ordered_and_supported_level_is_known() -> None:
    assert SERVICE_VERSION_HISTORY[0].object_manifest == {}
    rpcs = [tuple(map(int, e.compute_rpc.split("."))) for e in SERVICE_VERSION_HISTORY[1:]]
    assert rpcs == sorted(rpcs)
    assert 1 <= OLDEST_SUPPORTED_SERVICE_VERSION <= SERVICE_VERSION


def test_history_entries_are_frozen() -> None:
    with pytest.raises(TypeError):
        SERVICE_VERSION_HISTORY[1].object_manifest["Instance"] = "9.9"  # type: ignore[index]


def test_released_levels_match_the_release_record() -> None:
    releases = json.loads(RELEASES.read_text())
    for name, release in releases.items():
        entry = SERVICE_VERSION_HISTORY[release["service_version"]]
        assert entry.release == name
        assert entry.compute_rpc == release["compute_rpc"]


def test_levels_summary() -> None:
    assert levels_summary() == [
        "level 0: no computes (no pin)",
        "level 1: release 0.1, compute RPC 1.0, 52 objects [oldest supported]",
        "level 2: release 0.2, compute RPC 1.1, 52 objects [this code]",
    ]


def test_level_lookup() -> None:
    assert version.level(1) is SERVICE_VERSION_HISTORY[1]
    with pytest.raises(LookupError, match="service version 3 is unknown"):
        version.level(SERVICE_VERSION + 1)


def test_check_compute_level() -> None:
    check_compute_level("h", SERVICE_VERSION)
    with pytest.raises(UnsupportedServiceVersion, match="compute h is at service level 0, below"):
        check_compute_level("h", OLDEST_SUPPORTED_SERVICE_VERSION - 1)
    with pytest.raises(UnsupportedServiceVersion, match="upgrade the conductor first"):
        check_compute_level("h", SERVICE_VERSION + 1)
