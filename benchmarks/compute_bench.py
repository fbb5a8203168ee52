"""Compute control plane at scale, in one process: many fake hosts boot many
instances through the conductor, then live-migrate some of them.

    python -m benchmarks.compute_bench [--quick] [--json] [--hosts N] [--instances N]
                                       [--migrations N] [--batch N]

The deployment is the embedded one: an ``inproc://`` bus, a SQLite file in a
temporary directory, a conductor serving the compute tasks, and ``--hosts`` compute
hosts (a ``ComputeManager`` and a ``FakeDriver`` each, on one fake hypervisor
network with shared instance storage). Instances are booted through
``ComputeTaskAPI.build_instances`` (``--batch`` per request; the conductor places
them and casts each build to its host) until every one is ACTIVE; then
``--migrations`` of them are live-migrated one after another, each to the host
placement picks.

Figures: instances/s (from the first request until the last instance is ACTIVE),
migrations/s, and per boot:

- the RPC messages sent (calls and casts, by topic), counted by a wrapper around
  the RPC client's ``call``/``cast`` (the same events as ``rpc.calls``/``rpc.casts``
  of ``cumulo.rpc.METRICS``, which are reported too);
- the remotable object methods called (``instance.save()``, ``Get_by_uuid``...),
  by who called them (the compute hosts, the conductor), counted by a wrapper
  around each remotable method; nested calls (one remotable method calling another)
  count once, as they would run inside one conductor request.

In this embedded mode there is no object indirection: remotable methods run
against the database directly. In a multi-process deployment each remotable call
made by a compute host is one round trip to the conductor, so
``conductor_round_trips`` per boot = RPC messages to the conductor topic + remotable
calls made by compute hosts.

Progress goes to stderr; ``--json`` prints the same figures as one JSON object;
``--quick`` is a smoke test (10 hosts, 50 instances, 5 migrations).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cumulo.deploy import CloudOptions, EmbeddedCloud
from cumulo.model import Flavor, Instance, InstanceList, MigrationStatus, VmState
from cumulo.model.base import CumuloObject
from cumulo.objects import REGISTRY
from cumulo.rpc import METRICS, RequestContext
from cumulo.rpc.client import CallContext
from cumulo.virt.fake import FakeConfig, FakeDriver, FakeHypervisorNetwork

FULL = {"hosts": 100, "instances": 2000, "migrations": 200}
QUICK = {"hosts": 10, "instances": 50, "migrations": 5}

COUNTED = (
    "rpc: calls and casts sent by any RPC client in the process (CallContext.call/cast), "
    "by target topic; object_calls: top-level remotable object method calls, by the "
    "package that called them (compute hosts, the conductor); conductor_round_trips: "
    "RPC messages to the conductor topic + remotable calls by compute hosts (each one "
    "an object_action round trip to the conductor when compute hosts use object "
    "indirection; this embedded run has none)"
)


def progress(message: str) -> None:
    print(f"compute_bench: {message}", file=sys.stderr, flush=True)


def ctx() -> RequestContext:
    return RequestContext(user_id="bench", project_id="bench", roles=["member"])


# --- counting ---------------------------------------------------------------------------


class Counts:
    """What the wrappers saw; :meth:`window` gives the counts of a phase."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rpc: Counter[str] = Counter()  # "call:<topic>" / "cast:<topic>"
        self.objects: Counter[str] = Counter()  # side
        self.local = threading.local()

    def snapshot(self) -> tuple[Counter[str], Counter[str], dict[str, int]]:
        with self.lock:
            return Counter(self.rpc), Counter(self.objects), METRICS.snapshot()

    @contextmanager
    def window(self) -> Iterator[dict[str, Any]]:
        found: dict[str, Any] = {}
        rpc0, obj0, metrics0 = self.snapshot()
        yield found
        rpc1, obj1, metrics1 = self.snapshot()
        found["rpc"] = dict(sorted((rpc1 - rpc0).items()))
        found["objects"] = dict(sorted((obj1 - obj0).items()))
        found["metrics"] = {
            name: metrics1.get(name, 0) - metrics0.get(name, 0)
            for name in ("rpc.calls", "rpc.casts")
        }


COUNTS = Counts()


def _caller_side(frame: Any) -> str:
    """Who called a remotable method: the first frame outside the object layers."""
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith(("cumulo.objects", "cumulo.model", "contextlib")):
            if module.startswith("cumulo.compute"):
                return "compute"
            if module.startswith("cumulo.conductor"):
                return "conductor"
            if module == __name__:
                return "benchmark"  # its own reads (waiting for the boots)
            return module
        frame = frame.f_back
    return "other"


def _counting_remotable(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        local = COUNTS.local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            side = _caller_side(sys._getframe(1))
            with COUNTS.lock:
                COUNTS.objects[side] += 1
        local.depth = depth + 1
        try:
            return fn(*args, **kwargs)
        finally:
            local.depth = depth

    return wrapper


def install_counters() -> None:
    """Wrap every remotable method of the registered objects, and the RPC client's
    call and cast (process-wide; the benchmark is a process of its own)."""
    seen: set[tuple[type, str]] = set()
    for cls in REGISTRY.classes(CumuloObject.OBJ_PROJECT_NAMESPACE):
        for klass in cls.__mro__:
            for name, value in list(vars(klass).items()):
                if (klass, name) in seen:
                    continue
                func = value.__func__ if isinstance(value, classmethod) else value
                original = getattr(func, "_obj_remotable_original", None)
                if original is None:
                    continue
                seen.add((klass, name))
                wrapped = _counting_remotable(func)
                wrapped._obj_remotable_original = original  # type: ignore[attr-defined]
                setattr(
                    klass, name, classmethod(wrapped) if isinstance(value, classmethod) else wrapped
                )

    call, cast = CallContext.call, CallContext.cast

    def counting_call(self: CallContext, ctx: Any, method: str, /, **kwargs: Any) -> Any:
        with COUNTS.lock:
            COUNTS.rpc[f"call:{self.target.topic}"] += 1
        return call(self, ctx, method, **kwargs)

    def counting_cast(self: CallContext, ctx: Any, method: str, /, **kwargs: Any) -> None:
        with COUNTS.lock:
            COUNTS.rpc[f"cast:{self.target.topic}"] += 1
        cast(self, ctx, method, **kwargs)

    CallContext.call = counting_call  # type: ignore[method-assign]
    CallContext.cast = counting_cast  # type: ignore[method-assign]


# --- the deployment ---------------------------------------------------------------------


def deployment(root: Path, hosts: int) -> EmbeddedCloud:
    """The embedded cloud of the module docstring, not yet started."""
    net = FakeHypervisorNetwork()

    def driver(host: str) -> FakeDriver:
        return FakeDriver(host, FakeConfig(storage_pool="shared"), network=net)

    return EmbeddedCloud(
        CloudOptions.under(
            root,
            transport_url=f"inproc://compute-bench-{uuid.uuid4().hex}",
            hosts=[f"host-{i:03d}" for i in range(hosts)],
            driver_factory=driver,
            conductor_host="conductor",
            task_timeout=120.0,
            user_id="bench",
            project_id="bench",
        )
    )


def _settled(expected: int) -> tuple[int, int]:
    active = InstanceList.get_all(ctx(), vm_states=[VmState.ACTIVE])
    failed = InstanceList.get_all(ctx(), vm_states=[VmState.ERROR])
    return len(active.objects), len(failed.objects)


def boot(d: EmbeddedCloud, flavor: Flavor, count: int, batch: int) -> float:
    start = time.perf_counter()
    sent = 0
    while sent < count:
        size = min(batch, count - sent)
        templates = [
            Instance(
                uuid=uuid.uuid4(),
                user_id="bench",
                project_id="bench",
                display_name=f"vm-{sent + i}",
                image_ref="8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2",
                flavor=flavor,
            )
            for i in range(size)
        ]
        d.tasks.build_instances(ctx(), templates)
        sent += size
    progress(f"boot: {sent} requested in {time.perf_counter() - start:.2f} s, waiting")
    last = -1
    while True:
        active, failed = _settled(count)
        if failed:
            raise SystemExit(f"compute_bench: {failed} instances went to ERROR")
        if active >= count:
            break
        if active != last and active // max(1, count // 10) != last // max(1, count // 10):
            progress(f"boot: {active}/{count} active")
        last = active
        time.sleep(0.1)
    return time.perf_counter() - start


def migrate(d: EmbeddedCloud, uuids: list[uuid.UUID]) -> float:
    start = time.perf_counter()
    step = max(1, len(uuids) // 10)
    for done, instance_uuid in enumerate(uuids, 1):
        migration = d.tasks.live_migrate_instance(ctx(), instance_uuid)
        if migration.status is not MigrationStatus.COMPLETED:
            raise SystemExit(f"compute_bench: migration of {instance_uuid}: {migration.status}")
        if done % step == 0:
            progress(f"live migration: {done}/{len(uuids)}")
    return time.perf_counter() - start


def per_boot(window: dict[str, Any], boots: int) -> dict[str, Any]:
    def each(value: int) -> float:
        return round(value / boots, 2)

    rpc = window["rpc"]
    objects = window["objects"]
    to_conductor = sum(n for key, n in rpc.items() if key.endswith(":conductor"))
    return {
        "rpc_calls": each(sum(n for key, n in rpc.items() if key.startswith("call:"))),
        "rpc_casts": each(sum(n for key, n in rpc.items() if key.startswith("cast:"))),
        "rpc_by_topic": {key: each(n) for key, n in rpc.items()},
        "rpc_metrics": {key: each(n) for key, n in window["metrics"].items()},
        "object_calls": {side: each(n) for side, n in objects.items()},
        "conductor_round_trips": each(to_conductor + objects.get("compute", 0)),
    }


def run(hosts: int, instances: int, migrations: int, batch: int) -> dict[str, Any]:
    install_counters()
    with tempfile.TemporaryDirectory(prefix="cumulo-compute-bench-") as tmp:
        progress(f"starting the conductor and {hosts} hosts")
        started = time.perf_counter()
        d = deployment(Path(tmp), hosts).start()
        progress(f"deployment up in {time.perf_counter() - started:.2f} s")
        try:
            flavor = Flavor(flavorid="bench", name="bench", memory_mb=512, vcpus=1, root_gb=1)
            flavor.obj_set_context(ctx())
            flavor.create()
            with COUNTS.window() as boot_window:
                boot_s = boot(d, flavor, instances, batch)
            progress(f"boot: {instances} in {boot_s:.2f} s")
            all_active = InstanceList.get_all(ctx(), vm_states=[VmState.ACTIVE]).objects
            chosen = [i.uuid for i in all_active[:: max(1, len(all_active) // migrations)]]
            chosen = chosen[:migrations]
            with COUNTS.window() as migration_window:
                migrate_s = migrate(d, chosen)
            progress(f"live migration: {len(chosen)} in {migrate_s:.2f} s")
        finally:
            d.stop()
    return {
        "hosts": hosts,
        "instances": instances,
        "migrations": len(chosen),
        "boot": {"seconds": round(boot_s, 3), "instances_per_s": round(instances / boot_s, 1)},
        "live_migration": {
            "seconds": round(migrate_s, 3),
            "migrations_per_s": round(len(chosen) / migrate_s, 2) if chosen else 0.0,
        },
        "per_boot": per_boot(boot_window, instances),
        "per_migration": per_boot(migration_window, max(1, len(chosen))),
        "counted": COUNTED,
    }


def print_table(report: dict[str, Any]) -> None:
    boot, mig, pb = report["boot"], report["live_migration"], report["per_boot"]
    print(
        f"{report['hosts']} fake hosts, {report['instances']} instances, "
        f"{report['migrations']} live migrations (inproc://, SQLite)"
    )
    print(f"  boot            {boot['instances_per_s']:>10.1f} instances/s  ({boot['seconds']} s)")
    print(f"  live migration  {mig['migrations_per_s']:>10.2f} migrations/s ({mig['seconds']} s)")
    print(f"  conductor round trips per boot: {pb['conductor_round_trips']}")
    print(f"  per boot: {pb['rpc_calls']} RPC calls, {pb['rpc_casts']} RPC casts")
    for key, value in pb["rpc_by_topic"].items():
        print(f"    {key:<24} {value}")
    for side, value in pb["object_calls"].items():
        print(f"    remotable calls by {side:<12} {value}")
    pm = report["per_migration"]
    print(
        f"  per migration: {pm['rpc_calls']} RPC calls, {pm['rpc_casts']} casts, "
        f"{pm['conductor_round_trips']} conductor round trips"
    )
    print(f"  counted: {report['counted']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a smoke test (10/50/5)")
    parser.add_argument("--hosts", type=int, help=f"fake hosts (default {FULL['hosts']})")
    parser.add_argument("--instances", type=int, help=f"default {FULL['instances']}")
    parser.add_argument("--migrations", type=int, help=f"default {FULL['migrations']}")
    parser.add_argument("--batch", type=int, default=20, help="instances per build request")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for name in sizes:
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    if (
        sizes["hosts"] < 2
        or sizes["instances"] < 1
        or not 0 <= sizes["migrations"] <= sizes["instances"]
    ):
        parser.error("need >= 2 hosts, >= 1 instance and 0 <= migrations <= instances")
    report = run(sizes["hosts"], sizes["instances"], sizes["migrations"], max(1, args.batch))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
