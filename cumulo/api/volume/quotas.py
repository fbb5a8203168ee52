"""``/volume/v3/{project_id}/os-quota-sets/{target}``: a project's volume quotas
(``volumes``, ``gigabytes``; its own where set, else the defaults), with usage
(``?usage=True``), the defaults, setting them (admins; never below what is in use)
and resetting them; and :func:`check_quota`, the create and extend check.

The limits live in the quota store the Compute API's ``os-quota-sets`` uses (one
row per project and resource; the resource names do not overlap). Usage is
counted, not tracked: every volume of the project in the store, whatever its
status, holds one ``volumes`` and its size in ``gigabytes``. Two requests racing
past the check can both succeed (there is no reservation), as with server quotas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import falcon

from cumulo.identity.exceptions import ProjectNotFound

from ..errors import BadRequest
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from .common import Caller, QuotaExceeded, caller, volume_store

UNLIMITED: Final = -1
DEFAULTS: Final[Mapping[str, int]] = {"volumes": 10, "gigabytes": 1000}
"""Cinder's defaults for the two resources this subset enforces."""
UNITS = {"volumes": "", "gigabytes": "G"}


def limits_of(state: ApiState, project_id: str) -> dict[str, int]:
    """Each resource's limit for the project: its own, else the default."""
    own = state.quotas.limits(project_id)
    return {name: own.get(name, default) for name, default in DEFAULTS.items()}


def usage_of(state: ApiState, project_id: str) -> dict[str, int]:
    """What the project's volumes hold (nothing when the API has no volume store:
    its quotas and limits still answer, for ``openstack quota show``)."""
    if state.volumes is None:
        return {"volumes": 0, "gigabytes": 0}
    entries = volume_store(state).entries(project_id=project_id)
    return {"volumes": len(entries), "gigabytes": sum(e.volume.size_gb for e in entries)}


def check_quota(state: ApiState, project_id: str, *, volumes: int, gigabytes: int) -> None:
    """Raise Cinder's 413 ``overLimit`` unless ``volumes`` more volumes holding
    ``gigabytes`` more GiB fit in the project's quotas."""
    limits, used = limits_of(state, project_id), usage_of(state, project_id)
    if limits["gigabytes"] != UNLIMITED and used["gigabytes"] + gigabytes > limits["gigabytes"]:
        raise QuotaExceeded(
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"gigabytes quota. Requested {gigabytes}G, quota is {limits['gigabytes']}G and "
            f"{used['gigabytes']}G has been consumed."
        )
    if limits["volumes"] != UNLIMITED and used["volumes"] + volumes > limits["volumes"]:
        raise QuotaExceeded(
            f"VolumeLimitExceeded: Maximum number of volumes allowed ({limits['volumes']}) "
            "exceeded for quota 'volumes'."
        )


_LIMIT: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": r"^-?[0-9]+$",
    "minimum": UNLIMITED,
    "maximum": 2147483647,
}
UPDATE = Schema(
    {
        "type": "object",
        "properties": {
            "quota_set": {
                "type": "object",
                "properties": {name: _LIMIT for name in DEFAULTS},
                "additionalProperties": False,
                "minProperties": 1,
            }
        },
        "required": ["quota_set"],
        "additionalProperties": False,
    }
)


def _authorized(
    req: falcon.Request, state: ApiState, project_id: str, target: str, action: str
) -> Caller:
    who = caller(req, state, project_id, f"volume_extension:quotas:{action}")
    # The path's project may be read by its readers; another project's quotas only
    # by an admin.
    state.policy.authorize(f"volume_extension:quotas:{action}", who.token, {"project_id": target})
    return who


def _usage_wanted(req: falcon.Request) -> bool:
    text = req.get_param("usage")
    if text is None:
        return False
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise BadRequest(f"Invalid value '{text}' for usage: expected a boolean.")
    return text.lower() in ("true", "1", "yes")


class QuotaSet:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, target: str
    ) -> None:
        _authorized(req, self.state, project_id, target, "show")
        limits = limits_of(self.state, target)
        body: dict[str, Any] = {"id": target}
        if _usage_wanted(req):
            used = usage_of(self.state, target)
            for name, limit in limits.items():
                body[name] = {"limit": limit, "in_use": used[name], "reserved": 0, "allocated": 0}
        else:
            body.update(limits)
        resp.media = {"quota_set": body}

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, target: str
    ) -> None:
        _authorized(req, self.state, project_id, target, "update")
        values = read_json(req, UPDATE)["quota_set"]
        try:
            self.state.identity.store.get_project(target)
        except ProjectNotFound:
            raise BadRequest(f"Project ID {target} is not a valid project.") from None
        wanted = {name: int(value) for name, value in values.items()}
        used = usage_of(self.state, target)
        for name, limit in wanted.items():
            if limit != UNLIMITED and limit < used[name]:
                raise BadRequest(
                    f"Quota limit {limit} for {name} must be greater than or equal to "
                    f"already used and reserved {used[name]}."
                )
        self.state.quotas.set_limits(target, wanted)
        resp.media = {"quota_set": limits_of(self.state, target)}

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, target: str
    ) -> None:
        _authorized(req, self.state, project_id, target, "update")
        self.state.quotas.clear(target, resources=tuple(DEFAULTS))
        resp.status = falcon.HTTP_200


class QuotaSetDefaults:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, target: str
    ) -> None:
        _authorized(req, self.state, project_id, target, "show")
        resp.media = {"quota_set": {"id": target, **DEFAULTS}}
