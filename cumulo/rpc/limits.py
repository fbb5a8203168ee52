"""How big and how deeply nested an RPC message may be, and the checks that hold
every message to it before it is decoded or sent.

Both limits are checked on the raw JSON bytes, without recursion: the size is a
length, the nesting depth a running sum over the brackets outside strings (done
by ``bytes.translate`` and ``itertools.accumulate``, so in C). A message within
the limits can then be decoded and walked recursively without risk of a
``RecursionError``. Only a message over the depth limit is scanned again in
Python, to say where it goes too deep.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass

from .exceptions import MessageTooDeep, MessageTooLarge, TransportURLError

MiB = 1024 * 1024

DEFAULT_MAX_MESSAGE_SIZE = 4 * MiB
"""Largest request or reply (encoded bytes) a transport sends or accepts."""

DEFAULT_MAX_DEPTH = 64
"""Deepest nesting of arrays and objects in a message (the envelope counts: the
arguments of a call start at depth 2)."""


@dataclass(frozen=True)
class MessageLimits:
    """The limits a transport holds every message to (``?max_message_size=``,
    ``?max_depth=`` in its URL)."""

    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        if self.max_message_size < 1:
            raise ValueError(
                f"max_message_size must be at least 1 byte, got {self.max_message_size}"
            )
        if self.max_depth < 2:
            # The envelope itself is two levels (the request object, its args).
            raise ValueError(f"max_depth must be at least 2, got {self.max_depth}")

    def check_size(self, body: bytes | str, what: str) -> None:
        """Raise :class:`MessageTooLarge` when ``body`` (``what``: "request",
        "reply"...) is over ``max_message_size``."""
        if len(body) > self.max_message_size:
            raise MessageTooLarge(what, len(body), self.max_message_size)

    def check(self, body: bytes, what: str) -> None:
        """:meth:`check_size`, then raise :class:`MessageTooDeep` when ``body`` nests
        deeper than ``max_depth`` (what a server checks before decoding a request;
        senders and replies need only the size: a decoder that meets deeper
        nesting than it allows raises, and objects refuse it when loaded)."""
        self.check_size(body, what)
        if body.count(b"[") + body.count(b"{") > self.max_depth and deeper_than(
            body, self.max_depth
        ):  # (with fewer brackets than the limit it cannot be too deep)
            raise MessageTooDeep(what, self.max_depth, deep_path(body, self.max_depth))


def printable(text: str, limit: int = 500) -> str:
    """``text`` for a log line or an error: on one line, escaped, at most ``limit``
    characters (a peer's method names and ids are not trusted to be short or clean)."""
    if not text.isprintable():
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SIZE = re.compile(r"^\s*(\d+)\s*(|b|kib|kb|k|mib|mb|m|gib|gb|g)\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}


def parse_size(text: str) -> int:
    """``"4194304"``, ``"4MiB"``, ``"512KiB"``, ``"1g"``... as bytes (powers of 1024)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size: expected bytes, or a number with KiB, MiB, GiB")
    return int(match.group(1)) * _UNITS[match.group(2)[:1].lower()]


def limits_from_query(query: Mapping[str, list[str]], url: str) -> MessageLimits:
    """The ``max_message_size`` and ``max_depth`` options of a transport URL's query."""
    values: dict[str, int] = {}
    for name, parse in (("max_message_size", parse_size), ("max_depth", int)):
        raw = query.get(name)
        if raw:
            try:
                values[name] = parse(raw[-1])
            except ValueError as exc:
                raise TransportURLError(f"option {name}={raw[-1]!r} in {url!r}: {exc}") from None
    try:
        return MessageLimits(**values)
    except ValueError as exc:
        raise TransportURLError(f"{exc} in {url!r}") from None


def _brackets(body: bytes) -> bytes:
    """The brackets of ``body`` outside its JSON strings, in order (all in C: no
    regex, no loop per byte)."""
    if b"\\" in body:
        # Escapes pair a backslash with the next byte, left to right: drop the
        # escaped backslashes, then what is left of the escaped quotes.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = body.translate(None, _NOT_MARKS)
    if b'"' not in marks:
        return marks
    # Two quotes with no bracket between them can go: whether they open and close
    # a string or close one and open the next, every bracket stays inside or
    # outside as it was. What is left is strings that hold brackets (rare).
    marks = marks.replace(b'""', b"")
    if b'"' not in marks:
        return marks
    return b"".join(marks.split(b'"')[::2])


_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')

_SIGNS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
"""Openers become 1 and closers -1 (as signed bytes)."""


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in the JSON text ``body``.

    Brackets inside strings do not count. For text that is not JSON the result
    is still bounded by its brackets, and the decoder rejects it anyway.
    """
    return _depth_of(_brackets(body))


def deeper_than(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests deeper than ``limit`` (what :meth:`MessageLimits.check`
    asks; faster than :func:`nesting_depth` for the usual shallow message)."""
    brackets = _brackets(body)
    # Depth does not depend on the kind of bracket. Each pass removes the
    # innermost pairs, one level (pairs a pass forms wait for the next): a
    # shallow message is empty after a few passes, each a C loop.
    rest = brackets.translate(_SQUARE)
    for _ in range(limit):
        if not rest:
            return False
        shorter = rest.replace(b"[]", b"")
        if len(shorter) == len(rest):
            break  # brackets that do not pair up (not JSON): count them exactly
        rest = shorter
    if not rest:
        return False
    return _depth_of(brackets) > limit


_SQUARE = bytes.maketrans(b"{}", b"[]")


def _depth_of(brackets: bytes) -> int:
    if not brackets:
        return 0
    deepest = max(itertools.accumulate(array("b", brackets.translate(_SIGNS))))
    return max(deepest, 0)


_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:,]', re.S)
_MAX_PATH_PARTS = 6


def deep_path(body: bytes, limit: int) -> str:
    """Where ``body`` first nests deeper than ``limit``, msgspec style
    (``$.args.value[0][0]``; a long path keeps its start and says how deep it is)."""
    # Each open container: its key or index so far (None until the first key).
    stack: list[list[str | int | None]] = []
    parts: list[str] = []
    for match in _TOKEN.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            if len(stack) >= limit:
                if stack:
                    parts.append(_part(stack[-1]))
                break
            if stack:
                parts.append(_part(stack[-1]))
            stack.append([token.decode(), 0 if token == b"[" else None])
        elif token in (b"]", b"}"):
            if stack:
                stack.pop()
            if parts:
                parts.pop()
        elif token == b",":
            if stack and stack[-1][0] == "[":
                index = stack[-1][1]
                stack[-1][1] = index + 1 if isinstance(index, int) else 0
        elif token == b":":
            pass
        elif stack and stack[-1][0] == "{" and _next_is_colon(body, match.end()):
            stack[-1][1] = _key(token)
    else:
        return "$"
    if len(parts) > _MAX_PATH_PARTS:
        return "$" + "".join(parts[:_MAX_PATH_PARTS]) + "..."
    return "$" + "".join(parts)


def _next_is_colon(body: bytes, end: int) -> bool:
    rest = body[end : end + 64].lstrip()
    return rest[:1] == b":"


def _key(token: bytes) -> str:
    text = token[1:-1].decode("utf-8", "replace")
    # Keys go into logs and errors: keep them short and on one line.
    if len(text) > 40 or not text.isprintable():
        text = text[:40].encode("unicode_escape").decode("ascii")[:40] + "..."
    return text


def _part(entry: list[str | int | None]) -> str:
    kind, position = entry
    if kind == "[":
        return f"[{position}]"
    return f".{position}" if position is not None else ".?"


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "MessageLimits",
    "MessageTooDeep",
    "MessageTooLarge",
    "deep_path",
    "deeper_than",
    "limits_from_query",
    "nesting_depth",
    "parse_size",
    "printable",
]
