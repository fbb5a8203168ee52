"""The small record stores of the compute API (cumulo/db/keypairs.py, quotas.py,
records.py) on every backend: key pairs by user and name, quota limits by project."""

from __future__ import annotations

import pytest

from cumulo.db.keypairs import KeyPairExists, KeyPairNotFound, KeyPairStore
from cumulo.db.quotas import QuotaStore


@pytest.fixture
def keypairs(database) -> KeyPairStore:
    database.clear()
    return KeyPairStore(database.engine)


@pytest.fixture
def quotas(database) -> QuotaStore:
    database.clear()
    return QuotaStore(database.engine)


def test_key_pairs_by_user_and_name(keypairs):
    made = keypairs.create("u1", "k", "aa:bb", "ssh-ed25519 AAAA", "ssh")
    assert made.id > 0 and made.created_at.tzinfo is not None and made.updated_at is None
    assert keypairs.get("u1", "k") == made
    keypairs.create("u1", "a", "cc:dd", "ssh-ed25519 BBBB", "ssh")
    keypairs.create("u2", "k", "ee:ff", "ssh-ed25519 CCCC", "ssh")  # names are per user
    assert [k.name for k in keypairs.list("u1")] == ["a", "k"]
    assert keypairs.count("u1") == 2 and keypairs.count("nobody") == 0
    with pytest.raises(KeyPairExists, match=r"Key pair 'k' already exists\."):
        keypairs.create("u1", "k", "11:22", "ssh-ed25519 DDDD", "ssh")
    keypairs.delete("u1", "k")
    with pytest.raises(KeyPairNotFound, match="Keypair k not found for user u1"):
        keypairs.get("u1", "k")
    with pytest.raises(KeyPairNotFound):
        keypairs.delete("u1", "k")
    assert keypairs.get("u2", "k").public_key == "ssh-ed25519 CCCC"


def test_quota_limits_are_set_replaced_and_cleared(quotas):
    assert quotas.limits("p1") == {}
    quotas.set_limits("p1", {"instances": 5, "cores": 8})
    quotas.set_limits("p1", {"instances": 6})
    quotas.set_limits("p2", {"ram": 1024})
    assert quotas.limits("p1") == {"instances": 6, "cores": 8}
    quotas.clear("p1")
    assert quotas.limits("p1") == {} and quotas.limits("p2") == {"ram": 1024}
