"""The one place that turns an exception into an HTTP error: status, title and a
message safe to show, rendered in the body shape of the service the path belongs
to (Keystone's ``{"error": {"code", "title", "message"}}`` for ``/identity``,
Nova's ``{"itemNotFound": {"code", "message"}}`` for ``/compute``).

Anything not listed here is unexpected: it is logged with its traceback and the
request id, and the client gets a 500 whose message names that request id, never
the exception, a traceback or SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import falcon

from cumulo.compute.exceptions import ComputeTooOld, InstanceInvalidState
from cumulo.identity import exceptions as identity
from cumulo.image import catalog as image
from cumulo.model import exceptions as model
from cumulo.rpc import MessagingTimeout
from cumulo.volume.exceptions import InvalidVolumeState

LOG = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP error a handler raises on purpose; ``str(error)`` is what the client reads.
    ``kind`` names the error for the services whose bodies say it (Neutron's ``type``)."""

    status = 500
    kind: str | None = None
    """The error's type name where the service's body names one (Neutron's ``type``)."""

    def __init__(
        self, message: str, headers: Mapping[str, str] | None = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.headers = dict(headers or {})
        if kind is not None:
            self.kind = kind


class BadRequest(ApiError):
    status = 400


class ValidationFailed(BadRequest):
    """A request body (or parameter) that its schema refuses; ``field`` is the dotted
    path of the bad value (``project.name``, ``auth.identity.password.user.id``)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"Invalid input for field '{field}': {problem}")


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class OverLimit(ApiError):
    """A quota would be exceeded (Nova answers 403 ``forbidden`` with this message)."""

    status = 403


class NotImplementedYet(ApiError):
    status = 501


class ServiceUnavailable(ApiError):
    status = 503


class UnsupportedMediaType(ApiError):
    status = 415


TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Request Entity Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}
"""Keystone's titles, fixed here: Python's own phrases change between versions
(413 became "Content Too Large" in 3.13)."""


@dataclass(frozen=True)
class HttpError:
    """What the client gets: ``status``, its title, the message and extra headers."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    """The type name of the error, where one is known (Neutron's bodies show it)."""

    @property
    def title(self) -> str:
        return TITLES.get(self.status) or HTTPStatus(self.status).phrase


ErrorBody = Callable[[HttpError], dict[str, Any]]
"""A service's error body shape (see ``cumulo.api.registry``)."""


def keystone_error_body(error: HttpError) -> dict[str, Any]:
    return {"error": {"code": error.status, "title": error.title, "message": error.message}}


NOVA_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}
"""Nova's error names by status; any other status is a ``computeFault``."""


def nova_error_body(error: HttpError) -> dict[str, Any]:
    return {
        NOVA_NAMES.get(error.status, "computeFault"): {
            "code": error.status,
            "message": error.message,
        }
    }


def internal_error_message(request_id: str) -> str:
    return (
        "An unexpected error prevented the server from fulfilling your request "
        f"(request id {request_id})."
    )


def http_error(exc: BaseException, request_id: str) -> HttpError:
    """The HTTP error for ``exc`` (see the module docstring); logs what the client is
    not told."""
    if isinstance(exc, ApiError):
        return HttpError(exc.status, str(exc), exc.headers, exc.kind)
    network_error = _network_error(exc)
    if network_error is not None:
        return network_error
    if isinstance(exc, identity.Unauthorized):
        LOG.info("refused: %s", exc.reason, extra={"request_id": request_id})
        return HttpError(401, str(exc))
    if isinstance(exc, identity.NotFound):
        return HttpError(404, f"{exc}.")
    if isinstance(exc, identity.Conflict):
        return HttpError(409, f"Conflict occurred attempting to store the record: {exc}.")
    if isinstance(exc, identity.InvalidValue):
        return HttpError(400, str(exc))
    if isinstance(exc, image.ImageNotFound):
        return HttpError(404, str(exc))
    if isinstance(exc, image.ImageConflict):
        return HttpError(409, str(exc))
    if isinstance(exc, image.ImageRejected | image.UploadIncomplete):
        return HttpError(400, str(exc))
    if isinstance(exc, image.ImageTooLarge):
        return HttpError(413, str(exc))
    if isinstance(exc, image.ImageError):  # no image store configured
        return HttpError(503, str(exc))
    if isinstance(exc, model.FlavorExtraSpecNotFound):
        flavorid, key = exc.key.get("flavorid"), exc.key.get("key")
        return HttpError(404, f"Flavor {flavorid} has no extra specs with key {key}.")
    if isinstance(exc, model.FlavorNotFound):
        return HttpError(404, f"Flavor {_named(exc.key)} could not be found.")
    if isinstance(exc, model.NotFound):
        return HttpError(
            404, f"The {exc.what} {_named(exc.key)} could not be found.", kind=type(exc).__name__
        )
    if isinstance(exc, model.AlreadyExists):
        labels = {"flavorid": "ID", "name": "name"}
        named = " and ".join(f"{labels.get(k, k)} {v}" for k, v in exc.key.items())
        return HttpError(409, f"{exc.what.capitalize()} with {named} already exists.")
    if isinstance(exc, ComputeTooOld):
        # The rolling-upgrade promise: what needs a newer host is refused, and clearly.
        on = f" (release {exc.release})" if exc.release else ""
        return HttpError(
            409,
            f"The compute host {exc.host}{on} cannot {exc.what} until it is upgraded "
            f"(it speaks compute RPC {exc.speaks or 'of an unknown version'}, "
            f"{exc.needs} is needed).",
        )
    if isinstance(exc, InstanceInvalidState):
        return HttpError(
            409, f"Cannot {exc.action} instance {exc.instance_uuid}: its {exc.attr} is {exc.state}"
        )
    if isinstance(exc, InvalidVolumeState):
        return HttpError(400, f"Invalid volume: {exc}")
    if isinstance(exc, MessagingTimeout):
        LOG.warning("a service did not answer in time", extra={"request_id": request_id})
        return HttpError(503, "A service behind the API did not answer in time; try again later.")
    if isinstance(exc, falcon.HTTPError):
        message = exc.description or exc.title or HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and not exc.description:
            message = "The resource could not be found."
        elif exc.status_code == 405 and not exc.description:
            message = "The method is not allowed for the requested URL."
        return HttpError(exc.status_code, message, dict(exc.headers or {}))
    LOG.error(
        "unexpected %s while serving the request",
        type(exc).__name__,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    return HttpError(500, internal_error_message(request_id))


NETWORK_ERRORS: dict[type[Exception], tuple[int, str]] = {
    model.NoMoreIpAddresses: (409, "IpAddressGenerationFailure"),
    model.IpAddressInUse: (409, "IpAddressInUse"),
    model.MacAddressInUse: (409, "MacAddressInUse"),
    model.PortInUse: (409, "PortInUse"),
    model.InvalidNetworkRequest: (400, "InvalidInput"),
}
"""The network service's errors: status and Neutron's type name."""


def _network_error(exc: BaseException) -> HttpError | None:
    if isinstance(exc, model.NetworkNotFound | model.SubnetNotFound | model.PortNotFound):
        ident = next(iter(exc.key.values()), "")
        what = exc.what.capitalize()
        return HttpError(404, f"{what} {ident} could not be found.", kind=f"{what}NotFound")
    if isinstance(exc, model.NetworkInUse):
        return HttpError(409, str(exc), kind=f"{exc.what.capitalize()}InUse")
    for cls, (status, kind) in NETWORK_ERRORS.items():
        if isinstance(exc, cls):
            return HttpError(status, str(exc), kind=kind)
    return None


def _named(key: Mapping[str, Any]) -> str:
    return ", ".join(str(value) for value in key.values())
