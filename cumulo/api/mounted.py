"""The services this API serves, in catalog order (see ``cumulo.api.registry``)."""

from __future__ import annotations

from .compute import SERVICE as COMPUTE
from .identity import SERVICE as IDENTITY
from .image import SERVICE as IMAGE
from .network import SERVICE as NETWORK
from .registry import MountedService

SERVICES: tuple[MountedService, ...] = (IDENTITY, COMPUTE, IMAGE, NETWORK)
