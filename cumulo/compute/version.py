"""The compute service's version: one integer per release, recorded in the
``services`` table so peers can tell which release a host runs."""

from __future__ import annotations

from typing import Final

SERVICE_VERSION: Final = 1
"""1: the first compute service (RPC API 1.0, the cumulo object manifest of its release)."""
