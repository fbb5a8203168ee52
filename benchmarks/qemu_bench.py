"""QEMU driver benchmark: spawn, volume attach/detach, live migration and its downtime,
for a 256 MiB guest (the probe boot sector, no guest OS), under TCG and under KVM
when this host can use it.

Baseline, measured in the same run: a bare QEMU process with the same command line
started and answering QMP, without the driver (disks, config drive, taps). The
table prints ``spawn/raw_start``. Progress goes to stderr; ``--json`` prints one
JSON object on stdout; ``--quick`` runs one round with a 64 MiB guest (smoke tests).

    .venv/bin/python -m benchmarks.qemu_bench [--quick] [--json] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from cumulo.model import Flavor, ImageMeta, Instance, Migration
from cumulo.virt.qemu import Accel, FirewallMode, NetworkMode, QemuConfig, QemuDriver, kvm_usable
from cumulo.virt.qemu.images import write_probe_guest_image
from cumulo.virt.qemu.monitor import Monitor
from cumulo.virt.qemu.process import GuestSpec, find_qemu, launch, terminate
from cumulo.volume import VolumeStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.virt.builders import Ctx, live_migrate, make_bdi, make_network_info, make_volume_bdm


def progress(message: str) -> None:
    print(f"qemu_bench: {message}", file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def one_round(
    root: Path, accel: str, memory_mb: int, image_ref: str, images: Path
) -> dict[str, float]:
    tag = uuid.uuid4().hex[:6]
    hosts = [
        QemuDriver(
            f"bench-{side}-{tag}",
            QemuConfig(
                instances_path=root / f"{side}-{tag}",
                images_path=images,
                accel=Accel(accel),
                network_mode=NetworkMode.USER,
                firewall=FirewallMode.RENDER,
                vcpus=8,
                memory_mb=16384,
                disk_gb=100,
            ),
        )
        for side in ("a", "b")
    ]
    src, dst = hosts
    store = VolumeStore(root / f"volumes-{tag}")
    try:
        for host in hosts:
            host.init_host(host.host)
        flavor = Flavor(flavorid="bench", name="bench", vcpus=1, memory_mb=memory_mb, root_gb=1)
        instance = Instance(
            uuid=uuid.uuid4(),
            user_id="bench",
            project_id="bench",
            image_ref=image_ref,
            flavor=flavor,
        )
        network_info = make_network_info()
        ctx = Ctx()

        # Baseline: the same command line, no driver work around it.
        raw_dir = root / f"raw-{tag}"
        raw_dir.mkdir()
        spec = GuestSpec(
            name="raw",
            uuid=str(uuid.uuid4()),
            accel=src.accel,
            cpu_model="qemu64",
            vcpus=1,
            memory_mb=memory_mb,
            qmp_path=Path(tempfile.gettempdir()) / f"cumulo-raw-{tag}.qmp",
            console_path=raw_dir / "console.log",
            log_path=raw_dir / "qemu.log",
            root_disk=None,
            config_drive=None,
        )
        started = time.perf_counter()
        proc = launch(find_qemu(), spec)
        with Monitor(spec.qmp_path).session(connect_timeout=30) as qmp:
            qmp.cmd("query-status")
        raw_start = time.perf_counter() - started
        terminate(proc)
        spec.qmp_path.unlink(missing_ok=True)

        started = time.perf_counter()
        src.spawn(ctx, instance, ImageMeta(), [], None, network_info)
        spawn = time.perf_counter() - started
        time.sleep(0.5)

        volume = store.create(1, "bench")
        info = store.connection_info(volume, src.get_volume_connector(instance))
        started = time.perf_counter()
        src.attach_volume(ctx, info, instance, "/dev/sdb")
        attach = time.perf_counter() - started
        started = time.perf_counter()
        src.detach_volume(ctx, info, instance, "/dev/sdb")
        detach = time.perf_counter() - started

        bdm = make_volume_bdm(instance, "/dev/sdb", connection_info=info)
        src.attach_volume(ctx, info, instance, "/dev/sdb")
        migration = Migration(uuid=uuid.uuid4(), instance_uuid=instance.uuid)
        original = dst.pre_live_migration

        def pre(c: Any, inst: Instance, bdi: Any, ni: Any, data: Any) -> Any:
            result = original(c, inst, bdi, ni, data)
            result.migration = migration
            return result

        dst.pre_live_migration = pre  # type: ignore[method-assign]
        started = time.perf_counter()
        run = live_migrate(
            src,
            dst,
            instance,
            network_info,
            src_bdi=make_bdi(bdm),
            dst_bdi=make_bdi(bdm.obj_clone()),
        )
        migrate = time.perf_counter() - started
        if run.calls != ["post"]:
            raise RuntimeError(f"live migration failed: {run.errors}")
        stats = src.last_migration_stats or {}
        return {
            "raw_start_ms": ms(raw_start),
            "spawn_ms": ms(spawn),
            "attach_ms": ms(attach),
            "detach_ms": ms(detach),
            "live_migration_ms": ms(migrate),
            "qemu_migration_ms": float(stats.get("total-time", 0)),
            "downtime_ms": float(stats.get("downtime", 0)),
            "ram_transferred_mb": round(int(stats.get("ram", {}).get("transferred", 0)) / 2**20, 2),
        }
    finally:
        for host in hosts:
            host.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="one round, 64 MiB guest")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    memory_mb = 64 if args.quick else 256
    rounds = 1 if args.quick else args.rounds
    accels = ["tcg"] + (["kvm"] if kvm_usable() else [])
    root = Path(tempfile.mkdtemp(prefix="qemu-bench-"))
    try:
        images = root / "images"
        ref = str(uuid.uuid4())
        write_probe_guest_image(images / ref)
        results: dict[str, dict[str, float]] = {}
        for accel in accels:
            samples = []
            for index in range(rounds):
                progress(f"{accel}: round {index + 1}/{rounds} ({memory_mb} MiB guest)")
                samples.append(one_round(root, accel, memory_mb, ref, images))
            results[accel] = {
                key: round(statistics.median(s[key] for s in samples), 2) for key in samples[0]
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ratios = {
        f"{accel}:spawn/raw_start": round(r["spawn_ms"] / r["raw_start_ms"], 2)
        if r["raw_start_ms"]
        else None
        for accel, r in results.items()
    }
    report = {
        "meta": {
            "memory_mb": memory_mb,
            "rounds": rounds,
            "accels": accels,
            "baseline": "raw_start",
        },
        "rows": results,
        "ratios": ratios,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    keys = list(next(iter(results.values())))
    print(f"QEMU driver, {memory_mb} MiB guest, median of {rounds} round(s)")
    print(f"{'figure':<22}" + "".join(f"{a:>12}" for a in accels))
    for key in keys:
        print(f"{key:<22}" + "".join(f"{results[a][key]:>12}" for a in accels))
    for name, value in ratios.items():
        print(f"{name:<22}{value:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
