"""cumulo.rpc depends on the standard library, msgspec, kombu and cumulo.objects only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

RPC = Path(__file__).resolve().parents[2] / "cumulo" / "rpc"
ALLOWED_THIRD_PARTY = {"msgspec", "kombu"}


def test_rpc_imports_only_stdlib_msgspec_kombu_and_objects():
    violations = []
    for path in sorted(RPC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
                    continue
                if name == "cumulo.objects" or name.startswith("cumulo.objects."):
                    continue
                violations.append(f"{path.relative_to(RPC.parent)}:{node.lineno} imports {name}")
    assert not violations, "\n".join(violations)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_kombu_stays_inside_the_amqp_transport():
    # inproc:// and the core must work where kombu is not even installed.
    outside = [
        path.name
        for path in RPC.rglob("*.py")
        if "amqp" not in path.relative_to(RPC).parts
        and any(name.split(".")[0] == "kombu" for name in _imported(path))
    ]
    assert outside == []
