"""Exceptions raised by the versioned-object framework.

Every error the framework raises derives from :class:`ObjectError`, and the ones
about bad input say *where* the bad value was, the way the user reaches it: a
``$.flavor.vcpus`` path into a decoded message, ``Instance.flavor.vcpus`` for an
assignment. The wire's envelope keys are not part of either.
"""

from __future__ import annotations


class ObjectError(Exception):
    """Base class of every error raised by ``cumulo.objects``."""


class ObjectDeclarationError(ObjectError, TypeError):
    """A class declaration is wrong (bad annotation, bad history, bad version)."""


class FieldNotSetError(ObjectError, AttributeError):
    """A field was read before it was set (and it is not lazy-loadable)."""

    def __init__(self, objname: str, field: str) -> None:
        super().__init__(f"{objname}.{field} is not set")
        self.objname = objname
        self.field = field


class FieldValueError(ObjectError, ValueError):
    """A value does not fit the field it was assigned to.

    ``where`` names the field from the object the user started from, for example
    ``Instance.flavor.vcpus`` or ``InstanceList.objects[3].flavor.vcpus``.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{message} - at {where}")
        self.where = where
        self.reason = message


class ReadOnlyFieldError(ObjectError, AttributeError):
    """A read-only field was assigned a second, different value."""

    def __init__(self, objname: str, field: str) -> None:
        super().__init__(f"{objname}.{field} is read-only and already set")
        self.objname = objname
        self.field = field


class LazyLoadError(ObjectError):
    """``obj_load_attr`` did not set the field it was asked to load."""


class DeserializationError(ObjectError, ValueError):
    """A primitive or encoded message could not be turned into objects.

    ``path`` points at the offending value in the decoded objects, for example
    ``$.flavor.vcpus`` or ``$.objects[3].vcpus`` (not at its place in the wire form,
    ``$.versioned_object.data.flavor.versioned_object.data.vcpus``). A bad envelope
    header keeps its key: ``$.flavor.versioned_object.version``.
    """

    def __init__(self, reason: str, path: str = "$") -> None:
        super().__init__(f"{reason} - at {path}")
        self.reason = reason
        self.path = path


class UnsupportedObjectError(DeserializationError):
    """The primitive names an object (or namespace) that is not registered here."""


class IncompatibleObjectVersion(ObjectError):
    """The primitive's version cannot be loaded by this process.

    Raised when the major differs or the minor is newer than the newest registered
    class. The receiver can ask a newer peer (the conductor) to backport.
    """

    def __init__(self, objname: str, objver: str, supported: str) -> None:
        super().__init__(
            f"version {objver} of {objname} is not supported here "
            f"(newest compatible version known: {supported})"
        )
        self.objname = objname
        self.objver = objver
        self.supported = supported


class InvalidTargetVersion(ObjectError, ValueError):
    """A backport was asked for a version the object cannot be expressed at."""


class BackportError(ObjectError, ValueError):
    """A value cannot be represented at the requested (older) version."""


class OrphanedObjectError(ObjectError):
    """A remotable method was called on an object that has no context."""
