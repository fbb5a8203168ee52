"""``/compute/v2.1/servers/{server_id}/os-volume_attachments``: list (``limit``,
``offset``), show, attach (200 with the attachment), detach (202).

Volumes come from the volume store (there is no block-storage API yet): a volume
that does not exist, or that belongs to another project, is a 404; one that is not
``available`` a 400, as Nova answers when Cinder refuses the attachment. Attaching
and detaching are calls to the server's host, which records the instance action.
An attachment is rendered from the server's block device mapping of the volume;
at 2.1 to 2.61 it is ``id``, ``serverId``, ``volumeId`` and ``device`` (``tag``
is shown from 2.70, above the advertised maximum)."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import falcon

from cumulo.identity import Token
from cumulo.model import (
    BlockDeviceMapping,
    BlockDeviceMappingList,
    BlockDeviceMappingNotFound,
    Instance,
    VmState,
    Volume,
    VolumeNotFound,
    VolumeStatus,
)
from cumulo.rpc.context import RequestContext
from cumulo.volume.store import VolumeStore

from ..errors import BadRequest, NotFound, ServiceUnavailable
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from .common import context_of, microversion, project_token
from .instances import check_state, check_unlocked, find_instance, target_of
from .microversions import VOLUME_ATTACH_TAG, Change
from .schemas import _envelope, for_version
from .server_actions import check_host, older_host_refuses
from .server_schemas import TAG
from .server_schemas import UUID as UUID_TEXT

MAX_LIMIT: Final = 1000
"""Nova's ``max_limit``: the most items one page holds."""

ATTACHABLE: Final = (VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED, VmState.SOFT_DELETED)
"""Nova's vm_states for attach and detach (those Cumulo has; no task running)."""

DEVICE: dict[str, Any] = {
    "type": ["string", "null"],
    "pattern": r"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$",
}

_ATTACH_2_1: dict[str, Any] = {"volumeId": UUID_TEXT, "device": DEVICE}
ATTACH: tuple[tuple[Change | None, Schema], ...] = (
    (
        VOLUME_ATTACH_TAG,
        Schema(_envelope("volumeAttachment", {**_ATTACH_2_1, "tag": TAG}, ["volumeId"])),
    ),
    (None, Schema(_envelope("volumeAttachment", _ATTACH_2_1, ["volumeId"]))),
)
"""``POST .../os-volume_attachments``, newest first."""


def view(bdm: BlockDeviceMapping) -> dict[str, Any]:
    """An attachment as Nova renders it up to 2.69 (``id`` is the volume's)."""
    volume_id = str(bdm.volume_id)
    return {
        "id": volume_id,
        "serverId": str(bdm.instance_uuid),
        "volumeId": volume_id,
        "device": bdm.device_name,
    }


def limited(req: falcon.Request, items: list[Any]) -> list[Any]:
    """Nova's ``common.limited``: ``offset`` items skipped, at most ``limit`` (and
    never more than :data:`MAX_LIMIT`) kept; a value that is no count is a 400."""
    offset = req.get_param_as_int("offset", min_value=0, default=0)
    limit = min(MAX_LIMIT, req.get_param_as_int("limit", min_value=0) or MAX_LIMIT)
    return items[offset : offset + limit]


def volume_bdms(context: RequestContext, instance: Instance) -> list[BlockDeviceMapping]:
    """The server's mappings of volumes (its other disks are no attachments)."""
    return BlockDeviceMappingList.get_by_instance_uuid(context, instance.uuid).volumes()


def attachment_of(
    context: RequestContext, instance: Instance, volume_id: str
) -> BlockDeviceMapping:
    """The server's mapping of ``volume_id``; 404 when it has none."""
    for bdm in volume_bdms(context, instance):
        if str(bdm.volume_id) == volume_id.lower():
            return bdm
    raise NotFound(f"Instance {instance.uuid} is not attached to volume {volume_id}.")


class _Routes:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _server(
        self, req: falcon.Request, token: Token, server_id: str, rule: str
    ) -> tuple[RequestContext, Instance]:
        """The request's context and the server (404), once ``rule`` allows (403)."""
        context = context_of(req, token)
        instance = find_instance(context, server_id)
        self.state.policy.authorize(rule, token, target_of(instance))
        return context, instance

    def _volumes(self) -> VolumeStore:
        store = self.state.backend.volumes
        if store is None:
            raise ServiceUnavailable("This API has no volume store configured.")
        return store


class VolumeAttachments(_Routes):
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        context, instance = self._server(
            req, token, server_id, "os_compute_api:os-volumes-attachments:index"
        )
        bdms = volume_bdms(context, instance)
        resp.media = {"volumeAttachments": [view(b) for b in limited(req, bdms)]}

    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        body = read_json(req, for_version(ATTACH, microversion(req)))["volumeAttachment"]
        context, instance = self._server(
            req, token, server_id, "os_compute_api:os-volumes-attachments:create"
        )
        check_unlocked(instance, token)
        check_state(instance, "attach_volume", ATTACHABLE)
        check_host(instance)
        volume = self._visible_volume(context, body["volumeId"])
        if any(b.volume_id == volume.id for b in volume_bdms(context, instance)):
            raise BadRequest(f"Invalid volume: volume {volume.id} is already attached.")
        if volume.status is not VolumeStatus.AVAILABLE:
            raise BadRequest(
                f"Invalid volume: volume {volume.id} status must be 'available', "
                f"it is '{volume.status}'."
            )
        with older_host_refuses(context, instance, "attach this volume"):
            bdm = self.state.backend.compute.attach_volume(
                context, instance, volume.id, body.get("device"), tag=body.get("tag")
            )
        resp.media = {"volumeAttachment": view(bdm)}

    def _visible_volume(self, context: RequestContext, volume_id: str) -> Volume:
        """The volume, as the caller's project may see it (404 otherwise)."""
        missing = NotFound(f"Volume {volume_id} could not be found.")
        try:
            volume = self._volumes().get(UUID(volume_id))
        except VolumeNotFound:
            raise missing from None
        if not context.is_admin and volume.project_id != context.project_id:
            raise missing
        return volume


class VolumeAttachment(_Routes):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, volume_id: str
    ) -> None:
        context, instance = self._server(
            req,
            project_token(req, self.state),
            server_id,
            "os_compute_api:os-volumes-attachments:show",
        )
        resp.media = {"volumeAttachment": view(attachment_of(context, instance, volume_id))}

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, volume_id: str
    ) -> None:
        token = project_token(req, self.state)
        context, instance = self._server(
            req, token, server_id, "os_compute_api:os-volumes-attachments:delete"
        )
        bdm = attachment_of(context, instance, volume_id)
        if bdm.is_root:
            raise BadRequest("Cannot detach a root device volume")
        check_unlocked(instance, token)
        check_state(instance, "detach_volume", ATTACHABLE)
        check_host(instance)
        assert bdm.volume_id is not None
        try:
            self.state.backend.compute.detach_volume(context, instance, bdm.volume_id)
        except BlockDeviceMappingNotFound:
            # Detached meanwhile by another request.
            raise NotFound(
                f"Instance {instance.uuid} is not attached to volume {volume_id}."
            ) from None
        resp.status = falcon.HTTP_202
