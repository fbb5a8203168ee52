"""``FakeDriver``: an in-memory hypervisor, one per host, that keeps real books.

It claims vCPUs, memory and disk on spawn and refuses what does not fit; enforces
the guest power-state machine; tracks attached volumes, plugged VIFs, firewall
filters, injected files and applied network info; advances diagnostics counters
with the guest's running time (from an injectable clock) and with operations; and
live-migrates guests between hosts of one :class:`FakeHypervisorNetwork`.

Across processes (a compute process per host), hosts live-migrate through a
:class:`~cumulo.virt.fake_network.FakeMigrationChannel` (a directory they all see,
``FakeConfig.migration_channel``), with the RPC steps of a live migration doing the
hand-over: the destination's ``pre_live_migration`` reserves the guest (claims,
VIFs, volumes) and tells the channel it expects it; the source's
``live_migration`` checks that the destination expects the guest, sends its whole
state (power state, running time and counters, network info, injected files...)
and leaves it ``DEPARTED``; the destination takes the guest in on its
``post_live_migration_at_destination`` (or refuses it in
``rollback_live_migration_at_destination``, as in one process). Differences from
one process: instance storage is never shared between processes (a guest with a
local disk needs block migration), and the destination's arrival checks (and an
injected :data:`INCOMING_LIVE_MIGRATION` failure) run when it takes the guest in,
after the source has let it go, so they fail
``post_live_migration_at_destination`` instead of reaching ``recover_method``.

Each guest prints a line on its (serial) console for what happens to it — boot,
reboot, power off/on, pause, suspend, volume attach/detach, file injection, arrival
after a live migration — and keeps the last :data:`CONSOLE_LINES` of them
(``get_console_output``). An in-process live migration carries the console along;
a guest arriving through a :class:`FakeMigrationChannel` starts a fresh one (the
channel's format is the one release 0.1 hosts read and write, and has no console).

Everything it holds is readable through the driver interface (``get_info``,
``get_diagnostics``, ``get_console_output``, ``list_instances``,
``get_available_resource``) and through
the read-only :meth:`FakeDriver.describe_guest` / :meth:`FakeDriver.describe_host`
views; failures are injected with :meth:`FakeDriver.inject_failure`. No module
state: any number of hosts share one process.

Modules, one per capability of :mod:`cumulo.virt.driver` (as ``cumulo.compute``
splits its manager into flows): :mod:`.base` (the shared state, failure injection
and the steps every capability repeats), :mod:`.guest` (guest records and views),
:mod:`.host`, :mod:`.lifecycle`, :mod:`.volumes`, :mod:`.network`,
:mod:`.firewall`, :mod:`.diagnostics`, :mod:`.migration` (with :mod:`.transfer`,
what travels with a guest), :mod:`.config` (``FakeConfig``) and :mod:`.driver`
(``FakeDriver``, combining them).
"""

from __future__ import annotations

from ..fake_network import FakeHypervisorNetwork, FakeMigrationChannel
from .base import FAILURE_POINTS, INCOMING_LIVE_MIGRATION
from .config import FakeConfig
from .driver import FakeDriver
from .guest import BOOT_READ_BYTES, CONSOLE_LINES, AttachedVolume, GuestPhase, GuestView, HostView

__all__ = [
    "BOOT_READ_BYTES",
    "CONSOLE_LINES",
    "FAILURE_POINTS",
    "INCOMING_LIVE_MIGRATION",
    "AttachedVolume",
    "FakeConfig",
    "FakeDriver",
    "FakeHypervisorNetwork",
    "FakeMigrationChannel",
    "GuestPhase",
    "GuestView",
    "HostView",
]
