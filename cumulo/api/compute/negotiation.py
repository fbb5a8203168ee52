"""The microversion of every ``/compute`` request, negotiated before routing and
echoed on every response, errors included (``OpenStack-API-Version``, the legacy
``X-OpenStack-Nova-API-Version`` and ``Vary`` naming both)."""

from __future__ import annotations

import falcon

from ..errors import NotAcceptable
from .common import PREFIX
from .microversions import (
    HEADER,
    LEGACY_HEADER,
    MIN_VERSION,
    SERVICE,
    NotAcceptableVersion,
    negotiate,
)


def _owns(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class Microversions:
    """Falcon middleware: ``req.context.microversion``, or a 406 for a bad request."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not _owns(req.path):
            return
        req.context.microversion = MIN_VERSION
        try:
            req.context.microversion = negotiate(
                req.get_header(HEADER), req.get_header(LEGACY_HEADER)
            )
        except NotAcceptableVersion as exc:
            raise NotAcceptable(str(exc)) from None

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        if not _owns(req.path):
            return
        version = getattr(req.context, "microversion", MIN_VERSION)
        resp.set_header(HEADER, f"{SERVICE} {version}")
        resp.set_header(LEGACY_HEADER, str(version))
        resp.set_header("Vary", f"{HEADER}, {LEGACY_HEADER}")
