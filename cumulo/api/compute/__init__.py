"""The Compute API v2.1 under ``/compute``: version documents, microversions
(``microversions.py`` knows their history, ``negotiation.py`` applies them to every
request), flavors and their extra specs; one module per resource. The API reads and
writes flavors through the model objects with its own database storage, as nova-api
does."""

from __future__ import annotations

from cumulo.db.api import SqlStorage
from cumulo.db.engine import create_engine
from cumulo.model.storage import set_storage

from ..errors import nova_error_body
from ..registry import App, MountedService
from ..state import ApiState
from . import (
    diagnostics,
    extra_specs,
    flavors,
    networks,
    server_actions,
    server_metadata,
    servers,
    versions,
    volume_attachments,
)
from .common import PREFIX, V21
from .negotiation import Microversions
from .policies import RULES


def add_routes(app: App, state: ApiState) -> None:
    if state.config.install_storage:
        # This worker's storage for the model objects (after the fork, like its engine).
        set_storage(SqlStorage(create_engine(state.config.database_url)))
    app.add_route(PREFIX, versions.Versions(state))
    app.add_route(V21, versions.Version(state))
    app.add_route(f"{V21}/flavors", flavors.Flavors(state))
    app.add_route(f"{V21}/flavors/detail", flavors.FlavorsDetail(state))
    app.add_route(f"{V21}/flavors/{{flavor_id}}", flavors.FlavorResource(state))
    app.add_route(f"{V21}/flavors/{{flavor_id}}/os-extra_specs", extra_specs.ExtraSpecs(state))
    app.add_route(
        f"{V21}/flavors/{{flavor_id}}/os-extra_specs/{{key}}", extra_specs.ExtraSpec(state)
    )
    app.add_route(f"{V21}/servers", servers.Servers(state))
    app.add_route(f"{V21}/servers/detail", servers.ServersDetail(state))
    app.add_route(f"{V21}/servers/{{server_id}}", servers.ServerResource(state))
    app.add_route(f"{V21}/servers/{{server_id}}/metadata", server_metadata.Metadata(state))
    app.add_route(
        f"{V21}/servers/{{server_id}}/metadata/{{key}}", server_metadata.MetadataItem(state)
    )
    app.add_route(f"{V21}/servers/{{server_id}}/tags", server_metadata.Tags(state))
    app.add_route(f"{V21}/servers/{{server_id}}/tags/{{tag}}", server_metadata.Tag(state))
    app.add_route(f"{V21}/servers/{{server_id}}/diagnostics", diagnostics.ServerDiagnostics(state))
    app.add_route(f"{V21}/os-networks", networks.Networks(state))
    app.add_route(f"{V21}/os-networks/{{network_id}}", networks.NetworkResource(state))
    server = f"{V21}/servers/{{server_id}}"
    app.add_route(f"{server}/action", server_actions.ServerAction(state))
    app.add_route(f"{server}/os-volume_attachments", volume_attachments.VolumeAttachments(state))
    app.add_route(
        f"{server}/os-volume_attachments/{{volume_id}}", volume_attachments.VolumeAttachment(state)
    )


SERVICE = MountedService(
    type="compute",
    name="nova",
    prefix=PREFIX,
    catalog_path="/v2.1",
    add_routes=add_routes,
    error_body=nova_error_body,
    policies=RULES,
    middleware=(Microversions,),
)
