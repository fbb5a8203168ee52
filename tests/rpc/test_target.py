"""Targets and the RPC version compatibility rule."""

from __future__ import annotations

import pytest

from cumulo.rpc import InvalidTarget, Target, version_is_compatible
from cumulo.rpc.target import parse_version


@pytest.mark.parametrize(
    ("requested", "accepted"),
    [("1.0", True), ("1.1", True), ("1.2", True), ("1.3", False), ("2.0", False), ("0.9", False)],
)
def test_an_endpoint_at_1_2_accepts_its_major_up_to_its_minor(requested, accepted):
    assert version_is_compatible("1.2", requested) is accepted


def test_revisions_compare_after_the_minor():
    assert version_is_compatible("1.2.3", "1.2.1")
    assert version_is_compatible("1.2.3", "1.2")
    assert not version_is_compatible("1.2", "1.2.1")
    assert parse_version("4.11") == (4, 11, 0)


@pytest.mark.parametrize("bad", ["1", "1.x", "v1.0", "1.0.0.0", "", "1..0"])
def test_malformed_versions_are_refused_with_the_value(bad):
    with pytest.raises(InvalidTarget, match="invalid RPC version"):
        Target("compute", version=bad)


def test_target_fields_and_replace():
    target = Target("compute", version="5.0")
    assert target.server is None and target.namespace is None and target.fanout is False
    other = target.replace(server="host1", version="5.1")
    assert other == Target("compute", server="host1", version="5.1")
    assert target.server is None  # targets are values
    assert hash(other) == hash(Target("compute", server="host1", version="5.1"))
    assert "server=host1" in str(other)


@pytest.mark.parametrize("field", ["topic", "server"])
def test_empty_names_are_refused(field):
    with pytest.raises(InvalidTarget, match=f"Target.{field}"):
        Target(**{"topic": "t", field: ""})
