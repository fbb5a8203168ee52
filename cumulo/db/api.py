"""``SqlStorage``: the :class:`~cumulo.model.storage.Storage` port on a SQL database.

Install it in the conductor with ``set_storage(SqlStorage(create_engine(url)))``.
Every method is one transaction: it commits whole or leaves the database as it
was. Lookups that match nothing and writes that meet a unique key raise the
model's errors (``InstanceNotFound``, ``AlreadyExists``...), so callers over RPC
see the same exception classes as local ones. List queries load the lazy fields
named in ``expected_attrs`` with one query per field, never one per row.

The methods live in ``cumulo/db/queries/``, one module per kind of record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .queries.allocation import AllocationQueries
from .queries.block_device import BlockDeviceQueries
from .queries.compute_node import ComputeNodeQueries
from .queries.flavor import FlavorQueries
from .queries.instance import InstanceQueries
from .queries.instance_action import InstanceActionQueries
from .queries.instance_fault import InstanceFaultQueries
from .queries.migration import MigrationQueries
from .queries.port import PortQueries
from .queries.security_group import SecurityGroupQueries
from .queries.service import ServiceQueries
from .queries.volume import VolumeQueries

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from cumulo.model.storage import Storage


class SqlStorage(
    InstanceQueries,
    FlavorQueries,
    BlockDeviceQueries,
    MigrationQueries,
    ServiceQueries,
    ComputeNodeQueries,
    SecurityGroupQueries,
    InstanceFaultQueries,
    InstanceActionQueries,
    VolumeQueries,
    AllocationQueries,
    PortQueries,
):
    """The objects' storage on SQLite, PostgreSQL or MariaDB (see the module docstring).

    ``engine`` comes from :func:`cumulo.db.engine.create_engine`, on a database
    brought to this release's schema by :func:`cumulo.db.engine.sync`.
    """


if TYPE_CHECKING:

    def _implements_storage(engine: Engine) -> Storage:
        # mypy checks every method of SqlStorage against the Storage protocol here.
        return SqlStorage(engine)
