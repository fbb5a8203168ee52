"""What the command-line tests share: running ``cumulo`` in this process or as the
installed script, and the shape of a usage error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cumulo import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def script() -> list[str]:
    """The installed `cumulo` console script of this interpreter's environment."""
    found = shutil.which("cumulo", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "cumulo.cli"]


def run_script(*argv: str, cwd: Path | None = None, pythonpath: Path | None = None):
    env = dict(os.environ)
    env.pop("CUMULO_DEBUG", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [*script(), *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("cumulo: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
