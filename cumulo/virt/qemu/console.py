"""A guest's serial console: the log file QEMU appends what the guest writes to,
read back from its end (a console log grows for as long as the guest lives)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from .. import common

__all__ = ["CONSOLE_MAX_BYTES", "read_console"]

CONSOLE_MAX_BYTES: Final = 256 * 1024
"""The most of a console log read at once: its last this many bytes."""


def read_console(
    path: Path, tail_lines: int | None = None, *, max_bytes: int = CONSOLE_MAX_BYTES
) -> str:
    """The text of the console log at ``path``, oldest first, with ``\\n`` line ends
    (the serial line's ``\\r\\n`` become ``\\n``); ``""`` when there is no log yet.

    Only the last ``max_bytes`` of the file are read; when that cuts a line, the
    cut line is left out (unless it is the only one). The last line may lack its
    ``\\n``: the guest is still writing it.

    Args:
        path: the console log.
        tail_lines: only the last this many lines (``None``: all that was read).
        max_bytes: how much of the file's end to read (> 0).

    Returns:
        str: the console text.

    Raises:
        ValueError: ``tail_lines`` is negative or ``max_bytes`` not positive.
    """
    common.check_tail_lines(tail_lines)
    if max_bytes <= 0:
        raise ValueError(f"max_bytes: expected a size > 0, got {max_bytes}")
    if tail_lines == 0:
        return ""
    try:
        with path.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            start = max(0, size - max_bytes)
            log.seek(start)
            data = log.read(max_bytes)
    except FileNotFoundError:
        return ""
    if start > 0:
        cut = data.find(b"\n")
        if 0 <= cut < len(data) - 1:
            data = data[cut + 1 :]
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    if tail_lines is None:
        return text
    body, end = (text[:-1], "\n") if text.endswith("\n") else (text, "")
    return "\n".join(body.split("\n")[-tail_lines:]) + end
