"""Tests of cumulo/objects/lockfile.py: building, writing and checking the lockfile.

Each scenario declares a "released" set of classes, locks it, then declares the
next revision of the code in a fresh registry and checks it against that lock.
"""

import enum
import json
from collections.abc import Callable
from typing import Any

import pytest

from cumulo.objects import Registry, VersionedObject, field, register, remotable
from cumulo.objects.fingerprint import FORMAT, fingerprint, remotable_added
from cumulo.objects.lockfile import (
    LockfileError,
    Problem,
    build_lock,
    check_lock,
    dump_lock,
    read_lock,
    write_lock,
)

NS = "locktest"


class State(enum.StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    SHELVED = "shelved"


def revision(*declare: Callable[[type[VersionedObject]], Any]) -> Registry:
    """A fresh registry with the classes that each ``declare(base)`` registers."""
    registry = Registry()

    class Base(VersionedObject):
        OBJ_PROJECT_NAMESPACE = NS
        OBJ_SERIAL_NAMESPACE = "locktest_object"
        OBJ_REGISTRY = registry

    for fn in declare:
        fn(Base)
    return registry


def thing_v1_2(base: type[VersionedObject]) -> None:
    @register
    class Thing(base):  # type: ignore[valid-type,misc]
        VERSION = "1.2"
        id: int
        swap: int = field(default=0, added="1.1")
        state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

        @remotable
        def save(self):
            return None


def other_v1_0(base: type[VersionedObject]) -> None:
    @register
    class Other(base):  # type: ignore[valid-type,misc]
        name: str


@pytest.fixture
def released() -> dict[str, Any]:
    return build_lock(revision(thing_v1_2, other_v1_0), NS)


def check(lock: dict[str, Any], *declare: Callable[[type[VersionedObject]], Any]) -> list[Problem]:
    return check_lock(revision(*declare), NS, lock)


def messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


# --- the lock itself --------------------------------------------------------------------------


def test_lock_records_every_version(released):
    assert sorted(released) == ["Other", "Thing"]
    assert list(released["Thing"]) == ["1.0", "1.1", "1.2"]
    entry = released["Thing"]["1.1"]
    assert entry["fingerprint"].startswith("1.1-")
    assert list(entry["schema"]["fields"]) == ["id", "swap", "state"]
    assert entry["schema"]["fields"]["state"]["type"]["values"] == ["active", "stopped"]


def test_unchanged_code_has_no_problems(released):
    assert check(released, thing_v1_2, other_v1_0) == []


def test_write_and_read_round_trip(tmp_path):
    registry = revision(thing_v1_2, other_v1_0)
    path = tmp_path / "objects.lock.json"
    written = write_lock(path, registry, NS)
    assert read_lock(path) == written
    text = path.read_text()
    assert text.endswith("}\n")
    assert text == dump_lock(json.loads(text))  # stable: writing again changes nothing
    assert check_lock(registry, NS, read_lock(path)) == []


def test_dump_orders_versions_numerically():
    lock = {
        "A": {"1.10": {"fingerprint": "x", "schema": {}}, "1.2": {"fingerprint": "y", "schema": {}}}
    }
    assert list(json.loads(dump_lock(lock))["A"]) == ["1.2", "1.10"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist: run `cumulo objects lock`"),
        ("{", "is not valid JSON"),
        ("[]", "expected an object of objects"),
        ('{"A": 1}', "'A' is not an object of versions"),
        (
            '{"A": {"1.0": {"fingerprint": "x"}}}',
            "needs a version key with 'fingerprint' and 'schema'",
        ),
        ('{"A": {"one": {"fingerprint": "x", "schema": {}}}}', "needs a version key"),
    ],
)
def test_read_lock_refuses_what_is_not_a_lockfile(tmp_path, content, message):
    path = tmp_path / "objects.lock.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LockfileError, match=message.replace("(", r"\(").replace("`", ".")):
        read_lock(path)


# --- changes without a bump -------------------------------------------------------------------


def test_forgot_to_bump_a_new_field(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            swap: int = field(default=0, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})
            host: str | None = field(default=None, added="1.2")

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert problem.kind == "changed-without-bump"
    assert problem.object == "Thing"
    assert not problem.resolved_by_lock
    assert str(problem) == (
        "Thing 1.2 changed without a version bump: field 'host' added (str | None, default null). "
        "That needs a minor bump: declare added='1.3' on field 'host' and set VERSION = '1.3'"
    )


def test_forgot_to_bump_and_to_declare_added_also_rewrites_history(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            swap: int = field(default=0, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})
            host: str | None = None

            @remotable
            def save(self):
                return None

    problems = check(released, thing, other_v1_0)
    assert [p.kind for p in problems] == ["changed-without-bump", "history-rewritten"]
    assert "declare added='1.3' on field 'host' and set VERSION = '1.3'" in str(problems[0])
    assert str(problems[1]) == (
        "history of Thing 1.0, 1.1 was rewritten: field 'host' added (str | None, default null). "
        "declare added='1.3' on field 'host'"
    )


def test_following_the_advice_leaves_only_the_lock_to_update(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.3"
            id: int
            swap: int = field(default=0, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})
            host: str | None = field(default=None, added="1.3")

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert problem.kind == "not-locked"
    assert problem.resolved_by_lock
    assert str(problem) == (
        "Thing 1.3 is not in the lockfile yet (changes since 1.2: field 'host' added "
        "(str | None, default null)): run `cumulo objects lock`"
    )
    relocked = build_lock(revision(thing, other_v1_0), NS)
    assert check(relocked, thing, other_v1_0) == []
    for version in ("1.0", "1.1", "1.2"):  # history kept
        assert relocked["Thing"][version] == released["Thing"][version]


def test_breaking_change_without_bump_needs_a_major(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: str
            swap: int = field(default=0, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    problems = check(released, thing, other_v1_0)
    assert problems[0].kind == "changed-without-bump"
    assert str(problems[0]) == (
        "Thing 1.2 changed without a version bump: field 'id' changed type from int to str. "
        "That needs a major bump: set VERSION = '2.0'"
    )
    # The type holds for every version, and the current version's problem says so already.
    assert len(problems) == 1


def test_minor_bump_for_a_breaking_change_is_too_small(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.3"
            id: int
            swap: int = field(default=0, added="1.1", read_only=True)
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert problem.kind == "bump-too-small"
    assert str(problem) == (
        "Thing went from 1.2 to 1.3, but field 'swap' is now read-only: that is not backward "
        "compatible and needs a major bump: set VERSION = '2.0'"
    )


def test_removed_field_needs_a_major_and_keeps_its_history(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    problems = check(released, thing, other_v1_0)
    assert str(problems[0]) == (
        "Thing 1.2 changed without a version bump: field 'swap' removed. That needs a major "
        "bump: keep field 'swap' declared with removed='2.0' to keep its history and "
        "set VERSION = '2.0'"
    )
    assert problems[1].kind == "history-rewritten"
    assert "history of Thing 1.1 was rewritten: field 'swap' removed" in str(problems[1])


def test_a_new_major_only_needs_the_lock(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "2.0"
            id: str
            swap: int = field(default=0, added="1.1", removed="2.0")

    (problem,) = check(released, thing, other_v1_0)
    assert (problem.kind, str(problem)) == (
        "not-locked",
        "Thing is now 2.0, a new major version; the lockfile still records Thing 1.0, 1.1, "
        "1.2: run `cumulo objects lock`",
    )


def test_a_version_cannot_go_back(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.1"
            id: int
            swap: int = field(default=0, added="1.1")
            state: State = State.ACTIVE

            @remotable
            def save(self):
                return None

    problems = check(released, thing, other_v1_0)
    assert [p.kind for p in problems] == ["version-went-back"]
    assert "VERSION is 1.1 but the lockfile already records Thing 1.2" in str(problems[0])


# --- defaults and other details that hold for every version ---------------------------------------


def test_default_change_without_bump_is_minor(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            swap: int = field(default=512, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert str(problem) == (
        "Thing 1.2 changed without a version bump: default of field 'swap' changed from 0 to 512. "
        "That needs a minor bump: set VERSION = '1.3'"
    )


def test_default_change_with_a_bump_does_not_report_history(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.3"
            id: int
            swap: int = field(default=512, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert problem.kind == "not-locked"
    assert "changes since 1.2: default of field 'swap' changed from 0 to 512" in str(problem)


# --- history -------------------------------------------------------------------------------------


def test_moving_added_rewrites_history(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            swap: int = field(default=0, added="1.2")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert (problem.kind, str(problem)) == (
        "history-rewritten",
        "history of Thing 1.1 was rewritten: field 'swap' removed. declare added='1.1' on field "
        "'swap'",
    )


def test_new_enum_value_without_values_added(released):
    def thing(base):
        class Bigger(enum.StrEnum):
            ACTIVE = "active"
            STOPPED = "stopped"
            SHELVED = "shelved"
            RESCUED = "rescued"

        @register
        class Thing(base):
            VERSION = "1.3"
            id: int
            swap: int = field(default=0, added="1.1")
            state: Bigger = field(default=Bigger.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    problems = check(released, thing, other_v1_0)
    assert [p.kind for p in problems] == ["not-locked", "history-rewritten"]
    assert str(problems[1]) == (
        "history of Thing 1.0, 1.1, 1.2 was rewritten: enum values ['rescued'] added to field "
        "'state'. declare values_added={'1.3': ['rescued']} on field 'state'"
    )


def test_values_added_that_hides_an_original_value(released):
    def thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            swap: int = field(default=0, added="1.1")
            state: State = field(
                default=State.ACTIVE, values_added={"1.2": ["shelved"], "1.1": ["stopped"]}
            )

            @remotable
            def save(self):
                return None

    (problem,) = check(released, thing, other_v1_0)
    assert problem.kind == "history-rewritten"
    assert str(problem).startswith(
        "history of Thing 1.0 was rewritten: enum values ['stopped'] removed from field 'state'."
    )
    assert "do not list ['stopped'] in values_added of field 'state'" in str(problem)


def test_new_method_needs_remotable_added(released):
    def thing(base, mark: bool):
        def refresh(self):
            return None

        method = remotable(refresh)
        if mark:
            method = remotable_added("1.3")(method)

        @register
        class Thing(base):
            VERSION = "1.3"
            id: int
            swap: int = field(default=0, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})
            refresh = method

            @remotable
            def save(self):
                return None

    problems = check(released, lambda b: thing(b, False), other_v1_0)
    assert [p.kind for p in problems] == ["not-locked", "history-rewritten"]
    assert str(problems[1]).endswith(
        "remotable method 'refresh'() added. decorate remotable method 'refresh' with "
        "@remotable_added('1.3')"
    )
    problems = check(released, lambda b: thing(b, True), other_v1_0)
    assert [p.kind for p in problems] == ["not-locked"]


def test_hand_edited_fingerprint(released):
    released["Other"]["1.0"]["fingerprint"] = "1.0-00000000000000000000000000000000"
    (problem,) = check(released, thing_v1_2, other_v1_0)
    assert problem.kind == "stale-lock"
    assert "does not match its recorded schema (edited by hand?)" in str(problem)


def test_lock_of_another_format(released):
    for entry in released["Other"].values():
        entry["schema"]["format"] = FORMAT + 1
    (problem,) = check(released, thing_v1_2, other_v1_0)
    assert problem.kind == "stale-lock"
    assert f"fingerprint format {FORMAT + 1}, this is format {FORMAT}" in str(problem)


# --- objects that come and go ---------------------------------------------------------------


def test_vanished_and_new_objects(released):
    def newcomer(base):
        @register
        class Newcomer(base):
            id: int

    problems = check(released, thing_v1_2, newcomer)
    assert [(p.object, p.kind) for p in problems] == [
        ("Other", "vanished"),
        ("Newcomer", "new-object"),
    ]
    assert str(problems[0]) == (
        "Other is in the lockfile but no object of that name is registered in namespace "
        "'locktest'; if it was removed on purpose, run `cumulo objects lock`"
    )
    assert str(problems[1]) == "Newcomer 1.0 is not in the lockfile yet: run `cumulo objects lock`"
    assert all(p.resolved_by_lock for p in problems)


def test_lock_only_holds_the_namespace(released):
    registry = revision(thing_v1_2, other_v1_0)
    assert build_lock(registry, "elsewhere") == {}
    thing = registry.newest(NS, "Thing")
    assert released["Thing"]["1.2"]["fingerprint"] == fingerprint(thing)


def test_a_difference_the_diff_cannot_name_is_still_reported(released, monkeypatch):
    from cumulo.objects import lockfile

    def changed_thing(base):
        @register
        class Thing(base):
            VERSION = "1.2"
            id: int
            swap: int = field(default=1, added="1.1")
            state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

            @remotable
            def save(self):
                return None

    monkeypatch.setattr(lockfile, "diff_schemas", lambda old, new: [])
    problems = check(released, changed_thing, other_v1_0)
    assert [p.kind for p in problems] == ["changed-without-bump", "changed-without-bump"]
    assert "differs from the lockfile in a detail this check cannot name" in str(problems[0])
