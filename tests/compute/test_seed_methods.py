"""Every one of the 25 driver methods of the Juno virt-objects work is called through
the compute manager, each with a visible effect.

The scenario runs in its own deployment and counts only calls made from the
compute package (``RecordingFakeDriver``), so the result does not depend on which
other tests ran or in what order.
"""

from __future__ import annotations

import collections

import pytest

from cumulo.compute.exceptions import LiveMigrationFailed
from cumulo.model import InjectedFile, PowerState, Protocol, VmState, VolumeStatus
from cumulo.virt.driver import ComputeDriver
from cumulo.virt.fake import INCOMING_LIVE_MIGRATION
from tests.support.seed_methods import SEED_METHODS

from ..virt.builders import tcp_rule
from .deployment import SESSION_CALLS, Deployment, wait_for


def test_the_seed_list_names_25_driver_methods():
    assert len(SEED_METHODS) == len(set(SEED_METHODS)) == 25
    assert all(callable(getattr(ComputeDriver, name)) for name in SEED_METHODS)


def test_every_seed_method_is_called_through_the_compute_manager(tmp_path):
    deployment = Deployment(tmp_path).start()
    try:
        calls = _scenario(deployment)
    finally:
        deployment.stop()
    missing = [name for name in SEED_METHODS if calls[name] == 0]
    assert not missing, f"never called through the compute manager: {missing}"
    assert all(SESSION_CALLS[name] > 0 for name in SEED_METHODS)


def _scenario(d: Deployment) -> collections.Counter[str]:
    ctx = d.ctx
    a, b, c = d.drivers["host-a"], d.drivers["host-b"], d.drivers["host-c"]
    flavor = d.flavor()
    group = d.security_group("ssh", tcp_rule(22))

    # build: default_root_device_name, default_device_names_for_instance,
    # macs_for_instance, dhcp_options_for_instance, ensure_filtering_rules_for_instance
    vm = d.boot(flavor, host="host-a", groups=[group])
    assert vm.vm_state is VmState.ACTIVE and vm.root_device_name == "/dev/vda"
    assert a.describe_guest(vm.uuid).filtered
    assert (
        vm.info_cache.network_info.objects[0].address == a.describe_guest(vm.uuid).vifs[0].address
    )

    # volumes: get_volume_connector, attach_volume
    volume = d.store.create(1)
    bdm = d.compute.attach_volume(ctx(), vm, volume.id)
    assert [v.mountpoint for v in a.describe_guest(vm.uuid).volumes] == [bdm.device_name]

    # get_diagnostics, inject_file, inject_network_info, reset_network
    assert d.compute.get_diagnostics(ctx(), vm).state is PowerState.RUNNING
    d.compute.inject_file(ctx(), vm, InjectedFile.of("/etc/issue", b"cumulo"))
    d.cast_and_wait("inject_network_info", vm)
    d.cast_and_wait("reset_network", vm)
    guest = a.describe_guest(vm.uuid)
    assert guest.injected_files[0].path == "/etc/issue"
    assert (guest.network_injections, guest.network_resets) == (1, 1)

    # refresh_instance_security_rules, fanned out by the conductor
    group.obj_set_context(ctx())
    group.add_rules([tcp_rule(8080)])
    assert d.tasks.refresh_security_group(ctx(), group.id) == ["host-a"]
    wait_for(
        lambda: a.firewall_allows(vm.uuid, protocol=Protocol.TCP, port=8080, remote_ip="10.9.0.1")
    )

    # check_instance_shared_storage_local
    assert d.compute.check_instance_shared_storage(ctx(), vm, "host-b") is True

    # live migration a → b: check_can_live_migrate_destination/_source,
    # pre_live_migration, live_migration, post_live_migration, unfilter_instance, cleanup
    d.tasks.live_migrate_instance(ctx(), vm.uuid, "host-b")
    vm = d.instance(vm.uuid)
    assert vm.host == "host-b" and b.get_info(vm).state is PowerState.RUNNING
    assert a.describe_host().guests == () and a.describe_host().filtered_instances == ()

    # a failed migration back: rollback_live_migration_at_destination
    a.inject_failure(INCOMING_LIVE_MIGRATION)
    with pytest.raises(LiveMigrationFailed):
        d.tasks.live_migrate_instance(ctx(), vm.uuid, "host-a")
    assert d.instance(vm.uuid).host == "host-b" and a.describe_host().guests == ()

    # detach_volume
    d.compute.detach_volume(ctx(), vm, volume.id)
    assert b.describe_guest(vm.uuid).volumes == ()
    assert d.store.get(volume.id).status is VolumeStatus.AVAILABLE

    # a failed build: destroy, unplug_vifs
    c.inject_failure("ensure_filtering_rules_for_instance")
    broken = d.boot(flavor, host="host-c")
    assert broken.vm_state is VmState.ERROR and c.describe_host().plugged_vifs == ()

    # delete: destroy, get_volume_connector, cleanup
    d.cast_and_wait("terminate_instance", vm)
    assert b.describe_host().guests == ()

    total: collections.Counter[str] = collections.Counter()
    for driver in d.drivers.values():
        total.update(driver.manager_calls)
    return total
