"""``/volume/v3/{project_id}/volumes``: the list (summaries) and ``detail`` (full
bodies) with the ``name`` and ``status`` filters, ``all_tenants`` for admins and
``limit``/``marker`` paging, newest first as Cinder sorts; create (empty, or a copy
of an image), show, update (name, description) and delete.

Create is synchronous (the store's files are local): the volume is ``creating``
while an image's bytes are copied in, then ``available``, or ``error`` with a
message its owner can read when the copy failed; the answer is Cinder's 202 either
way. A volume of another project is a 404, as one that does not exist."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import falcon

from cumulo.image import Image, ImageNotFound
from cumulo.model import VolumeNotFound
from cumulo.volume.exceptions import VolumeStoreFull
from cumulo.volume.store import VolumeEntry, VolumeStore

from ..errors import BadRequest, NotFound
from ..image.images import visible
from ..media import read_json
from ..state import ApiState
from . import image_copy, schemas
from .common import Caller, QuotaExceeded, caller, volume_store
from .quotas import check_quota
from .views import DEFAULT_TYPE, ZONE, detail, status_of, summary

LOG = logging.getLogger(__name__)

MAX_LIMIT: Final = 1000
"""Cinder's ``osapi_max_limit``: the most volumes one page holds."""

DELETABLE: Final = ("available", "error", "error_extending", "error_deleting")
"""The statuses a volume may be deleted in (never while attached)."""


def find_volume(state: ApiState, who: Caller, volume_id: str) -> VolumeEntry:
    """The volume as ``who`` may see it; 404 when it does not exist for them."""
    missing = NotFound(f"Volume {volume_id} could not be found.")
    try:
        entry = volume_store(state).entry(UUID(volume_id))
    except (ValueError, VolumeNotFound):
        raise missing from None
    if not who.sees(entry.volume.project_id):
        raise missing
    return entry


def _listed(req: falcon.Request, state: ApiState, who: Caller) -> list[VolumeEntry]:
    """The volumes the list shows, filtered and paged, newest first."""
    everyone = who.is_admin and _flag(req, "all_tenants")
    entries = volume_store(state).entries(project_id=None if everyone else who.project_id)
    entries.reverse()
    name, status = req.get_param("name"), req.get_param("status")
    if name is not None:
        entries = [e for e in entries if e.volume.name == name]
    if status is not None:
        entries = [e for e in entries if status_of(e) == status.lower()]
    marker = req.get_param("marker")
    if marker is not None:
        ids = [str(e.volume.id) for e in entries]
        if marker.lower() not in ids:
            raise BadRequest(f"Marker {marker} could not be found.")
        entries = entries[ids.index(marker.lower()) + 1 :]
    return entries


def _limit(req: falcon.Request) -> int:
    text = req.get_param("limit")
    if text is None:
        return MAX_LIMIT
    if not text.isdigit():
        raise BadRequest(f"Invalid value '{text}' for limit: expected a non-negative integer.")
    return min(int(text), MAX_LIMIT)


def _flag(req: falcon.Request, name: str) -> bool:
    return (req.get_param(name) or "").lower() in ("1", "true", "yes")


def _page(
    req: falcon.Request, state: ApiState, who: Caller, key: str, render: Any
) -> dict[str, Any]:
    entries = _listed(req, state, who)
    limit = _limit(req)
    page = entries[:limit]
    base = state.base_url(req)
    body: dict[str, Any] = {key: [render(e, base) for e in page]}
    if len(entries) > limit and page:
        query = {k: v for k, v in req.params.items() if k != "marker"}
        query["marker"] = str(page[-1].volume.id)
        body[f"{key}_links"] = [
            {"rel": "next", "href": f"{base}{req.path}?{falcon.to_query_str(query, prefix=False)}"}
        ]
    return body


def _given(body: dict[str, Any], *names: str) -> str | None:
    """The first of ``names`` the body has (``null`` meaning empty); ``None`` when it
    has none of them (unchanged)."""
    for name in names:
        if name in body:
            return str(body[name] or "")
    return None


class Volumes:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        who = caller(req, self.state, project_id, "volume:get_all")
        resp.media = _page(req, self.state, who, "volumes", summary)

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        who = caller(req, self.state, project_id, "volume:create")
        body = read_json(req, schemas.CREATE)["volume"]
        store = volume_store(self.state)
        zone = body.get("availability_zone")
        if zone not in (None, ZONE):
            raise BadRequest(f"Invalid availability zone: {zone}")
        volume_type = body.get("volume_type")
        if volume_type not in (None, DEFAULT_TYPE):
            raise NotFound(f"Volume type with name {volume_type} could not be found.")
        image_ref = body.get("imageRef") or body.get("image_id")
        image = None if image_ref is None else self._image(who, image_ref)
        size = body.get("size")
        if size is None:
            raise BadRequest("Invalid input for field 'volume.size': is required")
        size = int(size)
        if image is not None:
            try:
                needed = image_copy.virtual_size_gb(self._image_path(image), image)
            except image_copy.ImageCopyFailed as exc:
                raise BadRequest(str(exc)) from None
            if needed > size:
                raise BadRequest(
                    f"Invalid input received: Size of specified image {needed}GB is larger "
                    f"than volume size {size}GB."
                )
        check_quota(self.state, who.project_id, volumes=1, gigabytes=size)
        name = body.get("name") or body.get("display_name") or ""
        description = body.get("description") or body.get("display_description") or ""
        try:
            volume = store.create(
                size,
                name,
                project_id=who.project_id,
                user_id=who.user_id,
                description=description,
                image_id=None if image is None else image.id,
            )
        except VolumeStoreFull as exc:
            raise QuotaExceeded(
                f"The volume store cannot hold {size} GiB more: {exc.capacity_gb - exc.used_gb} "
                f"GiB of {exc.capacity_gb} GiB are free."
            ) from None
        if image is not None:
            self._fill(store, volume.id, image)
        resp.status = falcon.HTTP_202
        resp.media = {"volume": detail(store.entry(volume.id), self.state.base_url(req))}

    def _image(self, who: Caller, image_ref: str) -> Image:
        try:
            image = self.state.images.get(image_ref)
        except ImageNotFound:
            image = None
        if image is None or not visible(image, who.token):
            raise BadRequest(
                f"Invalid image identifier or unable to access requested image {image_ref}."
            )
        if image.status != "active":
            raise BadRequest(f"Image {image.id} is not active.")
        return image

    def _image_path(self, image: Image) -> Path:
        assert self.state.images.directory is not None  # an image was found in it
        return image_copy.image_file(self.state.images.directory, image)

    def _fill(self, store: VolumeStore, volume_id: UUID, image: Image) -> None:
        """Copy the image in: ``available`` when done, ``error`` (with why) if not."""
        path = store.get(volume_id).path
        assert path is not None  # the store names every volume's file
        try:
            image_copy.copy_into(self._image_path(image), image, Path(path))
        except image_copy.ImageCopyFailed as exc:
            store.set_error(volume_id, str(exc))
            return
        store.finish_create(volume_id)


class VolumesDetail:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        who = caller(req, self.state, project_id, "volume:get_all")
        resp.media = _page(req, self.state, who, "volumes", detail)


class VolumeResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, volume_id: str
    ) -> None:
        who = caller(req, self.state, project_id, "volume:get")
        entry = find_volume(self.state, who, volume_id)
        resp.media = {"volume": detail(entry, self.state.base_url(req))}

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, volume_id: str
    ) -> None:
        who = caller(req, self.state, project_id, "volume:update")
        body = read_json(req, schemas.UPDATE)["volume"]
        entry = find_volume(self.state, who, volume_id)
        store = volume_store(self.state)
        store.update(
            entry.volume.id,
            name=_given(body, "name", "display_name"),
            description=_given(body, "description", "display_description"),
        )
        resp.media = {"volume": detail(store.entry(entry.volume.id), self.state.base_url(req))}

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, volume_id: str
    ) -> None:
        who = caller(req, self.state, project_id, "volume:delete")
        entry = find_volume(self.state, who, volume_id)
        status = status_of(entry)
        if entry.volume.is_attached or status not in DELETABLE:
            raise BadRequest(
                f"Invalid volume: Volume {entry.volume.id} status must be available or error "
                f"or error_extending or error_deleting and must not be attached; it is "
                f"{status}"
                + (
                    f", attached to server {entry.volume.attached_to}"
                    if entry.volume.is_attached
                    else ""
                )
                + "."
            )
        store = volume_store(self.state)
        try:
            store.delete(entry.volume.id)
        except VolumeNotFound:
            pass  # deleted meanwhile: what was asked is done
        except OSError as exc:
            LOG.warning("cannot delete volume %s: %s", entry.volume.id, exc)
            store.set_error(
                entry.volume.id,
                "The volume's disk could not be removed; deleting it again may succeed.",
                kind="error_deleting",
            )
        resp.status = falcon.HTTP_202
