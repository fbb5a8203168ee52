"""``/image/v2/images/{id}/file``: an image's data.

Download streams the file in chunks (``Content-MD5`` is the image's checksum);
204 while there is no data, as Glance answers. A token with the ``service`` role
(``download_any_image``) downloads any image: the compute hosts fetch other
projects' private images with their service credential.

Upload (``application/octet-stream``) is accepted once, while the image is
``queued``: it is ``saving`` while the body streams into a temporary file (never
held in memory; size, MD5 and SHA-512 computed on the way), then ``qemu-img``
inspects the file (:mod:`cumulo.image.inspect`) and the image becomes ``active``.
Refused data (413 over the size limit, 400 for another format than declared or a
qcow2 with a backing or data file) leaves the image ``queued`` and nothing on
disk; an upload that breaks off leaves it ``killed``, also with nothing on disk."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import BinaryIO

import falcon

from cumulo.image import ImageRejected, ImageTooLarge, UploadIncomplete
from cumulo.image.catalog import CHUNK, Image, check_uploadable
from cumulo.image.inspect import inspect_disk

from ..errors import BadRequest, NotFound, UnsupportedMediaType
from ..state import ApiState
from .common import reader_token
from .images import changeable_image, visible

LOG = logging.getLogger(__name__)
OCTET_STREAM = "application/octet-stream"


class ImageFile:
    streams_body = True
    """The upload applies ``image_size_limit``, not the API's JSON body limit."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        token = reader_token(req, self.state, "download_image")
        try:
            image: Image | None = self.state.images.get(image_id)
        except LookupError:
            image = None
        if image is None or not (
            visible(image, token) or self.state.policy.allows("download_any_image", token)
        ):
            raise NotFound(f"No image found with ID {image_id}")
        path = self.state.images.data_path(image)
        if path is None:
            resp.status = falcon.HTTP_204
            return
        # Opened before the status is sent: a file removed meanwhile is a 404, and an
        # image deleted during the download still streams to its end (the open file).
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"No image found with ID {image_id}") from None
        resp.content_type = OCTET_STREAM
        if image.checksum:
            resp.set_header("Content-MD5", image.checksum)
        resp.content_length = os.fstat(stream.fileno()).st_size
        resp.stream = _chunks(stream)

    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        token = reader_token(req, self.state, "upload_image")
        image = changeable_image(self.state, image_id, token, "upload data to")
        media_type = (req.content_type or OCTET_STREAM).split(";")[0].strip().lower()
        if media_type != OCTET_STREAM:
            raise UnsupportedMediaType(f"Expected {OCTET_STREAM}, got {media_type}.")
        if image.disk_format is None or image.container_format is None:
            raise BadRequest(
                "Properties disk_format, container_format must be set prior to saving data."
            )
        limit = self.state.config.image_size_limit
        declared = req.content_length
        images = self.state.images
        check_uploadable(image)  # 409 before the size is looked at
        if declared is not None and declared > limit:
            raise ImageTooLarge(limit)  # refused before a byte is read; still queued
        # The format checked is the one the image has as it turns saving (a patch
        # may change it until then, not after).
        saving = images.start_upload(image_id)  # 409 unless queued
        disk_format = saving.disk_format or image.disk_format
        try:
            received = images.receive(image_id, _body(req), limit, declared)
            try:
                info = inspect_disk(received.path, disk_format)
            except BaseException:
                received.path.unlink(missing_ok=True)
                raise
            images.finish_upload(image_id, received, info.virtual_size)
        except (ImageTooLarge, ImageRejected):
            # The data is refused: the client may try again with other data.
            images.abandon_upload(image_id, "queued")
            raise
        except Exception as exc:
            # A short body, a dropped connection, anything unexpected: broken off.
            images.abandon_upload(image_id, "killed")
            if isinstance(exc, OSError | ValueError):
                LOG.info("image upload broke off", extra={"image": image_id})
                raise UploadIncomplete("The upload broke off before its end.") from None
            raise
        resp.status = falcon.HTTP_204


def _body(req: falcon.Request) -> Iterator[bytes]:
    # No length declared (chunked): the server de-chunks wsgi.input and ends it;
    # otherwise the bounded stream stops at Content-Length (short if the client did).
    stream = req.bounded_stream if req.content_length is not None else req.stream
    while chunk := stream.read(CHUNK):
        yield chunk


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk
