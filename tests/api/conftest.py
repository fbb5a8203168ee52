"""Fixtures for the API tests: the real WSGI application of one worker (as
``cumulo api`` builds it) on a bootstrapped SQLite file, called in-process through
Falcon's WSGI test client. The real server (gunicorn) and the real OpenStack
clients are driven by tests/integration/test_identity_api.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import falcon.testing
import pytest

from cumulo.api.app import create_app
from cumulo.api.config import ApiConfig
from cumulo.cli.api_client import password_auth
from cumulo.db.engine import create_engine, sync
from cumulo.identity import IdentityManager, IdentityStore, KeyRepository, TokenFormatter
from cumulo.identity.bootstrap import bootstrap

ADMIN_PASSWORD = "admin-secret"


@dataclasses.dataclass
class Cloud:
    config: ApiConfig
    client: falcon.testing.TestClient

    def login(self, user: str = "admin", password: str = ADMIN_PASSWORD, project: str = "admin"):
        body = password_auth(user, password, project)
        return self.client.simulate_post("/identity/v3/auth/tokens", json=body)

    def admin_token(self) -> str:
        response = self.login()
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def cloud_config(tmp_path_factory) -> ApiConfig:
    work: Path = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{work / 'cumulo.db'}"
    engine = create_engine(url)
    sync(engine)
    keys = KeyRepository(work / "keys")
    keys.setup()
    bootstrap(IdentityManager(IdentityStore(engine), TokenFormatter(keys)), ADMIN_PASSWORD)
    engine.dispose()
    return ApiConfig(database_url=url, key_repository=keys.path)


@pytest.fixture(scope="module")
def cloud(cloud_config) -> Cloud:
    return Cloud(cloud_config, falcon.testing.TestClient(create_app(cloud_config)))
