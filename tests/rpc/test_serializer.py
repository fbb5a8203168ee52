"""ObjectSerializer: versioned objects across RPC, and backports through the indirection."""

from __future__ import annotations

import pytest

from cumulo.objects import IncompatibleObjectVersion, backport
from cumulo.rpc import METRICS, ObjectSerializer, RequestContext, RPCClient, RPCServer, Target

from .sample_objects import (
    NEW,
    SERIAL_NAMESPACE,
    Conductor,
    Gadget,
    NewObject,
    OldGadget,
    OldObject,
    OldWidget,
    Widget,
)


class WidgetFactory:
    """The newer side's endpoint."""

    def make(self, ctx, name):
        return Widget(name=name, gadget=Gadget(name=f"{name}-g", size=3), color="blue")

    def make_many(self, ctx, names):
        return {"widgets": [self.make(ctx, n) for n in names], "count": len(names)}

    def rename(self, ctx, widget, name):
        assert isinstance(widget, Widget) and widget.obj_context is ctx
        widget.name = name
        return widget

    def context_of(self, ctx, widget):
        return widget.obj_context.to_dict()


@pytest.fixture
def new_server(transport, serve):
    return serve(transport, Target("widgets"), [WidgetFactory()], ObjectSerializer(NewObject))


def new_client(transport) -> RPCClient:
    return RPCClient(transport, Target("widgets"), serializer=ObjectSerializer(NewObject))


def test_objects_round_trip_as_arguments_and_results(transport, new_server, ctx):
    client = new_client(transport)
    widget = client.call(ctx, "make", name="w1")
    assert isinstance(widget, Widget)
    assert (widget.name, widget.color, widget.gadget.size) == ("w1", "blue", 3)
    renamed = client.call(ctx, "rename", widget=widget, name="w2")
    assert renamed.name == "w2" and renamed.gadget == widget.gadget
    assert renamed.obj_what_changed() >= {"name"}


def test_received_objects_carry_the_context(transport, new_server, ctx):
    client = new_client(transport)
    widget = client.call(ctx, "make", name="w1")
    assert widget.obj_context is ctx
    assert client.call(ctx, "context_of", widget=widget)["request_id"] == ctx.request_id


def test_objects_inside_lists_and_dicts(transport, new_server, ctx):
    result = new_client(transport).call(ctx, "make_many", names=["a", "b"])
    assert result["count"] == 2
    assert [w.name for w in result["widgets"]] == ["a", "b"]
    assert all(isinstance(w, Widget) for w in result["widgets"])


def test_an_older_peer_gets_too_new_objects_backported(transport, new_server, ctx):
    conductor = Conductor()
    before = METRICS.get("rpc.object_backports")
    old = RPCClient(
        transport,
        Target("widgets"),
        serializer=ObjectSerializer(OldObject, indirection=conductor),
    )
    widget = old.call(ctx, "make", name="w1")
    assert isinstance(widget, OldWidget) and isinstance(widget.gadget, OldGadget)
    assert widget.name == "w1" and widget.gadget.name == "w1-g"
    assert not hasattr(widget, "color")
    assert conductor.asked == [{"Widget": "1.0", "Gadget": "1.0"}]
    assert METRICS.get("rpc.object_backports") == before + 1


def test_each_too_new_object_in_a_container_is_backported(transport, new_server, ctx):
    conductor = Conductor()
    before = METRICS.get("rpc.object_backports")
    old = RPCClient(
        transport, Target("widgets"), serializer=ObjectSerializer(OldObject, indirection=conductor)
    )
    result = old.call(ctx, "make_many", names=["a", "b", "c"])
    assert [type(w) for w in result["widgets"]] == [OldWidget] * 3
    assert METRICS.get("rpc.object_backports") == before + 3


def test_without_an_indirection_the_incompatibility_is_raised(transport, new_server, ctx):
    old = RPCClient(transport, Target("widgets"), serializer=ObjectSerializer(OldObject))
    with pytest.raises(IncompatibleObjectVersion, match=r"version 1.1 of Widget"):
        old.call(ctx, "make", name="w1")


def test_the_base_class_indirection_api_is_used_by_default(transport, new_server, ctx):
    conductor = Conductor()
    OldObject.indirection_api = conductor  # type: ignore[assignment]
    try:
        old = RPCClient(transport, Target("widgets"), serializer=ObjectSerializer(OldObject))
        assert isinstance(old.call(ctx, "make", name="w1"), OldWidget)
    finally:
        OldObject.indirection_api = None
    assert len(conductor.asked) == 1


def test_an_older_server_backports_what_a_newer_client_sends(transport, serve, ctx):
    class OldEndpoint:
        def describe(self, ctx, widget):
            assert isinstance(widget, OldWidget)
            return f"{widget.name}/{widget.gadget.name}"

    conductor = Conductor()
    serve(
        transport,
        Target("old"),
        [OldEndpoint()],
        ObjectSerializer(OldObject, indirection=conductor),
    )
    client = RPCClient(transport, Target("old"), serializer=ObjectSerializer(NewObject))
    widget = Widget(name="w", gadget=Gadget(name="g", size=1))
    assert client.call(ctx, "describe", widget=widget) == "w/g"
    assert conductor.asked == [{"Widget": "1.0", "Gadget": "1.0"}]


def test_the_indirection_can_be_a_conductor_over_rpc(transport, serve, new_server, ctx):
    # The real shape: the old side's indirection is an RPC client of the conductor.
    class ConductorEndpoint:
        def object_backport_versions(self, ctx, objinst, object_versions):
            return backport(objinst, object_versions, registry=NEW, base=NewObject)

    serve(transport, Target("conductor"), [ConductorEndpoint()])

    class ConductorAPI:
        def __init__(self) -> None:
            self.client = RPCClient(transport, Target("conductor"))

        def object_backport_versions(self, ctx, objinst, object_versions):
            return self.client.call(
                ctx, "object_backport_versions", objinst=objinst, object_versions=object_versions
            )

    old = RPCClient(
        transport,
        Target("widgets"),
        serializer=ObjectSerializer(OldObject, indirection=ConductorAPI()),
    )
    assert old.call(ctx, "make", name="w9").gadget.name == "w9-g"


def test_serializer_entities_directly():
    serializer = ObjectSerializer(NewObject)
    ctx = RequestContext()
    primitive = serializer.serialize_entity(ctx, {"w": [Widget(name="x")]})
    assert primitive["w"][0][f"{SERIAL_NAMESPACE}.name"] == "Widget"
    assert serializer.deserialize_entity(ctx, primitive)["w"][0] == Widget(name="x")
    assert serializer.deserialize_entity(ctx, {"plain": [1, "two"]}) == {"plain": [1, "two"]}
    assert serializer.deserialize_context(serializer.serialize_context(ctx)) == ctx


def test_rpcserver_accepts_the_serializer_positionally(transport):
    server = RPCServer(transport, Target("x"), [WidgetFactory()], ObjectSerializer(NewObject))
    assert isinstance(server.serializer, ObjectSerializer)
