"""The network service's default policy rules (oslo.policy syntax, Neutron's
names): readers read their project's resources, members change them, admins any
project's."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"
PROJECT_READER = "role:admin or (role:reader and project_id:%(project_id)s)"
PROJECT_MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"

RULES: tuple[Rule, ...] = ()
