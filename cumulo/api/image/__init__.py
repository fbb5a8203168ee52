"""The image service (Glance v2 subset) under ``/image``: the versions document,
images created, listed (Glance's filters, sorting and paging), shown, updated (JSON
patch) and deleted, and their data uploaded and downloaded. The images are
:mod:`cumulo.image`'s catalog; :func:`image_of` is server create's lookup,
:func:`image_meta_of` the ``ImageMeta`` it sends."""

from __future__ import annotations

from ..registry import App, MountedService
from ..state import ApiState
from . import data, images, versions
from .common import PREFIX, V2, glance_error_body
from .images import image_of
from .meta import image_meta_of
from .policies import RULES

__all__ = ["SERVICE", "image_meta_of", "image_of"]


def add_routes(app: App, state: ApiState) -> None:
    app.add_route(PREFIX, versions.Versions(state))
    app.add_route(V2, versions.Versions(state))
    app.add_route(f"{V2}/images", images.Images(state))
    app.add_route(f"{V2}/images/{{image_id}}", images.ImageResource(state))
    app.add_route(f"{V2}/images/{{image_id}}/file", data.ImageFile(state))


SERVICE = MountedService(
    type="image",
    name="glance",
    prefix=PREFIX,
    catalog_path="",
    add_routes=add_routes,
    error_body=glance_error_body,
    policies=RULES,
)
