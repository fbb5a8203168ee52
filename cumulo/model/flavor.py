"""``Flavor``: the size of an instance (memory, vCPUs, disks) and its extra specs."""

from __future__ import annotations

from cumulo.objects import field, register

from .base import CumuloObject


@register
class Flavor(CumuloObject):
    """A named instance size: memory, vCPUs, root/ephemeral/swap disks, extra specs.

    ``id`` is the database key and never changes once set; ``flavorid`` is the
    identifier users see. ``extra_specs`` carries scheduler and driver hints
    (``hw:cpu_policy``...) as strings, as Nova does.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(read_only=True)
    flavorid: str
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap: int = 0
    """Swap disk size in MiB (0: none)."""
    rxtx_factor: float = 1.0
    vcpu_weight: int | None = None
    disabled: bool = False
    is_public: bool = True
    extra_specs: dict[str, str] = field(default_factory=dict)
    description: str | None = None
