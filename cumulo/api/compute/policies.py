"""The compute service's default policy rules (oslo.policy syntax, Nova's names):
anyone with a token scoped to a project reads flavors, admins change them."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"
READER = "role:reader"
"""The least role of a project token (admins and members are readers too)."""

RULES: tuple[Rule, ...] = (
    Rule("os_compute_api:flavors:index", READER, "List flavors, show a flavor"),
    Rule("os_compute_api:os-flavor-manage:create", ADMIN, "Create a flavor"),
    Rule("os_compute_api:os-flavor-manage:update", ADMIN, "Change a flavor's description"),
    Rule("os_compute_api:os-flavor-manage:delete", ADMIN, "Delete a flavor"),
    Rule("os_compute_api:os-flavor-extra-specs:index", READER, "List a flavor's extra specs"),
    Rule("os_compute_api:os-flavor-extra-specs:show", READER, "Show one extra spec"),
    Rule("os_compute_api:os-flavor-extra-specs:create", ADMIN, "Add or replace extra specs"),
    Rule("os_compute_api:os-flavor-extra-specs:update", ADMIN, "Replace one extra spec"),
    Rule("os_compute_api:os-flavor-extra-specs:delete", ADMIN, "Delete one extra spec"),
)
