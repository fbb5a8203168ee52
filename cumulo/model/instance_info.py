"""``InstanceInfo``: what a driver's ``get_info`` says about a guest."""

from __future__ import annotations

from cumulo.objects import register

from .base import CumuloObject
from .states import PowerState


@register
class InstanceInfo(CumuloObject):
    """A guest's power state and resource use, as the hypervisor reports it now.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    state: PowerState
    internal_id: str | None = None
    """The hypervisor's own id of the guest (domain id, process id...)."""
    max_mem_kb: int = 0
    mem_kb: int = 0
    num_cpu: int = 0
    cpu_time_ns: int = 0
