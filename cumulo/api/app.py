"""``create_app``: the WSGI application of one API worker: the mounted services'
routes under their prefixes, the request-id and size-limit middleware, msgspec for
JSON, and one error handler for every exception (``cumulo/api/errors.py``)."""

from __future__ import annotations

import itertools
from typing import Any

import falcon

from cumulo.db.engine import create_engine
from cumulo.db.keypairs import KeyPairStore
from cumulo.db.quotas import QuotaStore
from cumulo.identity import IdentityManager, IdentityStore, KeyRepository, TokenFormatter
from cumulo.image import ImageCatalog
from cumulo.network import NetworkStore
from cumulo.volume.store import VolumeStore

from .backend import LazyBackend
from .config import ApiConfig
from .errors import http_error, keystone_error_body
from .media import MsgspecJSON
from .middleware import REQUEST_ID_HEADER, RequestContext, new_request_id
from .policy import Policy
from .registry import App, MountedService, service_for
from .state import ApiState


def build_state(config: ApiConfig, services: tuple[MountedService, ...]) -> ApiState:
    """What the handlers share, for this process (its own database engine)."""
    engine = create_engine(config.database_url)
    store = IdentityStore(engine)
    keys = KeyRepository(config.key_repository, config.max_active_keys)
    identity = IdentityManager(store, TokenFormatter(keys), token_lifetime=config.token_lifetime)
    rules = itertools.chain.from_iterable(s.policies for s in services)
    policy = Policy(rules, config.policy_file)
    return ApiState(
        config,
        identity,
        policy,
        services,
        LazyBackend(config),
        images=ImageCatalog(config.images_dir),
        keypairs=KeyPairStore(engine),
        quotas=QuotaStore(engine),
        volumes=VolumeStore(config.volume_dir) if config.volume_dir else None,
        networks=NetworkStore(engine),
    )


def create_app(config: ApiConfig, services: tuple[MountedService, ...] | None = None) -> App:
    if services is None:
        from .mounted import SERVICES

        services = SERVICES
    state = build_state(config, services)
    extra: list[Any] = [make() for service in services for make in service.middleware]
    app: App = falcon.App(middleware=[RequestContext(config.max_body_bytes), *extra])
    app.req_options.strip_url_path_trailing_slash = True
    json = MsgspecJSON()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json

    def handle(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
        request_id = getattr(req.context, "request_id", None)
        if request_id is None:  # failed before the middleware ran: keep one id throughout
            request_id = req.context.request_id = new_request_id()
        error = http_error(exc, request_id)
        service = service_for(req.path, services)
        body = (service.error_body if service else keystone_error_body)(error)
        resp.status = error.status
        resp.set_headers(error.headers)
        resp.set_header(REQUEST_ID_HEADER, request_id)
        if error.status == 401:
            resp.set_header("WWW-Authenticate", f'Keystone uri="{state.base_url(req)}/identity"')
        resp.content_type = falcon.MEDIA_JSON
        resp.media = body

    app.add_error_handler(Exception, handle)
    app.add_error_handler(falcon.HTTPError, handle)
    for service in services:
        service.add_routes(app, state)
    return app
