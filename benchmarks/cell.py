"""Run one benchmark cell — one (framework, mode, workload) — and print its measurements.

    python -m benchmarks.cell --framework torch --mode eager --workload W1 \\
        [--steps 30] [--warmup 5] [--seed 0] [--threads N]

The runner (``benchmarks/runner.py``) starts one such process per cell, so that peak memory,
thread pools and compile caches never leak from one cell into the next. The cell:

1. checks ``available()`` of the framework module and builds its Runner from the canonical
   data and initial weights of ``benchmarks.workloads.spec`` (``make_batch``, ``init_weights``);
2. times the first training step (which includes any trace or compile), ``--warmup`` more
   untimed steps, then ``--steps`` steps one by one with ``time.perf_counter``;
3. times the first ``predict`` and then ``--steps`` more (forward-only inference, same batch);
4. reads the peak RSS of the process (``ru_maxrss``): it includes the interpreter, NumPy and
   the framework's own import, which is part of what a user pays.

It prints exactly one JSON object on stdout (anything the framework itself prints to stdout
is moved to stderr so it cannot corrupt that line) with ``status``:

- ``"ok"`` and the measurements;
- ``"unavailable"`` with a ``reason``: the framework is not installed, or the mode raised
  ``ModeUnavailable`` (for example ember's graph mode before ``ember.compile`` exists);
- ``"failed"`` with the ``error`` (exception and traceback tail), exit code 1.

Test hooks: ``--framework-module`` imports the framework from another module path and
``--spec-module`` the workload spec, so tests can run fake frameworks and workloads.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import sys
import time
import traceback
from typing import Any

DEFAULT_SPEC_MODULE = "benchmarks.workloads.spec"
ERROR_TAIL_CHARS = 2000


class _Unavailable(Exception):
    """Raised inside the cell when the framework or the mode cannot run here."""


def load_framework(name: str, module_path: str | None = None) -> Any:
    """The framework module ``name``: ``benchmarks.frameworks.load(name)`` or ``module_path``.

    Raises ``_Unavailable`` when no such benchmark module exists, with the import error.
    """
    if module_path:
        return importlib.import_module(module_path)
    try:
        frameworks = importlib.import_module("benchmarks.frameworks")
    except ImportError as error:
        raise _Unavailable(f"benchmarks.frameworks is not importable: {error}") from error
    loader = getattr(frameworks, "load", None)
    try:
        if loader is not None:
            return loader(name)
        return importlib.import_module(f"benchmarks.frameworks.{name}")
    except ModuleNotFoundError as error:
        raise _Unavailable(str(error)) from error
    except KeyError as error:  # load() of a name it does not know
        raise _Unavailable(str(error.args[0] if error.args else error)) from error


def _is_mode_unavailable(error: BaseException) -> bool:
    # Matched by name, so a framework module (or a test's fake one) may define its own class.
    return any(cls.__name__ == "ModeUnavailable" for cls in type(error).__mro__)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _summary_ms(times_s: list[float]) -> dict:
    ms = [t * 1e3 for t in times_s]
    return {"median": statistics.median(ms), "min": min(ms), "max": max(ms),
            "mean": statistics.fmean(ms), "n": len(ms)}


def measure(framework: Any, args: argparse.Namespace) -> dict:
    """Build the Runner of ``framework`` for the cell in ``args`` and time it (see module doc)."""
    ok, reason = framework.available()
    if not ok:
        raise _Unavailable(reason)
    modes = tuple(getattr(framework, "MODES", ()))
    if modes and args.mode not in modes:
        raise _Unavailable(f"mode {args.mode!r} is not one of {args.framework}'s modes "
                           f"{', '.join(modes)}")
    spec = importlib.import_module(args.spec_module)
    x, y = spec.make_batch(args.workload, args.seed)
    weights = spec.init_weights(args.workload, args.seed)
    rss_before_build = peak_rss_mb()

    start = time.perf_counter()
    runner = framework.build(args.workload, args.mode, weights, args.seed)
    build_s = time.perf_counter() - start

    start = time.perf_counter()
    loss_first = float(runner.step(x, y))
    first_step_s = time.perf_counter() - start
    for _ in range(args.warmup):
        runner.step(x, y)
    step_times, loss_last = [], loss_first
    for _ in range(args.steps):
        start = time.perf_counter()
        loss_last = float(runner.step(x, y))
        step_times.append(time.perf_counter() - start)

    start = time.perf_counter()
    logits = runner.predict(x)
    first_predict_s = time.perf_counter() - start
    predict_times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        runner.predict(x)
        predict_times.append(time.perf_counter() - start)

    from benchmarks._machine import thread_pools

    return {
        "status": "ok",
        "step_ms": _summary_ms(step_times),
        "predict_ms": _summary_ms(predict_times),
        "first_step_ms": first_step_s * 1e3,
        "first_predict_ms": first_predict_s * 1e3,
        "build_ms": build_s * 1e3,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_build_mb": rss_before_build,
        "loss_first": loss_first,
        "loss_last": loss_last,
        "logits_shape": list(getattr(logits, "shape", ())),
        "step_times_ms": [round(t * 1e3, 4) for t in step_times],
        "thread_pools": thread_pools(),
    }


def default_threads() -> int:
    """``$BENCH_THREADS`` if set, else the cores this process may use."""
    if os.environ.get("BENCH_THREADS"):
        return int(os.environ["BENCH_THREADS"])
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def apply_threads(n: int) -> None:
    """Give every framework ``n`` intra-op threads, through the variables each reads when it
    loads (so: before any of them is imported). OpenBLAS (NumPy, ember, numpy_ref), OpenMP
    (torch, oneDNN), MKL, TensorFlow; XLA (JAX) can only be limited to one thread."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "TF_NUM_INTRAOP_THREADS"):
        os.environ[name] = str(n)
    if n == 1:
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()


def build_parser() -> argparse.ArgumentParser:
    """Arguments of one cell (the runner passes all of them)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cell",
                                     description="Run and time one benchmark cell.")
    parser.add_argument("--framework", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="intra-op threads for every framework (default: $BENCH_THREADS "
                             "or the usable cores)")
    parser.add_argument("--framework-module", default=None,
                        help="import the framework from this module (test hook)")
    parser.add_argument("--spec-module", default=DEFAULT_SPEC_MODULE,
                        help="module with make_batch and init_weights (test hook)")
    return parser


def _claim_stdout() -> Any:
    """A private handle on the real stdout; fd 1 then points at stderr for everyone else."""
    sys.stdout.flush()
    result_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return result_stream


def main(argv: list[str] | None = None) -> int:
    """Run the cell and print its JSON line; exit 0 (ok or unavailable) or 1 (failed)."""
    args = build_parser().parse_args(argv)
    result_stream = _claim_stdout()
    record: dict[str, Any] = {"framework": args.framework, "mode": args.mode,
                              "workload": args.workload, "steps": args.steps,
                              "warmup": args.warmup, "seed": args.seed, "threads": args.threads}
    code = 0
    apply_threads(args.threads)
    try:
        framework = load_framework(args.framework, args.framework_module)
        record.update(measure(framework, args))
    except _Unavailable as error:
        record.update(status="unavailable", reason=str(error))
    except Exception as error:
        if _is_mode_unavailable(error):  # raised by build, or by a first step that compiles
            record.update(status="unavailable", reason=str(error) or type(error).__name__)
        else:  # a crashing mode is a result to report, not to hide
            record.update(status="failed", reason=f"{type(error).__name__}: {error}",
                          error=traceback.format_exc()[-ERROR_TAIL_CHARS:],
                          peak_rss_mb=peak_rss_mb())
            code = 1
    result_stream.write(json.dumps(record) + "\n")
    result_stream.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
