"""The token check every protected request makes: ``X-Auth-Token`` validated by the
identity manager (a key decryption and a read of the user; nothing stored), once
per request."""

from __future__ import annotations

from collections.abc import Mapping

import falcon

from cumulo.identity import Token

from .errors import Unauthorized
from .state import ApiState

AUTH_HEADER = "X-Auth-Token"


def token_of(req: falcon.Request, state: ApiState) -> Token:
    """The request's checked token; raises 401 if it has none, or one that is not
    valid (garbage, expired, revoked)."""
    token: Token | None = getattr(req.context, "token", None)
    if token is not None:
        return token
    presented = req.get_header(AUTH_HEADER)
    if not presented:
        raise Unauthorized("The request you have made requires authentication.")
    token = state.identity.validate(presented.strip())
    req.context.token = token
    return token


def authorized(
    req: falcon.Request, state: ApiState, rule: str, target: Mapping[str, object] | None = None
) -> Token:
    """The request's checked token (see :func:`token_of`) once the policy's ``rule``
    allows it on ``target``; raises 401 without a valid token, 403 when refused."""
    token = token_of(req, state)
    state.policy.authorize(rule, token, target)
    return token
