"""A real image API for the image cache tests: the API's WSGI application (identity
and images) on a bootstrapped SQLite file with a compute service user, served over
HTTP by the in-process cheroot server ``cumulo all-in-one`` uses."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cumulo.api.app import create_app
from cumulo.api.config import ApiConfig
from cumulo.api.inprocess import InProcessServer
from cumulo.compute.image_client import ImageApiClient, ServiceCredential
from cumulo.db.engine import create_engine, sync
from cumulo.identity import IdentityManager, IdentityStore, KeyRepository, TokenFormatter
from cumulo.identity.bootstrap import bootstrap, ensure_service_user
from cumulo.image import Image, add_image

ADMIN_PASSWORD = "admin-secret"
SERVICE_PASSWORD = "compute-host-secret-7c1d"


@dataclasses.dataclass
class ImageApi:
    url: str
    """``http://127.0.0.1:PORT``."""
    images_dir: Path
    server: InProcessServer

    @property
    def image_url(self) -> str:
        return f"{self.url}/image"

    def credential(self, password: str = SERVICE_PASSWORD) -> ServiceCredential:
        return ServiceCredential(
            identity_url=f"{self.url}/identity", username="compute", password=password
        )

    def client(self, password: str = SERVICE_PASSWORD, **options: Any) -> ImageApiClient:
        return ImageApiClient(self.image_url, self.credential(password), **options)

    def add(self, name: str, data: bytes, **fields: Any) -> Image:
        staged = self.images_dir / f".{name}.partial"
        staged.write_bytes(data)
        return add_image(self.images_dir, name, staged, **fields)


def start_image_api(work: Path, **config: Any) -> ImageApi:
    """Bootstrap identity (admin, and the ``compute`` service user) in a SQLite file
    under ``work`` (unless ``config`` names another ``database_url``), and serve the
    API (``config``: more of its :class:`ApiConfig`) on a free port; stop it with
    ``api.server.stop()``."""
    url = config.pop("database_url", f"sqlite:///{work / 'api.db'}")
    engine = create_engine(url)
    sync(engine)
    keys = KeyRepository(work / "keys")
    keys.setup()
    manager = IdentityManager(IdentityStore(engine), TokenFormatter(keys))
    bootstrap(manager, ADMIN_PASSWORD)
    ensure_service_user(manager, SERVICE_PASSWORD)
    engine.dispose()
    images = config.pop("images_dir", work / "images")
    images.mkdir(parents=True, exist_ok=True)
    app = create_app(
        ApiConfig(database_url=url, key_repository=keys.path, images_dir=images, **config)
    )
    server = InProcessServer(app, "127.0.0.1:0").start()
    host, port = server.address
    return ImageApi(f"http://{host}:{port}", images, server)
