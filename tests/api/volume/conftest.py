"""Fixtures for the volume API tests: the embedded cloud of the compute API tests
(SQLite, ``inproc://``, a conductor, two fake hosts, one shared volume store, one
image), started once for the package, and a client of ``/volume/v3/{project}``
for each of its users."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from cumulo.db.quotas import QuotaStore
from tests.api.compute.conftest import ComputeCloud, running_cloud

WHO_PROJECT = {"admin": "admin", "member": "alpha", "reader": "alpha", "other": "beta"}


@dataclasses.dataclass
class VolumeApi:
    """Requests to ``/volume/v3/{project}`` as one of the cloud's users."""

    cloud: ComputeCloud

    def project(self, who: str) -> str:
        return self.cloud.projects[WHO_PROJECT[who]]

    def url(self, path: str, who: str, project: str | None) -> str:
        return f"/volume/v3/{project or self.project(who)}{path}"

    def headers(self, who: str, version: str | None) -> dict[str, str]:
        headers = {"X-Auth-Token": self.cloud.tokens[who]}
        if version is not None:
            headers["OpenStack-API-Version"] = f"volume {version}"
        return headers

    def get(self, path: str, who: str = "member", project: str | None = None, **kw: Any) -> Any:
        version = kw.pop("version", None)
        return self.cloud.client.simulate_get(
            self.url(path, who, project), headers=self.headers(who, version), **kw
        )

    def post(
        self, path: str, body: Any, who: str = "member", project: str | None = None, **kw: Any
    ) -> Any:
        version = kw.pop("version", None)
        return self.cloud.client.simulate_post(
            self.url(path, who, project), headers=self.headers(who, version), json=body, **kw
        )

    def put(self, path: str, body: Any, who: str = "member", project: str | None = None) -> Any:
        return self.cloud.client.simulate_put(
            self.url(path, who, project), headers=self.headers(who, None), json=body
        )

    def delete(self, path: str, who: str = "member", project: str | None = None) -> Any:
        return self.cloud.client.simulate_delete(
            self.url(path, who, project), headers=self.headers(who, None)
        )

    def create(self, who: str = "member", **fields: Any) -> dict[str, Any]:
        """A new volume (1 GiB unless told), as the create answered it."""
        response = self.post("/volumes", {"volume": {"size": 1, **fields}}, who)
        assert response.status_code == 202, response.text
        volume: dict[str, Any] = response.json["volume"]
        return volume

    def show(self, volume_id: str, who: str = "member") -> dict[str, Any]:
        response = self.get(f"/volumes/{volume_id}", who)
        assert response.status_code == 200, response.text
        volume: dict[str, Any] = response.json["volume"]
        return volume


def error_of(response: Any) -> tuple[str, str]:
    """The (name, message) of a Cinder error body, checking its shape."""
    ((name, fault),) = response.json.items()
    assert set(fault) == {"code", "message"}, fault
    assert fault["code"] == response.status_code
    return name, fault["message"]


RAISED = {"volumes": 1000, "gigabytes": 100000}
"""The volume quotas of projects alpha and beta: the package's tests make more than
the default 10 volumes there (the admin project keeps the defaults)."""


@pytest.fixture(scope="package")
def volume_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComputeCloud]:
    with running_cloud(tmp_path_factory.mktemp("volume-api")) as cloud:
        quotas = QuotaStore(cloud.cloud.engine)
        for project in ("alpha", "beta"):
            quotas.set_limits(cloud.projects[project], RAISED)
        yield cloud


@pytest.fixture
def api(volume_cloud: ComputeCloud) -> VolumeApi:
    return VolumeApi(volume_cloud)
