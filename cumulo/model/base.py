"""``CumuloObject``: the base class of Cumulo's compute domain objects.

It fixes the namespaces every Cumulo object travels under and holds the few
helpers remotable methods share; the objects themselves live one concept per
module beside it (``instance``, ``flavor``, ``migration``...).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from cumulo.objects import OrphanedObjectError, VersionedObject


class CumuloObject(VersionedObject):
    """Base class of every Cumulo domain object.

    Objects register with :func:`cumulo.objects.register` in the process-wide
    registry under namespace ``"cumulo"``; their primitives use the
    ``cumulo_object.`` key prefix (``cumulo_object.name``, ``.version``, ``.data``...).

    Typing note: mypy reads the private slots that ``cumulo.objects.VersionedObject``
    annotates (``_data``, ``_changed``...) as constructor fields, so constructor
    calls and ``default_factory=SomeObject`` in this package carry a
    ``type: ignore[call-arg]`` / ``[arg-type]``. Strict mypy reports them as unused
    once the framework is fixed; then delete them.
    """

    OBJ_PROJECT_NAMESPACE = "cumulo"
    OBJ_SERIAL_NAMESPACE = "cumulo_object"

    def _require_context(self, action: str) -> Any:
        """The request context, for methods that need one outside ``@remotable``."""
        context = self.obj_context
        if context is None:
            raise OrphanedObjectError(
                f"cannot {action} on {self.obj_name()} without a context "
                "(load it through a remotable method or call obj_set_context)"
            )
        return context

    def _obj_take_stored(self, stored: VersionedObject) -> None:
        """Become what storage returned: copy every field set in ``stored`` (lazy
        fields it did not load keep their current value) and forget all changes."""
        for name in stored.obj_fields():
            if stored.obj_attr_is_set(name):
                setattr(self, name, getattr(stored, name))
        self.obj_reset_changes(recursive=True)


T = TypeVar("T")


def stored(obj: T) -> T:
    """An object (or list of objects) as loaded from storage: no pending changes."""
    if isinstance(obj, VersionedObject):
        obj.obj_reset_changes(recursive=True)
    elif isinstance(obj, list):
        for item in obj:
            stored(item)
    return obj


def as_uuid(value: uuid.UUID | str, what: str = "uuid") -> uuid.UUID:
    """``value`` as a UUID: arguments of remotable methods cross RPC as strings."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: invalid UUID {value!r}") from None


def object_manifest() -> dict[str, str]:
    """``{object name: version}`` of every Cumulo object this process understands
    (what a service records in its ``services`` row)."""
    registry = CumuloObject.OBJ_REGISTRY
    return {
        cls.obj_name(): cls.VERSION for cls in registry.classes(CumuloObject.OBJ_PROJECT_NAMESPACE)
    }
