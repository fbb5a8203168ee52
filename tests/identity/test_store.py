"""Tests of cumulo/identity/store.py on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cumulo.identity import Conflict, Domain, Project, Role, User
from cumulo.identity.exceptions import (
    AssignmentNotFound,
    DomainNotFound,
    ProjectNotFound,
    RoleNotFound,
    UserNotFound,
)
from cumulo.identity.records import RoleAssignment

WHEN = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def domain(store) -> Domain:
    return store.create_domain(Domain("default", "Default"))


def test_domains(store, domain):
    assert store.get_domain("default") == domain
    assert store.find_domain("Default") == domain
    other = store.create_domain(Domain("d2", "Other", "the other one", enabled=False))
    assert store.list_domains() == [domain, other]
    assert store.list_domains(enabled=False) == [other]
    assert store.list_domains(name="Other") == [other]
    with pytest.raises(Conflict, match="'Default' already exists"):
        store.create_domain(Domain("d3", "Default"))
    with pytest.raises(DomainNotFound, match="Could not find domain: id=nope"):
        store.get_domain("nope")


def test_projects(store, domain):
    web = store.create_project(Project("p1", "web", "default", "web servers"))
    assert store.get_project("p1") == web
    assert store.find_project("web", "default") == web
    store.create_domain(Domain("d2", "Other"))
    # The same name in another domain is another project.
    other_web = store.create_project(Project("p2", "web", "d2"))
    db = store.create_project(Project("p3", "db", "default", enabled=False))
    assert store.list_projects() == [db, other_web, web]  # by name, then domain id
    assert store.list_projects(domain_id="default") == [db, web]
    assert store.list_projects(name="web", domain_id="d2") == [other_web]
    assert store.list_projects(enabled=False) == [db]
    with pytest.raises(Conflict, match="'web' already exists in domain 'default'"):
        store.create_project(Project("p4", "web", "default"))
    with pytest.raises(DomainNotFound):
        store.create_project(Project("p5", "x", "nope"))
    with pytest.raises(ProjectNotFound, match="name=WEB, domain_id=default"):
        store.find_project("WEB", "default")  # names are case-sensitive everywhere


def test_project_updates(store, domain):
    store.create_project(Project("p1", "web", "default"))
    store.create_project(Project("p2", "db", "default"))
    changed = store.update_project("p1", {"name": "www", "enabled": False, "description": "d"})
    assert changed == Project("p1", "www", "default", "d", enabled=False)
    assert store.get_project("p1") == changed
    with pytest.raises(Conflict, match="'db' already exists"):
        store.update_project("p1", {"name": "db"})
    with pytest.raises(ProjectNotFound):
        store.update_project("nope", {"enabled": True})
    with pytest.raises(ValueError, match="domain_id"):
        store.update_project("p1", {"domain_id": "d2"})


def test_users(store, domain):
    alice = store.create_user(
        User("u1", "alice", "default", email="a@example.org", password_hash="$argon2id$h")
    )
    assert store.get_user("u1") == alice and store.get_user("u1").password_hash == "$argon2id$h"
    assert "argon2" not in repr(alice)
    assert store.find_user("alice", "default") == alice
    bob = store.create_user(User("u2", "bob", "default", enabled=False))
    assert store.list_users() == [alice, bob]
    assert store.list_users(enabled=True) == [alice]
    assert store.list_users(name="bob", domain_id="default") == [bob]
    with pytest.raises(Conflict, match="'alice' already exists"):
        store.create_user(User("u3", "alice", "default"))
    changed = store.update_user("u1", {"revoked_before": WHEN, "password_changed_at": WHEN})
    assert changed.revoked_before == WHEN == store.get_user("u1").revoked_before
    with pytest.raises(ValueError, match="'id'"):
        store.update_user("u1", {"id": "x"})
    with pytest.raises(UserNotFound, match="id=nope"):
        store.get_user("nope")


def test_roles(store):
    admin = store.create_role(Role("r1", "admin"))
    member = store.create_role(Role("r2", "member", "members change things"))
    assert store.list_roles() == [admin, member]
    assert store.list_roles(name="member") == [member]
    assert store.find_role("admin") == admin == store.get_role("r1")
    with pytest.raises(Conflict):
        store.create_role(Role("r3", "admin"))
    store.delete_role("r1")
    with pytest.raises(RoleNotFound):
        store.get_role("r1")
    with pytest.raises(RoleNotFound):
        store.delete_role("r1")


@pytest.fixture
def cloud(store, domain):
    store.create_project(Project("p1", "web", "default"))
    store.create_project(Project("p2", "db", "default"))
    store.create_user(User("u1", "alice", "default"))
    store.create_user(User("u2", "bob", "default"))
    store.create_role(Role("r1", "admin"))
    store.create_role(Role("r2", "member"))
    return store


def test_grants(cloud):
    store = cloud
    grant = RoleAssignment("u1", "p1", "r2")
    assert store.grant(grant) is True
    assert store.grant(grant) is False  # granting twice is no error
    assert store.has_assignment(grant)
    store.grant(RoleAssignment("u1", "p1", "r1"))
    store.grant(RoleAssignment("u2", "p2", "r2"))
    assert [r.name for r in store.roles_on_project("u1", "p1")] == ["admin", "member"]
    assert store.roles_on_project("u1", "p2") == []
    assert [p.name for p in store.list_projects(user_id="u1")] == ["web"]
    listed = store.list_assignments()
    assert [(a.user.name, a.project.name, a.role.name) for a in listed] == [
        ("alice", "web", "admin"),
        ("alice", "web", "member"),
        ("bob", "db", "member"),
    ]
    assert listed[0].user_domain.name == "Default" and listed[0].project_domain.id == "default"
    assert [a.role.name for a in store.list_assignments(user_id="u1", role_id="r2")] == ["member"]
    assert [a.user.name for a in store.list_assignments(project_id="p2")] == ["bob"]
    store.revoke(grant)
    assert not store.has_assignment(grant)
    with pytest.raises(AssignmentNotFound):
        store.revoke(grant)


def test_a_grant_names_records_that_exist(cloud):
    with pytest.raises(UserNotFound):
        cloud.grant(RoleAssignment("nope", "p1", "r1"))
    with pytest.raises(ProjectNotFound):
        cloud.grant(RoleAssignment("u1", "nope", "r1"))
    with pytest.raises(RoleNotFound):
        cloud.grant(RoleAssignment("u1", "p1", "nope"))


def test_deleting_takes_the_assignments_along(cloud):
    store = cloud
    store.grant(RoleAssignment("u1", "p1", "r1"))
    store.grant(RoleAssignment("u1", "p2", "r1"))
    store.grant(RoleAssignment("u2", "p1", "r2"))
    store.delete_project("p2")
    assert [a.project.id for a in store.list_assignments(user_id="u1")] == ["p1"]
    store.delete_user("u2")
    assert [a.user.id for a in store.list_assignments()] == ["u1"]
    store.delete_role("r1")
    assert store.list_assignments() == []
    with pytest.raises(ProjectNotFound):
        store.delete_project("p2")
    with pytest.raises(UserNotFound):
        store.delete_user("u2")


def test_the_subject_of_a_token(cloud):
    store = cloud
    store.grant(RoleAssignment("u1", "p1", "r2"))
    subject = store.subject("u1", "p1")
    assert subject.user.name == "alice" and subject.user_domain.name == "Default"
    assert subject.project.name == "web" and subject.project_domain.id == "default"
    assert [r.name for r in subject.roles] == ["member"]
    unscoped = store.subject("u1", None)
    assert unscoped.project is None and unscoped.roles == ()
    assert store.subject("u1", "p2").roles == ()
    with pytest.raises(UserNotFound):
        store.subject("nope", None)
    with pytest.raises(ProjectNotFound):
        store.subject("u1", "nope")
