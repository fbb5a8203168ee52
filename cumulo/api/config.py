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
