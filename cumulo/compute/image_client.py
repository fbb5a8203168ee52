"""``ImageApiClient``: how a compute host reads images from the image API (Glance v2)
with its own service credential — a project-scoped Keystone v3 password token, taken
again when it nears expiry or the API answers 401 — streaming an image's bytes
without holding them in memory. Standard library only (``http.client``)."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .exceptions import ImageFetchFailed

LOG = logging.getLogger(__name__)

CHUNK: Final = 1 << 20
"""Bytes read from the network at a time."""
REFRESH_MARGIN_S: Final = 60.0
"""A token this close to its expiry is replaced before it is used."""
DEFAULT_TIMEOUT_S: Final = 30.0


@dataclass(frozen=True, kw_only=True)
class ServiceCredential:
    """The host's own identity at the identity API: a user holding a role (``service``)
    on a project, both in a domain. ``repr`` never shows the password."""

    identity_url: str
    """The identity API's root, e.g. ``http://cloud:8774/identity``."""
    username: str
    password: str = field(repr=False)
    project: str = "service"
    user_domain: str = "default"
    project_domain: str = "default"

    def auth_body(self) -> dict[str, Any]:
        """The body of ``POST /v3/auth/tokens`` for this credential."""
        return {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.username,
                            "domain": {"id": self.user_domain},
                            "password": self.password,
                        }
                    },
                },
                "scope": {"project": {"name": self.project, "domain": {"id": self.project_domain}}},
            }
        }


@dataclass(frozen=True)
class ImageRecord:
    """What the image API says of one image (the fields a host needs)."""

    id: str
    name: str
    status: str
    disk_format: str | None
    size: int | None
    checksum: str | None
    """MD5 of the data."""
    os_hash_algo: str | None
    os_hash_value: str | None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ImageRecord:
        size = body.get("size")
        return cls(
            id=str(body.get("id", "")),
            name=str(body.get("name") or ""),
            status=str(body.get("status", "")),
            disk_format=body.get("disk_format"),
            size=int(size) if isinstance(size, int) else None,
            checksum=body.get("checksum"),
            os_hash_algo=body.get("os_hash_algo"),
            os_hash_value=body.get("os_hash_value"),
        )


def _split(url: str, what: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what}: expected an http:// or https:// URL, got {url!r}")
    if parts.username or parts.password:
        # A URL is logged and shown in faults; a password in it would leak.
        raise ValueError(f"{what}: the URL must not carry a user or password")
    return parts


class ImageApiClient:
    """Reads images from the image API at ``image_url`` (its root, e.g.
    ``http://cloud:8774/image``) as ``credential``. Safe to share between threads.

    Every failure is an :class:`ImageFetchFailed` naming the image and the cause
    (never the password).
    """

    def __init__(
        self,
        image_url: str,
        credential: ServiceCredential,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._image = _split(image_url, "image API URL")
        self._identity = _split(credential.identity_url, "identity API URL")
        self.image_url = image_url.rstrip("/")
        self.credential = credential
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires: float = 0.0

    def __repr__(self) -> str:
        return f"<ImageApiClient {self.image_url} as {self.credential.username!r}>"

    # --- the token ---------------------------------------------------------------------

    def _connection(self, parts: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        host, port = parts.hostname or "", parts.port
        if parts.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def token(self, image_id: str) -> str:
        """A token of the service credential, taken anew when none is held or it
        expires within :data:`REFRESH_MARGIN_S`."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires - REFRESH_MARGIN_S:
                self._token, self._expires = self._authenticate(image_id)
            return self._token

    def forget_token(self) -> None:
        with self._lock:
            self._token = None

    def _authenticate(self, image_id: str) -> tuple[str, float]:
        cred = self.credential
        where = f"{cred.identity_url.rstrip('/')}/v3/auth/tokens"
        conn = self._connection(self._identity)
        try:
            conn.request(
                "POST",
                f"{self._identity.path}/v3/auth/tokens",
                body=json.dumps(cred.auth_body()),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            reason = f"identity API unreachable at {where}: {exc}"
            raise ImageFetchFailed(image_id, reason) from None
        finally:
            conn.close()
        if resp.status != 201:
            raise ImageFetchFailed(
                image_id,
                f"the identity API ({where}) refused the service credential of user "
                f"{cred.username!r} on project {cred.project!r}: HTTP {resp.status}",
            )
        token = resp.getheader("X-Subject-Token")
        if not token:
            raise ImageFetchFailed(image_id, f"the identity API ({where}) returned no token")
        return token, self._expiry(body)

    def _expiry(self, body: bytes) -> float:
        try:
            text = json.loads(body)["token"]["expires_at"]
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError, TypeError, AttributeError):
            # No readable expiry: keep it briefly, a 401 makes us take another anyway.
            return self._clock() + 300.0

    # --- requests ----------------------------------------------------------------------

    @staticmethod
    def _check_id(image_id: str) -> None:
        if not image_id or "/" in image_id or "?" in image_id or "#" in image_id:
            raise ImageFetchFailed(image_id, "not an image id")

    def _get(self, image_id: str, path: str) -> tuple[http.client.HTTPConnection, Any]:
        """``GET`` ``path`` of the image API with a token; one re-authentication after a
        401. Returns the open connection and its response (status 200); the caller
        reads and closes."""
        url = f"{self.image_url}{path}"
        for attempt in (1, 2):
            token = self.token(image_id)
            conn = self._connection(self._image)
            try:
                conn.request("GET", f"{self._image.path}{path}", headers={"X-Auth-Token": token})
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise ImageFetchFailed(
                    image_id, f"image API unreachable at {self.image_url}: {exc}"
                ) from None
            if resp.status == 200:
                return conn, resp
            detail = _error_detail(resp)
            conn.close()
            if resp.status == 401 and attempt == 1:
                LOG.info("image API answered 401 for %s: taking a new token", url)
                self.forget_token()
                continue
            if resp.status == 404:
                raise ImageFetchFailed(image_id, f"no such image at the image API ({url}: 404)")
            raise ImageFetchFailed(
                image_id, f"the image API answered {resp.status} to GET {url}{detail}"
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def show(self, image_id: str) -> ImageRecord:
        """The image's metadata (``GET /v2/images/{id}``)."""
        self._check_id(image_id)
        conn, resp = self._get(image_id, f"/v2/images/{image_id}")
        try:
            body = json.loads(resp.read())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise ImageFetchFailed(image_id, f"unreadable image metadata: {exc}") from None
        finally:
            conn.close()
        if not isinstance(body, dict):
            raise ImageFetchFailed(image_id, "unreadable image metadata: not an object")
        return ImageRecord.from_body(body)

    def download(self, image_id: str) -> Generator[bytes]:
        """The image's data (``GET /v2/images/{id}/file``), chunk by chunk."""
        self._check_id(image_id)
        conn, resp = self._get(image_id, f"/v2/images/{image_id}/file")
        try:
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise ImageFetchFailed(image_id, f"download interrupted: {exc}") from None
                if not chunk:
                    return
                yield chunk
        finally:
            conn.close()


def _error_detail(resp: Any) -> str:
    """A short reason from an error body (Glance's ``{"message": ...}`` or plain text)."""
    try:
        raw = resp.read(4096)
    except (OSError, http.client.HTTPException):
        return ""
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return f": {text[:200]}" if text else ""
    if isinstance(data, dict):
        for key in ("message", "title"):
            if isinstance(data.get(key), str):
                return f": {data[key][:200]}"
        for value in data.values():
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return f": {value['message'][:200]}"
    return ""
