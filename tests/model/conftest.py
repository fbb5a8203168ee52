"""Fixtures for the model tests: a request context, and a recording Storage double.

The double only checks the object side of the storage contract: what a
remotable method sends to storage and how it applies what comes back. The
database's own behaviour (compare-and-swap, soft delete...) is tested with the
real ``cumulo/db`` implementation.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cumulo.model import CumuloObject, set_storage
from cumulo.objects import reset_lazy_load_counts


@dataclasses.dataclass
class Ctx:
    """Fits ``cumulo.model.storage.Context``."""

    user_id: str | None = "alice"
    project_id: str | None = "p1"
    request_id: str = "req-1"


class RecordingStorage:
    """Any Storage method: records ``(name, args, kwargs)`` and answers from
    ``returns[name]`` (a value, or a callable given the arguments) or raises
    ``raises[name]``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.returns: dict[str, Any] = {}
        self.raises: dict[str, BaseException] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def method(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            if name in self.raises:
                raise self.raises[name]
            value = self.returns.get(name)
            return value(*args, **kwargs) if callable(value) else value

        return method

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]


@pytest.fixture
def ctx() -> Ctx:
    return Ctx()


@pytest.fixture
def storage() -> Iterator[RecordingStorage]:
    double = RecordingStorage()
    previous = set_storage(double)  # type: ignore[arg-type]
    try:
        yield double
    finally:
        set_storage(previous)


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    """No storage, no indirection and fresh lazy-load counts around every test."""
    previous = set_storage(None)
    reset_lazy_load_counts()
    assert CumuloObject.indirection_api is None
    yield
    set_storage(previous)
    CumuloObject.indirection_api = None


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()
