"""``cumulo api`` runs here: gunicorn, a pre-fork server, with ``workers`` processes
(threaded when ``threads`` > 1), each building its own application (and database
engine) after the fork. Gunicorn's own log lines are JSON like every other
Cumulo log line; the master logs ``api started`` once its socket listens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from cumulo import logs

from .config import DEFAULT_BIND, ApiConfig

LOG = logging.getLogger(__name__)
SERVICE_NAME = "api"


@dataclass(frozen=True)
class ServerOptions:
    bind: str = DEFAULT_BIND
    workers: int = 2
    threads: int = 4
    timeout: int = 60
    """Seconds a worker may stay silent (one request) before the master restarts it."""
    log_level: str = "info"


class JsonGunicornLogger(Logger):  # type: ignore[misc]
    """Gunicorn's error log as Cumulo's JSON lines (its access log stays off:
    ``cumulo.api.middleware`` logs each request with its request id)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(logs.JsonFormatter(SERVICE_NAME))


def _when_ready(server: Any) -> None:
    LOG.info(
        "api started",
        extra={"bind": ",".join(str(s) for s in server.LISTENERS), "workers": server.num_workers},
    )


class ApiServer(BaseApplication):  # type: ignore[misc]
    """The gunicorn application of ``cumulo api``; ``run()`` serves until SIGTERM/SIGINT."""

    def __init__(self, config: ApiConfig, options: ServerOptions) -> None:
        self.config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        options = self.options

        def post_fork(server: Any, worker: Any) -> None:
            logs.configure(SERVICE_NAME, options.log_level)

        settings: dict[str, Any] = {
            "bind": [options.bind],
            "workers": options.workers,
            "threads": options.threads,
            "worker_class": "gthread" if options.threads > 1 else "sync",
            "timeout": options.timeout,
            "graceful_timeout": 10,
            "keepalive": 5,
            "proc_name": "cumulo-api",
            "logger_class": JsonGunicornLogger,
            "loglevel": options.log_level,
            "errorlog": "-",
            "accesslog": None,
            "when_ready": _when_ready,
            "post_fork": post_fork,
        }
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 24's control socket is one path per user: two API servers
            # on one host would fight over it, and nothing here uses it.
            settings["control_socket_disable"] = True
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app(self.config)
