"""Fixtures for the compute API tests that change servers: the WSGI application of
one worker (as ``cumulo all-in-one`` builds it) in front of a real embedded cloud —
a SQLite file, an ``inproc://`` bus, a conductor and two fake compute hosts —
called in-process through Falcon's WSGI test client; and users of two projects
with each role, logged in through ``/identity`` as a client would."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from cumulo.api.app import create_app
from cumulo.api.config import ApiConfig
from cumulo.cli.api_client import password_auth
from cumulo.deploy import CloudOptions, EmbeddedCloud
from cumulo.identity import IdentityManager, IdentityStore, KeyRepository, TokenFormatter
from cumulo.identity.bootstrap import bootstrap
from cumulo.image import add_image

ADMIN_PASSWORD = "admin-secret"
USER_PASSWORD = "user-secret"
LATEST = {"OpenStack-API-Version": "compute latest"}
IMAGE = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"
"""The image every test server boots (a placeholder disk in the catalog)."""


@dataclasses.dataclass
class ComputeCloud:
    """The application, the cloud behind it, and a token per (project, role)."""

    client: falcon.testing.TestClient
    cloud: EmbeddedCloud
    config: ApiConfig
    tokens: dict[str, str]
    """``admin`` (admin project), ``member``/``reader`` (project ``alpha``),
    ``other`` (a member of project ``beta``)."""
    projects: dict[str, str]
    """Project name -> id (``admin``, ``alpha``, ``beta``)."""

    users: dict[str, str] = dataclasses.field(default_factory=dict)
    """User name -> id."""

    def boot(self, who: str = "member", name: str = "vm", **fields: Any) -> str:
        """A server of ``who``'s project built straight through the conductor's task
        API (not through ``POST /servers``), once ACTIVE; returns its id."""
        from cumulo.model import Flavor, Instance
        from cumulo.rpc import RequestContext

        project = {"admin": "admin", "member": "alpha", "reader": "alpha", "other": "beta"}[who]
        context = RequestContext(
            user_id=self.users.get(who, who), project_id=self.projects[project], roles=["member"]
        )
        flavor = Flavor(flavorid="boot", name="boot", memory_mb=256, vcpus=1, root_gb=1)
        template = Instance(
            uuid=uuid.uuid4(),
            user_id=context.user_id,
            project_id=context.project_id,
            display_name=name,
            image_ref=IMAGE,
            flavor=flavor,
            **fields,
        )
        (built,) = self.cloud.tasks.build_instances(context, [template])
        deadline = time.monotonic() + 30.0
        while Instance.get_by_uuid(context, built.uuid).vm_state == "building":
            assert time.monotonic() < deadline, f"{name} still building after 30 s"
            time.sleep(0.01)
        return str(built.uuid)

    def headers(self, who: str = "member", version: str | None = "latest") -> dict[str, str]:
        headers = {"X-Auth-Token": self.tokens[who]}
        if version is not None:
            headers["OpenStack-API-Version"] = f"compute {version}"
        return headers

    def get(self, path: str, who: str = "member", version: str | None = "latest", **kw: Any):
        return self.client.simulate_get(
            "/compute/v2.1" + path, headers=self.headers(who, version), **kw
        )

    def post(self, path: str, body: Any, who: str = "member", version: str | None = "latest"):
        return self.client.simulate_post(
            "/compute/v2.1" + path, headers=self.headers(who, version), json=body
        )

    def put(self, path: str, body: Any, who: str = "member", version: str | None = "latest"):
        return self.client.simulate_put(
            "/compute/v2.1" + path, headers=self.headers(who, version), json=body
        )

    def delete(self, path: str, who: str = "member", version: str | None = "latest"):
        return self.client.simulate_delete(
            "/compute/v2.1" + path, headers=self.headers(who, version)
        )

    def wait(
        self,
        server_id: str,
        done: Callable[[dict[str, Any] | None], bool],
        who: str = "member",
        timeout: float = 30.0,
    ) -> dict[str, Any] | None:
        """Poll ``GET /servers/{id}`` until ``done(server)`` (``None`` once it is a
        404) holds; returns the last body's server."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(f"/servers/{server_id}", who)
            server = response.json["server"] if response.status_code == 200 else None
            if response.status_code not in (200, 404):
                raise AssertionError(response.text)
            if done(server):
                return server
            if time.monotonic() > deadline:
                raise AssertionError(f"server {server_id} never got there: {server}")
            time.sleep(0.01)


def _login(client: falcon.testing.TestClient, user: str, password: str, project: str) -> str:
    body = password_auth(user, password, project)
    response = client.simulate_post("/identity/v3/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return str(response.headers["X-Subject-Token"])


@pytest.fixture(scope="module")
def compute_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComputeCloud]:
    with running_cloud(tmp_path_factory.mktemp("compute-api")) as cloud:
        yield cloud


@contextlib.contextmanager
def running_cloud(work: Path) -> Iterator[ComputeCloud]:
    """The cloud of :func:`compute_cloud` in ``work`` (the volume API's tests share it)."""
    options = CloudOptions.under(
        work,
        transport_url=f"inproc://compute-api-{uuid.uuid4().hex[:8]}",
        hosts=("host-a", "host-b"),
        periodic_interval=60.0,
    )
    images = work / "images"
    images.mkdir()
    (images / "disk.partial").write_bytes(b"\0" * 65536)
    add_image(images, "cirros", images / "disk.partial", image_id=IMAGE)
    with EmbeddedCloud(options) as cloud:
        keys = KeyRepository(work / "keys")
        keys.setup()
        manager = IdentityManager(IdentityStore(cloud.engine), TokenFormatter(keys))
        bootstrap(manager, ADMIN_PASSWORD)
        roles = {role.name: role.id for role in manager.store.list_roles()}
        projects = {"admin": manager.store.find_project("admin", "default").id}
        users = {
            "member": ("alpha", "member"),
            "reader": ("alpha", "reader"),
            "other": ("beta", "member"),
        }
        ids: dict[str, str] = {}
        for name in ("alpha", "beta"):
            projects[name] = manager.create_project(name, "default").id
        for user, (project, role) in users.items():
            created = manager.create_user(user, "default", USER_PASSWORD)
            ids[user] = created.id
            manager.grant(created.id, projects[project], roles[role])
        config = ApiConfig(
            database_url=options.database,
            key_repository=keys.path,
            transport_url=options.transport_url,
            volume_dir=options.volume_dir,
            images_dir=images,
            install_storage=False,
            rpc_timeout=30.0,
        )
        client = falcon.testing.TestClient(create_app(config))
        tokens = {"admin": _login(client, "admin", ADMIN_PASSWORD, "admin")}
        for user, (project, _) in users.items():
            tokens[user] = _login(client, user, USER_PASSWORD, project)
        ids["admin"] = manager.store.find_user("admin", "default").id
        yield ComputeCloud(client, cloud, config, tokens, projects, ids)
