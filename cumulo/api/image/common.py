"""What the image routes share: prefixes, Glance's error body, the reader's token."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import Token

from ..auth import authorized
from ..errors import Forbidden, HttpError
from ..state import ApiState

PREFIX = "/image"
V2 = PREFIX + "/v2"


def glance_error_body(error: HttpError) -> dict[str, Any]:
    """Glance's (webob's) JSON error: the status line as ``code``."""
    return {
        "code": f"{error.status} {error.title}",
        "title": error.title,
        "message": error.message,
    }


def reader_token(req: falcon.Request, state: ApiState, rule: str) -> Token:
    """The request's token once ``rule`` allows it (401 without a valid one, 403 when
    refused or not scoped to a project: images are seen from a project)."""
    token = authorized(req, state, rule)
    if token.project is None:
        raise Forbidden("The Image API needs a token scoped to a project.")
    return token
