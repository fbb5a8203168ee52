"""Tests of cumulo/identity/passwords.py: argon2id hashes."""

from __future__ import annotations

import argon2

from cumulo.identity import PasswordHasher


def test_a_hash_is_argon2id_in_phc_format_and_salted(hasher):
    first, second = hasher.hash("s3cret"), hasher.hash("s3cret")
    assert first.startswith("$argon2id$v=19$")
    assert first != second and "s3cret" not in first


def test_verify(hasher):
    stored = hasher.hash("s3cret")
    assert hasher.verify(stored, "s3cret")
    assert not hasher.verify(stored, "S3cret")
    assert not hasher.verify(stored, "")


def test_no_hash_or_a_broken_one_never_matches(hasher):
    assert not hasher.verify(None, "cumulo: a password nobody has")
    assert not hasher.verify("", "x")
    assert not hasher.verify("$argon2id$garbage", "x")
    assert not hasher.verify("plain text", "plain text")


def test_the_default_parameters_are_argon2_cffis():
    used = argon2.extract_parameters(PasswordHasher().hash("x"))
    default = argon2.PasswordHasher()
    assert used.type is argon2.Type.ID
    assert (used.time_cost, used.memory_cost, used.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )


def test_a_hash_with_other_parameters_needs_rehashing(hasher):
    assert not hasher.needs_rehash(hasher.hash("x"))
    stronger = PasswordHasher(argon2.PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    assert stronger.needs_rehash(hasher.hash("x"))
    assert stronger.verify(hasher.hash("x"), "x")  # still verifies meanwhile
    assert hasher.needs_rehash("not a hash")
