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
        "level 2: release 0.2, compute RPC 1.1, 52 objects",
        "level 3: release 0.3, compute RPC 1.2, 55 objects [this code]",
    ]


def test_level_lookup() -> None:
    assert version.level(1) is SERVICE_VERSION_HISTORY[1]
    with pytest.raises(LookupError, match="service version 4 is unknown"):
        version.level(SERVICE_VERSION + 1)


def test_check_compute_level() -> None:
    check_compute_level("h", SERVICE_VERSION)
    with pytest.raises(UnsupportedServiceVersion, match="compute h is at service level 0, below"):
        check_compute_level("h", OLDEST_SUPPORTED_SERVICE_VERSION - 1)
    with pytest.raises(UnsupportedServiceVersion, match="upgrade the conductor first"):
        check_compute_level("h", SERVICE_VERSION + 1)


# --- the skew policy ----------------------------------------------------------------------


def test_the_policy_is_n_minus_2() -> None:
    assert version.SKEW_POLICY.releases_behind == 2
    assert OLDEST_SUPPORTED_SERVICE_VERSION == SERVICE_VERSION - 2 == 1
    assert version.SKEW_POLICY.first_level_without(1) == 4
    assert [version.SKEW_POLICY.behind(n, 3) for n in (3, 2, 1, 0)] == ["N", "N-1", "N-2", "N-3"]


def test_releases_are_numbered_by_level() -> None:
    # release_of() names future releases by this rule; the known ones keep to it.
    for number, entry in enumerate(SERVICE_VERSION_HISTORY[1:], start=1):
        assert entry.release == version.release_of(number) == f"0.{number}"
    assert version.release_of(SERVICE_VERSION + 1) == f"0.{SERVICE_VERSION + 1}"


def test_support_status_says_where_a_level_stands() -> None:
    assert version.support_status(3) == "level 3 (release 0.3), N: current"
    assert version.support_status(2) == (
        "level 2 (release 0.2), N-1: supported; release 0.5 (level 5) will refuse it"
    )
    assert version.support_status(1) == (
        "level 1 (release 0.1), N-2: supported; release 0.4 (level 4) will refuse it"
    )
    assert version.support_status(0) == "level 0 (release 0.0), N-3: unsupported since release 0.3"
    assert "newer than this code" in version.support_status(4)


def test_capabilities_by_level() -> None:
    assert [c.what for c in version.missing_capabilities(1)] == [
        "attach a volume read-only",
        "show a console output",
        "attach a volume with a device tag",
        "attach a volume deleted with its server",
    ]
    assert [c.since for c in version.missing_capabilities(2)] == [3, 3]
    assert version.missing_capabilities(SERVICE_VERSION) == []
    # Each capability's RPC version is the one its level introduced.
    for capability in version.CAPABILITIES:
        assert SERVICE_VERSION_HISTORY[capability.since].compute_rpc == capability.compute_rpc
        assert SERVICE_VERSION_HISTORY[capability.since - 1].compute_rpc != capability.compute_rpc


def test_a_peer_manifest_is_matched_to_its_level() -> None:
    level_1, level_2 = (SERVICE_VERSION_HISTORY[n].object_manifest for n in (1, 2))
    assert version.level_of_manifest({"Instance": level_1["Instance"], "Flavor": "1.0"}) == 1
    assert version.level_of_manifest({"LiveMigrateData": level_2["LiveMigrateData"]}) == 2
    assert version.level_of_manifest({"Instance": "1.2"}) == 3
    assert version.level_of_manifest({"Instance": "9.9"}) is None
