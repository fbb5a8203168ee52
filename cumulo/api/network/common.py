"""What the network routes share: prefixes, Neutron's error body, the token of a
request seen from a project."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import Token

from ..auth import token_of
from ..errors import Forbidden, HttpError

PREFIX = "/network"
V2 = PREFIX + "/v2.0"

_TYPES = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    409: "HTTPConflict",
    413: "HTTPRequestEntityTooLarge",
    415: "HTTPUnsupportedMediaType",
    503: "HTTPServiceUnavailable",
}
"""Neutron's ``type`` for an error no more specific exception names."""


def neutron_error_body(error: HttpError) -> dict[str, Any]:
    """Neutron's error: ``{"NeutronError": {"type", "message", "detail"}}``."""
    kind = error.type or _TYPES.get(error.status, "HTTPInternalServerError")
    return {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}


def project_token(req: falcon.Request, state: Any) -> Token:
    """The request's checked token (401 otherwise), scoped to a project (403
    otherwise: every network resource belongs to one)."""
    token = token_of(req, state)
    if token.project is None:
        raise Forbidden("The Networking API needs a token scoped to a project.")
    return token
