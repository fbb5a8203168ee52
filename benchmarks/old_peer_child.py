"""The older peer of ``benchmarks/upgrade_bench.py``: a tiny RPC server run by a
*previous release's* ``cumulo`` (``upgrade.releases.materialize``), not by this tree.

    PYTHONPATH=<release tree> python benchmarks/old_peer_child.py URL TOPIC

It receives Instances with that release's ``ObjectSerializer``, whose indirection is
that release's ``ConductorAPI``: an Instance too new for it is backported by the
conductor, one extra round trip. It prints one JSON line (``ready``, where its
``cumulo`` came from, its object manifest) once it consumes, and serves until its
stdin closes.

Only APIs that release 0.1 has are used here: start it with a working directory
outside this repository so that its ``cumulo`` comes first.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import cumulo
from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.model import Instance
from cumulo.model.base import CumuloObject
from cumulo.rpc import METRICS, ObjectSerializer, RequestContext, RPCServer, Target, get_transport


class OldPeerEndpoint:
    target = Target(version="1.0")

    def receive(self, ctx: RequestContext, instance: Any) -> dict[str, Any]:
        """What this release loaded ``instance`` as (its uuid and object version)."""
        return {
            "uuid": str(instance.uuid),
            "object": type(instance).obj_name(),
            "version": type(instance).VERSION,
        }

    def metrics(self, ctx: RequestContext) -> dict[str, int]:
        """This process's RPC counters (``rpc.object_backports``...)."""
        return METRICS.snapshot()


def manifest() -> dict[str, str]:
    registry = CumuloObject.OBJ_REGISTRY
    return {
        cls.obj_name(): cls.VERSION for cls in registry.classes(CumuloObject.OBJ_PROJECT_NAMESPACE)
    }


def main(url: str, topic: str) -> None:
    transport = get_transport(url)
    conductor = ConductorAPI(transport, timeout=30)
    serializer = ObjectSerializer(CumuloObject, indirection=conductor)
    server = RPCServer(transport, Target(topic, server="old-peer"), [OldPeerEndpoint()], serializer)
    with server:
        ready = {
            "ready": True,
            "pid": os.getpid(),
            "cumulo": os.path.dirname(cumulo.__file__),
            "instance_version": Instance.VERSION,
            "manifest": manifest(),
        }
        print(json.dumps(ready), flush=True)
        sys.stdin.read()
    conductor.close()
    transport.cleanup()


if __name__ == "__main__":
    main(*sys.argv[1:3])
