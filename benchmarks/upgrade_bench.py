"""Rolling upgrade: the cost of sending an Instance to an older peer, backlevelled by
the sender versus backported through the conductor by the receiver, in one run.

    python -m benchmarks.upgrade_bench [--calls N] [--warmup N] [--rounds N] [--quick]
                                       [--json] [--url amqp://...] [--release 0.1]

The older peer is the real previous release: ``benchmarks/old_peer_child.py`` runs in
a child process on release ``--release``'s own ``cumulo`` (rebuilt from its recorded
commit by ``upgrade.releases.materialize``), with that release's ``ObjectSerializer``
and its ``ConductorAPI`` as the indirection. A conductor of this tree runs as a
``cumulo conductor`` process (SQLite file in a temporary directory); everything
speaks over RabbitMQ in a throwaway virtual host (release 0.1's conductor topic is
fixed), deleted at the end with the processes, even on failure.

Three rows, ``--calls`` sequential calls each, measured in alternating blocks so a
noisy neighbour weighs on all of them alike:

- ``baseline``: an Instance primitive already at the peer's version (made once), so
  nobody converts anything: the wire and the old peer's load;
- ``sender``: this tree's Instance (newer) backlevelled by the sender
  (``BacklevelSerializer.backlevel_to(<release manifest>)``) before each send;
- ``receiver``: the same Instance sent as it is; the old peer cannot load it and asks
  the conductor to backport it (``object_backport_versions``, one more round trip).

Ratios are against ``baseline``, plus receiver/sender. Counter deltas per row prove
which path each row took: ``rpc.sender_backlevels`` here, ``rpc.object_backports`` in
the old peer, ``conductor.backports_served`` in the conductor (its ``admin``
endpoint); the run fails (exit 1) when a row took another path. A last, in-process
table times the sender's CPU work per object without RPC. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from benchmarks import _broker, _timing
from cumulo.compute.version import SERVICE_VERSION_HISTORY
from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.db import sync
from cumulo.model import Flavor, Instance
from cumulo.model.base import CumuloObject
from cumulo.objects import serialize_entity
from cumulo.rpc import (
    METRICS,
    BacklevelSerializer,
    MessagingTimeout,
    RequestContext,
    RPCClient,
    Target,
    Transport,
    get_transport,
)
from cumulo.rpc.admin import get_metrics
from upgrade.releases import ReleaseUnavailable, materialize, release_env

ROOT = Path(__file__).resolve().parents[1]
PEER_SCRIPT = Path(__file__).with_name("old_peer_child.py")
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672//"
STARTUP_TIMEOUT = 60.0

STOP_WITH_STDIN = (
    "import os, runpy, signal, sys, threading\n"
    "def watch():\n"
    "    sys.stdin.read()\n"
    "    os.kill(os.getpid(), signal.SIGTERM)\n"
    "threading.Thread(target=watch, daemon=True).start()\n"
    "sys.argv = ['cumulo', *sys.argv[1:]]\n"
    "runpy.run_module('cumulo', run_name='__main__', alter_sys=True)\n"
)
"""``python -c`` code running the ``cumulo`` command line (``sys.argv[1:]``) that stops
it (SIGTERM, a clean stop) when its stdin closes: the conductor goes away with this
process even when this process is killed."""

ROWS = ("baseline", "sender", "receiver")
LABELS = {
    "baseline": "baseline: already at {old}",
    "sender": "sender-side backlevel",
    "receiver": "receiver-side backport",
}
NOTES = {
    "baseline": "Instance {old} primitive made once; no conversion",
    "sender": "Instance {new} backlevelled to the {release} manifest per send",
    "receiver": "Instance {new} as is; the peer asks the conductor",
}
COUNTERS = ("sender_backlevels", "peer_object_backports", "conductor_backports_served")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchError(SystemExit):
    """The run cannot go on; the message says why (exit status 1 with it on stderr)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"upgrade_bench: {message}")


@dataclass(frozen=True)
class Settings:
    calls: int
    warmup: int
    rounds: int
    url: str
    release: str
    quick: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        if args.quick:
            return cls(20, 5, 2, args.url, args.release, True)
        warmup = args.warmup if args.warmup is not None else max(args.calls // 10, 20)
        rounds = max(1, min(args.rounds, args.calls))
        return cls(args.calls, warmup, rounds, args.url, args.release, False)


# --- the sample object ------------------------------------------------------------------------


def sample_instance() -> Instance:
    """An Instance as a compute host gets it: a flavor inside, metadata, tags, and the
    fields the newer version added set (they are what the backport drops)."""
    flavor = Flavor(
        id=7,
        flavorid="m1.small",
        name="m1.small",
        memory_mb=2048,
        vcpus=1,
        root_gb=20,
        extra_specs={"hw:cpu_policy": "shared"},
    )
    return Instance(
        id=42,
        uuid=uuid.uuid4(),
        user_id="bench",
        project_id="bench",
        image_ref="cirros-0.6.2",
        host="compute-017",
        node="compute-017",
        launched_on="compute-017",
        display_name="web-1",
        hostname="web-1",
        memory_mb=2048,
        vcpus=1,
        root_gb=20,
        metadata={"owner": "bench", "tier": "web"},
        system_metadata={"image_os_type": "linux", "image_hw_disk_bus": "virtio"},
        locked=True,
        locked_by="admin",
        locked_reason="maintenance window",
        description="the web tier's first server",
        created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        flavor=flavor,
        tags=["web", "prod"],
    )


def release_manifest(release: str) -> Mapping[str, str]:
    """The object manifest this tree records for ``release`` (what a sender pins to)."""
    for entry in SERVICE_VERSION_HISTORY:
        if entry.release == release:
            return entry.object_manifest
    known = sorted(e.release for e in SERVICE_VERSION_HISTORY if e.release)
    raise BenchError(f"no service level records release {release!r} (known: {known})")


# --- services: broker, virtual host, processes -------------------------------------------------


@contextlib.contextmanager
def child_process(
    name: str, args: list[str], log: Path, *, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """``args`` in a child process (stderr to ``log``), stopped on the way out: stdin
    closed, then SIGTERM, then SIGKILL."""
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        yield proc
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                progress(f"{name} (pid {proc.pid}) ignored SIGTERM; killing it")
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def log_tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return "\n  ".join(text[-lines:]) or "(nothing on stderr)"


def read_line(proc: subprocess.Popen[str], timeout: float) -> str | None:
    """The child's next stdout line, or None if it exits or says nothing in time."""
    stream: IO[str] | None = proc.stdout
    assert stream is not None
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            return None
    line = stream.readline()
    return line or None


def wait_for_conductor(
    proc: subprocess.Popen[str], transport: Transport, ctx: RequestContext, log: Path
) -> None:
    api = ConductorAPI(transport, timeout=5)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise BenchError(
                    f"the conductor exited with status {proc.returncode}:\n  {log_tail(log)}"
                )
            try:
                api.ping(ctx, "ready?", timeout=2)
                return
            except MessagingTimeout:
                if time.monotonic() >= deadline:
                    raise BenchError(
                        f"the conductor did not answer within {STARTUP_TIMEOUT:.0f} s:\n"
                        f"  {log_tail(log)}"
                    ) from None
    finally:
        api.close()


def wait_for_peer(proc: subprocess.Popen[str], tree: Path, log: Path) -> dict[str, Any]:
    line = read_line(proc, STARTUP_TIMEOUT)
    if line is None:
        proc.poll()
        raise BenchError(
            f"the release peer did not start (status {proc.returncode}):\n  {log_tail(log)}"
        )
    ready: dict[str, Any] = json.loads(line)
    loaded_from = Path(ready["cumulo"]).resolve()
    if not loaded_from.is_relative_to(tree.resolve()):
        raise BenchError(
            f"the release peer imported cumulo from {loaded_from}, not from the release "
            f"tree {tree}: it would not be the older code"
        )
    return ready


# --- measurement ------------------------------------------------------------------------------


def blocks(calls: int, rounds: int) -> list[int]:
    """``calls`` split into ``rounds`` blocks as even as can be."""
    return [calls // rounds + (1 if i < calls % rounds else 0) for i in range(rounds)]


@dataclass
class Peer:
    """The clients of one run: to the old peer (with the backlevelling serializer) and
    to each service's counters."""

    transport: Transport
    client: RPCClient
    serializer: BacklevelSerializer
    ctx: RequestContext

    def counters(self) -> dict[str, int]:
        peer = self.client.call(self.ctx, "metrics")
        conductor = get_metrics(self.transport, self.ctx, "conductor")
        return {
            "sender_backlevels": METRICS.get("rpc.sender_backlevels"),
            "peer_object_backports": peer.get("rpc.object_backports", 0),
            "conductor_backports_served": conductor.get("conductor.backports_served", 0),
        }


def senders(
    peer: Peer, instance: Instance, manifest: Mapping[str, str]
) -> dict[str, Callable[[], object]]:
    """One send per row; each checks that the old peer loaded an Instance at the
    release's version."""
    old_version = manifest["Instance"]
    expected = {"uuid": str(instance.uuid), "object": "Instance", "version": old_version}
    at_old_version = instance.obj_to_primitive(
        target_version=old_version, version_manifest=manifest
    )
    client, ctx, serializer = peer.client, peer.ctx, peer.serializer

    def check(reply: Any) -> None:
        if reply != expected:
            raise BenchError(f"the old peer loaded {reply}, expected {expected}")

    def baseline() -> None:
        check(client.call(ctx, "receive", instance=at_old_version))

    def sender() -> None:
        with serializer.backlevel_to(manifest):
            check(client.call(ctx, "receive", instance=instance))

    def receiver() -> None:
        check(client.call(ctx, "receive", instance=instance))

    return {"baseline": baseline, "sender": sender, "receiver": receiver}


@dataclass
class Measured:
    """Per row: the measured call times (s), the sends (warm-up included) and what
    they added to each counter."""

    samples: dict[str, list[float]]
    sends: dict[str, int]
    deltas: dict[str, dict[str, int]]


def measure_rows(settings: Settings, peer: Peer, fns: dict[str, Callable[[], object]]) -> Measured:
    """Warm-up blocks, then ``rounds`` rounds of one block per row (the order rotating
    each round); counters are read around each block, outside the timed calls."""
    samples: dict[str, list[float]] = {row: [] for row in ROWS}
    sends = dict.fromkeys(ROWS, 0)
    deltas = {row: dict.fromkeys(COUNTERS, 0) for row in ROWS}

    def block(row: str, count: int, keep: bool) -> None:
        before = peer.counters()
        timed = _timing.timed_calls(fns[row], count)
        after = peer.counters()
        if keep:
            samples[row] += timed
        sends[row] += count
        for name in COUNTERS:
            deltas[row][name] += after[name] - before[name]

    progress(f"warm-up: {settings.warmup} calls per row")
    for row in ROWS:
        block(row, settings.warmup, keep=False)
    sizes = blocks(settings.calls, settings.rounds)
    for round_, size in enumerate(sizes):
        order = ROWS[round_ % len(ROWS) :] + ROWS[: round_ % len(ROWS)]
        for row in order:
            block(row, size, keep=True)
        progress(f"  round {round_ + 1}/{len(sizes)}: {size} calls per row")
    return Measured(samples, sends, deltas)


def expected_counters(row: str, sends: int) -> dict[str, int]:
    """What ``sends`` of ``row`` must add to each counter: the sender path backlevels
    here; the receiver path has the peer ask, and the conductor serve, a backport."""
    counts = dict.fromkeys(COUNTERS, 0)
    if row == "sender":
        counts["sender_backlevels"] = sends
    elif row == "receiver":
        counts["peer_object_backports"] = counts["conductor_backports_served"] = sends
    return counts


def path_checks(sends: dict[str, int], deltas: dict[str, dict[str, int]]) -> list[str]:
    """What contradicts the path each row must take (empty: every row took its own)."""
    problems = []
    for row in ROWS:
        wanted = expected_counters(row, sends[row])
        for name in COUNTERS:
            if deltas[row][name] != wanted[name]:
                problems.append(
                    f"{row}: {name} went up by {deltas[row][name]} over {sends[row]} sends, "
                    f"expected {wanted[name]}"
                )
    return problems


def sender_cpu(
    serializer: BacklevelSerializer,
    instance: Instance,
    manifest: Mapping[str, str],
    quick: bool,
) -> dict[str, float]:
    """Microseconds of sender CPU per object, no RPC: the baseline's primitive, the
    Instance as it is, the Instance backlevelled by the serializer, and the backport
    alone (``obj_to_primitive`` at the release's versions), which shows what the
    serializer adds around it."""
    ctx = RequestContext(user_id="bench", project_id="bench")
    at_old_version = instance.obj_to_primitive(
        target_version=manifest["Instance"], version_manifest=manifest
    )

    def backlevelled() -> Any:
        with serializer.backlevel_to(manifest):
            return serializer.serialize_entity(ctx, instance)

    timings = _timing.measure_together(
        {
            "serialize the baseline primitive": lambda: serialize_entity(at_old_version),
            "serialize the Instance as is": lambda: serializer.serialize_entity(ctx, instance),
            "backlevel + serialize the Instance": backlevelled,
            "obj_to_primitive at the old versions": lambda: instance.obj_to_primitive(
                target_version=manifest["Instance"], version_manifest=manifest
            ),
        },
        settings=_timing.Settings.quick() if quick else _timing.Settings(),
    )
    names = ("baseline", "as_is", "backlevelled", "backport_only")
    return {
        name: timing.seconds_per_call * 1e6
        for name, timing in zip(names, timings.values(), strict=True)
    }


def call_row(label: str, note: str, samples: list[float]) -> dict[str, Any]:
    return {
        "label": label,
        "note": note,
        "median_ms": statistics.median(samples) * 1e3,
        "p99_ms": _timing.percentile(samples, 0.99) * 1e3,
        "calls_per_s": len(samples) / sum(samples),
        "samples": len(samples),
    }


def ratio(a: float, b: float) -> float | None:
    return a / b if a and b else None


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What :func:`deploy` started: the run's vhost and transport, the older peer's
    topic and self-description (``ready``), the processes' ids."""

    vhost: str
    transport: Transport
    topic: str
    ready: dict[str, Any]
    pids: dict[str, int]


@contextlib.contextmanager
def deploy(release: str, broker_url: str, ctx: RequestContext) -> Iterator[Deployment]:
    """A throwaway vhost, a conductor process of this tree on a SQLite file, and the
    release's peer process; all stopped and deleted on the way out, even on failure."""
    _broker.check_broker(
        broker_url, script="upgrade_bench", hint="start it with scripts/services.sh, or pass --url"
    )
    with contextlib.ExitStack() as stack:
        progress("creating a throwaway RabbitMQ vhost")
        vhost, url = stack.enter_context(
            _broker.throwaway_vhost(broker_url, script="upgrade_bench")
        )
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="upgrade_bench_")))
        progress(f"materializing release {release}")
        try:
            tree = materialize(release, scratch / f"cumulo-{release}")
        except (KeyError, ReleaseUnavailable) as exc:
            raise BenchError(f"cannot rebuild release {release}: {exc}") from None
        database = f"sqlite:///{scratch / 'conductor.db'}"
        sync(database)
        transport = get_transport(url)
        stack.callback(transport.cleanup)

        progress("starting a conductor process (this tree)")
        conductor_args = ["conductor", "--transport-url", url, "--database-url", database]
        conductor_log = scratch / "conductor.log"
        conductor = stack.enter_context(
            child_process(
                "the conductor",
                [sys.executable, "-c", STOP_WITH_STDIN, *conductor_args, "--log-level", "warning"],
                conductor_log,
                cwd=ROOT,
            )
        )
        wait_for_conductor(conductor, transport, ctx, conductor_log)

        progress(f"starting the release {release} peer process")
        topic = f"upgrade_bench_{uuid.uuid4().hex[:8]}"
        peer_log = scratch / "peer.log"
        peer = stack.enter_context(
            child_process(
                f"the release {release} peer",
                [sys.executable, str(PEER_SCRIPT), url, topic],
                peer_log,
                cwd=scratch,  # outside this repository: the release's cumulo comes first
                env=release_env(tree),
            )
        )
        ready = wait_for_peer(peer, tree, peer_log)
        yield Deployment(
            vhost, transport, topic, ready, {"conductor": conductor.pid, "peer": peer.pid}
        )
        progress("stopping the processes, deleting the vhost")


def run(settings: Settings) -> dict[str, Any]:
    manifest = release_manifest(settings.release)
    instance = sample_instance()
    new_version, old_version = Instance.VERSION, manifest["Instance"]
    if new_version == old_version:
        raise BenchError(
            f"Instance is at {new_version} here and in release {settings.release}: "
            "there is nothing to backport"
        )
    ctx = RequestContext(user_id="bench", project_id="bench")
    serializer = BacklevelSerializer(CumuloObject)
    with deploy(settings.release, settings.url, ctx) as deployment:
        ready = deployment.ready
        if ready["instance_version"] != old_version:
            raise BenchError(
                f"the release {settings.release} peer has Instance {ready['instance_version']}, "
                f"but this tree records {old_version} for that release"
            )
        client = RPCClient(
            deployment.transport,
            Target(deployment.topic, version="1.0"),
            serializer=serializer,
            timeout=30,
        )
        try:
            peer = Peer(deployment.transport, client, serializer, ctx)
            measured = measure_rows(settings, peer, senders(peer, instance, manifest))
        finally:
            client.close()
        progress("sender CPU per object, in process")
        cpu = sender_cpu(serializer, instance, manifest, settings.quick)

    names = {"old": old_version, "new": new_version, "release": settings.release}
    rows = {
        row: call_row(
            LABELS[row].format(**names), NOTES[row].format(**names), measured.samples[row]
        )
        for row in ROWS
    }
    ratios = {
        "sender/baseline": ratio(rows["sender"]["median_ms"], rows["baseline"]["median_ms"]),
        "receiver/baseline": ratio(rows["receiver"]["median_ms"], rows["baseline"]["median_ms"]),
        "receiver/sender": ratio(rows["receiver"]["median_ms"], rows["sender"]["median_ms"]),
        "receiver/sender_p99": ratio(rows["receiver"]["p99_ms"], rows["sender"]["p99_ms"]),
        "backlevelled/as_is_cpu": ratio(cpu["backlevelled"], cpu["as_is"]),
    }
    backlevelled = instance.obj_to_primitive(target_version=old_version, version_manifest=manifest)
    return {
        "meta": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "url": get_transport(settings.url).url,
            "release": settings.release,
            "peer_cumulo": ready["cumulo"],
            "vhost": deployment.vhost,
            "pids": deployment.pids,
            "instance_versions": {"this tree": new_version, settings.release: old_version},
            "manifest_differs_from_peer": sorted(
                name
                for name in set(manifest) | set(ready["manifest"])
                if manifest.get(name) != ready["manifest"].get(name)
            ),
            "payload_bytes": {
                "as_is": len(json.dumps(serialize_entity(instance))),
                "backlevelled": len(json.dumps(backlevelled)),
            },
            "calls": settings.calls,
            "warmup": settings.warmup,
            "rounds": settings.rounds,
            "quick": settings.quick,
        },
        "rows": rows,
        "ratios": ratios,
        "paths": {row: {"sends": measured.sends[row], **measured.deltas[row]} for row in ROWS},
        "path_problems": path_checks(measured.sends, measured.deltas),
        "sender_cpu_us": cpu,
    }


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(result: dict[str, Any]) -> None:
    meta, rows, ratios = result["meta"], result["rows"], result["ratios"]
    versions = meta["instance_versions"]
    new, old = versions["this tree"], versions[meta["release"]]
    print(
        f"Upgrade benchmark: Instance {new} (this tree) to a release {meta['release']} peer "
        f"(Instance {old}) over {meta['url']}"
    )
    print(
        f"{meta['calls']} calls per row in {meta['rounds']} alternating rounds "
        f"(+{meta['warmup']} warm-up); Instance {meta['payload_bytes']['as_is']} B of JSON "
        f"as is, {meta['payload_bytes']['backlevelled']} B at {old}; {meta['cpus']} CPUs, "
        f"Python {meta['python']}" + (" (--quick: smoke figures only)" if meta["quick"] else "")
    )
    print(f"{'':<28}{'median ms':>10}{'p99 ms':>9}{'calls/s':>9}  vs baseline")
    versus = {"sender": "sender/baseline", "receiver": "receiver/baseline"}
    for name, row in rows.items():
        line = f"{row['label']:<28}{row['median_ms']:>10.3f}{row['p99_ms']:>9.3f}"
        line += f"{row['calls_per_s']:>9,.0f}  "
        line += f"{fmt(ratios[versus[name]], '.2f')}x" if name in versus else "(baseline)"
        print(f"{line}  {row['note']}")
    print(
        f"receiver-side / sender-side: {fmt(ratios['receiver/sender'], '.2f')}x median, "
        f"{fmt(ratios['receiver/sender_p99'], '.2f')}x p99"
    )
    print()
    print("paths taken (counter deltas per row, warm-up included):")
    print(
        f"  {'':<10}{'sends':>7}{'sender_backlevels':>19}{'peer object_backports':>23}"
        f"{'conductor backports_served':>28}"
    )
    for name, path in result["paths"].items():
        print(
            f"  {name:<10}{path['sends']:>7}{path['sender_backlevels']:>19}"
            f"{path['peer_object_backports']:>23}{path['conductor_backports_served']:>28}"
        )
    if result["path_problems"]:
        for problem in result["path_problems"]:
            print(f"  PATH CHECK FAILED: {problem}")
    else:
        print("  every row took its own path")
    if meta["manifest_differs_from_peer"]:
        print(
            f"  note: this tree's manifest for release {meta['release']} differs from what the "
            f"peer reports for: {', '.join(meta['manifest_differs_from_peer'])}"
        )
    print()
    cpu = result["sender_cpu_us"]
    old = meta["instance_versions"][meta["release"]]
    print("sender CPU per object, no RPC (µs):")
    print(f"  {'serialize the baseline primitive':<36}{cpu['baseline']:>8.1f}")
    print(f"  {'serialize the Instance as is':<36}{cpu['as_is']:>8.1f}")
    print(
        f"  {'backlevel + serialize the Instance':<36}{cpu['backlevelled']:>8.1f}  "
        f"{fmt(ratios['backlevelled/as_is_cpu'], '.2f')}x as is"
    )
    print(
        f"  {'of which obj_to_primitive at ' + old:<36}{cpu['backport_only']:>8.1f}  "
        "(the backport itself; the rest is the serializer's own work)"
    )


def _exit_on_signal(signum: int, frame: object) -> None:
    raise BenchError(f"stopped by {signal.Signals(signum).name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a few calls: a smoke test")
    parser.add_argument("--url", default=DEFAULT_URL, help="the RabbitMQ URL")
    parser.add_argument("--calls", type=int, default=300, help="measured calls per row")
    parser.add_argument(
        "--warmup", type=int, default=None, help="warm-up calls per row (default: calls/10, >=20)"
    )
    parser.add_argument("--rounds", type=int, default=10, help="alternating blocks per row")
    parser.add_argument(
        "--release", default="0.1", help="the older release (see upgrade/releases.json)"
    )
    args = parser.parse_args(argv)
    # A plain `kill` unwinds like Ctrl-C: processes stopped, vhost deleted.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    if args.calls < 1 or args.rounds < 1 or (args.warmup is not None and args.warmup < 0):
        parser.error("--calls and --rounds must be at least 1, --warmup at least 0")
    result = run(Settings.from_args(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 1 if result["path_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
