"""A stand-in compute process for the conductor tests: no database layer at all.

It refuses to import ``cumulo.db`` or SQLAlchemy, sets its objects' indirection
to the conductor over RabbitMQ, runs the object workload named on the command
line, and prints what it saw as one JSON line.

    python compute_client_child.py TRANSPORT_URL INSTANCE_UUID
"""

from __future__ import annotations

import importlib.abc
import json
import sys
from typing import Any


class _NoDatabase(importlib.abc.MetaPathFinder):
    """A compute host cannot import the database layer: importing it fails."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "cumulo.db" or fullname.startswith(("cumulo.db.", "sqlalchemy")):
            raise ImportError(f"{fullname} may not be imported by a compute process")
        return None


sys.meta_path.insert(0, _NoDatabase())


def main() -> None:
    from cumulo.conductor.rpcapi import ConductorAPI
    from cumulo.model import Instance, InstanceList
    from cumulo.model.base import CumuloObject
    from cumulo.model.exceptions import UnexpectedTaskStateError
    from cumulo.model.states import TaskState
    from cumulo.objects import lazy_load_counts
    from cumulo.rpc import RequestContext, get_transport

    transport_url, instance_uuid = sys.argv[1], sys.argv[2]
    api = ConductorAPI(get_transport(transport_url), timeout=20)
    CumuloObject.indirection_api = api
    ctx = RequestContext(user_id="compute", project_id="p1", request_id="req-child-1")
    api.wait_until_ready(ctx, timeout=60)
    seen: dict[str, Any] = {}

    instance = Instance.get_by_uuid(ctx, instance_uuid)
    seen["host_before"] = instance.host
    instance.host = "host-b"
    instance.save()
    seen["changes_after_save"] = sorted(instance.obj_what_changed())

    # Two writers: the first compare-and-swap wins, the second is told it lost.
    first = Instance.get_by_uuid(ctx, instance_uuid)
    second = Instance.get_by_uuid(ctx, instance_uuid)
    first.task_state = TaskState.SPAWNING
    first.save(expected_task_state=None)
    second.task_state = TaskState.DELETING
    try:
        second.save(expected_task_state=None)
        seen["conflict"] = None
    except UnexpectedTaskStateError as exc:
        seen["conflict"] = [type(exc).__name__, str(exc)]

    seen["on_host_b"] = sorted(str(i.uuid) for i in InstanceList.get_by_host(ctx, "host-b"))
    lazy = Instance.get_by_uuid(ctx, instance_uuid)
    seen["flavor_name"] = lazy.flavor.name
    seen["lazy_loads"] = lazy_load_counts().get(("Instance", "flavor"), 0)
    seen["db_imported"] = [m for m in sys.modules if m.startswith(("cumulo.db", "sqlalchemy"))]
    try:
        import cumulo.db  # noqa: F401

        seen["db_import_refused"] = False
    except ImportError:
        seen["db_import_refused"] = True
    print(json.dumps(seen), flush=True)
    api.close()


if __name__ == "__main__":
    main()
