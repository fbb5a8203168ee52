"""Previous releases of Cumulo, rebuilt exactly from the commits ``releases.json``
records, for the mixed-version test and the upgrade benchmark.

    tree = materialize("0.2", Path("/tmp/cumulo-0.2"))
    subprocess.run([sys.executable, "-m", "cumulo", ...], env=release_env(tree))

:func:`materialize` extracts the release's ``cumulo`` package with ``git archive``
from this repository's history (no network, no hand-written stand-ins); a clone
without that history (a shallow one) uses the committed archive of the same tar
instead. Either way the tar must hash to ``archive_tar_sha256``, so what runs is
the recorded commit's code. :func:`release_env` puts it first
on ``PYTHONPATH``, so a child process started with this venv's interpreter imports
the old ``cumulo`` (its dependencies are a subset of the current ones).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RELEASES = HERE / "releases.json"


class ReleaseUnavailable(RuntimeError):
    """The release cannot be rebuilt here (neither its commit nor its archive, or
    they do not hash to what ``releases.json`` records)."""


@dataclass(frozen=True)
class Release:
    name: str
    commit: str
    service_version: int
    compute_rpc: str
    conductor_rpc: str
    archive: Path | None
    """The committed ``git archive`` of the release's ``cumulo`` (gzip), if any."""
    archive_tar_sha256: str | None
    """sha256 of the uncompressed tar ``git archive <commit> cumulo`` writes."""
    object_manifest_sha256: str | None = None
    """:func:`manifest_digest` of the object manifest its service level reads: the
    level is frozen, and the current code's history entry must keep hashing to it."""


def manifest_digest(manifest: Mapping[str, str]) -> str:
    """sha256 of ``{object name: version}`` in a canonical JSON form."""
    canonical = json.dumps(dict(manifest), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def names() -> list[str]:
    """Every recorded release, oldest first."""
    records = json.loads(RELEASES.read_text())
    return sorted(records, key=lambda name: tuple(int(part) for part in name.split(".")))


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
        archive=HERE / record["archive"] if record.get("archive") else None,
        archive_tar_sha256=record.get("archive_tar_sha256"),
        object_manifest_sha256=record.get("object_manifest_sha256"),
    )


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise ReleaseUnavailable("git is not installed: cannot rebuild a previous release") from exc


def release_tar(rel: Release) -> tuple[bytes, str]:
    """The uncompressed tar of ``rel``'s ``cumulo`` package and where it came from:
    ``git archive`` of the commit when this clone has it, else the committed archive.

    Raises:
        ReleaseUnavailable: neither is available, or the tar does not hash to
            ``archive_tar_sha256``.
    """
    if _git("cat-file", "-e", f"{rel.commit}^{{commit}}").returncode == 0:
        done = _git("archive", "--format=tar", rel.commit, "cumulo")
        if done.returncode != 0:
            raise ReleaseUnavailable(
                f"git archive {rel.commit} failed: {done.stderr.decode(errors='replace')}"
            )
        data, source = done.stdout, f"commit {rel.commit}"
    elif rel.archive is not None and rel.archive.is_file():
        data, source = gzip.decompress(rel.archive.read_bytes()), str(rel.archive)
    else:
        raise ReleaseUnavailable(
            f"release {rel.name} is commit {rel.commit}, which this clone of {REPO} does not "
            "have (a shallow clone? run `git fetch --unshallow`), and it has no archive"
        )
    if rel.archive_tar_sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != rel.archive_tar_sha256:
            raise ReleaseUnavailable(
                f"release {rel.name} from {source} hashes to {digest}, not the recorded "
                f"{rel.archive_tar_sha256}"
            )
    return data, source


def materialize(name: str, dest: Path) -> Path:
    """Extract release ``name``'s ``cumulo`` package under ``dest`` (made if missing)
    and return ``dest``, ready to go first on ``PYTHONPATH``.

    Reuses ``dest`` when it already holds that release (a ``RELEASE`` file names
    the commit).

    Raises:
        ReleaseUnavailable: see :func:`release_tar`.
    """
    rel = release(name)
    marker = dest / "RELEASE"
    if marker.is_file() and marker.read_text().strip() == rel.commit:
        return dest
    data, _ = release_tar(rel)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
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
