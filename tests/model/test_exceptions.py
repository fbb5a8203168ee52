"""Tests of cumulo/model/exceptions.py: messages say which object and what was expected."""

import uuid

import pytest

from cumulo import model
from cumulo.model import (
    AlreadyExists,
    InstanceNotFound,
    NotFound,
    ObjectActionError,
    TaskState,
    UnexpectedDeletingTaskStateError,
    UnexpectedTaskStateError,
    UnexpectedVmStateError,
    VmState,
    VolumeNotFound,
)


def test_not_found_messages():
    vol = uuid.UUID(int=1)
    assert str(VolumeNotFound(id=vol)) == f"volume not found: id={vol}"
    error = InstanceNotFound(uuid="x", host="h")
    assert str(error) == "instance not found: uuid=x, host=h"
    assert error.key == {"uuid": "x", "host": "h"}
    assert isinstance(error, LookupError)


@pytest.mark.parametrize(
    "cls", [getattr(model, n) for n in model.__all__ if n.endswith("NotFound") and n != "NotFound"]
)
def test_every_not_found_is_a_not_found(cls):
    assert issubclass(cls, NotFound)
    assert cls.what != NotFound.what


def test_state_errors():
    error = UnexpectedVmStateError("u1", [VmState.ACTIVE], VmState.STOPPED)
    assert str(error) == (
        "instance u1: expected vm_state in [active], found stopped; "
        "another request changed it first"
    )
    deleting = UnexpectedDeletingTaskStateError("u1", [None], TaskState.DELETING)
    assert isinstance(deleting, UnexpectedTaskStateError)
    assert deleting.expected == (None,)


def test_other_messages():
    assert str(AlreadyExists("flavor", flavorid="m1")) == "flavor already exists: flavorid=m1"
    assert str(ObjectActionError("save migration", "it was never created")) == (
        "cannot save migration: it was never created"
    )
