"""The hypervisor driver interface: what a compute host asks of its hypervisor.

Methods are grouped by capability (lifecycle, volumes, networking, firewall,
migration, diagnostics, host), one abstract class each; :class:`ComputeDriver`
combines them into the one object the compute manager holds. Every argument and
every return value is a versioned object of :mod:`cumulo.model`, a list of them, a
primitive, or (for ``live_migration``) a local callback — never a dict — so what
a driver receives and answers has a version and survives rolling upgrades.

It holds every method Nova's Juno "virt-objects" work converted, under the same
names; the ones Nova later dropped with nova-network have a Cumulo meaning here
(security-group filtering on ``SecurityGroupRule`` objects, MAC constraints and
DHCP options fed into network allocation, file injection into the guest's config
data, re-applying ``NetworkInfo`` to the guest).

Drivers never touch the database; when a method changes an object it receives
(``default_device_names_for_instance`` sets ``device_name``), the caller saves it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar
from uuid import UUID

from cumulo.model import (
    AvailableResource,
    BlockDeviceInfo,
    BlockDeviceMapping,
    ComputeNode,
    Context,
    DeviceType,
    DhcpOptionList,
    Diagnostics,
    DiskBus,
    ImageMeta,
    InjectedFile,
    Instance,
    InstanceInfo,
    LiveMigrateData,
    MacConstraint,
    NetworkInfo,
    RebootType,
    SecurityGroupList,
    SharedStorageProbe,
    VolumeConnectionInfo,
    VolumeConnector,
)

from . import device_names
from .config import DriverConfig, IPAddress

# The public names are listed once, in cumulo.virt (which re-exports them).


PostMigrationMethod = Callable[[Context, Instance, str, bool, LiveMigrateData], None]
"""``post_method(context, instance, dest, block_migration, migrate_data)``: what
``live_migration`` calls once the guest runs on ``dest``."""

RecoverMigrationMethod = Callable[[Context, Instance, str, LiveMigrateData, BaseException], None]
"""``recover_method(context, instance, dest, migrate_data, error)``: what
``live_migration`` calls when the guest could not be moved and still runs here;
``error`` says why."""


class LifecycleDriver(abc.ABC):
    """Creating, powering and removing guests, and writing into their config data."""

    @abc.abstractmethod
    def spawn(
        self,
        context: Context,
        instance: Instance,
        image_meta: ImageMeta,
        injected_files: list[InjectedFile],
        admin_password: str | None,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        power_on: bool = True,
    ) -> None:
        """Create the guest of ``instance`` on this host and, by default, start it.

        The driver claims the guest's vCPUs, memory and local disk (from
        ``instance.flavor`` when loaded, else the instance's own size fields),
        creates its disks, plugs its VIFs, connects the volumes in
        ``block_device_info``, and writes ``injected_files`` and the admin password
        into the guest's config data. Nothing is left behind when it fails.

        Args:
            context: the request context.
            instance: the instance to create; its ``uuid`` names the guest.
            image_meta: the image the root disk is made from (its properties pick
                buses and models).
            injected_files: files to place in the guest's config data.
            admin_password: the password to set for the guest's administrator, or
                ``None`` to leave it unset; never stored in clear by the driver.
            network_info: the VIFs to plug, as allocated for the instance.
            block_device_info: the instance's disks (root, swap, ephemerals,
                volumes with connection info); ``None`` means an image-backed root
                disk and nothing else.
            power_on: start the guest (``False``: leave it shut down).

        Returns:
            None.

        Raises:
            InstanceExists: a guest with this uuid is already on the host.
            InsufficientResources: the guest does not fit in what the host has free.
            VifPlugFailed: a VIF cannot be plugged here.
        """

    @abc.abstractmethod
    def reboot(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        reboot_type: RebootType,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """Restart the guest: ask its OS (``SOFT``, only while running) or reset the
        virtual machine (``HARD``, from any power state). The guest is running
        afterwards and its network info is re-applied.

        Args:
            context: the request context.
            instance: the instance whose guest restarts.
            network_info: the VIFs the guest must have after the reboot.
            reboot_type: ``SOFT`` or ``HARD``.
            block_device_info: the disks to reconnect on a hard reboot, if known.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: a soft reboot of a guest that is not running.
        """

    @abc.abstractmethod
    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        """Stop the guest. Powering off a guest already shut down does nothing.

        Args:
            instance: the instance whose guest stops.
            timeout: seconds to wait for the guest OS to shut down cleanly before
                pulling the plug; 0 pulls it at once.
            retry_interval: seconds between clean-shutdown requests within ``timeout``.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
        """

    @abc.abstractmethod
    def power_on(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """Start a guest that is shut down (or crashed). Powering on a running guest
        does nothing.

        Args:
            context: the request context.
            instance: the instance whose guest starts.
            network_info: the VIFs the guest must have once started.
            block_device_info: the disks to connect, if known.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is paused or suspended (unpause or resume it).
        """

    @abc.abstractmethod
    def pause(self, instance: Instance) -> None:
        """Freeze a running guest in memory (its vCPUs stop; memory stays allocated).

        Args:
            instance: the instance whose guest pauses.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is not running.
        """

    @abc.abstractmethod
    def unpause(self, instance: Instance) -> None:
        """Let a paused guest run again.

        Args:
            instance: the instance whose guest resumes running.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is not paused.
        """

    @abc.abstractmethod
    def suspend(self, context: Context, instance: Instance) -> None:
        """Save a running (or paused) guest's memory to disk and stop it.

        Args:
            context: the request context.
            instance: the instance whose guest is suspended.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is neither running nor paused.
        """

    @abc.abstractmethod
    def resume(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """Restore a suspended guest from its saved memory; it runs afterwards.

        Args:
            context: the request context.
            instance: the instance whose guest is resumed.
            network_info: the VIFs the guest must have once resumed.
            block_device_info: the disks to reconnect, if known.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is not suspended.
        """

    @abc.abstractmethod
    def destroy(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        """Stop the guest and remove it from the host with everything it holds here:
        its claim on vCPUs, memory and disk, its VIFs, its volume connections, its
        firewall filter, and (with ``destroy_disks``) its local disks.

        It succeeds when the guest is already gone, so a delete can be retried.
        (Nova's Juno ``migrate_data`` argument was never passed and is left out.)

        Args:
            context: the request context.
            instance: the instance whose guest is removed.
            network_info: the VIFs to unplug.
            block_device_info: the disks to disconnect, if known.
            destroy_disks: delete the guest's local disks (``False`` when they are
                on storage another host still uses).

        Returns:
            None.
        """

    @abc.abstractmethod
    def cleanup(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
        destroy_vifs: bool = True,
    ) -> None:
        """Free what is left on this host of a guest that no longer runs here (after
        it was live-migrated away): remaining volume connections, firewall filter,
        disk claim, and optionally its VIFs and local disks.

        Cleaning up a guest this host never had, or already cleaned up, does nothing.

        Args:
            context: the request context.
            instance: the instance whose leftovers are removed.
            network_info: the VIFs to unplug when ``destroy_vifs``.
            block_device_info: the disks to disconnect, if known.
            destroy_disks: delete the local disks (``False`` when the destination
                uses the same files on shared storage).
            migrate_data: the live migration that moved the guest away, if any.
            destroy_vifs: unplug the VIFs still plugged here.

        Returns:
            None.

        Raises:
            InstanceExists: the guest still runs here (destroy it instead).
        """

    @abc.abstractmethod
    def inject_file(self, instance: Instance, injected_file: InjectedFile) -> None:
        """Write a file into the guest's config data (what the guest reads at boot and
        from its config drive), replacing a file already at that path.

        Args:
            instance: the instance whose guest gets the file.
            injected_file: the absolute path in the guest and the contents.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
        """


class VolumeDriver(abc.ABC):
    """Connecting volumes to guests, and naming their disks."""

    @abc.abstractmethod
    def attach_volume(
        self,
        context: Context,
        connection_info: VolumeConnectionInfo,
        instance: Instance,
        mountpoint: str,
        disk_bus: DiskBus | None = None,
        device_type: DeviceType | None = None,
    ) -> None:
        """Connect a volume to this host and hand it to the guest as ``mountpoint``.

        The driver sets ``connection_info.device_path`` to where the volume appeared
        on the host; the caller saves the connection info with the mapping.
        Encryption is ``connection_info.encrypted`` (Nova's ``encryption`` dict).

        Args:
            context: the request context.
            connection_info: how this host reaches the volume (from the volume store,
                for this host's ``get_volume_connector``).
            instance: the instance whose guest gets the disk.
            mountpoint: the guest device (``/dev/vdb``).
            disk_bus: the bus the disk sits on in the guest (driver default: ``None``).
            device_type: disk, cdrom... (driver default: ``None``).

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is suspended.
            DeviceInUse: the guest already has a disk at ``mountpoint``.
            VolumeAlreadyAttached: the volume is already attached on this host.
        """

    @abc.abstractmethod
    def detach_volume(
        self,
        context: Context,
        connection_info: VolumeConnectionInfo,
        instance: Instance,
        mountpoint: str,
    ) -> None:
        """Take the volume at ``mountpoint`` away from the guest and disconnect it
        from this host.

        Args:
            context: the request context.
            connection_info: the connection info the volume was attached with.
            instance: the instance whose guest loses the disk.
            mountpoint: the guest device the volume is at.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            VolumeNotAttached: the guest has no such volume at ``mountpoint``.
        """

    @abc.abstractmethod
    def get_volume_connector(self, instance: Instance) -> VolumeConnector:
        """Describe how this host connects volumes, for the volume store to build
        connection info for it (attach) or tear it down (detach, delete, migrate).

        Args:
            instance: the instance the volume is or will be attached to.

        Returns:
            VolumeConnector: this host's name, address and initiators.
        """

    def default_root_device_name(
        self, instance: Instance, image_meta: ImageMeta, root_bdm: BlockDeviceMapping
    ) -> str:
        """Choose the guest device name of the root disk.

        The default names it after the bus (``root_bdm.disk_bus``, else the image's
        ``hw_disk_bus``, else virtio): ``/dev/vda``, ``/dev/sda``, ``/dev/hda``,
        ``/dev/nvme0n1``.

        Args:
            instance: the instance being built.
            image_meta: the image it boots from.
            root_bdm: the mapping with boot index 0.

        Returns:
            str: the device name, such as ``/dev/vda``.
        """
        bus = root_bdm.disk_bus or image_meta.properties.hw_disk_bus
        return device_names.device_name(device_names.prefix_for_bus(bus), 0)

    def default_device_names_for_instance(
        self,
        instance: Instance,
        root_device_name: str,
        *block_device_lists: list[BlockDeviceMapping],
    ) -> None:
        """Give every mapping without a ``device_name`` the next free name on its bus,
        in the order given (Nova passes ephemerals, swap, then volumes).

        Names already set (and ``root_device_name``) are kept and never reused.
        The mappings are changed in place; the caller saves those that changed.

        Args:
            instance: the instance being built.
            root_device_name: the root disk's name (``/dev/vda``).
            block_device_lists: lists of mappings to name.

        Returns:
            None.
        """
        used = {device_names.normalize(root_device_name)}
        for bdms in block_device_lists:
            used.update(device_names.normalize(b.device_name) for b in bdms if b.device_name)
        for bdms in block_device_lists:
            for bdm in bdms:
                if bdm.device_name:
                    continue
                name = device_names.next_device_name(
                    device_names.prefix_for_bus(bdm.disk_bus), used
                )
                bdm.device_name = name
                used.add(name)


class NetworkDriver(abc.ABC):
    """Plugging VIFs, shaping network allocation, and the guest's view of its network."""

    @abc.abstractmethod
    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Plug the instance's VIFs on this host (plugging one already plugged does
        nothing); the guest's network info becomes ``network_info``.

        Args:
            instance: the instance the VIFs belong to.
            network_info: the VIFs to plug.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            VifPlugFailed: a VIF cannot be plugged here.
        """

    @abc.abstractmethod
    def unplug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Unplug the given VIFs from this host; VIFs not plugged are skipped, so it
        is safe after a failed build or a partial plug.

        Args:
            instance: the instance the VIFs belong to.
            network_info: the VIFs to unplug.

        Returns:
            None.
        """

    def macs_for_instance(self, instance: Instance) -> MacConstraint | None:
        """Say which MAC addresses the instance's VIFs must take, for network
        allocation (hosts whose NICs have fixed MACs). The default has none.

        Args:
            instance: the instance about to get its network allocated here.

        Returns:
            MacConstraint | None: the MACs allowed, one per VIF; ``None`` when any
            MAC will do. An empty ``allowed`` set means no VIF can be plugged.
        """
        return None

    def dhcp_options_for_instance(self, instance: Instance) -> DhcpOptionList:
        """Say which extra DHCP options the instance's ports must serve (PXE boot
        servers and such), for network allocation. The default asks for none.

        Args:
            instance: the instance about to get its network allocated here.

        Returns:
            DhcpOptionList: the options, possibly empty.
        """
        return DhcpOptionList()

    @abc.abstractmethod
    def inject_network_info(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Re-apply ``network_info`` to the guest: write it into the guest's config
        data (addresses, routes, DNS) so the guest configures itself from it, for
        example after a fixed IP was added or removed.

        Args:
            instance: the instance whose guest is reconfigured.
            network_info: the instance's current network info.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
        """

    @abc.abstractmethod
    def reset_network(self, instance: Instance) -> None:
        """Reset the guest's networking to what the host last applied: re-plug its
        VIFs and have the guest reload the network info last injected (recovers a
        guest whose network configuration was broken from inside).

        Args:
            instance: the instance whose guest's network is reset.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InvalidPowerState: the guest is not running.
        """


class FirewallDriver(abc.ABC):
    """Filtering a guest's traffic by the rules of its security groups."""

    @abc.abstractmethod
    def ensure_filtering_rules_for_instance(
        self, instance: Instance, network_info: NetworkInfo, security_groups: SecurityGroupList
    ) -> None:
        """Set up (or replace) the guest's firewall filter on this host, synchronously:
        traffic to and from the VIFs of ``network_info`` passes only when a rule of
        one of ``security_groups`` allows it.

        Called at build, at ``init_host`` for running guests, and on the destination
        during live-migration preparation (before the guest arrives).

        Args:
            instance: the instance to filter.
            network_info: the VIFs (and addresses) the filter applies to.
            security_groups: the instance's groups, with their rules.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host (running or arriving).
        """

    @abc.abstractmethod
    def refresh_instance_security_rules(
        self, instance: Instance, security_groups: SecurityGroupList
    ) -> None:
        """Replace the rules of the guest's filter with the current rules of
        ``security_groups`` (after a rule was added to or removed from a group);
        the VIFs filtered stay the same.

        Args:
            instance: the instance whose filter is refreshed.
            security_groups: the instance's groups, with their current rules.

        Returns:
            None.

        Raises:
            InstanceNotFound: no such guest on this host.
            InstanceNotFiltered: the guest's filter was never set up.
        """

    @abc.abstractmethod
    def unfilter_instance(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Remove the guest's firewall filter from this host (after it was destroyed
        or migrated away). Removing a filter that is not there does nothing.

        Args:
            instance: the instance whose filter is removed.
            network_info: the VIFs the filter applied to.

        Returns:
            None.
        """


class MigrationDriver(abc.ABC):
    """Live migration, step by step, and whether two hosts share instance storage.

    The order (see DESIGN.md): destination check, source check, destination check
    cleanup, ``pre_live_migration`` on the destination (then its filtering rules),
    ``live_migration`` on the source, which calls exactly one of its callbacks.
    Success: ``post_live_migration``, ``unfilter_instance``,
    ``post_live_migration_at_source``, ``post_live_migration_at_destination`` and
    ``cleanup``. Failure: ``rollback_live_migration_at_destination``.
    """

    @abc.abstractmethod
    def check_can_live_migrate_destination(
        self,
        context: Context,
        instance: Instance,
        src_compute_info: ComputeNode | None,
        dst_compute_info: ComputeNode | None,
        block_migration: bool = False,
        disk_over_commit: bool = False,
    ) -> LiveMigrateData:
        """On the destination: check that this host can take the guest (CPU
        compatible with the source's, enough free vCPUs and memory), report its free
        disk (the source, which knows the guest's local disks, checks that), and
        leave a probe for the source to test for shared instance storage.

        Args:
            context: the request context.
            instance: the instance to move here.
            src_compute_info: the source host's node record (``None``: skip the CPU
                comparison).
            dst_compute_info: this host's node record (the driver may prefer its own
                live view).
            block_migration: the disks will be copied, not shared.
            disk_over_commit: allow a block migration whose disks exceed free disk.

        Returns:
            LiveMigrateData: ``block_migration``, ``disk_over_commit``,
            ``disk_available_mb``, ``filename`` (the probe), ``dest_host`` and
            ``target_connect_addr`` filled in.

        Raises:
            MigrationPreCheckError: the guest cannot come here; the reason says why.
        """

    @abc.abstractmethod
    def cleanup_live_migration_destination_check(
        self, context: Context, dest_check_data: LiveMigrateData
    ) -> None:
        """On the destination: remove what ``check_can_live_migrate_destination``
        left (the shared-storage probe). Called whatever the source check said.

        Args:
            context: the request context.
            dest_check_data: what the destination check returned.

        Returns:
            None.
        """

    @abc.abstractmethod
    def check_can_live_migrate_source(
        self,
        context: Context,
        instance: Instance,
        dest_check_data: LiveMigrateData,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> LiveMigrateData:
        """On the source: check that the guest can leave (it runs here, running or
        paused) and that its disks can reach the destination (shared instance
        storage, volumes only, or a block migration with enough room there).

        Args:
            context: the request context.
            instance: the instance to move away.
            dest_check_data: what the destination check returned.
            block_device_info: the instance's disks (whether it is volume-backed).

        Returns:
            LiveMigrateData: ``dest_check_data`` with ``is_shared_instance_path``,
            ``is_shared_block_storage``, ``is_volume_backed`` and
            ``instance_relative_path`` filled in.

        Raises:
            MigrationPreCheckError: the guest cannot leave; the reason says why.
        """

    @abc.abstractmethod
    def pre_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        network_info: NetworkInfo,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """On the destination: make room for the guest and prepare what it needs to
        run here — claim its resources, plug its VIFs, connect its volumes (with the
        destination's connection info in ``block_device_info``). Nothing is left
        behind when it fails. (Nova's Juno ``disk_info`` argument is folded into
        ``migrate_data``.)

        Args:
            context: the request context.
            instance: the instance coming here.
            block_device_info: its disks, with connection info for this host.
            network_info: its VIFs.
            migrate_data: what the checks returned.

        Returns:
            LiveMigrateData: ``migrate_data`` with ``bdms``, ``vifs``, the listen
            addresses, ``target_connect_addr`` and ``dest_host`` filled in.

        Raises:
            InstanceExists: the guest is already here.
            InsufficientResources: the guest no longer fits here.
            VifPlugFailed: a VIF cannot be plugged here.
        """

    def live_migration(
        self,
        context: Context,
        instance: Instance,
        dest: str,
        post_method: PostMigrationMethod,
        recover_method: RecoverMigrationMethod,
        block_migration: bool = False,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """On the source: move the running guest to ``dest`` without stopping it, then
        call exactly one callback: ``post_method`` when the guest runs on ``dest``,
        ``recover_method`` (with the error) when it still runs here.

        Migration failures are reported only through ``recover_method``, never
        raised; an exception raised by a callback propagates. When
        ``migrate_data.migration`` is set, its ``memory_*``/``disk_*`` progress
        fields are filled in (the caller saves it). Drivers implement
        :meth:`_migrate_guest`; this method keeps the callback contract.

        Args:
            context: the request context.
            instance: the instance to move.
            dest: the destination host's name.
            post_method: called on success (``PostMigrationMethod``).
            recover_method: called on failure (``RecoverMigrationMethod``).
            block_migration: copy the local disks to ``dest``.
            migrate_data: what ``pre_live_migration`` returned.

        Returns:
            None.
        """
        data = migrate_data if migrate_data is not None else LiveMigrateData()
        try:
            self._migrate_guest(instance, dest, block_migration, data)
        except Exception as error:
            recover_method(context, instance, dest, data, error)
            return
        post_method(context, instance, dest, block_migration, data)

    @abc.abstractmethod
    def _migrate_guest(
        self, instance: Instance, dest: str, block_migration: bool, migrate_data: LiveMigrateData
    ) -> None:
        """The driver's part of :meth:`live_migration`: move the running guest to
        ``dest``, filling in ``migrate_data.migration``'s progress when it is set.

        Returns when the guest runs on ``dest``; raises (any ``Exception``) when it
        still runs here, which ``live_migration`` hands to ``recover_method``.
        """

    @abc.abstractmethod
    def post_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """On the source, after success: disconnect the guest's volumes from this host
        (the destination holds its own connections now).

        Args:
            context: the request context.
            instance: the instance that left.
            block_device_info: its disks as connected on this host.
            migrate_data: what the migration used.

        Returns:
            None.

        Raises:
            InstanceNotFound: this host has nothing of the guest.
            MigrationError: the guest still runs here.
        """

    @abc.abstractmethod
    def post_live_migration_at_source(
        self, context: Context, instance: Instance, network_info: NetworkInfo
    ) -> None:
        """On the source, after success: unplug the guest's VIFs from this host.

        Args:
            context: the request context.
            instance: the instance that left.
            network_info: its VIFs.

        Returns:
            None.

        Raises:
            MigrationError: the guest still runs here.
        """

    @abc.abstractmethod
    def post_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_migration: bool = False,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """On the destination, after success: finish taking the guest over — plug its
        VIFs as now bound to this host and re-apply its network info. The caller
        then sets ``instance.host`` to this host and saves.

        Args:
            context: the request context.
            instance: the instance that arrived.
            network_info: its VIFs as bound to this host.
            block_migration: its disks were copied here.
            block_device_info: its disks as connected here.

        Returns:
            None.

        Raises:
            InstanceNotFound: the guest did not arrive here.
        """

    @abc.abstractmethod
    def rollback_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """On the destination, after failure: undo ``pre_live_migration`` (and the
        filtering rules set up for the guest) — release the claim, unplug the VIFs,
        disconnect the volumes, and with ``destroy_disks`` delete disks copied here.
        Rolling back when nothing was prepared does nothing.

        Args:
            context: the request context.
            instance: the instance that did not come.
            network_info: its VIFs.
            block_device_info: its disks as connected here.
            destroy_disks: delete local disks made for it here (``False`` on shared
                storage, where they are the source's).
            migrate_data: what the migration used.

        Returns:
            None.

        Raises:
            MigrationError: the guest already runs here; rolling back would destroy it.
        """

    @abc.abstractmethod
    def check_instance_shared_storage_local(
        self, context: Context, instance: Instance
    ) -> SharedStorageProbe | None:
        """Leave a probe in this host's instance storage, for a peer to look for with
        ``check_instance_shared_storage_remote``.

        Args:
            context: the request context.
            instance: the instance whose storage is in question.

        Returns:
            SharedStorageProbe | None: the probe; ``None`` when this driver cannot
            tell (the caller then treats the storage as not shared).
        """

    @abc.abstractmethod
    def check_instance_shared_storage_remote(
        self, context: Context, probe: SharedStorageProbe
    ) -> bool:
        """Look for a peer's probe in this host's instance storage.

        Args:
            context: the request context.
            probe: what the peer's ``check_instance_shared_storage_local`` returned.

        Returns:
            bool: ``True`` when this host sees the probe (the storage is shared).
        """

    @abc.abstractmethod
    def check_instance_shared_storage_cleanup(
        self, context: Context, probe: SharedStorageProbe
    ) -> None:
        """Remove a probe this host left (always called, after the remote check).

        Args:
            context: the request context.
            probe: what ``check_instance_shared_storage_local`` returned here.

        Returns:
            None.
        """


class DiagnosticsDriver(abc.ABC):
    """What the hypervisor reports about a guest."""

    @abc.abstractmethod
    def get_info(self, instance: Instance) -> InstanceInfo:
        """Report the guest's power state and resource use now (the compute manager
        syncs ``instance.power_state`` from it).

        Args:
            instance: the instance to report on.

        Returns:
            InstanceInfo: power state, hypervisor id, memory, vCPUs and CPU time.

        Raises:
            InstanceNotFound: no such guest runs on this host.
        """

    @abc.abstractmethod
    def get_diagnostics(self, instance: Instance) -> Diagnostics:
        """Report the guest's counters: CPU time per vCPU, memory, and traffic and I/O
        per NIC and disk, as they stand now.

        Args:
            instance: the instance to report on.

        Returns:
            Diagnostics: the counters, driver-neutral.

        Raises:
            InstanceNotFound: no such guest runs on this host.
        """

    @abc.abstractmethod
    def get_console_output(self, instance: Instance, tail_lines: int | None = None) -> str:
        """Return what the guest wrote on its (serial) console since it was created on
        this host, oldest first; the driver may keep only a bounded tail.

        Args:
            instance: the instance whose console to read.
            tail_lines: only the last this many lines (``None``: all that is kept).

        Returns:
            str: the console text (lines end with ``\\n``).

        Raises:
            InstanceNotFound: no such guest on this host.
        """


class HostDriver(abc.ABC):
    """The host itself: start-up, inventory and capacity."""

    @abc.abstractmethod
    def init_host(self, host: str) -> None:
        """Get ready to serve as ``host`` (connect to the hypervisor, catch up with the
        guests already running). Called once when the compute service starts.

        Args:
            host: the compute host's name; must be the driver's own.

        Returns:
            None.

        Raises:
            HypervisorUnavailable: the hypervisor cannot be reached.
        """

    def shutdown(self) -> None:  # noqa: B027 - a no-op by default, not abstract
        """Let go of what this driver holds on the host, when the process that made it
        is done with it (its compute service stopped, a test or tool finished).
        Called at most once, after the last other call; the driver is not used
        again. The default does nothing: a hypervisor whose guests live on their own
        needs no shutdown.

        Returns:
            None.
        """

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """Name the guests that run on this host (``Instance.name`` of each).

        Returns:
            list[str]: the guest names, in no particular order.
        """

    @abc.abstractmethod
    def list_instance_uuids(self) -> list[UUID]:
        """Identify the guests that run on this host.

        Returns:
            list[UUID]: the instance uuids, in no particular order.
        """

    def instance_exists(self, instance: Instance) -> bool:
        """Say whether the instance's guest runs on this host.

        Args:
            instance: the instance to look for.

        Returns:
            bool: ``True`` when its uuid is in ``list_instance_uuids()``.
        """
        return instance.uuid in self.list_instance_uuids()

    @abc.abstractmethod
    def get_available_resource(self) -> AvailableResource:
        """Report the host's capacity and use now, for the resource tracker. Cumulo
        runs one node per host, named after the host (``hypervisor_hostname``).

        Returns:
            AvailableResource: vCPUs, memory (MiB) and disk (GiB), total and used;
            hypervisor type and version; CPU; the guests it can run.
        """

    @abc.abstractmethod
    def get_host_ip_addr(self) -> IPAddress:
        """Give the address other hosts reach this one at (migration traffic).

        Returns:
            IPv4Address | IPv6Address: the host's address.
        """


CAPABILITIES: tuple[type[abc.ABC], ...] = (
    LifecycleDriver,
    VolumeDriver,
    NetworkDriver,
    FirewallDriver,
    MigrationDriver,
    DiagnosticsDriver,
    HostDriver,
)
"""The capability groups, in the order :class:`ComputeDriver` combines them."""


class ComputeDriver(
    LifecycleDriver,
    VolumeDriver,
    NetworkDriver,
    FirewallDriver,
    MigrationDriver,
    DiagnosticsDriver,
    HostDriver,
):
    """A hypervisor driver: every capability group in one object, for one host.

    A subclass sets :attr:`driver_name` and implements every abstract method.
    Methods are safe to call from several threads at once.
    """

    driver_name: ClassVar[str] = ""
    """The name the driver is registered under (:mod:`cumulo.virt.loader`), and
    ``Diagnostics.driver``."""
    config_class: ClassVar[type[DriverConfig]] = DriverConfig
    """The configuration the driver is made with: ``Driver(host, config)``."""

    def __init__(self, host: str) -> None:
        if not host:
            raise ValueError("host: expected the compute host's name, got ''")
        self._host = host

    @property
    def host(self) -> str:
        """The compute host this driver serves."""
        return self._host

    def __repr__(self) -> str:
        return f"<{type(self).__name__} host={self._host!r}>"
