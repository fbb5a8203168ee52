"""Fixtures for the RPC unit tests: private ``inproc://`` buses, in both call modes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest

from cumulo.rpc import RequestContext, RPCServer, Serializer, Target, Transport, get_transport


@pytest.fixture(params=["direct", "pool"])
def transport(request: pytest.FixtureRequest) -> Transport:
    """A private inproc:// bus; calls run in the caller's thread or on the server's pool."""
    return get_transport(f"inproc://test-{uuid.uuid4().hex}?calls={request.param}")


@pytest.fixture
def pooled_transport() -> Transport:
    return get_transport(f"inproc://test-{uuid.uuid4().hex}?calls=pool")


@pytest.fixture
def ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


ServeFn = Callable[..., RPCServer]


@pytest.fixture
def serve() -> Iterator[ServeFn]:
    """``serve(transport, target, endpoints, **kwargs)``: a started server, stopped after."""
    servers: list[RPCServer] = []

    def start(
        transport: Transport,
        target: Target,
        endpoints: Sequence[object],
        serializer: Serializer | None = None,
        **kwargs: object,
    ) -> RPCServer:
        server = RPCServer(transport, target, endpoints, serializer, **kwargs)  # type: ignore[arg-type]
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        server.wait()
