"""What an API process is configured with (``cumulo api`` options)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DEFAULT_BIND = "127.0.0.1:8774"
"""Nova's port; every service answers on it under its prefix (``/identity``...)."""
DEFAULT_REGION = "RegionOne"
DEFAULT_MAX_BODY_BYTES = 114_688
"""oslo.middleware's sizelimit default (112 KiB), which Nova and Keystone use."""
DEFAULT_IMAGE_SIZE_LIMIT = 10 << 30
"""Bytes an image upload may have (10 GiB; Glance's ``image_size_cap`` is 1 TiB)."""


@dataclass(frozen=True)
class ApiConfig:
    database_url: str
    key_repository: Path
    public_url: str | None = None
    """Base URL clients reach this API at (``https://cloud.example.org``); the catalog
    and links are built on it. ``None``: the scheme and host of each request."""
    region: str = DEFAULT_REGION
    token_lifetime: timedelta = timedelta(hours=1)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    policy_file: Path | None = None
    max_active_keys: int = 3
    transport_url: str | None = None
    """The bus the conductor and the compute hosts listen on (``amqp://...``, or the
    ``inproc://`` bus of an all-in-one process); ``None``: no server can be changed
    (requests that would need it answer 503)."""
    rpc_timeout: float = 60.0
    """Seconds a call to the conductor or a host may take before the request fails."""
    volume_dir: Path | None = None
    """The volume store's directory (``/volume`` and ``os-volume_attachments``);
    ``None``: none."""
    images_dir: Path | None = None
    """The image catalog's directory (``/image``); ``None``: no images."""
    image_size_limit: int = DEFAULT_IMAGE_SIZE_LIMIT
    """Bytes an image upload may have (``PUT /image/v2/images/{id}/file``); more: 413."""
    service_down_time: float = 60.0
    """Seconds after its last heartbeat a service reads ``down`` (os-services,
    hypervisors, zones, ``host_status``); the conductors' placement uses the same rule."""
    install_storage: bool = True
    """Install this worker's own database storage for the model objects. An
    all-in-one process says no: its conductor installed one on the same database."""
