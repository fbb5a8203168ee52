"""The image service (Glance v2, read-only subset) under ``/image``: the versions
document, the image list with Glance's filters and paging, one image. The images
are :mod:`cumulo.image`'s catalog; :func:`image_of` is server create's lookup."""

from __future__ import annotations

from ..registry import App, MountedService
from ..state import ApiState
from . import images, versions
from .common import PREFIX, V2, glance_error_body
from .images import image_of
from .policies import RULES

__all__ = ["SERVICE", "image_of"]


def add_routes(app: App, state: ApiState) -> None:
    app.add_route(PREFIX, versions.Versions(state))
    app.add_route(V2, versions.Versions(state))
    app.add_route(f"{V2}/images", images.Images(state))
    app.add_route(f"{V2}/images/{{image_id}}", images.ImageResource(state))
    app.add_route(f"{V2}/images/{{image_id}}/file", images.ImageFile(state))


SERVICE = MountedService(
    type="image",
    name="glance",
    prefix=PREFIX,
    catalog_path="",
    add_routes=add_routes,
    error_body=glance_error_body,
    policies=RULES,
)
