"""``cumulo objects ...``: list, show, schema, check and lock the versioned objects."""

from __future__ import annotations

import argparse
import difflib
import importlib
import inspect
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from cumulo.objects import REGISTRY, Registry, VersionedObject, versions
from cumulo.objects.fingerprint import fingerprint, fingerprint_of, normalized_schema
from cumulo.objects.jsonschema import json_schema
from cumulo.objects.lockfile import (
    LockfileError,
    Problem,
    build_lock,
    check_lock,
    dump_lock,
    read_lock,
)
from cumulo.objects.schema_diff import (
    default_label,
    diff_schemas,
    field_type_label,
    signature_label,
)

from .common import Handler, UsageError, _Parser

# --- objects ------------------------------------------------------------------------------

DEFAULT_MODULE = "cumulo.model"
DEFAULT_NAMESPACE = "cumulo"
LOCKFILE_NAME = "objects.lock.json"


@dataclass(frozen=True)
class Target:
    """The objects a command works on: a registry, a namespace and their lockfile."""

    registry: Registry
    namespace: str
    lockfile: Path

    def classes(self) -> list[type[VersionedObject]]:
        return list(self.registry.classes(self.namespace))

    def lookup(self, name: str) -> type[VersionedObject]:
        by_name = {cls.obj_name(): cls for cls in self.classes()}
        if name in by_name:
            return by_name[name]
        close = difflib.get_close_matches(name, by_name, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(by_name)) or "none"
        raise UsageError(
            f"no object named {name!r} in namespace {self.namespace!r}{hint} (known: {known})"
        )


def _target(args: argparse.Namespace) -> Target:
    try:
        module = importlib.import_module(args.module)
    except ImportError as exc:
        raise UsageError(f"cannot import module {args.module!r}: {exc}") from None
    namespace = args.namespace or _guess_namespace(module)
    registry = _find_registry(module, namespace)
    lockfile = Path(args.lockfile) if args.lockfile else _default_lockfile(module)
    return Target(registry, namespace, lockfile)


def _guess_namespace(module: ModuleType) -> str:
    if module.__name__ == DEFAULT_MODULE:
        return DEFAULT_NAMESPACE
    found = {
        value.OBJ_PROJECT_NAMESPACE
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, VersionedObject)
    }
    found.discard(VersionedObject.OBJ_PROJECT_NAMESPACE)
    return found.pop() if len(found) == 1 else DEFAULT_NAMESPACE


def _find_registry(module: ModuleType, namespace: str) -> Registry:
    candidates = [v for v in vars(module).values() if isinstance(v, Registry)]
    for registry in [*candidates, REGISTRY]:
        if namespace in registry.namespaces():
            return registry
    raise UsageError(
        f"importing {module.__name__!r} registered no objects in namespace {namespace!r}"
    )


def _default_lockfile(module: ModuleType) -> Path:
    location = getattr(module, "__file__", None)
    if location is None:
        raise UsageError(f"module {module.__name__!r} has no file; pass --lockfile")
    path = Path(location)
    if path.name == "__init__.py":
        return path.with_name(LOCKFILE_NAME)
    return path.with_name(f"{path.stem}.{LOCKFILE_NAME}")


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def _version_arg(text: str) -> str:
    if not versions.is_valid(text):
        raise argparse.ArgumentTypeError(f"invalid version {text!r}: expected X.Y")
    return versions.fmt(versions.parse(text))


def _manifest_arg(text: str) -> tuple[str, str]:
    name, sep, version = text.partition("=")
    if not sep or not name or not versions.is_valid(version):
        raise argparse.ArgumentTypeError(f"invalid manifest entry {text!r}: expected NAME=X.Y")
    return name, versions.fmt(versions.parse(version))


def cmd_objects_list(args: argparse.Namespace) -> int:
    target = _target(args)
    try:
        lock: dict[str, Any] | None = read_lock(target.lockfile)
    except LockfileError:
        lock = None
    rows = [["NAME", "VERSION", "FINGERPRINT", "LOCK"]]
    for cls in target.classes():
        shown = cls.obj_history() if args.history else [versions.fmt(versions.parse(cls.VERSION))]
        for version in shown:
            fp = fingerprint(cls, version)
            if lock is None:
                state = "-"
            else:
                entry = lock.get(cls.obj_name(), {}).get(version)
                if entry is None:
                    state = "not locked"
                else:
                    state = "ok" if entry.get("fingerprint") == fp else "CHANGED"
            rows.append([cls.obj_name(), version, fp, state])
    if len(rows) == 1:
        raise UsageError(f"no objects registered in namespace {target.namespace!r}")
    _table(rows, sys.stdout)
    return 0


def cmd_objects_schema(args: argparse.Namespace) -> int:
    target = _target(args)
    cls = target.lookup(args.name)
    version = args.version or versions.fmt(versions.parse(cls.VERSION))
    if version not in cls.obj_history():
        raise UsageError(
            f"{cls.obj_name()} has no version {version} "
            f"(its history: {', '.join(cls.obj_history())})"
        )
    schema = json_schema(cls, version, dict(args.manifest or []))
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")
    return 0


def cmd_objects_show(args: argparse.Namespace) -> int:
    target = _target(args)
    cls = target.lookup(args.name)
    out = sys.stdout
    current = versions.fmt(versions.parse(cls.VERSION))
    schema = normalized_schema(cls)
    out.write(
        f"{cls.obj_name()} {current}  (namespace {cls.OBJ_PROJECT_NAMESPACE}, "
        f"serial namespace {cls.OBJ_SERIAL_NAMESPACE})\n"
    )
    doc = cls.__dict__.get("__doc__")
    if isinstance(doc, str) and doc.strip():
        out.write(inspect.cleandoc(doc).split("\n\n", 1)[0] + "\n")
    out.write("\nFIELDS\n")
    rows = [["NAME", "TYPE", "DEFAULT", "ADDED", "NOTES"]]
    for name, spec in cls.obj_fields().items():
        described = schema["fields"][name]
        notes = [
            note
            for flag, note in (
                (spec.read_only, "read-only"),
                (spec.lazy, "lazy"),
                (spec.sensitive, "sensitive"),
            )
            if flag
        ]
        notes.extend(
            f"{', '.join(map(str, values))} added in {version}"
            for version, values in sorted(spec.values_added.items())
        )
        default = default_label(described) if described["has_default"] else "-"
        rows.append([name, field_type_label(described), default, spec.added, "; ".join(notes)])
    _table(rows, out)
    if schema["remotable"]:
        out.write("\nREMOTABLE METHODS\n")
        method_rows = [["NAME", "KIND", "SINCE"]]
        first_with = _first_versions(cls)
        for name, method in schema["remotable"].items():
            method_rows.append(
                [name + signature_label(method["params"]), method["kind"], first_with[name]]
            )
        _table(method_rows, out)
    out.write("\nHISTORY\n")
    previous: dict[str, Any] | None = None
    history_rows = []
    for version in cls.obj_history():
        now = normalized_schema(cls, version)
        if previous is None:
            what = ["first version"]
        else:
            what = [str(c) for c in diff_schemas(previous, now)] or ["no schema change"]
        history_rows.append([version, fingerprint_of(now, version), what[0]])
        history_rows.extend(["", "", line] for line in what[1:])
        previous = now
    _table(history_rows, out)
    return 0


def _first_versions(cls: type[VersionedObject]) -> dict[str, str]:
    first: dict[str, str] = {}
    for version in cls.obj_history():
        for name in normalized_schema(cls, version)["remotable"]:
            first.setdefault(name, version)
    return first


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in problems:
        out.write(f"- {problem}\n")


def cmd_objects_check(args: argparse.Namespace) -> int:
    target = _target(args)
    try:
        lock = read_lock(target.lockfile)
    except LockfileError as exc:
        raise UsageError(str(exc)) from None
    problems = check_lock(target.registry, target.namespace, lock)
    shown = _shown(target.lockfile)
    if problems:
        sys.stdout.write(f"{len(problems)} problem(s) against {shown}:\n")
        _print_problems(problems, sys.stdout)
        return 1
    count = sum(len(entries) for entries in lock.values())
    sys.stdout.write(f"{shown} matches the code: {len(lock)} objects, {count} versions\n")
    return 0


def cmd_objects_lock(args: argparse.Namespace) -> int:
    target = _target(args)
    shown = _shown(target.lockfile)
    if target.lockfile.exists():
        try:
            old = read_lock(target.lockfile)
        except LockfileError as exc:
            if not args.force:
                raise UsageError(f"{exc} (pass --force to overwrite it)") from None
        else:
            problems = check_lock(target.registry, target.namespace, old)
            blocking = [p for p in problems if not p.resolved_by_lock]
            if blocking and not args.force:
                sys.stdout.write(
                    f"not writing {shown}: these changes need a version bump or a "
                    "declaration first (or pass --force to record them anyway):\n"
                )
                _print_problems(blocking, sys.stdout)
                return 1
            if not problems:
                sys.stdout.write(f"{shown} is already up to date\n")
                return 0
    lock = build_lock(target.registry, target.namespace)
    target.lockfile.write_text(dump_lock(lock), encoding="utf-8")
    count = sum(len(entries) for entries in lock.values())
    sys.stdout.write(f"wrote {shown}: {len(lock)} objects, {count} versions\n")
    return 0


def add_objects_commands(parser: argparse.ArgumentParser) -> None:
    """``cumulo objects list|show|schema|check|lock``."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--module",
        default=DEFAULT_MODULE,
        help=f"module to import to register the objects (default: {DEFAULT_MODULE})",
    )
    common.add_argument(
        "--namespace",
        help=f"project namespace of the objects (default: {DEFAULT_NAMESPACE})",
    )
    common.add_argument(
        "--lockfile",
        help=f"lockfile path (default: {LOCKFILE_NAME} beside the module)",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(handler=handler)
        return cmd

    listing = command("list", "list objects with their versions and fingerprints", cmd_objects_list)
    listing.add_argument("--history", action="store_true", help="one row per historical version")
    show = command(
        "show", "show an object's fields, remotable methods and history", cmd_objects_show
    )
    show.add_argument("name", metavar="NAME")
    schema = command(
        "schema", "print the JSON Schema (2020-12) of an object's envelope", cmd_objects_schema
    )
    schema.add_argument("name", metavar="NAME")
    schema.add_argument(
        "--version", type=_version_arg, help="historical version X.Y (default: current)"
    )
    schema.add_argument(
        "--manifest",
        type=_manifest_arg,
        action="append",
        metavar="NAME=X.Y",
        help="version of a child object (repeatable)",
    )
    command(
        "check", "compare the objects with the lockfile (exit 1 on problems)", cmd_objects_check
    )
    lock = command("lock", "write the lockfile from the objects", cmd_objects_lock)
    lock.add_argument(
        "--force", action="store_true", help="write even when changes need a version bump"
    )
