"""Every seed method of the driver interface was exercised against real QEMU by the
tests of this directory (this file runs last: pytest runs files in name order)."""

from __future__ import annotations

import pytest

from .conftest import CALLED

pytestmark = pytest.mark.qemu  # what the QEMU tests of this directory recorded

SEED_METHODS = {
    "attach_volume", "check_can_live_migrate_destination", "check_can_live_migrate_source",
    "check_instance_shared_storage_local", "cleanup", "default_device_names_for_instance",
    "default_root_device_name", "destroy", "detach_volume", "dhcp_options_for_instance",
    "ensure_filtering_rules_for_instance", "get_diagnostics", "get_info", "get_volume_connector",
    "inject_file", "inject_network_info", "live_migration", "macs_for_instance",
    "post_live_migration", "pre_live_migration", "refresh_instance_security_rules",
    "reset_network", "rollback_live_migration_at_destination", "unfilter_instance", "unplug_vifs",
}  # fmt: skip


def test_every_seed_method_was_exercised():
    if not CALLED:
        pytest.fail("run the whole tests/virt/qemu directory: no driver call was recorded")
    assert len(SEED_METHODS) == 25
    missing = SEED_METHODS - CALLED
    assert not missing, missing
