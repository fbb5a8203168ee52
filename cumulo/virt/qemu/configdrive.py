"""The config drive: an ISO 9660 image (label ``config-2``, OpenStack layout) that
carries the guest's metadata, injected files and network data, built with pycdlib.

The image is padded to a fixed size so that a live migration can mirror it onto a
placeholder of the same size that the destination creates before the guest arrives.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pycdlib

from cumulo.model import InjectedFile, Instance, NetworkInfo

from ..common import public_keys

__all__ = [
    "CONFIG_DRIVE_LABEL",
    "META_DATA",
    "NETWORK_DATA",
    "ConfigDriveTooLarge",
    "build_config_drive",
    "hash_password",
    "meta_data",
    "network_data",
    "read_config_drive",
]

CONFIG_DRIVE_LABEL: Final = "config-2"
META_DATA: Final = "/openstack/latest/meta_data.json"
NETWORK_DATA: Final = "/openstack/latest/network_data.json"
_CONTENT_DIR: Final = "/openstack/content"


class ConfigDriveTooLarge(ValueError):
    """The config data does not fit in the config drive's fixed size."""


def hash_password(password: str) -> str:
    """A salted SHA-512 of the admin password: what the config drive carries, so the
    driver never writes the password in clear."""
    salt = secrets.token_hex(8)
    digest = hashlib.sha512((salt + password).encode()).hexdigest()
    return f"sha512${salt}${digest}"


def meta_data(
    instance: Instance, files: Sequence[InjectedFile], admin_pass_hash: str | None
) -> dict[str, Any]:
    """The ``meta_data.json`` document of ``instance``."""
    data: dict[str, Any] = {
        "uuid": str(instance.uuid),
        "name": instance.display_name or instance.name,
        "hostname": instance.hostname or instance.name,
        "project_id": instance.project_id,
        "availability_zone": instance.availability_zone,
        "meta": dict(instance.metadata),
        "files": [
            {"path": f.path, "content_path": f"/content/{index:04d}"}
            for index, f in enumerate(files)
        ],
    }
    keys = public_keys(instance)
    if keys:
        data["public_keys"] = keys
    if admin_pass_hash is not None:
        data["admin_pass_hash"] = admin_pass_hash
    return data


def network_data(network_info: NetworkInfo) -> dict[str, Any]:
    """The ``network_data.json`` document (links, networks, DNS services)."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    for vif in network_info:
        link_id = f"tap{str(vif.id)[:11]}"
        links.append(
            {
                "id": link_id,
                "type": str(vif.type),
                "ethernet_mac_address": str(vif.address),
                "vif_id": str(vif.id),
                "mtu": vif.network.mtu if vif.network else None,
            }
        )
        if vif.network is None:
            continue
        for subnet in vif.network.subnets:
            for ip in subnet.ips:
                routes = [
                    {
                        "network": str(r.cidr.network_address),
                        "netmask": str(r.cidr.netmask),
                        "gateway": str(r.gateway),
                    }
                    for r in subnet.routes
                ]
                if subnet.gateway is not None:
                    default = "0.0.0.0" if subnet.version == 4 else "::"
                    routes.insert(
                        0, {"network": default, "netmask": default, "gateway": str(subnet.gateway)}
                    )
                networks.append(
                    {
                        "id": f"network{len(networks)}",
                        "link": link_id,
                        "network_id": str(vif.network.id),
                        "type": "ipv4" if subnet.version == 4 else "ipv6",
                        "ip_address": str(ip.address),
                        "netmask": str(subnet.cidr.netmask),
                        "routes": routes,
                    }
                )
            services.extend({"type": "dns", "address": str(d)} for d in subnet.dns)
    return {"links": links, "networks": networks, "services": services}


def build_config_drive(
    path: Path,
    *,
    meta: dict[str, Any],
    network: dict[str, Any],
    files: Sequence[InjectedFile],
    size_bytes: int,
) -> None:
    """Write the ISO to ``path`` (atomically), padded with zeros to ``size_bytes``.

    Raises:
        ConfigDriveTooLarge: the content needs more than ``size_bytes``.
    """
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident=CONFIG_DRIVE_LABEL)
    made: set[str] = set()

    def add_dirs(file_path: str) -> None:
        parts = file_path.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/" + "/".join(parts[:depth])
            if directory not in made:
                iso.add_directory(
                    directory.upper(), rr_name=parts[depth - 1], joliet_path=directory
                )
                made.add(directory)

    def add(file_path: str, body: bytes) -> None:
        add_dirs(file_path)
        iso.add_fp(
            io.BytesIO(body),
            len(body),
            file_path.upper(),
            rr_name=file_path.rsplit("/", 1)[1],
            joliet_path=file_path,
        )

    add(META_DATA, json.dumps(meta, indent=2, sort_keys=True).encode())
    add(NETWORK_DATA, json.dumps(network, indent=2, sort_keys=True).encode())
    for index, injected in enumerate(files):
        add(f"{_CONTENT_DIR}/{index:04d}", injected.contents)
    buffer = io.BytesIO()
    iso.write_fp(buffer)
    iso.close()
    image = buffer.getvalue()
    if len(image) > size_bytes:
        raise ConfigDriveTooLarge(
            f"config drive: the content needs {len(image)} bytes, the drive holds {size_bytes}"
        )
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(image)
        f.truncate(size_bytes)
    os.replace(tmp, path)


def read_config_drive(path: Path) -> dict[str, bytes]:
    """Every file of a config drive ISO, by Joliet path (for checks and tests)."""
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        found: dict[str, bytes] = {}
        for root, _dirs, names in iso.walk(joliet_path="/"):
            for name in names:
                file_path = f"{root.rstrip('/')}/{name}"
                out = io.BytesIO()
                iso.get_file_from_iso_fp(out, joliet_path=file_path)
                found[file_path] = out.getvalue()
        return found
    finally:
        iso.close()
