"""The fake hypervisor: each driver method's effect, read back through the interface
and the fake's read-only views (``describe_guest``, ``describe_host``)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest

from cumulo.model import (
    AccessMode,
    DhcpOption,
    Direction,
    DiskBus,
    DiskDiagnostics,
    ImageMeta,
    InjectedFile,
    Instance,
    LiveMigrateData,
    Migration,
    PowerState,
    Protocol,
    RebootType,
    VIFType,
)
from cumulo.virt.exceptions import (
    DeviceInUse,
    InjectedFailure,
    InstanceExists,
    InstanceNotFiltered,
    InstanceNotFound,
    InsufficientResources,
    InvalidGuestSize,
    InvalidPowerState,
    MigrationError,
    MigrationPreCheckError,
    VifPlugFailed,
    VolumeAlreadyAttached,
    VolumeNotAttached,
)
from cumulo.virt.fake import (
    BOOT_READ_BYTES,
    FAILURE_POINTS,
    INCOMING_LIVE_MIGRATION,
    FakeConfig,
    FakeDriver,
    FakeHypervisorNetwork,
    GuestPhase,
)

from .builders import (
    Ctx,
    ManualClock,
    live_migrate,
    make_bdi,
    make_connection_info,
    make_flavor,
    make_groups,
    make_instance,
    make_network_info,
    make_vif,
    make_volume_bdm,
    node_of,
    tcp_rule,
)

HostFactory = Callable[..., FakeDriver]


def spawn(
    driver: FakeDriver,
    instance: Instance | None = None,
    *,
    network_info=None,
    bdi=None,
    files=(),
    password: str | None = None,
    power_on: bool = True,
) -> Instance:
    instance = instance or make_instance()
    driver.spawn(
        Ctx(),
        instance,
        ImageMeta(),
        list(files),
        password,
        network_info if network_info is not None else make_network_info(),
        bdi,
        power_on=power_on,
    )
    return instance


def used(driver: FakeDriver) -> tuple[int, int, int]:
    r = driver.get_available_resource()
    return (r.vcpus_used, r.memory_mb_used, r.local_gb_used)


def assert_host_empty(driver: FakeDriver) -> None:
    view = driver.describe_host()
    assert view.guests == ()
    assert view.plugged_vifs == ()
    assert view.volume_connections == ()
    assert view.filtered_instances == ()
    assert used(driver) == (0, 0, 0)


# --- resources ----------------------------------------------------------------------------


class TestResources:
    def test_spawn_claims_the_flavor_and_destroy_releases_it(
        self, host_a: FakeDriver, ctx: Ctx
    ) -> None:
        flavor = make_flavor(vcpus=2, memory_mb=2048, root_gb=10, ephemeral_gb=5, swap=1536)
        instance = spawn(host_a, make_instance(flavor))
        # swap 1536 MiB rounds up to 2 GiB
        assert used(host_a) == (2, 2048, 17)
        assert host_a.get_available_resource().disk_available_least == 200 - 17
        host_a.destroy(ctx, instance, make_network_info())
        assert used(host_a) == (0, 0, 0)
        assert host_a.list_instances() == []

    def test_without_a_flavor_the_instance_fields_are_claimed(self, host_a: FakeDriver) -> None:
        spawn(host_a, make_instance(vcpus=3, memory_mb=1000, root_gb=4, ephemeral_gb=1))
        assert used(host_a) == (3, 1000, 5)

    def test_a_volume_backed_root_takes_no_local_disk(self, host_a: FakeDriver) -> None:
        instance = make_instance(make_flavor(root_gb=20, ephemeral_gb=2), image_ref=None)
        root = make_volume_bdm(instance, device_name="/dev/vda", boot_index=0)
        spawn(host_a, instance, bdi=make_bdi(root))
        assert used(host_a) == (2, 2048, 2)
        view = host_a.describe_guest(instance.uuid)
        assert view.volume_backed
        assert [v.mountpoint for v in view.volumes] == ["/dev/vda"]

    def test_spawn_refuses_what_does_not_fit_and_changes_nothing(self, host_a: FakeDriver) -> None:
        spawn(host_a, make_instance(make_flavor(vcpus=6, memory_mb=8000)))
        before = used(host_a)
        big = make_instance(make_flavor(vcpus=4, memory_mb=10000, root_gb=500))
        with pytest.raises(InsufficientResources) as err:
            spawn(host_a, big)
        assert (err.value.resource, err.value.requested, err.value.free) == ("vcpus", 4, 2)
        assert "memory_mb 10000 requested, 8384 free" in str(err.value)
        assert "disk_gb 500 requested, 190 free" in str(err.value)
        assert used(host_a) == before
        assert big.uuid not in host_a.list_instance_uuids()
        with pytest.raises(InstanceNotFound):
            host_a.describe_guest(big.uuid)

    def test_the_host_fills_up_exactly(self, make_host: HostFactory) -> None:
        host = make_host("small", vcpus=4, memory_mb=4096, disk_gb=40)
        for _ in range(2):
            spawn(host, make_instance(make_flavor(vcpus=2, memory_mb=2048, root_gb=20)))
        assert used(host) == (4, 4096, 40)
        with pytest.raises(InsufficientResources):
            spawn(host, make_instance(make_flavor(vcpus=1, memory_mb=1, root_gb=0)))

    def test_spawn_twice_is_refused(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        with pytest.raises(InstanceExists):
            spawn(host_a, instance)
        assert used(host_a) == (2, 2048, 10)

    def test_an_instance_without_size_is_refused(self, host_a: FakeDriver) -> None:
        with pytest.raises(InvalidGuestSize, match="flavor"):
            spawn(host_a, make_instance(vcpus=0))

    def test_negative_capacity_is_refused(self) -> None:
        with pytest.raises(ValueError, match="memory_mb"):
            FakeDriver("h", FakeConfig(memory_mb=-1))

    def test_destroy_of_a_guest_that_is_gone_succeeds(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        host_a.destroy(ctx, instance, make_network_info())
        host_a.destroy(ctx, instance, make_network_info())
        assert_host_empty(host_a)

    def test_destroy_keeps_the_disks_when_asked(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        host_a.destroy(ctx, instance, make_network_info(), destroy_disks=False)
        assert host_a.describe_host().instance_dirs == (instance.uuid,)
        host_a.destroy(ctx, instance, make_network_info())
        assert host_a.describe_host().instance_dirs == ()


# --- power states ---------------------------------------------------------------------------

RUNNING, PAUSED, SUSPENDED, SHUTDOWN = (
    PowerState.RUNNING,
    PowerState.PAUSED,
    PowerState.SUSPENDED,
    PowerState.SHUTDOWN,
)


def _act(driver: FakeDriver, instance: Instance, action: str) -> None:
    ctx, nw = Ctx(), make_network_info()
    match action:
        case "pause":
            driver.pause(instance)
        case "unpause":
            driver.unpause(instance)
        case "suspend":
            driver.suspend(ctx, instance)
        case "resume":
            driver.resume(ctx, instance, nw)
        case "power_off":
            driver.power_off(instance)
        case "power_on":
            driver.power_on(ctx, instance, nw)
        case "soft_reboot":
            driver.reboot(ctx, instance, nw, RebootType.SOFT)
        case "hard_reboot":
            driver.reboot(ctx, instance, nw, RebootType.HARD)
        case _:
            raise AssertionError(action)


def _guest_in(driver: FakeDriver, state: PowerState) -> Instance:
    instance = spawn(driver, power_on=state is not SHUTDOWN)
    if state is PAUSED:
        driver.pause(instance)
    elif state is SUSPENDED:
        driver.suspend(Ctx(), instance)
    return instance


TRANSITIONS = {
    # action: {from state: to state}; every other state raises InvalidPowerState
    "pause": {RUNNING: PAUSED},
    "unpause": {PAUSED: RUNNING},
    "suspend": {RUNNING: SUSPENDED, PAUSED: SUSPENDED},
    "resume": {SUSPENDED: RUNNING},
    "power_off": {RUNNING: SHUTDOWN, PAUSED: SHUTDOWN, SUSPENDED: SHUTDOWN, SHUTDOWN: SHUTDOWN},
    "power_on": {SHUTDOWN: RUNNING, RUNNING: RUNNING},
    "soft_reboot": {RUNNING: RUNNING},
    "hard_reboot": {RUNNING: RUNNING, PAUSED: RUNNING, SUSPENDED: RUNNING, SHUTDOWN: RUNNING},
}


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("state", [RUNNING, PAUSED, SUSPENDED, SHUTDOWN], ids=lambda s: s.name)
def test_power_state_machine(host_a: FakeDriver, action: str, state: PowerState) -> None:
    instance = _guest_in(host_a, state)
    expected = TRANSITIONS[action].get(state)
    if expected is None:
        with pytest.raises(InvalidPowerState) as err:
            _act(host_a, instance, action)
        assert err.value.state == state.name
        assert host_a.get_info(instance).state is state
    else:
        _act(host_a, instance, action)
        assert host_a.get_info(instance).state is expected


class TestPower:
    def test_power_on_false_leaves_the_guest_shut_down(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a, power_on=False)
        assert host_a.get_info(instance).state is SHUTDOWN
        assert host_a.describe_guest(instance.uuid).boot_count == 0
        # a stopped guest still holds its resources
        assert used(host_a) == (2, 2048, 10)

    def test_reboots_and_power_ons_count_boots(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        host_a.reboot(ctx, instance, make_network_info(), RebootType.SOFT)
        host_a.power_off(instance)
        host_a.power_on(ctx, instance, make_network_info())
        host_a.power_on(ctx, instance, make_network_info())  # already running: nothing
        assert host_a.describe_guest(instance.uuid).boot_count == 3

    def test_crash_and_guest_shutdown_show_in_get_info(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        host_a.crash_guest(instance.uuid)
        assert host_a.get_info(instance).state is PowerState.CRASHED
        host_a.power_on(ctx, instance, make_network_info())
        host_a.shutdown_from_guest(instance.uuid)
        assert host_a.get_info(instance).state is SHUTDOWN

    def test_unknown_guest(self, host_a: FakeDriver, ctx: Ctx) -> None:
        stranger = make_instance()
        for call in (
            lambda: host_a.pause(stranger),
            lambda: host_a.get_info(stranger),
            lambda: host_a.get_diagnostics(stranger),
            lambda: host_a.power_on(ctx, stranger, make_network_info()),
        ):
            with pytest.raises(InstanceNotFound, match=str(stranger.uuid)):
                call()


# --- diagnostics ----------------------------------------------------------------------------


class TestDiagnostics:
    def test_counters_advance_with_running_time(
        self, host_a: FakeDriver, clock: ManualClock
    ) -> None:
        vif = make_vif()
        instance = spawn(host_a, network_info=make_network_info(vif))
        first_info = host_a.get_info(instance)
        first = host_a.get_diagnostics(instance)
        clock.advance(100)
        info = host_a.get_info(instance)
        diag = host_a.get_diagnostics(instance)
        assert info.cpu_time_ns - first_info.cpu_time_ns == 2 * 25 * 10**9  # 2 vCPUs, 25% busy
        assert diag.cpu_details[0].time > first.cpu_details[0].time
        assert diag.nic_details[0].mac_address == vif.address
        assert diag.nic_details[0].rx_octets - first.nic_details[0].rx_octets == 200_000
        assert diag.nic_details[0].tx_packets > first.nic_details[0].tx_packets
        assert diag.disk_details[0].device == "vda"
        assert diag.disk_details[0].read_bytes >= BOOT_READ_BYTES
        assert diag.disk_details[0].write_bytes > first.disk_details[0].write_bytes
        assert diag.uptime == 100
        assert (diag.num_cpus, diag.num_nics, diag.num_disks) == (2, 1, 1)
        assert diag.memory_details.maximum == 2048
        assert diag.memory_details.used == 1024
        assert info.max_mem_kb == 2048 * 1024
        assert info.internal_id and info.num_cpu == 2
        assert diag.driver == "fake"

    def test_counters_stop_while_paused(self, host_a: FakeDriver, clock: ManualClock) -> None:
        instance = spawn(host_a)
        clock.advance(10)
        before = host_a.get_info(instance).cpu_time_ns
        host_a.pause(instance)
        paused = host_a.get_info(instance).cpu_time_ns
        assert paused == before > 0
        clock.advance(1000)
        assert host_a.get_info(instance).cpu_time_ns == paused
        diag = host_a.get_diagnostics(instance)
        assert diag.state is PAUSED
        assert diag.cpu_details[0].utilisation == 0
        host_a.unpause(instance)
        clock.advance(10)
        assert host_a.get_info(instance).cpu_time_ns == 2 * paused

    def test_a_stopped_guest_uses_no_memory_and_has_no_uptime(
        self, host_a: FakeDriver, clock: ManualClock
    ) -> None:
        instance = spawn(host_a)
        clock.advance(5)
        host_a.power_off(instance)
        info = host_a.get_info(instance)
        assert info.mem_kb == 0
        assert host_a.get_diagnostics(instance).uptime is None

    def test_operations_move_counters_too(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        before = host_a.get_diagnostics(instance)
        host_a.reset_network(instance)
        host_a.inject_file(instance, InjectedFile.of("/etc/motd", b"hello"))
        after = host_a.get_diagnostics(instance)
        assert after.nic_details[0].rx_packets == before.nic_details[0].rx_packets + 2
        config = [d for d in after.disk_details if d.device == "config"]
        assert config and config[0].write_bytes >= 5
        assert after.config_drive


# --- volumes --------------------------------------------------------------------------------


class TestVolumes:
    def test_attach_and_detach(self, host_a: FakeDriver, ctx: Ctx, clock: ManualClock) -> None:
        instance = spawn(host_a)
        info = make_connection_info()
        host_a.attach_volume(ctx, info, instance, "vdb")
        assert info.device_path == info.path  # filled in for the caller to save
        view = host_a.describe_guest(instance.uuid)
        assert [(v.volume_id, v.mountpoint) for v in view.volumes] == [(info.volume_id, "/dev/vdb")]
        clock.advance(10)
        disks = {d.device: d for d in host_a.get_diagnostics(instance).disk_details}
        assert disks["vdb"].read_bytes > 0
        host_a.detach_volume(ctx, info, instance, "/dev/vdb")
        assert host_a.describe_guest(instance.uuid).volumes == ()
        assert host_a.describe_host().volume_connections == ()

    def test_detach_of_what_is_not_attached(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        info = make_connection_info()
        with pytest.raises(VolumeNotAttached):
            host_a.detach_volume(ctx, info, instance, "/dev/vdb")
        host_a.attach_volume(ctx, info, instance, "/dev/vdb")
        with pytest.raises(VolumeNotAttached, match="/dev/vdc"):
            host_a.detach_volume(ctx, info, instance, "/dev/vdc")

    def test_a_mountpoint_holds_one_volume(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        host_a.attach_volume(ctx, make_connection_info(), instance, "/dev/vdb")
        with pytest.raises(DeviceInUse):
            host_a.attach_volume(ctx, make_connection_info(), instance, "/dev/vdb")

    def test_a_volume_attaches_once(self, host_a: FakeDriver, ctx: Ctx) -> None:
        first, second = spawn(host_a), spawn(host_a)
        info = make_connection_info()
        host_a.attach_volume(ctx, info, first, "/dev/vdb")
        with pytest.raises(VolumeAlreadyAttached):
            host_a.attach_volume(ctx, info, first, "/dev/vdc")
        with pytest.raises(VolumeAlreadyAttached):
            host_a.attach_volume(ctx, info, second, "/dev/vdb")
        info.multiattach = True
        host_a.attach_volume(ctx, info, second, "/dev/vdb")

    def test_not_while_suspended(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = _guest_in(host_a, SUSPENDED)
        with pytest.raises(InvalidPowerState):
            host_a.attach_volume(ctx, make_connection_info(), instance, "/dev/vdb")

    def test_spawn_connects_the_volumes_of_its_block_devices(self, host_a: FakeDriver) -> None:
        instance = make_instance()
        data = make_volume_bdm(instance, "/dev/vdb")
        spawn(host_a, instance, bdi=make_bdi(data))
        (attached,) = host_a.describe_guest(instance.uuid).volumes
        assert attached.volume_id == data.volume_id

    def test_spawn_refuses_a_volume_without_connection_info(self, host_a: FakeDriver) -> None:
        instance = make_instance()
        bdm = make_volume_bdm(instance)
        bdm.connection_info = None
        with pytest.raises(ValueError, match="connection_info"):
            spawn(host_a, instance, bdi=make_bdi(bdm))
        assert used(host_a) == (0, 0, 0)

    def test_destroy_disconnects_volumes(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        host_a.attach_volume(ctx, make_connection_info(), instance, "/dev/vdb")
        host_a.destroy(ctx, instance, make_network_info())
        assert_host_empty(host_a)

    def test_a_read_only_volume_is_read_but_never_written(
        self, host_a: FakeDriver, ctx: Ctx, clock: ManualClock
    ) -> None:
        instance = spawn(host_a)
        ro, rw = make_connection_info(), make_connection_info()
        ro.access_mode = AccessMode.READ_ONLY
        host_a.attach_volume(ctx, ro, instance, "/dev/vdb")
        host_a.attach_volume(ctx, rw, instance, "/dev/vdc")
        flags = {v.mountpoint: v.read_only for v in host_a.describe_guest(instance.uuid).volumes}
        assert flags == {"/dev/vdb": True, "/dev/vdc": False}
        connections = host_a.describe_host().volume_connections
        assert {v.mountpoint: v.read_only for v in connections} == flags

        def disks() -> dict[str, DiskDiagnostics]:
            return {d.device: d for d in host_a.get_diagnostics(instance).disk_details}

        clock.advance(10)
        first = disks()
        assert first["vdb"].read_bytes > 0 and first["vdb"].read_requests > 0
        assert (first["vdb"].write_bytes, first["vdb"].write_requests) == (0, 0)
        assert first["vdc"].write_bytes > 0  # the read-write one is written
        clock.advance(10)
        second = disks()
        assert second["vdb"].read_bytes > first["vdb"].read_bytes
        assert (second["vdb"].write_bytes, second["vdb"].write_requests) == (0, 0)
        assert second["vdc"].write_bytes > first["vdc"].write_bytes

    def test_spawn_and_live_migration_keep_a_volume_read_only(
        self, host_a: FakeDriver, host_b: FakeDriver, clock: ManualClock
    ) -> None:
        instance = make_instance()
        info = make_connection_info()
        info.access_mode = AccessMode.READ_ONLY
        bdm = make_volume_bdm(instance, "/dev/vdb", connection_info=info)
        nw = make_network_info()
        spawn(host_a, instance, network_info=nw, bdi=make_bdi(bdm))
        (attached,) = host_a.describe_guest(instance.uuid).volumes
        assert attached.read_only
        # The destination connects with its own connection info, read-only as well.
        dst_info = make_connection_info(bdm.volume_id)
        dst_info.access_mode = AccessMode.READ_ONLY
        dst_bdm = make_volume_bdm(instance, "/dev/vdb", connection_info=dst_info)
        run = live_migrate(
            host_a,
            host_b,
            instance,
            nw,
            block_migration=True,
            src_bdi=make_bdi(bdm),
            dst_bdi=make_bdi(dst_bdm),
        )
        assert run.calls == ["post"]
        (arrived,) = host_b.describe_guest(instance.uuid).volumes
        assert arrived.read_only
        clock.advance(30)
        disk = next(d for d in host_b.get_diagnostics(instance).disk_details if d.device == "vdb")
        assert disk.read_bytes > 0 and disk.write_bytes == 0

    def test_volumes_on_the_nvme_bus(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance = spawn(host_a)
        first, second = make_connection_info(), make_connection_info()
        host_a.attach_volume(ctx, first, instance, "nvme0n1", disk_bus=DiskBus.NVME)
        host_a.attach_volume(ctx, second, instance, "/dev/nvme1n1", disk_bus=DiskBus.NVME)
        view = host_a.describe_guest(instance.uuid)
        assert sorted((v.mountpoint, v.disk_bus) for v in view.volumes) == [
            ("/dev/nvme0n1", DiskBus.NVME),
            ("/dev/nvme1n1", DiskBus.NVME),
        ]
        devices = {d.device for d in host_a.get_diagnostics(instance).disk_details}
        assert {"nvme0n1", "nvme1n1"} <= devices
        with pytest.raises(DeviceInUse):
            host_a.attach_volume(ctx, make_connection_info(), instance, "/dev/nvme0n1")
        host_a.detach_volume(ctx, first, instance, "nvme0n1")
        assert [v.mountpoint for v in host_a.describe_guest(instance.uuid).volumes] == [
            "/dev/nvme1n1"
        ]

    def test_nvme_volumes_are_named_by_controller(self, host_a: FakeDriver) -> None:
        instance = make_instance()
        bdms = [make_volume_bdm(instance, None) for _ in range(3)]
        for bdm in bdms:
            bdm.disk_bus = DiskBus.NVME
        bdms[1].device_name = "/dev/nvme0n1"
        host_a.default_device_names_for_instance(instance, "/dev/vda", bdms)
        assert [b.device_name for b in bdms] == ["/dev/nvme1n1", "/dev/nvme0n1", "/dev/nvme2n1"]
        spawn(host_a, instance, bdi=make_bdi(*bdms))
        assert {v.mountpoint for v in host_a.describe_guest(instance.uuid).volumes} == {
            "/dev/nvme0n1",
            "/dev/nvme1n1",
            "/dev/nvme2n1",
        }

    def test_volume_connector(self, host_a: FakeDriver) -> None:
        connector = host_a.get_volume_connector(make_instance())
        assert connector.host == "host-a"
        assert connector.ip == host_a.get_host_ip_addr()
        assert connector.initiator and "host-a" in connector.initiator


# --- VIFs, MACs, DHCP -----------------------------------------------------------------------


class TestNetwork:
    def test_spawn_plugs_and_unplug_unplugs(self, host_a: FakeDriver) -> None:
        vif1, vif2 = make_vif(), make_vif()
        nw = make_network_info(vif1, vif2)
        instance = spawn(host_a, network_info=nw)
        assert {v.id for v in host_a.describe_guest(instance.uuid).vifs} == {vif1.id, vif2.id}
        host_a.unplug_vifs(instance, make_network_info(vif1))
        assert [v.id for v in host_a.describe_guest(instance.uuid).vifs] == [vif2.id]
        host_a.unplug_vifs(instance, make_network_info(vif1))  # not plugged: nothing
        host_a.plug_vifs(instance, nw)
        assert len(host_a.describe_guest(instance.uuid).vifs) == 2

    def test_a_vif_belongs_to_one_instance(self, host_a: FakeDriver) -> None:
        vif = make_vif()
        spawn(host_a, network_info=make_network_info(vif))
        with pytest.raises(VifPlugFailed, match="plugged for instance"):
            spawn(host_a, network_info=make_network_info(vif))
        assert len(host_a.list_instances()) == 1

    def test_an_unbound_port_cannot_be_plugged(self, host_a: FakeDriver) -> None:
        with pytest.raises(VifPlugFailed, match="binding"):
            spawn(host_a, network_info=make_network_info(make_vif(type=VIFType.BINDING_FAILED)))

    def test_unplug_vifs_of_an_unknown_instance_is_harmless(self, host_a: FakeDriver) -> None:
        host_a.unplug_vifs(make_instance(), make_network_info())

    def test_no_mac_constraint_without_a_pool(self, host_a: FakeDriver) -> None:
        assert host_a.macs_for_instance(make_instance()) is None
        assert host_a.dhcp_options_for_instance(make_instance()).objects == []

    def test_mac_pool_constrains_allocation_and_plugging(self, make_host: HostFactory) -> None:
        macs = ["52:54:00:00:00:01", "52:54:00:00:00:02"]
        host = make_host("metal", mac_pool=macs)
        first = make_instance()
        assert host.macs_for_instance(first).allowed == set(macs)
        spawn(host, first, network_info=make_network_info(make_vif(address=macs[0])))
        second = make_instance()
        assert host.macs_for_instance(second).allowed == {macs[1]}
        assert host.macs_for_instance(first).allowed == set(macs)  # its own stays allowed
        with pytest.raises(VifPlugFailed, match="not one of the host's NICs"):
            spawn(host, second, network_info=make_network_info(make_vif("fa:16:3e:00:00:01")))
        with pytest.raises(VifPlugFailed, match="used by"):
            spawn(host, second, network_info=make_network_info(make_vif(address=macs[0])))

    def test_dhcp_options_come_from_the_host(self, make_host: HostFactory) -> None:
        option = DhcpOption(opt_name="bootfile-name", opt_value="pxelinux.0")
        host = make_host("pxe", dhcp_options=[option])
        options = host.dhcp_options_for_instance(make_instance())
        assert [(o.opt_name, o.opt_value) for o in options.objects] == [
            ("bootfile-name", "pxelinux.0")
        ]
        options.objects[0].opt_value = "changed"
        assert host.dhcp_options_for_instance(make_instance()).objects[0].opt_value == "pxelinux.0"

    def test_inject_network_info_reapplies_it(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        new = make_network_info(make_vif(ip="10.1.0.99"))
        host_a.inject_network_info(instance, new)
        view = host_a.describe_guest(instance.uuid)
        assert [str(ip.address) for ip in view.network_info.fixed_ips()] == ["10.1.0.99"]
        assert view.network_injections == 1

    def test_reset_network_replugs_and_reloads(self, host_a: FakeDriver) -> None:
        vif = make_vif()
        nw = make_network_info(vif)
        instance = spawn(host_a, network_info=nw)
        host_a.unplug_vifs(instance, nw)
        host_a.reset_network(instance)
        view = host_a.describe_guest(instance.uuid)
        assert [v.id for v in view.vifs] == [vif.id]
        assert view.network_resets == 1
        host_a.pause(instance)
        with pytest.raises(InvalidPowerState):
            host_a.reset_network(instance)


# --- firewall -------------------------------------------------------------------------------


class TestFirewall:
    def test_rules_filter_traffic(self, host_a: FakeDriver) -> None:
        nw = make_network_info()
        instance = spawn(host_a, network_info=nw)
        uuid_ = instance.uuid
        allows = host_a.firewall_allows
        assert allows(uuid_, protocol=Protocol.TCP, port=80, remote_ip="1.2.3.4")  # unfiltered
        host_a.ensure_filtering_rules_for_instance(
            instance, nw, make_groups(tcp_rule(22, "192.168.0.0/16"))
        )
        view = host_a.describe_guest(uuid_)
        assert view.filtered and view.security_group_ids == (1,)
        assert [(r.from_port, str(r.cidr)) for r in view.firewall_rules] == [(22, "192.168.0.0/16")]
        assert allows(uuid_, protocol=Protocol.TCP, port=22, remote_ip="192.168.1.1")
        assert not allows(uuid_, protocol=Protocol.TCP, port=22, remote_ip="10.9.9.9")
        assert not allows(uuid_, protocol=Protocol.TCP, port=80, remote_ip="192.168.1.1")
        assert not allows(uuid_, protocol=Protocol.UDP, port=22, remote_ip="192.168.1.1")
        assert allows(
            uuid_, protocol=Protocol.TCP, port=443, remote_ip="8.8.8.8", direction=Direction.EGRESS
        )

    def test_refresh_replaces_the_rules(self, host_a: FakeDriver) -> None:
        nw = make_network_info()
        instance = spawn(host_a, network_info=nw)
        with pytest.raises(InstanceNotFiltered):
            host_a.refresh_instance_security_rules(instance, make_groups(tcp_rule(80)))
        host_a.ensure_filtering_rules_for_instance(instance, nw, make_groups(tcp_rule(22)))
        host_a.refresh_instance_security_rules(instance, make_groups(tcp_rule(80)))
        allows = host_a.firewall_allows
        assert allows(instance.uuid, protocol=Protocol.TCP, port=80, remote_ip="1.1.1.1")
        assert not allows(instance.uuid, protocol=Protocol.TCP, port=22, remote_ip="1.1.1.1")

    def test_unfilter_removes_the_filter(self, host_a: FakeDriver) -> None:
        nw = make_network_info()
        instance = spawn(host_a, network_info=nw)
        host_a.ensure_filtering_rules_for_instance(instance, nw, make_groups(tcp_rule(22)))
        host_a.unfilter_instance(instance, nw)
        host_a.unfilter_instance(instance, nw)
        assert not host_a.describe_guest(instance.uuid).filtered
        assert host_a.describe_host().filtered_instances == ()

    def test_remote_group_rules_match_members_on_any_host(
        self, host_a: FakeDriver, host_b: FakeDriver
    ) -> None:
        web_nw = make_network_info(make_vif(ip="10.1.0.10"))
        db_nw = make_network_info(make_vif(ip="10.1.0.20"))
        other_nw = make_network_info(make_vif(ip="10.1.0.30"))
        web, db, other = (
            spawn(host_a, network_info=web_nw),
            spawn(host_b, network_info=db_nw),
            spawn(host_b, network_info=other_nw),
        )
        host_a.ensure_filtering_rules_for_instance(web, web_nw, make_groups(group_id=7))
        host_b.ensure_filtering_rules_for_instance(other, other_nw, make_groups(group_id=8))
        host_b.ensure_filtering_rules_for_instance(
            db, db_nw, make_groups(tcp_rule(5432, None, remote_group_id=7), group_id=9)
        )
        allows = host_b.firewall_allows
        assert allows(db.uuid, protocol=Protocol.TCP, port=5432, remote_ip="10.1.0.10")
        assert not allows(db.uuid, protocol=Protocol.TCP, port=5432, remote_ip="10.1.0.30")

    def test_destroy_removes_the_filter(self, host_a: FakeDriver, ctx: Ctx) -> None:
        nw = make_network_info()
        instance = spawn(host_a, network_info=nw)
        host_a.ensure_filtering_rules_for_instance(instance, nw, make_groups(tcp_rule(22)))
        host_a.destroy(ctx, instance, nw)
        assert_host_empty(host_a)


# --- injected files -------------------------------------------------------------------------


class TestInjectedFiles:
    def test_spawn_writes_files_and_password_into_config_data(self, host_a: FakeDriver) -> None:
        motd = InjectedFile.of("/etc/motd", b"welcome")
        instance = spawn(host_a, files=[motd], password="s3cret")
        view = host_a.describe_guest(instance.uuid)
        assert [(f.path, f.contents) for f in view.injected_files] == [("/etc/motd", b"welcome")]
        assert view.admin_password_set
        assert "s3cret" not in repr(view)

    def test_inject_file_adds_and_replaces(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        host_a.inject_file(instance, InjectedFile.of("/etc/a", b"1"))
        host_a.inject_file(instance, InjectedFile.of("/etc/b", b"\x00\xff"))
        host_a.inject_file(instance, InjectedFile.of("/etc/a", b"2"))
        files = {f.path: f.contents for f in host_a.describe_guest(instance.uuid).injected_files}
        assert files == {"/etc/a": b"2", "/etc/b": b"\x00\xff"}

    def test_bad_base64_is_refused(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        with pytest.raises(ValueError, match="/etc/x"):
            host_a.inject_file(instance, InjectedFile(path="/etc/x", contents_b64="!!!"))
        assert host_a.describe_guest(instance.uuid).injected_files == ()

    def test_views_are_copies(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a, files=[InjectedFile.of("/etc/a", b"1")])
        view = host_a.describe_guest(instance.uuid)
        view.injected_files[0].contents_b64 = "Mg=="
        view.network_info.objects.clear()
        again = host_a.describe_guest(instance.uuid)
        assert again.injected_files[0].contents == b"1"
        assert len(again.network_info.objects) == 1


# --- host -----------------------------------------------------------------------------------


class TestHost:
    def test_init_host_checks_the_name(self, host_a: FakeDriver) -> None:
        with pytest.raises(ValueError, match="host-a"):
            host_a.init_host("host-z")

    def test_inventory(self, host_a: FakeDriver) -> None:
        one = spawn(host_a)
        two = spawn(host_a, power_on=False)
        assert sorted(host_a.list_instances()) == sorted([one.name, two.name])
        assert set(host_a.list_instance_uuids()) == {one.uuid, two.uuid}
        assert host_a.instance_exists(one)
        assert not host_a.instance_exists(make_instance())

    def test_available_resource(self, host_a: FakeDriver) -> None:
        r = host_a.get_available_resource()
        assert r.hypervisor_hostname == "host-a"
        assert (r.vcpus, r.memory_mb, r.local_gb) == (8, 16384, 200)
        assert r.hypervisor_type == "fake"
        assert r.host_ip == host_a.get_host_ip_addr()
        assert r.cpu_info.features == sorted(FakeDriver.DEFAULT_CPU_FEATURES)
        assert [s.hypervisor_type for s in r.supported_instances] == ["fake"]

    def test_addresses(self, host_a: FakeDriver, host_b: FakeDriver) -> None:
        assert str(host_a.get_host_ip_addr()) == "10.0.0.1"
        assert str(host_b.get_host_ip_addr()) == "10.0.0.2"
        assert str(FakeDriver("lone").get_host_ip_addr()) == "127.0.0.1"
        set_ip = FakeDriver("set", FakeConfig(host_ip="192.0.2.7"))
        assert str(set_ip.get_host_ip_addr()) == "192.0.2.7"


class TestSharedStorage:
    def test_hosts_on_one_pool_see_each_others_probes(
        self, make_host: HostFactory, ctx: Ctx
    ) -> None:
        a = make_host("a", storage_pool="nfs")
        b = make_host("b", storage_pool="nfs")
        c = make_host("c")
        instance = make_instance()
        probe = a.check_instance_shared_storage_local(ctx, instance)
        assert probe is not None and probe.host == "a"
        assert b.check_instance_shared_storage_remote(ctx, probe)
        assert not c.check_instance_shared_storage_remote(ctx, probe)
        a.check_instance_shared_storage_cleanup(ctx, probe)
        assert not b.check_instance_shared_storage_remote(ctx, probe)
        assert a.describe_host().probes == ()


# --- failure injection ----------------------------------------------------------------------


class TestFailureInjection:
    def test_a_failed_call_changes_nothing(self, host_a: FakeDriver) -> None:
        host_a.inject_failure("spawn")
        instance = make_instance()
        with pytest.raises(InjectedFailure, match="spawn on host 'host-a'"):
            spawn(host_a, instance)
        assert used(host_a) == (0, 0, 0)
        spawn(host_a, instance)  # once only
        assert host_a.list_instance_uuids() == [instance.uuid]

    def test_times_and_forever(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        host_a.inject_failure("get_info", times=2)
        assert host_a.pending_failures() == {"get_info": 2}
        for _ in range(2):
            with pytest.raises(InjectedFailure):
                host_a.get_info(instance)
        host_a.get_info(instance)
        host_a.inject_failure("pause", times=None)
        for _ in range(3):
            with pytest.raises(InjectedFailure):
                host_a.pause(instance)
        assert host_a.pending_failures() == {"pause": None}
        host_a.clear_failures("pause")
        host_a.pause(instance)
        assert host_a.pending_failures() == {}

    def test_exception_class_or_instance(self, host_a: FakeDriver) -> None:
        instance = spawn(host_a)
        host_a.inject_failure("reboot", TimeoutError)
        error = OSError("disk on fire")
        host_a.inject_failure("reboot", error)
        with pytest.raises(TimeoutError, match="reboot"):
            host_a.reboot(Ctx(), instance, make_network_info(), RebootType.HARD)
        with pytest.raises(OSError) as raised:
            host_a.reboot(Ctx(), instance, make_network_info(), RebootType.HARD)
        assert raised.value is error

    def test_unknown_operation(self, host_a: FakeDriver) -> None:
        with pytest.raises(ValueError, match="'spwan'"):
            host_a.inject_failure("spwan")
        with pytest.raises(ValueError, match="times"):
            host_a.inject_failure("spawn", times=0)

    def test_every_interface_method_is_a_failure_point(self) -> None:
        assert "spawn" in FAILURE_POINTS and INCOMING_LIVE_MIGRATION in FAILURE_POINTS
        assert "inject_failure" not in FAILURE_POINTS

    def test_every_failure_point_fails_on_entry(self) -> None:
        # live_migration reports its failure to recover_method (its own tests), the
        # arrival fails inside the source's live_migration or the destination's post
        # step; every other operation is wrapped to fail before it does anything.
        wrapped = {
            name: getattr(getattr(FakeDriver, name), "failure_point", None)
            for name in FAILURE_POINTS - {"live_migration", INCOMING_LIVE_MIGRATION}
        }
        assert wrapped == {name: name for name in wrapped}


# --- many hosts -----------------------------------------------------------------------------


class TestManyHosts:
    def test_hosts_keep_separate_books(self, make_host: HostFactory) -> None:
        hosts = [make_host(f"h{i}") for i in range(50)]
        for i, host in enumerate(hosts):
            for _ in range(i % 3):
                spawn(host)
        assert [used(h)[0] for h in hosts[:4]] == [0, 2, 4, 0]
        assert len({h.get_host_ip_addr() for h in hosts}) == 50

    def test_a_host_name_joins_a_network_once(
        self, net: FakeHypervisorNetwork, host_a: FakeDriver
    ) -> None:
        with pytest.raises(ValueError, match="host-a"):
            FakeDriver("host-a", network=net)
        assert net.hosts() == ["host-a"]
        net.leave("host-a")
        assert net.driver("host-a") is None

    def test_threads_do_not_corrupt_the_books(self, make_host: HostFactory, ctx: Ctx) -> None:
        host = make_host("busy", vcpus=64, memory_mb=64 * 1024, disk_gb=10_000)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(20):
                    instance = spawn(host, make_instance(make_flavor(1, 512, 1)))
                    host.pause(instance)
                    host.destroy(ctx, instance, make_network_info())
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert_host_empty(host)


# --- live migration -------------------------------------------------------------------------


def _running_guest(host: FakeDriver, *, files=(), attach: bool = False, filter_: bool = False):
    nw = make_network_info()
    instance = make_instance(make_flavor(vcpus=2, memory_mb=4096, root_gb=20))
    spawn(host, instance, network_info=nw, files=files)
    bdm = None
    if attach:
        bdm = make_volume_bdm(instance, "/dev/vdb")
        assert bdm.connection_info is not None
        host.attach_volume(Ctx(), bdm.connection_info, instance, "/dev/vdb")
    if filter_:
        host.ensure_filtering_rules_for_instance(instance, nw, make_groups(tcp_rule(22)))
    return instance, nw, bdm


class TestLiveMigrationChecks:
    def test_destination_check_reports_real_values(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        spawn(host_b, make_instance(make_flavor(root_gb=50)))
        instance, _, _ = _running_guest(host_a)
        data = host_b.check_can_live_migrate_destination(
            ctx, instance, node_of(host_a), node_of(host_b), block_migration=True
        )
        assert data.disk_available_mb == (200 - 50) * 1024
        assert data.block_migration is True and data.disk_over_commit is False
        assert data.dest_host == "host-b"
        assert data.target_connect_addr == "10.0.0.2"
        assert data.filename in host_b.describe_host().probes
        host_b.cleanup_live_migration_destination_check(ctx, data)
        assert host_b.describe_host().probes == ()

    def test_destination_refuses_when_memory_is_short(
        self, host_a: FakeDriver, make_host: HostFactory, ctx: Ctx
    ) -> None:
        tiny = make_host("tiny", memory_mb=1024)
        instance, _, _ = _running_guest(host_a)
        with pytest.raises(MigrationPreCheckError, match="memory_mb 4096 needed, 1024 free"):
            tiny.check_can_live_migrate_destination(ctx, instance, node_of(host_a), None)

    def test_destination_refuses_a_cpu_missing_features(
        self, host_a: FakeDriver, make_host: HostFactory, ctx: Ctx
    ) -> None:
        old = make_host("old", cpu_features=["sse4_2"])
        instance, _, _ = _running_guest(host_a)
        with pytest.raises(MigrationPreCheckError, match="avx"):
            old.check_can_live_migrate_destination(ctx, instance, node_of(host_a), node_of(old))

    def test_destination_refuses_its_own_guest(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance, _, _ = _running_guest(host_a)
        with pytest.raises(MigrationPreCheckError, match="already has the guest"):
            host_a.check_can_live_migrate_destination(ctx, instance, None, None)

    def test_source_detects_shared_storage(self, make_host: HostFactory, ctx: Ctx) -> None:
        a = make_host("a", storage_pool="nfs")
        b = make_host("b", storage_pool="nfs")
        instance, _, _ = _running_guest(a)
        dest = b.check_can_live_migrate_destination(ctx, instance, node_of(a), node_of(b))
        data = a.check_can_live_migrate_source(ctx, instance, dest)
        assert data.is_shared_instance_path is True
        assert data.is_shared_block_storage is True
        assert data.is_volume_backed is False
        assert data.instance_relative_path == str(instance.uuid)
        assert dest.is_shared_instance_path is None  # the input is not changed

    def test_source_asks_for_block_migration_without_shared_storage(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance, _, _ = _running_guest(host_a)
        dest = host_b.check_can_live_migrate_destination(ctx, instance, None, None)
        with pytest.raises(MigrationPreCheckError, match="use block migration"):
            host_a.check_can_live_migrate_source(ctx, instance, dest)

    def test_source_checks_the_destination_disk(
        self, host_a: FakeDriver, make_host: HostFactory, ctx: Ctx
    ) -> None:
        small = make_host("small", disk_gb=10)
        instance, _, _ = _running_guest(host_a)
        dest = small.check_can_live_migrate_destination(
            ctx, instance, None, None, block_migration=True
        )
        with pytest.raises(MigrationPreCheckError, match="10240 MiB of disk free"):
            host_a.check_can_live_migrate_source(ctx, instance, dest)
        over = small.check_can_live_migrate_destination(
            ctx, instance, None, None, block_migration=True, disk_over_commit=True
        )
        assert host_a.check_can_live_migrate_source(ctx, instance, over).block_migration

    def test_a_volume_backed_guest_needs_no_shared_storage(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance = make_instance(make_flavor(root_gb=20), image_ref=None)
        root = make_volume_bdm(instance, "/dev/vda", boot_index=0)
        spawn(host_a, instance, bdi=make_bdi(root))
        dest = host_b.check_can_live_migrate_destination(ctx, instance, None, None)
        data = host_a.check_can_live_migrate_source(ctx, instance, dest)
        assert data.is_volume_backed and data.is_shared_block_storage
        assert not data.is_shared_instance_path

    @pytest.mark.parametrize("state", [SHUTDOWN, SUSPENDED], ids=lambda s: s.name)
    def test_source_refuses_a_guest_that_is_not_running(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx, state: PowerState
    ) -> None:
        instance = _guest_in(host_a, state)
        dest = host_b.check_can_live_migrate_destination(ctx, instance, None, None, True)
        with pytest.raises(MigrationPreCheckError, match=state.name):
            host_a.check_can_live_migrate_source(ctx, instance, dest)

    def test_pre_live_migration_reserves_room_on_the_destination(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance, nw, bdm = _running_guest(host_a, attach=True)
        assert bdm is not None
        dst_bdm = make_volume_bdm(
            instance, "/dev/vdb", connection_info=make_connection_info(bdm.volume_id)
        )
        data = host_b.pre_live_migration(
            ctx, instance, make_bdi(dst_bdm), nw, LiveMigrateData(block_migration=True)
        )
        assert used(host_b) == (2, 4096, 20)
        view = host_b.describe_guest(instance.uuid)
        assert view.phase is GuestPhase.INCOMING
        assert host_b.list_instances() == []  # not running here yet
        with pytest.raises(InstanceNotFound):
            host_b.get_info(instance)
        assert [b.serial for b in data.bdms] == [str(bdm.volume_id)]
        assert [b.dev for b in data.bdms] == ["vdb"]
        assert [v.port_id for v in data.vifs] == [vif.id for vif in nw]
        assert all(v.host == "host-b" for v in data.vifs)
        assert data.graphics_listen_addr_vnc == host_b.get_host_ip_addr()
        host_b.rollback_live_migration_at_destination(ctx, instance, nw, None)
        assert_host_empty(host_b)

    def test_pre_live_migration_refuses_what_does_not_fit(
        self, host_a: FakeDriver, make_host: HostFactory, ctx: Ctx
    ) -> None:
        small = make_host("small", disk_gb=5)
        instance, nw, _ = _running_guest(host_a)
        with pytest.raises(InsufficientResources):
            small.pre_live_migration(ctx, instance, None, nw, LiveMigrateData())
        assert_host_empty(small)


class TestLiveMigration:
    def test_success_moves_the_guest_and_leaves_nothing_on_the_source(
        self, host_a: FakeDriver, host_b: FakeDriver, clock: ManualClock
    ) -> None:
        instance, nw, bdm = _running_guest(
            host_a, files=[InjectedFile.of("/etc/id", b"x")], attach=True, filter_=True
        )
        assert bdm is not None and bdm.connection_info is not None
        clock.advance(60)
        cpu_before = host_a.get_info(instance).cpu_time_ns
        dst_bdm = make_volume_bdm(
            instance, "/dev/vdb", connection_info=make_connection_info(bdm.volume_id)
        )
        run = live_migrate(
            host_a,
            host_b,
            instance,
            nw,
            block_migration=True,
            src_bdi=make_bdi(bdm),
            dst_bdi=make_bdi(dst_bdm),
            security_groups=make_groups(tcp_rule(22)),
        )
        assert run.calls == ["post"]
        assert host_a.list_instances() == []
        assert_host_empty(host_a)
        assert host_a.describe_host().instance_dirs == ()  # block-migrated: copy deleted
        assert host_b.list_instance_uuids() == [instance.uuid]
        info = host_b.get_info(instance)
        assert info.state is RUNNING
        assert info.cpu_time_ns == cpu_before  # same guest, no time passed
        clock.advance(10)
        assert host_b.get_info(instance).cpu_time_ns > cpu_before
        view = host_b.describe_guest(instance.uuid)
        assert view.phase is GuestPhase.ACTIVE and view.has_instance_dir
        assert [f.path for f in view.injected_files] == ["/etc/id"]
        assert [v.volume_id for v in view.volumes] == [bdm.volume_id]
        assert view.filtered and view.boot_count == 1
        assert used(host_b) == (2, 4096, 20)
        assert host_b.get_diagnostics(instance).uptime == 70

    def test_a_paused_guest_stays_paused(self, host_a: FakeDriver, host_b: FakeDriver) -> None:
        instance, nw, _ = _running_guest(host_a)
        host_a.pause(instance)
        run = live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert run.calls == ["post"]
        assert host_b.get_info(instance).state is PAUSED

    def test_shared_storage_keeps_the_disk_for_the_destination(
        self, make_host: HostFactory
    ) -> None:
        a = make_host("a", storage_pool="nfs")
        b = make_host("b", storage_pool="nfs")
        instance, nw, _ = _running_guest(a)
        run = live_migrate(a, b, instance, nw)
        assert run.calls == ["post"]
        assert run.data is not None and run.data.is_shared_instance_path
        assert b.describe_guest(instance.uuid).has_instance_dir
        assert_host_empty(a)

    def test_progress_is_recorded_on_the_migration(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        data = host_b.pre_live_migration(ctx, instance, None, nw, LiveMigrateData())
        data.migration = Migration(uuid=uuid.uuid4(), instance_uuid=instance.uuid)
        seen: list[LiveMigrateData] = []
        host_a.live_migration(
            ctx, instance, "host-b", lambda *a: seen.append(a[4]), _no_recover, True, data
        )
        assert seen and seen[0].migration is not None
        assert seen[0].migration.memory_total == 4096 * 1024 * 1024
        assert seen[0].migration.memory_remaining == 0
        assert seen[0].migration.disk_total == 20 * 1024**3

    def test_live_migration_failure_calls_recover_once_and_the_guest_stays(
        self, host_a: FakeDriver, host_b: FakeDriver
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        host_a.inject_failure("live_migration")
        run = live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert run.calls == ["recover"]
        assert isinstance(run.errors[0], InjectedFailure)
        assert host_a.get_info(instance).state is RUNNING
        assert host_a.describe_guest(instance.uuid).phase is GuestPhase.ACTIVE
        assert_host_empty(host_b)  # rolled back at the destination

    def test_failure_when_the_guest_arrives(self, host_a: FakeDriver, host_b: FakeDriver) -> None:
        instance, nw, _ = _running_guest(host_a)
        host_b.inject_failure(INCOMING_LIVE_MIGRATION)
        run = live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert run.calls == ["recover"]
        assert host_a.instance_exists(instance)
        assert_host_empty(host_b)
        # the guest can still be operated on at the source
        host_a.pause(instance)

    def test_without_pre_live_migration_the_move_fails(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance, _, _ = _running_guest(host_a)
        errors: list[BaseException] = []
        host_a.live_migration(
            ctx, instance, "host-b", _no_post, lambda *a: errors.append(a[4]), True, None
        )
        assert isinstance(errors[0], MigrationError)
        assert "pre_live_migration did not prepare" in str(errors[0])

    def test_an_unreachable_destination(self, host_a: FakeDriver, ctx: Ctx) -> None:
        instance, _, _ = _running_guest(host_a)
        errors: list[BaseException] = []
        host_a.live_migration(ctx, instance, "nowhere", _no_post, lambda *a: errors.append(a[4]))
        assert "not reachable" in str(errors[0])
        lone = FakeDriver("lone")
        lone_instance = spawn(lone)
        lone.live_migration(ctx, lone_instance, "host-a", _no_post, lambda *a: errors.append(a[4]))
        assert "not reachable" in str(errors[1])

    def test_a_filtered_guest_needs_a_filter_on_the_destination(
        self, host_a: FakeDriver, host_b: FakeDriver
    ) -> None:
        instance, nw, _ = _running_guest(host_a, filter_=True)
        run = live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert run.calls == ["recover"]
        assert "no filter here" in str(run.errors[0])

    def test_a_volume_not_connected_on_the_destination_fails_the_move(
        self, host_a: FakeDriver, host_b: FakeDriver
    ) -> None:
        instance, nw, _ = _running_guest(host_a, attach=True)
        run = live_migrate(host_a, host_b, instance, nw, block_migration=True, dst_bdi=None)
        assert run.calls == ["recover"]
        assert "volumes not connected here" in str(run.errors[0])
        assert host_a.describe_guest(instance.uuid).volumes  # still attached at the source

    def test_pre_live_migration_failure_reserves_nothing(
        self, host_a: FakeDriver, host_b: FakeDriver
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        host_b.inject_failure("pre_live_migration")
        with pytest.raises(InjectedFailure):
            live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert_host_empty(host_b)
        assert host_a.get_info(instance).state is RUNNING

    @pytest.mark.parametrize(
        "step", ["check_can_live_migrate_destination", "check_can_live_migrate_source"]
    )
    def test_check_failures_leave_both_hosts_as_they_were(
        self, host_a: FakeDriver, host_b: FakeDriver, step: str
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        (host_b if step.endswith("destination") else host_a).inject_failure(step)
        with pytest.raises(InjectedFailure):
            live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert host_b.describe_host().probes == ()
        assert_host_empty(host_b)
        assert host_a.instance_exists(instance)

    @pytest.mark.parametrize(
        "step",
        [
            "post_live_migration",
            "post_live_migration_at_source",
            "post_live_migration_at_destination",
        ],
    )
    def test_post_step_failures_leave_the_guest_running_on_the_destination(
        self, host_a: FakeDriver, host_b: FakeDriver, step: str
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        (host_b if step.endswith("destination") else host_a).inject_failure(step)
        with pytest.raises(InjectedFailure):
            live_migrate(host_a, host_b, instance, nw, block_migration=True)
        assert host_b.get_info(instance).state is RUNNING
        assert host_a.list_instances() == []
        assert host_a.describe_guest(instance.uuid).phase is GuestPhase.DEPARTED
        # the source released vCPUs and memory when the guest left; its disk waits for cleanup
        assert used(host_a) == (0, 0, 20)

    def test_rollback_refuses_to_destroy_a_guest_that_arrived(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        live_migrate(host_a, host_b, instance, nw, block_migration=True)
        with pytest.raises(MigrationError, match="would destroy it"):
            host_b.rollback_live_migration_at_destination(ctx, instance, nw, None)
        host_b.rollback_live_migration_at_destination(ctx, make_instance(), nw, None)  # nothing

    def test_post_steps_refuse_a_guest_that_did_not_leave(
        self, host_a: FakeDriver, ctx: Ctx
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        with pytest.raises(MigrationError, match="active"):
            host_a.post_live_migration(ctx, instance, None)
        with pytest.raises(MigrationError):
            host_a.post_live_migration_at_source(ctx, instance, nw)
        with pytest.raises(InstanceExists):
            host_a.cleanup(ctx, instance, nw)
        with pytest.raises(InstanceNotFound):
            host_a.post_live_migration_at_destination(ctx, make_instance(), nw)

    def test_cleanup_without_destroy_vifs_leaves_them_plugged(
        self, host_a: FakeDriver, host_b: FakeDriver
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        run = live_migrate(host_a, host_b, instance, nw, block_migration=True, post_steps=False)
        ctx = Ctx()
        host_a.post_live_migration(ctx, instance, None)
        host_a.cleanup(ctx, instance, nw, destroy_vifs=False)
        assert run.calls == ["post"]
        # post_live_migration_at_source was skipped: the VIF leaks, and shows
        assert [inst for _, inst in host_a.describe_host().plugged_vifs] == [instance.uuid]
        host_a.unplug_vifs(instance, nw)
        assert_host_empty(host_a)

    def test_operations_are_refused_while_the_guest_migrates(
        self, host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
    ) -> None:
        instance, nw, _ = _running_guest(host_a)
        data = host_b.pre_live_migration(ctx, instance, None, nw, LiveMigrateData())
        seen: list[object] = []

        class Arrival(Exception):
            # Made when the guest arrives at the destination, while the source holds
            # it as migrating: try to use it there.
            def __init__(self, message: str) -> None:
                super().__init__(message)
                seen.append(host_a.get_info(instance).state)
                try:
                    host_a.pause(instance)
                except MigrationError as exc:
                    seen.append(exc)

        host_b.inject_failure(INCOMING_LIVE_MIGRATION, Arrival)
        errors: list[BaseException] = []
        host_a.live_migration(
            ctx, instance, "host-b", _no_post, lambda *a: errors.append(a[4]), True, data
        )
        assert seen[0] is RUNNING
        assert isinstance(seen[1], MigrationError) and "while it migrates" in str(seen[1])
        assert isinstance(errors[0], Arrival)
        assert host_a.get_info(instance).state is RUNNING
        host_a.pause(instance)  # usable again after the failed move


def _no_post(*args: object) -> None:
    raise AssertionError("post_method must not be called")


def _no_recover(*args: object) -> None:
    raise AssertionError("recover_method must not be called")
