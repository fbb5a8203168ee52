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
    aggregates,
    availability_zones,
    diagnostics,
    extra_specs,
    flavors,
    hypervisors,
    instance_actions,
    keypairs,
    limits,
    migrations,
    networks,
    quotas,
    server_actions,
    server_metadata,
    servers,
    services,
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
    _add_admin_reads(app, state)
    add_account_routes(app, state)


def _add_admin_reads(app: App, state: ApiState) -> None:
    """Instance actions, migrations, hypervisors, services (and the empty aggregates
    list that ``openstack hypervisor show`` reads)."""
    server = f"{V21}/servers/{{server_id}}"
    app.add_route(f"{server}/os-instance-actions", instance_actions.InstanceActions(state))
    app.add_route(
        f"{server}/os-instance-actions/{{request_id}}",
        instance_actions.InstanceActionResource(state),
    )
    app.add_route(f"{V21}/os-migrations", migrations.Migrations(state))
    app.add_route(f"{server}/migrations", migrations.ServerMigrations(state))
    app.add_route(f"{server}/migrations/{{migration_id}}", migrations.ServerMigration(state))
    app.add_route(
        f"{server}/migrations/{{migration_id}}/action", migrations.ServerMigrationAction(state)
    )
    hypervisor = f"{V21}/os-hypervisors/{{hypervisor_id}}"
    app.add_route(f"{V21}/os-hypervisors", hypervisors.Hypervisors(state))
    app.add_route(f"{V21}/os-hypervisors/detail", hypervisors.HypervisorsDetail(state))
    app.add_route(f"{V21}/os-hypervisors/statistics", hypervisors.HypervisorStatistics(state))
    app.add_route(hypervisor, hypervisors.HypervisorResource(state))
    app.add_route(f"{hypervisor}/uptime", hypervisors.HypervisorUptime(state))
    app.add_route(f"{hypervisor}/search", hypervisors.HypervisorSearch(state))
    app.add_route(f"{hypervisor}/servers", hypervisors.HypervisorServers(state))
    app.add_route(f"{V21}/os-services", services.Services(state))
    app.add_route(f"{V21}/os-services/{{service_id}}", services.ServiceResource(state))
    app.add_route(f"{V21}/os-aggregates", aggregates.Aggregates(state))


def add_account_routes(app: App, state: ApiState) -> None:
    """Key pairs, quotas, limits and availability zones."""
    app.add_route(f"{V21}/os-keypairs", keypairs.KeyPairs(state))
    app.add_route(f"{V21}/os-keypairs/{{name}}", keypairs.KeyPairResource(state))
    quota_sets = f"{V21}/os-quota-sets/{{project_id}}"
    app.add_route(quota_sets, quotas.QuotaSet(state))
    app.add_route(f"{quota_sets}/defaults", quotas.QuotaSetDefaults(state))
    app.add_route(f"{quota_sets}/detail", quotas.QuotaSetDetail(state))
    app.add_route(f"{V21}/limits", limits.Limits(state))
    app.add_route(f"{V21}/os-availability-zone", availability_zones.AvailabilityZones(state))
    app.add_route(
        f"{V21}/os-availability-zone/detail", availability_zones.AvailabilityZonesDetail(state)
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
