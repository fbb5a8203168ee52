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
