"""``cumulo api`` as a real process (gunicorn, two workers) on a SQLite file, driven
by the real OpenStack clients: ``openstack`` (python-openstackclient) with a
clouds.yaml written here, openstacksdk, keystoneauth1, and plain HTTP for what
the clients never send (bad bodies, garbage tokens). The same server on
PostgreSQL and MariaDB at the end.

Needs: nothing but this machine for SQLite; PostgreSQL and MariaDB for the last
test (``scripts/services.sh``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openstack
import pytest
import requests
import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from openstack import exceptions as sdk_exceptions
from openstack.config import loader

from cumulo.identity import KeyRepository, TokenFormatter, TokenPayload
from tests.integration.processes import REPO, Processes, wait_for
from tests.support.databases import server_database

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "admin-secret"
OPENSTACK = Path(sys.executable).with_name("openstack")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cumulo(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cumulo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass
class Cloud:
    """A running ``cumulo api`` and what the tests reach it with."""

    processes: Processes
    base: str
    database_url: str
    keys: Path
    work: Path
    clouds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        return f"{self.base}/identity"

    @property
    def clouds_yaml(self) -> Path:
        return self.work / "clouds.yaml"

    def add_cloud(self, name: str, user: str, password: str, project: str) -> None:
        self.clouds[name] = {
            "auth": {
                "auth_url": self.identity,
                "username": user,
                "password": password,
                "project_name": project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": "RegionOne",
            "identity_api_version": 3,
        }
        self.clouds_yaml.write_text(yaml.safe_dump({"clouds": self.clouds}))

    def openstack(
        self, *args: str, cloud: str = "admin", ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``openstack`` CLI against this cloud."""
        env = {
            **os.environ,
            "OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml),
            "OS_CLOUD": cloud,
        }
        env = {
            k: v
            for k, v in env.items()
            if not k.startswith("OS_") or k in ("OS_CLIENT_CONFIG_FILE", "OS_CLOUD")
        }
        done = subprocess.run(
            [str(OPENSTACK), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        if ok:
            assert done.returncode == 0, f"openstack {' '.join(args)}:\n{done.stderr}"
        return done

    def openstack_json(self, *args: str, cloud: str = "admin") -> Any:
        return json.loads(self.openstack(*args, "-f", "json", cloud=cloud).stdout)

    def sdk(self, cloud: str = "admin") -> openstack.connection.Connection:
        config = loader.OpenStackConfig(
            config_files=[str(self.clouds_yaml)], vendor_files=[], load_envvars=False
        )
        return openstack.connection.Connection(config=config.get_one(cloud))

    def token(self, user: str, password: str, project: str | None) -> str:
        """A token from keystoneauth1's own password plugin."""
        auth = v3.Password(
            auth_url=self.identity,
            username=user,
            password=password,
            user_domain_id="default",
            project_name=project,
            project_domain_id="default",
            unscoped=project is None,
        )
        return str(ks_session.Session(auth=auth).get_token())

    def get(self, path: str, token: str | None = None, **headers: str) -> requests.Response:
        if token is not None:
            headers["X-Auth-Token"] = token
        # A new connection each time, so both workers are asked.
        response = requests.get(f"{self.identity}{path}", headers=headers, timeout=30)
        assert response.headers["x-openstack-request-id"].startswith("req-")
        return response

    def post(
        self, path: str, body: Any, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"X-Auth-Token": token} if token else {}
        response = requests.post(
            f"{self.identity}{path}", json=body, headers=headers, timeout=30, **kwargs
        )
        assert response.headers["x-openstack-request-id"].startswith("req-")
        return response

    def log(self) -> str:
        return "".join(self.processes.logs["api"])


def start_cloud(
    processes: Processes, work: Path, database_url: str, api_args: tuple[str, ...] = ()
) -> Cloud:
    """``cumulo api`` (two workers) on a synced, bootstrapped database; ``api_args``
    are more of its options (a transport URL, a volume or image directory)."""
    keys = work / "keys"
    cumulo("db", "sync", "--database-url", database_url)
    cumulo(
        "identity",
        "bootstrap",
        "--database-url",
        database_url,
        "--key-repository",
        str(keys),
        env={"CUMULO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    port = free_port()
    processes.start(
        "api",
        [
            "-m",
            "cumulo",
            "api",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--database-url",
            database_url,
            "--key-repository",
            str(keys),
            *api_args,
        ],
        ready="api started",
    )
    cloud = Cloud(processes, f"http://127.0.0.1:{port}", database_url, keys, work)
    wait_for(lambda: _answers(cloud.identity), "the API workers to answer")
    cloud.add_cloud("admin", "admin", ADMIN_PASSWORD, "admin")
    return cloud


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 300
    except (requests.ConnectionError, requests.Timeout):
        # Not listening yet, or a worker still starting on a busy machine: ask again.
        return False


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("identity-api")
    processes = Processes()
    try:
        cloud = start_cloud(processes, work, f"sqlite:///{work / 'cumulo.db'}")
        yield cloud
    finally:
        # The one error line this module provokes on purpose (the broken key test).
        processes.stop_and_check_logs(tolerate=lambda name, line: "not a Fernet key" in line)


@pytest.fixture(scope="module")
def demo(cloud) -> dict[str, Any]:
    """Project demo and user alice (member of demo), made with the CLI."""
    made = {
        "project": cloud.openstack_json("project", "create", "--description", "the demo", "demo"),
        "user": cloud.openstack_json(
            "user",
            "create",
            "--password",
            "alice-pw",
            "--project",
            "demo",
            "--email",
            "alice@example.org",
            "alice",
        ),
    }
    cloud.openstack("role", "add", "--user", "alice", "--project", "demo", "member")
    cloud.add_cloud("alice", "alice", "alice-pw", "demo")
    return made


# --- the admin, with the CLI ------------------------------------------------------------


def test_token_issue(cloud):
    issued = cloud.openstack_json("token", "issue")
    admin = cloud.sdk().identity.find_project("admin")
    assert issued["project_id"] == admin.id
    assert issued["id"].startswith("gAAAAA") and len(issued["id"]) < 255
    expires = datetime.strptime(issued["expires"], "%Y-%m-%dT%H:%M:%S%z")
    assert timedelta(minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=1)


def test_projects_users_roles_and_assignments(cloud, demo):
    assert demo["project"]["name"] == "demo" and demo["project"]["domain_id"] == "default"
    assert demo["project"]["description"] == "the demo"
    assert demo["user"]["name"] == "alice"
    assert demo["user"]["default_project_id"] == demo["project"]["id"]
    shown = cloud.openstack_json("project", "show", "demo")
    assert shown["id"] == demo["project"]["id"]
    assert {p["Name"] for p in cloud.openstack_json("project", "list")} == {"admin", "demo"}
    assert cloud.openstack_json("user", "show", "alice")["email"] == "alice@example.org"
    assert {r["Name"] for r in cloud.openstack_json("role", "list")} == {
        "admin",
        "member",
        "reader",
    }
    assignments = cloud.openstack_json("role", "assignment", "list", "--names")
    assert {(a["Role"], a["User"], a["Project"]) for a in assignments} == {
        ("admin", "admin@Default", "admin@Default"),
        ("member", "alice@Default", "demo@Default"),
    }


# --- a second user ------------------------------------------------------------------------


def test_a_second_user_logs_into_its_project(cloud, demo):
    issued = cloud.openstack_json("token", "issue", cloud="alice")
    assert issued["project_id"] == demo["project"]["id"]
    assert issued["user_id"] == demo["user"]["id"]
    alice = cloud.sdk("alice")
    assert alice.identity.get_user(demo["user"]["id"]).name == "alice"  # a user reads itself
    assert alice.identity.get_project(demo["project"]["id"]).name == "demo"
    assert [p.name for p in alice.identity.user_projects(demo["user"]["id"])] == ["demo"]


def test_a_non_admin_is_refused(cloud, demo):
    refused = cloud.openstack("user", "list", cloud="alice", ok=False)
    assert refused.returncode != 0
    assert "403" in refused.stderr and "identity:list_users" in refused.stderr
    # Refused the list of every project, OSC falls back to the user's own projects.
    mine = cloud.openstack_json("project", "list", cloud="alice")
    assert [p["Name"] for p in mine] == ["demo"]
    alice = cloud.sdk("alice")
    with pytest.raises(sdk_exceptions.ForbiddenException):
        alice.identity.create_project(name="mine")
    with pytest.raises(sdk_exceptions.ForbiddenException):
        list(alice.identity.users())
    token = cloud.token("alice", "alice-pw", "demo")
    response = cloud.get("/v3/roles", token)
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": 403,
            "title": "Forbidden",
            "message": "You are not authorized to perform the requested action: "
            "identity:list_roles.",
        }
    }


# --- revocation ---------------------------------------------------------------------------


def test_a_disabled_users_tokens_are_refused(cloud, demo):
    admin = cloud.sdk()
    bob = admin.identity.create_user(name="bob", password="bob-pw", domain_id="default")
    member = admin.identity.find_role("member")
    demo_project = admin.identity.find_project("demo")
    admin.identity.assign_project_role_to_user(demo_project, bob, member)
    cloud.add_cloud("bob", "bob", "bob-pw", "demo")
    token = cloud.token("bob", "bob-pw", "demo")
    assert cloud.get("/v3/auth/projects", token).status_code == 200

    cloud.openstack("user", "set", "--disable", "bob")
    refused = cloud.get("/v3/auth/projects", token)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "The token is not valid."
    failed = cloud.openstack("token", "issue", cloud="bob", ok=False)
    assert failed.returncode != 0 and "401" in failed.stderr

    # (the SDK sends only what changed since it last read the user: read it again)
    admin.identity.update_user(admin.identity.get_user(bob.id), is_enabled=True)
    assert cloud.get("/v3/auth/projects", token).status_code == 401  # revoked for good
    assert cloud.get("/v3/auth/projects", cloud.token("bob", "bob-pw", "demo")).status_code == 200


def test_a_password_change_revokes_earlier_tokens(cloud, demo):
    before = cloud.token("alice", "alice-pw", "demo")
    cloud.openstack("user", "set", "--password", "alice-new", "alice")
    assert cloud.get("/v3/auth/projects", before).status_code == 401
    with pytest.raises(Exception, match="401"):
        cloud.token("alice", "alice-pw", "demo")
    after = cloud.token("alice", "alice-new", "demo")
    assert cloud.get("/v3/auth/projects", after).status_code == 200
    # The user's own change, with its original password (and back to the first one).
    cloud.add_cloud("alice", "alice", "alice-new", "demo")
    cloud.openstack(
        "user",
        "password",
        "set",
        "--original-password",
        "alice-new",
        "--password",
        "alice-pw",
        cloud="alice",
    )
    cloud.add_cloud("alice", "alice", "alice-pw", "demo")
    assert cloud.get("/v3/auth/projects", after).status_code == 401
    assert (
        cloud.get("/v3/auth/projects", cloud.token("alice", "alice-pw", "demo")).status_code == 200
    )


def test_a_services_token_check(cloud, demo):
    admin = cloud.token("admin", ADMIN_PASSWORD, "admin")
    alice = cloud.token("alice", "alice-pw", "demo")
    checked = cloud.get("/v3/auth/tokens", admin, **{"X-Subject-Token": alice})
    assert checked.status_code == 200 and checked.headers["X-Subject-Token"] == alice
    body = checked.json()["token"]
    assert body["user"]["name"] == "alice" and body["project"]["name"] == "demo"
    assert [r["name"] for r in body["roles"]] == ["member", "reader"]
    head = requests.head(
        f"{cloud.identity}/v3/auth/tokens",
        headers={"X-Auth-Token": alice, "X-Subject-Token": alice},
        timeout=30,
    )
    assert head.status_code == 200  # a user checks its own token
    other = cloud.get("/v3/auth/tokens", alice, **{"X-Subject-Token": admin})
    assert other.status_code == 403
    gone = cloud.get("/v3/auth/tokens", admin, **{"X-Subject-Token": "garbage"})
    assert gone.status_code == 404 and gone.json()["error"]["title"] == "Not Found"


# --- bad tokens and bad requests ----------------------------------------------------------


def test_missing_garbage_and_expired_tokens(cloud, demo):
    missing = cloud.get("/v3/projects")
    assert missing.status_code == 401
    assert missing.json() == {
        "error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication.",
        }
    }
    assert missing.headers["WWW-Authenticate"] == f'Keystone uri="{cloud.identity}"'
    for garbage in ("garbage", "gAAAAA" + "x" * 150, "ünïcode", "A" * 5000):
        refused = cloud.get("/v3/projects", garbage)
        assert refused.status_code == 401, garbage
        assert refused.json()["error"]["message"] == "The token is not valid."
    # Signed with this cloud's own keys, but past its expiry.
    admin = cloud.sdk().identity.find_user("admin")
    project = cloud.sdk().identity.find_project("admin")
    issued = datetime.now(UTC) - timedelta(hours=2)
    payload = TokenPayload.new(admin.id, project.id, ("password",), issued, timedelta(hours=1))
    expired = TokenFormatter(KeyRepository(cloud.keys)).encode(payload)
    refused = cloud.get("/v3/projects", expired)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "The token has expired."
    fresh = TokenFormatter(KeyRepository(cloud.keys)).encode(
        TokenPayload.new(admin.id, project.id, ("password",), datetime.now(UTC), timedelta(hours=1))
    )
    assert cloud.get("/v3/projects", fresh).status_code == 200  # the same, in time


def test_a_wrong_password_is_keystones_401(cloud):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"id": "default"}, "password": "no"}
                },
            }
        }
    }
    for user in (
        {"name": "admin", "domain": {"id": "default"}},
        {"name": "nobody", "domain": {"name": "Default"}},
        {"id": "nope"},
    ):
        body["auth"]["identity"]["password"]["user"] = {**user, "password": "wrong"}
        refused = cloud.post("/v3/auth/tokens", body)
        assert refused.status_code == 401
        assert refused.json() == {
            "error": {
                "code": 401,
                "title": "Unauthorized",
                "message": "The request you have made requires authentication.",
            }
        }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v3/projects", {"project": {"name": 5}}, "project.name"),
        ("/v3/projects", {"project": {}}, "project.name"),
        ("/v3/projects", {"project": {"name": "x", "colour": "red"}}, "project.colour"),
        ("/v3/projects", {"projects": {"name": "x"}}, "project"),
        ("/v3/users", {"user": {"name": "x", "enabled": "yes"}}, "user.enabled"),
        (
            "/v3/users",
            {"user": {"name": "x", "default_project_id": "nope"}},
            "user.default_project_id",
        ),
        ("/v3/roles", {"role": {"name": "x" * 256}}, "role.name"),
        (
            "/v3/auth/tokens",
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": "admin", "domain": {"id": "default"}}},
                    }
                }
            },
            "auth.identity.password.user.password",
        ),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(cloud, path, body, field):
    token = cloud.token("admin", ADMIN_PASSWORD, "admin")
    refused = cloud.post(path, body, token)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["title"] == "Bad Request"
    assert error["message"].startswith(f"Invalid input for field '{field}': "), error


def test_an_oversized_body_is_a_413(cloud):
    big = {"auth": {"padding": "x" * 200_000}}
    declared = cloud.post("/v3/auth/tokens", big)
    assert declared.status_code == 413
    assert declared.json()["error"]["title"] == "Request Entity Too Large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: read up to the limit, then refused
        yield b'{"auth": {"padding": "'
        for _ in range(20):
            yield b"x" * 10_000
        yield b'"}}'

    chunked = requests.post(
        f"{cloud.identity}/v3/auth/tokens",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert chunked.status_code == 413
    body = json.dumps(
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "admin",
                            "domain": {"id": "default"},
                            "password": ADMIN_PASSWORD,
                        }
                    },
                }
            }
        }
    ).encode()
    small = requests.post(
        f"{cloud.identity}/v3/auth/tokens",
        data=iter([body[:10], body[10:]]),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert small.status_code == 201  # a chunked body within the limit is read whole


def test_an_unexpected_failure_is_a_500_naming_the_request_id(cloud):
    token = cloud.token("admin", ADMIN_PASSWORD, "admin")
    staged = cloud.keys / "0"
    saved = staged.read_bytes()
    staged.write_bytes(b"not a key")  # in place, as a careless copy would
    try:
        broken = cloud.get("/v3/projects", token)
    finally:
        staged.write_bytes(saved)
    request_id = broken.headers["x-openstack-request-id"]
    assert broken.status_code == 500
    assert broken.json() == {
        "error": {
            "code": 500,
            "title": "Internal Server Error",
            "message": "An unexpected error prevented the server from fulfilling your "
            f"request (request id {request_id}).",
        }
    }
    logged = [json.loads(line) for line in cloud.log().splitlines() if request_id in line]
    errors = [line for line in logged if line["level"] == "error"]
    assert errors and "KeyRepositoryError" in errors[0]["exc"]
    assert cloud.get("/v3/projects", token).status_code == 200  # repaired, read again


# --- keys ---------------------------------------------------------------------------------


def test_key_rotation_keeps_tokens_until_their_key_leaves(cloud):
    def valid(token: str) -> bool:
        # Several new connections, so both workers answer.
        codes = {cloud.get("/v3/auth/projects", token).status_code for _ in range(6)}
        assert len(codes) == 1, codes
        return codes == {200}

    before = cloud.token("admin", ADMIN_PASSWORD, "admin")
    out = cumulo("identity", "rotate-keys", "--key-repository", str(cloud.keys))
    assert out.startswith(f"rotated {cloud.keys}: primary key")
    assert valid(before)  # its key is a secondary now
    between = cloud.token("admin", ADMIN_PASSWORD, "admin")
    cumulo("identity", "rotate-keys", "--key-repository", str(cloud.keys))
    assert not valid(before)  # its key left the repository
    assert valid(between)
    assert valid(cloud.token("admin", ADMIN_PASSWORD, "admin"))
    assert cloud.openstack_json("token", "issue")["id"]


def test_bootstrap_again_changes_nothing(cloud):
    out = cumulo(
        "identity",
        "bootstrap",
        "--database-url",
        cloud.database_url,
        "--key-repository",
        str(cloud.keys),
        env={"CUMULO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    assert all(line.startswith("kept ") for line in out.splitlines()), out


# --- the same server on PostgreSQL and MariaDB --------------------------------------------


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_the_api_on_a_server_database(backend, tmp_path):
    processes = Processes()
    with server_database(backend, suffix="_api") as url:
        try:
            cloud = start_cloud(processes, tmp_path, url.render_as_string(hide_password=False))
            admin = cloud.sdk()
            project = admin.identity.create_project(name="web", domain_id="default")
            user = admin.identity.create_user(name="dana", password="dana-pw", domain_id="default")
            admin.identity.assign_project_role_to_user(
                project, user, admin.identity.find_role("reader")
            )
            with pytest.raises(sdk_exceptions.ConflictException):
                admin.identity.create_project(name="web", domain_id="default")
            token = cloud.token("dana", "dana-pw", "web")
            checked = cloud.get("/v3/auth/tokens", token, **{"X-Subject-Token": token}).json()
            assert [r["name"] for r in checked["token"]["roles"]] == ["reader"]
            assignments = list(admin.identity.role_assignments(user_id=user.id))
            assert [a.scope["project"]["id"] for a in assignments] == [project.id]
            admin.identity.delete_project(project)
            assert cloud.get("/v3/auth/projects", token).status_code == 401
        finally:
            processes.stop_and_check_logs()
