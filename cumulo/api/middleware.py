"""What every request goes through: a request id (``x-openstack-request-id`` on
every response, errors included), the body size limit, and one JSON access-log
line naming the request id."""

from __future__ import annotations

import logging
import time
import uuid

import falcon

from .media import too_large

LOG = logging.getLogger("cumulo.api.access")

REQUEST_ID_HEADER = "x-openstack-request-id"


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


class RequestContext:
    """Sets ``req.context.request_id``, ``max_body_bytes`` and the start time; refuses
    a declared body over the limit before the responder runs (unless its resource
    streams bodies); logs each request when done."""

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = new_request_id()
        req.context.started = time.monotonic()
        req.context.max_body_bytes = self.max_body_bytes
        resp.set_header(REQUEST_ID_HEADER, req.context.request_id)

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: object
    ) -> None:
        # After routing, so that a resource streaming its body to disk (an image
        # upload, ``streams_body = True``) applies its own, larger limit.
        if getattr(resource, "streams_body", False):
            return
        if req.content_length is not None and req.content_length > self.max_body_bytes:
            raise too_large(self.max_body_bytes)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        request_id = getattr(req.context, "request_id", None) or new_request_id()
        resp.set_header(REQUEST_ID_HEADER, request_id)
        started = getattr(req.context, "started", None)
        elapsed = 0.0 if started is None else (time.monotonic() - started) * 1000
        LOG.info(
            "%s %s %s",
            req.method,
            req.path,
            resp.status_code,
            extra={
                "request_id": request_id,
                "method": req.method,
                "path": req.path,
                "status": resp.status_code,
                "ms": round(elapsed, 1),
                "remote": req.remote_addr or "",
            },
        )
