"""``ApiClient``: a small client of Cumulo's HTTP API, as a user's tools speak it: a
password token from ``/identity``, then JSON requests with ``X-Auth-Token`` and the
compute microversion. ``cumulo demo`` drives its scenario with it. Standard library
only (``http.client``), one keep-alive connection."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

COMPUTE_VERSION = "2.61"


class ApiRequestFailed(Exception):
    """A request answered with an unexpected status; says which and the API's message."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        message = "(no error message)"  # never the body itself: it may hold secrets
        if isinstance(body, Mapping) and len(body) == 1:
            (inner,) = body.values()
            if isinstance(inner, Mapping) and "message" in inner:
                message = str(inner["message"])
        elif isinstance(body, Mapping) and "message" in body:
            message = str(body["message"])  # Glance's and Keystone's shapes
        super().__init__(f"{method} {path}: {status} {message}")


def password_auth(user: str, password: str, project: str) -> dict[str, Any]:
    """The body of ``POST /identity/v3/auth/tokens`` for a password token scoped to
    a project, user and project named in the ``default`` domain (as keystoneauth1
    sends it)."""
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


class ApiClient:
    """Requests to the API at ``base_url`` (``http://127.0.0.1:8774``).

    Args:
        base_url: scheme, host and port of the API.
        timeout: seconds one request may take.
    """

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"expected http://HOST:PORT, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self.token: str | None = None
        self.requests = 0
        """Requests sent so far."""

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def login(self, user: str, password: str, project: str) -> str:
        """A project-scoped password token (kept for the next requests); its id."""
        body = password_auth(user, password, project)
        response = self.request("POST", "/identity/v3/auth/tokens", body, expect=(201,))
        self.token = response.headers["x-subject-token"]
        return self.token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: tuple[int, ...] = (200,),
    ) -> Response:
        """Send one request; raises :class:`ApiRequestFailed` on another status."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["X-Auth-Token"] = self.token
        if path.startswith("/compute"):
            headers["OpenStack-API-Version"] = f"compute {COMPUTE_VERSION}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        response = self._send(method, path, payload, headers)
        raw = response.read()
        parsed: Any = json.loads(raw) if raw else None
        answer = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)
        if answer.status not in expect:
            raise ApiRequestFailed(method, path, answer.status, parsed)
        return answer

    def _send(
        self, method: str, path: str, payload: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        self.requests += 1
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
            try:
                self._connection.request(method, path, body=payload, headers=headers)
                return self._connection.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # --- shortcuts -------------------------------------------------------------------------

    def get(self, path: str, *, expect: tuple[int, ...] = (200,)) -> Any:
        return self.request("GET", path, expect=expect).body

    def post(self, path: str, body: Any, *, expect: tuple[int, ...] = (200,)) -> Any:
        return self.request("POST", path, body, expect=expect).body

    def compute(
        self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200,)
    ) -> Any:
        """A ``/compute/v2.1`` request's body."""
        return self.request(method, f"/compute/v2.1{path}", body, expect=expect).body


def poll(
    probe: Callable[[], T | None], what: str, *, timeout: float = 120.0, interval: float = 0.02
) -> T:
    """``probe()`` until it returns something other than ``None``; raises
    ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)
