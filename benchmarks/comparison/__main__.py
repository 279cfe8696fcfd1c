"""Command line of the comparison: run every (task, seed, framework) in its own process.

    python -m benchmarks.comparison [--frameworks ember,torch,keras] [--tasks cnn,lstm]
        [--seeds 3] [--epochs 6] [--lstm-steps 40] [--eval-every 23] [--threads 2]
        [--target 0.97] [--out FILE.json] [--doc docs/comparison.md | --no-doc]
    python -m benchmarks.comparison --from-json FILE.json [--doc ...]   # re-render only

Exit status: 0 when every run succeeded or its framework is not installed, 1 when a run
failed (the others are kept and reported), 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .._machine import cpu_model, load_average, numpy_blas
from .analysis import judge, summarize
from .report import render
from .trainers import FRAMEWORKS, TASKS

ROOT = Path(__file__).resolve().parents[2]
_REQUIRES = {"ember": ("ember",), "torch": ("torch",), "keras": ("tensorflow", "keras")}
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _csv(allowed: tuple, what: str):
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad) or '(none given)'}; choose from "
                f"{', '.join(allowed)}")
        return list(dict.fromkeys(items))
    return parse


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _accuracy(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an accuracy in (0, 1], got {text!r}") \
            from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected an accuracy in (0, 1], got {value}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    """Parse and check the command line (bad values exit with status 2 and a message)."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.comparison",
                                description="Train the same CNN and LSTM in ember, PyTorch "
                                "and Keras; write docs/comparison.md.")
    p.add_argument("--frameworks", type=_csv(FRAMEWORKS, "framework"), default=list(FRAMEWORKS))
    p.add_argument("--tasks", type=_csv(TASKS, "task"), default=list(TASKS))
    p.add_argument("--seeds", type=_positive, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--epochs", type=_positive, default=16, help="CNN epochs (default 16)")
    p.add_argument("--lstm-steps", type=_positive, default=40,
                   help="LSTM budget in steps (default 40)")
    p.add_argument("--eval-every", type=_positive, default=23,
                   help="steps between evaluations (default 23: once per CNN epoch)")
    p.add_argument("--test-windows", type=_positive, default=256,
                   help="held-out text windows for the LSTM loss (default 256)")
    p.add_argument("--threads", type=_positive, default=2, help="intra-op/BLAS threads")
    p.add_argument("--keras-jit", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--target", type=_accuracy, default=0.97, help="accuracy target (0.97)")
    p.add_argument("--second-target", type=_accuracy, default=0.95)
    p.add_argument("--timeout", type=_positive, default=1800, help="seconds per run")
    p.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/"
                   "comparison-<date>.json)")
    p.add_argument("--doc", type=Path, default=ROOT / "docs" / "comparison.md")
    p.add_argument("--no-doc", action="store_true", help="do not write the Markdown page")
    p.add_argument("--from-json", type=Path, help="re-render the page from a results file")
    args = p.parse_args(argv)
    if args.from_json is not None and not args.from_json.is_file():
        p.error(f"--from-json: no such file: {args.from_json}")
    return args


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def _installed(framework: str) -> str | None:
    """None when the framework's packages are importable, else the reason."""
    missing = [m for m in _REQUIRES[framework] if importlib.util.find_spec(m) is None]
    return f"not installed: {', '.join(missing)}" if missing else None


def run_one(task: str, framework: str, seed: int, args: argparse.Namespace) -> dict:
    """One worker process; its JSON record (or a ``failed`` one saying why)."""
    reason = _installed(framework)
    if reason:
        return {"status": "unavailable", "task": task, "framework": framework, "seed": seed,
                "reason": reason}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update({name: str(args.threads) for name in _THREAD_VARS})
    cmd = [sys.executable, "-m", "benchmarks.comparison.worker", "--task", task,
           "--framework", framework, "--seed", str(seed), "--epochs", str(args.epochs),
           "--steps", str(args.lstm_steps), "--eval-every", str(args.eval_every),
           "--test-windows", str(args.test_windows), "--threads", str(args.threads),
           "--keras-jit", args.keras_jit]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "task": task, "framework": framework, "seed": seed,
                "reason": f"timeout after {args.timeout} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"status": "failed", "task": task, "framework": framework, "seed": seed,
                "reason": f"exit code {proc.returncode}, no result",
                "stderr": proc.stderr[-2000:]}
    return json.loads(lines[-1])


def _versions(runs: list) -> list[str]:
    seen = {}
    for r in runs:
        if r.get("status") == "ok":
            version = str(r["version"])
            seen.setdefault(r["framework"], version if version.startswith(r["framework"])
                            else f"{r['framework']} {version}")
    return list(seen.values())


def finish(record: dict, args: argparse.Namespace) -> dict:
    """Add the summary and the verdicts to ``record``; write the page unless ``--no-doc``."""
    cfg = record["config"]
    record["summary"] = summarize(record["runs"], cfg["target"], cfg["second_target"])
    record["claims"] = judge(record["summary"])
    if not args.no_doc:
        args.doc.parent.mkdir(parents=True, exist_ok=True)
        args.doc.write_text(render(record))
    return record


def _plain(obj):
    """JSON form of a ``Stat`` (a dataclass): its fields."""
    return obj.__dict__


def main(argv=None) -> int:
    """Run everything (or re-render ``--from-json``); see the module docstring."""
    args = parse_args(argv)
    if args.from_json is not None:
        record = json.loads(args.from_json.read_text())
        finish(record, args)  # the summary and verdicts are recomputed from the runs
        print(f"wrote {args.doc}", file=sys.stderr)
        return 0
    date = datetime.date.today().isoformat()
    out = args.out or ROOT / "benchmarks" / "results" / f"comparison-{date}.json"
    import numpy as np

    record = {
        "kind": "comparison", "date": date, "json": _relative(out),
        "config": {"frameworks": args.frameworks, "tasks": args.tasks,
                   "seeds": list(range(args.seeds)), "epochs": args.epochs,
                   "lstm_steps": args.lstm_steps, "eval_every": args.eval_every,
                   "test_windows": args.test_windows, "threads": args.threads,
                   "keras_jit": args.keras_jit, "target": args.target,
                   "second_target": args.second_target},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "numpy": np.__version__,
                    "numpy_blas": numpy_blas(), "python": sys.version.split()[0]},
        "uptime_start": _uptime(), "load_start": load_average(), "runs": [],
    }
    plan = [(t, s, f) for t in args.tasks for s in range(args.seeds) for f in args.frameworks]
    start = time.perf_counter()
    for i, (task, seed, fw) in enumerate(plan, 1):
        t0 = time.perf_counter()
        result = run_one(task, fw, seed, args)
        record["runs"].append(result)
        print(f"[{i}/{len(plan)}] {task} {fw} seed {seed}: {result['status']}"
              f"{' (' + result.get('reason', '') + ')' if result['status'] != 'ok' else ''}"
              f" in {time.perf_counter() - t0:.0f} s, load {load_average()}", file=sys.stderr)
    record.update(wall_s=time.perf_counter() - start, uptime_end=_uptime(),
                  load_end=load_average(), versions=_versions(record["runs"]))
    finish(record, args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, default=_plain) + "\n")
    print(f"wrote {out}" + ("" if args.no_doc else f" and {args.doc}"), file=sys.stderr)
    return 0 if all(r["status"] in ("ok", "unavailable") for r in record["runs"]) else 1


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
