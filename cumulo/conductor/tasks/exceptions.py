"""Errors the conductor's tasks raise themselves. Attributes are primitives and the
module imports only the standard library, so the task client allow-lists them."""

from __future__ import annotations

__all__ = [
    "ComputeTaskError",
    "InvalidLiveMigration",
    "MigrationPreCheckFailed",
    "NoValidHost",
]


class ComputeTaskError(Exception):
    """Base class of the conductor tasks' own errors."""


class NoValidHost(ComputeTaskError):
    """No compute host can take the instance; ``reason`` says what each host had."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no valid host: {reason}")


class InvalidLiveMigration(ComputeTaskError):
    """The live migration asked for cannot start (the instance's state, the hosts)."""

    def __init__(self, instance_uuid: str, reason: str) -> None:
        self.instance_uuid = instance_uuid
        self.reason = reason
        super().__init__(f"cannot live-migrate instance {instance_uuid}: {reason}")


class MigrationPreCheckFailed(ComputeTaskError):
    """The destination or the source refused the live migration; nothing moved."""

    def __init__(self, instance_uuid: str, source: str, dest: str, reason: str) -> None:
        self.instance_uuid = instance_uuid
        self.source = source
        self.dest = dest
        self.reason = reason
        super().__init__(
            f"live migration of instance {instance_uuid} from {source!r} to {dest!r} "
            f"refused: {reason}"
        )
