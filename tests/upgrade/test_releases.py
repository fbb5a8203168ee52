"""Previous releases are rebuilt exactly: from the recorded commit, or (in a clone
without that history) from the committed archive of the same tar."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from pathlib import Path

import pytest

from cumulo.compute.version import SERVICE_VERSION, SERVICE_VERSION_HISTORY
from upgrade import releases
from upgrade.releases import ReleaseUnavailable, materialize, release, release_tar


@pytest.mark.parametrize("name", releases.names())
def test_the_committed_archive_is_the_recorded_commit(name: str) -> None:
    rel = release(name)
    assert rel.archive is not None and rel.archive_tar_sha256 is not None
    archived = gzip.decompress(rel.archive.read_bytes())
    assert hashlib.sha256(archived).hexdigest() == rel.archive_tar_sha256
    has_commit = releases._git("cat-file", "-e", f"{rel.commit}^{{commit}}").returncode == 0
    if has_commit:  # (a shallow clone has only the archive to check)
        data, source = release_tar(rel)
        assert source == f"commit {rel.commit}" and data == archived


@pytest.mark.parametrize("name", releases.names())
def test_without_the_history_the_archive_is_used(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_git = releases._git

    def shallow(*args: str) -> subprocess.CompletedProcess[bytes]:
        if args[0] == "cat-file":
            return subprocess.CompletedProcess(args, 128, b"", b"fatal: not a valid object")
        return real_git(*args)

    monkeypatch.setattr(releases, "_git", shallow)
    rel = release(name)
    _, source = release_tar(rel)
    assert source == str(rel.archive)
    tree = materialize(name, tmp_path / "rel")
    level = f"SERVICE_VERSION: Final = {rel.service_version}\n"
    assert level in (tree / "cumulo" / "compute" / "version.py").read_text()
    assert (tree / "RELEASE").read_text().strip() == rel.commit


def test_a_tampered_archive_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = release("0.1")
    assert rel.archive is not None
    bad = tmp_path / "bad.tar.gz"
    data = bytearray(gzip.decompress(rel.archive.read_bytes()))
    data[-2048] ^= 0xFF  # somewhere in the last member's content or padding
    bad.write_bytes(gzip.compress(bytes(data)))
    monkeypatch.setattr(
        releases,
        "_git",
        lambda *args: subprocess.CompletedProcess(args, 128, b"", b"fatal: not a valid object"),
    )
    tampered = releases.Release(**{**rel.__dict__, "archive": bad})
    with pytest.raises(ReleaseUnavailable, match=r"hashes to \w+, not the recorded"):
        release_tar(tampered)
    missing = releases.Release(**{**rel.__dict__, "archive": None})
    with pytest.raises(ReleaseUnavailable, match="fetch --unshallow"):
        release_tar(missing)


def test_releases_are_cut_in_level_order() -> None:
    # One service level per release, each newer than the one before.
    levels = [release(name).service_version for name in releases.names()]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    assert releases.names()[:2] == ["0.1", "0.2"]


@pytest.mark.parametrize("name", releases.names())
def test_a_released_level_is_frozen(name: str) -> None:
    # The current code still describes each release's level exactly as it was cut:
    # its compute RPC version and the object manifest its hosts read.
    rel = release(name)
    entry = SERVICE_VERSION_HISTORY[rel.service_version]
    assert entry.release == name
    assert entry.compute_rpc == rel.compute_rpc
    assert rel.object_manifest_sha256 is not None
    assert releases.manifest_digest(entry.object_manifest) == rel.object_manifest_sha256


def test_the_current_level_is_not_a_release_yet() -> None:
    assert max(release(name).service_version for name in releases.names()) < SERVICE_VERSION
