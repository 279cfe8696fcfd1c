"""One training run — (task, framework, seed) — in its own process; prints one JSON line.

    python -m benchmarks.comparison.worker --task cnn --framework torch --seed 0 \\
        [--epochs 6] [--steps 40] [--eval-every 23] [--threads 2] [--keras-jit auto]

The parent (``python -m benchmarks.comparison``) starts one per run so that peak memory and
thread pools are per run. The run:

1. imports the framework (``import_s``, not part of any training time), fixes its thread
   pools (``trainers.set_threads``), prepares the data (``data.py``) and builds the model from
   the seed's canonical weights (``build_s``);
2. trains in chunks of at most ``--eval-every`` steps (chunks never cross an epoch end) and
   after each chunk evaluates on the test data, outside the clock: ``train_s`` counts training
   steps only (for Keras including ``model.fit``'s own overhead and its first-call tracing,
   which a user pays too); an evaluation also happens before the first step;
3. reports the first step's loss, the curve (step, epoch, train_s, train loss, test accuracy
   and/or loss), RSS after the import and after the setup, and the peak RSS of the process.

The CNN trains for ``--epochs`` epochs, the LSTM for ``--steps`` steps (one of the two applies).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import sys
import time
import traceback

import numpy as np

EVAL_BATCH = 128


def _rss_mb() -> float:
    """Current resident set size in MiB (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _peak_rss_mb() -> float:
    """Peak RSS in MiB: ``ru_maxrss``, or the current RSS if higher (Linux updates the
    high-water mark lazily, so right after growth it can lag the current size)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(peak / 2**20 if sys.platform == "darwin" else peak / 1024, _rss_mb())


def _import(framework: str) -> str:
    """Import the framework (the timed import); returns its version string."""
    if framework == "torch":
        import torch
        return torch.__version__
    if framework == "keras":
        import keras
        import tensorflow as tf
        return f"keras {keras.__version__}, tensorflow {tf.__version__}"
    import ember
    return getattr(ember, "__version__", "?")


def evaluate(trainer, task: str, data: dict) -> dict:
    """Test metrics from the trainer's logits, computed the same way (NumPy) for everyone."""
    x, y = data["x_test"], data["y_test"]
    total_loss, correct, count = 0.0, 0, 0
    for start in range(0, len(x), EVAL_BATCH):
        logits = trainer.logits(x[start:start + EVAL_BATCH]).astype(np.float64)
        labels = y[start:start + EVAL_BATCH]
        logits = logits.reshape(-1, logits.shape[-1])
        labels = labels.reshape(-1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(shifted).sum(axis=1))
        total_loss += float((log_z - shifted[np.arange(len(labels)), labels]).sum())
        correct += int((logits.argmax(axis=1) == labels).sum())
        count += len(labels)
    out = {"test_loss": total_loss / count}
    if task == "cnn":
        out["test_accuracy"] = correct / count
    return out


def _chunks(task: str, n: int, batch: int, seed: int, epochs: int, steps: int, every: int):
    """The run's batches grouped into evaluation chunks (never crossing an epoch end)."""
    from .data import batches

    source = batches(n, batch, seed, epochs=epochs) if task == "cnn" else \
        batches(n, batch, seed, steps=steps)
    chunk, last_epoch = [], 0
    for epoch, idx in source:
        if chunk and (epoch != last_epoch or len(chunk) == every):
            yield chunk
            chunk = []
        chunk.append(idx)
        last_epoch = epoch
    if chunk:
        yield chunk


def run(args: argparse.Namespace) -> dict:
    """Do the run described by the parsed arguments; returns the result record."""
    t0 = time.perf_counter()
    version = _import(args.framework)
    import_s = time.perf_counter() - t0
    rss_after_import = _rss_mb()

    from ..workloads.spec import WORKLOADS
    from . import data as data_mod
    from .trainers import WORKLOAD, build, set_threads

    threads = set_threads(args.framework, args.threads)
    data = data_mod.digits() if args.task == "cnn" else data_mod.text_windows(args.test_windows)
    t0 = time.perf_counter()
    trainer = build(args.framework, args.task, args.seed, data, keras_jit=args.keras_jit)
    build_s = time.perf_counter() - t0
    rss_after_setup = _rss_mb()

    n, batch = len(data["x_train"]), WORKLOADS[WORKLOAD[args.task]].batch
    per_epoch = math.ceil(n / batch)
    curve = [{"step": 0, "epoch": 0.0, "train_s": 0.0, "train_loss": None,
              **evaluate(trainer, args.task, data)}]
    train_s = eval_s = 0.0
    step, first_loss = 0, None
    for chunk in _chunks(args.task, n, batch, args.seed, args.epochs, args.steps,
                         args.eval_every):
        t0 = time.perf_counter()
        first, mean = trainer.train(chunk)
        train_s += time.perf_counter() - t0
        first_loss = first if first_loss is None else first_loss
        step += len(chunk)
        t0 = time.perf_counter()
        metrics = evaluate(trainer, args.task, data)
        eval_s += time.perf_counter() - t0
        curve.append({"step": step, "epoch": round(step / per_epoch, 4), "train_s": train_s,
                      "train_loss": mean, **metrics})
    return {"status": "ok", "task": args.task, "framework": args.framework, "seed": args.seed,
            "version": version, "threads": threads, "steps": step, "steps_per_epoch": per_epoch,
            "batch": batch, "import_s": import_s, "build_s": build_s, "train_s": train_s,
            "eval_s": eval_s, "step_ms": 1000 * train_s / max(step, 1),
            "first_loss": first_loss, "curve": curve,
            "keras_jit_compile": getattr(trainer, "jit_compile", None),
            "rss_after_import_mb": rss_after_import, "rss_after_setup_mb": rss_after_setup,
            "peak_rss_mb": _peak_rss_mb(), "load_average_after": list(os.getloadavg())}


def parse_args(argv=None) -> argparse.Namespace:
    """The worker's arguments (see the module docstring)."""
    from .trainers import FRAMEWORKS, TASKS

    p = argparse.ArgumentParser(prog="python -m benchmarks.comparison.worker")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--framework", required=True, choices=FRAMEWORKS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=16, help="CNN epochs")
    p.add_argument("--steps", type=int, default=40, help="LSTM steps")
    p.add_argument("--eval-every", type=int, default=23, help="steps between evaluations")
    p.add_argument("--test-windows", type=int, default=256, help="LSTM held-out windows")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--keras-jit", choices=("auto", "on", "off"), default="auto")
    args = p.parse_args(argv)
    for name in ("epochs", "steps", "eval_every", "test_windows", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def main(argv=None) -> int:
    """Run and print one JSON line on stdout (framework chatter goes to stderr)."""
    args = parse_args(argv)
    real_stdout = sys.stdout
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = run(args)
        code = 0
    except Exception as error:  # noqa: BLE001 - every failure becomes a "failed" record
        result = {"status": "failed", "task": args.task, "framework": args.framework,
                  "seed": args.seed, "reason": f"{type(error).__name__}: {error}",
                  "error": traceback.format_exc()[-2000:]}
        code = 1
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
