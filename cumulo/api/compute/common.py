"""What the compute routes share: prefixes, URLs, the request's microversion and the
model context of its token."""

from __future__ import annotations

import falcon

from cumulo.identity import Token
from cumulo.rpc.context import RequestContext

from ..auth import token_of
from ..errors import Forbidden
from ..state import ApiState
from .microversions import MIN_VERSION, Microversion

PREFIX = "/compute"
V21 = PREFIX + "/v2.1"


def v21_url(req: falcon.Request, state: ApiState) -> str:
    return state.base_url(req) + V21


def bookmark_url(req: falcon.Request, state: ApiState) -> str:
    return state.base_url(req) + PREFIX


def microversion(req: falcon.Request) -> Microversion:
    """The request's negotiated version (``cumulo.api.compute.negotiation``)."""
    version: Microversion = getattr(req.context, "microversion", MIN_VERSION)
    return version


def project_token(req: falcon.Request, state: ApiState) -> Token:
    """The request's checked token (401 otherwise), scoped to a project (403 otherwise:
    every compute resource belongs to one)."""
    token = token_of(req, state)
    if token.project is None:
        raise Forbidden("The Compute API needs a token scoped to a project.")
    return token


def context_of(req: falcon.Request, token: Token) -> RequestContext:
    """The model context for this request: who asks, and the request id."""
    return RequestContext(
        user_id=token.user.id,
        project_id=token.project.id if token.project else None,
        roles=list(token.role_names),
        request_id=req.context.request_id,
        is_admin="admin" in token.role_names,
    )
