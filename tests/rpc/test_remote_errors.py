"""Exceptions raised by endpoints: typed when allow-listed, RemoteError otherwise."""

from __future__ import annotations

import pytest

from cumulo.objects import IncompatibleObjectVersion
from cumulo.rpc import (
    ALLOWED_EXCEPTIONS,
    ExceptionAllowList,
    RemoteError,
    RPCClient,
    Target,
    allow_remote_exception,
)
from cumulo.rpc.remote_errors import exception_from_failure, failure_from_exception


@allow_remote_exception
class InstanceNotFound(Exception):
    """Allow-listed, with a signature of its own and attributes."""

    def __init__(self, instance_uuid: str, host: str) -> None:
        super().__init__(f"Instance {instance_uuid} could not be found on {host}")
        self.instance_uuid = instance_uuid
        self.host = host


class NotAllowed(Exception):
    pass


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


class Raiser:
    def value_error(self, ctx):
        raise ValueError("bad flavor: vcpus must be > 0")

    def key_error(self, ctx):
        return {}["missing"]

    def not_found(self, ctx):
        raise InstanceNotFound("4a3b", "compute-1")

    def not_allowed(self, ctx):
        raise NotAllowed("the secret sauce")

    def incompatible(self, ctx):
        raise IncompatibleObjectVersion("Instance", "2.1", "1.9")

    def unprintable(self, ctx):
        raise Unprintable()


@pytest.fixture
def client(transport, serve):
    serve(transport, Target("compute"), [Raiser()])
    return RPCClient(transport, Target("compute"))


def test_builtin_exceptions_come_back_typed_with_the_remote_message(client, ctx):
    with pytest.raises(ValueError, match="bad flavor: vcpus must be > 0") as err:
        client.call(ctx, "value_error")
    assert type(err.value) is ValueError
    with pytest.raises(KeyError) as err2:
        client.call(ctx, "key_error")
    assert err2.value.args == ("missing",)


def test_allow_listed_classes_come_back_with_their_attributes(client, ctx):
    with pytest.raises(InstanceNotFound) as err:
        client.call(ctx, "not_found")
    exc = err.value
    assert type(exc) is InstanceNotFound
    assert str(exc) == "Instance 4a3b could not be found on compute-1"
    assert (exc.instance_uuid, exc.host) == ("4a3b", "compute-1")


def test_object_errors_are_allow_listed(client, ctx):
    with pytest.raises(IncompatibleObjectVersion) as err:
        client.call(ctx, "incompatible")
    assert (err.value.objname, err.value.objver, err.value.supported) == ("Instance", "2.1", "1.9")


def test_other_classes_become_remote_errors(client, ctx):
    with pytest.raises(RemoteError) as err:
        client.call(ctx, "not_allowed")
    exc = err.value
    assert exc.exc_type == f"{__name__}.NotAllowed"
    assert exc.value == exc.message == "the secret sauce"
    assert str(exc) == f"Remote error: {__name__}.NotAllowed the secret sauce"
    assert "in not_allowed" in exc.traceback and "raise NotAllowed" in exc.traceback


def test_the_remote_traceback_is_attached(client, ctx):
    with pytest.raises(ValueError) as err:
        client.call(ctx, "value_error")
    assert "in value_error" in err.value.remote_traceback  # type: ignore[attr-defined]
    assert any(note.startswith("Remote traceback:") for note in err.value.__notes__)


def test_an_exception_without_a_message_still_crosses(client, ctx):
    with pytest.raises(RemoteError, match="Unprintable"):
        client.call(ctx, "unprintable")


def test_the_allow_list_is_the_callers_choice(transport, serve, ctx):
    serve(transport, Target("strict"), [Raiser()])
    strict = RPCClient(transport, Target("strict"), allowed_exceptions=ExceptionAllowList())
    with pytest.raises(RemoteError) as err:
        strict.call(ctx, "value_error")
    assert err.value.exc_type == "builtins.ValueError"
    lenient = ExceptionAllowList((NotAllowed,))
    assert NotAllowed in lenient and NotAllowed not in ALLOWED_EXCEPTIONS
    with pytest.raises(NotAllowed, match="the secret sauce"):
        RPCClient(transport, Target("strict"), allowed_exceptions=lenient).call(ctx, "not_allowed")


def test_allow_list_registration():
    allowed = ExceptionAllowList()
    with pytest.raises(TypeError, match="only Exception subclasses"):
        allowed.allow(KeyboardInterrupt)  # type: ignore[arg-type]
    allowed.allow(NotAllowed)
    assert allowed.lookup(f"{__name__}.NotAllowed") is NotAllowed
    allowed.forbid(NotAllowed)
    assert allowed.lookup(f"{__name__}.NotAllowed") is None
    assert ALLOWED_EXCEPTIONS.copy().lookup("builtins.ValueError") is ValueError


def test_failure_keeps_only_primitive_args_and_attributes():
    exc = InstanceNotFound("u", "h")
    exc.opaque = object()  # type: ignore[attr-defined]
    failure = failure_from_exception(exc)
    assert failure.type == f"{__name__}.InstanceNotFound"
    assert failure.attrs == {"instance_uuid": "u", "host": "h"}
    weird = failure_from_exception(ValueError(object()))
    assert isinstance(weird.args[0], str) and weird.args[0].startswith("<object")


def test_a_class_that_cannot_be_rebuilt_becomes_a_remote_error():
    class Strict(Exception):
        def __new__(cls, *args):
            raise RuntimeError("no")

    allowed = ExceptionAllowList((Strict,))
    failure = failure_from_exception(ValueError("x"))
    failure.type = f"{Strict.__module__}.{Strict.__qualname__}"
    assert isinstance(exception_from_failure(failure, allowed), RemoteError)
