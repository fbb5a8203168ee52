"""A client of a deployment, run with a previous release's ``cumulo`` first on
``PYTHONPATH`` (see ``upgrade/releases.py``), for the upgrade test's first phase,
when the conductor itself is still the old release and current code cannot talk
to it (its objects are too new for the old conductor).

    python old_release_client.py TRANSPORT_URL boot HOST NAME
        -> prints the new instance's uuid once it is ACTIVE

Uses only APIs the oldest supported release has: the conductor as the object
indirection, ``ComputeTaskAPI.build_instances``, ``InstanceAction.get_by_request_id``.
"""

from __future__ import annotations

import sys
import time
import uuid


def main(argv: list[str]) -> int:
    import cumulo
    from cumulo.conductor.rpcapi import ConductorAPI
    from cumulo.conductor.tasks_api import ComputeTaskAPI
    from cumulo.model import (
        Flavor,
        FlavorNotFound,
        Instance,
        InstanceAction,
        InstanceActionNotFound,
    )
    from cumulo.model.base import CumuloObject
    from cumulo.rpc import RequestContext, get_transport

    url, command, *rest = argv
    if command != "boot" or len(rest) != 2:
        print(f"usage: {__doc__}", file=sys.stderr)
        return 2
    host, name = rest
    print(f"old release client: cumulo from {cumulo.__file__}", file=sys.stderr)
    transport = get_transport(url)
    conductor = ConductorAPI(transport, timeout=20)
    CumuloObject.indirection_api = conductor
    tasks = ComputeTaskAPI(transport, timeout=60)
    ctx = RequestContext(user_id="alice", project_id="p1", roles=["member"])
    try:
        conductor.wait_until_ready(ctx, timeout=30)
        try:
            flavor = Flavor.get_by_flavorid(ctx, "m1.old")
        except FlavorNotFound:
            flavor = Flavor(flavorid="m1.old", name="m1.old", memory_mb=1024, vcpus=1, root_gb=5)
            flavor.obj_set_context(ctx)
            flavor.create()
        template = Instance(
            uuid=uuid.uuid4(),
            user_id="alice",
            project_id="p1",
            display_name=name,
            image_ref="8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2",
            flavor=flavor,
        )
        (built,) = tasks.build_instances(ctx, [template], requested_host=host)
        deadline = time.monotonic() + 30
        while True:
            try:
                action = InstanceAction.get_by_request_id(ctx, built.uuid, ctx.request_id)
            except InstanceActionNotFound:
                action = None
            if action is not None and action.finish_time is not None:
                break
            if time.monotonic() > deadline:
                print(f"timed out waiting for {built.uuid} to build", file=sys.stderr)
                return 1
            time.sleep(0.05)
        if action.message is not None:
            print(f"build of {built.uuid} failed: {action.message}", file=sys.stderr)
            return 1
        print(built.uuid)
        return 0
    finally:
        tasks.close()
        conductor.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
