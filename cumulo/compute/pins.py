"""Automatic version pins of the compute RPC client: what may be sent to one compute
host (or to all of them) given the service levels in the ``services`` rows, and a
call context that caps messages and backlevels objects to that.

The conductor may import this module, like :mod:`cumulo.compute.rpcapi` that uses it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cumulo.model.service import Service
from cumulo.objects import BackportError, versions
from cumulo.rpc import BacklevelSerializer
from cumulo.rpc.client import CallContext

from .exceptions import ComputeTooOld
from .version import SERVICE_VERSION, Capability, ServiceTooNew, level, release_of


@dataclass(frozen=True)
class Pin:
    """What may be sent to a peer: the message version cap (``None``: any) and the
    object manifest to backlevel objects to (``None``: send them as they are)."""

    version_cap: str | None
    object_manifest: Mapping[str, str] | None
    level: int | None = None
    """The service level the pin comes from (``None``: a static cap, or no pin)."""


def manifest_of(row: Service) -> Mapping[str, str]:
    return row.object_manifest or level(row.version).object_manifest


def pin_of(rows: list[Service], *, accept_newer: bool = False) -> Pin:
    """The pin of the oldest of ``rows`` (compute services; none, or all at level 0:
    no pin). A row newer than this code raises :class:`ServiceTooNew`, unless
    ``accept_newer``: such a peer reads everything this code sends, so it pins nothing."""
    if not accept_newer:
        for row in rows:
            if row.version > SERVICE_VERSION:
                raise ServiceTooNew(row.host, row.version)
    known = [row for row in rows if 0 < row.version <= SERVICE_VERSION]
    if not known:
        return Pin(None, None)
    lowest = min(row.version for row in known)
    # Per object, the oldest version any of them reads.
    manifest: dict[str, str] = {}
    for row in known:
        for name, version in manifest_of(row).items():
            if name not in manifest or versions.parse(version) < versions.parse(manifest[name]):
                manifest[name] = version
    return Pin(level(lowest).compute_rpc, manifest, lowest)


class Pinned:
    """A prepared call context to ``host`` (``None``: fanout) whose messages
    backlevel objects to the pin's manifest."""

    def __init__(
        self,
        cctxt: CallContext,
        serializer: BacklevelSerializer,
        pin: Pin,
        host: str | None,
    ) -> None:
        self.cctxt = cctxt
        self.serializer = serializer
        self.pin = pin
        self.host = host

    @property
    def manifest(self) -> Mapping[str, str] | None:
        return self.pin.object_manifest

    @property
    def version_cap(self) -> str | None:
        return self.cctxt.version_cap

    def can_send_version(self, version: str | None = None) -> bool:
        return self.cctxt.can_send_version(version)

    def can(self, capability: Capability) -> bool:
        """Whether the peer can serve ``capability`` (its compute RPC version)."""
        return self.can_send_version(capability.compute_rpc)

    def refuse(self, capability: Capability) -> ComputeTooOld:
        """The error for asking ``capability`` of this older peer (raise it)."""
        return self._too_old(capability.compute_rpc, capability.what)

    def _too_old(self, needs: str, what: str) -> ComputeTooOld:
        release = None if self.pin.level is None else release_of(self.pin.level)
        return ComputeTooOld(
            self.host or "(every host)", self.version_cap, needs, what, release=release
        )

    def at(self, version: str) -> Pinned:
        """The same peer and pin, sending at ``version`` (a step down)."""
        return Pinned(self.cctxt.prepare(version=version), self.serializer, self.pin, self.host)

    @contextlib.contextmanager
    def _pinned(self) -> Iterator[None]:
        label = None if self.pin.level is None else f"level_{self.pin.level}"
        try:
            with self.serializer.backlevel_to(self.manifest, label=label):
                yield
        except BackportError as exc:
            # An object the peer's versions cannot carry: nothing was sent.
            raise self._too_old("a newer object version", f"take this request ({exc})") from None

    def call(self, ctx: Any, method: str, /, **kwargs: Any) -> Any:
        with self._pinned():
            return self.cctxt.call(ctx, method, **kwargs)

    def cast(self, ctx: Any, method: str, /, **kwargs: Any) -> None:
        with self._pinned():
            self.cctxt.cast(ctx, method, **kwargs)
