"""``/compute/v2.1/servers``: create (through the conductor's build task), list and
detail with Nova's filters, show, update, delete (through the server's compute
host).

Reads go through the model objects on this worker's storage. A server's changes go
to the conductor (build) or to its host (delete), never around them; only a server
that no host ever took (its placement failed) is deleted here, as Nova's API does.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import falcon

from cumulo.compute.build import NO_NETWORK_KEY
from cumulo.conductor.tasks.exceptions import NoValidHost
from cumulo.identity import Token
from cumulo.image import Image
from cumulo.model import (
    REQUESTED_NETWORKS_KEY,
    BlockDeviceMapping,
    DestinationType,
    Flavor,
    FlavorNotFound,
    ImageMeta,
    Instance,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupNotFound,
    Service,
    ServiceBinary,
    ServiceList,
    SourceType,
    UnexpectedStateError,
    VmState,
)
from cumulo.model.block_device import volume_mappings_of
from cumulo.rpc.context import RequestContext

from ..errors import BadRequest, Conflict
from ..image import image_meta_of, image_of
from ..media import read_json
from ..network.default_group import DEFAULT as DEFAULT_GROUP
from ..network.default_group import default_group
from ..network.ids import group_id_of
from ..state import ApiState
from . import server_schemas, server_views
from .common import bookmark_url, context_of, microversion, project_token, v21_url
from .instances import check_unlocked, find_instance, target_of
from .keypairs import keypair_of
from .microversions import SERVER_DESCRIPTION, since
from .quotas import allowed_server_count
from .schemas import for_version
from .server_networks import DEFAULT_NETWORK_NAME, requested_networks
from .server_query import LIST_ATTRS, ServerQuery
from .services import COMPUTE_ZONE as DEFAULT_ZONE

GIB = 1024**3
NETWORK_LABEL = DEFAULT_NETWORK_NAME
"""The name the default network is known by (``networks[].uuid`` may also name it)."""
NO_NETWORK = NO_NETWORK_KEY
"""The system metadata key saying the server was asked with ``networks: none``."""
_PASSWORD_CHARS = string.ascii_letters + string.digits


# --- rendering -----------------------------------------------------------------------


def view_context(
    req: falcon.Request, state: ApiState, token: Token, instances: Sequence[Instance]
) -> server_views.ViewContext:
    """What the request's server bodies need, read once for all of them: the hosts'
    services (admins' ``host_status``) and the volume mappings."""
    context = context_of(req, token)
    admin = context.is_admin
    services: dict[str, Service] = {}
    if admin and instances:
        services = {
            s.host: s for s in ServiceList.get_all(context, binary=ServiceBinary.COMPUTE).objects
        }
    by_instance = volume_mappings_of(context, [i.uuid for i in instances]) if instances else {}
    volumes = {str(uuid_): bdms for uuid_, bdms in by_instance.items()}
    return server_views.ViewContext(
        version=microversion(req),
        v21_url=v21_url(req, state),
        bookmark_url=bookmark_url(req, state),
        project_id=context.project_id or "",
        admin=admin,
        services=services,
        volumes=volumes,
        service_down_time=state.config.service_down_time,
    )


def render_one(
    req: falcon.Request, state: ApiState, token: Token, instance: Instance
) -> dict[str, Any]:
    return server_views.detail(view_context(req, state, token, [instance]), instance)


# --- listing -------------------------------------------------------------------------


class _Listing:
    detailed = False

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        rule = "os_compute_api:servers:detail" if self.detailed else "os_compute_api:servers:index"
        self.state.policy.authorize(rule, token)
        context = context_of(req, token)
        if "all_tenants" in req.params and not context.is_admin:
            self.state.policy.authorize(f"{rule}:get_all_tenants", token)
        query = ServerQuery(req, context)
        chosen = query.select(context)
        page = chosen if query.limit is None else chosen[: query.limit]
        view = view_context(req, self.state, token, page if self.detailed else [])
        render = server_views.detail if self.detailed else server_views.brief
        body: dict[str, Any] = {"servers": [render(view, i) for i in page]}
        if query.limit is not None and len(chosen) > query.limit and page:
            params = {k: v for k, v in req.params.items() if k != "marker"}
            params["marker"] = str(page[-1].uuid)
            path = "/servers/detail" if self.detailed else "/servers"
            body["servers_links"] = [
                {
                    "rel": "next",
                    "href": f"{view.v21_url}{path}?{falcon.to_query_str(params, prefix=False)}",
                }
            ]
        resp.media = body


class ServersDetail(_Listing):
    detailed = True


# --- create ----------------------------------------------------------------------------


def _count(value: Any, name: str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}.") from None
    if count < 1:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}.")
    return count


def _flavor(context: RequestContext, ref: Any) -> Flavor:
    flavorid = str(ref).rstrip("/").rsplit("/", 1)[-1]  # a flavor's URL names it too
    try:
        flavor = Flavor.get_by_flavorid(context, flavorid)
    except FlavorNotFound:
        raise BadRequest(f"Flavor {flavorid} could not be found.") from None
    if flavor.disabled:
        raise BadRequest(f"Flavor {flavorid} could not be found.")
    return flavor


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "t", "yes", "y", "on"}


def _security_groups(
    context: RequestContext, project_id: str, values: dict[str, Any]
) -> SecurityGroupList:
    """The groups a new server joins, named by name or by Neutron id (OSC sends the
    id when the cloud has a network service); none named: the project's ``default``,
    which is made on first use."""
    wanted = {g["name"] for g in values.get("security_groups", []) if "name" in g}
    if not wanted:
        return SecurityGroupList(objects=[default_group(context, project_id)])
    groups: dict[int, SecurityGroup] = {}
    for name in sorted(wanted):
        group = _security_group(context, project_id, name)
        groups[group.id] = group
    return SecurityGroupList(objects=[groups[key] for key in sorted(groups)])


def _security_group(context: RequestContext, project_id: str, name: str) -> SecurityGroup:
    if name == DEFAULT_GROUP:
        return default_group(context, project_id)
    try:
        return SecurityGroup.get_by_name(context, project_id, name)
    except SecurityGroupNotFound:
        pass
    group_id = group_id_of(name)
    if group_id is not None:
        try:
            group = SecurityGroup.get(context, group_id)
        except SecurityGroupNotFound:
            pass
        else:
            if group.project_id == project_id:
                return group
    raise BadRequest(f"Security group {name} not found for project {project_id}.")


def _root_mappings(
    values: dict[str, Any], instance_uuid: uuid.UUID
) -> tuple[str | None, list[BlockDeviceMapping]]:
    """The image to boot and the mappings to pass on. OSC sends an image mapping
    beside ``imageRef``: that is an ordinary image boot. A volume at boot index 0
    boots from that volume."""
    image_ref: str | None = values.get("imageRef") or None
    given: list[BlockDeviceMapping] = []
    for index, raw in enumerate(values.get("block_device_mapping_v2", [])):
        source = raw.get("source_type", "blank")
        destination = raw.get("destination_type", "volume" if source == "volume" else "local")
        boot_index = raw.get("boot_index")
        boot = int(boot_index) if boot_index not in (None, "") else None
        if source == "image" and destination == "local":
            if boot == 0:
                image_ref = raw.get("uuid") or image_ref
            continue
        if source == "volume" and destination == "volume":
            try:
                volume_id = uuid.UUID(str(raw.get("uuid")))
            except ValueError:
                raise BadRequest(
                    f"Invalid input for field/attribute block_device_mapping_v2[{index}].uuid."
                ) from None
            given.append(
                BlockDeviceMapping(
                    uuid=uuid.uuid4(),
                    instance_uuid=instance_uuid,
                    source_type=SourceType.VOLUME,
                    destination_type=DestinationType.VOLUME,
                    volume_id=volume_id,
                    boot_index=boot,
                    device_name=raw.get("device_name"),
                    delete_on_termination=_bool(raw.get("delete_on_termination", False)),
                    tag=raw.get("tag"),
                )
            )
            if boot == 0:
                image_ref = None
            continue
        raise BadRequest(
            f"Block device mapping {index} ({source} to {destination}) is not supported: "
            "this cloud boots from an image or a volume and attaches volumes."
        )
    if image_ref is None and not any(b.boot_index == 0 for b in given):
        raise BadRequest("Missing imageRef attribute")
    return image_ref, given


def check_image_fits(image: Image, flavor: Flavor) -> None:
    """Nova's 400s for a flavor smaller than the image asks for (a flavor with no root
    disk takes any image: its size comes from the image)."""
    if flavor.memory_mb < image.min_ram:
        raise BadRequest("Flavor's memory is too small for requested image.")
    too_big = (image.size or 0) > flavor.root_gb * GIB
    if flavor.root_gb and (flavor.root_gb < image.min_disk or too_big):
        raise BadRequest("Flavor's disk is too small for requested image.")


def _zone_and_host(given: str | None) -> tuple[str, str | None]:
    """``availability_zone``: ``nova`` (the one zone), or Nova's ``nova:HOST`` with
    which an admin forces the host (``nova:HOST:NODE`` too; the node is the host's
    one)."""
    if given is None:
        return DEFAULT_ZONE, None
    zone, _, rest = given.partition(":")
    if zone != DEFAULT_ZONE:
        raise BadRequest(f"The requested availability zone is not available: {given}")
    host = rest.partition(":")[0]
    return zone, host or None


class Servers(_Listing):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        version = microversion(req)
        body = read_json(req, for_version(server_schemas.CREATE, version))
        values: dict[str, Any] = body["server"]
        self.state.policy.authorize("os_compute_api:servers:create", token)
        context = context_of(req, token)
        assert context.project_id is not None and context.user_id is not None  # project_token
        min_count = _count(values.get("min_count", 1), "min_count")
        max_count = _count(values.get("max_count", min_count), "max_count")
        if min_count > max_count:
            raise BadRequest("min_count must be <= max_count")
        flavor = _flavor(context, values["flavorRef"])
        zone, forced_host = _zone_and_host(values.get("availability_zone"))
        if forced_host is not None:
            self.state.policy.authorize("os_compute_api:servers:create:forced_host", token)
        groups = _security_groups(context, context.project_id, values)
        admin_password = values.get("adminPass") or "".join(
            secrets.choice(_PASSWORD_CHARS) for _ in range(12)
        )
        name = values["name"].strip()
        image_ref, _ = _root_mappings(values, uuid.uuid4())  # checked before anything else
        image_meta = None
        if image_ref is not None:
            image = image_of(self.state, image_ref, token)
            check_image_fits(image, flavor)
            image_meta = image_meta_of(image)  # 400 for a property the drivers refuse
        key_name, key_data = None, None
        if "key_name" in values:
            key = keypair_of(self.state, context.user_id, values["key_name"])
            key_name, key_data = key.name, key.public_key
        count = allowed_server_count(
            self.state, context, context.project_id, min_count, max_count, flavor
        )
        asked = requested_networks(self.state, context.project_id, values, count)
        templates: list[Instance] = []
        mappings: list[BlockDeviceMapping] = []
        reservation = "r-" + "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8)
        )
        for index in range(count):
            instance_uuid = uuid.uuid4()
            image_ref, given = _root_mappings(values, instance_uuid)
            mappings.extend(given)
            system_metadata = {"disk_config": values.get("OS-DCF:diskConfig", "MANUAL")}
            if not asked.with_network:
                system_metadata[NO_NETWORK] = "none"
            elif asked.requested is not None:
                system_metadata[REQUESTED_NETWORKS_KEY] = asked.requested.to_metadata()
            templates.append(
                Instance(
                    uuid=instance_uuid,
                    user_id=context.user_id,
                    project_id=context.project_id,
                    display_name=name if count == 1 else f"{name}-{index + 1}",
                    image_ref=image_ref,
                    key_name=key_name,
                    key_data=key_data,
                    availability_zone=zone,
                    flavor=flavor,
                    security_groups=groups,
                    metadata=dict(values.get("metadata", {})),
                    system_metadata=system_metadata,
                    user_data=values.get("user_data"),  # base64: the schema checked it
                    config_drive=_bool(values.get("config_drive", False)),
                    description=values.get("description"),
                    access_ip_v4=values.get("accessIPv4"),
                    access_ip_v6=values.get("accessIPv6"),
                    reservation_id=reservation,
                )
            )
        tags = values.get("tags")
        built = self._build(context, templates, mappings, admin_password, forced_host, image_meta)
        if tags:
            for instance in built:
                instance.obj_set_context(context)
                instance.tags = list(tags)
                instance.save()
        resp.status = falcon.HTTP_202
        if _bool(values.get("return_reservation_id", False)):
            resp.media = {"reservation_id": reservation}
            return
        first = built[0] if built else templates[0]
        view = view_context(req, self.state, token, [])
        ident = str(first.uuid)
        resp.media = {
            "server": {
                "id": ident,
                "links": view.links("servers", ident),
                "OS-DCF:diskConfig": values.get("OS-DCF:diskConfig", "MANUAL"),
                "security_groups": [{"name": g.name} for g in groups.objects]
                or [{"name": "default"}],
                "adminPass": admin_password,
            }
        }
        resp.set_header("Location", view.links("servers", ident)[0]["href"])

    def _build(
        self,
        context: RequestContext,
        templates: list[Instance],
        mappings: list[BlockDeviceMapping],
        admin_password: str,
        forced_host: str | None,
        image_meta: ImageMeta | None,
    ) -> list[Instance]:
        """Have the conductor record, place and build the servers. One that no host
        can take is in ERROR with a fault; Nova answers 202 all the same."""
        try:
            return self.state.backend.tasks.build_instances(
                context,
                templates,
                image_meta=image_meta,
                block_device_mappings=mappings,
                admin_password=admin_password,
                requested_host=forced_host,
            )
        except NoValidHost:
            return templates


# --- one server ------------------------------------------------------------------------


class ServerResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        context = context_of(req, token)
        instance = find_instance(context, server_id, LIST_ATTRS)
        self.state.policy.authorize("os_compute_api:servers:show", token, target_of(instance))
        resp.media = {"server": render_one(req, self.state, token, instance)}

    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        version = microversion(req)
        values = read_json(req, for_version(server_schemas.UPDATE, version))["server"]
        context = context_of(req, token)
        instance = find_instance(context, server_id, LIST_ATTRS)
        self.state.policy.authorize("os_compute_api:servers:update", token, target_of(instance))
        if "name" in values:
            instance.display_name = values["name"].strip()
        if "accessIPv4" in values:
            instance.access_ip_v4 = values["accessIPv4"] or None
        if "accessIPv6" in values:
            instance.access_ip_v6 = values["accessIPv6"] or None
        if "description" in values and since(version, SERVER_DESCRIPTION):
            instance.description = values["description"]
        if "OS-DCF:diskConfig" in values:
            instance.system_metadata = {
                **instance.system_metadata,
                "disk_config": values["OS-DCF:diskConfig"],
            }
        instance.save()
        resp.media = {"server": render_one(req, self.state, token, instance)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        context = context_of(req, token)
        instance = find_instance(context, server_id)
        self.state.policy.authorize("os_compute_api:servers:delete", token, target_of(instance))
        check_unlocked(instance, token)
        if instance.host is None:
            self._delete_unplaced(instance)
        else:
            self.state.backend.compute.terminate_instance(context, instance)
        resp.status = falcon.HTTP_204

    @staticmethod
    def _delete_unplaced(instance: Instance) -> None:
        """A server no host took (its placement failed, or it is still being placed):
        nothing runs anywhere, so the API deletes the record itself."""
        try:
            instance.vm_state = VmState.DELETED
            instance.task_state = None
            instance.terminated_at = datetime.now(UTC)
            instance.save(expected_vm_state=VmState.ERROR)
        except UnexpectedStateError:
            raise Conflict(
                f"Cannot 'delete' instance {instance.uuid} while it is being placed; "
                "retry once it has a host."
            ) from None
        instance.destroy()
