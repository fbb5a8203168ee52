"""Flavors as Nova renders them at the negotiated microversion: a field appears from
the microversion that introduced it (``description`` 2.55, ``extra_specs`` 2.61)."""

from __future__ import annotations

from typing import Any

from cumulo.model import Flavor

from .microversions import DESCRIPTION, EXTRA_SPECS_IN_FLAVOR, Microversion, since


def links(v21: str, bookmark: str, flavor: Flavor) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": f"{v21}/flavors/{flavor.flavorid}"},
        {"rel": "bookmark", "href": f"{bookmark}/flavors/{flavor.flavorid}"},
    ]


def brief(version: Microversion, v21: str, bookmark: str, flavor: Flavor) -> dict[str, Any]:
    """An item of ``GET /flavors``."""
    body: dict[str, Any] = {
        "id": flavor.flavorid,
        "name": flavor.name,
        "links": links(v21, bookmark, flavor),
    }
    if since(version, DESCRIPTION):
        body["description"] = flavor.description
    return body


def detail(version: Microversion, v21: str, bookmark: str, flavor: Flavor) -> dict[str, Any]:
    """A flavor of ``GET /flavors/detail``, ``GET``/``POST``/``PUT /flavors/...``."""
    body: dict[str, Any] = {
        "id": flavor.flavorid,
        "name": flavor.name,
        "ram": flavor.memory_mb,
        "disk": flavor.root_gb,
        "vcpus": flavor.vcpus,
        "swap": flavor.swap or "",
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": flavor.disabled,
        "os-flavor-access:is_public": flavor.is_public,
        "rxtx_factor": flavor.rxtx_factor,
        "links": links(v21, bookmark, flavor),
    }
    if since(version, DESCRIPTION):
        body["description"] = flavor.description
    if since(version, EXTRA_SPECS_IN_FLAVOR):
        body["extra_specs"] = dict(flavor.extra_specs)
    return body
