"""The message envelopes on the wire (msgspec JSON) and their codecs.

A request carries the method, its arguments and the context, all already turned
into primitives by the serializer; a reply is a result, a failure, or a
heartbeat ("still working"). Addressing (reply queue, correlation id) belongs to
the transport, not to these envelopes. Unknown fields are ignored, so a newer
peer may add some.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from .exceptions import InvalidMessage
from .limits import MessageLimits

DEFAULT_LIMITS = MessageLimits()

NAME_LENGTH = 255
"""Longest method name or namespace a request may carry (they go into replies and logs)."""


class Request(msgspec.Struct, omit_defaults=True):
    """One call or cast.

    ``heartbeat`` is set on calls: the number of seconds between the "still
    working" replies the caller asks for while the endpoint runs.
    """

    method: Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_LENGTH)]
    args: dict[str, Any]
    context: dict[str, Any]
    version: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    namespace: Annotated[str, msgspec.Meta(max_length=NAME_LENGTH)] | None = None
    heartbeat: Annotated[float, msgspec.Meta(gt=0)] | None = None


class Result(msgspec.Struct, tag="result", tag_field="kind"):
    value: Any = None


class Failure(msgspec.Struct, tag="failure", tag_field="kind", omit_defaults=True):
    """An exception raised by the endpoint.

    ``type`` is the exception class as ``module.qualname``; ``args`` and ``attrs``
    (its public attributes) are kept when they are primitives, so that an
    allow-listed class can be rebuilt on the calling side.
    """

    type: str
    message: str
    traceback: str = ""
    args: list[Any] = []
    attrs: dict[str, Any] = {}


class Heartbeat(msgspec.Struct, tag="heartbeat", tag_field="kind"):
    pass


Reply = Result | Failure | Heartbeat

_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(Request)
_reply_decoder: msgspec.json.Decoder[Result | Failure | Heartbeat] = msgspec.json.Decoder(Reply)

HEARTBEAT_BODY = _encoder.encode(Heartbeat())
HEARTBEAT_TEXT = HEARTBEAT_BODY.decode()
"""A heartbeat as py-amqp hands it over (it decodes UTF-8 bodies to ``str``)."""


_AT = re.compile(r"^(.*) - at `\$(.*)`$", re.S)


def path_of(exc: msgspec.ValidationError, root: str = "$") -> str:
    """The path of the bad value msgspec names, under ``root``: ``$.context.roles``."""
    match = _AT.match(str(exc))
    return root if match is None else root + match.group(2)


def describe_error(exc: msgspec.ValidationError, root: str = "$") -> str:
    """msgspec's message with the path of the bad value under ``root``:
    ``Expected `str`, got `int` - at $.context.user_id``."""
    match = _AT.match(str(exc))
    if match is None:
        return f"{exc} - at {root}"
    return f"{match.group(1)} - at {root}{match.group(2)}"


def encode_request(request: Request) -> bytes:
    """Encode a request; an argument that cannot go on the wire is named."""
    try:
        return _encoder.encode(request)
    except (TypeError, ValueError, OverflowError) as exc:
        for name, value in request.args.items():
            try:
                _encoder.encode(value)
            except (TypeError, ValueError, OverflowError) as arg_exc:
                raise InvalidMessage(
                    f"argument {name!r} of {request.method}() cannot be sent: {arg_exc} "
                    "(only primitives, lists and dicts of them, and registered versioned "
                    "objects with an ObjectSerializer cross an RPC boundary)"
                ) from None
        raise InvalidMessage(f"{request.method}() cannot be sent: {exc}") from None


def as_bytes(body: bytes | str) -> bytes:
    """A body as bytes (py-amqp hands over UTF-8 bodies decoded to ``str``)."""
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)


def decode_request(body: bytes | str, limits: MessageLimits = DEFAULT_LIMITS) -> Request:
    """The request in ``body``, held to ``limits`` first.

    Raises :class:`InvalidMessage` (:class:`MessageTooLarge`, :class:`MessageTooDeep`)
    naming what is wrong and, when it can, where (``- at $.args``).
    """
    body = as_bytes(body)
    if not body or body.isspace():
        raise InvalidMessage("empty request: expected a JSON request envelope", path="$")
    limits.check(body, "request")
    try:
        return _request_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(
            f"malformed request envelope: {describe_error(exc)}", path=path_of(exc)
        ) from None
    except msgspec.DecodeError as exc:
        raise InvalidMessage(f"request is not valid JSON: {exc}", path="$") from None
    except RecursionError:  # only with a max_depth above what the interpreter allows
        raise InvalidMessage("request is nested too deeply to decode", path="$") from None


def encode_reply(reply: Result | Failure) -> bytes:
    try:
        return _encoder.encode(reply)
    except (TypeError, ValueError, OverflowError) as exc:
        return _encoder.encode(
            Failure(
                type=f"{InvalidMessage.__module__}.{InvalidMessage.__qualname__}",
                message=f"the result cannot be sent back: {exc}",
                args=[f"the result cannot be sent back: {exc}"],
            )
        )


def decode_reply(
    body: bytes | str, limits: MessageLimits = DEFAULT_LIMITS
) -> Result | Failure | Heartbeat:
    limits.check_size(body, "reply")
    try:
        return _reply_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(f"malformed reply envelope: {describe_error(exc)}") from None
    except msgspec.DecodeError as exc:
        raise InvalidMessage(f"reply is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidMessage("reply is nested too deeply to decode") from None
