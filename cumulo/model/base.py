"""``CumuloObject``: the base class of Cumulo's compute domain objects.

It fixes the namespaces every Cumulo object travels under; the objects
themselves live one concept per module beside it (``flavor``, ``security_group``).
"""

from __future__ import annotations

from cumulo.objects import VersionedObject


class CumuloObject(VersionedObject):
    """Base class of every Cumulo domain object.

    Objects register with :func:`cumulo.objects.register` in the process-wide
    registry under namespace ``"cumulo"``; their primitives use the
    ``cumulo_object.`` key prefix (``cumulo_object.name``, ``.version``, ``.data``...).
    """

    OBJ_PROJECT_NAMESPACE = "cumulo"
    OBJ_SERIAL_NAMESPACE = "cumulo_object"
