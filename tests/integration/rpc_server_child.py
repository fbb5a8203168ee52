"""A Cumulo RPC server in a process of its own, for test_rpc_amqp.py.

    python -m tests.integration.rpc_server_child URL TOPIC SERVER

Prints ``READY`` once it consumes, and serves until its stdin closes.
"""

from __future__ import annotations

import os
import sys
import time

from cumulo.rpc import RequestContext, RPCServer, Target, get_transport


class ChildEndpoint:
    target = Target(version="1.1")

    def pid(self, ctx: RequestContext) -> int:
        return os.getpid()

    def whoami(self, ctx: RequestContext) -> dict[str, object]:
        return ctx.to_dict()

    def sleep(self, ctx: RequestContext, seconds: float) -> str:
        time.sleep(seconds)
        return "slept"

    def fail(self, ctx: RequestContext) -> None:
        raise ValueError(f"failed in process {os.getpid()}")


def main(url: str, topic: str, server: str) -> None:
    transport = get_transport(url)
    with RPCServer(transport, Target(topic, server=server), [ChildEndpoint()]):
        print("READY", flush=True)
        sys.stdin.read()
    transport.cleanup()


if __name__ == "__main__":
    main(*sys.argv[1:4])
