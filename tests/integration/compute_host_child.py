"""Run the ``cumulo`` command line with the database layer blocked, for the
compute processes of the integration tests.

    python compute_host_child.py compute --host NAME --transport-url URL ...

Importing ``cumulo.db`` or SQLAlchemy fails in this process, so a compute host
that reached for the database (instead of its conductor) dies with
"may not be imported" on stderr.
"""

from __future__ import annotations

import importlib.abc
import runpy
import sys
from typing import Any


class _NoDatabase(importlib.abc.MetaPathFinder):
    """A compute host cannot import the database layer: importing it fails."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "cumulo.db" or fullname.startswith(("cumulo.db.", "sqlalchemy")):
            raise ImportError(f"{fullname} may not be imported by a compute process")
        return None


def main() -> None:
    sys.meta_path.insert(0, _NoDatabase())
    sys.argv = ["cumulo", *sys.argv[1:]]
    runpy.run_module("cumulo", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
