"""Tests of cumulo/identity/tokens.py: the Fernet token format and its payload."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from cumulo.identity import KeyRepository, TokenFormatter, TokenInvalid, TokenPayload
from cumulo.identity.tokens import MAX_TOKEN_LENGTH, new_audit_id

NOW = datetime(2026, 12, 1, 12, 0, 0, 654321, tzinfo=UTC)
USER = "0123456789abcdef0123456789abcdef"
PROJECT = "fedcba9876543210fedcba9876543210"


def payload(**values) -> TokenPayload:
    fields = {
        "user_id": USER,
        "project_id": PROJECT,
        "methods": ("password",),
        "now": NOW,
        "lifetime": timedelta(hours=1),
    }
    fields.update(values)
    return TokenPayload.new(**fields)


def test_a_token_round_trips_with_microseconds(keys):
    tokens = TokenFormatter(keys)
    issued = payload()
    decoded = tokens.decode(tokens.encode(issued))
    assert decoded == issued
    assert decoded.issued_at == NOW and decoded.expires_at == NOW + timedelta(hours=1)
    assert decoded.issued_at.microsecond == 654321


def test_unscoped_and_non_hex_ids_round_trip(keys):
    tokens = TokenFormatter(keys)
    for issued in (
        payload(project_id=None),
        payload(user_id="admin-user", project_id="default"),
        payload(user_id="ABCDEF0123456789ABCDEF0123456789"),  # upper-case: kept as text
        payload(methods=("password", "token"), parent_audit_id=new_audit_id()),
    ):
        assert tokens.decode(tokens.encode(issued)) == issued


def test_the_token_is_url_safe_short_and_opaque(keys):
    token = TokenFormatter(keys).encode(payload())
    assert "=" not in token and len(token) < 255
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert bytes.fromhex(USER) not in raw and USER.encode() not in raw


def test_audit_ids_are_22_url_safe_characters():
    ids = {new_audit_id() for _ in range(100)}
    assert len(ids) == 100 and {len(i) for i in ids} == {22}


@pytest.mark.parametrize(
    "garbage",
    ["", "x", "not-a-token", "gAAAAA" + "A" * 100, "é" * 50, "A" * (MAX_TOKEN_LENGTH + 1)],
)
def test_garbage_is_an_invalid_token(keys, garbage):
    with pytest.raises(TokenInvalid) as raised:
        TokenFormatter(keys).decode(garbage)
    assert str(raised.value) == "The token is not valid."


def test_a_tampered_token_is_invalid(keys):
    tokens = TokenFormatter(keys)
    token = tokens.encode(payload())
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(TokenInvalid, match="not valid"):
        tokens.decode(flipped)


def test_another_repositorys_token_is_invalid(keys, tmp_path):
    other = KeyRepository(tmp_path / "other")
    other.setup()
    token = TokenFormatter(other).encode(payload())
    with pytest.raises(TokenInvalid) as raised:
        TokenFormatter(keys).decode(token)
    assert "does not decrypt" in raised.value.reason


@pytest.mark.parametrize(
    "plaintext",
    [
        [2, bytes(16), 1, None, 0, 0, [b"a"]],  # another payload version
        [1, bytes(16), 0, None, 0, 0, [b"a"]],  # no method
        [1, bytes(16), 1, None, 0, 0, []],  # no audit id
        [1, 42, 1, None, 0, 0, [b"a"]],  # a user id that is no id
        {"user": "x"},
    ],
)
def test_a_payload_of_another_shape_is_invalid(keys, plaintext):
    primary = (keys.path / str(max(keys.indexes()))).read_bytes()
    token = Fernet(primary).encrypt(msgspec.msgpack.encode(plaintext)).decode().rstrip("=")
    with pytest.raises(TokenInvalid) as raised:
        TokenFormatter(keys).decode(token)
    assert "malformed" in raised.value.reason


def test_expiry_is_the_payloads_own():
    issued = payload(lifetime=timedelta(seconds=5))
    assert not issued.expired(NOW + timedelta(seconds=4.999999))
    assert issued.expired(NOW + timedelta(seconds=5))


hex_ids = st.binary(min_size=16, max_size=16).map(bytes.hex)
text_ids = st.text(min_size=1, max_size=64).filter(lambda s: len(s) != 32)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(
    user=hex_ids | text_ids,
    project=st.none() | hex_ids | text_ids,
    methods=st.sampled_from([("password",), ("token",), ("password", "token")]),
    now=moments,
    lifetime=st.integers(min_value=1, max_value=10**9).map(lambda us: timedelta(microseconds=us)),
)
def test_any_payload_round_trips(tmp_path_factory, user, project, methods, now, lifetime):
    repository = KeyRepository(tmp_path_factory.getbasetemp() / "hypothesis-keys")
    repository.setup()
    tokens = TokenFormatter(repository)
    issued = TokenPayload.new(user, project, methods, now, lifetime)
    assert tokens.decode(tokens.encode(issued)) == issued
