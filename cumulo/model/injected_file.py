"""``InjectedFile``: a file to place in the guest through its config data."""

from __future__ import annotations

import base64
import binascii

from cumulo.objects import register

from .base import CumuloObject


@register
class InjectedFile(CumuloObject):
    """A file for the guest: its absolute ``path`` and base64 contents.

    The contents travel as base64 text so any file (binary too) fits the wire;
    :meth:`of` and :attr:`contents` convert.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    path: str
    contents_b64: str

    @classmethod
    def of(cls, path: str, contents: bytes) -> InjectedFile:
        """A file at ``path`` holding ``contents``."""
        if not path.startswith("/"):
            raise ValueError(f"InjectedFile.path: expected an absolute path, got {path!r}")
        encoded = base64.b64encode(contents).decode("ascii")
        return cls(path=path, contents_b64=encoded)

    @property
    def contents(self) -> bytes:
        """The decoded contents; ``ValueError`` when ``contents_b64`` is not base64."""
        try:
            return base64.b64decode(self.contents_b64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"InjectedFile.contents_b64 ({self.path}): {exc}") from None
