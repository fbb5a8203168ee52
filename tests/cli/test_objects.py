"""`cumulo objects ...` (cumulo/cli/objects.py), in-process and as the installed script."""

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from cumulo import model
from cumulo.objects import REGISTRY
from cumulo.objects.fingerprint import fingerprint
from cumulo.objects.lockfile import build_lock, dump_lock

from .support import assert_one_line_error, run, run_script

# --- list / show / schema ------------------------------------------------------------------------


def test_list(capsys):
    code, out, _ = run(capsys, "objects", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "FINGERPRINT", "LOCK"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {cls.obj_name() for cls in REGISTRY.classes("cumulo")}
    assert {"Flavor", "Instance", "SecurityGroup", "LiveMigrateData"} <= set(rows)
    assert rows["Flavor"] == ["Flavor", model.Flavor.VERSION, fingerprint(model.Flavor), "ok"]


def test_list_history(capsys):
    code, out, _ = run(capsys, "objects", "list", "--history")
    assert code == 0
    expected = sum(len(cls.obj_history()) for cls in REGISTRY.classes("cumulo"))
    assert len(out.splitlines()) == 1 + expected


def test_show(capsys):
    code, out, _ = run(capsys, "objects", "show", "SecurityGroupRule")
    assert code == 0
    assert out.startswith(
        "SecurityGroupRule 1.1  (namespace cumulo, serial namespace cumulo_object)"
    )
    assert "One firewall rule" in out
    fields = {
        line.split()[0]: line for line in out.split("FIELDS\n")[1].split("\n\n")[0].splitlines()
    }
    assert "read-only" in fields["id"]
    assert 'enum("any", "icmp", "tcp", "udp")' in fields["protocol"]
    assert "any added in 1.1" in fields["protocol"]
    assert "ipnet | None" in fields["cidr"]
    assert '"ingress"' in fields["direction"]
    assert "HISTORY\n1.0  1.0-" in out


def test_show_lists_history_and_remotables(capsys, tmp_path, monkeypatch):
    write_module(
        tmp_path,
        "cli_history_objects",
        """
        VERSION = "1.1"
        id: int
        size: int = field(default=0, added="1.1")

        @remotable
        def save(self, force=False):
            return None
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run(capsys, "objects", "show", "Widget", "--module", "cli_history_objects")
    assert (code, err) == (0, "")
    assert "save(force=false)  instance  1.0" in out
    assert "field 'size' added (int, default 0)" in out
    size_row = next(line for line in out.splitlines() if line.startswith("size"))
    assert size_row.split() == ["size", "int", "0", "1.1"]


def test_schema(capsys):
    code, out, _ = run(capsys, "objects", "schema", "SecurityGroupList")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    groups = model.SecurityGroupList(
        objects=[model.SecurityGroup(id=1, name="web", project_id="p")]
    )
    jsonschema.validate(groups.obj_to_primitive(), schema)


def test_schema_version_and_manifest(capsys):
    code, out, _ = run(
        capsys, "objects", "schema", "SecurityGroup", "--version", "1.0",
        "--manifest", "SecurityGroupRule=1.0",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["title"] == "SecurityGroup 1.0"


# --- check / lock -------------------------------------------------------------------------------


def test_check_passes_on_the_committed_lockfile(capsys):
    code, out, _ = run(capsys, "objects", "check")
    assert code == 0
    count = len(list(REGISTRY.classes("cumulo")))
    versions = sum(len(cls.obj_history()) for cls in REGISTRY.classes("cumulo"))
    assert f"matches the code: {count} objects, {versions} versions" in out


def test_check_reports_problems_with_exit_1(capsys, tmp_path):
    lock = build_lock(REGISTRY, "cumulo")
    del lock["Flavor"]["1.0"]["schema"]["fields"]["swap"]
    lock["Gone"] = lock.pop("SecurityGroupList")
    path = tmp_path / "lock.json"
    path.write_text(dump_lock(lock))
    code, out, _ = run(capsys, "objects", "check", "--lockfile", str(path))
    assert code == 1
    assert out.startswith(f"3 problem(s) against {path}:\n")
    assert "- Gone is in the lockfile but no object of that name is registered" in out
    assert "- the lockfile's fingerprint of Flavor 1.0 does not match its recorded schema" in out
    assert "- SecurityGroupList 1.1 is not in the lockfile yet" in out


def test_check_without_lockfile_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "objects", "check", "--lockfile", str(tmp_path / "none.json"))
    assert_one_line_error(code, err, "does not exist: run `cumulo objects lock`")


def test_lock_writes_what_build_lock_builds(capsys, tmp_path):
    path = tmp_path / "lock.json"
    code, out, _ = run(capsys, "objects", "lock", "--lockfile", str(path))
    assert code == 0
    count = len(list(REGISTRY.classes("cumulo")))
    versions = sum(len(cls.obj_history()) for cls in REGISTRY.classes("cumulo"))
    assert out == f"wrote {path}: {count} objects, {versions} versions\n"
    assert path.read_text() == dump_lock(build_lock(REGISTRY, "cumulo"))
    code, out, _ = run(capsys, "objects", "lock", "--lockfile", str(path))
    assert (code, out) == (0, f"{path} is already up to date\n")


def test_lock_refuses_a_broken_lockfile_without_force(capsys, tmp_path):
    path = tmp_path / "lock.json"
    path.write_text("{")
    code, _, err = run(capsys, "objects", "lock", "--lockfile", str(path))
    assert_one_line_error(code, err, "is not valid JSON", "--force")
    assert run(capsys, "objects", "lock", "--lockfile", str(path), "--force")[0] == 0


# --- the installed script, on a module of its own -------------------------------------------------


def write_module(directory: Path, name: str, widget_body: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(
        textwrap.dedent(
            """
            from cumulo.objects import Registry, VersionedObject, field, register, remotable

            REGISTRY = Registry()


            class Base(VersionedObject):
                OBJ_PROJECT_NAMESPACE = "clitest"
                OBJ_SERIAL_NAMESPACE = "clitest_object"
                OBJ_REGISTRY = REGISTRY


            @register
            class Widget(Base):
            """
        )
        + textwrap.indent(textwrap.dedent(widget_body), "    ")
    )
    return path


@pytest.mark.subprocess
def test_script_list_and_bad_name():
    result = run_script("objects", "list")
    assert result.returncode == 0, result.stderr
    assert "Flavor" in result.stdout and fingerprint(model.Flavor) in result.stdout
    result = run_script("objects", "show", "NoSuchThing")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("cumulo: error: no object named 'NoSuchThing'")
    assert result.stderr.count("\n") == 1


@pytest.mark.subprocess
def test_script_forgot_to_bump_workflow(tmp_path):
    write_module(tmp_path, "widgets", 'VERSION = "1.0"\nid: int\n')
    lock = tmp_path / "widgets.objects.lock.json"

    result = run_script("objects", "lock", "--module", "widgets", cwd=tmp_path, pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote widgets.objects.lock.json: 1 objects, 1 versions\n"
    assert json.loads(lock.read_text())["Widget"]["1.0"]["schema"]["namespace"] == "clitest"

    # A field added without a bump: check fails and says what to do; lock refuses.
    write_module(tmp_path, "widgets", 'VERSION = "1.0"\nid: int\ncolor: str = "red"\n')
    result = run_script(
        "objects", "check", "--module", "widgets", cwd=tmp_path, pythonpath=tmp_path
    )
    assert result.returncode == 1
    assert (
        "Widget 1.0 changed without a version bump: field 'color' added (str, default \"red\"). "
        "That needs a minor bump: declare added='1.1' on field 'color' and set VERSION = '1.1'"
    ) in result.stdout
    before = lock.read_text()
    result = run_script("objects", "lock", "--module", "widgets", cwd=tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1
    assert "not writing widgets.objects.lock.json" in result.stdout
    assert lock.read_text() == before

    # Following the advice: check asks for the lock, lock records it, check passes.
    write_module(
        tmp_path,
        "widgets",
        'VERSION = "1.1"\nid: int\ncolor: str = field(default="red", added="1.1")\n',
    )
    result = run_script(
        "objects", "check", "--module", "widgets", cwd=tmp_path, pythonpath=tmp_path
    )
    assert result.returncode == 1
    assert "Widget 1.1 is not in the lockfile yet" in result.stdout
    result = run_script("objects", "lock", "--module", "widgets", cwd=tmp_path, pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_script(
        "objects", "check", "--module", "widgets", cwd=tmp_path, pythonpath=tmp_path
    )
    assert result.returncode == 0, result.stdout
    assert json.loads(lock.read_text())["Widget"]["1.0"] == json.loads(before)["Widget"]["1.0"]
