"""The Compute API's microversion history, the one place that knows it: each
supported microversion and what it changed, the advertised range, and the
negotiation of a request's version from its headers.

A handler never compares version numbers itself: it asks :func:`since` whether the
negotiated version has a named change (``since(version, DESCRIPTION)``), or picks a
schema or a view from a table keyed by these changes.

The maximum is the last microversion whose changes to the resources Cumulo serves
are all implemented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering


@total_ordering
@dataclass(frozen=True)
class Microversion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Microversion:
        """``"2.55"``; raises ``ValueError`` on anything else."""
        match = re.fullmatch(r"\s*([1-9][0-9]*)\.(0|[1-9][0-9]*)\s*", text)
        if match is None:
            raise ValueError(f"Invalid microversion {text!r}: expected MAJOR.MINOR")
        return cls(int(match[1]), int(match[2]))

    def __lt__(self, other: Microversion) -> bool:
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class Change:
    """What one microversion changed, as far as Cumulo implements it."""

    version: Microversion
    summary: str


def _v(text: str) -> Microversion:
    return Microversion.parse(text)


MIN_VERSION = _v("2.1")

DESCRIPTION = Change(
    _v("2.55"),
    "Flavors have a description: given at create, shown in every flavor body, "
    "changed with PUT /flavors/{flavor_id}.",
)
EXTRA_SPECS_IN_FLAVOR = Change(
    _v("2.61"),
    "Flavor bodies carry the flavor's extra_specs (GET, POST and PUT /flavors...).",
)

# --- servers ----------------------------------------------------------------------------

SERVER_EXTENDED_ATTRIBUTES = Change(
    _v("2.3"),
    "Admins see OS-EXT-SRV-ATTR:reservation_id, launch_index, kernel_id, ramdisk_id, "
    "hostname, root_device_name and user_data; volumes_attached carry "
    "delete_on_termination.",
)
SERVER_LOCKED = Change(_v("2.9"), "Server bodies carry `locked`.")
SERVER_HOST_STATUS = Change(
    _v("2.16"), "Admins see `host_status` (UP, DOWN, MAINTENANCE, UNKNOWN) of the server's host."
)
SERVER_DESCRIPTION = Change(
    _v("2.19"),
    "Servers have a description: given at create, changed with PUT, shown in bodies.",
)
SERVER_TAGS = Change(
    _v("2.26"),
    "Server tags: /servers/{id}/tags routes, `tags` in server bodies, and the tags, "
    "tags-any, not-tags and not-tags-any list filters.",
)
NETWORK_PROXY_REMOVED = Change(
    _v("2.36"),
    "The proxy API /os-networks answers 404 (networks belong to the network service); "
    "its quotas leave os-quota-sets (floating_ips, fixed_ips, security_groups, "
    "security_group_rules: refused in PUT) and their limits leave /limits.",
)
NETWORKS_REQUIRED = Change(
    _v("2.37"),
    "`networks` is required at create: a list of networks, or `auto` or `none`.",
)
INVALID_STATUS_FILTER = Change(
    _v("2.38"), "An unknown `status` filter on server lists answers 400 instead of no servers."
)
FLAVOR_IN_SERVER = Change(
    _v("2.47"),
    "A server's `flavor` is the flavor it was built with (vcpus, ram, disk, ephemeral, "
    "swap, original_name, extra_specs) instead of {id, links}.",
)
STANDARD_DIAGNOSTICS = Change(
    _v("2.48"),
    "GET /servers/{id}/diagnostics answers the standardized, driver-neutral document.",
)
TAGS_AT_CREATE = Change(_v("2.52"), "`tags` may be given when a server is created.")
PERSONALITY_REMOVED = Change(
    _v("2.57"),
    "`personality` (injected files) is no longer accepted at create; their quotas leave "
    "os-quota-sets (refused in PUT), maxPersonality and maxPersonalitySize /limits.",
)

# --- admin reads: instance actions, migrations, hypervisors, services -------------------
SERVICE_FORCED_DOWN = Change(
    _v("2.11"), "os-services bodies carry forced_down (and PUT /os-services/force-down)."
)
ACTIONS_OF_DELETED_SERVERS = Change(
    _v("2.21"), "os-instance-actions answers for deleted servers too."
)
FORCE_COMPLETE_MIGRATION = Change(
    _v("2.22"), "POST /servers/{id}/migrations/{migration_id}/action force_complete."
)
MIGRATION_TYPE_AND_LINKS = Change(
    _v("2.23"),
    "os-migrations items carry migration_type, and links when an in-progress live "
    "migration; GET /servers/{id}/migrations[/{migration_id}].",
)
ABORT_MIGRATION = Change(_v("2.24"), "DELETE /servers/{id}/migrations/{migration_id} aborts.")
HYPERVISOR_CPU_INFO_OBJECT = Change(
    _v("2.28"), "os-hypervisors cpu_info is a JSON object rather than a string."
)
HYPERVISOR_PAGING = Change(_v("2.33"), "GET /os-hypervisors[/detail] take limit and marker.")
EVENTS_FOR_READERS = Change(
    _v("2.51"), "Non-admins see an instance action's events (without traceback)."
)
HYPERVISOR_AND_SERVICE_UUIDS = Change(
    _v("2.53"),
    "Hypervisors and services are named by uuid; os-hypervisors takes "
    "hypervisor_hostname_pattern and with_servers (search and servers routes gone); "
    "PUT /os-services/{service_id} replaces the enable/disable/force-down actions.",
)
ACTIONS_PAGING = Change(
    _v("2.58"),
    "os-instance-actions: updated_at, limit, marker (a request id) and changes-since.",
)
MIGRATIONS_PAGING = Change(
    _v("2.59"),
    "os-migrations: uuid, limit, marker (a migration uuid), changes-since, newest first; "
    "server migrations carry uuid too.",
)
# --- key pairs, quotas, limits (keypairs.py, quotas.py, limits.py) ---------------------------

KEYPAIR_TYPE = Change(
    _v("2.2"),
    "Key pairs have a type (ssh or x509): accepted at create, shown in every key pair "
    "body; create answers 201 and delete 204.",
)
KEYPAIR_USER_ID = Change(
    _v("2.10"),
    "Admins name another user's key pairs: user_id in the create body and as a query "
    "parameter of list, show and delete.",
)
KEYPAIR_PAGING = Change(
    _v("2.35"),
    "GET /os-keypairs pages: limit and marker (a key pair name), a keypairs_links next link.",
)
IMAGE_META_LIMIT_GONE = Change(_v("2.39"), "maxImageMeta leaves GET /limits.")
# Server actions and volume attachments (server_actions.py, volume_attachments.py).
LIVE_MIGRATE_AUTO_BLOCK = Change(
    _v("2.25"),
    "os-migrateLive: block_migration may be 'auto'; disk_over_commit is gone.",
)
LIVE_MIGRATE_FORCE = Change(
    _v("2.30"),
    "os-migrateLive takes force (skip the scheduler's checks of a named host).",
)
VOLUME_ATTACH_TAG = Change(
    _v("2.49"),
    "POST /servers/{server_id}/os-volume_attachments takes a device tag.",
)

HISTORY: tuple[Change, ...] = tuple(
    sorted(
        (
            Change(MIN_VERSION, "The Compute API v2.1 base."),
            DESCRIPTION,
            EXTRA_SPECS_IN_FLAVOR,
            SERVER_EXTENDED_ATTRIBUTES,
            SERVER_LOCKED,
            SERVER_HOST_STATUS,
            SERVER_DESCRIPTION,
            SERVER_TAGS,
            NETWORK_PROXY_REMOVED,
            NETWORKS_REQUIRED,
            INVALID_STATUS_FILTER,
            FLAVOR_IN_SERVER,
            STANDARD_DIAGNOSTICS,
            TAGS_AT_CREATE,
            PERSONALITY_REMOVED,
            SERVICE_FORCED_DOWN,
            ACTIONS_OF_DELETED_SERVERS,
            FORCE_COMPLETE_MIGRATION,
            MIGRATION_TYPE_AND_LINKS,
            ABORT_MIGRATION,
            HYPERVISOR_CPU_INFO_OBJECT,
            HYPERVISOR_PAGING,
            EVENTS_FOR_READERS,
            HYPERVISOR_AND_SERVICE_UUIDS,
            ACTIONS_PAGING,
            MIGRATIONS_PAGING,
            KEYPAIR_TYPE,
            KEYPAIR_USER_ID,
            KEYPAIR_PAGING,
            IMAGE_META_LIMIT_GONE,
            LIVE_MIGRATE_AUTO_BLOCK,
            LIVE_MIGRATE_FORCE,
            VOLUME_ATTACH_TAG,
        ),
        key=lambda change: change.version,
    )
)
"""Every microversion that changed something Cumulo serves, oldest first."""

MAX_VERSION = _v("2.61")
"""The advertised maximum (see the module docstring): every change up to it to a
resource Cumulo serves is implemented; routes Cumulo does not serve (server groups,
remote consoles, ...) answer 404 at every version."""


def since(version: Microversion, change: Change) -> bool:
    """Whether a request at ``version`` sees ``change``."""
    return version >= change.version


class NotAcceptableVersion(ValueError):
    """A requested version that is malformed or outside the supported range."""


SERVICE = "compute"
HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"


def requested(header: str | None, legacy: str | None) -> str | None:
    """The version text a request asks for: the ``compute`` entry of
    ``OpenStack-API-Version`` (``compute 2.55``; several services may be listed,
    comma separated), else the legacy header; ``None`` when neither names one."""
    if header:
        for item in header.split(","):
            service, _, value = item.strip().partition(" ")
            if service.lower() == SERVICE:
                return value.strip()
    if legacy:
        return legacy.strip()
    return None


def negotiate(header: str | None, legacy: str | None) -> Microversion:
    """The version a request is served at: none asked 2.1, ``latest`` the maximum;
    raises :class:`NotAcceptableVersion` for a malformed or unsupported one."""
    text = requested(header, legacy)
    if text is None:
        return MIN_VERSION
    if text.lower() == "latest":
        return MAX_VERSION
    try:
        version = Microversion.parse(text)
    except ValueError:
        raise NotAcceptableVersion(
            f"Invalid format for API version {text!r}: expected MAJOR.MINOR or 'latest'."
        ) from None
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptableVersion(
            f"Version {version} is not supported by the API. Minimum is {MIN_VERSION} "
            f"and maximum is {MAX_VERSION}."
        )
    return version
