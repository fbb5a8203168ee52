"""``Monitor``: one guest's QMP socket, spoken through the QEMU project's ``qemu.qmp``.

Each call opens a connection, runs its commands and closes it, under a per-guest
lock: the synchronous ``legacy`` client binds to the event loop of the thread that
made it, and a short connection never outlives the QEMU process it talks to.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from qemu.qmp import ExecuteError
from qemu.qmp.legacy import QEMUMonitorProtocol

__all__ = ["Monitor", "MonitorError", "MonitorSession"]

T = TypeVar("T")


class MonitorError(RuntimeError):
    """QMP could not be reached, or a command failed; the message says which."""


class MonitorSession:
    """An open QMP connection (inside :meth:`Monitor.session`)."""

    def __init__(self, qmp: QEMUMonitorProtocol, where: str) -> None:
        self._qmp = qmp
        self._where = where

    def cmd(self, name: str, /, **args: Any) -> Any:
        """Run ``name`` with ``args``; its ``return`` value, or :class:`MonitorError`."""
        try:
            return self._qmp.cmd(name, **args)
        except ExecuteError as error:
            raise MonitorError(f"QMP {name} on {self._where}: {error}") from error
        except (OSError, EOFError, TimeoutError) as error:
            raise MonitorError(f"QMP {name} on {self._where}: connection lost ({error})") from error


class Monitor:
    """The QMP socket of one QEMU process.

    Args:
        path: the UNIX socket QEMU listens on (``-chardev socket,server=on``).
        timeout: seconds one command may take.
    """

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._lock = threading.RLock()

    @contextmanager
    def session(self, connect_timeout: float = 10.0) -> Iterator[MonitorSession]:
        """An open connection; retries the connect until ``connect_timeout`` (QEMU may
        still be creating the socket)."""
        with self._lock:
            deadline = time.monotonic() + connect_timeout
            while True:
                # Wait for QEMU to create the socket before connecting: the QMP library
                # logs every refused connect as an error.
                if not self.path.exists():
                    if time.monotonic() >= deadline:
                        raise MonitorError(
                            f"QMP socket {self.path}: not created within {connect_timeout:g} s"
                        )
                    time.sleep(0.02)
                    continue
                qmp = QEMUMonitorProtocol(str(self.path))
                try:
                    qmp.connect(negotiate=True)
                    break
                except Exception as error:  # the library raises several connect errors
                    _quiet_close(qmp)
                    if time.monotonic() >= deadline:
                        raise MonitorError(
                            f"QMP socket {self.path}: cannot connect ({error})"
                        ) from error
                    time.sleep(0.05)
            qmp.settimeout(self.timeout)
            try:
                yield MonitorSession(qmp, str(self.path))
            finally:
                _quiet_close(qmp)

    def cmd(self, name: str, /, **args: Any) -> Any:
        """Run one command on a connection of its own."""
        with self.session() as session:
            return session.cmd(name, **args)

    def wait_for(
        self,
        probe: Callable[[MonitorSession], T | None],
        *,
        timeout: float,
        interval: float = 0.05,
        what: str = "a condition",
    ) -> T:
        """Poll ``probe`` on one connection until it returns non-``None``."""
        deadline = time.monotonic() + timeout
        with self.session() as session:
            while True:
                result = probe(session)
                if result is not None:
                    return result
                if time.monotonic() >= deadline:
                    raise MonitorError(
                        f"QMP {self.path}: timed out after {timeout}s waiting for {what}"
                    )
                time.sleep(interval)


def _quiet_close(qmp: QEMUMonitorProtocol) -> None:
    # Closing a half-open connection may raise; there is nothing to recover.
    with contextlib.suppress(Exception):
        qmp.close()
