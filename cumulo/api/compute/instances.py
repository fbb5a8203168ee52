"""What every ``/servers/{server_id}...`` route shares: finding the server the way
Nova does (an id the caller's project cannot see is a 404, never a 403, so a
server's existence is not disclosed), and refusing an operation the server's state
or lock does not allow (409 ``conflictingRequest``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

import falcon

from cumulo.identity import Token
from cumulo.model import Instance, InstanceNotFound, TaskState, VmState
from cumulo.rpc.context import RequestContext

from ..errors import Conflict, NotFound
from ..state import ApiState
from .common import context_of, project_token


def server_not_found(server_id: str) -> NotFound:
    return NotFound(f"Instance {server_id} could not be found.")


def find_instance(
    context: RequestContext,
    server_id: str,
    expected_attrs: Sequence[str] = (),
    *,
    include_deleted: bool = False,
) -> Instance:
    """The server ``server_id`` as ``context`` may see it: an admin any project's,
    anyone else only their project's. Raises 404 for a malformed id, a server of
    another project and (unless ``include_deleted``) a deleted one."""
    try:
        instance_uuid = uuid.UUID(server_id)
    except ValueError:
        raise server_not_found(server_id) from None
    try:
        instance = Instance.get_by_uuid(context, instance_uuid, expected_attrs=list(expected_attrs))
    except InstanceNotFound:
        raise server_not_found(server_id) from None
    if not context.is_admin and instance.project_id != context.project_id:
        raise server_not_found(server_id)
    if instance.deleted and not include_deleted:
        raise server_not_found(server_id)
    return instance


def target_of(instance: Instance) -> dict[str, object]:
    """The policy target of a server: its project and user."""
    return {"project_id": instance.project_id, "user_id": instance.user_id}


def check_state(
    instance: Instance,
    action: str,
    vm_states: Collection[VmState],
    task_states: Collection[TaskState | None] = (None,),
) -> None:
    """409 unless the server's vm_state is one of ``vm_states`` and its task state one
    of ``task_states`` (by default: no task running), in Nova's words."""
    if instance.vm_state not in vm_states:
        raise Conflict(
            f"Cannot '{action}' instance {instance.uuid} while it is in vm_state "
            f"{instance.vm_state}"
        )
    if instance.task_state not in task_states:
        raise Conflict(
            f"Cannot '{action}' instance {instance.uuid} while it is in task_state "
            f"{instance.task_state}"
        )


def check_unlocked(instance: Instance, token: Token) -> None:
    """409 when the server is locked and the caller is not an admin (admins may act
    on locked servers, as in Nova)."""
    if instance.locked and "admin" not in token.role_names:
        raise Conflict(f"Instance {instance.uuid} is locked")


def authorized_instance(
    req: falcon.Request,
    state: ApiState,
    server_id: str,
    rule: str,
    *,
    include_deleted: bool = False,
) -> tuple[Token, RequestContext, Instance]:
    """The caller's token and model context, and the server once the policy's
    ``rule`` allows them on it: 401/403 for the token, 404 (before any 403) for a
    server they may not see (see :func:`find_instance`)."""
    token = project_token(req, state)
    context = context_of(req, token)
    instance = find_instance(context, server_id, include_deleted=include_deleted)
    state.policy.authorize(rule, token, target_of(instance))
    return token, context, instance
