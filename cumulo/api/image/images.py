"""``/image/v2/images``: the list (filters ``name``, ``id`` (``in:a,b``), ``status``,
``visibility``; ``limit``/``marker`` with a ``next`` link; newest first, as Glance
sorts), one image in Glance's field set and its data (``/file``); and :func:`image_of`, the lookup a
server create makes of its ``imageRef``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import falcon

from cumulo.identity import Token
from cumulo.image import Image, ImageNotFound
from cumulo.image.catalog import CHUNK

from ..errors import BadRequest, NotFound
from ..state import ApiState
from .common import reader_token

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
"""Glance's ``limit_param_default`` and ``api_limit_max``."""
VISIBILITIES = ("public", "private", "shared", "community", "all")


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
        "os_hash_algo": "sha512",
        "os_hash_value": image.os_hash_value,
        "size": image.size,
        "virtual_size": None,
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


def visible(image: Image, token: Token) -> bool:
    """Public and community images are everyone's; others their owner's (and admins')."""
    if image.visibility in ("public", "community") or "admin" in token.role_names:
        return True
    return token.project is not None and image.owner == token.project.id


def image_of(state: ApiState, image_ref: str) -> Image:
    """The image a server create names (``imageRef``), or Nova's 400."""
    try:
        return state.images.get(image_ref)
    except ImageNotFound:
        raise BadRequest("Can not find requested image") from None


def _limit(req: falcon.Request) -> int:
    text = req.get_param("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit():
        raise BadRequest("limit param must be an integer")
    return min(int(text), MAX_LIMIT)


def _matches(req: falcon.Request, image: Image) -> bool:
    name, wanted_id = req.get_param("name"), req.get_param("id")
    status, visibility = req.get_param("status"), req.get_param("visibility")
    if name is not None and image.name != name:
        return False
    if wanted_id is not None:
        ids = wanted_id[3:].split(",") if wanted_id.startswith("in:") else [wanted_id]
        if image.id not in {i.strip() for i in ids}:
            return False
    if status is not None and image.status != status.lower():
        return False
    return visibility in (None, "all") or image.visibility == visibility


class Images:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = reader_token(req, self.state, "get_images")
        visibility = req.get_param("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {visibility}")
        limit = _limit(req)
        chosen = [
            image
            for image in reversed(self.state.images.images())
            if visible(image, token) and _matches(req, image)
        ]
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


class ImageResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        token = reader_token(req, self.state, "get_image")
        try:
            image = self.state.images.get(image_id)
        except ImageNotFound:
            image = None
        # A token that may download any image (a compute host's) may read its record.
        if image is None or not (
            visible(image, token) or self.state.policy.allows("download_any_image", token)
        ):
            raise NotFound(f"No image found with ID {image_id}")
        resp.media = render(image)


class ImageFile:
    """``/v2/images/{id}/file``: the image's data."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        """Streams the data in chunks; 204 when the image has none yet (Glance's
        answer for a queued image)."""
        token = reader_token(req, self.state, "download_image")
        try:
            image = self.state.images.get(image_id)
        except ImageNotFound:
            image = None
        if image is None or not (
            visible(image, token) or self.state.policy.allows("download_any_image", token)
        ):
            raise NotFound(f"No image found with ID {image_id}")
        path = self.state.images.data_path(image)
        if path is None:
            resp.status = falcon.HTTP_204
            return
        # Opened before the status is sent: a file removed meanwhile is a 404, and an
        # image deleted during the download still streams to its end (the open file).
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"No image found with ID {image_id}") from None
        resp.content_type = "application/octet-stream"
        resp.set_header("Content-MD5", image.checksum)
        resp.content_length = os.fstat(stream.fileno()).st_size
        resp.stream = _chunks(stream)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk
