"""The 25 driver methods Nova's Juno "virt-objects" work converted (issue 4): the
seed of the driver interface. One list for every test that needs it: the interface
has them (tests/virt/test_driver.py), the compute manager calls each of them
(tests/compute/test_seed_methods.py) and real QEMU serves each of them
(tests/virt/qemu/test_seed_methods.py)."""

from __future__ import annotations

from typing import Final

SEED_METHODS: Final = (
    "attach_volume",
    "check_can_live_migrate_destination",
    "check_can_live_migrate_source",
    "check_instance_shared_storage_local",
    "cleanup",
    "default_device_names_for_instance",
    "default_root_device_name",
    "destroy",
    "detach_volume",
    "dhcp_options_for_instance",
    "ensure_filtering_rules_for_instance",
    "get_diagnostics",
    "get_info",
    "get_volume_connector",
    "inject_file",
    "inject_network_info",
    "live_migration",
    "macs_for_instance",
    "post_live_migration",
    "pre_live_migration",
    "refresh_instance_security_rules",
    "reset_network",
    "rollback_live_migration_at_destination",
    "unfilter_instance",
    "unplug_vifs",
)
