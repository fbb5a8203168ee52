"""The package boundaries of DESIGN.md, checked on the import statements of every module."""

from __future__ import annotations

import ast
import sys
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
}

# The top layer, above every package of ALLOWED: the process wiring (cumulo/deploy.py)
# and the operator CLI (cumulo/cli/, with its `python -m cumulo` entry point). They may
# import anything below; nothing below imports them, and the wiring not the CLI.
TOP_LAYER = {"cumulo/deploy.py", "cumulo/cli", "cumulo/__main__.py"}

# The compute modules the conductor may import, and what those may import in turn.
CONDUCTOR_COMPUTE_MODULES = {"cumulo.compute.rpcapi", "cumulo.compute.version"}
RPC_CLIENT_MAY_IMPORT = {"objects", "model", "rpc"}
# compute modules the RPC client may use: they import only the standard library
RPC_CLIENT_COMPUTE_DEPENDENCIES = {"cumulo.compute.exceptions", "cumulo.compute.version"}

# third-party imports the object core may use
OBJECT_CORE_THIRD_PARTY = {"msgspec"}


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
                if module not in RPC_CLIENT_COMPUTE_DEPENDENCIES:
                    violations.append(f"{name}:{lineno} imports {module}")
            elif parts[1] not in RPC_CLIENT_MAY_IMPORT:
                violations.append(f"{name}:{lineno} imports {module}")
    assert not violations, "\n".join(violations)
    init = (ROOT / "compute" / "__init__.py").read_text()
    assert not [n for n in ast.parse(init).body if isinstance(n, ast.Import | ast.ImportFrom)]


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
