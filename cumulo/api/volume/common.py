"""What the volume routes share: prefixes, Cinder's error body, the microversion
(``OpenStack-API-Version: volume 3.x``, negotiated before routing and echoed on every
response), the request's token checked against the project in the path, and the
volume store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import falcon

from cumulo.identity import Token
from cumulo.volume.store import VolumeStore

from ..auth import authorized
from ..errors import (
    ApiError,
    Forbidden,
    HttpError,
    NotAcceptable,
    ServiceUnavailable,
    nova_error_body,
)
from ..state import ApiState

PREFIX = "/volume"
V3 = PREFIX + "/v3"
PROJECT = V3 + "/{project_id}"

HEADER = "OpenStack-API-Version"
SERVICE = "volume"
MIN_VERSION: Final = (3, 0)
MAX_VERSION: Final = (3, 0)
"""Only 3.0: every later Cinder microversion adds a resource, a filter or a field this
subset does not have (3.27's attachments API, 3.48's ``shared_targets``...), and a
client told 3.0 is the most sends 3.0 (see docs/volume-api.md)."""

_VERSION = re.compile(r"^([1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def version_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


class QuotaExceeded(ApiError):
    """A project's volume quota would be exceeded: Cinder's 413 ``overLimit``."""

    status = 413


def cinder_error_body(error: HttpError) -> dict[str, Any]:
    """Cinder's fault body: the same names by status as Nova's (``badRequest``,
    ``itemNotFound``, ``overLimit``...)."""
    return nova_error_body(error)


def negotiate(header: str | None) -> tuple[int, int]:
    """The version a request's ``OpenStack-API-Version`` header asks for: 3.0 without
    one (or one naming another service), the maximum for ``latest``; raises
    :class:`NotAcceptable` (406) for a malformed or unserved version."""
    if not header:
        return MIN_VERSION
    for item in header.split(","):
        service, _, wanted = item.strip().partition(" ")
        if service.lower() != SERVICE:
            continue
        wanted = wanted.strip()
        if wanted.lower() == "latest":
            return MAX_VERSION
        match = _VERSION.match(wanted)
        if match is None:
            raise NotAcceptable(f"Invalid microversion {wanted!r}: expected MAJOR.MINOR.")
        version = (int(match[1]), int(match[2]))
        if not MIN_VERSION <= version <= MAX_VERSION:
            raise NotAcceptable(
                f"Version {wanted} is not supported by the API. Minimum is "
                f"{version_text(MIN_VERSION)} and maximum is {version_text(MAX_VERSION)}."
            )
        return version
    return MIN_VERSION


def _owns(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class Microversions:
    """Falcon middleware: ``req.context.volume_version``, or a 406; the header echoed."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not _owns(req.path):
            return
        req.context.volume_version = MIN_VERSION
        req.context.volume_version = negotiate(req.get_header(HEADER))

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        if not _owns(req.path):
            return
        version = getattr(req.context, "volume_version", MIN_VERSION)
        resp.set_header(HEADER, f"{SERVICE} {version_text(version)}")
        resp.set_header("Vary", HEADER)


@dataclass(frozen=True)
class Caller:
    """Who asks, for which project of the path."""

    token: Token
    project_id: str
    """The path's project (the token's, unless an admin addresses another)."""

    @property
    def user_id(self) -> str:
        return self.token.user.id

    @property
    def is_admin(self) -> bool:
        return "admin" in self.token.role_names

    def sees(self, owner: str | None) -> bool:
        """Whether a volume of ``owner`` exists for this caller (admins see all)."""
        return self.is_admin or owner == self.project_id


def caller(req: falcon.Request, state: ApiState, project_id: str, rule: str) -> Caller:
    """The request's token once ``rule`` allows it on the path's project: 401 without a
    valid token, 403 when it is not scoped to a project, when the path names another
    project than the token's (only admins may address any), or when the rule refuses."""
    token = authorized(req, state, rule, {"project_id": project_id})
    if token.project is None:
        raise Forbidden("The Block Storage API needs a token scoped to a project.")
    if project_id != token.project.id and "admin" not in token.role_names:
        raise Forbidden(
            f"The URL's project {project_id} is not the project the token is scoped to."
        )
    return Caller(token, project_id)


def volume_store(state: ApiState) -> VolumeStore:
    """The volume store (503 when the API has none configured)."""
    if state.volumes is None:
        raise ServiceUnavailable("This API has no volume store configured.")
    return state.volumes
