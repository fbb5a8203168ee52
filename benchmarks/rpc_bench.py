"""RPC round trips and cast throughput: ``inproc://`` and ``amqp://`` against raw kombu.

    python -m benchmarks.rpc_bench [--quick] [--json] [--url amqp://...] [--only inproc,amqp]

One run measures, for each transport, the round trip of sequential calls
(median and p99) and the throughput of casts (sent, and consumed by the server),
and, on the same broker, a raw kombu request/reply round trip and a raw kombu
publish: the same AMQP work (publisher confirms, the same queue kinds and
delivery modes, a server in another process) without Cumulo. Raw and Cumulo
calls are measured in alternating blocks, so a noisy neighbour weighs on both.

The servers run in a child process (``--serve``). The table (or ``--json``) goes
to stdout, progress to stderr. Every figure is a *row*; comparisons are ratios
between rows, and targets are checks on rows or ratios, so a new measurement
(for example a conductor round trip) is one more row function in ``ROWS``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu

from benchmarks import _broker, _timing
from cumulo.rpc import RequestContext, RPCClient, RPCServer, Target, get_transport

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672//"

# About the size of the reference measurement's message (~316 bytes of JSON).
PAYLOAD = {
    "instance_uuid": "4a3b2f4e-0b1c-4b7e-9d0a-3f8e2c1d5a6b",
    "host": "compute-017.example.org",
    "task_state": "migrating",
    "flavor": {"name": "m1.small", "memory_mb": 2048, "vcpus": 1, "root_gb": 20},
    "metadata": {"owner": "bench", "tier": "web"},
}


def kombu_url(url: str) -> str:
    """The broker URL without Cumulo's own options (``?exchange=...``), for raw kombu."""
    return url.split("?", 1)[0]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- measurements ---------------------------------------------------------------------------


def call_row(label: str, samples: list[float], note: str = "") -> dict[str, Any]:
    return {
        "label": label,
        "kind": "call",
        "median_ms": statistics.median(samples) * 1e3,
        "p99_ms": _timing.percentile(samples, 0.99) * 1e3,
        "calls_per_s": len(samples) / sum(samples),
        "samples": len(samples),
        "note": note,
    }


def cast_row(label: str, count: int, sent_s: float, consumed_s: float | None) -> dict[str, Any]:
    return {
        "label": label,
        "kind": "cast",
        "count": count,
        "sent_per_s": count / sent_s,
        "consumed_per_s": None if consumed_s is None else count / consumed_s,
    }


@dataclass
class Settings:
    calls: int
    warmup: int
    rounds: int
    casts: int
    url: str
    groups: list[str]
    quick: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        groups = [g for g in ROWS if g in args.only.split(",")]
        if args.quick:
            return cls(200, 50, 2, 200, args.url, groups, True)
        return cls(args.calls, max(args.calls // 10, 100), 10, args.casts, args.url, groups, False)


@dataclass
class Report:
    """The rows measured so far, by id (``amqp_call``...), in the order measured."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- the endpoint, and the child process serving it -------------------------------------------


class BenchEndpoint:
    target = Target(version="1.0")

    def __init__(self) -> None:
        self.casts = 0
        self._cond = threading.Condition()

    def echo(self, ctx: RequestContext, payload: Any) -> Any:
        return payload

    def sink(self, ctx: RequestContext, payload: Any) -> None:
        with self._cond:
            self.casts += 1
            self._cond.notify_all()

    def wait_casts(self, ctx: RequestContext, count: int) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self.casts >= count, timeout=300)
            self.casts -= count
            return count


RAW_EXCHANGE = kombu.Exchange("rpc_bench_raw", type="topic", durable=True, auto_delete=False)


def raw_queue(name: str) -> kombu.Queue:
    """Like a Cumulo topic queue: durable, bound to a topic exchange by its name."""
    return kombu.Queue(name, exchange=RAW_EXCHANGE, routing_key=name, durable=True)


def serve_raw(url: str, queue_name: str, ready: threading.Event) -> None:
    """A raw kombu request/reply server: consume, ack, publish the body back."""
    conn = kombu.Connection(kombu_url(url))
    channel = conn.channel()
    publisher = kombu.Connection(kombu_url(url), transport_options={"confirm_publish": True})
    producer = kombu.Producer(publisher.channel())

    def on_request(message: Any) -> None:
        message.ack()
        props = message.properties
        if props.get("reply_to"):
            producer.publish(
                message.body,
                exchange="",
                routing_key=props["reply_to"],
                correlation_id=props.get("correlation_id"),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=1,
            )

    queues = [raw_queue(queue_name), raw_queue(f"{queue_name}.casts")]
    kombu.Consumer(channel, queues=queues, on_message=on_request).consume()
    ready.set()
    while True:
        conn.drain_events()


def serve(url: str, topic: str, queue_name: str) -> None:
    """``--serve``: the Cumulo and raw servers, until stdin closes."""
    ready = threading.Event()
    threading.Thread(target=serve_raw, args=(url, queue_name, ready), daemon=True).start()
    transport = get_transport(url)
    server = RPCServer(transport, Target(topic, server="bench"), [BenchEndpoint()]).start()
    ready.wait(30)
    print("READY", flush=True)
    sys.stdin.read()
    server.stop()
    server.wait()
    transport.cleanup()


# --- rows -----------------------------------------------------------------------------------


def measure_inproc(settings: Settings, report: Report) -> None:
    transport = get_transport(f"inproc://bench-{uuid.uuid4().hex}")
    endpoint = BenchEndpoint()
    server = RPCServer(transport, Target("bench", server="bench"), [endpoint]).start()
    client = RPCClient(transport, Target("bench"), timeout=30)
    ctx = RequestContext(user_id="bench", project_id="bench")
    try:
        progress("inproc:// calls")

        def echo() -> Any:
            return client.call(ctx, "echo", payload=PAYLOAD)

        _timing.timed_calls(echo, settings.warmup)
        samples: list[float] = []
        for _ in range(settings.rounds):
            samples += _timing.timed_calls(echo, settings.calls // settings.rounds)
        report.rows["inproc_call"] = call_row("inproc:// call", samples)

        progress("inproc:// casts")
        count = settings.casts * 10
        start = time.perf_counter()
        for _ in range(count):
            client.cast(ctx, "sink", payload=PAYLOAD)
        sent = time.perf_counter() - start
        client.call(ctx, "wait_casts", count=count)
        consumed = time.perf_counter() - start
        report.rows["inproc_cast"] = cast_row("inproc:// cast", count, sent, consumed)
    finally:
        server.stop()
        server.wait()


class RawClient:
    """Raw kombu request/reply on one connection: publish (confirmed), drain the reply."""

    def __init__(self, url: str, queue_name: str) -> None:
        self.conn = kombu.Connection(kombu_url(url), transport_options={"confirm_publish": True})
        channel = self.conn.channel()
        self.reply_queue = kombu.Queue(
            f"reply_{uuid.uuid4().hex}", durable=False, auto_delete=True, exclusive=True
        )
        self._replies: list[bytes] = []
        kombu.Consumer(
            channel,
            queues=[self.reply_queue],
            on_message=lambda m: self._replies.append(m.body),
            no_ack=True,
        ).consume()
        self.producer = kombu.Producer(self.conn.channel())
        self.queue_name = queue_name
        self.body = json.dumps({"method": "echo", "args": {"payload": PAYLOAD}}).encode()
        self._ids = 0

    def call(self) -> bytes:
        self._ids += 1
        self.producer.publish(
            self.body,
            exchange=RAW_EXCHANGE.name,
            routing_key=self.queue_name,
            reply_to=self.reply_queue.name,
            correlation_id=str(self._ids),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=1,
        )
        while not self._replies:
            self.conn.drain_events(timeout=30)
        return self._replies.pop()

    def cast(self) -> None:
        self.producer.publish(
            self.body,
            exchange=RAW_EXCHANGE.name,
            routing_key=f"{self.queue_name}.casts",
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )

    def close(self) -> None:
        self.conn.release()


def check_broker(url: str) -> None:
    _broker.check_broker(
        url, script="rpc_bench", hint="start it with scripts/services.sh, or run with --only inproc"
    )


def measure_amqp(settings: Settings, report: Report) -> None:
    url = settings.url
    check_broker(url)
    suffix = uuid.uuid4().hex[:8]
    topic, queue_name = f"rpc_bench_{suffix}", f"rpc_bench_raw_{suffix}"
    progress("amqp://: starting the servers' process")
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.rpc_bench", "--serve", url, topic, queue_name],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    transport = get_transport(url)
    client = RPCClient(transport, Target(topic), timeout=30)
    raw: RawClient | None = None
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "READY":
            raise SystemExit("rpc_bench: the server process did not start")
        raw = RawClient(url, queue_name)
        ctx = RequestContext(user_id="bench", project_id="bench")

        def echo() -> Any:
            return client.call(ctx, "echo", payload=PAYLOAD)

        progress("amqp:// and raw kombu calls, in alternating blocks")
        _timing.timed_calls(echo, settings.warmup)
        _timing.timed_calls(raw.call, settings.warmup)
        cumulo: list[float] = []
        baseline: list[float] = []
        block = max(settings.calls // settings.rounds, 1)
        for round_ in range(settings.rounds):
            baseline += _timing.timed_calls(raw.call, block)
            cumulo += _timing.timed_calls(echo, block)
            progress(f"  round {round_ + 1}/{settings.rounds}")
        report.rows["amqp_call"] = call_row("amqp:// call", cumulo)
        report.rows["raw_kombu_call"] = call_row(
            "raw kombu request/reply", baseline, "same broker and AMQP work, no framework"
        )

        progress("amqp:// casts")
        count = settings.casts
        start = time.perf_counter()
        for _ in range(count):
            client.cast(ctx, "sink", payload=PAYLOAD)
        sent = time.perf_counter() - start
        client.call(ctx, "wait_casts", count=count)
        consumed = time.perf_counter() - start
        report.rows["amqp_cast"] = cast_row("amqp:// cast", count, sent, consumed)

        progress("raw kombu casts")
        start = time.perf_counter()
        for _ in range(count):
            raw.cast()
        report.rows["raw_kombu_cast"] = cast_row(
            "raw kombu publish", count, time.perf_counter() - start, None
        )
    finally:
        client.close()
        if raw is not None:
            raw.close()
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
        cleanup_broker(url, topic, queue_name)
        transport.cleanup()


def cleanup_broker(url: str, topic: str, queue_name: str) -> None:
    """Delete the durable queues and exchanges the run declared."""
    with kombu.Connection(kombu_url(url)) as conn:
        channel = conn.channel()
        for name in (topic, f"{topic}.bench", queue_name, f"{queue_name}.casts"):
            try:
                channel.queue_delete(name)
            except Exception:
                channel = conn.channel()
        with contextlib.suppress(Exception):
            channel.exchange_delete(f"{topic}_fanout")


POSTGRES_ADMIN_URL = os.environ.get(
    "CUMULO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def _bench_database() -> Any:
    """A throwaway PostgreSQL database at the current schema."""
    from cumulo.db import create_engine, sync

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"cumulo_bench_{os.getpid()}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = admin.url.set(database=name)
    try:
        sync(url.render_as_string(hide_password=False))
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def measure_conductor(settings: Settings, report: Report) -> None:
    """``Instance.save()`` from a database-free client through a conductor process to
    PostgreSQL, next to the same save made directly in-process (no RPC)."""
    from cumulo.conductor.rpcapi import ConductorAPI
    from cumulo.db import SqlStorage, create_engine
    from cumulo.model import Instance
    from cumulo.model.base import CumuloObject
    from cumulo.model.storage import set_storage

    check_broker(settings.url)
    conductor: subprocess.Popen[str] | None = None
    with _broker.throwaway_vhost(kombu_url(settings.url), script="rpc_bench") as (_, url):
        try:
            with _bench_database() as db_url:
                engine = create_engine(db_url)
                previous = set_storage(SqlStorage(engine))
                ctx = RequestContext(user_id="bench", project_id="bench")
                instance = Instance(uuid=uuid.uuid4(), user_id="bench", project_id="bench")
                instance.obj_set_context(ctx)
                instance.create()
                counter = iter(range(10**9))

                def save() -> Any:
                    instance.display_name = f"vm-{next(counter)}"
                    return instance.save()

                progress("Instance.save() directly on PostgreSQL (no RPC)")
                _timing.timed_calls(save, settings.warmup // 2)
                report.rows["db_save"] = call_row(
                    "Instance.save() direct",
                    _timing.timed_calls(save, settings.calls // 4),
                    "same database, in this process",
                )
                set_storage(previous)

                progress("amqp://: starting a conductor process")
                conductor = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "cumulo",
                        "conductor",
                        "--transport-url",
                        url,
                        "--database-url",
                        db_url.render_as_string(hide_password=False),
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                api = ConductorAPI(get_transport(url), timeout=30)
                api.wait_until_ready(ctx, timeout=60)
                CumuloObject.indirection_api = api
                try:
                    progress("Instance.save() through the conductor")
                    _timing.timed_calls(save, settings.warmup // 2)
                    report.rows["conductor_save"] = call_row(
                        "Instance.save() conductor",
                        _timing.timed_calls(save, settings.calls // 4),
                        "amqp:// to a conductor process, PostgreSQL",
                    )
                finally:
                    CumuloObject.indirection_api = None
                    api.close()
                engine.dispose()
        finally:
            if conductor is not None:
                conductor.terminate()
                try:
                    conductor.wait(30)
                except subprocess.TimeoutExpired:
                    conductor.kill()


ROWS: dict[str, Callable[[Settings, Report], None]] = {
    "inproc": measure_inproc,
    "amqp": measure_amqp,
    "conductor": measure_conductor,
}
"""Groups of rows (``--only``), measured in this order; each adds its rows to the report."""


# --- ratios, targets, output --------------------------------------------------------------------


def ratio(rows: dict[str, dict[str, Any]], num: str, den: str, key: str) -> float | None:
    if num not in rows or den not in rows:
        return None
    a, b = rows[num].get(key), rows[den].get(key)
    return a / b if a and b else None


RATIOS = [
    ("amqp_call/raw_kombu_call", "amqp_call", "raw_kombu_call", "median_ms"),
    ("amqp_call_p99/raw_kombu_call_p99", "amqp_call", "raw_kombu_call", "p99_ms"),
    ("amqp_cast/raw_kombu_cast", "amqp_cast", "raw_kombu_cast", "sent_per_s"),
    ("conductor_save/db_save", "conductor_save", "db_save", "median_ms"),
]


def targets(
    rows: dict[str, dict[str, Any]], ratios: dict[str, float | None]
) -> list[dict[str, Any]]:
    checks: list[tuple[str, float | None, float]] = []
    if "amqp_call/raw_kombu_call" in ratios:
        checks.append(
            ("amqp call median ÷ raw kombu <= 1.3", ratios["amqp_call/raw_kombu_call"], 1.3)
        )
    if "amqp_call" in rows:
        checks.append(("amqp call median <= 2.0 ms", rows["amqp_call"]["median_ms"], 2.0))
    if "inproc_call" in rows:
        checks.append(("inproc call median < 0.1 ms", rows["inproc_call"]["median_ms"], 0.1))
    return [
        {"target": name, "value": value, "pass": value is not None and value <= limit}
        for name, value, limit in checks
    ]


def build_report(settings: Settings) -> dict[str, Any]:
    report = Report()
    for group in settings.groups:
        ROWS[group](settings, report)
    ratios = {
        name: ratio(report.rows, num, den, key)
        for name, num, den, key in RATIOS
        if num in report.rows and den in report.rows
    }
    return {
        "meta": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "payload_bytes": len(json.dumps(PAYLOAD)),
            "url": get_transport(settings.url).url
            if {"amqp", "conductor"} & set(settings.groups)
            else None,
            "groups": settings.groups,
            "quick": settings.quick,
            "calls": settings.calls,
            "casts": settings.casts,
        },
        "rows": report.rows,
        "ratios": ratios,
        "targets": targets(report.rows, ratios),
    }


def fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def print_table(result: dict[str, Any]) -> None:
    meta = result["meta"]
    print(
        f"RPC benchmark: payload {meta['payload_bytes']} B of JSON, {meta['cpus']} CPUs, "
        f"Python {meta['python']}" + (" (--quick: smoke figures only)" if meta["quick"] else "")
    )
    header = f"{'':<26}{'median ms':>10}{'p99 ms':>9}{'calls/s':>9}{'casts/s sent':>14}"
    header += f"{'consumed':>10}  vs baseline"
    print(header)
    versus = {
        "amqp_call": ("amqp_call/raw_kombu_call", "raw kombu call"),
        "amqp_cast": ("amqp_cast/raw_kombu_cast", "raw kombu publish (casts/s)"),
        "conductor_save": ("conductor_save/db_save", "direct save"),
    }
    for name, row in result["rows"].items():
        line = f"{row['label']:<26}"
        if row["kind"] == "call":
            line += f"{row['median_ms']:>10.3f}{row['p99_ms']:>9.3f}{row['calls_per_s']:>9,.0f}"
            line += " " * 24
        else:
            line += " " * 28
            line += f"{row['sent_per_s']:>14,.0f}{fmt(row['consumed_per_s'], ',.0f'):>10}"
        if name in versus and result["ratios"].get(versus[name][0]) is not None:
            line += f"  {result['ratios'][versus[name][0]]:.2f}x {versus[name][1]}"
        elif name.startswith("raw_") or name == "db_save":
            line += "  (baseline)"
        print(line.rstrip())
    for target in result["targets"]:
        verdict = "PASS" if target["pass"] else "MISS"
        print(f"target: {target['target']}: {fmt(target['value'], '.3f')} {verdict}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a few calls: a smoke test")
    parser.add_argument("--url", default=DEFAULT_URL, help="the RabbitMQ URL")
    parser.add_argument("--calls", type=int, default=4000, help="sequential calls per transport")
    parser.add_argument("--casts", type=int, default=2000, help="casts per amqp:// row")
    parser.add_argument(
        "--only", default=",".join(ROWS), help=f"comma-separated groups of rows: {', '.join(ROWS)}"
    )
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(ROWS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; known: {', '.join(ROWS)}")
    settings = Settings.from_args(args)
    result = build_report(settings)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
