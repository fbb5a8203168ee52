"""Smoke test of benchmarks/rpc_bench.py: it runs and reports every figure (never times).

The amqp:// rows need RabbitMQ on 127.0.0.1:5672; without it the run fails and
says so.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess  # each test runs the benchmark script

ROOT = Path(__file__).resolve().parents[2]
CALL_ROWS = {"inproc_call", "amqp_call", "raw_kombu_call", "db_save", "conductor_save"}
CAST_ROWS = {"inproc_cast", "amqp_cast", "raw_kombu_cast"}
CALL_KEYS = {"label", "kind", "median_ms", "p99_ms", "calls_per_s", "samples", "note"}
CAST_KEYS = {"label", "kind", "count", "sent_per_s", "consumed_per_s"}


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.rpc_bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.rabbitmq
def test_quick_json_reports_every_row_ratio_and_target():
    proc = run_bench("--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == {"meta", "rows", "ratios", "targets"}
    assert set(report["rows"]) == CALL_ROWS | CAST_ROWS
    for name in CALL_ROWS:
        row = report["rows"][name]
        assert set(row) == CALL_KEYS and row["kind"] == "call", name
        assert row["median_ms"] > 0 and row["p99_ms"] >= row["median_ms"]
        assert row["calls_per_s"] > 0 and row["samples"] > 0
    for name in CAST_ROWS:
        row = report["rows"][name]
        assert set(row) == CAST_KEYS and row["kind"] == "cast", name
        assert row["sent_per_s"] > 0
    assert report["rows"]["amqp_cast"]["consumed_per_s"] > 0

    ratios = report["ratios"]
    assert set(ratios) == {
        "amqp_call/raw_kombu_call",
        "amqp_call_p99/raw_kombu_call_p99",
        "amqp_cast/raw_kombu_cast",
        "conductor_save/db_save",
    }
    rows = report["rows"]
    expected = rows["amqp_call"]["median_ms"] / rows["raw_kombu_call"]["median_ms"]
    assert abs(ratios["amqp_call/raw_kombu_call"] - expected) <= 1e-9 * expected

    assert [t["target"] for t in report["targets"]] == [
        "amqp call median ÷ raw kombu <= 1.3",
        "amqp call median <= 2.0 ms",
        "inproc call median < 0.1 ms",
    ]
    assert all(isinstance(t["pass"], bool) for t in report["targets"])
    assert report["meta"]["quick"] is True
    assert "***" in report["meta"]["url"] and "guest@" not in report["meta"]["url"]
    assert "amqp:// casts" in proc.stderr  # progress goes to stderr


def test_inproc_table_needs_no_broker():
    proc = run_bench("--quick", "--only", "inproc")
    assert proc.returncode == 0, proc.stderr
    assert "inproc:// call" in proc.stdout and "inproc:// cast" in proc.stdout
    assert "amqp://" not in proc.stdout
    assert "target: inproc call median < 0.1 ms" in proc.stdout
    assert "PASS" in proc.stdout or "MISS" in proc.stdout


def test_unknown_group_is_refused():
    proc = run_bench("--only", "nope")
    assert proc.returncode == 2
    assert "unknown group(s) nope" in proc.stderr
