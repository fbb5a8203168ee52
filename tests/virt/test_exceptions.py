"""Driver errors carry primitive attributes, so they survive RPC once allow-listed."""

from __future__ import annotations

import inspect

import pytest

from cumulo.rpc.remote_errors import (
    ExceptionAllowList,
    exception_from_failure,
    failure_from_exception,
)
from cumulo.virt import exceptions
from cumulo.virt.exceptions import (
    InstanceNotFound,
    InsufficientResources,
    InvalidPowerState,
    VirtDriverError,
)

SAMPLES = [
    InsufficientResources("h1", "u1", [("vcpus", 4, 2), ("memory_mb", 8, 1)]),
    InvalidPowerState("u1", "pause", "SHUTDOWN", ["RUNNING"]),
    exceptions.MigrationPreCheckError("u1", "h2", "not enough room"),
    exceptions.VolumeNotAttached("v1", "u1", "/dev/vdb"),
    exceptions.HypervisorUnavailable("h1"),
    exceptions.InjectedFailure("spawn", "h1"),
    exceptions.DiskBusNotSupported("u1", "h1", "nvme", "/dev/nvme0n1", "no hot-unplug"),
]


def test_every_driver_error_derives_from_the_base() -> None:
    classes = [
        obj
        for obj in vars(exceptions).values()
        if inspect.isclass(obj)
        and issubclass(obj, Exception)
        and obj.__module__ == exceptions.__name__
    ]
    assert len(classes) >= 12
    assert all(issubclass(cls, VirtDriverError) for cls in classes)
    assert exceptions.InstanceNotFound is InstanceNotFound  # the model's


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip_through_rpc(error: Exception) -> None:
    allowed = ExceptionAllowList((type(error),))
    rebuilt = exception_from_failure(failure_from_exception(error), allowed)
    assert type(rebuilt) is type(error)
    assert str(rebuilt) == str(error)
    public = {k: v for k, v in vars(error).items() if not k.startswith("_")}
    assert public and all(getattr(rebuilt, k) == v for k, v in public.items())


def test_insufficient_resources_names_the_first_shortage() -> None:
    error = SAMPLES[0]
    assert (error.resource, error.requested, error.free) == ("vcpus", 4, 2)
    assert "memory_mb 8 requested, 1 free" in str(error)
    with pytest.raises(ValueError, match="shortage"):
        InsufficientResources("h1", "u1", [])
