"""cumulo/api/volume/volume_actions.py: os-extend, and what it refuses."""

from __future__ import annotations

import os

import pytest

from .conftest import error_of


def extend(api, volume_id, new_size, who="member"):
    return api.post(f"/volumes/{volume_id}/action", {"os-extend": {"new_size": new_size}}, who)


def test_extend_grows_an_available_volume(api):
    volume = api.create(name="grow")
    response = extend(api, volume["id"], 3)
    assert response.status_code == 202, response.text
    assert api.show(volume["id"])["size"] == 3
    assert os.path.getsize(api.cloud.cloud.volume_store.get(volume["id"]).path) == 3 * 1024**3
    assert extend(api, volume["id"], "4").status_code == 202  # Cinder takes strings too
    assert api.show(volume["id"])["size"] == 4


def test_extend_only_grows(api):
    volume = api.create(name="same", size=2)
    for size in (2, 1):
        refused = extend(api, volume["id"], size)
        assert refused.status_code == 400
        assert error_of(refused)[1] == (
            "Invalid input received: New size for extend must be greater than current size. "
            f"(current: 2, extended: {size})."
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"os-extend": {}}, "os-extend.new_size"),
        ({"os-extend": {"new_size": 0}}, "os-extend.new_size"),
        ({"os-extend": {"new_size": "big"}}, "os-extend.new_size"),
        ({"os-extend": {"new_size": 2, "force": True}}, "os-extend.force"),
        ({"os-reset_status": {"status": "available"}}, "os-reset_status"),
    ],
)
def test_bad_action_bodies_name_the_field(api, body, field):
    volume = api.create(name="bodies")
    refused = api.post(f"/volumes/{volume['id']}/action", body)
    assert refused.status_code == 400
    assert error_of(refused)[1].startswith(f"Invalid input for field '{field}'")
    empty = api.post(f"/volumes/{volume['id']}/action", {})
    assert empty.status_code == 400 and "one action, os-extend" in error_of(empty)[1]


def test_only_members_extend(api):
    volume = api.create(name="readers")
    assert extend(api, volume["id"], 2, who="reader").status_code == 403
