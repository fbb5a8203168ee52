"""``cumulo compute``'s driver options: --driver from the registry, --driver-config
(a TOML table of the driver's options) under the CLI's own flags, --accel; a bad
option or file is a one-line usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cumulo import cli
from cumulo.cli import services
from cumulo.virt import driver_names
from cumulo.virt.fake import FakeConfig
from cumulo.virt.qemu import Accel, QemuConfig


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def options(*argv: str) -> dict[str, object]:
    args = cli.build_parser().parse_args(["compute", "--host", "h", *argv])
    return services._driver_options(args)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "driver.toml"
    path.write_text(text)
    return str(path)


def test_the_driver_choices_come_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "compute", "--host", "h", "--driver", "xen")
    assert code == 2
    assert f"choose from {', '.join(map(repr, driver_names()))}" in err


def test_the_accel_choices_come_from_the_enum(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "compute", "--host", "h", "--driver", "qemu", "--accel", "xen")
    assert code == 2
    assert f"choose from {', '.join(repr(a.value) for a in Accel)}" in err


def test_the_flags_override_the_driver_config(tmp_path: Path) -> None:
    config = write(tmp_path, 'vcpus = 2\nmemory_mb = 2048\ncpu_model = "file-cpu"\n')
    given = options("--driver-config", config, "--vcpus", "4")
    built = FakeConfig.from_options(given)
    assert (built.vcpus, built.memory_mb, built.cpu_model) == (4, 2048, "file-cpu")


def test_qemu_paths_come_from_the_file_unless_a_flag_sets_them(tmp_path: Path) -> None:
    config = write(
        tmp_path, f'instances_path = "{tmp_path}/i"\nimages_path = "{tmp_path}/b"\naccel = "kvm"\n'
    )
    built = QemuConfig.from_options(
        options("--driver", "qemu", "--driver-config", config, "--accel", "tcg")
    )
    assert (built.instances_path, built.images_path, built.accel) == (
        tmp_path / "i",
        tmp_path / "b",
        Accel.TCG,
    )
    flags = QemuConfig.from_options(
        options("--driver", "qemu", "--driver-config", config, "--state-dir", str(tmp_path / "s"))
    )
    assert (flags.instances_path, flags.images_path, flags.accel) == (
        tmp_path / "s" / "instances",
        tmp_path / "s" / "images",
        Accel.KVM,
    )


@pytest.mark.parametrize(
    ("driver", "text", "message"),
    [
        (
            "qemu",
            'accel = "xen"\n',
            "driver option accel: expected one of auto, kvm, tcg, got 'xen'",
        ),
        ("fake", 'vcpus = "many"\n', "driver option vcpus: expected an integer, got 'many'"),
        ("fake", "accel = 'tcg'\n", "driver fake: unknown option 'accel' (its options: vcpus,"),
        ("qemu", "vcpus = 1\nvcpu = 2\n", "driver qemu: unknown option 'vcpu'"),
        ("fake", "vcpus = = 1\n", "driver.toml: not TOML:"),
    ],
)
def test_a_bad_driver_config_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, driver: str, text: str, message: str
) -> None:
    config = write(tmp_path, text)
    code, err = run(capsys, "compute", "--host", "h", "--driver", driver, "--driver-config", config)
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_missing_driver_config_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.toml")
    code, err = run(capsys, "compute", "--host", "h", "--driver-config", missing)
    assert code == 2 and f"--driver-config {missing}: No such file or directory" in err
    assert "Traceback" not in err


def test_a_bad_flag_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "compute", "--host", "h", "--memory-mb", "-1")
    assert code == 2 and "memory_mb: expected a capacity >= 0, got -1" in err


def test_accel_is_refused_for_the_fake_driver(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "compute", "--host", "h", "--accel", "tcg")
    assert code == 2 and "--accel: only the qemu driver takes one" in err
