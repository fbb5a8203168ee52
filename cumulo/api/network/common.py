"""What the network routes share: prefixes, Neutron's error body, the project
token, who sees what, timestamps, and the list filters (``?name=``,
``?device_id=``, ``?fields=``) Neutron accepts on every collection."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.network import NetworkRecord

from ..auth import authorized, token_of
from ..errors import BadRequest, Forbidden, HttpError, NotFound
from ..state import ApiState

PREFIX = "/network"
V20 = PREFIX + "/v2.0"

NEUTRON_TYPES = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    406: "HTTPNotAcceptable",
    409: "HTTPConflict",
    413: "HTTPRequestEntityTooLarge",
    415: "HTTPUnsupportedMediaType",
    503: "HTTPServiceUnavailable",
}
"""Neutron's (webob's) type names by status, for errors that have no type of their own."""

PAGING_PARAMS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"})


def neutron_error_body(error: HttpError) -> dict[str, Any]:
    """``{"NeutronError": {"type", "message", "detail"}}``."""
    kind = error.kind or NEUTRON_TYPES.get(error.status, "HTTPInternalServerError")
    return {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}


def project_token(req: falcon.Request, state: ApiState, rule: str) -> Token:
    """The request's token once ``rule`` allows it (401 without a valid one, 403 when
    refused or not scoped to a project: network resources belong to one)."""
    return _in_a_project(authorized(req, state, rule))


def scoped_token(req: falcon.Request, state: ApiState) -> Token:
    """The request's checked token (401 otherwise), scoped to a project (403
    otherwise), for handlers that authorize against the resource's own project."""
    return _in_a_project(token_of(req, state))


def _in_a_project(token: Token) -> Token:
    if token.project is None:
        raise Forbidden("The Networking API needs a token scoped to a project.")
    return token


def is_admin(token: Token) -> bool:
    return "admin" in token.role_names


def project_of(token: Token) -> str:
    assert token.project is not None  # project_token
    return token.project.id


def owns(token: Token, project_id: str | None) -> bool:
    """Whether the token may change a resource of ``project_id``."""
    return is_admin(token) or (project_id is not None and project_id == project_of(token))


def network_visible(token: Token, network: NetworkRecord) -> bool:
    """Admins see every network, others their project's and the shared ones."""
    return network.shared or owns(token, network.project_id)


def parse_id(value: str, what: str) -> uuid.UUID:
    """``value`` as the id of a ``what``; one that is not a UUID names nothing (404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(
            f"{what.capitalize()} {value} could not be found.", kind=f"{what.capitalize()}NotFound"
        ) from None


def timestamp(value: datetime | None) -> str | None:
    """Neutron's ``2026-12-04T19:00:00Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def filtered(
    req: falcon.Request, items: Iterable[dict[str, Any]], filterable: Iterable[str]
) -> list[dict[str, Any]]:
    """``items`` that match every ``?field=value`` of the query (a repeated field
    matches any of its values; booleans as ``true``/``false``, any case), each cut to
    ``?fields=`` when given.

    Raises:
        BadRequest: a filter on a field the collection does not have.
    """
    allowed = set(filterable)
    wanted: dict[str, set[str]] = {}
    for name in req.params:
        if name in PAGING_PARAMS:
            continue
        if name not in allowed:
            raise BadRequest(
                f"{name} is an invalid filter for this collection.", kind="HTTPBadRequest"
            )
        values = req.get_param_as_list(name) or [""]
        wanted[name] = {v.lower() if v.lower() in ("true", "false") else v for v in values}
    chosen = [
        item
        for item in items
        if all(
            _text(item.get(name)).lower() in values or _text(item.get(name)) in values
            for name, values in wanted.items()
        )
    ]
    fields = req.get_param_as_list("fields")
    if fields:
        chosen = [{k: v for k, v in item.items() if k in fields} for item in chosen]
    return chosen


def only_fields(req: falcon.Request, item: dict[str, Any]) -> dict[str, Any]:
    """``item`` cut to ``?fields=`` when given (a show takes no filters)."""
    fields = req.get_param_as_list("fields")
    return {k: v for k, v in item.items() if k in fields} if fields else item


Route = tuple[str, Callable[[ApiState], object]]
"""A path and the resource class serving it (built with the worker's state)."""
