"""What every command group shares: one-line usage errors, a parser that never exits."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A mistake on the command line or in what it names: one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) and never exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


DATABASE_URL_DEFAULT_HELP = "$CUMULO_DATABASE_URL, else sqlite:///var/cumulo.db"
"""How the database URL defaults, for help texts: the parser must not import
``cumulo.db`` (a compute process never loads the database layer); a test checks
this against ``cumulo.db.engine``."""


def database_url(args: argparse.Namespace) -> str:
    """``--database-url`` as given, else the default (``cumulo.db.engine``)."""
    given: str | None = args.database_url
    if given:
        return given
    from cumulo.db.engine import default_database_url

    return default_database_url()
