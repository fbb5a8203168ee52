"""Which endpoint serves a message: versions, namespaces, public methods only."""

from __future__ import annotations

import pytest

from cumulo.rpc import (
    InvalidTarget,
    NoSuchMethod,
    RPCClient,
    Target,
    UnsupportedVersion,
)
from cumulo.rpc.dispatcher import Dispatcher


class ComputeV1:
    target = Target(version="1.2")

    def ping(self, ctx, value):
        return f"v1:{value}"

    def _private(self, ctx):
        return "secret"

    not_callable = "data"


class ComputeV2:
    target = Target(version="2.1")

    def ping(self, ctx, value):
        return f"v2:{value}"


class TaskManager:
    target = Target(version="1.26", namespace="compute_task")

    def ping(self, ctx, value):
        return f"tasks:{value}"

    def build(self, ctx):
        return "built"


@pytest.fixture
def client(transport, serve):
    serve(transport, Target("compute", server="h1"), [ComputeV1(), ComputeV2(), TaskManager()])
    return RPCClient(transport, Target("compute"), timeout=5)


@pytest.mark.parametrize(("version", "expected"), [("1.0", "v1:x"), ("1.2", "v1:x")])
def test_an_endpoint_at_1_2_serves_1_0_and_1_2(client, ctx, version, expected):
    assert client.prepare(version=version).call(ctx, "ping", value="x") == expected


@pytest.mark.parametrize("version", ["1.3", "2.2", "3.0", "0.1"])
def test_newer_minors_and_other_majors_are_refused(client, ctx, version):
    with pytest.raises(UnsupportedVersion) as err:
        client.prepare(version=version).call(ctx, "ping", value="x")
    assert err.value.version == version
    assert err.value.method == "ping"
    assert f"does not support RPC version {version}" in str(err.value)
    assert "ComputeV1 1.2" in str(err.value) and "ComputeV2 2.1" in str(err.value)


def test_two_majors_are_served_by_two_endpoints(client, ctx):
    assert client.prepare(version="2.0").call(ctx, "ping", value="x") == "v2:x"
    assert client.prepare(version="2.1").call(ctx, "ping", value="x") == "v2:x"


def test_a_message_without_version_is_1_0(client, ctx):
    assert client.call(ctx, "ping", value="x") == "v1:x"


def test_namespaces_select_the_endpoint(client, ctx):
    tasks = client.prepare(namespace="compute_task", version="1.20")
    assert tasks.call(ctx, "ping", value="x") == "tasks:x"
    assert tasks.call(ctx, "build") == "built"
    with pytest.raises(UnsupportedVersion, match="namespace other"):
        client.prepare(namespace="other").call(ctx, "ping", value="x")
    with pytest.raises(NoSuchMethod):  # not served in the default namespace
        client.call(ctx, "build")


@pytest.mark.parametrize("method", ["reboot", "_private", "not_callable", "target", "__init__"])
def test_unknown_private_and_non_method_names_are_no_such_method(client, ctx, method):
    with pytest.raises(NoSuchMethod) as err:
        client.call(ctx, method)
    assert err.value.method == method
    message = str(err.value)
    assert f"does not support RPC method {method!r}" in message
    assert message.endswith("public methods: ping)")


def test_bad_arguments_come_back_as_a_typed_type_error(client, ctx):
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        client.call(ctx, "ping", value="x", colour="red")


def test_an_endpoint_target_must_be_a_target():
    class Bad:
        target = "1.0"

    with pytest.raises(InvalidTarget, match=r"Bad.target must be a Target"):
        Dispatcher([Bad()])
    with pytest.raises(ValueError, match="at least one endpoint"):
        Dispatcher([])


def test_an_endpoint_without_target_serves_1_0():
    class Plain:
        def hello(self, ctx):
            return "hi"

    dispatcher = Dispatcher([Plain()])
    assert dispatcher.find(None, None, "hello")(None) == "hi"
    assert dispatcher.find(None, "1.0", "hello")(None) == "hi"
    with pytest.raises(UnsupportedVersion):
        dispatcher.find(None, "1.1", "hello")


def test_a_malformed_message_version_is_refused():
    dispatcher = Dispatcher([ComputeV1()])
    with pytest.raises(InvalidTarget, match="invalid RPC version 'one'"):
        dispatcher.find(None, "one", "ping")


class Shapes:
    def fixed(self, ctx, a, b=2, *, c):
        return a

    def open_ended(self, context, a, **extra):
        return extra

    def raises_type_error(self, ctx):
        raise TypeError("from inside the method")


@pytest.mark.parametrize(
    ("method", "kwargs", "problem"),
    [
        ("fixed", {"a": 1, "c": 3}, None),
        ("fixed", {"a": 1, "b": 1, "c": 3}, None),
        ("fixed", {"a": 1}, "missing a required argument: 'c'"),
        ("fixed", {"a": 1, "c": 3, "d": 4}, "got an unexpected keyword argument 'd'"),
        (
            "fixed",
            {"a": 1, "c": 3, "ctx": 4},
            "got multiple values for argument 'ctx' (the context)",
        ),
        ("open_ended", {"a": 1, "anything": 2}, None),
        (
            "open_ended",
            {"a": 1, "context": 2},
            "got multiple values for argument 'context' (the context)",
        ),
    ],
)
def test_arguments_are_checked_against_the_signature(method, kwargs, problem):
    dispatcher = Dispatcher([Shapes()])
    found = dispatcher.find(None, "1.0", method)
    assert dispatcher.arguments(found).problem(kwargs) == problem


def test_a_type_error_inside_a_method_stays_the_methods(transport, serve, ctx):
    serve(transport, Target("shapes"), [Shapes()])
    client = RPCClient(transport, Target("shapes"), timeout=5)
    with pytest.raises(TypeError, match="from inside the method") as raised:
        client.call(ctx, "raises_type_error")
    assert type(raised.value) is TypeError  # not InvalidArguments: the sender did nothing wrong


def test_the_lookup_cache_is_bounded():
    dispatcher = Dispatcher([Shapes()])
    # "1.0", "1.00", "1.000"... all name version 1.0: a peer could send any number of them.
    for n in range(1, 1100):
        dispatcher.find(None, "1." + "0" * n, "fixed")
    assert len(dispatcher._cache) <= 1024
