"""Tests for ``cumulo.objects.remote``: remotable methods and the indirection protocol.

``FakeConductor`` plays both ends of an RPC call: everything crossing it goes
through ``obj_to_primitive``/``serialize_entity`` on the way out and
``obj_from_primitive``/``deserialize_entity`` on the way in, and the "server"
runs the methods with ``run_object_action``/``run_class_action``.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from cumulo.objects import (
    Indirection,
    OrphanedObjectError,
    Registry,
    VersionedObject,
    apply_updates,
    deserialize_entity,
    field,
    register,
    remotable,
    remotable_classmethod,
    run_class_action,
    run_object_action,
    serialize_entity,
)

_REGISTRY = Registry()


class XyzObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "test_xyz"
    OBJ_SERIAL_NAMESPACE = "test_xyz_object"
    OBJ_REGISTRY = _REGISTRY


class Context:
    def __init__(self, user: str) -> None:
        self.user = user


# Which side ran a method body: the fake conductor flips it while it acts as server.
SIDE = {"name": "client"}


@register
class Spec(XyzObject):
    cpus: int = 1


@register
class Server(XyzObject):
    VERSION = "1.2"
    id: int
    name: str = ""
    host: str | None = None
    tags: list[str] = field(default_factory=list)
    spec: Spec | None = None
    saves: int = 0

    ran: ClassVar[list[tuple[str, str, Any]]] = []

    @remotable
    def save(self) -> str:
        """Persist; the 'database' bumps the counter and clears change marks."""
        type(self).ran.append(("save", SIDE["name"], self.obj_context))
        self.saves += 1
        self.host = f"saved-by-{SIDE['name']}"
        self.obj_reset_changes()
        return "ok"

    @remotable
    def rename(self, new_name: str, *, suffix: str = "") -> None:
        """Change the name and leave it marked changed."""
        type(self).ran.append(("rename", SIDE["name"], self.obj_context))
        self.name = new_name + suffix
        self.obj_reset_changes(fields=["tags"])

    @remotable
    def grow(self, spec: Spec, extra_tags: list[str]) -> Spec:
        """Take an object argument; return an object."""
        type(self).ran.append(("grow", SIDE["name"], self.obj_context))
        self.spec = Spec(cpus=spec.cpus * 2)
        self.tags.extend(extra_tags)
        return Spec(cpus=spec.cpus + 1)

    @remotable
    def fail(self) -> None:
        raise RuntimeError("boom on " + SIDE["name"])

    def not_remotable(self) -> None:
        pass

    @remotable_classmethod
    def get_by_id(cls, context: Any, id: int) -> "Server":
        cls.ran.append(("get_by_id", SIDE["name"], context))
        obj = cls(id=id, name=f"server-{id}", spec=Spec(cpus=id))
        obj.obj_reset_changes(recursive=True)
        return obj

    @remotable_classmethod
    def count(cls, context: Any, *, prefix: str = "") -> str:
        cls.ran.append(("count", SIDE["name"], context))
        return f"{prefix}3"

    @remotable_classmethod
    def get_all(cls, context: Any) -> list["Server"]:
        return [cls(id=1), cls(id=2)]


class FakeConductor:
    """An in-process indirection that serializes everything both ways."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @staticmethod
    def _wire(value: Any, context: Any) -> Any:
        return deserialize_entity(serialize_entity(value), context, _REGISTRY, XyzObject)

    def object_action(
        self,
        context: Any,
        objinst: VersionedObject,
        objmethod: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[dict[str, Any], Any]:
        self.calls.append(("object_action", context, objinst.obj_name(), objmethod, args, kwargs))
        primitive = objinst.obj_to_primitive()
        wire_args = serialize_entity(list(args))
        wire_kwargs = serialize_entity(kwargs)
        # --- server side ---
        SIDE["name"] = "server"
        try:
            server_obj = XyzObject.obj_from_primitive(primitive, context=context)
            assert server_obj is not objinst
            updates, result = run_object_action(
                context,
                server_obj,
                objmethod,
                tuple(deserialize_entity(wire_args, context, _REGISTRY, XyzObject)),
                deserialize_entity(wire_kwargs, context, _REGISTRY, XyzObject),
            )
            wire_updates = serialize_entity(updates)
            wire_result = serialize_entity(result)
        finally:
            SIDE["name"] = "client"
        # --- back on the client ---
        return (
            deserialize_entity(wire_updates, context, _REGISTRY, XyzObject),
            deserialize_entity(wire_result, context, _REGISTRY, XyzObject),
        )

    def object_class_action_versions(
        self,
        context: Any,
        objname: str,
        objmethod: str,
        object_versions: Mapping[str, str],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        self.calls.append(("class_action", context, objname, objmethod, dict(object_versions)))
        wire_args = serialize_entity(list(args))
        wire_kwargs = serialize_entity(kwargs)
        SIDE["name"] = "server"
        try:
            cls = _REGISTRY.newest("test_xyz", objname)
            result = run_class_action(
                context,
                cls,
                objmethod,
                tuple(deserialize_entity(wire_args, context, _REGISTRY, XyzObject)),
                deserialize_entity(wire_kwargs, context, _REGISTRY, XyzObject),
            )
            wire_result = serialize_entity(result)
        finally:
            SIDE["name"] = "client"
        # No context on the way back: the remotable wrapper must attach it.
        return deserialize_entity(wire_result, None, _REGISTRY, XyzObject)

    def object_backport_versions(
        self, context: Any, objinst: Any, object_versions: Mapping[str, str]
    ) -> Any:
        raise NotImplementedError


@pytest.fixture(autouse=True)
def _clean_log():
    Server.ran.clear()
    SIDE["name"] = "client"
    yield
    Server.ran.clear()


@pytest.fixture
def conductor(monkeypatch) -> FakeConductor:
    fake = FakeConductor()
    monkeypatch.setattr(XyzObject, "indirection_api", fake)
    return fake


def test_fake_conductor_satisfies_the_protocol():
    assert isinstance(FakeConductor(), Indirection)


class TestLocal:
    def test_body_runs_locally_on_the_same_object(self):
        ctx = Context("alice")
        obj = Server(id=1).obj_set_context(ctx)
        assert obj.save() == "ok"
        assert Server.ran == [("save", "client", ctx)]
        assert obj.saves == 1
        assert obj.host == "saved-by-client"
        assert obj.obj_what_changed() == set()

    def test_arguments_passed_through(self):
        obj = Server(id=1).obj_set_context(Context("a"))
        obj.rename("web", suffix="-1")
        assert obj.name == "web-1"

    def test_exceptions_propagate(self):
        obj = Server(id=1).obj_set_context(Context("a"))
        with pytest.raises(RuntimeError, match="boom on client"):
            obj.fail()

    def test_orphaned_object_refused(self):
        obj = Server(id=1)
        with pytest.raises(OrphanedObjectError, match=r"Server\.save\(\)"):
            obj.save()
        assert Server.ran == []
        assert obj.saves == 0

    def test_classmethod_runs_locally_and_result_gets_context(self):
        ctx = Context("bob")
        obj = Server.get_by_id(ctx, 4)
        assert Server.ran == [("get_by_id", "client", ctx)]
        assert obj.id == 4
        assert obj.obj_context is ctx
        assert obj.spec.obj_context is ctx
        assert obj.save() == "ok"  # usable for further remotable calls

    def test_classmethod_non_object_result(self):
        assert Server.count(Context("c"), prefix="n=") == "n=3"

    def test_classmethod_list_result_gets_context(self):
        ctx = Context("d")
        result = Server.get_all(ctx)
        assert [o.obj_context for o in result] == [ctx, ctx]

    def test_wrappers_keep_names_and_docs(self):
        assert Server.save.__name__ == "save"
        assert "Persist" in Server.save.__doc__
        assert Server.get_by_id.__name__ == "get_by_id"


class TestIndirection:
    def test_body_runs_on_the_server_not_locally(self, conductor):
        ctx = Context("alice")
        obj = Server(id=1).obj_set_context(ctx)
        assert obj.save() == "ok"
        assert [(name, side) for name, side, _ in Server.ran] == [("save", "server")]
        assert Server.ran[0][2] is ctx
        assert conductor.calls[0][:4] == ("object_action", ctx, "Server", "save")

    def test_updates_applied_and_change_marks_reset(self, conductor):
        obj = Server(id=1, name="n").obj_set_context(Context("a"))
        assert "name" in obj.obj_what_changed()
        obj.save()
        assert obj.saves == 1
        assert obj.host == "saved-by-server"
        assert obj.obj_what_changed() == set()

    def test_change_marks_follow_the_server(self, conductor):
        obj = Server(id=1).obj_set_context(Context("a"))
        obj.obj_reset_changes()
        obj.tags.append("t")
        obj.rename("web", suffix="-2")
        assert obj.name == "web-2"
        # the server reset "tags" and changed "name"
        assert obj.obj_what_changed() == {"name"}
        assert conductor.calls[0][4:] == (("web",), {"suffix": "-2"})

    def test_object_arguments_and_results_round_trip(self, conductor):
        ctx = Context("a")
        obj = Server(id=1, tags=["a"]).obj_set_context(ctx)
        obj.obj_reset_changes(recursive=True)
        result = obj.grow(Spec(cpus=3), ["b", "c"])
        assert isinstance(result, Spec)
        assert result.cpus == 4
        assert result.obj_context is ctx
        assert isinstance(obj.spec, Spec)
        assert obj.spec.cpus == 6
        assert obj.tags == ["a", "b", "c"]
        assert obj.obj_what_changed() == {"spec", "tags"}

    def test_applied_values_are_checked_and_tracked(self, conductor):
        obj = Server(id=1, tags=["a"]).obj_set_context(Context("a"))
        obj.grow(Spec(cpus=1), ["b"])
        obj.obj_reset_changes(recursive=True)
        obj.tags.append("z")
        assert obj.obj_what_changed() == {"tags"}
        obj.obj_reset_changes()
        obj.spec.cpus = 9
        assert obj.obj_what_changed() == {"spec"}

    def test_unchanged_fields_not_sent_back(self, conductor, monkeypatch):
        seen = {}
        original = FakeConductor.object_action

        def spy(self, *args, **kwargs):
            updates, result = original(self, *args, **kwargs)
            seen.update(updates)
            return updates, result

        monkeypatch.setattr(FakeConductor, "object_action", spy)
        obj = Server(id=1, name="x", tags=["a"]).obj_set_context(Context("a"))
        obj.save()
        assert set(seen) == {"saves", "host", "obj_what_changed"}
        assert seen["obj_what_changed"] == []

    def test_server_exception_propagates_and_nothing_applied(self, conductor):
        obj = Server(id=1).obj_set_context(Context("a"))
        with pytest.raises(RuntimeError, match="boom on server"):
            obj.fail()
        assert obj.saves == 0

    def test_orphaned_object_refused_without_calling_conductor(self, conductor):
        with pytest.raises(OrphanedObjectError):
            Server(id=1).save()
        assert conductor.calls == []

    def test_classmethod_goes_through_conductor_with_manifest(self, conductor):
        ctx = Context("bob")
        obj = Server.get_by_id(ctx, 7)
        assert [(name, side) for name, side, _ in Server.ran] == [("get_by_id", "server")]
        kind, call_ctx, objname, method, manifest = conductor.calls[0]
        assert (kind, call_ctx, objname, method) == ("class_action", ctx, "Server", "get_by_id")
        assert manifest == {"Server": "1.2", "Spec": "1.0"}
        assert manifest == Server.obj_tree_get_versions()
        assert isinstance(obj, Server)
        assert (obj.id, obj.name, obj.spec.cpus) == (7, "server-7", 7)
        assert obj.obj_what_changed() == set()

    def test_classmethod_result_gets_context(self, conductor):
        ctx = Context("carol")
        obj = Server.get_by_id(ctx, 2)
        assert obj.obj_context is ctx
        assert obj.spec.obj_context is ctx
        obj.name = "renamed"
        obj.save()  # the context makes it usable for instance calls
        assert obj.host == "saved-by-server"

    def test_classmethod_kwargs_and_plain_results(self, conductor):
        assert Server.count(Context("c"), prefix="n=") == "n=3"
        assert Server.ran[0][1] == "server"


class TestServerSide:
    def test_run_object_action_reports_changed_fields(self):
        ctx = Context("s")
        obj = Server(id=1, name="a")
        obj.obj_reset_changes()
        updates, result = run_object_action(ctx, obj, "rename", ("b",), {})
        assert result is None
        assert updates == {"name": "b", "obj_what_changed": ["name"]}
        assert obj.obj_context is ctx
        assert Server.ran == [("rename", "client", ctx)]

    def test_run_object_action_reports_newly_set_fields(self):
        obj = Server(id=1)
        del obj.host
        updates, _ = run_object_action(Context("s"), obj, "save", (), {})
        assert updates["host"] == "saved-by-client"
        assert updates["saves"] == 1

    def test_run_object_action_runs_locally_even_with_indirection(self, conductor):
        obj = Server(id=1)
        run_object_action(Context("s"), obj, "save", (), {})
        assert conductor.calls == []
        assert obj.saves == 1

    def test_run_object_action_refuses_non_remotable(self):
        with pytest.raises(AttributeError, match="no remotable method 'not_remotable'"):
            run_object_action(Context("s"), Server(id=1), "not_remotable", (), {})
        with pytest.raises(AttributeError, match="no remotable method 'missing'"):
            run_object_action(Context("s"), Server(id=1), "missing", (), {})

    def test_run_class_action(self, conductor):
        ctx = Context("s")
        obj = run_class_action(ctx, Server, "get_by_id", (5,), {})
        assert conductor.calls == []
        assert obj.id == 5
        assert obj.obj_context is ctx

    def test_run_class_action_refuses_non_remotable(self):
        with pytest.raises(AttributeError, match="no remotable classmethod 'obj_name'"):
            run_class_action(Context("s"), Server, "obj_name", (), {})


class TestApplyUpdates:
    def test_values_applied_without_marking(self):
        obj = Server(id=1)
        obj.obj_reset_changes()
        apply_updates(obj, {"name": "x", "tags": ("a",)})
        assert obj.name == "x"
        assert obj.tags == ["a"]
        assert obj.obj_what_changed() == set()

    def test_change_marks_replaced(self):
        obj = Server(id=1)
        apply_updates(obj, {"host": "h", "obj_what_changed": ["host", "unknown_field"]})
        assert obj.obj_what_changed() == {"host"}

    def test_unknown_fields_ignored(self):
        obj = Server(id=1)
        obj.obj_reset_changes()
        apply_updates(obj, {"added_in_1_9": 5, "name": "y"})
        assert obj.name == "y"
        assert not hasattr(obj, "added_in_1_9")

    def test_values_checked(self):
        obj = Server(id=1)
        with pytest.raises(ValueError, match=r"Server\.saves"):
            apply_updates(obj, {"saves": "many"})
