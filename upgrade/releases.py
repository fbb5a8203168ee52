"""Previous releases of Cumulo, rebuilt exactly from the commits ``releases.json``
records, for the mixed-version test and the upgrade benchmark.

    tree = materialize("0.1", Path("/tmp/cumulo-0.1"))
    subprocess.run([sys.executable, "-m", "cumulo", ...], env=release_env(tree))

:func:`materialize` extracts the release's ``cumulo`` package with ``git archive``
from this repository's history (no network, no hand-written stand-ins) and checks
that the extracted tree is the recorded commit's. :func:`release_env` puts it first
on ``PYTHONPATH``, so a child process started with this venv's interpreter imports
the old ``cumulo`` (its dependencies are a subset of the current ones).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RELEASES = HERE / "releases.json"


class ReleaseUnavailable(RuntimeError):
    """The release cannot be rebuilt here (no git, or a clone without its commit)."""


@dataclass(frozen=True)
class Release:
    name: str
    commit: str
    service_version: int
    compute_rpc: str
    conductor_rpc: str


def release(name: str) -> Release:
    """The record of release ``name`` in ``releases.json``."""
    records = json.loads(RELEASES.read_text())
    if name not in records:
        raise KeyError(f"release {name!r} is not in {RELEASES} (known: {sorted(records)})")
    record = records[name]
    return Release(
        name=name,
        commit=record["commit"],
        service_version=record["service_version"],
        compute_rpc=record["compute_rpc"],
        conductor_rpc=record["conductor_rpc"],
    )


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise ReleaseUnavailable("git is not installed: cannot rebuild a previous release") from exc


def materialize(name: str, dest: Path) -> Path:
    """Extract release ``name``'s ``cumulo`` package under ``dest`` (made if missing)
    and return ``dest``, ready to go first on ``PYTHONPATH``.

    Reuses ``dest`` when it already holds that release (a ``RELEASE`` file names
    the commit).

    Raises:
        ReleaseUnavailable: the commit is not in this clone's history (a shallow
            clone: fetch the full history with ``git fetch --unshallow``).
    """
    rel = release(name)
    marker = dest / "RELEASE"
    if marker.is_file() and marker.read_text().strip() == rel.commit:
        return dest
    probe = _git("cat-file", "-e", f"{rel.commit}^{{commit}}")
    if probe.returncode != 0:
        raise ReleaseUnavailable(
            f"release {name} is commit {rel.commit}, which this clone of {REPO} does not "
            "have (a shallow clone? run `git fetch --unshallow`)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "release.tar"
        done = _git("archive", "--format=tar", f"--output={archive}", rel.commit, "cumulo")
        if done.returncode != 0:
            raise ReleaseUnavailable(
                f"git archive {rel.commit} failed: {done.stderr.decode(errors='replace')}"
            )
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    if not (dest / "cumulo" / "__main__.py").is_file():
        raise ReleaseUnavailable(f"release {name} extracted to {dest} has no cumulo/__main__.py")
    marker.write_text(rel.commit + "\n")
    return dest


def release_env(tree: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment whose Python imports ``cumulo`` from ``tree`` first.

    Start the child with a working directory outside this repository: ``python -c``
    and ``python -m`` put the working directory ahead of ``PYTHONPATH``.
    """
    env = dict(os.environ if base is None else base)
    paths = [str(tree), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
