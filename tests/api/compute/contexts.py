"""Model contexts for the compute API tests that read or set up records straight
through the model objects (as the conductor would), beside the HTTP requests."""

from __future__ import annotations

from cumulo.rpc import RequestContext


def admin_context(compute_cloud) -> RequestContext:
    """The cloud admin's context (admin project, every role)."""
    return RequestContext(
        user_id=compute_cloud.users["admin"],
        project_id=compute_cloud.projects["admin"],
        roles=["admin", "member", "reader"],
        is_admin=True,
    )
