"""RabbitMQ for the benchmark scripts: is it reachable, and a throwaway virtual host
per run (queues are named after topics, so runs would otherwise share them).

Failures end the script: ``SystemExit`` with ``<script>: <what went wrong>``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from kombu.connection import Connection


def check_broker(url: str, *, script: str, hint: str) -> None:
    """Fail with a line naming the broker when ``url`` cannot be reached (``hint``:
    what to do about it)."""
    conn = Connection(url.split("?", 1)[0], connect_timeout=3)  # type: ignore[no-untyped-call]
    try:
        conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)  # type: ignore[no-untyped-call]
    except Exception as exc:
        where = f"{conn.hostname}:{conn.port or 5672}"
        raise SystemExit(
            f"{script}: RabbitMQ at {where} unreachable: {type(exc).__name__}: {exc} ({hint})"
        ) from None
    finally:
        conn.release()  # type: ignore[no-untyped-call]


def _rabbitmqctl(script: str, *args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        raise SystemExit(f"{script}: rabbitmqctl not found: it makes the run's RabbitMQ vhost")
    done = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{script}: rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def throwaway_vhost(url: str, *, script: str) -> Iterator[tuple[str, str]]:
    """A RabbitMQ virtual host for this run, deleted on the way out: its name and the
    URL of ``url``'s broker on it (``url``'s options kept)."""
    parts = urlsplit(url)
    vhost = f"{script}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    user = unquote(parts.username or "guest")
    _rabbitmqctl(script, "add_vhost", vhost)
    try:
        _rabbitmqctl(script, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        query = f"?{parts.query}" if parts.query else ""
        yield vhost, f"{parts.scheme}://{parts.netloc}/{vhost}{query}"
    finally:
        _rabbitmqctl(script, "delete_vhost", vhost)
