"""Smoke test of benchmarks/compute_bench.py: ``--quick --json`` runs and reports
every figure with the right structure (never checks times)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess  # each test runs the benchmark script

ROOT = Path(__file__).resolve().parents[2]
PER_KEYS = {
    "rpc_calls",
    "rpc_casts",
    "rpc_by_topic",
    "rpc_metrics",
    "object_calls",
    "conductor_round_trips",
}


def test_quick_json_reports_rates_and_round_trips() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compute_bench", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "compute_bench:" in proc.stderr  # progress goes to stderr
    report = json.loads(proc.stdout)
    assert set(report) == {
        "hosts",
        "instances",
        "migrations",
        "boot",
        "live_migration",
        "per_boot",
        "per_migration",
        "counted",
    }
    assert (report["hosts"], report["instances"], report["migrations"]) == (10, 50, 5)
    assert set(report["boot"]) == {"seconds", "instances_per_s"}
    assert set(report["live_migration"]) == {"seconds", "migrations_per_s"}
    assert report["boot"]["instances_per_s"] > 0
    assert report["live_migration"]["migrations_per_s"] > 0
    for name in ("per_boot", "per_migration"):
        per = report[name]
        assert set(per) == PER_KEYS, name
        assert all(isinstance(v, int | float) for v in per["rpc_by_topic"].values())
    per_boot = report["per_boot"]
    # every boot is one build cast to a compute host; the build requests are calls
    # to the conductor; the hosts' object calls would be conductor round trips
    assert per_boot["rpc_by_topic"]["cast:compute"] == 1.0
    assert per_boot["rpc_by_topic"]["call:conductor"] > 0
    assert per_boot["rpc_metrics"] == {
        "rpc.calls": per_boot["rpc_calls"],
        "rpc.casts": per_boot["rpc_casts"],
    }
    assert per_boot["object_calls"]["compute"] > 0
    assert per_boot["conductor_round_trips"] >= per_boot["object_calls"]["compute"]
    assert isinstance(report["counted"], str) and report["counted"]
