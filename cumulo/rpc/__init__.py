"""Versioned RPC between Cumulo services: targets, call/cast/fanout, version caps,
the serializer hook for objects and request contexts, remote exceptions, and
heartbeats for long calls; over ``inproc://`` (one process) or ``amqp://``
(RabbitMQ through kombu).

Semantics follow oslo.messaging: an endpoint at version X.Y accepts messages at
X.0 to X.Y; a client enforces its ``version_cap`` before sending.
"""

from .client import RPCClient
from .context import RequestContext
from .exceptions import (
    InvalidArguments,
    InvalidMessage,
    InvalidTarget,
    MessageDeliveryFailure,
    MessageTooDeep,
    MessageTooLarge,
    MessagingTimeout,
    NoSuchMethod,
    RemoteError,
    RPCError,
    RPCVersionCapError,
    TransportURLError,
    UnsupportedVersion,
)
from .limits import MessageLimits
from .metrics import METRICS, Counters
from .remote_errors import ALLOWED_EXCEPTIONS, ExceptionAllowList, allow_remote_exception
from .serializer import BacklevelSerializer, ObjectSerializer, PlainSerializer, Serializer
from .server import RPCServer
from .target import Target, version_is_compatible
from .transport import Transport, get_transport

__all__ = [
    "ALLOWED_EXCEPTIONS",
    "METRICS",
    "BacklevelSerializer",
    "Counters",
    "ExceptionAllowList",
    "InvalidArguments",
    "InvalidMessage",
    "InvalidTarget",
    "MessageDeliveryFailure",
    "MessageLimits",
    "MessageTooDeep",
    "MessageTooLarge",
    "MessagingTimeout",
    "NoSuchMethod",
    "ObjectSerializer",
    "PlainSerializer",
    "RPCClient",
    "RPCError",
    "RPCServer",
    "RPCVersionCapError",
    "RemoteError",
    "RequestContext",
    "Serializer",
    "Target",
    "Transport",
    "TransportURLError",
    "UnsupportedVersion",
    "allow_remote_exception",
    "get_transport",
    "version_is_compatible",
]
