"""What the identity routes share: base URLs, query parameters, the envelope of a
list (``links``)."""

from __future__ import annotations

from typing import Any

import falcon

from ..errors import ValidationFailed
from ..state import ApiState

PREFIX = "/identity"
V3 = PREFIX + "/v3"

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def v3_url(req: falcon.Request, state: ApiState) -> str:
    return state.base_url(req) + V3


def bool_param(req: falcon.Request, name: str) -> bool | None:
    """A boolean query parameter (``enabled=true``); absent: ``None``."""
    value = req.get_param(name)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValidationFailed(name, f"expected true or false, got {value!r}")


def listing(req: falcon.Request, state: ApiState, key: str, items: list[Any]) -> dict[str, Any]:
    """A Keystone list body: ``{key: items, "links": {self, previous, next}}``."""
    self_url = state.base_url(req) + req.relative_uri
    return {key: items, "links": {"self": self_url, "previous": None, "next": None}}
