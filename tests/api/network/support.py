"""Requests to ``/network/v2.0`` through the compute cloud's in-process client."""

from __future__ import annotations

from typing import Any

V20 = "/network/v2.0"


def get(cloud: Any, path: str, who: str = "member", **kw: Any) -> Any:
    return cloud.client.simulate_get(V20 + path, headers={"X-Auth-Token": cloud.tokens[who]}, **kw)


def post(cloud: Any, path: str, body: Any, who: str = "member") -> Any:
    return cloud.client.simulate_post(
        V20 + path, headers={"X-Auth-Token": cloud.tokens[who]}, json=body
    )


def delete(cloud: Any, path: str, who: str = "member") -> Any:
    return cloud.client.simulate_delete(V20 + path, headers={"X-Auth-Token": cloud.tokens[who]})


def error(response: Any) -> dict[str, Any]:
    """The ``NeutronError`` of an error response (its shape checked)."""
    body = response.json
    assert set(body) == {"NeutronError"}, body
    assert set(body["NeutronError"]) == {"type", "message", "detail"}, body
    return dict(body["NeutronError"])
