"""``/image/v2/images``: create (``queued``, owned by the token's project), the list
(filters ``name``, ``id`` (``in:a,b``), ``status``, ``visibility``, ``owner``;
``sort_key``/``sort_dir``; ``limit``/``marker`` with a ``next`` link; newest first
by default, as Glance sorts), one image in Glance's field set, its update (a JSON
patch, :mod:`.patch`) and delete; and :func:`image_of`, the lookup a server create
makes of its ``imageRef``. The data (``/file``) is :mod:`.data`'s."""

from __future__ import annotations

import re
from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.image import Image, ImageNotFound, new_image
from cumulo.image.catalog import order_key

from ..errors import BadRequest, Forbidden, NotFound, UnsupportedMediaType
from ..media import read_json
from ..state import ApiState
from . import patch, schemas
from .common import reader_token

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
"""Glance's ``limit_param_default`` and ``api_limit_max``."""
LIST_VISIBILITIES = ("public", "private", "shared", "community", "all")
SORT_KEYS = (
    "created_at",
    "updated_at",
    "name",
    "id",
    "status",
    "size",
    "disk_format",
    "container_format",
    "visibility",
    "min_disk",
    "min_ram",
)
PATCH_MEDIA_TYPES = (
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
)


def render(image: Image) -> dict[str, Any]:
    """An image as Glance v2 shows it (extra properties at the top level)."""
    body: dict[str, Any] = {
        **image.properties,
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": False,
        "checksum": image.checksum,
        "os_hash_algo": "sha512" if image.os_hash_value else None,
        "os_hash_value": image.os_hash_value,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "owner": image.owner,
        "tags": list(image.tags),
        "created_at": image.created_at,
        "updated_at": image.updated_at,
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }
    return body


def is_admin(token: Token) -> bool:
    return "admin" in token.role_names


def visible(image: Image, token: Token) -> bool:
    """Public and community images are everyone's; others their owner's (and admins')."""
    if image.visibility in ("public", "community") or is_admin(token):
        return True
    return owns(image, token)


def owns(image: Image, token: Token) -> bool:
    return token.project is not None and image.owner == token.project.id


def visible_image(state: ApiState, image_id: str, token: Token) -> Image:
    """The image if ``token`` may see it, else Glance's 404 (the same for one that
    does not exist: another project's private image is not revealed)."""
    try:
        image = state.images.get(image_id)
    except ImageNotFound:
        image = None
    if image is None or not visible(image, token):
        raise NotFound(f"No image found with ID {image_id}")
    return image


def changeable_image(state: ApiState, image_id: str, token: Token, action: str) -> Image:
    """The visible image if ``token``'s project owns it (or is an admin's), else 403."""
    image = visible_image(state, image_id, token)
    if not (owns(image, token) or is_admin(token)):
        raise Forbidden(f"You are not permitted to {action} image {image_id}.")
    return image


def image_of(state: ApiState, image_ref: str, token: Token | None = None) -> Image:
    """The image a server create names (``imageRef``), or Nova's 400: for an image
    that does not exist or that ``token``'s project cannot see, and for one that has
    no data yet."""
    try:
        image = state.images.get(image_ref)
    except ImageNotFound:
        image = None
    if image is None or (token is not None and not visible(image, token)):
        raise BadRequest("Can not find requested image")
    if image.status != "active":
        raise BadRequest(f"Image {image.id} is not active.")
    return image


def _limit(req: falcon.Request) -> int:
    text = req.get_param("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit():
        raise BadRequest("limit param must be an integer")
    return min(int(text), MAX_LIMIT)


def _ids(text: str) -> set[str]:
    ids = text[3:].split(",") if text.startswith("in:") else [text]
    return {i.strip() for i in ids}


def _matches(req: falcon.Request, image: Image, token: Token) -> bool:
    name, wanted_id = req.get_param("name"), req.get_param("id")
    status, visibility = req.get_param("status"), req.get_param("visibility")
    owner = req.get_param("owner")
    if name is not None and image.name != name:
        return False
    if wanted_id is not None and image.id not in _ids(wanted_id):
        return False
    if status is not None and image.status != status.lower():
        return False
    if owner is not None and image.owner != owner:
        return False
    if visibility == "private" and not is_admin(token):
        return image.visibility == "private" and owns(image, token)
    return visibility in (None, "all") or image.visibility == visibility


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or () for part in value.split(",")]


def _sorting(req: falcon.Request) -> list[tuple[str, bool]]:
    """``(key, descending)`` pairs from ``sort_key``/``sort_dir`` (repeated or comma
    separated) or Glance's ``sort=name:asc,size``; ``created_at`` descending by default."""
    sort = req.get_param("sort")
    keys = _split(req.get_param_as_list("sort_key"))
    dirs = _split(req.get_param_as_list("sort_dir"))
    if sort is not None:
        if keys or dirs:
            raise BadRequest("The 'sort' parameter cannot be combined with sort_key or sort_dir.")
        pairs = [part.partition(":") for part in sort.split(",")]
        keys = [key.strip() for key, _, _ in pairs]
        dirs = [direction.strip() or "desc" for _, _, direction in pairs]
    keys = [key for key in (k.strip() for k in keys) if key] or ["created_at"]
    if len(dirs) > len(keys):
        raise BadRequest("There are more sort_dir values than sort_key values.")
    dirs += [dirs[-1] if dirs else "desc"] * (len(keys) - len(dirs))
    order = []
    for key, direction in zip(keys, dirs, strict=True):
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid sort key: {key}. Supported: {', '.join(SORT_KEYS)}.")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {direction}. It must be asc or desc.")
        order.append((key, direction == "desc"))
    return order


def _sorted(images: list[Image], order: list[tuple[str, bool]]) -> list[Image]:
    # Stable sorts from the last key to the first; creation order (newest first)
    # breaks the remaining ties, so that paging by marker is well defined.
    result = sorted(images, key=order_key, reverse=True)
    for key, descending in reversed(order):
        if key == "created_at":
            result = sorted(result, key=order_key, reverse=descending)
            continue

        def value(image: Image, key: str = key) -> tuple[bool, Any]:
            found = getattr(image, key)
            return (found is not None, found if found is not None else 0)

        result = sorted(result, key=value, reverse=descending)
    return result


class Images:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = reader_token(req, self.state, "get_images")
        visibility = req.get_param("visibility")
        if visibility is not None and visibility not in LIST_VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {visibility}")
        limit = _limit(req)
        order = _sorting(req)
        chosen = _sorted(
            [
                image
                for image in self.state.images.images()
                if visible(image, token) and _matches(req, image, token)
            ],
            order,
        )
        marker = req.get_param("marker")
        if marker is not None:
            ids = [image.id for image in chosen]
            if marker not in ids:
                raise BadRequest(f"Invalid marker. Image {marker} could not be found.")
            chosen = chosen[ids.index(marker) + 1 :]
        page = chosen[:limit]
        body: dict[str, Any] = {
            "images": [render(image) for image in page],
            "first": "/v2/images",
            "schema": "/v2/schemas/images",
        }
        if len(chosen) > limit and page:
            query = {k: v for k, v in req.params.items() if k != "marker"}
            query["marker"] = page[-1].id
            body["next"] = f"/v2/images?{falcon.to_query_str(query, prefix=False)}"
        resp.media = body

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = reader_token(req, self.state, "add_image")
        body = read_json(req, schemas.CREATE)
        if not isinstance(body, dict):
            raise BadRequest("The image to create must be a JSON object.")
        for name in body:
            if name in schemas.READ_ONLY - {"id"}:
                raise Forbidden(f"Attribute '{name}' is read-only.")
        core = {name: body[name] for name in schemas.ATTRIBUTES if name in body}
        properties = {name: value for name, value in body.items() if name not in schemas.ATTRIBUTES}
        properties.pop("id", None)
        for name in properties:
            check_property_name(name)
        core.pop("os_hidden", None)  # accepted, never set: Cumulo hides no image
        if core.get("visibility") == "public":
            self.state.policy.authorize("publicize_image", token)
        assert token.project is not None  # reader_token: scoped to a project
        fields: dict[str, Any] = {
            **core,
            "owner": token.project.id,
            "visibility": core.get("visibility", "private"),
            "tags": tuple(core.get("tags", ())),
            "properties": properties,
        }
        if "id" in body:
            fields["id"] = str(body["id"]).lower()
        image = self.state.images.create(new_image(**fields))
        resp.status = falcon.HTTP_201
        resp.location = f"/v2/images/{image.id}"
        resp.media = render(image)


PROPERTY_NAME = re.compile(schemas.PROPERTY_NAME)


def check_property_name(name: str) -> None:
    if name in schemas.READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if not PROPERTY_NAME.match(name):
        raise BadRequest(
            f"Invalid property name '{name[:64]}': expected 1 to 255 letters, digits or _:.-"
        )


class ImageResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        token = reader_token(req, self.state, "get_image")
        if self.state.policy.allows("download_any_image", token):
            # A token that may download any image (a compute host's) may read its record.
            try:
                resp.media = render(self.state.images.get(image_id))
            except LookupError:
                raise NotFound(f"No image found with ID {image_id}") from None
            return
        resp.media = render(visible_image(self.state, image_id, token))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        token = reader_token(req, self.state, "modify_image")
        changeable_image(self.state, image_id, token, "modify")
        if not req.content_type:
            raise UnsupportedMediaType(f"Expected {PATCH_MEDIA_TYPES[0]}, got no content type.")
        operations = read_json(req, schemas.PATCH, PATCH_MEDIA_TYPES)
        changes = patch.parse(operations, check_property_name)
        if changes.publicizes():
            self.state.policy.authorize("publicize_image", token)
        image = self.state.images.update(image_id, changes.apply)
        resp.media = render(image)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        token = reader_token(req, self.state, "delete_image")
        changeable_image(self.state, image_id, token, "delete")

        def unprotected(image: Image) -> None:
            if image.protected:
                raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")

        self.state.images.delete(image_id, unprotected)
        resp.status = falcon.HTTP_204
