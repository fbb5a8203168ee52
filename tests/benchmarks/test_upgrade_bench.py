"""Smoke test of benchmarks/upgrade_bench.py: a ``--quick`` run proves, by the counters of
each process, that every row took its own path (never by its times), and that the run
leaves no process or vhost behind.

The run needs RabbitMQ on 127.0.0.1:5672 (and ``rabbitmqctl``) and the git history
holding release 0.1's commit; without RabbitMQ it fails and says so.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.upgrade_bench import print_table

ROOT = Path(__file__).resolve().parents[2]
ROWS = {"baseline", "sender", "receiver"}
SENDS = 25  # per row with --quick: 5 warm-up + 20 measured


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.upgrade_bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def vhosts() -> list[str]:
    done = subprocess.run(
        ["rabbitmqctl", "list_vhosts", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split()


@pytest.fixture(scope="module")
def quick_run() -> tuple[dict[str, Any], str]:
    """One ``--quick --json`` run (20 calls and 5 warm-up calls per row): the report
    and the progress written to stderr."""
    proc = run_bench("--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


@pytest.mark.integration
def test_quick_run_takes_each_path_against_the_real_previous_release(quick_run):
    report, stderr = quick_run

    # Each row's sends bumped exactly its own path's counters, in the process that
    # does that work: this one, the release 0.1 peer, the conductor.
    paths = report["paths"]
    assert set(paths) == ROWS
    assert all(path["sends"] == SENDS for path in paths.values())
    assert paths["baseline"] == {
        "sends": SENDS,
        "sender_backlevels": 0,
        "peer_object_backports": 0,
        "conductor_backports_served": 0,
    }
    assert paths["sender"] == {
        "sends": SENDS,
        "sender_backlevels": SENDS,
        "peer_object_backports": 0,
        "conductor_backports_served": 0,
    }
    assert paths["receiver"] == {
        "sends": SENDS,
        "sender_backlevels": 0,
        "peer_object_backports": SENDS,
        "conductor_backports_served": SENDS,
    }
    assert report["path_problems"] == []

    meta = report["meta"]
    assert meta["instance_versions"] == {"this tree": "1.1", "0.1": "1.0"}
    peer_cumulo = Path(meta["peer_cumulo"])
    assert not peer_cumulo.is_relative_to(ROOT), "the peer ran this tree, not release 0.1"
    assert meta["manifest_differs_from_peer"] == []

    for name, row in report["rows"].items():
        assert row["samples"] == 20, name
        assert row["median_ms"] > 0 and row["p99_ms"] >= row["median_ms"]
    assert set(report["ratios"]) == {
        "sender/baseline",
        "receiver/baseline",
        "receiver/sender",
        "receiver/sender_p99",
        "backlevelled/as_is_cpu",
    }
    assert all(value > 0 for value in report["ratios"].values())
    assert set(report["sender_cpu_us"]) == {"baseline", "as_is", "backlevelled", "backport_only"}
    assert "round 2/2" in stderr  # progress goes to stderr

    # Nothing is left behind: the processes are gone and so is the vhost.
    for pid in meta["pids"].values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert meta["vhost"] not in vhosts()
    assert not Path(meta["peer_cumulo"]).exists()


@pytest.mark.integration
def test_table_names_the_baseline_and_both_ratios(quick_run, capsys):
    print_table(quick_run[0])
    out = capsys.readouterr().out
    assert "(baseline)" in out
    assert "receiver-side / sender-side:" in out
    assert "every row took its own path" in out
    assert "sender CPU per object, no RPC" in out
    assert "--quick: smoke figures only" in out


def test_unreachable_rabbitmq_is_named():
    proc = run_bench("--url", "amqp://guest:guest@127.0.0.1:1//", "--calls", "1")
    assert proc.returncode == 1
    assert "upgrade_bench: RabbitMQ at 127.0.0.1:1 unreachable" in proc.stderr
    assert proc.stdout == ""


def test_bad_counts_are_refused():
    proc = run_bench("--calls", "0")
    assert proc.returncode == 2
    assert "--calls and --rounds must be at least 1" in proc.stderr
