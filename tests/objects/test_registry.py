"""Tests for ``cumulo.objects.registry``: registration and version lookup."""

import threading

import pytest

from cumulo.objects import (
    REGISTRY,
    IncompatibleObjectVersion,
    ObjectDeclarationError,
    Registry,
    UnsupportedObjectError,
    VersionedObject,
    register,
)


def make_base(registry: Registry, namespace: str = "test_xyz") -> type[VersionedObject]:
    class XyzObject(VersionedObject):
        OBJ_PROJECT_NAMESPACE = namespace
        OBJ_SERIAL_NAMESPACE = f"{namespace}_object"
        OBJ_REGISTRY = registry

    return XyzObject


def make_versions(base: type[VersionedObject], name: str, *vers: str) -> dict[str, type]:
    """One class per version, all named ``name`` on the wire."""
    out = {}
    for ver in vers:
        cls = type(
            f"{name}_{ver.replace('.', '_')}",
            (base,),
            {"VERSION": ver, "OBJ_NAME": name, "__module__": __name__},
        )
        out[ver] = cls
    return out


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def base(registry: Registry) -> type[VersionedObject]:
    return make_base(registry)


class TestRegister:
    def test_register_returns_class_and_uses_class_registry(self, registry, base):
        class Flavor(base):
            x: int = 0

        assert register(Flavor) is Flavor
        assert registry.lookup("test_xyz", "Flavor", "1.0") is Flavor
        assert registry.newest("test_xyz", "Flavor") is Flavor

    def test_private_registry_does_not_touch_global(self, base):
        class Private(base):
            pass

        register(Private)
        assert "test_xyz" not in REGISTRY.namespaces()
        with pytest.raises(UnsupportedObjectError):
            REGISTRY.lookup("test_xyz", "Private", "1.0")

    def test_method_register_is_a_decorator(self, registry, base):
        @registry.register
        class Deco(base):
            pass

        assert isinstance(Deco, type)
        assert registry.newest("test_xyz", "Deco") is Deco

    def test_same_class_twice_is_idempotent(self, registry, base):
        class Twice(base):
            pass

        register(Twice)
        register(Twice)
        assert list(registry.classes("test_xyz")) == [Twice]
        assert registry.lookup("test_xyz", "Twice", "1.0") is Twice

    def test_different_class_same_name_and_version_refused(self, registry, base):
        class First(base):
            OBJ_NAME = "Clash"

        class Second(base):
            OBJ_NAME = "Clash"

        register(First)
        with pytest.raises(ObjectDeclarationError) as info:
            register(Second)
        message = str(info.value)
        assert "Clash 1.0 is already registered" in message
        assert "'test_xyz'" in message
        assert "First" in message
        assert registry.lookup("test_xyz", "Clash", "1.0") is First

    def test_same_version_with_patch_level_refused(self, registry, base):
        # "1.0.1" is version 1.0: the .Z is not a separate version.
        classes = make_versions(base, "Patch", "1.0", "1.0.1")
        register(classes["1.0"])
        with pytest.raises(ObjectDeclarationError, match="already registered"):
            register(classes["1.0.1"])

    def test_reloaded_class_replaces_previous(self, registry, base):
        # A module reload makes a new class object with the same module and qualname.
        def define():
            class Reloaded(base):
                pass

            return Reloaded

        old, new = define(), define()
        assert old is not new
        register(old)
        register(new)
        assert registry.lookup("test_xyz", "Reloaded", "1.0") is new
        assert list(registry.classes()) == [new]

    def test_several_versions_of_one_name(self, registry, base):
        classes = make_versions(base, "Multi", "1.1", "1.0", "2.0", "1.3")
        for cls in classes.values():
            register(cls)
        assert registry.newest("test_xyz", "Multi") is classes["2.0"]
        assert list(registry.classes()) == [classes["2.0"]]

    def test_invalid_version_refused_at_registration(self, registry, base):
        bad = make_versions(base, "BadVer", "one.two")["one.two"]
        with pytest.raises(ObjectDeclarationError, match=r"invalid version 'one\.two'"):
            register(bad)
        assert "test_xyz" not in registry.namespaces()

    def test_unregister(self, registry, base):
        classes = make_versions(base, "Gone", "1.0", "1.1")
        for cls in classes.values():
            register(cls)
        registry.unregister(classes["1.1"])
        assert registry.newest("test_xyz", "Gone") is classes["1.0"]
        registry.unregister(classes["1.0"])
        with pytest.raises(UnsupportedObjectError):
            registry.newest("test_xyz", "Gone")
        assert registry.namespaces() == set()
        registry.unregister(classes["1.0"])  # unknown: no error

    def test_concurrent_registration(self, registry, base):
        classes = [type(f"Conc{i}", (base,), {"__module__": __name__}) for i in range(50)]
        threads = [threading.Thread(target=register, args=(c,)) for c in classes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(list(registry.classes())) == 50


class TestLookup:
    @pytest.fixture
    def multi(self, registry, base):
        classes = make_versions(base, "Inst", "1.0", "1.2", "1.5", "2.1")
        for cls in classes.values():
            register(cls)
        return classes

    @pytest.mark.parametrize("ver", ["1.0", "1.2", "1.5", "2.1"])
    def test_exact_version_wins(self, registry, multi, ver):
        assert registry.lookup("test_xyz", "Inst", ver) is multi[ver]

    @pytest.mark.parametrize(
        ("requested", "served_by"),
        [("1.1", "1.5"), ("1.3", "1.5"), ("1.4", "1.5"), ("2.0", "2.1")],
    )
    def test_newest_same_major_with_higher_minor_serves(
        self, registry, multi, requested, served_by
    ):
        assert registry.lookup("test_xyz", "Inst", requested) is multi[served_by]

    def test_patch_level_ignored(self, registry, multi):
        assert registry.lookup("test_xyz", "Inst", "1.2.7") is multi["1.2"]
        assert registry.lookup("test_xyz", "Inst", "1.1.3") is multi["1.5"]

    def test_minor_numbers_compare_as_numbers(self, registry, base):
        classes = make_versions(base, "Big", "1.9", "1.10")
        for cls in classes.values():
            register(cls)
        assert registry.newest("test_xyz", "Big") is classes["1.10"]
        assert registry.lookup("test_xyz", "Big", "1.2") is classes["1.10"]

    @pytest.mark.parametrize("requested", ["1.6", "2.2", "3.0", "0.1"])
    def test_incompatible_versions_raise(self, registry, multi, requested):
        with pytest.raises(IncompatibleObjectVersion) as info:
            registry.lookup("test_xyz", "Inst", requested)
        exc = info.value
        assert exc.objname == "Inst"
        assert exc.objver == requested
        assert exc.supported == "2.1"
        assert f"version {requested} of Inst is not supported" in str(exc)

    def test_newer_minor_than_any_registered_is_incompatible(self, registry, base):
        register(make_versions(base, "Solo", "1.2")["1.2"])
        with pytest.raises(IncompatibleObjectVersion) as info:
            registry.lookup("test_xyz", "Solo", "1.3")
        assert info.value.supported == "1.2"
        assert registry.lookup("test_xyz", "Solo", "1.0").VERSION == "1.2"

    def test_older_major_only_is_incompatible(self, registry, base):
        register(make_versions(base, "Old", "1.4")["1.4"])
        with pytest.raises(IncompatibleObjectVersion):
            registry.lookup("test_xyz", "Old", "2.0")

    def test_unknown_name(self, registry, multi):
        with pytest.raises(UnsupportedObjectError, match="unknown object 'Nope'"):
            registry.lookup("test_xyz", "Nope", "1.0")

    def test_unknown_namespace(self, registry, multi):
        with pytest.raises(UnsupportedObjectError, match="namespace 'other'"):
            registry.lookup("other", "Inst", "1.0")

    def test_invalid_requested_version(self, registry, multi):
        with pytest.raises(ObjectDeclarationError):
            registry.lookup("test_xyz", "Inst", "latest")


class TestNamespaces:
    def test_same_name_in_two_namespaces_does_not_collide(self, registry):
        base_a = make_base(registry, "test_xyz_a")
        base_b = make_base(registry, "test_xyz_b")

        class Thing(base_a):
            VERSION = "1.3"

        thing_a = Thing

        class Thing(base_b):  # same Python name and wire name on purpose
            VERSION = "2.0"

        thing_b = Thing
        register(thing_a)
        register(thing_b)
        assert registry.lookup("test_xyz_a", "Thing", "1.0") is thing_a
        assert registry.lookup("test_xyz_b", "Thing", "2.0") is thing_b
        with pytest.raises(IncompatibleObjectVersion):
            registry.lookup("test_xyz_a", "Thing", "2.0")
        assert registry.namespaces() == {"test_xyz_a", "test_xyz_b"}
        assert list(registry.classes("test_xyz_a")) == [thing_a]
        assert list(registry.classes("test_xyz_b")) == [thing_b]
        assert registry.names("test_xyz_a") == {"Thing": thing_a}

    def test_two_registries_are_independent(self):
        reg1, reg2 = Registry(), Registry()

        class One(make_base(reg1)):
            pass

        register(One)
        assert list(reg1.classes()) == [One]
        assert list(reg2.classes()) == []

    def test_classes_sorted_by_name(self, registry, base):
        for name in ("Zeta", "Alpha", "Mid"):
            register(type(name, (base,), {"__module__": __name__}))
        assert [c.obj_name() for c in registry.classes()] == ["Alpha", "Mid", "Zeta"]

    def test_names_gives_newest(self, registry, base):
        classes = make_versions(base, "N", "1.0", "1.1")
        for cls in classes.values():
            register(cls)
        assert registry.names("test_xyz") == {"N": classes["1.1"]}
        assert registry.names("elsewhere") == {}


class TestDecodeUsesRegistry:
    def test_primitive_from_older_peer_loads_with_newer_class(self, registry, base):
        class Flavor(base):
            VERSION = "1.1"
            x: int = 0

        register(Flavor)
        prim = Flavor(x=3).obj_to_primitive()
        prim["test_xyz_object.version"] = "1.0"
        loaded = Flavor.obj_from_primitive(prim)
        assert type(loaded) is Flavor
        assert loaded.x == 3

    def test_primitive_from_newer_peer_refused(self, registry, base):
        class Flavor(base):
            VERSION = "1.1"
            x: int = 0

        register(Flavor)
        prim = Flavor(x=3).obj_to_primitive()
        prim["test_xyz_object.version"] = "1.2"
        with pytest.raises(IncompatibleObjectVersion) as info:
            Flavor.obj_from_primitive(prim)
        assert (info.value.objver, info.value.supported) == ("1.2", "1.1")
