"""Where the source of a live migration sends its streams: the destination's
address, the port of the migration stream, and the port serving the destination's
disks over NBD — as any release's destination announced them.

A destination since release 0.2 fills ``LiveMigrateData.migration_port`` and
``nbd_port``, and still writes ``target_connect_addr`` as ``address:port`` with NBD
at port + 1, which is all a release 0.1 destination writes (and all a 0.1 source
reads).
"""

from __future__ import annotations

import dataclasses

from cumulo.model import LiveMigrateData

__all__ = ["MigrationEndpoints", "endpoints_of", "split_host_port", "uri_host"]


@dataclasses.dataclass(frozen=True)
class MigrationEndpoints:
    """The destination of a live migration, as the source reaches it."""

    host: str
    """An address or host name, without brackets."""
    migration_port: int
    nbd_port: int

    @property
    def migration_uri(self) -> str:
        """QEMU's ``migrate`` URI: ``tcp:<host>:<port>``."""
        return f"tcp:{uri_host(self.host)}:{self.migration_port}"


def uri_host(host: str) -> str:
    """``host`` as written before ``:port`` (an IPv6 address gets brackets)."""
    return f"[{host}]" if ":" in host else host


def split_host_port(text: str) -> tuple[str, int | None]:
    """``address:port``, ``[v6]:port``, ``name:port`` → (host, port); an address or
    name alone (``10.0.0.2``, ``::1``, ``[::1]``) → (host, ``None``).

    Raises:
        ValueError: ``text`` is empty, or its port is not a number.
    """
    if not text:
        raise ValueError("expected address:port, got ''")
    if text.startswith("["):
        end = text.find("]")
        if end in (-1, 1):  # no closing bracket, or nothing between
            raise ValueError(f"expected [address]:port, got {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ValueError(f"expected [address]:port, got {text!r}")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        return text, None  # a name, an IPv4 address, or an IPv6 address alone
    if not host or not port_text.isdigit():
        raise ValueError(f"expected address:port with a numeric port, got {text!r}")
    return host, int(port_text)


def endpoints_of(data: LiveMigrateData) -> MigrationEndpoints:
    """The destination's endpoints: ``migration_port`` and ``nbd_port`` when set,
    else the port of ``target_connect_addr`` and that port + 1 (a 0.1 destination).

    Raises:
        ValueError: no address, or no usable port; the message names the fields.
    """
    target = data.target_connect_addr
    if not target:
        raise ValueError(
            "migrate_data.target_connect_addr is not set: the destination's "
            "pre_live_migration did not say where to send the guest"
        )
    try:
        host, target_port = split_host_port(target)
    except ValueError as error:
        raise ValueError(f"migrate_data.target_connect_addr: {error}") from None
    if data.migration_port is not None:
        port, port_from = data.migration_port, "migrate_data.migration_port"
    elif target_port is not None:
        port, port_from = target_port, f"migrate_data.target_connect_addr {target!r}"
    else:
        raise ValueError(
            f"no migration port: migrate_data.migration_port is None and "
            f"migrate_data.target_connect_addr {target!r} has no :port"
        )
    if data.nbd_port is not None:
        nbd_port, nbd_from = data.nbd_port, "migrate_data.nbd_port"
    else:
        nbd_port, nbd_from = port + 1, f"the migration port + 1 ({port_from})"
    for what, value, source in (("migration", port, port_from), ("NBD", nbd_port, nbd_from)):
        if not 0 < value < 65536:
            raise ValueError(f"{what} port {value} from {source}: expected a TCP port 1-65535")
    return MigrationEndpoints(host=host, migration_port=port, nbd_port=nbd_port)
