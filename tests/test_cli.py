"""The ``ember`` command: help, version, argument errors (exit status 2), and ``ember train``
itself (one epoch each, so fast): its output, checkpoint, TensorBoard logs and exit status."""

import contextlib
import gzip
import io
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import models
from ember.cli import main
from ember.data.datasets import load_digits
from ember.io import load


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
    for option in ("--dataset", "--data-dir", "--download", "--model", "--epochs",
                   "--batch-size", "--lr", "--optimizer", "--momentum", "--seed", "--workers",
                   "--output-dir", "--no-tensorboard", "--check", "--quiet"):
        assert option in out, option
    for name in ("digits", "fashion-mnist", "digits_cnn", "lenet", "resnet20", "adamw"):
        assert name in out, name
    assert "(default: 32)" in out  # defaults are shown


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.strip() == f"ember {ember.__version__}"


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "argument --epochs: expected a positive int, got '0'"),
    (["train", "--epochs", "ten"], "argument --epochs: expected a positive int, got 'ten'"),
    (["train", "--batch-size", "1.5"], "argument --batch-size: expected a positive int"),
    (["train", "--lr", "-0.1"], "argument --lr: expected a positive float, got '-0.1'"),
    (["train", "--lr", "nan"], "argument --lr: expected a positive float, got 'nan'"),
    (["train", "--lr", "inf"], "argument --lr: expected a positive float, got 'inf'"),
    (["train", "--momentum", "1.5"], r"argument --momentum: expected a number in \[0, 1\]"),
    (["train", "--check", "high"], r"argument --check: expected a number in \[0, 1\]"),
    (["train", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["train", "--workers", "-1"], "argument --workers: expected an int >= 0, got '-1'"),
    (["train", "--dataset", "cifar10"], "argument --dataset: invalid choice: 'cifar10'"),
    (["train", "--model", "vgg16"], "argument --model: invalid choice: 'vgg16'"),
    (["train", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["train", "--model", "lstm_lm"], "argument --model: lstm_lm is a sequence model"),
    (["train", "--dataset", "mnist"], "argument --data-dir: required with --dataset mnist"),
    (["train", "--dataset", "fashion-mnist", "--data-dir", "/no/such/dir"],
     "argument --data-dir: '/no/such/dir' is not a directory"),
    (["train", "--data-dir", "."], "the digits data set is embedded in ember"),
    (["train", "--hidden", "4"], "unrecognized arguments: --hidden"),
    (["fit"], "invalid choice: 'fit'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert re.search(message, err), err
    assert "usage: ember" in err
    if argv[:1] == ["train"]:
        assert "usage: ember train" in err  # the train command's usage, not the top level


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """`ember train --epochs 1` run once for the tests that inspect what it did."""
    out_dir = tmp_path_factory.mktemp("run")
    stdout, stderr = io.StringIO(), io.StringIO()  # capsys is function-scoped
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["train", "--epochs", "1", "--output-dir", str(out_dir)])
    return status, stdout.getvalue(), stderr.getvalue(), out_dir


def test_train_prints_progress_and_test_accuracy(one_epoch):
    status, out, err, out_dir = one_epoch
    assert status == 0, err
    assert out.startswith("ember train: digits_cnn (9,930 parameters) on digits (1,438 train "
                          "/ 359 test images), 1 epochs, sgd lr 0.05 momentum 0.9, batch 32")
    assert "Epoch 1/1" in out and "45/45" in out  # the progress bar: 1,438 / 32 -> 45 steps
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert accuracy > 0.8  # one epoch of the small CNN
    assert f"checkpoint: {out_dir / 'model.safetensors'}" in out
    assert f"TensorBoard logs: {out_dir / 'logs'}" in out


def test_train_checkpoint_reproduces_the_printed_accuracy(one_epoch):
    _, out, _, out_dir = one_epoch
    state = load(out_dir / "model.safetensors")
    assert set(state) == {"model", "optimizer", "epoch", "config"}
    assert state["epoch"] == 1 and state["config"]["model"] == "digits_cnn"
    model = models.digits_cnn()
    model.load_state_dict(state["model"])
    model.eval()
    x, y = load_digits("train")
    mean, std = x.mean(), x.std()
    x_test, y_test = load_digits("test")
    with ember.no_grad():
        accuracy = (model((x_test - mean) / std).argmax(dim=1) == y_test).float().mean().item()
    printed = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert abs(accuracy - printed) < 1e-4
    assert (out_dir / "checkpoints" / "epoch01.safetensors").is_file()
    assert '"dataset": "digits"' in (out_dir / "config.json").read_text()


def test_train_writes_tensorboard_events(one_epoch):
    _, _, _, out_dir = one_epoch
    (train_events,) = (out_dir / "logs" / "train").glob("events.out.tfevents.*")
    (val_events,) = (out_dir / "logs" / "validation").glob("events.out.tfevents.*")
    assert b"epoch_loss" in train_events.read_bytes()
    assert b"epoch_accuracy" in val_events.read_bytes()


def test_check_fails_when_accuracy_is_too_low(capsys, tmp_path):
    status, out, err = run(capsys, "train", "--epochs", "1", "--check", "0.999",
                           "--no-tensorboard", "--quiet", "--output-dir", str(tmp_path))
    assert status == 1
    assert "test accuracy" in out
    assert re.search(r"ember train: test accuracy 0\.\d+ is below --check 0\.999", err)
    assert not (tmp_path / "logs").exists()  # --no-tensorboard
    assert (tmp_path / "model.safetensors").is_file()


def test_other_model_and_optimizer_and_fixed_seed(capsys, tmp_path):
    argv = ["train", "--model", "mlp", "--optimizer", "adam", "--epochs", "1", "--seed", "3",
            "--batch-size", "256",
            "--quiet", "--no-tensorboard"]
    status, out, _ = run(capsys, *argv, "--output-dir", str(tmp_path / "a"))
    assert status == 0
    # 64-512-512-10: the W1 MLP with its input sized for the 8x8 digits
    assert "mlp (301,066 parameters)" in out and "adam lr 0.001," in out
    again = run(capsys, *argv, "--output-dir", str(tmp_path / "b"))[1]
    first = load(tmp_path / "a" / "model.safetensors")["model"]
    second = load(tmp_path / "b" / "model.safetensors")["model"]
    for key in first:
        np.testing.assert_array_equal(first[key].numpy(), second[key].numpy())
    assert re.search(r"test accuracy \S+", out).group() == \
        re.search(r"test accuracy \S+", again).group()


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _fake_mnist(folder: Path, n_train: int = 96, n_test: int = 32) -> None:
    """Tiny MNIST-format files: digit k is a bright kxk square, so a model can learn it."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 30, (n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 4:6 + 2 * k, 4:6 + 2 * k] = 255
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)


def test_mnist_from_a_data_dir_with_workers(capsys, tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    _fake_mnist(data)
    status, out, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", str(data),
                           "--model", "digits_cnn", "--epochs", "1", "--batch-size", "16",
                           "--workers", "1", "--quiet", "--output-dir", str(tmp_path / "run"))
    assert status == 0, err
    assert "digits_cnn (" in out and "on mnist (96 train / 32 test images)" in out
    assert "6/6" in out  # 96 / 16 batches
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_missing_or_corrupt_data_files_exit_1(capsys, tmp_path):
    status, out, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", str(tmp_path),
                           "--output-dir", str(tmp_path / "run"))
    assert status == 1
    assert "ember train: MNIST: train-images-idx3-ubyte[.gz] not found" in err
    _fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    status, out, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", str(tmp_path),
                           "--output-dir", str(tmp_path / "run"))
    assert status == 1
    assert "t10k-labels-idx1-ubyte.gz is not a readable IDX file" in err


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


def test_bench_rejects_a_bad_workload_name():
    from ember.cli import main

    status = main(["bench", "--workloads", "W9", "--frameworks", "numpy", "--no-sizes"])
    assert status == 2
