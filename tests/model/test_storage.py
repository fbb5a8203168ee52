"""Tests of cumulo/model/storage.py: installing the storage port, and the error
a process with neither a database nor an indirection API gets."""

import pytest

from cumulo.model import Flavor, Instance, NoStorageError, Storage, get_storage, set_storage
from cumulo.model.storage import InstanceFilters

from .conftest import RecordingStorage


def test_no_storage_is_a_clear_error():
    with pytest.raises(NoStorageError) as caught:
        get_storage()
    assert str(caught.value) == (
        "no database in this process: set a Storage (conductor) or an indirection API (compute)"
    )


def test_a_remotable_method_without_storage_or_indirection_fails_clearly(ctx):
    with pytest.raises(NoStorageError, match="no database in this process"):
        Instance.get_by_uuid(ctx, "6e5bd4a4-4b4f-4a3e-9a0a-1c8d3b8a0f11")
    with pytest.raises(NoStorageError):
        Flavor(flavorid="m1", name="m1", memory_mb=1, vcpus=1).obj_set_context(ctx).create()


def test_set_storage_installs_and_returns_the_previous_one():
    first, second = RecordingStorage(), RecordingStorage()
    assert set_storage(first) is None
    assert get_storage() is first
    assert set_storage(second) is first
    assert get_storage() is second
    assert set_storage(None) is second
    with pytest.raises(NoStorageError):
        get_storage()


def test_storage_protocol_names_the_operations_the_objects_use():
    members = {name for name in dir(Storage) if not name.startswith("_")}
    assert {
        "instance_create",
        "instance_get_by_uuid",
        "instance_get_all_by_host",
        "instance_get_all",
        "instance_save",
        "instance_destroy",
        "instance_load_attr",
        "info_cache_save",
        "flavor_get_by_flavorid",
        "bdm_get_by_instance_uuid",
        "migration_save",
        "service_get_minimum_version",
        "compute_node_get_by_host",
        "security_group_get_by_instance",
        "instance_fault_create",
        "action_start",
        "action_event_finish",
        "volume_destroy",
    } <= members
    assert isinstance(RecordingStorage(), Storage)


def test_instance_filters_default_to_any():
    filters = InstanceFilters()
    assert (filters.host, filters.project_id, filters.vm_states, filters.limit) == (
        None,
        None,
        None,
        None,
    )
    assert filters.include_deleted is False
