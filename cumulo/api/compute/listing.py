"""What the admin listings share with Nova's: query strings checked by a schema
(Nova's ``query_schema``), ``limit``/``marker`` pages with a ``next`` link, the
``changes-since`` filter, and timestamps in Nova's format (oslo's
``PERFECT_TIME_FORMAT``: no zone, microseconds, always UTC)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import falcon

from ..errors import BadRequest, ValidationFailed
from ..validation import Schema

T = TypeVar("T")

MAX_LIMIT = 1000
"""Nova's ``[api] max_limit``: the most items one page holds."""

NON_NEGATIVE_INTEGER: dict[str, Any] = {"type": "string", "pattern": r"^[0-9]+$"}
TEXT: dict[str, Any] = {"type": "string"}
BOOLEAN_TEXT: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(?i:true|false|1|0|yes|no|on|off|t|f|y|n)$",
}
_TRUE = {"true", "1", "yes", "on", "t", "y"}


def query_schema(properties: Mapping[str, Any], *, strict: bool) -> Schema:
    """A query-string schema: each parameter given once, as text; ``strict`` refuses
    parameters it does not name (Nova's microversions that set
    ``additionalProperties: false``)."""
    return Schema(
        {"type": "object", "properties": dict(properties), "additionalProperties": not strict}
    )


MULTI_TEXT: dict[str, Any] = {"type": ["string", "array"], "items": {"type": "string"}}
"""A parameter that may be repeated (Nova's ``common_query_param``)."""


def read_query(req: falcon.Request, schema: Schema) -> dict[str, Any]:
    """The request's query parameters (text, or a list of texts when repeated),
    checked against ``schema``: 400 naming the parameter (a repeated single one
    fails its ``string`` type)."""
    params: dict[str, Any] = dict(req.params)
    schema.validate(params)
    return params


def values_of(query: Mapping[str, Any], name: str) -> list[str] | None:
    """A repeatable parameter's values (``None``: not given)."""
    value = query.get(name)
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


def limit_of(query: Mapping[str, Any]) -> int:
    """``limit``, at most :data:`MAX_LIMIT` (and that when absent), as Nova caps it."""
    text = query.get("limit")
    return MAX_LIMIT if text is None else min(int(text), MAX_LIMIT)


def truthy(text: str) -> bool:
    """oslo's ``bool_from_string`` for a value ``BOOLEAN_TEXT`` accepted."""
    return text.lower() in _TRUE


def flag_of(query: Mapping[str, Any], name: str) -> bool:
    """A boolean parameter the schema checked (``BOOLEAN_TEXT``); absent is false."""
    return truthy(str(query.get(name, "false")))


def changes_since(query: Mapping[str, Any]) -> datetime | None:
    """``changes-since`` as an aware UTC time (a time without a zone is UTC)."""
    text = query.get("changes-since")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed("changes-since", "expected an ISO 8601 date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    limit: int,
    marker: str | None,
    not_found: str,
    keep: Callable[[T], bool] = lambda _: True,
) -> tuple[list[T], bool]:
    """The page of the ``items`` that ``keep`` accepts after the one whose ``key`` is
    ``marker``, at most ``limit`` long, and whether more follow (so a ``next`` link is
    due). As in Nova, the marker is looked up among all the items, filters aside; an
    unknown one is a 400 saying ``not_found``."""
    chosen = list(items)
    if marker is not None:
        keys = [key(item) for item in chosen]
        if marker not in keys:
            raise BadRequest(not_found)
        chosen = chosen[keys.index(marker) + 1 :]
    chosen = [item for item in chosen if keep(item)]
    return chosen[:limit], len(chosen) > limit


def next_links(req: falcon.Request, url: str, marker: str) -> list[dict[str, str]]:
    """The ``next`` link of a page: the same query with ``marker`` moved on."""
    query = {k: v for k, v in req.params.items() if k != "marker"}
    query["marker"] = marker
    return [{"rel": "next", "href": f"{url}?{falcon.to_query_str(query, prefix=False)}"}]


def nova_time(moment: datetime | None) -> str | None:
    """A timestamp as Nova's API writes it (``2018-04-25T01:26:29.000000``, UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def later(moment: datetime | None, since: datetime | None) -> bool:
    """Whether ``moment`` is at or after ``since`` (no ``since``: always)."""
    if since is None:
        return True
    if moment is None:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment >= since
