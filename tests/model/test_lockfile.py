"""The committed cumulo/model/objects.lock.json matches the code.

This is the "forgot to bump" trap: change an object in cumulo/model without the
version bump it needs and this test fails with what changed, the bump it needs
and what to declare. Run `cumulo objects check` for the same report, and
`cumulo objects lock` once the bump is done.
"""

import json

from cumulo import model
from cumulo.objects import REGISTRY, Registry, field, register
from cumulo.objects.lockfile import build_lock, check_lock, dump_lock, read_lock


def test_committed_lockfile_matches_the_code():
    problems = check_lock(REGISTRY, model.NAMESPACE, read_lock(model.LOCKFILE))
    assert not problems, "cumulo/model/objects.lock.json is out of date:\n" + "\n".join(
        f"- {p}" for p in problems
    )


def test_committed_lockfile_is_what_lock_writes():
    # Same content, same formatting: `cumulo objects lock` on a clean tree changes nothing.
    assert model.LOCKFILE.read_text() == dump_lock(build_lock(REGISTRY, model.NAMESPACE))


def test_lockfile_covers_every_model_object():
    names = {cls.obj_name() for cls in REGISTRY.classes(model.NAMESPACE)}
    assert set(json.loads(model.LOCKFILE.read_text())) == names
    assert names >= {"Flavor", "SecurityGroup", "SecurityGroupList", "SecurityGroupRule"}


def test_the_trap_catches_a_field_added_without_a_bump():
    """What a developer sees after adding ComputeNode.pci_slots without touching VERSION
    (an object with one locked version: Flavor has two since 0.3)."""
    registry = Registry()

    @register
    class ComputeNode(model.ComputeNode):
        OBJ_REGISTRY = registry
        pci_slots: int = 0

    problems = [
        p
        for p in check_lock(registry, model.NAMESPACE, read_lock(model.LOCKFILE))
        if p.object == "ComputeNode"
    ]
    assert [p.kind for p in problems] == ["changed-without-bump"]
    assert str(problems[0]) == (
        "ComputeNode 1.0 changed without a version bump: field 'pci_slots' added (int, "
        "default 0). "
        "That needs a minor bump: declare added='1.1' on field 'pci_slots' and set VERSION = '1.1'"
    )


def test_the_trap_accepts_the_declared_bump():
    registry = Registry()

    @register
    class ComputeNode(model.ComputeNode):
        OBJ_REGISTRY = registry
        VERSION = "1.1"
        pci_slots: int = field(default=0, added="1.1")

    problems = [
        p
        for p in check_lock(registry, model.NAMESPACE, read_lock(model.LOCKFILE))
        if p.object == "ComputeNode"
    ]
    assert [(p.kind, p.resolved_by_lock) for p in problems] == [("not-locked", True)]
