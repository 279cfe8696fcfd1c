"""The ``ember`` command: help, version, and argument errors (exit status 2)."""

import re
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import ember
from ember.cli import main


def run(capsys, *argv):
    """Run ``ember *argv`` in-process; return (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_help_lists_the_train_command(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert out.startswith("usage: ember") and "train" in out


def test_train_help_lists_every_option(capsys):
    status, out, _ = run(capsys, "train", "--help")
    assert status == 0
    for option in ("--epochs", "--lr", "--batch-size", "--seed", "--hidden", "--momentum",
                   "--check"):
        assert option in out
    assert "(default: 10)" in out  # defaults are shown


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.strip() == f"ember {ember.__version__}"


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "argument --epochs: expected a positive int, got '0'"),
    (["train", "--epochs", "ten"], "argument --epochs: expected a positive int, got 'ten'"),
    (["train", "--batch-size", "1.5"], "argument --batch-size: expected a positive int"),
    (["train", "--hidden", "-4"], "argument --hidden: expected a positive int, got '-4'"),
    (["train", "--lr", "-0.1"], "argument --lr: expected a positive float, got '-0.1'"),
    (["train", "--lr", "nan"], "argument --lr: expected a positive float, got 'nan'"),
    (["train", "--lr", "inf"], "argument --lr: expected a positive float, got 'inf'"),
    (["train", "--momentum", "1.5"], r"argument --momentum: expected a number in \[0, 1\]"),
    (["train", "--check", "high"], r"argument --check: expected a number in \[0, 1\]"),
    (["train", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["train", "--learning-rate", "0.1"], "unrecognized arguments: --learning-rate"),
    (["fit"], "invalid choice: 'fit'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert re.search(message, err), err
    assert "usage: ember" in err


def test_python_dash_m_ember():
    result = subprocess.run([sys.executable, "-m", "ember", "train", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ember train")
    bad = subprocess.run([sys.executable, "-m", "ember", "train", "--epochs", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--epochs" in bad.stderr


def test_console_script_points_at_main():
    (script,) = entry_points(group="console_scripts", name="ember")
    assert script.load() is main
