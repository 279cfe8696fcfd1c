"""Smoke tests of benchmarks/eager_overhead.py: it runs, and its table and JSON are well formed.

Timings are never asserted (they depend on the machine and its load); only structure, and
the correctness of the hand-written NumPy backward that the benchmark uses as its floor.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import eager_overhead as eo

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--quick", "--repeats", "1", "--target-ms", "0.5"]
N_ROWS = len(eo.SIZES) * len(eo.SINGLE_OPS) * 2 + len(eo.SIZES) * 2


def _run(args, code=None):
    command = [sys.executable, "-m", "benchmarks.eager_overhead", *args]
    if code is not None:
        command = [sys.executable, "-c", code, *args]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _table(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return cells[0], cells[1], cells[2:]


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out.json"
    stdout = _run([*FAST, "--timer", "cpu", "--json", str(path)])
    return stdout, json.loads(path.read_text())


def test_table_has_one_well_formed_row_per_workload(quick_run):
    stdout, _ = quick_run
    head, rule, rows = _table(stdout)
    assert tuple(head) == eo.COLUMNS
    assert rule == ["---"] * len(eo.COLUMNS)
    assert len(rows) == N_ROWS
    col = {name: i for i, name in enumerate(eo.COLUMNS)}
    seen = set()
    for row in rows:
        assert len(row) == len(eo.COLUMNS), row
        seen.add((row[col["op"]], row[col["size"]], row[col["requires_grad"]],
                  row[col["direction"]]))
        assert row[col["requires_grad"]] in ("True", "False")
        assert row[col["direction"]] in ("forward", "backward")
        numpy_us = row[col["numpy us/op"]]
        assert _is_number(numpy_us) and float(numpy_us) > 0, row
        for lib in ("ember us/op", "torch us/op"):
            cell = row[col[lib]]
            assert _is_number(cell) or cell.startswith(("missing", "error", "not installed")), row
        for target in ("overhead <= 2 us", "faster than torch (small)"):
            assert row[col[target]] in ("yes", "NO", "-"), row
        if row[col["direction"]] == "backward":
            assert row[col["overhead <= 2 us"]] == "-"  # the target is for forward ops
        if row[col["size"]].startswith("medium"):
            assert row[col["faster than torch (small)"]] == "-"
    assert len(seen) == N_ROWS  # no workload twice
    assert "thread variables:" in stdout and "numpy " in stdout
    assert "median of 1 repeats of a loop calibrated to ~0.5 ms of process CPU time" in stdout


def test_json_holds_raw_numbers_matching_the_table(quick_run):
    stdout, data = quick_run
    _, _, rows = _table(stdout)
    assert data["repeats"] == 1 and data["timer"] == "cpu" and len(data["rows"]) == N_ROWS
    for key in ("cpu", "cores", "numpy", "numpy_blas", "thread_env", "torch"):
        assert key in data["machine"]
    for raw, row in zip(data["rows"], rows):
        assert raw["op"] == row[0]
        assert raw["numpy"]["loops"] >= 1 and len(raw["numpy"]["repeat_us"]) == 1
        per_op = raw["numpy"]["median_us"] / raw["ops_per_call"]
        assert f"{per_op:.2f}" == row[4]
        if raw["ember"] is not None:
            overhead = raw["ember_per_op_us"] - raw["numpy_per_op_us"]
            assert f"{overhead:.2f}" == row[7]


def test_runs_without_torch_and_says_so():
    # also covers --stat min
    blocker = (
        "import sys, runpy\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'torch'\")\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.argv[0] = 'eager_overhead'\n"
        "runpy.run_module('benchmarks.eager_overhead', run_name='__main__')\n"
    )
    stdout = _run([*FAST, "--stat", "min"], code=blocker)
    _, _, rows = _table(stdout)
    assert len(rows) == N_ROWS
    assert all(row[6] == "not installed" for row in rows)
    assert all(row[8] == "-" for row in rows)  # no ratio without torch
    assert "torch not installed (ModuleNotFoundError" in stdout
    assert "each number: min of 1 repeats" in stdout


def test_numpy_backward_floor_is_the_chain_gradient():
    x = np.random.default_rng(0).standard_normal(5) * 0.5
    got = eo.numpy_chain_backward(eo.numpy_chain_saving(x), x)
    eps = 1e-6
    numeric = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (eo.chain(x + step, np.tanh).sum() - eo.chain(x - step, np.tanh).sum()) / (
            2 * eps)
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-7)


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        eo.main(["--repeats", "0"])
    with pytest.raises(SystemExit):
        eo.main(["--target-ms", "-1"])
