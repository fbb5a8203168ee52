"""Service processes for the integration tests: start one, wait for its "started"
log line, collect its stderr (JSON log lines), stop them all and check their logs;
:class:`Fleet` starts Cumulo's own services (current code, or a previous release's)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cumulo.rpc import Transport
from cumulo.volume.store import VolumeStore
from tests.compute.deployment import wait_for as _poll
from upgrade.releases import release_env

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("compute_host_child.py")


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

    def stop_and_check_logs(self, tolerate: Callable[[str, str], bool] | None = None) -> None:
        """Stop all, then fail if a compute process reached for the database layer or
        a process logged an error (except lines ``tolerate(name, line)`` accepts)."""
        for name, stderr in self.stop().items():
            # A compute process that reached for the database layer says so here.
            assert "may not be imported" not in stderr, f"{name}:\n{stderr}"
            errors = [
                line
                for line in stderr.splitlines()
                if '"level": "error"' in line and not (tolerate and tolerate(name, line))
            ]
            assert errors == [], f"{name}:\n{stderr}"

    def stop(self) -> dict[str, str]:
        """Stop all (newest first); returns each one's stderr."""
        for process in reversed(self.running.values()):
            _terminate(process)
        for reader in self.readers:
            reader.join(10)
        return {name: "".join(lines) for name, lines in self.logs.items()}


@dataclass
class Fleet:
    """The service processes of the deployment, each started as the current code or
    as a previous release (``release="0.1"``), and what the test process talks to
    them with."""

    processes: Processes
    transport: Transport
    transport_url: str
    database_url: str
    work: Path
    store: VolumeStore
    trees: Mapping[str, Path] = field(default_factory=dict)
    """Each previous release's extracted tree (``upgrade.releases.materialize``)."""
    service_down_time: float = 3600.0
    """The current conductors' ``--service-down-time``. The fleet's computes run their
    periodic tasks every 600 s, and hosts of releases 0.1 and 0.2 heartbeat only with
    them, so by default a host counts as down only after an hour."""
    compute_args: tuple[str, ...] = ()
    """More arguments for each current compute (``--report-interval 1``...)."""

    def _run_as(self, name: str, args: list[str], *, release: str | None, ready: str) -> None:
        if release is None:
            self.processes.start(name, args, ready=ready, cwd=REPO)
        else:
            # The release's directory first on PYTHONPATH, started outside this
            # repository so the current package cannot shadow it.
            self.processes.start(
                name, args, ready=ready, env=release_env(self.tree(release)), cwd=self.work
            )

    def tree(self, release: str) -> Path:
        assert release in self.trees, f"this fleet has no release {release}"
        return self.trees[release]

    @staticmethod
    def _name(base: str, release: str | None) -> str:
        return base if release is None else f"{base} ({release})"

    @staticmethod
    def _pin_refresh(release: str | None) -> list[str]:
        # Release 0.1 has no --pin-refresh (its peers are never older than itself).
        return [] if release == "0.1" else ["--pin-refresh", "0.5"]

    def start_conductor(self, *, release: str | None = None, name_base: str = "conductor") -> str:
        """Start a conductor; a second one needs a ``name_base`` of its own (its
        process name and its ``--host``)."""
        args = [
            "-m",
            "cumulo",
            "conductor",
            "--transport-url",
            self.transport_url,
            "--database-url",
            self.database_url,
            *self._pin_refresh(release),
        ]
        if release is None:
            args += ["--service-down-time", str(self.service_down_time)]
        if name_base != "conductor":
            args += ["--host", name_base]
        name = self._name(name_base, release)
        self._run_as(name, args, release=release, ready="conductor started")
        return name

    def start_compute(self, host: str, *, release: str | None = None, driver: str = "fake") -> str:
        args = [
            str(CHILD),  # ``cumulo compute`` with the database layer blocked
            "compute",
            "--host",
            host,
            "--driver",
            driver,
            "--transport-url",
            self.transport_url,
            "--volume-dir",
            str(self.store.root),
            "--periodic-interval",
            "600",
        ]
        if driver == "fake":
            args += ["--migration-channel", str(self.work / "migration-channel")]
            args += ["--memory-mb", "16384"]
        else:
            state = self.work / host
            args += ["--state-dir", str(state), "--images-dir", str(self.work / "images")]
            args += ["--vcpus", "4", "--memory-mb", "2048", "--disk-gb", "20"]
        name = self._name(host, release)
        args += self._pin_refresh(release)
        if release is None:
            args += self.compute_args
        self._run_as(name, args, release=release, ready="compute started")
        return name

    def run_release(self, release: str, *args: str) -> str:
        """Run ``python ARGS`` with ``release``'s code; its stdout."""
        return _run([sys.executable, *args], env=release_env(self.tree(release)), cwd=self.work)

    def run_current(self, *args: str) -> str:
        """Run ``python -m cumulo ARGS`` with the current code; its stdout."""
        return _run([sys.executable, "-m", "cumulo", *args], env=None, cwd=REPO)


def _run(argv: list[str], *, env: dict[str, str] | None, cwd: Path) -> str:
    """Run ``argv`` to its end; it must succeed. Its stdout."""
    done = subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _terminate(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
