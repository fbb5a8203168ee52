"""``RPCServer``: receives the requests for a target, dispatches them to its
endpoints, sends heartbeats while they run, and replies.

Requests run on the server's thread pool, or on threads the transport runs them
on (the amqp:// listener's own pool, the caller's thread for inproc:// calls).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

import msgspec

from cumulo.objects import DeserializationError

from .dispatcher import Dispatcher
from .exceptions import InvalidArguments, InvalidMessage, InvalidTarget, MessageTooLarge
from .heartbeat import MIN_HEARTBEAT_INTERVAL
from .limits import MessageLimits, printable
from .metrics import METRICS, Counters
from .remote_errors import failure_from_exception
from .serializer import PlainSerializer, Serializer
from .target import Target
from .timer import Timer
from .transport.base import Incoming, Listener, Transport
from .wire import Request, Result, decode_request, describe_error, encode_reply, path_of

LOG = logging.getLogger(__name__)


class RPCServer:
    """Serves ``endpoints`` on ``target`` (its ``topic`` and ``server`` name).

    Endpoint methods are called as ``method(ctx, **kwargs)`` with the
    deserialized context and arguments; what they return goes back to the
    caller, what they raise goes back as a failure (typed on the calling side
    when allow-listed there). ``start()`` subscribes, ``stop()`` stops taking new
    messages, ``wait()`` waits for those in progress.
    """

    def __init__(
        self,
        transport: Transport,
        target: Target,
        endpoints: Sequence[object],
        serializer: Serializer | None = None,
        *,
        executor_threads: int = 64,
        metrics: Counters = METRICS,
    ) -> None:
        if not target.topic:
            raise InvalidTarget(f"an RPC server needs a topic: {target}")
        self.transport = transport
        self.target = target
        self.dispatcher = Dispatcher(endpoints)
        self.serializer: Serializer = serializer or PlainSerializer()
        self.metrics = metrics
        self._executor_threads = executor_threads
        self._executor: ThreadPoolExecutor | None = None
        self._heartbeats = Timer(f"rpc-heartbeats-{target.topic}")
        self._listener: Listener | None = None
        self._stopped_listeners: list[Listener] = []
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> RPCServer:
        with self._lock:
            if self._listener is not None:
                return self
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self._executor_threads, thread_name_prefix=f"rpc-{self.target.topic}"
                )
            self._heartbeats.start()
            self._listener = self.transport.listen(
                self.target, self, threads=self._executor_threads
            )
        return self

    def stop(self) -> None:
        """Stop taking new messages; those being processed go on."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                self._stopped_listeners.append(listener)
        if listener is not None:
            listener.stop()

    def wait(self) -> None:
        """Wait until the messages in progress are processed (after :meth:`stop`)."""
        with self._lock:
            executor, self._executor = self._executor, None
            listeners, self._stopped_listeners = self._stopped_listeners, []
        for listener in listeners:
            listener.wait()
        if executor is not None:
            executor.shutdown(wait=True)
        self._heartbeats.stop()

    def __enter__(self) -> RPCServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self.wait()

    # --- what the transport calls -------------------------------------------------------

    def submit(self, incoming: Incoming, /) -> None:
        executor = self._executor
        if executor is None:
            LOG.warning("RPC server for %s is stopped; dropping a message", self.target)
            return
        try:
            executor.submit(self.process, incoming)
        except RuntimeError:
            LOG.warning("RPC server for %s is stopping; dropping a message", self.target)

    def process(self, incoming: Incoming, /) -> None:
        """Decode, dispatch and (for a call) reply; never raises.

        Every call gets a reply: a request that cannot be served as sent (not
        JSON, not an envelope, over a limit, no such method or version, arguments
        that do not fit) is answered with a typed failure saying what is wrong
        and where, and logged once at warning (its body is never logged). A bad
        cast has no one to answer: it is logged and dropped.
        """
        limits = self.limits
        try:
            request = decode_request(incoming.body, limits)
        except InvalidMessage as exc:
            self._refuse(incoming, None, exc)
            return
        beat = None
        if request.heartbeat and incoming.expects_reply and incoming.sends_heartbeats:
            # From before the arguments load: loading may ask the conductor for a backport.
            beat = self._heartbeats.call_every(
                max(request.heartbeat, MIN_HEARTBEAT_INTERVAL), lambda: self._beat(incoming)
            )
        refused: Exception | None = None
        try:
            try:
                call = self._prepare(request)
            except Exception as exc:
                refused = exc
            else:
                try:
                    body = encode_reply(Result(call()))
                except Exception as exc:
                    body = encode_reply(failure_from_exception(exc))
                    self._log_failure(request, exc, incoming.expects_reply)
        finally:
            if beat is not None:
                self._heartbeats.cancel(beat)
        if refused is not None:
            self._refuse(incoming, request, refused)
        elif incoming.expects_reply:
            incoming.reply(self._fit(body, request))

    @property
    def limits(self) -> MessageLimits:
        """What requests and replies are held to: the transport's limits."""
        return self.transport.limits

    # --- internals ----------------------------------------------------------------------

    def _beat(self, incoming: Incoming) -> None:
        try:
            incoming.heartbeat()
        except Exception as exc:  # the caller may time out; the call goes on
            LOG.warning("RPC server for %s could not send a heartbeat: %s", self.target, exc)
            return
        self.metrics.incr("rpc.heartbeats_sent")

    def _prepare(self, request: Request) -> Callable[[], Any]:
        """The endpoint call ``request`` asks for, ready to run.

        Whatever goes wrong here is the sender's doing (no such method or version,
        a bad context or argument) and raises a typed error naming it.
        """
        method = self.dispatcher.find(request.namespace, request.version, request.method)
        serializer = self.serializer
        try:
            ctx = serializer.deserialize_context(request.context)
        except msgspec.ValidationError as exc:
            raise InvalidMessage(
                f"malformed request context: {describe_error(exc, '$.context')}",
                path=path_of(exc, "$.context"),
            ) from None
        kwargs = {}
        for name, value in request.args.items():
            try:
                kwargs[name] = serializer.deserialize_entity(ctx, value)
            except DeserializationError as exc:
                # The object's path, under the argument that carried it.
                path = f"$.args.{printable(name, 40)}{exc.path[1:]}"
                raise type(exc)(exc.reason, path) from None
        problem = self.dispatcher.arguments(method).problem(kwargs)
        if problem is not None:
            raise InvalidArguments(
                f"bad arguments for {request.method}(): {problem} - at $.args", path="$.args"
            )

        def run() -> Any:
            return serializer.serialize_entity(ctx, method(ctx, **kwargs))

        return run

    def _refuse(self, incoming: Incoming, request: Request | None, exc: Exception) -> None:
        """Answer (or, for a cast, drop) a request that cannot be served as sent."""
        self.metrics.incr("rpc.bad_messages")
        where = f"from {incoming.sender}"
        if request is not None:
            request_id = request.context.get("request_id")
            if isinstance(request_id, str):
                where += f", request {printable(request_id, 80)}"
        if incoming.expects_reply:
            LOG.warning(
                "RPC server for %s refused a request %s: %s: %s",
                self.target,
                where,
                type(exc).__name__,
                printable(str(exc)),
            )
            # The caller needs what was wrong, not this server's stack.
            exc.__traceback__ = None
            incoming.reply(self._fit(encode_reply(failure_from_exception(exc)), request))
        else:
            LOG.warning(
                "RPC server for %s dropped a bad message with no reply address %s: %s: %s",
                self.target,
                where,
                type(exc).__name__,
                printable(str(exc)),
            )

    def _fit(self, body: bytes, request: Request | None) -> bytes:
        """``body``, or a failure saying why it cannot be sent when it is over the
        transport's limits."""
        limit = self.limits.max_message_size
        if len(body) <= limit:
            return body
        what = f"the reply to {request.method}()" if request is not None else "the reply"
        exc = MessageTooLarge(what, len(body), limit)
        LOG.warning("RPC server for %s cannot send %s: %s", self.target, what, exc)
        return encode_reply(failure_from_exception(exc))

    def _log_failure(self, request: Request, exc: Exception, replied: bool) -> None:
        request_id = request.context.get("request_id")
        if replied:
            LOG.info(
                "%s() on %s raised %s: %s (sent back to the caller; request %s)",
                request.method,
                self.target,
                type(exc).__name__,
                exc,
                request_id,
            )
        else:
            LOG.error(
                "cast %s() on %s failed (request %s)",
                request.method,
                self.target,
                request_id,
                exc_info=exc,
            )
