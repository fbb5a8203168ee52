"""``cumulo db sync``: create or upgrade the database schema; ``cumulo db
online-migrations``: run the online data migrations."""

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


def cmd_db_online_migrations(args: argparse.Namespace) -> int:
    from cumulo.compute.version import SERVICE_VERSION_HISTORY
    from cumulo.db import create_engine
    from cumulo.db.engine import current_revision, describe, head_revision
    from cumulo.db.online_migrations import (
        online_migrations,
        pending_online_migrations,
        run_online_migrations,
    )

    if args.max_count is not None and args.max_count < 1:
        raise UsageError(f"--max-count must be at least 1, not {args.max_count}")
    engine = create_engine(database_url(args))
    try:
        current = current_revision(engine)
        if current != head_revision():
            raise UsageError(
                f"{describe(engine.url)} is at schema revision {current or 'none'}, this "
                f"release needs {head_revision()}: run `cumulo db sync` first"
            )
        migrations = online_migrations(SERVICE_VERSION_HISTORY)
        # Without --max-count: batches of 50 until nothing is found.
        batch = args.max_count or 50
        totals = {m.name: [0, 0] for m in migrations}
        while True:
            results = run_online_migrations(engine, migrations, batch)
            for result in results:
                totals[result.name][0] += result.found
                totals[result.name][1] += result.done
            if args.max_count is not None or not any(r.done for r in results):
                break
        remaining = pending_online_migrations(engine, migrations)
    finally:
        engine.dispose()
    for name, (found, done) in totals.items():
        sys.stdout.write(f"{name}: {found} found, {done} migrated, {remaining[name]} remaining\n")
    left = sum(remaining.values())
    if left:
        sys.stdout.write(f"{left} rows remain: run `cumulo db online-migrations` again\n")
        return 1
    sys.stdout.write("all online data migrations are done\n")
    return 0


def add_db_commands(parser: argparse.ArgumentParser) -> None:
    """``cumulo db sync`` and ``cumulo db online-migrations``."""
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
    help_text = (
        "run the online data migrations in batches; exit 0 only when none remain "
        "(1 while rows remain)"
    )
    online = sub.add_parser("online-migrations", help=help_text, description=help_text)
    online.add_argument(
        "--max-count",
        type=int,
        default=None,
        metavar="N",
        help="migrate at most N rows in this run (default: everything, in batches of 50)",
    )
    online.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"the database (default: {DATABASE_URL_DEFAULT_HELP})",
    )
    online.set_defaults(handler=cmd_db_online_migrations)
