"""Smoke test of benchmarks/objects_bench.py: it runs and reports every figure (never times)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess  # each test runs the benchmark script

ROOT = Path(__file__).resolve().parents[2]
IMPLS = {"cumulo", "ovo", "msgspec"}
OPS = {
    "to_primitive",
    "from_primitive",
    "from_primitive_read_all",
    "list_to_json",
    "list_from_json",
    "backport",
    "construct",
    "set_field_what_changed",
}
TARGETED = {"to_primitive", "from_primitive", "list_to_json", "list_from_json", "backport"}


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.objects_bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_quick_json_reports_every_op_and_ratio():
    proc = run_bench("--quick", "--json", "--list-size", "20")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    assert set(report) == OPS | {"ratios", "targets", "wire", "meta"}
    for op in OPS:
        assert set(report[op]) == IMPLS, op
        for impl in IMPLS:
            assert isinstance(report[op][impl], float) and report[op][impl] > 0, (op, impl)
        assert set(report["ratios"][op]) == {"cumulo/ovo", "cumulo/msgspec", "msgspec/cumulo"}
        expected = report[op]["cumulo"] / report[op]["ovo"]
        assert abs(report["ratios"][op]["cumulo/ovo"] - expected) <= 1e-9 * expected

    assert {op for op, targets in report["targets"].items() if targets} == TARGETED
    for op in ("list_to_json", "list_from_json"):
        assert [t["target"] for t in report["targets"][op]] == [
            "cumulo/ovo >= 30",
            "msgspec/cumulo <= 3",
        ]
    for targets in report["targets"].values():
        for target in targets:
            assert isinstance(target["pass"], bool)

    assert report["meta"]["list_size"] == 20
    assert set(report["wire"]["json_bytes_per_instance"]) == IMPLS
    # Progress lines go to stderr, one per (op, implementation).
    assert sum("obj/s" in line for line in proc.stderr.splitlines()) == len(OPS) * len(IMPLS)


def test_table_lists_targets_and_verdicts():
    proc = run_bench("--quick", "--list-size", "10", "--only", "list_to_json,construct")
    assert proc.returncode == 0, proc.stderr
    assert "c1 list of 10 -> JSON bytes" in proc.stdout
    assert "msgspec÷cumulo <= 3" in proc.stdout
    assert "PASS" in proc.stdout or "MISS" in proc.stdout
    assert "to primitive" not in proc.stdout


def test_unknown_op_is_refused():
    proc = run_bench("--only", "nope")
    assert proc.returncode == 2
    assert "unknown op" in proc.stderr
