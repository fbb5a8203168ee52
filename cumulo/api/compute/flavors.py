"""``/compute/v2.1/flavors``: list, detail (``is_public``, ``minRam``, ``minDisk``,
``limit``/``marker``), show, create, change the description (2.55), delete."""

from __future__ import annotations

import uuid
from typing import Any

import falcon

from cumulo.model import Flavor, FlavorList

from ..errors import BadRequest
from ..media import read_json
from ..state import ApiState
from . import schemas, views
from .common import bookmark_url, context_of, microversion, project_token, v21_url
from .microversions import DESCRIPTION, since

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


def is_public_filter(value: str | None, admin: bool) -> bool | None:
    """Nova's ``is_public``: absent means public only, ``none`` every flavor (admins;
    others see public ones whatever they ask)."""
    if not admin:
        return True
    if value is None:
        return True
    if value.lower() == "none":
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadRequest(f"Invalid is_public filter [{value}]")


def _int_param(req: falcon.Request, name: str, label: str) -> int | None:
    value = req.get_param(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid {label} filter [{value}]") from None
    if number < 0:
        raise BadRequest(f"Invalid {label} filter [{value}]")
    return number


def select(req: falcon.Request, flavors: list[Flavor], admin: bool) -> tuple[list[Flavor], bool]:
    """The flavors the query asks for, in Nova's order (``flavorid``); and whether a
    ``limit`` cut the page short (so a ``next`` link is due)."""
    public = is_public_filter(req.get_param("is_public"), admin)
    min_ram = _int_param(req, "minRam", "minRam")
    min_disk = _int_param(req, "minDisk", "minDisk")
    limit = _int_param(req, "limit", "limit")
    marker = req.get_param("marker")
    chosen = [
        f
        for f in sorted(flavors, key=lambda f: f.flavorid)
        if (public is None or f.is_public == public)
        and (admin or not f.disabled)
        and (min_ram is None or f.memory_mb >= min_ram)
        and (min_disk is None or f.root_gb >= min_disk)
    ]
    if marker is not None:
        ids = [f.flavorid for f in chosen]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        chosen = chosen[ids.index(marker) + 1 :]
    if limit is not None and len(chosen) > limit:
        return chosen[:limit], True
    return chosen, False


class _Listing:
    detailed = False

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:flavors:index", token)
        context = context_of(req, token)
        found = FlavorList.get_all(context, include_disabled=True).objects
        page, more = select(req, found, context.is_admin)
        version, v21, bookmark = (
            microversion(req),
            v21_url(req, self.state),
            bookmark_url(req, self.state),
        )
        render = views.detail if self.detailed else views.brief
        body: dict[str, Any] = {"flavors": [render(version, v21, bookmark, f) for f in page]}
        if more and page:
            query = {k: v for k, v in req.params.items() if k != "marker"}
            query["marker"] = page[-1].flavorid
            path = "/flavors/detail" if self.detailed else "/flavors"
            body["flavors_links"] = [
                {"rel": "next", "href": f"{v21}{path}?{falcon.to_query_str(query, prefix=False)}"}
            ]
        resp.media = body


class Flavors(_Listing):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        version = microversion(req)
        values = read_json(req, schemas.for_version(schemas.CREATE, version))["flavor"]
        self.state.policy.authorize("os_compute_api:os-flavor-manage:create", token)
        flavorid = values.get("id")
        if flavorid is None or flavorid == "auto":
            flavorid = str(uuid.uuid4())
        swap = values.get("swap", 0)
        flavor = Flavor(
            flavorid=str(flavorid),
            name=values["name"],
            memory_mb=int(values["ram"]),
            vcpus=int(values["vcpus"]),
            root_gb=int(values["disk"]),
            ephemeral_gb=int(values.get("OS-FLV-EXT-DATA:ephemeral", 0)),
            swap=int(swap) if swap != "" else 0,
            rxtx_factor=float(values.get("rxtx_factor", 1.0)),
            is_public=values.get("os-flavor-access:is_public", True),
            description=values.get("description"),
        )
        flavor.obj_set_context(context_of(req, token)).create()
        resp.media = {
            "flavor": views.detail(
                version, v21_url(req, self.state), bookmark_url(req, self.state), flavor
            )
        }


class FlavorsDetail(_Listing):
    detailed = True


class FlavorResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:flavors:index", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        resp.media = {"flavor": self._render(req, flavor)}

    def on_put(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        token = project_token(req, self.state)
        if not since(microversion(req), DESCRIPTION):
            raise falcon.HTTPMethodNotAllowed(["GET", "DELETE"])
        values = read_json(req, schemas.UPDATE)["flavor"]
        self.state.policy.authorize("os_compute_api:os-flavor-manage:update", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        flavor.update_description(values["description"])
        resp.media = {"flavor": self._render(req, flavor)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-flavor-manage:delete", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        flavor.destroy()
        resp.status = falcon.HTTP_202

    def _render(self, req: falcon.Request, flavor: Flavor) -> dict[str, Any]:
        v21, bookmark = v21_url(req, self.state), bookmark_url(req, self.state)
        return views.detail(microversion(req), v21, bookmark, flavor)
