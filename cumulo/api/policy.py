"""Policy: declarative rules in oslo.policy's syntax, each service declaring its
defaults (``cumulo/api/identity/policies.py``), which an operator overrides in a
``policy.yaml`` (``cumulo api --policy-file``) exactly as for Keystone or Nova.

A rule sees the token's credentials (``user_id``, ``project_id``, ``roles``,
``user_domain_id``, ``project_domain_id``) and the target a handler names, with
flattened keys (``target.user.id``). The token carries the implied roles (an admin
is a member and a reader too), so a rule names the least role it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from oslo_config import cfg
from oslo_policy import policy as oslo

from cumulo.identity import Token

from .errors import Forbidden


@dataclass(frozen=True)
class Rule:
    """A default rule: its name (``identity:get_user``), check string, and what it guards."""

    name: str
    check: str
    description: str


def credentials(token: Token) -> dict[str, object]:
    return {
        "user_id": token.user.id,
        "user_domain_id": token.user.domain_id,
        "project_id": token.project.id if token.project else None,
        "project_domain_id": token.project.domain_id if token.project else None,
        "roles": token.role_names,
    }


class Policy:
    """The rules of every mounted service, overridden by ``policy_file`` if given."""

    def __init__(self, rules: Iterable[Rule], policy_file: Path | None = None) -> None:
        conf = cfg.ConfigOpts()
        conf([], project="cumulo", default_config_files=[], default_config_dirs=[])
        self._enforcer = oslo.Enforcer(
            conf, policy_file=str(policy_file) if policy_file else None, use_conf=False
        )
        self._enforcer.register_defaults(
            [oslo.RuleDefault(r.name, r.check, description=r.description) for r in rules]
        )
        self._enforcer.load_rules(force_reload=True)

    def allows(self, rule: str, token: Token, target: Mapping[str, object] | None = None) -> bool:
        return bool(
            self._enforcer.authorize(rule, dict(target or {}), credentials(token), do_raise=False)
        )

    def authorize(
        self, rule: str, token: Token, target: Mapping[str, object] | None = None
    ) -> None:
        """Raise ``Forbidden`` (403) unless ``rule`` allows ``token`` on ``target``."""
        if not self.allows(rule, token, target):
            raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")
