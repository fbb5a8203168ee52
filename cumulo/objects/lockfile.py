"""The lockfile: the fingerprint and normalized schema of every object version, kept
in the repository, and the check that says which change needs which version bump.

``cumulo objects lock`` writes it and ``cumulo objects check`` compares the code
with it, the way a forgotten bump used to be caught by a hash test, except that
the answer names the change and the declaration that fixes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import versions
from .base import VersionedObject
from .exceptions import ObjectError
from .fingerprint import FORMAT, fingerprint_of, normalized_schema
from .registry import Registry
from .schema_diff import (
    ENUM_VALUES_ADDED,
    ENUM_VALUES_REMOVED,
    FIELD_ADDED,
    FIELD_REMOVED,
    METHOD_ADDED,
    METHOD_REMOVED,
    Change,
    diff_schemas,
    enum_values,
)

Lock = dict[str, dict[str, dict[str, Any]]]
"""``{object name: {version: {"fingerprint": "1.0-…", "schema": {...}}}}``."""


class LockfileError(ObjectError):
    """The lockfile is missing or is not a lockfile."""


@dataclass(frozen=True)
class Problem:
    """One way the code and the lockfile disagree, with what to do about it."""

    object: str
    kind: str
    """``changed-without-bump``, ``bump-too-small``, ``history-rewritten``,
    ``not-locked``, ``new-object``, ``vanished``, ``version-went-back``,
    ``stale-lock``."""
    message: str
    changes: tuple[Change, ...] = ()

    @property
    def resolved_by_lock(self) -> bool:
        """True when recording the code as it is (``cumulo objects lock``) is the fix;
        False when the code needs a version bump or a declaration first."""
        return self.kind in ("not-locked", "new-object", "vanished", "stale-lock")

    def __str__(self) -> str:
        return self.message


def build_lock(registry: Registry, namespace: str) -> Lock:
    """``{name: {version: {"fingerprint": ..., "schema": ...}}}`` for every version of the
    current major of every object registered in ``namespace``."""
    lock: Lock = {}
    for cls in registry.classes(namespace):
        entries: dict[str, dict[str, Any]] = {}
        for version in cls.obj_history():
            schema = normalized_schema(cls, version)
            entries[version] = {"fingerprint": fingerprint_of(schema, version), "schema": schema}
        lock[cls.obj_name()] = entries
    return lock


def dump_lock(lock: Mapping[str, Mapping[str, Any]]) -> str:
    """The lockfile text: names sorted, versions in version order, two-space indents."""
    ordered = {
        name: {
            version: _sorted_deep(lock[name][version])
            for version in sorted(lock[name], key=_version_key)
        }
        for name in sorted(lock)
    }
    return json.dumps(ordered, indent=2, ensure_ascii=True) + "\n"


def write_lock(path: str | Path, registry: Registry, namespace: str) -> Lock:
    """Write the lockfile of ``namespace`` to ``path``; returns what was written."""
    lock = build_lock(registry, namespace)
    Path(path).write_text(dump_lock(lock), encoding="utf-8")
    return lock


def read_lock(path: str | Path) -> Lock:
    """Load a lockfile, refusing anything that is not shaped like one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockfileError(
            f"lockfile {path} does not exist: run `cumulo objects lock` to create it"
        ) from None
    except OSError as exc:
        raise LockfileError(f"cannot read lockfile {path}: {exc.strerror}") from None
    try:
        lock = json.loads(text)
    except ValueError as exc:
        raise LockfileError(f"lockfile {path} is not valid JSON: {exc}") from None
    if not isinstance(lock, dict):
        raise LockfileError(f"lockfile {path}: expected an object of objects")
    for name, entries in lock.items():
        if not isinstance(entries, dict):
            raise LockfileError(f"lockfile {path}: {name!r} is not an object of versions")
        for version, entry in entries.items():
            if (
                not versions.is_valid(version)
                or not isinstance(entry, dict)
                or not isinstance(entry.get("fingerprint"), str)
                or not isinstance(entry.get("schema"), dict)
            ):
                raise LockfileError(
                    f"lockfile {path}: entry {name} {version!r} needs a version key with "
                    "'fingerprint' and 'schema'"
                )
    return lock


def _version_key(version: str) -> versions.Version:
    return versions.parse(version)


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(v) for v in value]
    return value


def check_lock(
    registry: Registry, namespace: str, lock: Mapping[str, Mapping[str, Any]]
) -> list[Problem]:
    """Every disagreement between the objects of ``namespace`` and ``lock``.

    An empty list means the lockfile is exactly what ``build_lock`` would write.
    Each problem says which object and version, what changed, which bump it
    needs and what to declare.
    """
    problems: list[Problem] = []
    current = {cls.obj_name(): cls for cls in registry.classes(namespace)}
    for name in sorted(lock.keys() - current.keys()):
        problems.append(
            Problem(
                name,
                "vanished",
                f"{name} is in the lockfile but no object of that name is registered in "
                f"namespace {namespace!r}; if it was removed on purpose, run "
                "`cumulo objects lock`",
            )
        )
    for name in sorted(current):
        cls = current[name]
        if not lock.get(name):
            problems.append(
                Problem(
                    name,
                    "new-object",
                    f"{name} {cls.VERSION} is not in the lockfile yet: run `cumulo objects lock`",
                )
            )
            continue
        problems.extend(_check_object(cls, lock[name]))
    return problems


def _next_version(version: versions.Version, major: bool) -> str:
    return f"{version[0] + 1}.0" if major else f"{version[0]}.{version[1] + 1}"


def _words(changes: Iterable[Change]) -> str:
    return "; ".join(c.description for c in changes)


def _declare(changes: Iterable[Change], version: str) -> str:
    advice = [a for a in (c.advice(version) for c in changes) if a]
    return ", ".join(advice) + " and " if advice else ""


def _check_object(cls: type[VersionedObject], locked: Mapping[str, Any]) -> list[Problem]:
    name = cls.obj_name()
    history = cls.obj_history()
    current = versions.parse(cls.VERSION)
    cur = versions.fmt(current)
    now = {v: normalized_schema(cls, v) for v in history}
    locked_versions = sorted(locked, key=_version_key)

    formats = {entry["schema"].get("format") for entry in locked.values()}
    if formats and formats != {FORMAT}:
        return [
            Problem(
                name,
                "stale-lock",
                f"{name}: the lockfile was written with fingerprint format "
                f"{', '.join(sorted(map(str, formats)))}, this is format {FORMAT}: review "
                "the difference and run `cumulo objects lock`",
            )
        ]

    edited = [
        v
        for v in locked_versions
        if fingerprint_of(locked[v]["schema"], v) != locked[v]["fingerprint"]
    ]
    if edited:
        # The recorded schema and fingerprint disagree: nothing recorded can be trusted.
        return [_edited(name, v) for v in edited]

    newer = [v for v in locked_versions if _version_key(v) > current]
    if newer:
        # Nothing else can be judged against a lock that is ahead of the code.
        return [
            Problem(
                name,
                "version-went-back",
                f"{name}.VERSION is {cur} but the lockfile already records {name} "
                f"{', '.join(newer)}: a released version cannot be taken back; "
                f"set VERSION = {newer[-1]!r} or higher",
            )
        ]

    problems: list[Problem] = []
    # What changed at the current version, and the version those changes belong to.
    current_changes: list[Change] = []
    target = cur
    same_major = [v for v in locked_versions if _version_key(v)[0] == current[0]]
    if cur in locked:
        if fingerprint_of(now[cur], cur) != locked[cur]["fingerprint"]:
            current_changes = diff_schemas(locked[cur]["schema"], now[cur])
            major = any(not c.additive for c in current_changes)
            target = _next_version(current, major)
            if current_changes:
                problems.append(
                    Problem(
                        name,
                        "changed-without-bump",
                        f"{name} {cur} changed without a version bump: {_words(current_changes)}. "
                        f"That needs a {'major' if major else 'minor'} bump: "
                        f"{_declare(current_changes, target)}set VERSION = {target!r}",
                        tuple(current_changes),
                    )
                )
            else:
                problems.append(_undescribed(name, cur, target))
    elif same_major:
        base = same_major[-1]
        current_changes = diff_schemas(locked[base]["schema"], now[cur])
        breaking = [c for c in current_changes if not c.additive]
        if breaking:
            target = _next_version(current, True)
            one = len(breaking) == 1
            problems.append(
                Problem(
                    name,
                    "bump-too-small",
                    f"{name} went from {base} to {cur}, but {_words(breaking)}: "
                    f"{'that is' if one else 'those are'} not backward compatible and "
                    f"need{'s' if one else ''} a major bump: "
                    f"{_declare(breaking, target)}set VERSION = {target!r}",
                    tuple(breaking),
                )
            )
    else:
        problems.append(
            Problem(
                name,
                "not-locked",
                f"{name} is now {cur}, a new major version; the lockfile still records "
                f"{name} {', '.join(locked_versions)}: run `cumulo objects lock`",
            )
        )
    unlocked = [v for v in history if v not in locked]
    if unlocked and same_major and not any(p.kind == "bump-too-small" for p in problems):
        since = ""
        if cur in unlocked:
            what = _words(current_changes) or "no schema change"
            since = f" (changes since {same_major[-1]}: {what})"
        problems.append(
            Problem(
                name,
                "not-locked",
                f"{name} {', '.join(unlocked)} {'is' if len(unlocked) == 1 else 'are'} not "
                f"in the lockfile yet{since}: run `cumulo objects lock`",
            )
        )
    problems.extend(_check_history(cls, locked, now, current_changes, target))
    return problems


def _edited(name: str, version: str) -> Problem:
    return Problem(
        name,
        "stale-lock",
        f"the lockfile's fingerprint of {name} {version} does not match its recorded schema "
        "(edited by hand?): run `cumulo objects lock`",
    )


def _undescribed(name: str, version: str, target: str) -> Problem:
    # Only reachable if the normalization gained a detail that diff_schemas does not compare.
    return Problem(
        name,
        "changed-without-bump",
        f"the normalized schema of {name} {version} differs from the lockfile in a detail "
        f"this check cannot name; compare `cumulo objects show {name}` with the lockfile "
        f"(a bump to {target} may be needed)",
    )


def _check_history(
    cls: type[VersionedObject],
    locked: Mapping[str, Any],
    now: Mapping[str, dict[str, Any]],
    current_changes: list[Change],
    target: str,
) -> list[Problem]:
    """Versions before the current one whose recorded schema no longer comes out of the code."""
    name = cls.obj_name()
    current = versions.parse(cls.VERSION)
    explained = {c.key() for c in current_changes}
    rewritten: dict[str, tuple[list[str], list[Change]]] = {}
    locked_versions = sorted(locked, key=_version_key)
    for version in cls.obj_history():
        if _version_key(version) >= current or version not in locked:
            continue
        if fingerprint_of(now[version], version) == locked[version]["fingerprint"]:
            continue
        changes = diff_schemas(locked[version]["schema"], now[version])
        if not changes:
            rewritten.setdefault(_undescribed(name, version, target).message, ([], []))
            continue
        # A detail that holds for every version (a default, a type) changes the old versions
        # along with the current one; the current version's problem already covers it.
        relevant = [c for c in changes if c.versioned or c.key() not in explained]
        if not relevant:
            continue
        advice = [_history_advice(c, locked, locked_versions, target) for c in relevant]
        words = _words(relevant) + ". " + "; ".join(a for a in advice if a)
        versions_seen, collected = rewritten.setdefault(words, ([], []))
        versions_seen.append(version)
        collected.extend(relevant)
    problems = []
    for words, (seen, collected) in rewritten.items():
        if not seen:
            problems.append(Problem(name, "changed-without-bump", words))
            continue
        problems.append(
            Problem(
                name,
                "history-rewritten",
                f"history of {name} {', '.join(seen)} was rewritten: {words}",
                tuple(collected),
            )
        )
    return problems


def _field(entry: Mapping[str, Any], name: str) -> Any:
    return entry["schema"].get("fields", {}).get(name)


def _history_advice(
    change: Change, locked: Mapping[str, Any], locked_versions: list[str], target: str
) -> str:
    """What restores the recorded history: the version the lockfile first shows the
    field, value or method in, or the version being introduced when it has none."""

    def first_with(test: Callable[[Mapping[str, Any]], bool]) -> str | None:
        for version in locked_versions:
            if test(locked[version]["schema"]):
                return version
        return None

    subject = change.subject
    if change.kind in (FIELD_ADDED, FIELD_REMOVED):
        first = first_with(lambda s: subject in s.get("fields", {}))
        return f"declare added={first or target!r} on field {subject!r}"
    if change.kind in (METHOD_ADDED, METHOD_REMOVED):
        first = first_with(lambda s: subject in s.get("remotable", {}))
        return f"decorate remotable method {subject!r} with @remotable_added({first or target!r})"
    if change.kind in (ENUM_VALUES_ADDED, ENUM_VALUES_REMOVED):
        per_version: dict[str, list[Any]] = {}
        for value in change.values:
            first = next(
                (v for v in locked_versions if value in enum_values(_field(locked[v], subject))),
                None,
            )
            per_version.setdefault(first or target, []).append(value)
        field_first = first_with(lambda s: subject in s.get("fields", {}))
        later = {v: vals for v, vals in per_version.items() if v != field_first}
        parts = []
        if later:
            parts.append(f"declare values_added={later!r} on field {subject!r}")
        if len(later) < len(per_version):
            parts.append(
                f"do not list {per_version[field_first or '']!r} in values_added of field "
                f"{subject!r}: the lockfile has them from the field's first version"
            )
        return " and ".join(parts)
    return f"{change.description} applies to every version: that needs a new major version"


__all__ = [
    "Lock",
    "LockfileError",
    "Problem",
    "build_lock",
    "check_lock",
    "dump_lock",
    "read_lock",
    "write_lock",
]
