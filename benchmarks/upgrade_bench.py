"""Rolling upgrade: the cost of sending an Instance to each older release's peer,
backlevelled by the sender versus backported through the conductor by the receiver,
in one run.

    python -m benchmarks.upgrade_bench [--calls N] [--warmup N] [--rounds N] [--quick]
                                       [--json] [--url amqp://...] [--release 0.2 ...]

Each older peer is a real previous release: ``benchmarks/old_peer_child.py`` runs in a
child process per release on that release's own ``cumulo`` (rebuilt from its recorded
commit by ``upgrade.releases.materialize``), with that release's ``ObjectSerializer``
and its ``ConductorAPI`` as the indirection. By default there is one peer per release
``upgrade/releases.json`` records below this tree's service level (0.1 and 0.2 while
0.3 is developed); ``--release``, repeatable, chooses. One conductor of this tree runs
as a ``cumulo conductor`` process (SQLite file in a temporary directory) for all of
them; everything speaks over RabbitMQ in a throwaway virtual host (release 0.1's
conductor topic is fixed), deleted at the end with the processes, even on failure.

Three rows per peer, ``--calls`` sequential calls each:

- ``baseline``: an Instance primitive already at the peer's version (made once), so
  nobody converts anything: the wire and the old peer's load;
- ``sender``: this tree's Instance backlevelled by the sender
  (``BacklevelSerializer.backlevel_to(<release manifest>)``, the manifest this tree's
  ``SERVICE_VERSION_HISTORY`` records for the release) before each send;
- ``receiver``: the same Instance sent as it is; the old peer cannot load it and asks
  the conductor to backport it (``object_backport_versions``, one more round trip).

Every row of every peer is measured in one block per round, the order rotating each
round, so a noisy neighbour weighs on all of them alike. Ratios are against the
peer's own ``baseline``, plus receiver/sender; a last table compares the peers.

Counter deltas around each block (blocks run one at a time) prove which path it took
and for which peer: ``rpc.sender_backlevels`` (and ``.level_N``, the peer's level)
here, ``rpc.object_backports`` in the measured peer and in none of the others,
``conductor.backports_served`` and ``conductor.backports_served.level_N`` in the
conductor (its ``admin`` endpoint), which counts every peer's backports but files
each under the level whose versions the asking peer named. The run fails (exit 1)
when a row took another path. An in-process table times the sender's CPU work per
object and peer manifest, without RPC. Progress goes to stderr.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import IO, Any

from benchmarks import _broker, _timing
from cumulo.compute.version import SERVICE_VERSION, SERVICE_VERSION_HISTORY
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
from upgrade import releases
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
COUNTERS = (
    "sender_backlevels",
    "sender_backlevels_at_peer_level",
    "peer_object_backports",
    "other_peers_object_backports",
    "conductor_backports_served",
    "conductor_backports_served_at_peer_level",
)
"""What each block's counter deltas are summed into (see :func:`path_deltas`)."""


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchError(SystemExit):
    """The run cannot go on; the message says why (exit status 1 with it on stderr)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"upgrade_bench: {message}")


@dataclass(frozen=True)
class OldRelease:
    """A release a peer runs: its name, the service level it introduced, and the object
    manifest this tree records for that level (what the sender backlevels to)."""

    name: str
    level: int
    manifest: Mapping[str, str]

    @property
    def instance_version(self) -> str:
        return self.manifest["Instance"]

    @property
    def label(self) -> str:
        """The per-level suffix of the counters (``level_N``), as the services use it."""
        return f"level_{self.level}"


def older_releases(requested: Sequence[str] | None) -> tuple[OldRelease, ...]:
    """The releases to run a peer on, newest first: ``requested``, or by default every
    release ``upgrade/releases.json`` records below this tree's service level.

    Raises:
        ValueError: a release named twice, one ``releases.json`` does not record, one
            not older than this tree, or one whose level this tree's history gives to
            another release.
    """
    recorded = releases.names()
    if requested is None:
        names = [n for n in recorded if releases.release(n).service_version < SERVICE_VERSION]
        if not names:
            raise ValueError(
                f"{releases.RELEASES} records no release below this tree's service level "
                f"{SERVICE_VERSION}: there is no older peer to run"
            )
    else:
        names = list(requested)
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"--release {', '.join(twice)} given more than once")
    this_release = SERVICE_VERSION_HISTORY[SERVICE_VERSION].release
    chosen = []
    for name in names:
        if name == this_release:
            raise ValueError(
                f"--release {name}: that is this tree's own release (service level "
                f"{SERVICE_VERSION}); name an older one"
            )
        if name not in recorded:
            raise ValueError(
                f"--release {name}: not in {releases.RELEASES} (known: {', '.join(recorded)})"
            )
        level = releases.release(name).service_version
        if level >= SERVICE_VERSION:
            raise ValueError(
                f"--release {name}: its service level {level} is not older than this "
                f"tree's ({SERVICE_VERSION})"
            )
        entry = SERVICE_VERSION_HISTORY[level]
        if entry.release != name:
            raise ValueError(
                f"--release {name}: releases.json puts it at service level {level}, which "
                f"this tree's SERVICE_VERSION_HISTORY gives to release {entry.release}"
            )
        if entry.object_manifest.get("Instance") == Instance.VERSION:
            raise ValueError(
                f"--release {name}: Instance is at {Instance.VERSION} here and there: "
                "there is nothing to backport"
            )
        chosen.append(OldRelease(name, level, entry.object_manifest))
    return tuple(sorted(chosen, key=lambda peer: peer.level, reverse=True))


@dataclass(frozen=True)
class Settings:
    calls: int
    warmup: int
    rounds: int
    url: str
    peers: tuple[OldRelease, ...]
    quick: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace, peers: tuple[OldRelease, ...]) -> Settings:
        if args.quick:
            return cls(20, 5, 2, args.url, peers, True)
        warmup = args.warmup if args.warmup is not None else max(args.calls // 10, 20)
        rounds = max(1, min(args.rounds, args.calls))
        return cls(args.calls, warmup, rounds, args.url, peers, False)


# --- the sample object ------------------------------------------------------------------------


def sample_instance() -> Instance:
    """An Instance as a compute host gets it: a flavor inside, metadata, tags, and the
    fields each newer version added set (1.1's and 1.2's: what a backport drops)."""
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
        access_ip_v4=IPv4Address("203.0.113.17"),
        access_ip_v6=IPv6Address("2001:db8::17"),
        reservation_id="r-3f9a1c2e",
        launch_index=1,
        created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        flavor=flavor,
        tags=["web", "prod"],
    )


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


def wait_for_peer(
    proc: subprocess.Popen[str], release: str, tree: Path, log: Path
) -> dict[str, Any]:
    line = read_line(proc, STARTUP_TIMEOUT)
    if line is None:
        proc.poll()
        raise BenchError(
            f"the release {release} peer did not start (status {proc.returncode}):\n"
            f"  {log_tail(log)}"
        )
    ready: dict[str, Any] = json.loads(line)
    loaded_from = Path(ready["cumulo"]).resolve()
    if not loaded_from.is_relative_to(tree.resolve()):
        raise BenchError(
            f"the release {release} peer imported cumulo from {loaded_from}, not from the "
            f"release tree {tree}: it would not be the older code"
        )
    return ready


@dataclass(frozen=True)
class PeerProcess:
    """One older release's peer process: the topic it serves, its self-description
    (``ready``: where its ``cumulo`` came from, its Instance version and manifest)."""

    topic: str
    ready: dict[str, Any]
    pid: int


@dataclass(frozen=True)
class Deployment:
    """What :func:`deploy` started: the run's vhost and transport, the conductor's
    process id and each release's peer (by release)."""

    vhost: str
    transport: Transport
    conductor_pid: int
    peers: dict[str, PeerProcess]

    @property
    def pids(self) -> dict[str, int]:
        """Every process started: ``conductor`` and ``peer <release>``."""
        return {
            "conductor": self.conductor_pid,
            **{f"peer {release}": peer.pid for release, peer in self.peers.items()},
        }


@contextlib.contextmanager
def deploy(
    peers: Sequence[OldRelease], broker_url: str, ctx: RequestContext
) -> Iterator[Deployment]:
    """A throwaway vhost, a conductor process of this tree on a SQLite file, and one
    peer process per release on its own code; all stopped and deleted on the way out,
    even on failure."""
    _broker.check_broker(
        broker_url, script="upgrade_bench", hint="start it with scripts/services.sh, or pass --url"
    )
    with contextlib.ExitStack() as stack:
        progress("creating a throwaway RabbitMQ vhost")
        vhost, url = stack.enter_context(
            _broker.throwaway_vhost(broker_url, script="upgrade_bench")
        )
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="upgrade_bench_")))
        trees = {}
        for peer in peers:
            progress(f"materializing release {peer.name}")
            try:
                trees[peer.name] = materialize(peer.name, scratch / f"cumulo-{peer.name}")
            except (KeyError, ReleaseUnavailable) as exc:
                raise BenchError(f"cannot rebuild release {peer.name}: {exc}") from None
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

        # Start every peer, then wait for each: they import their code side by side.
        started = {}
        for peer in peers:
            progress(f"starting the release {peer.name} peer process")
            topic = f"upgrade_bench_{peer.name.replace('.', '_')}_{uuid.uuid4().hex[:8]}"
            log = scratch / f"peer-{peer.name}.log"
            proc = stack.enter_context(
                child_process(
                    f"the release {peer.name} peer",
                    [sys.executable, str(PEER_SCRIPT), url, topic],
                    log,
                    cwd=scratch,  # outside this repository: the release's cumulo comes first
                    env=release_env(trees[peer.name]),
                )
            )
            started[peer.name] = (proc, topic, log)
        ready = {
            name: PeerProcess(topic, wait_for_peer(proc, name, trees[name], log), proc.pid)
            for name, (proc, topic, log) in started.items()
        }
        yield Deployment(vhost, transport, conductor.pid, ready)
        progress("stopping the processes, deleting the vhost")


# --- measurement ------------------------------------------------------------------------------


def blocks(calls: int, rounds: int) -> list[int]:
    """``calls`` split into ``rounds`` blocks as even as can be."""
    return [calls // rounds + (1 if i < calls % rounds else 0) for i in range(rounds)]


Block = tuple[str, str]
"""A peer's row: ``(release, row)``."""


def round_order(keys: Sequence[Block], round_: int) -> list[Block]:
    """The blocks of round ``round_``: every key once, the order rotated by one each
    round so that no row of any peer always goes first or last."""
    shift = round_ % len(keys)
    return [*keys[shift:], *keys[:shift]]


@dataclass(frozen=True)
class Snapshot:
    """Every process's counters at one moment: this one's, each peer's (by release),
    the conductor's."""

    here: dict[str, int]
    peers: dict[str, dict[str, int]]
    conductor: dict[str, int]


@dataclass
class Clients:
    """The clients of one run: one per older peer (with the backlevelling serializer)
    and, through the transport, the conductor's counters."""

    transport: Transport
    serializer: BacklevelSerializer
    ctx: RequestContext
    peers: dict[str, RPCClient]

    def snapshot(self) -> Snapshot:
        return Snapshot(
            here=METRICS.snapshot(),
            peers={
                release: client.call(self.ctx, "metrics") for release, client in self.peers.items()
            },
            conductor=get_metrics(self.transport, self.ctx, "conductor"),
        )

    def close(self) -> None:
        for client in self.peers.values():
            client.close()


def path_deltas(before: Snapshot, after: Snapshot, peer: OldRelease) -> dict[str, int]:
    """What one block sending to ``peer`` added to each of :data:`COUNTERS`: this
    process's backlevels (all, and those labelled with the peer's level), the measured
    peer's backports and every other peer's, the conductor's backports served (all,
    and those it filed under the peer's level)."""

    def moved(now: Mapping[str, int], then: Mapping[str, int], name: str) -> int:
        return now.get(name, 0) - then.get(name, 0)

    others = [release for release in after.peers if release != peer.name]
    return {
        "sender_backlevels": moved(after.here, before.here, "rpc.sender_backlevels"),
        "sender_backlevels_at_peer_level": moved(
            after.here, before.here, f"rpc.sender_backlevels.{peer.label}"
        ),
        "peer_object_backports": moved(
            after.peers[peer.name], before.peers[peer.name], "rpc.object_backports"
        ),
        "other_peers_object_backports": sum(
            moved(after.peers[other], before.peers[other], "rpc.object_backports")
            for other in others
        ),
        "conductor_backports_served": moved(
            after.conductor, before.conductor, "conductor.backports_served"
        ),
        "conductor_backports_served_at_peer_level": moved(
            after.conductor, before.conductor, f"conductor.backports_served.{peer.label}"
        ),
    }


def senders(
    clients: Clients, peer: OldRelease, instance: Instance
) -> dict[str, Callable[[], object]]:
    """One send per row to ``peer``; each checks that the peer loaded an Instance at
    its release's version."""
    manifest, label = peer.manifest, peer.label
    expected = {"uuid": str(instance.uuid), "object": "Instance", "version": peer.instance_version}
    at_old_version = instance.obj_to_primitive(
        target_version=peer.instance_version, version_manifest=manifest
    )
    client, ctx, serializer = clients.peers[peer.name], clients.ctx, clients.serializer

    def check(reply: Any) -> None:
        if reply != expected:
            raise BenchError(f"the release {peer.name} peer loaded {reply}, expected {expected}")

    def baseline() -> None:
        check(client.call(ctx, "receive", instance=at_old_version))

    def sender() -> None:
        # Labelled like the compute API labels a pinned peer, so the per-level counter
        # (and its cost) is what a real sender has.
        with serializer.backlevel_to(manifest, label=label):
            check(client.call(ctx, "receive", instance=instance))

    def receiver() -> None:
        check(client.call(ctx, "receive", instance=instance))

    return {"baseline": baseline, "sender": sender, "receiver": receiver}


@dataclass
class Measured:
    """Per peer's row: the measured call times (s), the sends (warm-up included) and
    what they added to each counter."""

    samples: dict[Block, list[float]]
    sends: dict[Block, int]
    deltas: dict[Block, dict[str, int]]


def measure_rows(
    settings: Settings,
    clients: Clients,
    fns: dict[Block, Callable[[], object]],
) -> Measured:
    """Warm-up blocks, then ``rounds`` rounds of one block per peer's row (the order
    rotating each round); every process's counters are read around each block, outside
    the timed calls, and one block runs at a time, so each delta is that block's."""
    peers = {peer.name: peer for peer in settings.peers}
    keys = [(peer.name, row) for row in ROWS for peer in settings.peers]
    samples: dict[Block, list[float]] = {key: [] for key in keys}
    sends = dict.fromkeys(keys, 0)
    deltas = {key: dict.fromkeys(COUNTERS, 0) for key in keys}

    def block(key: Block, count: int, keep: bool) -> None:
        before = clients.snapshot()
        timed = _timing.timed_calls(fns[key], count)
        after = clients.snapshot()
        if keep:
            samples[key] += timed
        sends[key] += count
        for name, moved in path_deltas(before, after, peers[key[0]]).items():
            deltas[key][name] += moved

    progress(f"warm-up: {settings.warmup} calls per row and peer")
    for key in keys:
        block(key, settings.warmup, keep=False)
    sizes = blocks(settings.calls, settings.rounds)
    for round_, size in enumerate(sizes):
        for key in round_order(keys, round_):
            block(key, size, keep=True)
        progress(
            f"  round {round_ + 1}/{len(sizes)}: {size} calls per row, "
            f"{len(keys)} blocks ({len(peers)} peers)"
        )
    return Measured(samples, sends, deltas)


def expected_counters(row: str, sends: int) -> dict[str, int]:
    """What ``sends`` of ``row`` must add to each counter: the sender path backlevels
    here (labelled with the peer's level); the receiver path has the measured peer ask,
    and the conductor serve under that peer's level, a backport; no other peer asks."""
    counts = dict.fromkeys(COUNTERS, 0)
    if row == "sender":
        counts["sender_backlevels"] = counts["sender_backlevels_at_peer_level"] = sends
    elif row == "receiver":
        for name in (
            "peer_object_backports",
            "conductor_backports_served",
            "conductor_backports_served_at_peer_level",
        ):
            counts[name] = sends
    return counts


def path_checks(
    peer: OldRelease, sends: Mapping[str, int], deltas: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """What contradicts the path each of ``peer``'s rows must take (empty: every row
    took its own)."""
    problems = []
    for row in ROWS:
        wanted = expected_counters(row, sends[row])
        for name in COUNTERS:
            if deltas[row][name] != wanted[name]:
                counter = name.replace("at_peer_level", peer.label)
                problems.append(
                    f"{row}: {counter} went up by {deltas[row][name]} over {sends[row]} "
                    f"sends, expected {wanted[name]}"
                )
    return problems


CPU_KEYS = ("baseline", "backlevelled", "backport_only")


def sender_cpu(
    serializer: BacklevelSerializer,
    instance: Instance,
    peers: Sequence[OldRelease],
    quick: bool,
) -> dict[str, dict[str, float]]:
    """Microseconds of sender CPU per object and peer, no RPC: the baseline's primitive,
    the Instance as it is (the same for every peer), the Instance backlevelled by the
    serializer, and the backport alone (``obj_to_primitive`` at the release's
    versions), which shows what the serializer adds around it. Measured together, so
    the peers' figures share the machine's mood."""
    ctx = RequestContext(user_id="bench", project_id="bench")

    def per_peer(peer: OldRelease) -> dict[str, Callable[[], object]]:
        manifest, version = peer.manifest, peer.instance_version
        at_old_version = instance.obj_to_primitive(
            target_version=version, version_manifest=manifest
        )

        def backlevelled() -> Any:
            with serializer.backlevel_to(manifest, label=peer.label):
                return serializer.serialize_entity(ctx, instance)

        return {
            f"to {peer.name}: serialize the baseline primitive": lambda: serialize_entity(
                at_old_version
            ),
            f"to {peer.name}: backlevel + serialize": backlevelled,
            f"to {peer.name}: obj_to_primitive at {version}": lambda: instance.obj_to_primitive(
                target_version=version, version_manifest=manifest
            ),
        }

    as_is = "serialize the Instance as is"
    fns: dict[str, Callable[[], object]] = {
        as_is: lambda: serializer.serialize_entity(ctx, instance)
    }
    labels: dict[str, list[str]] = {}
    for peer in peers:
        own = per_peer(peer)
        labels[peer.name] = list(own)
        fns.update(own)
    timings = _timing.measure_together(
        fns, settings=_timing.Settings.quick() if quick else _timing.Settings()
    )

    def us(label: str) -> float:
        return timings[label].seconds_per_call * 1e6

    return {
        peer.name: {
            "as_is": us(as_is),
            **{key: us(label) for key, label in zip(CPU_KEYS, labels[peer.name], strict=True)},
        }
        for peer in peers
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


ratio = _timing.ratio


# --- the run ----------------------------------------------------------------------------------


def peer_report(
    peer: OldRelease,
    process: PeerProcess,
    measured: Measured,
    cpu: dict[str, float],
    instance: Instance,
) -> dict[str, Any]:
    """One peer's part of the report: its rows, their ratios against its own baseline,
    the paths they took, and its sender CPU table."""
    names = {"old": peer.instance_version, "new": Instance.VERSION, "release": peer.name}
    rows = {
        row: call_row(
            LABELS[row].format(**names),
            NOTES[row].format(**names),
            measured.samples[peer.name, row],
        )
        for row in ROWS
    }
    median = {row: rows[row]["median_ms"] for row in ROWS}
    sends = {row: measured.sends[peer.name, row] for row in ROWS}
    deltas = {row: measured.deltas[peer.name, row] for row in ROWS}
    reported = process.ready["manifest"]
    backlevelled = instance.obj_to_primitive(
        target_version=peer.instance_version, version_manifest=peer.manifest
    )
    return {
        "service_level": peer.level,
        "instance_version": process.ready["instance_version"],
        "peer_cumulo": process.ready["cumulo"],
        "manifest_differs_from_peer": sorted(
            name
            for name in set(peer.manifest) | set(reported)
            if peer.manifest.get(name) != reported.get(name)
        ),
        "payload_bytes": {
            "as_is": len(json.dumps(serialize_entity(instance))),
            "backlevelled": len(json.dumps(backlevelled)),
        },
        "rows": rows,
        "ratios": {
            "sender/baseline": ratio(median["sender"], median["baseline"]),
            "receiver/baseline": ratio(median["receiver"], median["baseline"]),
            "receiver/sender": ratio(median["receiver"], median["sender"]),
            "receiver/sender_p99": ratio(rows["receiver"]["p99_ms"], rows["sender"]["p99_ms"]),
            "backlevelled/as_is_cpu": ratio(cpu["backlevelled"], cpu["as_is"]),
        },
        "paths": {row: {"sends": sends[row], **deltas[row]} for row in ROWS},
        "path_problems": path_checks(peer, sends, deltas),
        "sender_cpu_us": cpu,
    }


def comparison(peers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The peers side by side: what the sender and receiver rows add to each peer's own
    baseline (median ms), and each older peer's medians and backlevel CPU over the
    newest peer's (``against``; ``ratios`` is empty with one peer)."""
    newest, *older = peers

    def figures(name: str) -> dict[str, float]:
        peer = peers[name]
        return {
            **{row: peer["rows"][row]["median_ms"] for row in ROWS},
            "backlevelled_cpu": peer["sender_cpu_us"]["backlevelled"],
        }

    reference = figures(newest)
    return {
        "against": newest,
        "extra_ms": {
            name: {
                row: figures(name)[row] - figures(name)["baseline"]
                for row in ("sender", "receiver")
            }
            for name in peers
        },
        "ratios": {
            name: {key: ratio(value, reference[key]) for key, value in figures(name).items()}
            for name in older
        },
    }


def run(settings: Settings) -> dict[str, Any]:
    instance = sample_instance()
    ctx = RequestContext(user_id="bench", project_id="bench")
    serializer = BacklevelSerializer(CumuloObject)
    with deploy(settings.peers, settings.url, ctx) as deployment:
        for peer in settings.peers:
            reported = deployment.peers[peer.name].ready["instance_version"]
            if reported != peer.instance_version:
                raise BenchError(
                    f"the release {peer.name} peer has Instance {reported}, but this tree "
                    f"records {peer.instance_version} for that release"
                )
        clients = Clients(deployment.transport, serializer, ctx, {})
        try:
            for peer in settings.peers:
                clients.peers[peer.name] = RPCClient(
                    deployment.transport,
                    Target(deployment.peers[peer.name].topic, version="1.0"),
                    serializer=serializer,
                    timeout=30,
                )
            fns = {
                (peer.name, row): fn
                for peer in settings.peers
                for row, fn in senders(clients, peer, instance).items()
            }
            measured = measure_rows(settings, clients, fns)
        finally:
            clients.close()
        progress("sender CPU per object and peer manifest, in process")
        cpu = sender_cpu(serializer, instance, settings.peers, settings.quick)

    peers = {
        peer.name: peer_report(
            peer, deployment.peers[peer.name], measured, cpu[peer.name], instance
        )
        for peer in settings.peers
    }
    this_release = SERVICE_VERSION_HISTORY[SERVICE_VERSION].release
    return {
        "meta": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "url": get_transport(settings.url).url,
            "this_release": this_release,
            "service_level": SERVICE_VERSION,
            "releases": [peer.name for peer in settings.peers],
            "instance_versions": {
                "this tree": Instance.VERSION,
                **{peer.name: peer.instance_version for peer in settings.peers},
            },
            "vhost": deployment.vhost,
            "pids": deployment.pids,
            "calls": settings.calls,
            "warmup": settings.warmup,
            "rounds": settings.rounds,
            "quick": settings.quick,
        },
        "peers": peers,
        "comparison": comparison(peers),
        "path_problems": [
            f"peer {name}: {problem}"
            for name, peer in peers.items()
            for problem in peer["path_problems"]
        ],
    }


# --- the table --------------------------------------------------------------------------------


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_peer(name: str, peer: dict[str, Any]) -> None:
    """One peer's table: its rows against its own baseline, the paths, the sender CPU."""
    rows, ratios, old = peer["rows"], peer["ratios"], peer["instance_version"]
    level = f"level_{peer['service_level']}"
    print(
        f"peer on release {name} (service level {peer['service_level']}, Instance {old}; "
        f"{peer['payload_bytes']['backlevelled']} B of JSON at {old}, "
        f"{peer['payload_bytes']['as_is']} B as is)"
    )
    print(f"  {'':<28}{'median ms':>10}{'p99 ms':>9}{'calls/s':>9}  vs baseline")
    versus = {"sender": "sender/baseline", "receiver": "receiver/baseline"}
    for row_name, row in rows.items():
        line = f"  {row['label']:<28}{row['median_ms']:>10.3f}{row['p99_ms']:>9.3f}"
        line += f"{row['calls_per_s']:>9,.0f}  "
        line += f"{fmt(ratios[versus[row_name]], '.2f')}x" if row_name in versus else "(baseline)"
        print(f"{line}  {row['note']}")
    print(
        f"  receiver-side / sender-side: {fmt(ratios['receiver/sender'], '.2f')}x median, "
        f"{fmt(ratios['receiver/sender_p99'], '.2f')}x p99"
    )
    print("  paths taken (counter deltas around this peer's blocks, warm-up included):")
    print(
        f"    {'':<10}{'sends':>6}{'backlevels here':>17}{'peer backports':>16}"
        f"{'other peers':>13}{'conductor served':>18}"
    )
    print(f"    {'':<10}{'':>6}{f'all / {level}':>17}{'':>16}{'':>13}{f'all / {level}':>18}")
    for row_name, path in peer["paths"].items():
        here = f"{path['sender_backlevels']} / {path['sender_backlevels_at_peer_level']}"
        served = (
            f"{path['conductor_backports_served']} / "
            f"{path['conductor_backports_served_at_peer_level']}"
        )
        print(
            f"    {row_name:<10}{path['sends']:>6}{here:>17}{path['peer_object_backports']:>16}"
            f"{path['other_peers_object_backports']:>13}{served:>18}"
        )
    if peer["path_problems"]:
        for problem in peer["path_problems"]:
            print(f"    PATH CHECK FAILED: {problem}")
    else:
        print("    every row took its own path")
    if peer["manifest_differs_from_peer"]:
        print(
            f"    note: this tree's manifest for release {name} differs from what the "
            f"peer reports for: {', '.join(peer['manifest_differs_from_peer'])}"
        )
    cpu = peer["sender_cpu_us"]
    print(f"  sender CPU per object, no RPC (µs), to the {name} manifest:")
    print(f"    {'serialize the baseline primitive':<36}{cpu['baseline']:>8.1f}")
    print(f"    {'serialize the Instance as is':<36}{cpu['as_is']:>8.1f}")
    print(
        f"    {'backlevel + serialize the Instance':<36}{cpu['backlevelled']:>8.1f}  "
        f"{fmt(ratios['backlevelled/as_is_cpu'], '.2f')}x as is"
    )
    print(
        f"    {'of which obj_to_primitive at ' + old:<36}{cpu['backport_only']:>8.1f}  "
        "(the backport itself; the rest is the serializer's own work)"
    )


def print_comparison(result: dict[str, Any]) -> None:
    """The peers side by side, each against its own baseline, then each older peer's
    medians over the newest peer's."""
    peers, compared = result["peers"], result["comparison"]
    print("across peers (each against its own baseline; +ms: the row's median minus it):")
    print(
        f"  {'':<8}{'baseline ms':>12}{'sender +ms':>12}{'receiver +ms':>14}"
        f"{'sender/baseline':>17}{'receiver/sender':>17}{'backlevel CPU µs':>18}"
    )
    for name, peer in peers.items():
        ratios, extra = peer["ratios"], compared["extra_ms"][name]
        print(
            f"  {'to ' + name:<8}{peer['rows']['baseline']['median_ms']:>12.3f}"
            f"{extra['sender']:>+12.3f}{extra['receiver']:>+14.3f}"
            f"{fmt(ratios['sender/baseline'], '.2f') + 'x':>17}"
            f"{fmt(ratios['receiver/sender'], '.2f') + 'x':>17}"
            f"{peer['sender_cpu_us']['backlevelled']:>18.1f}"
        )
    against = compared["against"]
    for name, ratios in compared["ratios"].items():
        print(
            f"  to {name} over to {against}, median: sender-side {fmt(ratios['sender'], '.2f')}x, "
            f"receiver-side {fmt(ratios['receiver'], '.2f')}x, baseline "
            f"{fmt(ratios['baseline'], '.2f')}x; backlevel CPU "
            f"{fmt(ratios['backlevelled_cpu'], '.2f')}x"
        )


def print_table(result: dict[str, Any]) -> None:
    meta = result["meta"]
    versions = meta["instance_versions"]
    to = ", ".join(f"{name} (Instance {versions[name]})" for name in meta["releases"])
    print(
        f"Upgrade benchmark: Instance {versions['this tree']} (this tree, release "
        f"{meta['this_release']}, service level {meta['service_level']}) to peers on {to}, "
        f"one conductor of this tree, over {meta['url']}"
    )
    print(
        f"{meta['calls']} calls per row and peer in {meta['rounds']} alternating rounds "
        f"(+{meta['warmup']} warm-up), every peer's rows interleaved; {meta['cpus']} CPUs, "
        f"Python {meta['python']}" + (" (--quick: smoke figures only)" if meta["quick"] else "")
    )
    for name, peer in result["peers"].items():
        print()
        print_peer(name, peer)
    print()
    print_comparison(result)


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
        "--release",
        action="append",
        default=None,
        help="an older release to run a peer on, repeatable (default: every release in "
        "upgrade/releases.json older than this tree)",
    )
    args = parser.parse_args(argv)
    # A plain `kill` unwinds like Ctrl-C: processes stopped, vhost deleted.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    if args.calls < 1 or args.rounds < 1 or (args.warmup is not None and args.warmup < 0):
        parser.error("--calls and --rounds must be at least 1, --warmup at least 0")
    try:
        peers = older_releases(args.release)
    except ValueError as exc:
        parser.error(str(exc))
    result = run(Settings.from_args(args, peers))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 1 if result["path_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
