"""Service processes for the integration tests: start one, wait for its "started"
log line, collect its stderr (JSON log lines), stop them all."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.compute.deployment import wait_for as _poll


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` s."""
    return _poll(predicate, timeout=timeout, what=what)


class Processes:
    """The service processes, each started and waited for (its "... started" log
    line), their stderr (JSON log lines) collected by a thread each."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[str]] = {}
        self.logs: dict[str, list[str]] = {}
        self.readers: list[threading.Thread] = []

    def start(
        self,
        name: str,
        args: list[str],
        ready: str,
        timeout: float = 60.0,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Run ``python ARGS`` (this interpreter) as ``name`` until ``ready`` is logged."""
        process = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
        self.running[name] = process
        lines = self.logs[name] = []
        assert process.stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
        reader.start()
        self.readers.append(reader)

        def started() -> bool:
            if process.poll() is not None:
                reader.join(5)
                pytest.fail(f"{name} exited with {process.returncode}:\n{''.join(lines)}")
            return any(f'"msg": "{ready}"' in line for line in list(lines))

        wait_for(started, f"{name} to start", timeout)

    def stop_one(self, name: str) -> str:
        """Stop ``name`` and return its stderr so far (it may be started again)."""
        process = self.running.pop(name)
        _terminate(process)
        return "".join(self.logs[name])

    def stop(self) -> dict[str, str]:
        """Stop all (newest first); returns each one's stderr."""
        for process in reversed(self.running.values()):
            _terminate(process)
        for reader in self.readers:
            reader.join(10)
        return {name: "".join(lines) for name, lines in self.logs.items()}


def _terminate(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
