"""``RequestContext``: who asks (user, project, roles, admin) and the request id,
carried on every RPC message."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import msgspec


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


class RequestContext(msgspec.Struct, kw_only=True):
    """The identity and request id a message is sent on behalf of.

    ``request_id`` is generated when not given, and travels unchanged through
    every call a request causes, so logs of all services can be joined on it.
    """

    user_id: str | None = None
    project_id: str | None = None
    roles: list[str] = msgspec.field(default_factory=list)
    request_id: str = msgspec.field(default_factory=new_request_id)
    is_admin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "roles": list(self.roles),
            "request_id": self.request_id,
            "is_admin": self.is_admin,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RequestContext:
        """Load a context sent by a peer; keys this version does not know are ignored.

        A bad value raises ``msgspec.ValidationError`` naming it, for example
        ``Expected `array`, got `str` - at `$.roles```.
        """
        return msgspec.convert(values, cls)

    def elevated(self) -> RequestContext:
        """A copy with admin rights (for internal work done on a user's behalf)."""
        roles = self.roles if "admin" in self.roles else [*self.roles, "admin"]
        return msgspec.structs.replace(self, is_admin=True, roles=roles)
