"""``InProcessServer``: the API's WSGI application served by threads of this process
(cheroot's thread pool), for ``cumulo all-in-one``, whose ``inproc://`` bus and
conductor live in the same process as the API and so cannot sit behind gunicorn's
forked workers. ``cumulo api`` stays on gunicorn."""

from __future__ import annotations

import logging
import threading
from typing import Any

from cheroot import wsgi

LOG = logging.getLogger(__name__)


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a socket address.

    Raises:
        ValueError: not ``HOST:PORT`` with a port from 0 to 65535.
    """
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {bind!r}")
    return host.strip("[]"), int(port)


class InProcessServer:
    """A threaded HTTP server for ``app`` on ``bind``: :meth:`start` listens (and
    raises at once when the address is taken) and serves on a background thread;
    :meth:`stop` finishes the requests in flight and closes the socket.

    Args:
        app: a WSGI application (``cumulo.api.app.create_app``).
        bind: ``HOST:PORT``; port 0 picks a free one (see :attr:`address`).
        threads: requests served at once.
    """

    def __init__(self, app: Any, bind: str, *, threads: int = 8) -> None:
        self._server = wsgi.Server(parse_bind(bind), app, numthreads=threads, shutdown_timeout=10)
        self._threads = threads
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port once started)."""
        host, port = self._server.bind_addr[:2]
        return str(host), int(port)

    def start(self) -> InProcessServer:
        self._server.prepare()  # binds now: a taken port fails here, in the caller
        self._thread = threading.Thread(
            target=self._server.serve, name="cumulo-api-http", daemon=True
        )
        self._thread.start()
        host, port = self.address
        LOG.info("api started", extra={"bind": f"{host}:{port}", "threads": self._threads})
        return self

    def stop(self) -> None:
        """Stop serving; harmless when not started or stopped already."""
        if self._thread is None:
            return
        self._server.stop()
        self._thread.join(15)
        self._thread = None
