"""Smoke test of benchmarks/upgrade_bench.py: a ``--quick`` run against a peer on each
older release (0.1 and 0.2) proves, by the counters of each process, that every row of
every peer took its own path and was attributed to that peer (never by its times), and
that the run leaves no process or vhost behind.

The run needs RabbitMQ on 127.0.0.1:5672 (and ``rabbitmqctl``) and the git history
holding the releases' commits; without RabbitMQ it fails and says so.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.upgrade_bench import ROWS, older_releases, print_table, round_order
from cumulo.compute.version import SERVICE_VERSION, SERVICE_VERSION_HISTORY

ROOT = Path(__file__).resolve().parents[2]
THIS_RELEASE = SERVICE_VERSION_HISTORY[SERVICE_VERSION].release
SENDS = 25  # per row and peer with --quick: 5 warm-up + 20 measured
PEERS = {"0.1": ("1.0", 1), "0.2": ("1.1", 2)}
"""Release: (its Instance version, its service level)."""
NOTHING = {
    "sender_backlevels": 0,
    "sender_backlevels_at_peer_level": 0,
    "peer_object_backports": 0,
    "other_peers_object_backports": 0,
    "conductor_backports_served": 0,
    "conductor_backports_served_at_peer_level": 0,
}


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
    """One ``--quick --json`` run (20 calls and 5 warm-up calls per row and peer, a
    peer on every older release by default): the report and the progress written to
    stderr."""
    proc = run_bench("--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


@pytest.mark.rabbitmq
@pytest.mark.subprocess
@pytest.mark.parametrize("release", sorted(PEERS))
def test_each_row_takes_its_own_path_and_is_attributed_to_its_peer(quick_run, release):
    report, _ = quick_run
    peer = report["peers"][release]

    # Each row's sends bumped exactly its own path's counters, in the process that does
    # that work (this one, the measured peer, the conductor), under this peer's level
    # only: the conductor serves both peers, yet no backport of another peer's landed
    # in this peer's blocks, and no other peer asked for one.
    paths = peer["paths"]
    assert set(paths) == set(ROWS)
    assert paths["baseline"] == {"sends": SENDS, **NOTHING}
    assert paths["sender"] == {
        "sends": SENDS,
        **NOTHING,
        "sender_backlevels": SENDS,
        "sender_backlevels_at_peer_level": SENDS,
    }
    assert paths["receiver"] == {
        "sends": SENDS,
        **NOTHING,
        "peer_object_backports": SENDS,
        "conductor_backports_served": SENDS,
        "conductor_backports_served_at_peer_level": SENDS,
    }
    assert peer["path_problems"] == []

    # The peer ran its release's own tree, not this one, and that tree is gone.
    instance_version, level = PEERS[release]
    assert peer["instance_version"] == instance_version
    assert peer["service_level"] == level
    peer_cumulo = Path(peer["peer_cumulo"])
    assert not peer_cumulo.is_relative_to(ROOT), f"the peer ran this tree, not release {release}"
    assert f"cumulo-{release}" in peer_cumulo.parts
    assert not peer_cumulo.exists()
    assert peer["manifest_differs_from_peer"] == []
    assert peer["payload_bytes"]["backlevelled"] < peer["payload_bytes"]["as_is"]

    for name, row in peer["rows"].items():
        assert row["samples"] == 20, name
        assert row["median_ms"] > 0 and row["p99_ms"] >= row["median_ms"]
    assert set(peer["ratios"]) == {
        "sender/baseline",
        "receiver/baseline",
        "receiver/sender",
        "receiver/sender_p99",
        "backlevelled/as_is_cpu",
    }
    assert all(value > 0 for value in peer["ratios"].values())
    assert set(peer["sender_cpu_us"]) == {"baseline", "as_is", "backlevelled", "backport_only"}


@pytest.mark.rabbitmq
@pytest.mark.subprocess
def test_quick_run_has_a_peer_per_older_release_and_leaves_nothing_behind(quick_run):
    report, stderr = quick_run
    meta = report["meta"]
    assert set(report["peers"]) == set(PEERS)
    assert meta["releases"] == ["0.2", "0.1"]  # newest first
    assert meta["instance_versions"] == {"this tree": "1.2", "0.1": "1.0", "0.2": "1.1"}
    assert report["path_problems"] == []
    assert meta["quick"] is True
    assert (meta["calls"], meta["warmup"], meta["rounds"]) == (20, 5, 2)
    assert report["comparison"]["against"] == "0.2"
    assert set(report["comparison"]["extra_ms"]) == set(PEERS)
    assert set(report["comparison"]["ratios"]) == {"0.1"}
    assert "round 2/2" in stderr  # progress goes to stderr

    # Nothing is left behind: the conductor and both peers are gone, so is the vhost.
    assert set(meta["pids"]) == {"conductor", "peer 0.1", "peer 0.2"}
    assert len(set(meta["pids"].values())) == 3
    for pid in meta["pids"].values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert meta["vhost"] not in vhosts()


@pytest.mark.rabbitmq
@pytest.mark.subprocess
def test_table_names_the_baselines_the_ratios_and_the_peers(quick_run, capsys):
    print_table(quick_run[0])
    out = capsys.readouterr().out
    assert out.count("(baseline)") == 2
    assert out.count("receiver-side / sender-side:") == 2
    assert out.count("every row took its own path") == 2
    assert "peer on release 0.2 (service level 2, Instance 1.1" in out
    assert "peer on release 0.1 (service level 1, Instance 1.0" in out
    assert out.count("sender CPU per object, no RPC") == 2
    assert "across peers" in out
    assert "to 0.1 over to 0.2, median: sender-side" in out
    assert "--quick: smoke figures only" in out


def test_every_older_release_is_a_peer_by_default_newest_first():
    peers = older_releases(None)
    assert [(p.name, p.level, p.instance_version) for p in peers] == [
        ("0.2", 2, "1.1"),
        ("0.1", 1, "1.0"),
    ]
    assert [p.name for p in older_releases(["0.1"])] == ["0.1"]
    assert [p.name for p in older_releases(["0.1", "0.2"])] == ["0.2", "0.1"]


def test_each_round_runs_every_block_once_starting_elsewhere():
    keys = [(release, row) for row in ROWS for release in PEERS]
    orders = [round_order(keys, round_) for round_ in range(len(keys))]
    assert all(sorted(order) == sorted(keys) for order in orders)
    assert sorted(order[0] for order in orders) == sorted(keys)


@pytest.mark.subprocess
def test_unreachable_rabbitmq_is_named():
    proc = run_bench("--url", "amqp://guest:guest@127.0.0.1:1//", "--calls", "1")
    assert proc.returncode == 1
    assert "upgrade_bench: RabbitMQ at 127.0.0.1:1 unreachable" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.subprocess
def test_bad_counts_are_refused():
    proc = run_bench("--calls", "0")
    assert proc.returncode == 2
    assert "--calls and --rounds must be at least 1" in proc.stderr


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--release", "0.9"], "--release 0.9: not in"),
        (["--release", "0.1", "--release", "0.1"], "--release 0.1 given more than once"),
        (["--release", THIS_RELEASE], f"--release {THIS_RELEASE}: that is this tree's own"),
    ],
)
def test_bad_releases_are_refused(args, message):
    proc = run_bench(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""
