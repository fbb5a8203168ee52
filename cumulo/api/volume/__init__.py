"""The block-storage service (a Cinder v3 subset) under ``/volume``: the versions
document, volumes (list, detail, create — empty or from an image —, show, update,
extend, delete), the ``volumes``/``gigabytes`` quotas and limits of a project and
its one availability zone, all under
``/volume/v3/{project_id}``. The volumes are :mod:`cumulo.volume`'s store, the one
the compute hosts attach from; see docs/volume-api.md."""

from __future__ import annotations

from ..registry import App, MountedService
from ..state import ApiState
from . import availability_zones, limits, quotas, versions, volume_actions, volumes
from .common import PREFIX, PROJECT, V3, Microversions, cinder_error_body
from .policies import RULES

__all__ = ["SERVICE"]


def add_routes(app: App, state: ApiState) -> None:
    app.add_route(PREFIX, versions.Versions(state, choices=True))
    app.add_route(V3, versions.Versions(state, choices=False))
    app.add_route(f"{PROJECT}/volumes", volumes.Volumes(state))
    app.add_route(f"{PROJECT}/volumes/detail", volumes.VolumesDetail(state))
    app.add_route(f"{PROJECT}/volumes/{{volume_id}}", volumes.VolumeResource(state))
    app.add_route(f"{PROJECT}/volumes/{{volume_id}}/action", volume_actions.VolumeAction(state))
    app.add_route(f"{PROJECT}/os-quota-sets/{{target}}", quotas.QuotaSet(state))
    app.add_route(f"{PROJECT}/os-quota-sets/{{target}}/defaults", quotas.QuotaSetDefaults(state))
    app.add_route(f"{PROJECT}/limits", limits.Limits(state))
    app.add_route(f"{PROJECT}/os-availability-zone", availability_zones.AvailabilityZones(state))


SERVICE = MountedService(
    type="block-storage",
    name="cinderv3",
    prefix=PREFIX,
    catalog_path="/v3/{project_id}",
    add_routes=add_routes,
    error_body=cinder_error_body,
    policies=RULES,
    middleware=(Microversions,),
    aliases=("volumev3", "volume"),
)
