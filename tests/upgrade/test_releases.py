"""Previous releases are rebuilt exactly: from the recorded commit, or (in a clone
without that history) from the committed archive of the same tar."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from pathlib import Path

import pytest

from upgrade import releases
from upgrade.releases import ReleaseUnavailable, materialize, release, release_tar


def test_the_committed_archive_is_the_recorded_commit() -> None:
    rel = release("0.1")
    assert rel.archive is not None and rel.archive_tar_sha256 is not None
    archived = gzip.decompress(rel.archive.read_bytes())
    assert hashlib.sha256(archived).hexdigest() == rel.archive_tar_sha256
    has_commit = releases._git("cat-file", "-e", f"{rel.commit}^{{commit}}").returncode == 0
    if has_commit:  # (a shallow clone has only the archive to check)
        data, source = release_tar(rel)
        assert source == f"commit {rel.commit}" and data == archived


def test_without_the_history_the_archive_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_git = releases._git

    def shallow(*args: str) -> subprocess.CompletedProcess[bytes]:
        if args[0] == "cat-file":
            return subprocess.CompletedProcess(args, 128, b"", b"fatal: not a valid object")
        return real_git(*args)

    monkeypatch.setattr(releases, "_git", shallow)
    rel = release("0.1")
    _, source = release_tar(rel)
    assert source == str(rel.archive)
    tree = materialize("0.1", tmp_path / "rel")
    assert (
        (tree / "cumulo" / "compute" / "version.py").read_text().count("SERVICE_VERSION: Final = 1")
    )
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
