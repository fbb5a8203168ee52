"""cumulo/api/compute/microversions.py: the history table and the negotiation."""

from __future__ import annotations

import pytest

from cumulo.api.compute import microversions as mv
from cumulo.api.compute.microversions import Microversion, NotAcceptableVersion, negotiate


def test_the_history_is_ordered_and_ends_at_the_advertised_maximum():
    versions = [c.version for c in mv.HISTORY]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert versions[0] == mv.MIN_VERSION == Microversion(2, 1)
    assert mv.MAX_VERSION == versions[-1] == Microversion(2, 61)


def test_versions_compare_as_numbers_not_text():
    assert Microversion.parse("2.10") > Microversion.parse("2.9")
    assert str(Microversion.parse("2.61")) == "2.61"


@pytest.mark.parametrize(
    ("header", "legacy", "expected"),
    [
        (None, None, "2.1"),
        ("compute 2.55", None, "2.55"),
        ("compute latest", None, "2.61"),
        (None, "2.60", "2.60"),
        (None, "latest", "2.61"),
        ("volume 3.0, compute 2.2", None, "2.2"),
        ("compute 2.55", "2.2", "2.55"),  # the new header wins
        ("volume 3.59", None, "2.1"),  # names no compute version
    ],
)
def test_negotiation(header, legacy, expected):
    assert str(negotiate(header, legacy)) == expected


@pytest.mark.parametrize(
    ("header", "legacy"),
    [
        ("compute 2.62", None),
        ("compute 2.0", None),
        ("compute 3.1", None),
        ("compute two", None),
        (None, "2"),
        (None, "2.01"),
        ("compute 2.1.1", None),
    ],
)
def test_out_of_range_or_malformed_is_not_acceptable(header, legacy):
    with pytest.raises(NotAcceptableVersion):
        negotiate(header, legacy)


def test_since_names_the_change():
    assert not mv.since(Microversion(2, 54), mv.DESCRIPTION)
    assert mv.since(Microversion(2, 55), mv.DESCRIPTION)
    assert not mv.since(Microversion(2, 60), mv.EXTRA_SPECS_IN_FLAVOR)
