"""The examples run and do their job: the raw-autograd digits MLP learns, reproducibly.

(`ember train`, the same task with ember.models and ember.train, is tested in test_cli.py.)
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def example():
    """examples/train_digits.py imported as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLES / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quiet(_line):
    pass


def test_example_reaches_95_percent_test_accuracy(example):
    history = example.train(epochs=6, seed=0, log=quiet)
    assert len(history["loss"]) == 6
    assert history["loss"][-1] < history["loss"][0]
    assert history["test_acc"][-1] >= 0.95, history["test_acc"]
    assert history["train_acc"][-1] >= 0.95, history["train_acc"]


def test_fixed_seed_gives_identical_losses(example):
    first = example.train(epochs=2, seed=7, hidden=32, log=quiet)
    second = example.train(epochs=2, seed=7, hidden=32, log=quiet)
    other = example.train(epochs=2, seed=8, hidden=32, log=quiet)
    assert first == second
    assert other["loss"] != first["loss"]


def test_example_script_exit_status():
    script = str(EXAMPLES / "train_digits.py")
    bad = subprocess.run([sys.executable, script, "--epochs", "1", "--hidden", "4",
                          "--check", "0.99"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert "test accuracy" in bad.stderr
    good = subprocess.run([sys.executable, script, "--epochs", "1", "--check", "0.5"],
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert good.stdout.count("epoch") == 1


def test_readme_python_snippets_run(capsys):
    # The README documents only what works: run its Python blocks in order, in one namespace.
    readme = (EXAMPLES.parent / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", readme, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "tensor(" in out                     # the printed tensor
    assert "matmul" in out and "[2, 3]" in out  # the printed ShapeError names op and shapes
