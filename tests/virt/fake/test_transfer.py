"""Tests of cumulo/virt/fake/transfer.py: the guest state a live migration carries,
and its JSON form on a migration channel, which must stay release 0.1's (and 0.2's,
which kept 0.1's codec unchanged) in both directions."""

from __future__ import annotations

import json
import uuid
from typing import Any
from uuid import UUID

import msgspec
import pytest

from cumulo.model import InjectedFile, NetworkInfo, PowerState
from cumulo.virt.fake.guest import Guest
from cumulo.virt.fake.transfer import GuestState, MovableState

from ..builders import make_network_info, make_vif

# --- release 0.1's codec, as cumulo/virt/fake.py had it at 1aced40 (and ed1e99a) -------------
# Transcribed on plain values: what a 0.1 or 0.2 host writes on the channel, and how it
# reads what it finds there (every key is required; unknown keys are ignored).


def write_as_0_1(v: dict[str, Any], block_migration: bool) -> bytes:
    return json.dumps(
        {
            "block_migration": block_migration,
            "uuid": str(v["uuid"]),
            "power_state": v["power_state"].value,
            "run_s": v["run_s"],
            "uptime_s": v["uptime_s"],
            "network_info": v["network_info"].obj_to_primitive(),
            "files": {path: f.obj_to_primitive() for path, f in v["files"].items()},
            "admin_password_set": v["admin_password_set"],
            "config_drive": v["config_drive"],
            "boot_count": v["boot_count"],
            "network_injections": v["network_injections"],
            "network_resets": v["network_resets"],
            "boot_read_bytes": v["boot_read_bytes"],
            "config_write_bytes": v["config_write_bytes"],
            "config_write_requests": v["config_write_requests"],
            "nic_extra": {str(vid): c for vid, c in v["nic_extra"].items()},
            "volume_ids": sorted(str(x) for x in v["volume_ids"]),
            "vif_ids": sorted(str(x) for x in v["vif_ids"]),
            "filtered": v["filtered"],
            "volume_backed": v["volume_backed"],
            "local_disk": v["local_disk"],
            "storage": v["storage"],
        }
    ).encode()


def read_as_0_1(payload: bytes) -> tuple[dict[str, Any], bool]:
    raw = json.loads(payload)
    values = {
        "uuid": UUID(raw["uuid"]),
        "power_state": PowerState(raw["power_state"]),
        "run_s": raw["run_s"],
        "uptime_s": raw["uptime_s"],
        "network_info": NetworkInfo.obj_from_primitive(raw["network_info"]),
        "files": {path: InjectedFile.obj_from_primitive(f) for path, f in raw["files"].items()},
        "admin_password_set": raw["admin_password_set"],
        "config_drive": raw["config_drive"],
        "boot_count": raw["boot_count"],
        "network_injections": raw["network_injections"],
        "network_resets": raw["network_resets"],
        "boot_read_bytes": raw["boot_read_bytes"],
        "config_write_bytes": raw["config_write_bytes"],
        "config_write_requests": raw["config_write_requests"],
        "nic_extra": {UUID(vid): list(c) for vid, c in raw["nic_extra"].items()},
        "volume_ids": frozenset(UUID(x) for x in raw["volume_ids"]),
        "vif_ids": frozenset(UUID(x) for x in raw["vif_ids"]),
        "filtered": raw["filtered"],
        "volume_backed": raw["volume_backed"],
        "local_disk": raw["local_disk"],
        "storage": raw["storage"],
    }
    return values, bool(raw["block_migration"])


KEYS_0_1 = {
    "block_migration", "uuid", "power_state", "run_s", "uptime_s", "network_info", "files",
    "admin_password_set", "config_drive", "boot_count", "network_injections", "network_resets",
    "boot_read_bytes", "config_write_bytes", "config_write_requests", "nic_extra", "volume_ids",
    "vif_ids", "filtered", "volume_backed", "local_disk", "storage",
}  # fmt: skip


# --- a guest as a source holds it ------------------------------------------------------------


def _values(*, uptime_s: float | None = 95.5) -> dict[str, Any]:
    network_info = make_network_info(make_vif(), make_vif(ip="10.1.0.6"))
    volumes = sorted(uuid.uuid4() for _ in range(3))
    return {
        "uuid": uuid.uuid4(),
        "power_state": PowerState.PAUSED,
        "run_s": 120.25,
        "uptime_s": uptime_s,
        "network_info": network_info,
        "files": {
            "/etc/motd": InjectedFile.of("/etc/motd", b"hello"),
            "/root/.ssh/id": InjectedFile.of("/root/.ssh/id", b"\x00\xffkey"),
        },
        "admin_password_set": True,
        "config_drive": True,
        "boot_count": 2,
        "network_injections": 1,
        "network_resets": 3,
        "boot_read_bytes": 104857600,
        "config_write_bytes": 812,
        "config_write_requests": 4,
        "nic_extra": {network_info.objects[0].id: [300, 2, 300, 2]},
        # Not in order: the writer sorts them.
        "volume_ids": [volumes[2], volumes[0], volumes[1]],
        "vif_ids": [vif.id for vif in network_info],
        "filtered": True,
        "volume_backed": False,
        "local_disk": True,
        "storage": "local:host-a",
    }


def _state(v: dict[str, Any], block_migration: bool) -> GuestState:
    return GuestState(
        **{**v, "volume_ids": sorted(v["volume_ids"]), "vif_ids": sorted(v["vif_ids"])},
        block_migration=block_migration,
    )


def _comparable(v: dict[str, Any]) -> dict[str, Any]:
    """Values with objects as their primitives and the id lists as sets."""
    out = dict(v)
    out["network_info"] = v["network_info"].obj_to_primitive()
    out["files"] = {path: f.obj_to_primitive() for path, f in v["files"].items()}
    out["volume_ids"] = frozenset(v["volume_ids"])
    out["vif_ids"] = frozenset(v["vif_ids"])
    return out


def _fields_of(state: GuestState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in GuestState.__struct_fields__}


@pytest.mark.parametrize("uptime_s", [95.5, None])
@pytest.mark.parametrize("block_migration", [True, False])
def test_decodes_a_state_exactly_as_release_0_1_writes_it(uptime_s, block_migration):
    values = _values(uptime_s=uptime_s)
    payload = write_as_0_1(values, block_migration)
    assert set(json.loads(payload)) == KEYS_0_1

    state = GuestState.decode(payload)

    assert state.block_migration is block_migration
    assert isinstance(state.power_state, PowerState) and state.power_state is PowerState.PAUSED
    assert isinstance(state.network_info, NetworkInfo)
    assert all(isinstance(f, InjectedFile) for f in state.files.values())
    assert state.files["/root/.ssh/id"].contents == b"\x00\xffkey"
    assert all(isinstance(v, UUID) for v in [state.uuid, *state.volume_ids, *state.nic_extra])
    got = {k: v for k, v in _fields_of(state).items() if k != "block_migration"}
    assert _comparable(got) == _comparable(values)


def test_a_whole_number_of_seconds_from_an_old_host_decodes_as_float():
    raw = json.loads(write_as_0_1(_values(), True))
    raw["run_s"], raw["uptime_s"] = 30, 30
    state = GuestState.decode(json.dumps(raw).encode())
    assert state.run_s == 30.0 and isinstance(state.run_s, float)


@pytest.mark.parametrize("uptime_s", [95.5, None])
@pytest.mark.parametrize("block_migration", [True, False])
def test_what_it_writes_is_what_release_0_1_writes_and_reads(uptime_s, block_migration):
    values = _values(uptime_s=uptime_s)
    written = _state(values, block_migration).encode()

    # Same keys and the same value in the same JSON form as 0.1's document.
    assert json.loads(written) == json.loads(write_as_0_1(values, block_migration))
    # And a 0.1 (or 0.2) host reads it back to the same values.
    read, block = read_as_0_1(written)
    assert block is block_migration
    assert _comparable(read) == _comparable(values)


def test_forms_on_the_wire():
    values = _values()
    doc = json.loads(_state(values, True).encode())
    assert doc["uuid"] == str(values["uuid"])
    assert doc["power_state"] == 3
    assert doc["volume_ids"] == sorted(str(v) for v in values["volume_ids"])
    assert doc["nic_extra"] == {str(values["network_info"].objects[0].id): [300, 2, 300, 2]}
    assert doc["network_info"]["cumulo_object.name"] == "NetworkInfo"
    assert doc["storage"] == "local:host-a"


def test_a_bad_document_names_the_bad_value():
    raw = json.loads(write_as_0_1(_values(), True))
    raw["power_state"] = "running"
    with pytest.raises(msgspec.ValidationError, match=r"\$\.power_state"):
        GuestState.decode(json.dumps(raw).encode())
    raw = json.loads(write_as_0_1(_values(), True))
    del raw["storage"]
    with pytest.raises(msgspec.ValidationError, match="`storage`"):
        GuestState.decode(json.dumps(raw).encode())


def test_the_movable_state_is_what_the_guest_record_and_the_document_share():
    movable = set(MovableState.__struct_fields__)
    assert movable <= set(Guest.__struct_fields__)
    assert movable <= set(GuestState.__struct_fields__) == movable | {
        "block_migration", "uuid", "run_s", "uptime_s", "volume_ids", "vif_ids", "filtered",
        "volume_backed", "local_disk", "storage",
    }  # fmt: skip
    assert set(GuestState.__struct_fields__) == KEYS_0_1
