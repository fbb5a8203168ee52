"""A server's user metadata (``/servers/{id}/metadata[/{key}]``) and tags
(``/servers/{id}/tags[/{tag}]``, from 2.26): small changes to the instance record,
written through the model object. Metadata changes need a server at rest (Nova's
states); tags may change in any state but deletion."""

from __future__ import annotations

from typing import Final

import falcon

from cumulo.model import Instance, TaskState, VmState

from ..errors import BadRequest, NotFound
from ..media import read_json
from ..state import ApiState
from . import server_schemas
from .common import context_of, microversion, project_token, v21_url
from .instances import check_state, check_unlocked, find_instance, target_of
from .microversions import SERVER_TAGS, since

METADATA_STATES: Final = (
    VmState.ACTIVE,
    VmState.PAUSED,
    VmState.SUSPENDED,
    VmState.STOPPED,
)
MAX_TAGS: Final = 50
TAG_VM_STATES: Final = tuple(s for s in VmState if s not in (VmState.DELETED, VmState.SOFT_DELETED))
TAG_TASK_STATES: Final = (None, *(t for t in TaskState if t is not TaskState.DELETING))
"""Tags change in any state but (being) deleted."""


class _ServerPart:
    """Finds the server, checks the policy rule named by the subclass' prefix."""

    prefix = ""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _server(
        self, req: falcon.Request, server_id: str, action: str, *, change: bool
    ) -> Instance:
        token = project_token(req, self.state)
        instance = find_instance(context_of(req, token), server_id, ("tags",))
        self.state.policy.authorize(f"{self.prefix}:{action}", token, target_of(instance))
        if change:
            check_unlocked(instance, token)
        return instance


class Metadata(_ServerPart):
    prefix = "os_compute_api:server-metadata"

    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        instance = self._server(req, server_id, "index", change=False)
        resp.media = {"metadata": dict(instance.metadata)}

    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        metadata = read_json(req, server_schemas.METADATA_BODY)["metadata"]
        instance = self._server(req, server_id, "update_all", change=True)
        check_state(instance, "update_metadata", METADATA_STATES)
        instance.metadata = dict(metadata)
        instance.save()
        resp.media = {"metadata": dict(instance.metadata)}

    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        metadata = read_json(req, server_schemas.METADATA_BODY)["metadata"]
        instance = self._server(req, server_id, "create", change=True)
        check_state(instance, "update_metadata", METADATA_STATES)
        instance.metadata = {**instance.metadata, **metadata}
        instance.save()
        resp.media = {"metadata": dict(instance.metadata)}


class MetadataItem(_ServerPart):
    prefix = "os_compute_api:server-metadata"

    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        instance = self._server(req, server_id, "show", change=False)
        if key not in instance.metadata:
            raise NotFound("Metadata item was not found")
        resp.media = {"meta": {key: instance.metadata[key]}}

    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        meta = read_json(req, server_schemas.META_ITEM)["meta"]
        if key not in meta:
            raise BadRequest("Request body and URI mismatch")
        instance = self._server(req, server_id, "update", change=True)
        check_state(instance, "update_metadata", METADATA_STATES)
        instance.metadata = {**instance.metadata, key: meta[key]}
        instance.save()
        resp.media = {"meta": {key: meta[key]}}

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str
    ) -> None:
        instance = self._server(req, server_id, "delete", change=True)
        if key not in instance.metadata:
            raise NotFound("Metadata item was not found")
        check_state(instance, "delete_metadata", METADATA_STATES)
        instance.metadata = {k: v for k, v in instance.metadata.items() if k != key}
        instance.save()
        resp.status = falcon.HTTP_204


class _Tags(_ServerPart):
    prefix = "os_compute_api:os-server-tags"

    def _tagged(
        self, req: falcon.Request, server_id: str, action: str, *, change: bool
    ) -> Instance:
        if not since(microversion(req), SERVER_TAGS):
            raise falcon.HTTPNotFound()
        instance = self._server(req, server_id, action, change=False)
        if change:
            check_state(instance, "update tags", TAG_VM_STATES, TAG_TASK_STATES)
        return instance

    @staticmethod
    def _save(instance: Instance, tags: list[str]) -> None:
        if len(tags) > MAX_TAGS:
            raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
        instance.tags = sorted(set(tags))
        instance.save()


class Tags(_Tags):
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        instance = self._tagged(req, server_id, "index", change=False)
        resp.media = {"tags": sorted(instance.tags)}

    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        tags = read_json(req, server_schemas.TAGS_BODY)["tags"]
        instance = self._tagged(req, server_id, "update_all", change=True)
        self._save(instance, list(tags))
        resp.media = {"tags": sorted(instance.tags)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        instance = self._tagged(req, server_id, "delete_all", change=True)
        self._save(instance, [])
        resp.status = falcon.HTTP_204


class Tag(_Tags):
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, tag: str) -> None:
        instance = self._tagged(req, server_id, "show", change=False)
        if tag not in instance.tags:
            raise NotFound(f"Tag '{tag}' could not be found on server {server_id}")
        resp.status = falcon.HTTP_204

    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str, tag: str) -> None:
        server_schemas.TAG_VALUE.validate(tag)
        instance = self._tagged(req, server_id, "update", change=True)
        if tag in instance.tags:
            resp.status = falcon.HTTP_204
            return
        self._save(instance, [*instance.tags, tag])
        resp.status = falcon.HTTP_201
        resp.set_header("Location", f"{v21_url(req, self.state)}/servers/{server_id}/tags/{tag}")

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, tag: str
    ) -> None:
        instance = self._tagged(req, server_id, "delete", change=True)
        if tag not in instance.tags:
            raise NotFound(f"Tag '{tag}' could not be found on server {server_id}")
        self._save(instance, [t for t in instance.tags if t != tag])
        resp.status = falcon.HTTP_204
