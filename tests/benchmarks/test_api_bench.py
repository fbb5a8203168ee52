"""Smoke test of benchmarks/api_bench.py at tiny sizes: it starts ``cumulo all-in-one``
and the hello baseline, reports every row with its ratios, every GET /servers/detail
lists every server, and every server it created is deleted (never checks times)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess  # runs the benchmark, which starts two servers

ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    "hello",
    "flavors_detail",
    "servers_detail",
    "flavors_detail_gunicorn",
    "servers_detail_gunicorn",
    "servers_create",
]
ROW_KEYS = {"label", "requests", "seconds", "rps", "p50_ms", "p99_ms", "rps_ratio", "p50_ratio"}


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.api_bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_tiny_json_counts_every_request_and_leaves_no_server() -> None:
    proc = run_bench(
        "--json",
        *("--requests", "12", "--rounds", "2", "--concurrency", "2"),
        *("--servers", "3", "--creates", "5", "--warmup", "1"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "api_bench: deleting" in proc.stderr  # progress goes to stderr
    report = json.loads(proc.stdout)
    assert set(report) == {"meta", "rows", "checks"}
    assert list(report["rows"]) == ROWS
    for name, row in report["rows"].items():
        assert set(row) == ROW_KEYS, name
        assert row["rps"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0, name
    rows = report["rows"]
    assert [rows[name]["requests"] for name in ROWS] == [12, 12, 12, 12, 12, 5]
    assert rows["servers_detail"]["label"] == "GET /servers/detail (3 servers)"
    assert rows["servers_detail_gunicorn"]["label"] == "GET /servers/detail (3 servers) [gunicorn]"
    assert rows["hello"]["rps_ratio"] == rows["hello"]["p50_ratio"] == 1.0
    servers = rows["servers_detail"]
    assert servers["rps_ratio"] == pytest.approx(servers["rps"] / rows["hello"]["rps"])
    assert servers["p50_ratio"] == pytest.approx(servers["p50_ms"] / rows["hello"]["p50_ms"])
    assert report["meta"]["servers"] == 3 and report["meta"]["concurrency"] == 2
    # every listing (all-in-one's and gunicorn's, warm-ups included) saw all 3 servers
    # and the 5 flavors; the 3 listed servers, the 5 timed
    # creates and the 2 warm-up creates (one per thread) were all deleted
    assert report["checks"] == {
        "flavors_listed": [5],
        "servers_listed": [3],
        "created": 10,
        "deleted": 10,
        "left": 0,
    }


def test_quick_table_without_gunicorn_names_each_row_and_the_checks() -> None:
    # --quick's sizes, but for those given
    proc = run_bench("--quick", "--no-gunicorn", "--servers", "2", "--creates", "1")
    assert proc.returncode == 0, proc.stderr
    for label in ("hello baseline", "GET /flavors/detail", "GET /servers/detail (2 servers)"):
        assert label in proc.stdout
    assert "POST /servers" in proc.stdout and "rps ratio" in proc.stdout
    assert "gunicorn" not in proc.stdout
    assert "GET rows 20 requests in 2 rounds" in proc.stdout
    # 2 listed, 1 timed create, 1 warm-up create for each of the 2 client threads
    assert "servers listed [2], 5 created, 5 deleted, 0 left" in proc.stdout


def test_too_many_servers_for_the_hosts_is_refused() -> None:
    proc = run_bench("--servers", "100", "--creates", "100", "--hosts", "1")
    assert proc.returncode == 2
    assert "need" in proc.stderr and "hosts" in proc.stderr
