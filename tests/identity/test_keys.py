"""Tests of cumulo/identity/keys.py: the key repository and its rotation."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from cumulo.identity import KeyRepository, KeyRepositoryError, TokenFormatter, TokenInvalid
from cumulo.identity.tokens import TokenPayload


def a_token(keys: KeyRepository) -> str:
    now = datetime.now(UTC)
    return TokenFormatter(keys).encode(
        TokenPayload.new("u" * 8, None, ("password",), now, timedelta(hours=1))
    )


def test_setup_makes_a_staged_and_a_primary_key_privately(tmp_path):
    repository = KeyRepository(tmp_path / "keys")
    assert repository.setup() is True
    assert repository.indexes() == [0, 1]
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for index in (0, 1):
        path = tmp_path / "keys" / str(index)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        Fernet(path.read_bytes())  # a valid key
    ring = repository.keyring()
    assert ring.indexes == (1, 0) and ring.primary == 1


def test_setup_again_changes_nothing(keys):
    before = {i: (keys.path / str(i)).read_bytes() for i in keys.indexes()}
    assert keys.setup() is False
    assert {i: (keys.path / str(i)).read_bytes() for i in keys.indexes()} == before


def test_rotation_promotes_the_staged_key_and_drops_the_oldest(keys):
    staged = (keys.path / "0").read_bytes()
    assert keys.rotate() == (2, [])
    assert keys.indexes() == [0, 1, 2]
    assert (keys.path / "2").read_bytes() == staged  # the staged key became primary
    assert keys.rotate() == (3, [1])
    assert keys.indexes() == [0, 2, 3]
    assert keys.keyring().indexes == (3, 2, 0)
    assert not list(keys.path.glob(".*.tmp"))


def test_a_token_lives_until_its_key_leaves(keys):
    token = a_token(keys)  # encrypted with key 1
    tokens = TokenFormatter(keys)
    keys.rotate()  # 1 is secondary now
    assert tokens.decode(token).user_id == "u" * 8
    keys.rotate()  # 1 removed
    with pytest.raises(TokenInvalid):
        tokens.decode(token)


def test_a_larger_repository_keeps_tokens_longer(tmp_path):
    keys = KeyRepository(tmp_path / "keys", max_active_keys=5)
    keys.setup()
    token = a_token(keys)
    for _ in range(3):
        keys.rotate()
    assert keys.indexes() == [0, 1, 2, 3, 4]
    TokenFormatter(keys).decode(token)
    keys.rotate()
    with pytest.raises(TokenInvalid):
        TokenFormatter(keys).decode(token)


def test_a_token_of_the_staged_key_is_accepted(keys, tmp_path):
    # Another host that already rotated encrypts with what is staged here.
    ahead = KeyRepository(tmp_path / "ahead")
    ahead.path.mkdir(mode=0o700)
    (ahead.path / "1").write_bytes((keys.path / "0").read_bytes())
    (ahead.path / "0").write_bytes(Fernet.generate_key())
    TokenFormatter(keys).decode(a_token(ahead))


def test_a_running_process_sees_a_rotation(keys):
    reader = KeyRepository(keys.path)  # another process's view of the same directory
    assert reader.keyring().primary == 1
    KeyRepository(keys.path).rotate()
    assert reader.keyring().primary == 2
    token = a_token(KeyRepository(keys.path))
    TokenFormatter(reader).decode(token)


def test_the_keyring_is_cached_until_the_directory_changes(keys):
    first = keys.keyring()
    assert keys.keyring() is first
    keys.rotate()
    assert keys.keyring() is not first


def test_a_missing_repository_says_how_to_make_one(tmp_path):
    with pytest.raises(KeyRepositoryError, match="cumulo identity bootstrap"):
        KeyRepository(tmp_path / "none").keyring()


def test_a_repository_with_only_a_staged_key_has_no_primary(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "0").write_bytes(Fernet.generate_key())
    with pytest.raises(KeyRepositoryError, match="no primary key"):
        KeyRepository(tmp_path / "keys").keyring()


def test_a_bad_key_file_is_named(keys):
    (keys.path / "1").write_bytes(b"not a key")
    with pytest.raises(KeyRepositoryError, match=r"keys/1 is not a Fernet key"):
        KeyRepository(keys.path).keyring()


def test_rotating_an_empty_repository_is_refused(tmp_path):
    with pytest.raises(KeyRepositoryError, match="setup-keys"):
        KeyRepository(tmp_path / "keys").rotate()


def test_fewer_than_two_active_keys_is_refused(tmp_path):
    with pytest.raises(KeyRepositoryError, match="at least 2"):
        KeyRepository(tmp_path, max_active_keys=1)


def test_a_key_rewritten_in_place_is_read_again(keys):
    first = keys.keyring()
    token = a_token(keys)
    path = keys.path / "1"
    with path.open("r+b") as rewrite:  # as `cp` over the file would
        rewrite.write(Fernet.generate_key())
    assert keys.keyring() is not first
    with pytest.raises(TokenInvalid):
        TokenFormatter(keys).decode(token)
