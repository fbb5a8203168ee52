"""Errors raised by ``cumulo.rpc``, on the calling side and (sent back) from servers.

Every error derives from :class:`RPCError`. The ones a server sends back
(``UnsupportedVersion``, ``NoSuchMethod``, ``InvalidMessage``) are allow-listed for
remote typing by default, so a caller can catch them by class.
"""

from __future__ import annotations


class RPCError(Exception):
    """Base class of every error raised by ``cumulo.rpc``."""


class InvalidTarget(RPCError, ValueError):
    """A target cannot be used for what was asked (no topic, ``call`` on a fanout...)."""


class TransportURLError(RPCError, ValueError):
    """A transport URL is malformed or names a scheme no transport serves."""


class RPCVersionCapError(RPCError):
    """The message version is above the client's ``version_cap``; nothing was sent."""

    def __init__(self, version: str, version_cap: str) -> None:
        super().__init__(
            f"Requested message version {version} is incompatible with the version cap "
            f"{version_cap}: the peer cannot handle it (branch on can_send_version())"
        )
        self.version = version
        self.version_cap = version_cap


class UnsupportedVersion(RPCError):
    """No endpoint of the server accepts the message's namespace and version."""

    def __init__(self, version: str, method: str | None = None, detail: str = "") -> None:
        message = f"Endpoint does not support RPC version {version}"
        if method is not None:
            message += f". Attempted method: {method}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.version = version
        self.method = method


class NoSuchMethod(RPCError, AttributeError):
    """The endpoint that accepts the message's version has no such public method."""

    def __init__(self, method: str, detail: str = "") -> None:
        message = f"Endpoint does not support RPC method {method!r}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.method = method


class InvalidMessage(RPCError, ValueError):
    """A message could not be encoded or decoded (bad argument, garbage bytes...).

    ``path`` points at the bad value in the request when known (``$.args.value``).
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class InvalidArguments(InvalidMessage, TypeError):
    """A request's arguments do not fit the endpoint method's signature (missing,
    unexpected); a ``TypeError`` too, as calling the method would have raised."""


class MessageTooLarge(InvalidMessage):
    """A message is over its transport's ``max_message_size``.

    Raised before sending by the sender, and sent back by a server that got one.
    """

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what} of {size} bytes is over the limit of {limit} bytes "
            "(the transport URL's max_message_size)",
            path="$",
        )
        self.size = size
        self.limit = limit


class MessageTooDeep(InvalidMessage):
    """A message nests arrays and objects more than its transport's ``max_depth``."""

    def __init__(self, what: str, limit: int, path: str) -> None:
        super().__init__(
            f"{what} is nested more than {limit} levels deep "
            f"(the transport URL's max_depth) - at {path}",
            path=path,
        )
        self.limit = limit


class MessagingTimeout(RPCError):
    """No reply, and no heartbeat from a working server, within the call's timeout."""


class MessageDeliveryFailure(RPCError):
    """The broker could not take the message before the deadline (outage, nack)."""


class RemoteError(RPCError):
    """An exception raised by the server whose class is not allow-listed here.

    ``exc_type`` is the remote class as ``module.qualname``, ``value`` (also
    ``message``) its message and ``traceback`` the remote traceback text.
    """

    def __init__(self, exc_type: str, message: str, traceback: str = "") -> None:
        super().__init__(f"Remote error: {exc_type} {message}")
        self.exc_type = exc_type
        self.value = message
        self.traceback = traceback

    @property
    def message(self) -> str:
        return self.value
