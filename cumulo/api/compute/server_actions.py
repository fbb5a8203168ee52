"""``POST /compute/v2.1/servers/{server_id}/action``: start, stop, reboot, pause,
unpause, suspend, resume, lock, unlock, ``os-getConsoleOutput`` and
``os-migrateLive``, one action per request.

Each reads like Nova's handler: the body checked against the action's schema at the
request's microversion, the server found (404 for another project's), the action's
policy rule on the server's project (403), its lock (409 for a locked server unless
an admin asks) and its state (409 ``conflictingRequest``), then the work: a cast to
the server's host (202, no body; the host records the instance action), a call for
the console output, a cast of the conductor's task for a live migration. Lock and unlock are
the API's own writes, recorded as the instance actions ``lock`` and ``unlock``."""

from __future__ import annotations

import platform
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Final

import falcon

from cumulo.compute.exceptions import ComputeTooOld
from cumulo.compute.rpcapi import ComputeAPI
from cumulo.compute.version import CONSOLE_OUTPUT, level, release_of
from cumulo.identity import Token
from cumulo.model import (
    Instance,
    InstanceActionName,
    RebootType,
    Service,
    ServiceBinary,
    ServiceList,
    VmState,
)
from cumulo.model.action_recording import recorded_step
from cumulo.rpc import UnsupportedVersion
from cumulo.rpc.context import RequestContext

from ..errors import BadRequest, Conflict
from ..media import read_json
from ..state import ApiState
from . import server_action_schemas as schemas
from .common import context_of, microversion, project_token
from .instances import check_state, check_unlocked, find_instance, target_of
from .microversions import (
    LIVE_MIGRATE_AUTO_BLOCK,
    LIVE_MIGRATE_FORCE,
    Microversion,
    since,
)

_TRUE: Final = frozenset({"true", "1", "on", "yes"})
_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x1f]")
"""What Nova strips from a console output (it kept XML-safe text)."""

_STABLE: Final = (VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED)
HARD_REBOOTABLE: Final = (*_STABLE, VmState.ERROR)
"""Nova's ``ALLOW_HARD_REBOOT``; a soft reboot needs an ACTIVE server."""
LIVE_MIGRATABLE: Final = (VmState.ACTIVE, VmState.PAUSED)


def as_bool(value: bool | str) -> bool:
    """A boolean of the schema's ``BOOLEAN`` (already one of its spellings)."""
    return value if isinstance(value, bool) else value.lower() in _TRUE


@dataclass
class ActionRequest:
    """One action request once its body is valid: who asks, at which microversion,
    on which server; :meth:`server` finds it and checks the action's rule."""

    state: ApiState
    req: falcon.Request
    resp: falcon.Response
    token: Token
    context: RequestContext
    version: Microversion
    server_id: str

    @property
    def compute(self) -> ComputeAPI:
        return self.state.backend.compute

    def server(self, rule: str) -> Instance:
        """The server (404 unless the caller's project sees it), once ``rule`` allows
        the caller on it (403)."""
        instance = find_instance(self.context, self.server_id)
        self.state.policy.authorize(rule, self.token, target_of(instance))
        return instance

    def accepted(self) -> None:
        self.resp.status = falcon.HTTP_202


def check_host(instance: Instance) -> None:
    """409 for a server no host runs yet (Nova's ``InstanceNotReady``)."""
    if not instance.host:
        raise Conflict(f"Instance {instance.uuid} is not ready")


@dataclass(frozen=True)
class PowerAction:
    """A cast to the server's host that needs the server unlocked and in one of
    ``vm_states`` with no task running (Nova's ``check_instance_state``)."""

    rule: str
    name: str
    """Nova's name of the operation, as the 409 message says it."""
    vm_states: tuple[VmState, ...]
    cast: Callable[[ComputeAPI, RequestContext, Instance], None]

    def __call__(self, request: ActionRequest, value: Any) -> None:
        instance = request.server(self.rule)
        check_unlocked(instance, request.token)
        check_state(instance, self.name, self.vm_states)
        check_host(instance)
        self.cast(request.compute, request.context, instance)
        request.accepted()


def reboot(request: ActionRequest, value: dict[str, str]) -> None:
    kind = RebootType(value["type"].upper())
    instance = request.server("os_compute_api:servers:reboot")
    check_unlocked(instance, request.token)
    allowed = HARD_REBOOTABLE if kind is RebootType.HARD else (VmState.ACTIVE,)
    # Nova lets a hard reboot interrupt some tasks; the host here takes the server
    # only with no task running, so the API asks the same.
    check_state(instance, "reboot", allowed)
    check_host(instance)
    request.compute.reboot_instance(request.context, instance, kind)
    request.accepted()


def _api_host() -> str:
    return platform.node() or "cumulo-api"


def _record_api_step(
    request: ActionRequest, instance: Instance, action: InstanceActionName
) -> AbstractContextManager[None]:
    """Record the API's own step (``api_lock``...) as the instance action ``action``,
    as Nova's ``wrap_instance_event(prefix='api')`` does."""
    return recorded_step(
        request.context,
        instance.uuid,
        f"api_{action.value}",
        _api_host(),
        action=action,
        start_action=True,
        finish_action=True,
    )


def lock(request: ActionRequest, value: dict[str, Any] | None) -> None:
    """Lock the server: only an admin may then act on it. Locking a server its own
    project already locked changes nothing (as in Nova)."""
    instance = request.server("os_compute_api:os-lock-server:lock")
    is_owner = instance.project_id == request.context.project_id
    if not (instance.locked and is_owner):
        with _record_api_step(request, instance, InstanceActionName.LOCK):
            instance.locked = True
            instance.locked_by = "owner" if is_owner else "admin"
            instance.save()
    request.accepted()


def unlock(request: ActionRequest, value: Any) -> None:
    """Unlock the server; a lock set by the other side (an admin's, for the owner)
    needs the ``unlock_override`` rule."""
    instance = request.server("os_compute_api:os-lock-server:unlock")
    is_owner = instance.project_id == request.context.project_id
    if instance.locked_by not in (None, "owner" if is_owner else "admin"):
        request.state.policy.authorize(
            "os_compute_api:os-lock-server:unlock:unlock_override",
            request.token,
            target_of(instance),
        )
    with _record_api_step(request, instance, InstanceActionName.UNLOCK):
        instance.locked = False
        instance.locked_by = None
        instance.locked_reason = None
        instance.save()
    request.accepted()


@contextmanager
def older_host_refuses(context: RequestContext, instance: Instance, what: str) -> Iterator[None]:
    """Around a call to the server's host: the host refusing the message's version
    is the 409 of :class:`ComputeTooOld`, as for a host the API knows to be older.
    It happens while the API's cache of the hosts' levels is older than the host's
    move or downgrade (it is re-read every 30 s)."""
    try:
        yield
    except UnsupportedVersion as error:
        host = instance.host or "(no host)"
        speaks = release = None
        with suppress(Exception):  # the refusal matters more than its details
            row = Service.get_by_host_and_binary(context, host, ServiceBinary.COMPUTE)
            speaks, release = level(row.version).compute_rpc, release_of(row.version)
        raise ComputeTooOld(host, speaks, error.version, what, release=release) from None


def console_output(request: ActionRequest, value: dict[str, Any]) -> None:
    """200 ``{"output": ...}``: the last ``length`` lines (-1 or null: all the host
    keeps). A host on a release without it is a 409 (``ComputeTooOld``)."""
    instance = request.server("os_compute_api:os-console-output")
    check_host(instance)
    length = value.get("length")
    lines = None if length is None or int(length) < 0 else int(length)
    with older_host_refuses(request.context, instance, CONSOLE_OUTPUT.what):
        output = request.compute.get_console_output(request.context, instance, lines)
    request.resp.media = {"output": _CONTROL.sub("", output)}


def live_migrate(request: ActionRequest, value: dict[str, Any]) -> None:
    """Move the server to ``host`` (``None``: where placement says), admins only by
    default. What the API can check at once is checked here (the server's lock and
    state, a named host that is an enabled compute service other than the server's
    own: 400 otherwise); then the API answers 202 as soon as the conductor has the
    task, whose outcome (a refused pre-check included) is recorded on the instance
    action and the migration. That is Nova's behaviour from 2.34 (pre-checks run
    asynchronously) at every version: before 2.34 Nova waited for the pre-checks and
    answered a refusal with 400, but the conductor's task here checks and migrates in
    one, and OSC and the SDK ask at 2.30; waiting for the whole migration would hold
    the request, so the earlier versions get the later behaviour."""
    instance = request.server("os_compute_api:os-migrate-server:migrate_live")
    host: str | None = value["host"]
    block: bool | None
    if since(request.version, LIVE_MIGRATE_AUTO_BLOCK):
        chosen = value["block_migration"]
        block = None if chosen == "auto" else as_bool(chosen)
        disk_over_commit = False
    else:
        block = as_bool(value["block_migration"])
        disk_over_commit = as_bool(value["disk_over_commit"])
    forced = since(request.version, LIVE_MIGRATE_FORCE) and as_bool(value.get("force", False))
    # A named host is never second-guessed by a scheduler here: force changes nothing else.
    if forced and not host:
        raise BadRequest("Can't force to a non-provided destination")
    check_unlocked(instance, request.token)
    check_state(instance, "live_migrate", LIVE_MIGRATABLE)
    check_host(instance)
    if host:
        check_destination(request.context, instance, host)
    request.state.backend.tasks.start_live_migration(
        request.context,
        instance.uuid,
        host,
        block_migration=block,
        disk_over_commit=disk_over_commit,
    )
    request.accepted()


def check_destination(context: RequestContext, instance: Instance, host: str) -> None:
    """400 unless ``host`` is an enabled compute service other than the server's."""
    if host == instance.host:
        raise BadRequest(f"The server {instance.uuid} already runs on {host}.")
    services = ServiceList.get_all(context, binary=ServiceBinary.COMPUTE).objects
    if not any(s.host == host and not s.disabled for s in services):
        raise BadRequest(f"Compute host {host} could not be found.")


ACTIONS: Final[dict[str, Callable[[ActionRequest, Any], None]]] = {
    "os-start": PowerAction(
        "os_compute_api:servers:start", "start", (VmState.STOPPED,), ComputeAPI.start_instance
    ),
    "os-stop": PowerAction(
        "os_compute_api:servers:stop",
        "stop",
        (VmState.ACTIVE, VmState.ERROR),
        ComputeAPI.stop_instance,
    ),
    "pause": PowerAction(
        "os_compute_api:os-pause-server:pause",
        "pause",
        (VmState.ACTIVE,),
        ComputeAPI.pause_instance,
    ),
    "unpause": PowerAction(
        "os_compute_api:os-pause-server:unpause",
        "unpause",
        (VmState.PAUSED,),
        ComputeAPI.unpause_instance,
    ),
    "suspend": PowerAction(
        "os_compute_api:os-suspend-server:suspend",
        "suspend",
        (VmState.ACTIVE,),
        ComputeAPI.suspend_instance,
    ),
    "resume": PowerAction(
        "os_compute_api:os-suspend-server:resume",
        "resume",
        (VmState.SUSPENDED,),
        ComputeAPI.resume_instance,
    ),
    "reboot": reboot,
    "lock": lock,
    "unlock": unlock,
    "os-getConsoleOutput": console_output,
    "os-migrateLive": live_migrate,
}
"""Each action the body may name and what serves it (the schema lists the same)."""


class ServerAction:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        version = microversion(req)
        body = read_json(req, schemas.body_schema(version))
        ((name, value),) = body.items()
        request = ActionRequest(
            self.state, req, resp, token, context_of(req, token), version, server_id
        )
        ACTIONS[name](request, value)
