"""Tests of cumulo/identity/bootstrap.py: the first records, idempotently."""

from __future__ import annotations

import pytest

from cumulo.identity import AuthenticationFailed, PasswordCredentials, ProjectScope, TokenInvalid
from cumulo.identity.bootstrap import bootstrap


def admin_login(manager, password="pw1"):
    return manager.authenticate(
        PasswordCredentials(password, user_name="admin", domain_id="default"),
        ProjectScope(name="admin", domain_name="Default"),
    )


def test_bootstrap_makes_the_first_records(manager):
    report = bootstrap(manager, "pw1")
    assert [line.split(" (")[0] for line in report.lines] == [
        "created domain Default",
        "created role admin",
        "created role member",
        "created role reader",
        "created project admin",
        "created user admin",
        "granted role admin on project admin to user admin",
    ]
    token = admin_login(manager)
    assert token.is_admin and token.role_names == ["admin", "member", "reader"]
    assert report.user is not None and report.user.default_project_id == token.project.id


def test_bootstrap_again_keeps_everything(manager):
    first = bootstrap(manager, "pw1")
    token = admin_login(manager)
    again = bootstrap(manager, "pw1")
    assert all(line.startswith("kept ") for line in again.lines), again.lines
    assert again.user.id == first.user.id
    manager.validate(token.id)  # nothing revoked


def test_bootstrap_enables_the_admin_and_resets_its_password(manager, clock):
    bootstrap(manager, "pw1")
    token = admin_login(manager)
    admin = manager.store.find_user("admin", "default")
    manager.update_user(admin.id, {"enabled": False})
    clock.advance(seconds=1)
    report = bootstrap(manager, "pw2")
    assert "updated user admin" in report.lines[5] and "enabled, password reset" in report.lines[5]
    clock.advance(seconds=1)
    with pytest.raises(AuthenticationFailed):
        admin_login(manager, "pw1")
    with pytest.raises(TokenInvalid):
        manager.validate(token.id)
    assert admin_login(manager, "pw2").is_admin


def test_bootstrap_with_other_names(manager):
    bootstrap(manager, "pw", admin_user="root", admin_project="ops", admin_role="operator")
    token = manager.authenticate(
        PasswordCredentials("pw", user_name="root", domain_id="default"),
        ProjectScope(name="ops", domain_id="default"),
    )
    assert token.role_names == ["operator"]
    assert [r.name for r in manager.store.list_roles()] == ["admin", "member", "operator", "reader"]
