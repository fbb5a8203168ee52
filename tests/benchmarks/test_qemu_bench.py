"""Smoke test of benchmarks/qemu_bench.py: it runs against real QEMU and reports every
figure (structure only, never times). Fails when QEMU is not installed."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.subprocess, pytest.mark.qemu]  # each test runs the benchmark script

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "raw_start_ms",
    "spawn_ms",
    "attach_ms",
    "detach_ms",
    "live_migration_ms",
    "qemu_migration_ms",
    "downtime_ms",
    "ram_transferred_mb",
}


def test_quick_json_reports_every_figure_per_accelerator():
    if shutil.which("qemu-system-x86_64") is None:
        pytest.fail("qemu-system-x86_64 not found: run scripts/system-deps.sh", pytrace=False)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.qemu_bench", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "qemu_bench: tcg: round 1/1" in proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == {"meta", "rows", "ratios"}
    assert report["meta"]["memory_mb"] == 64 and report["meta"]["baseline"] == "raw_start"
    assert "tcg" in report["meta"]["accels"]
    assert set(report["rows"]) == set(report["meta"]["accels"])
    for accel, row in report["rows"].items():
        assert set(row) == FIGURES, accel
        assert row["spawn_ms"] > 0 and row["live_migration_ms"] > 0
        assert f"{accel}:spawn/raw_start" in report["ratios"]
