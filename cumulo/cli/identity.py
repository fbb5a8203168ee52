"""``cumulo identity bootstrap | setup-keys | rotate-keys``: the first identity
records of a cloud (like ``keystone-manage bootstrap``) and the token key
repository (like ``keystone-manage fernet_setup`` / ``fernet_rotate``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import DATABASE_URL_DEFAULT_HELP, UsageError, database_url

ADMIN_PASSWORD_ENV = "CUMULO_ADMIN_PASSWORD"
KEY_REPOSITORY_DEFAULT_HELP = "$CUMULO_KEY_REPOSITORY, else var/fernet-keys"


def key_repository(args: argparse.Namespace) -> Path:
    """``--key-repository`` as given, else the default (``cumulo.identity.keys``)."""
    given: str | None = args.key_repository
    if given:
        return Path(given)
    from cumulo.identity.keys import default_key_repository

    return default_key_repository()


def synced_engine(url: str) -> Any:
    """An engine on ``url`` whose schema is this release's; else a one-line error."""
    from cumulo.db import create_engine
    from cumulo.db.engine import current_revision, describe, head_revision
    from cumulo.db.exceptions import DatabaseError

    engine = create_engine(url)
    try:
        current = current_revision(engine)
    except DatabaseError as exc:
        engine.dispose()
        raise UsageError(str(exc)) from None
    if current != head_revision():
        engine.dispose()
        raise UsageError(
            f"{describe(engine.url)} is at schema revision {current or 'none'}, this "
            f"release needs {head_revision()}: run `cumulo db sync` first"
        )
    return engine


def _keys(args: argparse.Namespace) -> Any:
    from cumulo.identity import KeyRepository, KeyRepositoryError

    try:
        return KeyRepository(key_repository(args), args.max_active_keys)
    except KeyRepositoryError as exc:
        raise UsageError(str(exc)) from None


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from cumulo.identity import (
        IdentityError,
        IdentityManager,
        IdentityStore,
        KeyRepositoryError,
        TokenFormatter,
    )
    from cumulo.identity.bootstrap import bootstrap

    password = args.admin_password or os.environ.get(ADMIN_PASSWORD_ENV)
    if not password:
        raise UsageError(f"--admin-password (or ${ADMIN_PASSWORD_ENV}) is required")
    keys = _keys(args)
    try:
        created_keys = keys.setup()
    except KeyRepositoryError as exc:
        raise UsageError(str(exc)) from None
    engine = synced_engine(database_url(args))
    try:
        manager = IdentityManager(IdentityStore(engine), TokenFormatter(keys))
        report = bootstrap(
            manager,
            password,
            admin_user=args.admin_user,
            admin_project=args.project,
            admin_role=args.admin_role,
        )
    except IdentityError as exc:
        raise UsageError(str(exc)) from None
    finally:
        engine.dispose()
    keys_line = "created" if created_keys else "kept"
    sys.stdout.write(f"{keys_line} key repository {keys.path} (keys {keys.indexes()})\n")
    for line in report.lines:
        sys.stdout.write(line + "\n")
    return 0


def cmd_service_user(args: argparse.Namespace) -> int:
    from cumulo.identity import IdentityError, IdentityManager, IdentityStore, TokenFormatter
    from cumulo.identity.bootstrap import SERVICE_USER_ROLES, ensure_service_user

    from .services import service_password

    password = service_password(
        args.password_file, flag="--password-file", needed_by="the password"
    )
    engine = synced_engine(database_url(args))
    try:
        manager = IdentityManager(IdentityStore(engine), TokenFormatter(_keys(args)))
        report = ensure_service_user(
            manager,
            password,
            user=args.name,
            project=args.project,
            roles=tuple(args.role) if args.role else SERVICE_USER_ROLES,
        )
    except IdentityError as exc:
        raise UsageError(f"{exc} (run `cumulo identity bootstrap` first?)") from None
    finally:
        engine.dispose()
    for line in report.lines:
        sys.stdout.write(line + "\n")
    return 0


def cmd_setup_keys(args: argparse.Namespace) -> int:
    from cumulo.identity import KeyRepositoryError

    keys = _keys(args)
    try:
        created = keys.setup()
    except KeyRepositoryError as exc:
        raise UsageError(str(exc)) from None
    done = "created" if created else "already set up:"
    sys.stdout.write(f"{done} key repository {keys.path} (keys {keys.indexes()})\n")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    from cumulo.identity import KeyRepositoryError

    keys = _keys(args)
    try:
        primary, removed = keys.rotate()
    except KeyRepositoryError as exc:
        raise UsageError(str(exc)) from None
    gone = f", removed {', '.join(map(str, removed))}" if removed else ""
    sys.stdout.write(
        f"rotated {keys.path}: primary key {primary}, staged a new key 0{gone} "
        f"(keys {keys.indexes()})\n"
    )
    return 0


def _add_key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key-repository",
        default=None,
        metavar="DIR",
        help=f"the token key directory (default: {KEY_REPOSITORY_DEFAULT_HELP})",
    )
    parser.add_argument(
        "--max-active-keys",
        type=int,
        default=3,
        metavar="N",
        help="keys kept, staged and primary included; a token lives through N-2 "
        "rotations (default: 3)",
    )


def add_identity_commands(parser: argparse.ArgumentParser) -> None:
    """``cumulo identity bootstrap``, ``setup-keys`` and ``rotate-keys``."""
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    help_text = (
        "create (or repair) the Default domain, the admin, member and reader roles, "
        "an admin project and user, and the key repository; safe to run again"
    )
    boot = sub.add_parser("bootstrap", help=help_text, description=help_text)
    boot.add_argument(
        "--admin-password",
        default=None,
        metavar="PW",
        help=f"the admin user's password (default: ${ADMIN_PASSWORD_ENV}, which keeps it "
        "out of the process list)",
    )
    boot.add_argument("--admin-user", default="admin", metavar="NAME", help="(default: admin)")
    boot.add_argument("--project", default="admin", metavar="NAME", help="(default: admin)")
    boot.add_argument(
        "--admin-role", default="admin", metavar="NAME", help="the role given (default: admin)"
    )
    boot.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"the database (default: {DATABASE_URL_DEFAULT_HELP})",
    )
    _add_key_options(boot)
    boot.set_defaults(handler=cmd_bootstrap)

    help_text = (
        "create (or repair) a service user holding the service role on a service "
        "project: the credential compute hosts fetch images with (`cumulo compute "
        "--image-api`); safe to run again"
    )
    svc = sub.add_parser("service-user", help=help_text, description=help_text)
    svc.add_argument("--name", default="compute", metavar="NAME", help="(default: compute)")
    svc.add_argument("--project", default="service", metavar="NAME", help="(default: service)")
    svc.add_argument(
        "--role",
        action="append",
        metavar="NAME",
        help="a role it gets on the project; repeatable (default: service and reader)",
    )
    svc.add_argument(
        "--password-file",
        default=None,
        metavar="FILE",
        help="a file holding its password (default: $CUMULO_SERVICE_PASSWORD)",
    )
    svc.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"the database (default: {DATABASE_URL_DEFAULT_HELP})",
    )
    _add_key_options(svc)
    svc.set_defaults(handler=cmd_service_user)

    help_text = "create the key repository with a staged and a primary key if it has none"
    setup = sub.add_parser("setup-keys", help=help_text, description=help_text)
    _add_key_options(setup)
    setup.set_defaults(handler=cmd_setup_keys)

    help_text = (
        "rotate the token keys: the staged key becomes primary, a new key is staged, "
        "the oldest beyond --max-active-keys is removed (its tokens stop working)"
    )
    rotate = sub.add_parser("rotate-keys", help=help_text, description=help_text)
    _add_key_options(rotate)
    rotate.set_defaults(handler=cmd_rotate_keys)
