"""Tests of the benchmark runner, cell and report (benchmarks/runner.py, cell.py, report.py).

The runner is driven through ``python -m benchmarks`` with fake frameworks and a fake workload
spec written to a temporary directory (the ``--framework-module`` and ``--spec-module`` hooks),
so these tests are fast and need none of the real peers. Timings are never asserted; statuses,
reasons, ratios and the files written are.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import report, runner, sizes

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

FAKE_SPEC = '''
import numpy as np
WORKLOADS = {"A": "workload A", "B": "workload B"}
def make_batch(workload_id, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 3)).astype(np.float32), np.zeros(4, np.int64)
def init_weights(workload_id, seed):
    return {"w": np.ones((3, 2), np.float32)}
'''

# One fake framework whose modes succeed, crash, hang or are unavailable.
FAKE_FRAMEWORK = '''
import os, time
MODES = ("good", "crash", "hang", "unbuilt")
class ModeUnavailable(RuntimeError):
    pass
def available():
    return True, ""
class Runner:
    def __init__(self, weights):
        self.w, self.loss = weights["w"], 2.0
    def step(self, x, y):
        self.loss *= 0.9
        return self.loss
    def predict(self, x):
        return x @ self.w
def build(workload_id, mode, weights, seed):
    print("chatter on stdout must not break the result line")
    if mode == "crash":
        raise ValueError("boom: deliberate crash in " + workload_id)
    if mode == "hang":
        with open(os.environ["FAKE_HANG_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)
    if mode == "unbuilt":
        raise ModeUnavailable("graph mode does not exist yet")
    return Runner(weights)
'''

# A framework whose library is not installed.
ABSENT_FRAMEWORK = '''
MODES = ("eager",)
def available():
    return False, "fakelib is not installed"
def build(workload_id, mode, weights, seed):
    raise AssertionError("build must not be called when available() is False")
'''


@pytest.fixture(scope="module")
def fake_env(tmp_path_factory):
    """A directory holding the fake modules, and the environment that imports them."""
    root = tmp_path_factory.mktemp("fakes")
    (root / "fake_spec.py").write_text(FAKE_SPEC)
    (root / "fake_framework.py").write_text(FAKE_FRAMEWORK)
    (root / "absent_framework.py").write_text(ABSENT_FRAMEWORK)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(ROOT)]),
               FAKE_HANG_PID_FILE=str(root / "hang.pid"))
    return root, env


HOOKS = ["--spec-module", "fake_spec", "--framework-module", "fake=fake_framework",
         "--framework-module", "absent=absent_framework",
         "--framework-module", "ghost=no_such_module_anywhere"]


def _bench(args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def suite_run(fake_env):
    """One run over every kind of outcome; returns (process, records, output dir)."""
    root, env = fake_env
    out = root / "run" / "results.jsonl"
    proc = _bench([*HOOKS, "--workloads", "A", "--frameworks", "fake,absent,ghost",
                   "--steps", "3", "--warmup", "1", "--timeout", "6", "--no-sizes",
                   "--out", str(out)], env)
    return proc, report.load(out), out.parent


def _cell(records, framework, mode):
    found = [r for r in records if r.get("kind") == "cell"
             and (r["framework"], r["mode"]) == (framework, mode)]
    assert len(found) == 1, (framework, mode, records)
    return found[0]


def test_successful_cell_is_measured_despite_stdout_chatter(suite_run):
    proc, records, _ = suite_run
    good = _cell(records, "fake", "good")
    assert good["status"] == "ok", good
    assert good["step_ms"]["n"] == 3 and good["predict_ms"]["n"] == 3
    assert len(good["step_times_ms"]) == 3
    assert good["step_ms"]["min"] <= good["step_ms"]["median"]
    assert good["loss_first"] == pytest.approx(1.8)
    assert good["loss_last"] == pytest.approx(2.0 * 0.9 ** 5)  # first + 1 warm-up + 3 timed
    assert good["logits_shape"] == [4, 2]
    assert good["peak_rss_mb"] > 1
    assert "fake/good/A: ok" in proc.stderr  # the progress line


def test_crashing_mode_is_failed_with_error_and_others_kept(suite_run):
    proc, records, _ = suite_run
    crash = _cell(records, "fake", "crash")
    assert crash["status"] == "failed"
    assert "ValueError: boom: deliberate crash in A" in crash["reason"]
    assert "Traceback" in crash["error"]
    assert proc.returncode == 1  # a failure is visible in the exit status
    assert "failed or timed out" in proc.stderr
    assert _cell(records, "fake", "good")["status"] == "ok"


def test_hanging_cell_times_out_and_is_killed(suite_run, fake_env):
    _, records, _ = suite_run
    hang = _cell(records, "fake", "hang")
    assert hang["status"] == "timeout"
    assert "6 s" in hang["reason"]
    pid = int((fake_env[0] / "hang.pid").read_text())
    deadline = time.time() + 5
    while Path(f"/proc/{pid}").exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "the hung cell process is still alive"


def test_unavailable_mode_and_missing_frameworks_have_reasons(suite_run):
    _, records, _ = suite_run
    unbuilt = _cell(records, "fake", "unbuilt")
    assert (unbuilt["status"], unbuilt["reason"]) == ("unavailable",
                                                      "graph mode does not exist yet")
    absent = _cell(records, "absent", "eager")
    assert (absent["status"], absent["reason"]) == ("unavailable", "fakelib is not installed")
    ghost = _cell(records, "ghost", "default")
    assert ghost["status"] == "unavailable"
    assert "no_such_module_anywhere" in ghost["reason"]


def test_run_record_and_report_written(suite_run):
    _, records, out_dir = suite_run
    assert records[0]["kind"] == "run"
    machine = records[0]["machine"]
    assert machine["cores"] >= 1 and machine["numpy"] and "thread_pools" in machine
    run_id = records[0]["run_id"]
    assert all(r["run_id"] == run_id for r in records)
    assert len([r for r in records if r.get("kind") == "cell"]) == 6
    text = (out_dir / "report.md").read_text()
    assert "| fake / crash |" in text and "failed: ValueError: boom" in text
    assert "unavailable: fakelib is not installed" in text
    assert "No ratios: PyTorch eager was not run" in text


@pytest.mark.parametrize("args, message", [
    (["--workloads", "A,W9"], "unknown workload W9; valid workloads: A, B"),
    (["--workloads", "A", "--frameworks", "mxnet"], "unknown framework 'mxnet'; valid "
                                                    "frameworks: ember, torch, tensorflow"),
    (["--workloads", "A", "--frameworks", "fake:turbo"],
     "unknown mode 'turbo' for fake; valid modes: good, crash, hang, unbuilt"),
])
def test_bad_names_exit_2_with_valid_names(fake_env, args, message):
    root, env = fake_env
    out = root / "bad" / "results.jsonl"
    proc = _bench([*HOOKS, *args, "--out", str(out)], env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not out.exists()  # nothing ran, nothing written


def _cell_record(run_id, framework, mode, workload, step, predict=None, rss=100.0):
    return {"kind": "cell", "run_id": run_id, "framework": framework, "mode": mode,
            "workload": workload, "status": "ok",
            "step_ms": {"median": step, "min": step * 0.9},
            "predict_ms": {"median": predict or step / 4, "min": (predict or step / 4) * 0.9},
            "first_step_ms": step * 10, "peak_rss_mb": rss, "loss_first": 2.3,
            "loss_last": 2.1}


def _handmade(path):
    rows = [
        {"kind": "run", "run_id": "old", "time": "t0", "machine": {"cores": 2}},
        _cell_record("old", "torch", "eager", "W1", 1.0),  # a ratio must never use this one
        _cell_record("old", "ember", "eager", "W1", 30.0),
        {"kind": "run", "run_id": "new", "time": "t1",
         "machine": {"cpu": "Test CPU", "cores": 2, "versions": {"jax": None}}},
        _cell_record("new", "ember", "eager", "W1", 10.0, predict=3.0, rss=80.0),
        _cell_record("new", "torch", "eager", "W1", 5.0, predict=1.0, rss=320.0),
        {"kind": "cell", "run_id": "new", "framework": "ember", "mode": "compiled",
         "workload": "W1", "status": "unavailable", "reason": "no ember.compile | yet"},
        _cell_record("new", "numpy", "ref", "W2", 40.0),
        {"kind": "cell", "run_id": "new", "framework": "torch", "mode": "eager",
         "workload": "W2", "status": "failed", "reason": "RuntimeError: oom"},
        {"kind": "size", "run_id": "new", "framework": "torch", "version": "2.13",
         "status": "ok", "import_s": 1.5, "package_mb": 700.0, "with_deps_mb": 800.0,
         "dependencies": ["filelock", "sympy"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{truncated line\n")
    return path


def _row(text, label):
    lines = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
    assert len(lines) == 1, (label, text)
    return [c.strip() for c in lines[0].strip("|").split("|")]


def _section(text, heading):
    return text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_report_ratios_use_torch_eager_of_the_same_run(tmp_path):
    text, cells, workloads = report.render(report.load(_handmade(tmp_path / "r.jsonl")))
    assert workloads == ["W1", "W2"] and len(cells) == 5
    assert "run new" in text and "Test CPU" in text and "jax not installed" in text
    w1, w2 = _section(text, "W1"), _section(text, "W2")
    ember = _row(w1, "ember / eager")
    assert ember[1:6] == ["10.00", "9.00", "2.00", "3.00", "3.00"]
    assert ember[7] == "80" and ember[-1] == "ok"
    assert _row(w1, "torch / eager")[3] == "1.00"
    assert "| ember / compiled | - |" in w1  # the pipe in the reason is escaped:
    assert "| unavailable: no ember.compile \\| yet |" in w1
    assert "No ratios" not in w1
    assert "No ratios: PyTorch eager has status failed in this run." in w2
    assert _row(w2, "numpy / ref")[3] == "-"
    assert _row(w2, "torch / eager")[-1] == "failed: RuntimeError: oom"
    sizes_table = _section(text, "Import time and installed size")
    assert _row(sizes_table, "torch")[2:5] == ["1.50", "700", "800"]

    old, _, _ = report.render(report.load(tmp_path / "r.jsonl"), run_id="old")
    assert _row(_section(old, "W1"), "ember / eager")[3] == "30.00"
    with pytest.raises(ValueError, match="run 'nope' not in the results file; runs: old, new"):
        report.render(report.load(tmp_path / "r.jsonl"), run_id="nope")


def test_report_command_writes_markdown_and_valid_pngs(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib not installed: no charts to check")
    results = _handmade(tmp_path / "r.jsonl")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "report", str(results),
                           "--out-dir", str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| ember / eager | 10.00 |" in (tmp_path / "out" / "report.md").read_text()
    for name in ("step_time.png", "peak_memory.png"):
        data = (tmp_path / "out" / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 2000, name


def test_report_without_matplotlib_says_charts_skipped(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises ImportError
    written = report.write_report(_handmade(tmp_path / "r.jsonl"), tmp_path / "out")
    assert [p.name for p in written] == ["report.md"]
    assert "charts skipped: matplotlib is not installed" in written[0].read_text()


def test_progress_lines_when_not_a_terminal(tmp_path):
    with open(tmp_path / "log", "w") as stream:
        progress = runner.Progress(2, stream=stream)
        cell = runner.Cell("torch", "eager", "W1")
        progress.running(cell)  # silent when not live
        progress.finished(cell, {"status": "timeout", "reason": "no result within 5 s"})
    lines = (tmp_path / "log").read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("torch/eager/W1: timeout - no result within 5 s")
    assert lines[0].startswith("[1/2")


def test_sizes_closure_excludes_numpy_and_sums_files():
    pytest.importorskip("torch", reason="torch not installed")
    closure = sizes.dependency_closure(["torch"])
    assert "torch" in closure and "numpy" not in closure
    assert "filelock" in closure  # a direct requirement of torch
    numpy_size = sizes.installed_size("numpy")
    assert numpy_size["package_mb"] > 5 and numpy_size["dependencies"] == []
    ember_size = sizes.installed_size("ember")  # editable: the source tree is counted
    assert ember_size["package_mb"] > 0.5
    assert 0 <= sizes.import_time("json", repeats=1) < 5


def test_default_modes_are_the_framework_modules_modes():
    """The fallback mode lists (used when a benchmark module cannot import) match the modules,
    so ember's optional-backend modes appear in the table even then."""
    from benchmarks.frameworks import load

    assert runner.DEFAULT_MODES["ember"] == load("ember").MODES
    assert {"onednn", "compiled_onednn", "onnxruntime"} <= set(runner.DEFAULT_MODES["ember"])


def test_optional_pieces_have_size_rows_or_say_why_not():
    """ember+onnxruntime and ember+onednn rows: sizes and load time when installed (libdnnl2's
    size from dpkg), else status unavailable with the reason."""
    rows = {r["framework"]: r for r in sizes.measure_options(repeats=1)}
    assert set(rows) == {"ember+onnxruntime", "ember+onednn"}
    for row in rows.values():
        assert row["kind"] == "size"
        if row["status"] == "ok":
            assert row["package_mb"] > 1 and row["with_deps_mb"] >= row["package_mb"]
            assert 0 <= row["import_s"] < 30
        else:
            assert row["status"] == "unavailable" and row["reason"]
    if rows["ember+onnxruntime"]["status"] == "ok":
        assert "onnxruntime" not in rows["ember+onnxruntime"]["dependencies"]
    text = "\n".join(report.sizes_table(list(rows.values())))
    assert "| ember+onednn |" in text and "| ember+onnxruntime |" in text
