"""Virtual hardware vocabulary shared by images, block devices, VIFs and hosts."""

from __future__ import annotations

import enum


class DiskBus(enum.StrEnum):
    """The bus a disk or CD-ROM is attached to in the guest."""

    VIRTIO = "virtio"
    SCSI = "scsi"
    IDE = "ide"
    SATA = "sata"
    USB = "usb"
    FDC = "fdc"
    NVME = "nvme"
    """Since release 0.2 (objects declare it with ``values_added``)."""


class DeviceType(enum.StrEnum):
    """What a block device looks like to the guest."""

    DISK = "disk"
    CDROM = "cdrom"
    FLOPPY = "floppy"
    LUN = "lun"


class DiskFormat(enum.StrEnum):
    """The on-disk format of an image or a disk file."""

    RAW = "raw"
    QCOW2 = "qcow2"
    VMDK = "vmdk"
    VDI = "vdi"
    VHD = "vhd"
    ISO = "iso"


class ContainerFormat(enum.StrEnum):
    """Whether an image file wraps its disk in a container."""

    BARE = "bare"
    OVF = "ovf"
    OVA = "ova"


class Architecture(enum.StrEnum):
    """CPU architectures (the names ``uname -m`` and libvirt use)."""

    X86_64 = "x86_64"
    I686 = "i686"
    AARCH64 = "aarch64"
    PPC64LE = "ppc64le"
    S390X = "s390x"
    RISCV64 = "riscv64"


class OsType(enum.StrEnum):
    """The guest operating system family (drivers pick clock and device defaults)."""

    LINUX = "linux"
    WINDOWS = "windows"


class VmMode(enum.StrEnum):
    """The virtualisation mode a host can run a guest in."""

    HVM = "hvm"
    EXE = "exe"


class FirmwareType(enum.StrEnum):
    BIOS = "bios"
    UEFI = "uefi"


class VIFModel(enum.StrEnum):
    """The emulated NIC model the guest sees."""

    VIRTIO = "virtio"
    E1000 = "e1000"
    E1000E = "e1000e"
    RTL8139 = "rtl8139"
    NE2K_PCI = "ne2k_pci"


class VIFType(enum.StrEnum):
    """How a virtual interface is plugged on the host."""

    OVS = "ovs"
    BRIDGE = "bridge"
    TAP = "tap"
    VHOSTUSER = "vhostuser"
    HW_VEB = "hw_veb"
    OTHER = "other"
    UNBOUND = "unbound"
    BINDING_FAILED = "binding_failed"


class VnicType(enum.StrEnum):
    """What kind of NIC a port asks for (Neutron's ``binding:vnic_type``)."""

    NORMAL = "normal"
    DIRECT = "direct"
    MACVTAP = "macvtap"
    DIRECT_PHYSICAL = "direct-physical"
    BAREMETAL = "baremetal"
    VIRTIO_FORWARDER = "virtio-forwarder"


class VideoModel(enum.StrEnum):
    VGA = "vga"
    CIRRUS = "cirrus"
    VIRTIO = "virtio"
    QXL = "qxl"
    NONE = "none"
