"""``POST /volume/v3/{project_id}/volumes/{id}/action``: ``os-extend`` (202): a
detached, ``available`` volume grows to ``new_size`` GiB, within the project's
``gigabytes`` quota. A failure of the disk itself leaves it ``error_extending``,
with a message its owner can read."""

from __future__ import annotations

import logging

import falcon

from cumulo.volume.exceptions import VolumeStoreFull

from ..errors import BadRequest
from ..media import read_json
from ..state import ApiState
from . import schemas
from .common import QuotaExceeded, caller, volume_store
from .quotas import check_quota
from .views import status_of
from .volumes import find_volume

LOG = logging.getLogger(__name__)


class VolumeAction:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, volume_id: str
    ) -> None:
        who = caller(req, self.state, project_id, "volume:extend")
        body = read_json(req, schemas.ACTION)
        entry = find_volume(self.state, who, volume_id)
        volume = entry.volume
        new_size = int(body["os-extend"]["new_size"])
        status = status_of(entry)
        if status != "available" or volume.is_attached:
            raise BadRequest(
                f"Invalid volume: Volume {volume.id} status must be 'available' to extend, "
                f"currently {status}."
            )
        if new_size <= volume.size_gb:
            raise BadRequest(
                "Invalid input received: New size for extend must be greater than current "
                f"size. (current: {volume.size_gb}, extended: {new_size})."
            )
        assert volume.project_id is not None or who.is_admin
        check_quota(
            self.state,
            volume.project_id or who.project_id,
            volumes=0,
            gigabytes=new_size - volume.size_gb,
        )
        store = volume_store(self.state)
        try:
            store.resize(volume.id, new_size)
        except VolumeStoreFull as exc:
            raise QuotaExceeded(
                f"The volume store cannot hold {new_size - volume.size_gb} GiB more: "
                f"{exc.capacity_gb - exc.used_gb} GiB of {exc.capacity_gb} GiB are free."
            ) from None
        except OSError as exc:
            LOG.warning("cannot extend volume %s: %s", volume.id, exc)
            store.set_error(
                volume.id,
                f"The volume could not be grown to {new_size} GiB; it keeps {volume.size_gb} GiB.",
                kind="error_extending",
            )
        resp.status = falcon.HTTP_202
