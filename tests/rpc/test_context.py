"""RequestContext: identity and request id, carried on every message."""

from __future__ import annotations

import threading

import msgspec
import pytest

from cumulo.rpc import PlainSerializer, RequestContext, RPCClient, Target


class ContextProbe:
    def __init__(self) -> None:
        self.cast_ctx: RequestContext | None = None
        self.cast_seen = threading.Event()

    def whoami(self, ctx):
        assert isinstance(ctx, RequestContext)
        return ctx.to_dict()

    def remember(self, ctx):
        self.cast_ctx = ctx
        self.cast_seen.set()


def test_request_ids_are_generated_and_unique():
    a, b = RequestContext(), RequestContext()
    assert a.request_id.startswith("req-") and a.request_id != b.request_id
    assert (a.user_id, a.project_id, a.roles, a.is_admin) == (None, None, [], False)


def test_to_dict_and_from_dict_round_trip():
    ctx = RequestContext(user_id="u", project_id="p", roles=["admin"], is_admin=True)
    assert RequestContext.from_dict(ctx.to_dict()) == ctx


def test_from_dict_ignores_fields_from_newer_peers_and_fills_defaults():
    ctx = RequestContext.from_dict({"user_id": "u", "global_request_id": "req-x"})
    assert ctx.user_id == "u" and ctx.request_id.startswith("req-")


def test_from_dict_names_the_bad_value():
    with pytest.raises(
        msgspec.ValidationError, match=r"Expected `array`, got `str` - at `\$.roles`"
    ):
        RequestContext.from_dict({"roles": "admin"})


def test_elevated_is_an_admin_copy():
    ctx = RequestContext(user_id="u", roles=["member"])
    admin = ctx.elevated()
    assert admin.is_admin and admin.roles == ["member", "admin"]
    assert admin.request_id == ctx.request_id
    assert not ctx.is_admin and ctx.roles == ["member"]


def test_the_context_reaches_the_server_on_calls_and_casts(transport, serve, ctx):
    probe = ContextProbe()
    serve(transport, Target("compute"), [probe])
    client = RPCClient(transport, Target("compute"))
    assert client.call(ctx, "whoami") == ctx.to_dict()
    client.cast(ctx, "remember")
    assert probe.cast_seen.wait(5)
    assert probe.cast_ctx == ctx


def test_a_mapping_is_accepted_as_a_context(transport, serve):
    serve(transport, Target("compute"), [ContextProbe()])
    client = RPCClient(transport, Target("compute"))
    result = client.call({"user_id": "bob", "request_id": "req-1"}, "whoami")
    assert (result["user_id"], result["request_id"]) == ("bob", "req-1")


def test_anything_else_is_refused_before_sending():
    with pytest.raises(TypeError, match="Expected a RequestContext"):
        PlainSerializer().serialize_context(None)
