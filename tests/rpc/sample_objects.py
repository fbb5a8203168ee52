"""Test-only versioned objects in two releases, for the RPC serializer tests.

Two private registries stand for two releases: ``NEW`` (the conductor's: Widget
1.1 holding a Gadget 1.1) and ``OLD`` (an older compute's: both at 1.0), in a
namespace of their own so that they never meet the production objects.
"""

from __future__ import annotations

from typing import Any

from cumulo.objects import Registry, VersionedObject, backport, field, register

NAMESPACE = "cumulo_rpc_test"
SERIAL_NAMESPACE = "cumulo_rpc_test_object"
NEW = Registry()
OLD = Registry()


class NewObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = NAMESPACE
    OBJ_SERIAL_NAMESPACE = SERIAL_NAMESPACE
    OBJ_REGISTRY = NEW


class OldObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = NAMESPACE
    OBJ_SERIAL_NAMESPACE = SERIAL_NAMESPACE
    OBJ_REGISTRY = OLD


@register
class Gadget(NewObject):
    VERSION = "1.1"
    name: str
    size: int = field(default=0, added="1.1")


@register
class Widget(NewObject):
    VERSION = "1.1"
    name: str
    gadget: Gadget | None = None
    color: str = field(default="red", added="1.1")


@register
class OldGadget(OldObject):
    OBJ_NAME = "Gadget"
    VERSION = "1.0"
    name: str


@register
class OldWidget(OldObject):
    OBJ_NAME = "Widget"
    VERSION = "1.0"
    name: str
    gadget: OldGadget | None = None


class Conductor:
    """Backports with the newer classes, as the conductor's object_backport_versions does."""

    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []

    def object_backport_versions(self, ctx: Any, objinst: Any, object_versions: Any) -> Any:
        self.asked.append(dict(object_versions))
        return backport(objinst, object_versions, registry=NEW, base=NewObject)
