"""JSON bodies with msgspec: the response handler Falcon uses for ``resp.media``, and
:func:`read_json`, which reads a request body within the size limit, decodes it and
checks it against its schema."""

from __future__ import annotations

from typing import Any

import falcon
import msgspec
from falcon.media import BaseHandler

from .errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from .validation import Schema

_ENCODER = msgspec.json.Encoder()


class MsgspecJSON(BaseHandler):
    """``application/json`` through msgspec (decode errors are a 400 naming the spot)."""

    def serialize(self, media: object, content_type: str | None) -> bytes:
        return _ENCODER.encode(media)

    def deserialize(
        self, stream: Any, content_type: str | None, content_length: int | None
    ) -> object:
        return decode(stream.read())


def decode(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Malformed request body: {exc}") from None


def encode(media: object) -> bytes:
    return _ENCODER.encode(media)


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body too large: at most {limit} bytes are accepted.")


def read_json(
    req: falcon.Request, schema: Schema, media_types: tuple[str, ...] = ("application/json",)
) -> Any:
    """The request's JSON body, checked against ``schema``.

    Refuses a body over the app's limit (413; a ``Content-Length`` beyond it is
    refused before anything is read, a chunked body once the limit is passed),
    a content type not in ``media_types`` (415), malformed JSON and a body the
    schema refuses (400)."""
    limit: int = req.context.max_body_bytes
    if req.content_length is not None and req.content_length > limit:
        raise too_large(limit)
    media_type = (req.content_type or media_types[0]).split(";")[0].strip().lower()
    if media_type not in media_types:
        raise UnsupportedMediaType(f"Expected {media_types[0]}, got {media_type}.")
    if req.content_length is None and "chunked" in (req.get_header("Transfer-Encoding") or ""):
        # No length declared: the server de-chunks wsgi.input; read one byte past the
        # limit to tell a body that is too large.
        data = req.stream.read(limit + 1)
    else:
        data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    if not data.strip():
        raise BadRequest("A JSON request body is required.")
    body = decode(data)
    schema.validate(body)
    return body
