"""Tests of cumulo/identity/manager.py: authentication, token checks, revocation."""

from __future__ import annotations

import argon2
import pytest

from cumulo.identity import (
    AuthenticationFailed,
    Domain,
    IdentityManager,
    InvalidValue,
    PasswordCredentials,
    PasswordHasher,
    ProjectScope,
    Role,
    TokenExpired,
    TokenFormatter,
    TokenInvalid,
)
from cumulo.identity.manager import DEFAULT_TOKEN_LIFETIME
from cumulo.identity.records import RoleAssignment


@pytest.fixture
def cloud(manager):
    """A domain, roles admin/member/reader, project web, alice (member of web)."""
    store = manager.store
    store.create_domain(Domain("default", "Default"))
    roles = {
        name: store.create_role(Role(f"r-{name}", name)) for name in ("admin", "member", "reader")
    }
    web = manager.create_project("web", "default")
    alice = manager.create_user("alice", "default", "alice-pw", email="alice@example.org")
    manager.grant(alice.id, web.id, roles["member"].id)
    return {"web": web, "alice": alice, "roles": roles}


def login(manager, password="alice-pw", project="web", **user):
    credentials = PasswordCredentials(
        password, **(user or {"user_name": "alice", "domain_id": "default"})
    )
    scope = None if project is None else ProjectScope(name=project, domain_id="default")
    return manager.authenticate(credentials, scope)


def test_password_login_scoped_by_name(manager, cloud, clock):
    token = login(manager)
    assert token.user.id == cloud["alice"].id and token.user.password_hash is None
    assert token.project == cloud["web"] and token.project_domain.name == "Default"
    # member implies reader (Keystone's default implied roles)
    assert token.role_names == ["member", "reader"] and not token.is_admin
    assert token.payload.methods == ("password",)
    assert token.payload.issued_at == clock.now
    assert token.payload.expires_at == clock.now + DEFAULT_TOKEN_LIFETIME
    assert manager.validate(token.id) == token


def test_users_and_projects_by_id_or_by_domain_name(manager, cloud):
    alice, web = cloud["alice"], cloud["web"]
    by_id = manager.authenticate(
        PasswordCredentials("alice-pw", user_id=alice.id), ProjectScope(web.id)
    )
    assert by_id.project == web
    by_domain_name = manager.authenticate(
        PasswordCredentials("alice-pw", user_name="alice", domain_name="Default"),
        ProjectScope(name="web", domain_name="Default"),
    )
    assert by_domain_name.user.id == alice.id


def test_an_admin_carries_the_implied_roles(manager, cloud):
    manager.grant(cloud["alice"].id, cloud["web"].id, cloud["roles"]["admin"].id)
    token = login(manager)
    assert token.role_names == ["admin", "member", "reader"] and token.is_admin


@pytest.mark.parametrize(
    ("password", "user"),
    [
        ("wrong", {"user_name": "alice", "domain_id": "default"}),
        ("alice-pw", {"user_name": "nobody", "domain_id": "default"}),
        ("alice-pw", {"user_name": "alice", "domain_id": "nope"}),
        ("alice-pw", {"user_name": "alice", "domain_name": "default"}),  # names are exact
        ("alice-pw", {"user_id": "nope"}),
    ],
)
def test_wrong_credentials_all_fail_alike(manager, cloud, password, user):
    with pytest.raises(AuthenticationFailed) as raised:
        login(manager, password, **user)
    assert str(raised.value) == "The request you have made requires authentication."
    assert "alice-pw" not in raised.value.reason


def test_a_project_without_a_role_is_refused(manager, cloud):
    manager.create_project("db", "default")
    with pytest.raises(AuthenticationFailed) as raised:
        login(manager, project="db")
    assert str(raised.value) == f"User {cloud['alice'].id} has no access to project " + (
        manager.store.find_project("db", "default").id + "."
    )
    with pytest.raises(AuthenticationFailed):
        login(manager, project="nope")


def test_no_scope_means_the_default_project_or_none(manager, cloud):
    assert login(manager, project=None).project is None
    manager.update_user(cloud["alice"].id, {"default_project_id": cloud["web"].id})
    assert login(manager, project=None).project == cloud["web"]


def test_a_token_expires(manager, cloud, clock):
    token = login(manager)
    clock.advance(seconds=3599)
    manager.validate(token.id)
    clock.advance(seconds=1)
    with pytest.raises(TokenExpired) as raised:
        manager.validate(token.id)
    assert str(raised.value) == "The token has expired."


def test_disabling_a_user_revokes_its_tokens_for_good(manager, cloud, clock):
    token = login(manager)
    manager.update_user(cloud["alice"].id, {"enabled": False})
    with pytest.raises(TokenInvalid, match="not valid") as raised:
        manager.validate(token.id)
    assert "disabled" in raised.value.reason
    with pytest.raises(AuthenticationFailed):
        login(manager)
    clock.advance(seconds=1)
    manager.update_user(cloud["alice"].id, {"enabled": True})
    with pytest.raises(TokenInvalid, match="not valid") as raised:
        manager.validate(token.id)  # issued before it was disabled
    assert "revoked" in raised.value.reason
    manager.validate(login(manager).id)


def test_a_password_change_revokes_earlier_tokens(manager, cloud, clock):
    old = login(manager)
    clock.advance(microseconds=1)
    manager.update_user(cloud["alice"].id, {}, password="new-pw")
    with pytest.raises(TokenInvalid) as raised:
        manager.validate(old.id)
    assert "revoked" in raised.value.reason
    with pytest.raises(AuthenticationFailed):
        login(manager)
    clock.advance(microseconds=1)
    manager.validate(login(manager, "new-pw").id)


def test_a_users_own_password_change_needs_the_original(manager, cloud, clock):
    alice = cloud["alice"]
    with pytest.raises(AuthenticationFailed):
        manager.change_password(alice.id, "wrong", "new-pw")
    with pytest.raises(AuthenticationFailed):
        manager.change_password("nope", "alice-pw", "new-pw")
    clock.advance(seconds=1)
    changed = manager.change_password(alice.id, "alice-pw", "new-pw")
    assert changed.password_changed_at == clock.now and changed.password_hash is None
    clock.advance(microseconds=1)
    login(manager, "new-pw")


def test_losing_the_role_or_the_project_ends_scoped_tokens(manager, cloud):
    token = login(manager)
    unscoped = login(manager, project=None)
    member = RoleAssignment(cloud["alice"].id, cloud["web"].id, cloud["roles"]["member"].id)
    manager.store.revoke(member)
    with pytest.raises(TokenInvalid) as raised:
        manager.validate(token.id)
    assert "no role" in raised.value.reason
    manager.validate(unscoped.id)  # an unscoped token names no project


def test_a_disabled_or_deleted_project_ends_its_tokens(manager, cloud):
    token = login(manager)
    manager.store.update_project(cloud["web"].id, {"enabled": False})
    with pytest.raises(TokenInvalid):
        manager.validate(token.id)
    with pytest.raises(AuthenticationFailed):
        login(manager)
    manager.store.update_project(cloud["web"].id, {"enabled": True})
    manager.validate(token.id)
    manager.store.delete_project(cloud["web"].id)
    with pytest.raises(TokenInvalid) as raised:
        manager.validate(token.id)
    assert "no longer exists" in raised.value.reason


def test_a_deleted_user_has_no_tokens(manager, cloud):
    token = login(manager)
    manager.store.delete_user(cloud["alice"].id)
    with pytest.raises(TokenInvalid):
        manager.validate(token.id)


def test_a_login_rehashes_a_password_made_with_other_parameters(manager, cloud, keys, clock):
    alice = cloud["alice"]
    old_hash = manager.store.get_user(alice.id).password_hash
    stronger = PasswordHasher(argon2.PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    upgraded = IdentityManager(manager.store, TokenFormatter(keys), stronger, clock=clock)
    earlier = login(upgraded)
    new_hash = manager.store.get_user(alice.id).password_hash
    assert new_hash != old_hash and argon2.extract_parameters(new_hash).time_cost == 2
    upgraded.validate(earlier.id)  # a rehash is no password change


def test_creating_in_a_domain_that_does_not_exist(manager, cloud):
    with pytest.raises(InvalidValue, match=r"Invalid input for field 'project\.domain_id'"):
        manager.create_project("x", "nope")
    with pytest.raises(InvalidValue, match=r"'user\.domain_id'"):
        manager.create_user("x", "nope")
