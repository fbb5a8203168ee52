"""Every one of the 25 seed methods of the driver interface runs against real QEMU,
in one scenario of its own on two hosts (build-time naming and allocation, a volume,
filtering, diagnostics, injection, the shared-storage probe, a live migration and a
rolled-back one), so the result does not depend on which other tests ran or in what
order."""

from __future__ import annotations

import uuid

from cumulo.model import (
    BlockDeviceMapping,
    DestinationType,
    ImageMeta,
    InjectedFile,
    PowerState,
    SourceType,
)
from tests.support.seed_methods import SEED_METHODS

from ..builders import Ctx, live_migrate, make_bdi, make_groups, tcp_rule
from .conftest import volume_bdm


def test_every_seed_method_runs_against_real_qemu(host_a, host_b, instance, network_info, volumes):
    ctx = Ctx()
    root = BlockDeviceMapping(
        uuid=uuid.uuid4(),
        instance_uuid=instance.uuid,
        source_type=SourceType.IMAGE,
        destination_type=DestinationType.LOCAL,
        boot_index=0,
    )
    assert host_a.default_root_device_name(instance, ImageMeta(), root) == "/dev/vda"
    bdm = volume_bdm(volumes, host_a, instance)  # get_volume_connector
    bdm.device_name = None
    host_a.default_device_names_for_instance(instance, "/dev/vda", [bdm])
    assert bdm.device_name == "/dev/sdb"  # /dev/sda is the config drive
    assert bdm.connection_info is not None
    assert host_a.macs_for_instance(instance) is None
    assert host_a.dhcp_options_for_instance(instance).objects == []

    host_a.spawn(ctx, instance, ImageMeta(), [], None, network_info)
    host_a.attach_volume(ctx, bdm.connection_info, instance, bdm.device_name)
    groups = make_groups(tcp_rule(22))
    host_a.ensure_filtering_rules_for_instance(instance, network_info, groups)
    host_a.refresh_instance_security_rules(instance, make_groups(tcp_rule(22), tcp_rule(80)))
    assert host_a.get_info(instance).state is PowerState.RUNNING
    assert host_a.get_diagnostics(instance).driver == "qemu"
    host_a.inject_file(instance, InjectedFile.of("/etc/motd", b"seed"))
    host_a.inject_network_info(instance, network_info)
    host_a.reset_network(instance)
    probe = host_a.check_instance_shared_storage_local(ctx, instance)
    assert probe is not None and not host_b.check_instance_shared_storage_remote(ctx, probe)
    host_a.check_instance_shared_storage_cleanup(ctx, probe)

    # The checks, pre_live_migration, live_migration and the post steps (among them
    # post_live_migration, unfilter_instance and cleanup on the source).
    run = live_migrate(
        host_a,
        host_b,
        instance,
        network_info,
        src_bdi=make_bdi(bdm),
        dst_bdi=make_bdi(bdm.obj_clone()),
        security_groups=groups,
    )
    assert run.calls == ["post"], run.errors
    assert host_a.list_instance_uuids() == [] and host_b.list_instance_uuids() == [instance.uuid]
    host_b.detach_volume(ctx, bdm.connection_info, instance, bdm.device_name)

    # A migration back that host_a prepares, then rolls back.
    dest_check = host_a.check_can_live_migrate_destination(ctx, instance, None, None)
    data = host_b.check_can_live_migrate_source(ctx, instance, dest_check)
    host_a.cleanup_live_migration_destination_check(ctx, dest_check)
    host_a.pre_live_migration(ctx, instance, None, network_info, data)
    host_a.rollback_live_migration_at_destination(ctx, instance, network_info, None)
    assert host_a.list_instance_uuids() == []

    host_b.unplug_vifs(instance, network_info)
    host_b.destroy(ctx, instance, network_info)
    assert host_b.list_instance_uuids() == []

    assert len(SEED_METHODS) == 25
    missing = set(SEED_METHODS) - (host_a.called | host_b.called)
    assert not missing, missing
