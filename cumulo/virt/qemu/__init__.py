"""The QEMU driver: guests as QEMU processes (KVM or TCG) driven over QMP.

Per guest, the host's instance directory holds a qcow2 overlay on a base image,
a config drive ISO (metadata, injected files, network data), the serial console
log and, while suspended, the saved memory. Volumes from the volume store are
hot-plugged on a virtio-scsi controller (``blockdev-add`` + ``device_add``; the NVMe
bus is refused: unplugging a PCI controller needs the guest's help); NICs
are taps on Linux bridges (or QEMU user networking where taps cannot be made);
security groups become nftables rules on the taps. Live migration runs QEMU's own:
the destination waits with ``-incoming defer``, local disks are mirrored to it
over NBD, and the source polls ``query-migrate`` into the ``Migration`` object.
``get_console_output`` reads the end of the serial console log.

The driver is split like the interface of :mod:`cumulo.virt.driver` (as
``cumulo.compute`` splits its manager into flows): :mod:`.base` (shared state and
the process, disk, volume, tap and firewall steps capabilities repeat),
:mod:`.guest` (the guest record and small facts about it), :mod:`.host`,
:mod:`.lifecycle`, :mod:`.volumes`, :mod:`.network`, :mod:`.firewall`,
:mod:`.diagnostics`, :mod:`.migration`, and :mod:`.driver` (``QemuDriver``,
combining them). Helpers: :mod:`.process` (command line and process),
:mod:`.monitor` (QMP), :mod:`.images` (qemu-img, the probe guest),
:mod:`.configdrive` (ISO), :mod:`.netdev` (taps and bridges), :mod:`.nftables`
(security groups), :mod:`.console` (the serial console log), :mod:`.endpoints`
(where a live migration sends its streams), :mod:`.config` (``QemuConfig`` and its
modes).
"""

from __future__ import annotations

from .base import ImageNotFound
from .config import Accel, FirewallMode, NetworkMode, QemuConfig
from .driver import QemuDriver
from .guest import GuestPhase, QemuGuestView
from .host import kvm_usable

__all__ = [
    "Accel",
    "FirewallMode",
    "GuestPhase",
    "ImageNotFound",
    "NetworkMode",
    "QemuConfig",
    "QemuDriver",
    "QemuGuestView",
    "kvm_usable",
]
