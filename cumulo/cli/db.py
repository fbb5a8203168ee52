"""``cumulo db sync``: create or upgrade the database schema."""

from __future__ import annotations

import argparse
import sys

from .common import DATABASE_URL_DEFAULT_HELP, UsageError, database_url

# --- db -----------------------------------------------------------------------------------


def cmd_db_sync(args: argparse.Namespace) -> int:
    from cumulo.db.engine import describe, sync
    from cumulo.db.exceptions import DatabaseError

    args.database_url = database_url(args)
    try:
        revision = sync(args.database_url)
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(f"{describe(args.database_url)} is at schema revision {revision}\n")
    return 0


def add_db_commands(parser: argparse.ArgumentParser) -> None:
    """``cumulo db sync``."""
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    help_text = "create the database schema, or upgrade it to this release's"
    sync = sub.add_parser("sync", help=help_text, description=help_text)
    sync.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=(
            "sqlite:///PATH, postgresql+psycopg://... or mysql+pymysql://... "
            f"(default: {DATABASE_URL_DEFAULT_HELP})"
        ),
    )
    sync.set_defaults(handler=cmd_db_sync)
