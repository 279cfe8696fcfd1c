"""Forward-only (inference) time of W1-W5: ember eager, ember's graph in ONNX Runtime, and
PyTorch eager for scale.

Run from the repository root::

    python -m benchmarks.onnx_inference                 # all five, Markdown table
    python -m benchmarks.onnx_inference --workloads W2,W4 --repeats 5 --json out.json

Every column runs the same weights (``benchmarks.workloads.spec.init_weights``) on the same
batch at the workload's batch size. The ONNX model is exported with ``ember.onnx.export``
(tracing the model's forward under ``no_grad``) and run by one ``InferenceSession`` with
``--ort-threads`` intra-op threads (default 2, the machine's cores) and all graph
optimizations. Times are medians of ``--repeats`` interleaved repeats (``_timing``), each
about ``--target-ms`` long; the table also gives the largest difference between ember's and
ONNX Runtime's logits, the export time and the session-creation time. torch uses
``--torch-threads`` threads (default 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from ._machine import load_average
from ._timing import loop_runner, measure_interleaved
from .workloads.spec import init_weights, make_batch

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")


def _runners(workload: str, seed: int, ort_threads: int, torch_ok: bool):
    """``({column: zero-arg callable}, facts)`` for one workload."""
    import ember
    import ember.onnx

    from .frameworks.ember import EmberRunner

    weights = init_weights(workload, seed)
    x, _ = make_batch(workload, seed)
    em = EmberRunner(workload, weights, seed)
    start = time.perf_counter()
    model_bytes = ember.onnx.export(em.model, x)
    export_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    session = ember.onnx.OnnxRuntimeExecutor(model_bytes, intra_op_threads=ort_threads)
    session_ms = (time.perf_counter() - start) * 1e3
    em.model.eval()
    want = em.predict(x)
    got = session(x)[0]
    facts = {"max_abs_diff": float(np.abs(got - want).max()), "export_ms": export_ms,
             "session_ms": session_ms, "onnx_kb": len(model_bytes) / 1024,
             "batch": int(x.shape[0])}
    runners = {"ember eager": lambda: em.predict(x), "ember -> ORT": lambda: session(x)}
    if torch_ok:
        from .frameworks.torch import TorchRunner

        tr = TorchRunner(workload, "eager", weights, seed)
        tr.model.eval()
        facts["torch_max_abs_diff"] = float(np.abs(tr.predict(x) - want).max())
        runners["torch eager"] = lambda: tr.predict(x)
    return runners, facts


def main(argv: list | None = None) -> int:
    """Measure, print a Markdown table, optionally write JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--target-ms", type=float, default=150.0)
    p.add_argument("--ort-threads", type=int, default=2)
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(args.torch_threads)
        torch_ok = True
    except ImportError:
        torch_ok = False
    import ember.onnx

    if not ember.onnx.is_available():
        print("onnxruntime is not installed: pip install onnxruntime", file=sys.stderr)
        return 1
    import onnxruntime

    rows = []
    load_before = load_average()
    for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        runners, facts = _runners(workload, args.seed, args.ort_threads, torch_ok)
        timings = measure_interleaved({k: loop_runner(fn) for k, fn in runners.items()},
                                      repeats=args.repeats, target_s=args.target_ms / 1e3)
        rows.append({"workload": workload, **facts,
                     **{k: t.as_dict() for k, t in timings.items()}})
        print(f"{workload} done", file=sys.stderr)
    print(f"onnxruntime {onnxruntime.__version__}, ORT intra-op threads {args.ort_threads}, "
          f"torch threads {args.torch_threads}; load average before {load_before}, after "
          f"{load_average()}; medians of {args.repeats} repeats (ms per forward)\n")
    print("| workload | batch | ember eager | ember -> ORT | torch eager | ember/ORT | "
          "torch/ORT | max abs diff | export ms | session ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        em, ort = r["ember eager"]["median_us"] / 1e3, r["ember -> ORT"]["median_us"] / 1e3
        th = r["torch eager"]["median_us"] / 1e3 if "torch eager" in r else float("nan")
        print(f"| {r['workload']} | {r['batch']} | {em:.2f} | {ort:.2f} | {th:.2f} | "
              f"{em / ort:.1f}x | {th / ort:.1f}x | {r['max_abs_diff']:.1e} | "
              f"{r['export_ms']:.0f} | {r['session_ms']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "load_average": [load_before, load_average()],
                       "onnxruntime": onnxruntime.__version__}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
