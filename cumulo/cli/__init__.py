"""The ``cumulo`` command line: one group of subcommands per concern.

A group is an entry of :data:`GROUPS`: a name, a help line and a function that
adds its subcommands to an argparse parser, each subcommand setting ``handler``
(``args -> exit code``). Each group lives in a module of this package. Errors are
one line on stderr with exit code 2; set ``CUMULO_DEBUG=1`` to see a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from cumulo.objects import ObjectError

from .allinone import add_all_in_one_command
from .api import add_api_command
from .common import Handler, UsageError, _Parser
from .db import add_db_commands
from .demo import add_demo_command
from .identity import add_identity_commands
from .objects import add_objects_commands, cmd_objects_check
from .servers import add_server_commands
from .services import add_compute_command, add_conductor_command
from .upgrade import add_upgrade_commands

__all__ = ["GROUPS", "UsageError", "build_parser", "cmd_objects_check", "main"]


# --- the command groups -------------------------------------------------------------------

GROUPS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "objects": (
        "inspect versioned objects: fingerprints, JSON Schemas, the lockfile",
        add_objects_commands,
    ),
    "db": (
        "create or upgrade the database schema, run online data migrations",
        add_db_commands,
    ),
    "upgrade": ("check the fleet's readiness for a rolling upgrade", add_upgrade_commands),
    "conductor": ("run the conductor service (the database's only user)", add_conductor_command),
    "compute": (
        "run one compute host (its objects go through the conductor)",
        add_compute_command,
    ),
    "server": ("list or show the instances of a running deployment", add_server_commands),
    "identity": (
        "bootstrap the identity records, set up or rotate the token keys",
        add_identity_commands,
    ),
    "api": (
        "run the HTTP API (Keystone v3 identity under /identity) with gunicorn workers",
        add_api_command,
    ),
    "all-in-one": (
        "run the embedded deployment and the HTTP API on it in this process, until Ctrl-C",
        add_all_in_one_command,
    ),
    "demo": (
        "run an all-in-one deployment in this process and a guided scenario on it",
        add_demo_command,
    ),
}
"""``cumulo <group> ...``: name -> (help line, function adding the group's subcommands)."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cumulo", description="Cumulo, a compute control plane.")
    groups = parser.add_subparsers(title="command groups", metavar="GROUP", required=True)
    for name, (help_text, configure) in GROUPS.items():
        configure(groups.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cumulo`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        handler: Handler = args.handler
        return handler(args)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except (UsageError, ObjectError) as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("CUMULO_DEBUG"):
            raise
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (set CUMULO_DEBUG=1 to see the traceback)"
        )


def _fail(message: str) -> int:
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    sys.stderr.write(f"cumulo: error: {one_line or 'failed'}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
