"""Which endpoint method serves a request: namespace, version compatibility, and
public methods only."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .exceptions import InvalidTarget, NoSuchMethod, UnsupportedVersion
from .limits import printable
from .target import Target, parse_version, version_is_compatible

DEFAULT_VERSION = "1.0"
"""The version of an endpoint without a target, and of a message without one."""

MAX_CACHED = 1024
"""Most ``(namespace, version, method)`` lookups remembered ("1.0" and "1.00" differ)."""


class Dispatcher:
    """Finds the endpoint method for ``(namespace, version, method)``.

    Each endpoint serves the namespace and version of its ``target`` attribute
    (``Target(version="1.0")`` when it has none). A message is accepted by the
    first endpoint with the same namespace whose version is compatible (same
    major, minor not newer); only public methods can be called.
    """

    def __init__(self, endpoints: Sequence[object]) -> None:
        if not endpoints:
            raise ValueError("an RPC server needs at least one endpoint")
        self._endpoints: list[tuple[str | None, str, object]] = []
        for endpoint in endpoints:
            target = getattr(endpoint, "target", None) or Target()
            if not isinstance(target, Target):
                raise InvalidTarget(
                    f"{type(endpoint).__name__}.target must be a Target, got {target!r}"
                )
            self._endpoints.append((target.namespace, target.version or DEFAULT_VERSION, endpoint))
        self._cache: dict[tuple[str | None, str, str], Callable[..., Any]] = {}
        self._arguments: dict[Callable[..., Any], Arguments] = {}

    def arguments(self, method: Callable[..., Any]) -> Arguments:
        """The named arguments ``method`` takes after the context."""
        found = self._arguments.get(method)
        if found is None:
            found = self._arguments[method] = Arguments(method)
        return found

    def describe(self) -> str:
        return ", ".join(
            f"{type(e).__name__} {v}" + (f" (namespace {ns})" if ns else "")
            for ns, v, e in self._endpoints
        )

    def find(self, namespace: str | None, version: str | None, method: str) -> Callable[..., Any]:
        version = version or DEFAULT_VERSION
        key = (namespace, version, method)
        found = self._cache.get(key)
        if found is not None:
            return found
        parse_version(version)  # a malformed version is the sender's error
        compatible: list[object] = []
        for ns, served, endpoint in self._endpoints:
            if ns != namespace or not version_is_compatible(served, version):
                continue
            compatible.append(endpoint)
            if method.startswith("_") or method == "target":
                continue
            candidate = getattr(endpoint, method, None)
            if candidate is not None and (
                inspect.ismethod(candidate) or inspect.isfunction(candidate)
            ):
                if len(self._cache) < MAX_CACHED:  # keys come off the wire: bounded
                    self._cache[key] = candidate
                return candidate
        if compatible:
            names = sorted(
                {
                    name
                    for endpoint in compatible
                    for name, _ in inspect.getmembers(endpoint, inspect.ismethod)
                    if not name.startswith("_")
                }
            )
            raise NoSuchMethod(
                method,
                f"namespace {namespace}, version {version}; public methods: {', '.join(names)}",
            )
        raise UnsupportedVersion(
            version, method, f"namespace {namespace}; this server serves {self.describe()}"
        )


class Arguments:
    """The arguments an endpoint method takes by name after the context, to check a
    request's before the call (so that a ``TypeError`` raised inside the method is
    never mistaken for the sender's)."""

    __slots__ = ("any_name", "context", "names", "required")

    def __init__(self, method: Callable[..., Any]) -> None:
        params = list(inspect.signature(method).parameters.values())
        self.context: str | None = None
        if params and params[0].kind is not inspect.Parameter.VAR_POSITIONAL:
            self.context = params.pop(0).name  # the context goes first, by position
        by_name = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        self.names = frozenset(p.name for p in params if p.kind in by_name)
        self.required = frozenset(
            p.name for p in params if p.kind in by_name and p.default is inspect.Parameter.empty
        )
        self.any_name = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)

    def problem(self, kwargs: dict[str, Any]) -> str | None:
        """What is wrong with calling the method with ``kwargs``, or None."""
        missing = self.required.difference(kwargs)
        if missing:
            return "missing a required argument: " + ", ".join(repr(n) for n in sorted(missing))
        if self.context is not None and self.context in kwargs:
            return f"got multiple values for argument {self.context!r} (the context)"
        if not self.any_name:
            unexpected = set(kwargs).difference(self.names)
            if unexpected:
                names = sorted(unexpected)
                shown = ", ".join(repr(printable(n, 40)) for n in names[:5])
                more = f" and {len(names) - 5} more" if len(names) > 5 else ""
                return f"got an unexpected keyword argument {shown}{more}"
        return None
