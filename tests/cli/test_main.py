"""The ``cumulo`` command line as a whole (cumulo/cli/__init__.py): one-line errors,
help, and the registry of command groups."""

import pytest

from cumulo import cli

from .support import assert_one_line_error, run


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["objects", "show", "Flavr"], ["no object named 'Flavr'", "did you mean 'Flavor'?"]),
        (["objects", "schema", "Nope"], ["no object named 'Nope'", "known: AvailableResource,"]),
        (["objects", "schema", "Flavor", "--version", "1.7"], ["Flavor has no version 1.7"]),
        (["objects", "schema", "Flavor", "--version", "one"], ["invalid version 'one'"]),
        (["objects", "schema", "Flavor", "--manifest", "x"], ["invalid manifest entry 'x'"]),
        (["objects", "schema"], ["required: NAME", "cumulo objects schema --help"]),
        (["objects"], ["required: COMMAND"]),
        ([], ["required: GROUP"]),
        (["nope"], ["invalid choice: 'nope'"]),
        (
            ["objects", "list", "--module", "no.such.module"],
            ["cannot import module 'no.such.module'"],
        ),
        (
            ["objects", "list", "--namespace", "empty"],
            ["registered no objects in namespace 'empty'"],
        ),
    ],
)
def test_errors_are_one_line(capsys, argv, fragments):
    code, out, err = run(capsys, *argv)
    assert out == ""
    assert_one_line_error(code, err, *fragments)


def test_unexpected_errors_are_one_line_too(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli.objects, "cmd_objects_list", broken)
    code, _, err = run(capsys, "objects", "list")
    assert_one_line_error(code, err, "unexpected RuntimeError: boom second line", "CUMULO_DEBUG")
    monkeypatch.setenv("CUMULO_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["objects", "list"])


def test_help_exits_zero(capsys):
    assert cli.main(["objects", "--help"]) == 0
    assert "check" in capsys.readouterr().out


def test_groups_are_a_registry():
    # New groups (demo, conductor, compute, db) plug in as entries of GROUPS.
    assert "objects" in cli.GROUPS
    parser = cli.build_parser()
    assert parser.parse_args(["objects", "check"]).handler is cli.cmd_objects_check
