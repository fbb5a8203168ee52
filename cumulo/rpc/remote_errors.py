"""Exceptions across the wire: what a server sends for an exception, and how a
caller turns it back into a typed exception (allow-listed classes) or a
:class:`RemoteError`.

Only classes registered in an :class:`ExceptionAllowList` are rebuilt, looked up
by ``module.qualname``; nothing is imported by a name that came off the wire.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import threading
import traceback
from typing import Any, TypeVar

import msgspec

from cumulo.objects import exceptions as object_exceptions

from . import exceptions as rpc_exceptions
from .exceptions import RemoteError
from .wire import Failure

E = TypeVar("E", bound=type[BaseException])

_PRIMITIVE_ENCODER = msgspec.json.Encoder()


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class ExceptionAllowList:
    """The exception classes a caller rebuilds as themselves when a server raises them."""

    def __init__(self, classes: tuple[type[BaseException], ...] = ()) -> None:
        self._classes: dict[str, type[BaseException]] = {}
        self._lock = threading.Lock()
        for cls in classes:
            self.allow(cls)

    def allow(self, cls: E) -> E:
        """Allow ``cls`` (usable as a class decorator)."""
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            raise TypeError(f"only Exception subclasses can be allow-listed, got {cls!r}")
        with self._lock:
            self._classes[qualified_name(cls)] = cls
        return cls

    def forbid(self, cls: type[BaseException]) -> None:
        with self._lock:
            self._classes.pop(qualified_name(cls), None)

    def lookup(self, name: str) -> type[BaseException] | None:
        return self._classes.get(name)

    def __contains__(self, cls: object) -> bool:
        return isinstance(cls, type) and self._classes.get(qualified_name(cls)) is cls

    def copy(self) -> ExceptionAllowList:
        return ExceptionAllowList(tuple(self._classes.values()))


def _module_exceptions(module: Any) -> tuple[type[BaseException], ...]:
    return tuple(
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == module.__name__
    )


ALLOWED_EXCEPTIONS = ExceptionAllowList(
    _module_exceptions(builtins)
    + _module_exceptions(rpc_exceptions)
    + _module_exceptions(object_exceptions)
)
"""The default allow-list: Python's built-in exceptions, ``cumulo.rpc``'s and
``cumulo.objects``'s. Add a project's own with :func:`allow_remote_exception`."""


def allow_remote_exception(cls: E) -> E:
    """Class decorator: callers rebuild ``cls`` as itself (default allow-list)."""
    return ALLOWED_EXCEPTIONS.allow(cls)


def _is_primitive(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple | dict):
        try:
            _PRIMITIVE_ENCODER.encode(value)
        except (TypeError, ValueError, OverflowError):
            return False
        return True
    return False


def failure_from_exception(exc: BaseException) -> Failure:
    """What a server sends back for ``exc``."""
    cls = type(exc)
    try:
        message = str(exc)
    except Exception:
        message = repr(exc)
    args = [a if _is_primitive(a) else repr(a) for a in exc.args]
    attrs = {
        k: v
        for k, v in getattr(exc, "__dict__", {}).items()
        if not k.startswith("_") and _is_primitive(v)
    }
    text = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    return Failure(
        type=qualified_name(cls), message=message, traceback=text, args=args, attrs=attrs
    )


def exception_from_failure(
    failure: Failure, allowed: ExceptionAllowList = ALLOWED_EXCEPTIONS
) -> BaseException:
    """The exception a caller raises for ``failure``.

    An allow-listed class is rebuilt without running its ``__init__`` (the remote
    one already ran): same ``args`` and public attributes, so ``str()`` gives the
    remote message (``args`` becomes ``(message,)`` when they would not).
    Anything else becomes a :class:`RemoteError`. Either way the remote
    traceback is attached as a note and as ``remote_traceback``.
    """
    cls = allowed.lookup(failure.type)
    exc: BaseException | None = None
    if cls is not None:
        try:
            exc = cls.__new__(cls, *failure.args)
            exc.args = tuple(failure.args)
            for name, value in failure.attrs.items():
                setattr(exc, name, value)
            if str(exc) != failure.message:
                exc.args = (failure.message,)
        except Exception:
            exc = None
    if exc is None:
        exc = RemoteError(failure.type, failure.message, failure.traceback)
    if failure.traceback:
        with contextlib.suppress(AttributeError):  # a class with __slots__
            exc.remote_traceback = failure.traceback  # type: ignore[attr-defined]
        exc.add_note("Remote traceback:\n" + failure.traceback.rstrip())
    return exc
