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
    "conductor": {"objects", "model", "rpc", "db"},
}

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
