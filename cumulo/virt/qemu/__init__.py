"""The QEMU driver: guests as QEMU processes (KVM or TCG) driven over QMP.

Modules: :mod:`.driver` (the ``ComputeDriver``), :mod:`.process` (command line
and process), :mod:`.monitor` (QMP), :mod:`.images` (qemu-img, the probe guest),
:mod:`.configdrive` (ISO), :mod:`.netdev` (taps and bridges), :mod:`.nftables`
(security groups), :mod:`.console` (the serial console log), :mod:`.endpoints`
(where a live migration sends its streams).
"""

from __future__ import annotations

from .driver import GuestPhase, ImageNotFound, QemuDriver, QemuGuestView, kvm_usable

__all__ = ["GuestPhase", "ImageNotFound", "QemuDriver", "QemuGuestView", "kvm_usable"]
