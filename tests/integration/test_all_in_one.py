"""``cumulo all-in-one`` as a real process: the embedded deployment and the API in it,
driven by the real ``openstack`` CLI with the clouds.yaml it writes; stopped with
SIGTERM and started again on the state it kept.

Needs: nothing but this machine (SQLite, inproc://, fake hosts).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.integration.processes import REPO, wait_for
from tests.integration.test_identity_api import OPENSTACK, free_port

pytestmark = pytest.mark.integration

EXPORT = "export OS_CLIENT_CONFIG_FILE="


class AllInOne:
    """One ``cumulo all-in-one`` process, its stdout and stderr collected by threads."""

    def __init__(self, state: Path, port: int, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUMULO_")}
        argv = ["-m", "cumulo", "all-in-one", "--state-dir", str(state)]
        argv += ["--bind", f"127.0.0.1:{port}", *args]
        self.process = subprocess.Popen(
            [sys.executable, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=self.out.extend, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self.err.extend, args=(self.process.stderr,), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def wait_until_ready(self) -> str:
        """The export line, once printed (fails if the process ends first)."""

        def printed() -> str | None:
            line = next((line for line in list(self.out) if line.startswith(EXPORT)), None)
            if line is None and self.process.poll() is not None:
                self.join()
                pytest.fail(f"all-in-one exited with {self.process.returncode}:\n{self.log()}")
            return line

        return str(wait_for(printed, "all-in-one to print its export line", timeout=90)).strip()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.join()

    def join(self) -> int:
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        for reader in self.readers:
            reader.join(10)
        return code

    def log(self) -> str:
        return "".join(self.out) + "".join(self.err)


def openstack(clouds_yaml: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env |= {"OS_CLIENT_CONFIG_FILE": str(clouds_yaml), "OS_CLOUD": "cumulo"}
    done = subprocess.run(
        [str(OPENSTACK), *args], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert done.returncode == 0, f"openstack {' '.join(args)}:\n{done.stderr}"
    return done.stdout


def test_all_in_one_serves_the_clients_and_keeps_its_state(tmp_path):
    state = tmp_path / "state"
    port = free_port()
    clouds_yaml = state / "clouds.yaml"

    first = AllInOne(state, port)
    try:
        export = first.wait_until_ready()
        assert export == f"{EXPORT}{clouds_yaml}; export OS_CLOUD=cumulo"
        assert any(f"http://127.0.0.1:{port}" in line for line in first.out)
        assert openstack(clouds_yaml, "token", "issue", "-f", "value", "-c", "id").strip()
        openstack(clouds_yaml, "flavor", "create", "--ram", "512", "--vcpus", "1", "m1.aio")
        assert openstack(clouds_yaml, "flavor", "list", "-f", "value", "-c", "Name").split() == [
            "m1.aio"
        ]
        # The default image, seeded at the first start.
        assert openstack(clouds_yaml, "image", "list", "-f", "value", "-c", "Name").split() == [
            "cirros"
        ]
        image_id = openstack(clouds_yaml, "image", "show", "cirros", "-f", "value", "-c", "id")
    finally:
        code = first.stop()
    assert code == 0, first.log()
    password = (state / "admin-password").read_text().strip()
    assert (state / "admin-password").stat().st_mode & 0o077 == 0
    assert clouds_yaml.stat().st_mode & 0o077 == 0
    assert password not in first.log()  # no secret in what it prints or logs
    assert "Traceback" not in first.log()
    assert "all-in-one stopped" in "".join(first.err)

    # A second start: same password, clouds.yaml untouched, the flavor still there.
    written, mtime = clouds_yaml.read_bytes(), clouds_yaml.stat().st_mtime_ns
    second = AllInOne(state, port)
    try:
        second.wait_until_ready()
        assert clouds_yaml.read_bytes() == written
        assert clouds_yaml.stat().st_mtime_ns == mtime
        assert (state / "admin-password").read_text().strip() == password
        assert openstack(clouds_yaml, "flavor", "list", "-f", "value", "-c", "Name").split() == [
            "m1.aio"
        ]
        # Not seeded twice: the same one image.
        assert openstack(clouds_yaml, "image", "list", "-f", "value", "-c", "ID") == image_id
    finally:
        code = second.stop()
    assert code == 0, second.log()
    assert "Traceback" not in second.log()

    # A clouds.yaml the user changed is left alone: the start is refused in one line.
    edited = written.decode() + "# my own change\n"
    clouds_yaml.write_text(edited)
    third = AllInOne(state, port)
    assert third.join() == 2, third.log()
    errors = [line for line in third.err if line.startswith("cumulo: error:")]
    assert len(errors) == 1 and "clouds.yaml was changed" in errors[0]
    assert "--force" in errors[0]
    assert "Traceback" not in third.log()
    assert clouds_yaml.read_text() == edited
