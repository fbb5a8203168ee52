"""Where the source sends a live migration's streams, from what a destination of
release 0.2 (``migration_port``, ``nbd_port``) or 0.1 (``target_connect_addr``
only, NBD at port + 1) announced. No QEMU needed."""

from __future__ import annotations

import pytest

from cumulo.model import LiveMigrateData
from cumulo.virt.qemu.endpoints import MigrationEndpoints, endpoints_of, split_host_port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.2:4444", ("10.0.0.2", 4444)),
        ("[fd00::2]:4444", ("fd00::2", 4444)),
        ("compute-2:4444", ("compute-2", 4444)),
        ("10.0.0.2", ("10.0.0.2", None)),
        ("fd00::2", ("fd00::2", None)),
        ("[fd00::2]", ("fd00::2", None)),
    ],
)
def test_split_host_port(text: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(text) == expected


@pytest.mark.parametrize(
    "text", ["", "10.0.0.2:", ":4444", "10.0.0.2:x", "[fd00::2", "[]:1", "[::1]x"]
)
def test_split_host_port_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        split_host_port(text)


def test_a_0_2_destination_s_fields_are_used() -> None:
    data = LiveMigrateData(target_connect_addr="10.0.0.2:4444", migration_port=4444, nbd_port=4445)
    assert endpoints_of(data) == MigrationEndpoints("10.0.0.2", 4444, 4445)
    data.nbd_port = 5000  # a destination may serve NBD on any port it says
    assert endpoints_of(data).nbd_port == 5000


def test_the_fields_win_over_target_connect_addr() -> None:
    data = LiveMigrateData(target_connect_addr="10.0.0.2:1", migration_port=4444, nbd_port=4445)
    assert endpoints_of(data) == MigrationEndpoints("10.0.0.2", 4444, 4445)
    data.target_connect_addr = "10.0.0.2"
    assert endpoints_of(data) == MigrationEndpoints("10.0.0.2", 4444, 4445)


def test_a_0_1_destination_gives_only_target_connect_addr() -> None:
    data = LiveMigrateData(target_connect_addr="10.0.0.2:4444")
    assert (data.migration_port, data.nbd_port) == (None, None)
    assert endpoints_of(data) == MigrationEndpoints("10.0.0.2", 4444, 4445)
    data.target_connect_addr = "[fd00::2]:4444"
    target = endpoints_of(data)
    assert target == MigrationEndpoints("fd00::2", 4444, 4445)
    assert target.migration_uri == "tcp:[fd00::2]:4444"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({}, "target_connect_addr is not set"),
        ({"migration_port": 4444}, "target_connect_addr is not set"),
        ({"target_connect_addr": "10.0.0.2"}, "no migration port.*'10.0.0.2' has no :port"),
        ({"target_connect_addr": "10.0.0.2:x"}, "target_connect_addr: expected"),
        ({"target_connect_addr": "10.0.0.2:65535"}, "NBD port 65536 from the migration port"),
        ({"target_connect_addr": "h", "migration_port": 0}, "migration port 0 from .*_port"),
        ({"target_connect_addr": "h:1", "nbd_port": 70000}, "NBD port 70000 from .*nbd_port"),
    ],
)  # fmt: skip
def test_unusable_data_is_refused_naming_the_field(fields: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        endpoints_of(LiveMigrateData(**fields))
