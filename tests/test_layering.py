"""The package boundaries of DESIGN.md, checked on the import statements of every module;
and no import circles between the modules of a package."""

from __future__ import annotations

import ast
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "cumulo"

# package -> the cumulo packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "objects": set(),
    "model": {"objects"},
    "db": {"objects", "model"},
    "rpc": {"objects"},
    "virt": {"objects", "model"},
    "volume": {"objects", "model"},
    "compute": {"objects", "model", "rpc", "virt", "volume"},
    # "compute" only for the RPC client cumulo.compute.rpcapi, which the conductor's
    # tasks use to reach the hosts (test_conductor_imports_only_the_compute_rpc_client).
    "conductor": {"objects", "model", "rpc", "db", "compute"},
    "identity": {"objects", "model", "db"},
    "image": {"objects", "model", "db"},
    "network": {"objects", "model", "db"},
    # The front door reaches everything below it but the drivers (compute work goes
    # through the conductor's task API and the compute RPC client).
    "api": {
        "objects",
        "model",
        "db",
        "rpc",
        "identity",
        "image",
        "network",
        "conductor",
        "compute",
        "volume",
    },
}

# The top layer, above every package of ALLOWED: the process wiring (cumulo/deploy.py)
# and the operator CLI (cumulo/cli/, with its `python -m cumulo` entry point). They may
# import anything below; nothing below imports them, and the wiring not the CLI.
TOP_LAYER = {"cumulo/deploy.py", "cumulo/cli", "cumulo/__main__.py"}

# The compute modules the conductor may import, and what those may import in turn.
CONDUCTOR_COMPUTE_MODULES = {
    "cumulo.compute.rpcapi",
    "cumulo.compute.pins",
    "cumulo.compute.version",
}
RPC_CLIENT_MAY_IMPORT = {"objects", "model", "rpc"}
# compute modules the RPC client may use: they import only the standard library
RPC_CLIENT_COMPUTE_DEPENDENCIES = {"cumulo.compute.exceptions", "cumulo.compute.version"}

# third-party imports the object core may use
OBJECT_CORE_THIRD_PARTY = {"msgspec"}

# package -> the import circles between its modules that are allowed. The only one:
# VersionedObject's obj_to_*/obj_from_* methods hand over to the codec, which needs
# VersionedObject; base.py imports the codec at its end (see the docstrings of
# cumulo/objects/base.py and codec.py). No other package has a circle today.
ALLOWED_CIRCLES: dict[str, set[frozenset[str]]] = {
    "objects": {frozenset({"cumulo.objects.base", "cumulo.objects.codec"})},
}


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    package_parts = path.relative_to(root.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported: not those in functions,
    nor the ones under ``if TYPE_CHECKING:`` (which never run)."""
    for node in body:
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_time_statements(node.orelse)
            continue
        for name in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(node, name, ()):
                if isinstance(child, ast.ExceptHandler):
                    yield from _import_time_statements(child.body)
                elif isinstance(child, ast.stmt):
                    yield from _import_time_statements([child])


def _module_level_imports(
    path: Path, modules: Collection[str], root: Path = ROOT
) -> list[tuple[int, str]]:
    """``(line, module)`` for each module ``path`` imports when it is imported, among
    ``modules``. ``from pkg import name`` counts as importing ``pkg.name`` when that is
    a module, else ``pkg`` itself."""
    tree = ast.parse(path.read_text(), str(path))
    package_parts = path.relative_to(root.parent).with_suffix("").parts[:-1]
    found = []
    for node in _import_time_statements(tree.body):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                targets.append(submodule if submodule in modules else module)
        found.extend((node.lineno, t) for t in dict.fromkeys(targets) if t in modules)
    return found


def _import_circles(paths: list[Path], root: Path = ROOT) -> dict[frozenset[str], list[str]]:
    """Each circle (a strongly connected set of modules) with the imports that make it."""
    by_name = {_module_name(p, root): p for p in paths}
    edges = {
        name: {
            target: lineno
            for lineno, target in reversed(_module_level_imports(path, by_name, root))
            if target != name
        }
        for name, path in by_name.items()
    }
    # Tarjan's strongly connected components.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: dict[frozenset[str], list[str]] = {}

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in edges[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == name:
                    break
            if len(members) > 1:
                circle = frozenset(members)
                circles[circle] = [
                    f"{by_name[m].relative_to(root.parent)}:{lineno} imports {target}"
                    for m in sorted(circle)
                    for target, lineno in sorted(edges[m].items(), key=lambda edge: edge[1])
                    if target in circle
                ]

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return circles


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_point_downward(package: str) -> None:
    violations = []
    for path in _modules(package):
        for lineno, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "cumulo" or len(parts) < 2:
                continue
            target = parts[1]
            if target != package and target not in ALLOWED[package]:
                violations.append(f"{path.relative_to(ROOT.parent)}:{lineno} imports {module}")
    assert not violations, "\n".join(violations)


def _in_top_layer(path: Path) -> bool:
    relative = path.relative_to(ROOT.parent).as_posix()
    return any(relative == top or relative.startswith(f"{top}/") for top in TOP_LAYER)


def test_top_layer_sits_above_every_package() -> None:
    tops = {top.removeprefix("cumulo/").removesuffix(".py") for top in TOP_LAYER}
    assert not tops & set(ALLOWED)
    assert all(not tops & allowed for allowed in ALLOWED.values())
    assert (ROOT / "deploy.py").is_file() and (ROOT / "cli").is_dir()


def test_nothing_below_imports_the_wiring_or_the_cli() -> None:
    below = [path for path in sorted(ROOT.rglob("*.py")) if not _in_top_layer(path)]
    assert len(below) > 50  # not vacuous: every package below is walked
    violations = []
    for path in below:
        for lineno, module in _imports(path):
            if module.split(".")[:2] in (["cumulo", "deploy"], ["cumulo", "cli"]):
                violations.append(f"{path.relative_to(ROOT.parent)}:{lineno} imports {module}")
    assert not violations, "\n".join(violations)


def test_the_wiring_does_not_import_the_cli() -> None:
    modules = [m for _, m in _imports(ROOT / "deploy.py")]
    assert "cumulo.conductor.service" in modules  # the parser saw its imports
    assert not [m for m in modules if m == "cumulo.cli" or m.startswith("cumulo.cli.")]


def test_conductor_imports_only_the_compute_rpc_client() -> None:
    violations = []
    for path in _modules("conductor"):
        for lineno, module in _imports(path):
            is_compute = module == "cumulo.compute" or module.startswith("cumulo.compute.")
            if is_compute and module not in CONDUCTOR_COMPUTE_MODULES:
                violations.append(f"{path.relative_to(ROOT.parent)}:{lineno} imports {module}")
    assert not violations, "\n".join(violations)


def test_compute_rpc_client_imports_no_driver_or_manager() -> None:
    # The conductor imports cumulo.compute.rpcapi: it (and the compute modules it
    # needs) must pull in nothing beyond objects, model and rpc.
    stdlib = set(sys.stdlib_module_names)
    violations = []
    for name in sorted(CONDUCTOR_COMPUTE_MODULES | RPC_CLIENT_COMPUTE_DEPENDENCIES):
        path = ROOT.parent / (name.replace(".", "/") + ".py")
        for lineno, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "cumulo":
                if name in RPC_CLIENT_COMPUTE_DEPENDENCIES and parts[0] not in stdlib:
                    violations.append(f"{name}:{lineno} imports {module}")
                continue
            if parts[1] == "compute":
                if module not in RPC_CLIENT_COMPUTE_DEPENDENCIES | CONDUCTOR_COMPUTE_MODULES:
                    violations.append(f"{name}:{lineno} imports {module}")
            elif parts[1] not in RPC_CLIENT_MAY_IMPORT:
                violations.append(f"{name}:{lineno} imports {module}")
    assert not violations, "\n".join(violations)
    init = (ROOT / "compute" / "__init__.py").read_text()
    assert not [n for n in ast.parse(init).body if isinstance(n, ast.Import | ast.ImportFrom)]


# What the driver interface must not know: the drivers, what only a driver uses (the
# fake network), and the loader that knows the drivers by name (DESIGN.md).
DRIVER_MODULES = ("cumulo.virt.fake", "cumulo.virt.qemu", "cumulo.virt.fake_network")
DRIVER_INTERFACE_MAY_NOT_IMPORT = (*DRIVER_MODULES, "cumulo.virt.loader")


def test_the_driver_interface_imports_no_driver() -> None:
    # Every import counts: under TYPE_CHECKING and inside functions too.
    path = ROOT / "virt" / "driver.py"
    violations = [
        f"cumulo/virt/driver.py:{lineno} imports {module}"
        for lineno, module in _imports(path)
        if any(module == m or module.startswith(f"{m}.") for m in DRIVER_INTERFACE_MAY_NOT_IMPORT)
    ]
    assert not violations, "\n".join(violations)


def test_object_core_uses_only_stdlib_and_msgspec() -> None:
    stdlib = set(sys.stdlib_module_names)
    violations = []
    for path in _modules("objects"):
        for lineno, module in _imports(path):
            top = module.split(".")[0]
            allowed = top in stdlib or top in OBJECT_CORE_THIRD_PARTY
            if allowed or module.startswith("cumulo.objects"):
                continue
            violations.append(f"{path.relative_to(ROOT.parent)}:{lineno} imports {module}")
    assert not violations, "\n".join(violations)


PACKAGES = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circles_between_the_modules_of_a_package(package: str) -> None:
    circles = _import_circles(_modules(package))
    allowed = ALLOWED_CIRCLES.get(package, set())
    unexpected = [
        "an import circle:\n    " + "\n    ".join(imports)
        for circle, imports in circles.items()
        if circle not in allowed
    ]
    assert not unexpected, "\n".join(unexpected)


def test_the_object_core_has_exactly_its_documented_circle() -> None:
    # Strict for cumulo.objects: the documented circle is still the one there is (so the
    # docstrings describing it are true), and it is two modules, not more.
    assert set(_import_circles(_modules("objects"))) == ALLOWED_CIRCLES["objects"]


def test_import_circle_finder(tmp_path: Path) -> None:
    # Guards against a vacuous pass: a circle through `from . import`, and imports that
    # do not make one (inside a function, under TYPE_CHECKING, of a name, not a module).
    root = tmp_path / "cumulo"
    package = root / "pkg"
    package.mkdir(parents=True)
    files = {
        "__init__.py": "from .a import A\n",
        "a.py": "from . import c, d\nA = 1\nif True:\n    from .b import B\n",
        "b.py": "B = 1\ntry:\n    from . import a\nexcept ImportError:\n    pass\n",
        "c.py": "def f():\n    from . import a\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n",
        "e.py": "from cumulo.pkg import A\n",  # the package's __init__, which does not import e
    }
    for name, text in files.items():
        (package / name).write_text(text)
    circles = _import_circles(sorted(package.glob("*.py")), root)
    assert list(circles) == [frozenset({"cumulo.pkg.a", "cumulo.pkg.b"})]
    assert circles[frozenset({"cumulo.pkg.a", "cumulo.pkg.b"})] == [
        "cumulo/pkg/a.py:4 imports cumulo.pkg.b",
        "cumulo/pkg/b.py:3 imports cumulo.pkg.a",
    ]
    (package / "e.py").write_text("from . import A\n")
    (package / "__init__.py").write_text("from .a import A\nfrom . import e\n")
    assert frozenset({"cumulo.pkg", "cumulo.pkg.e"}) in _import_circles(
        sorted(package.glob("*.py")), root
    )


def test_import_parser_resolves_relative_imports(tmp_path: Path) -> None:
    # Guards against a vacuous pass: a relative import of the database layer from a
    # compute module must be seen as `cumulo.db`.
    root = tmp_path / "cumulo"
    (root / "compute").mkdir(parents=True)
    module = root / "compute" / "manager.py"
    module.write_text("from ..db import api\nfrom . import rpcapi\nimport cumulo.virt.fake\n")
    assert [m for _, m in _imports(module, root)] == [
        "cumulo.db",
        "cumulo.compute",
        "cumulo.virt.fake",
    ]
