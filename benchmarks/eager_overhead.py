"""Per-op cost of ember eager against the bare NumPy call and PyTorch eager.

Run from the repository root::

    python -m benchmarks.eager_overhead            # full run, Markdown table on stdout
    python -m benchmarks.eager_overhead --quick    # a few seconds, numbers only indicative
    python -m benchmarks.eager_overhead --json out.json   # also the raw numbers + machine

Rows: single ops (add, mul, x * 2.0, exp, tanh, relu, sum, matmul) on float32 tensors of 10
elements (matmul: 10x10) and 256x256, each with ``requires_grad`` False and True (True records
an autograd node); then a 100-op elementwise chain (mul, add, tanh in turn) forward with
``requires_grad=True``, and its backward, against a hand-written NumPy backward as the floor.

Each number is the median (``--stat min``: minimum) of ``--repeats`` (default 7) timeit-style
loops whose loop count is chosen so that one repeat takes about ``--target-ms`` (default
75 ms); it is given per op in microseconds (the chain's total divided by its 100 ops). The
targets checked per row are the issue's: ember's overhead over NumPy at most 2 us per forward
op, and ember faster than PyTorch on small tensors. PyTorch is a reference only; without it
its column reads "not installed". Thread settings are left as they are (``--torch-threads``
sets torch's) and printed with the results, with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import ember

from ._machine import load_average, machine_info
from ._timing import CLOCKS, Timing, loop_runner, measure_interleaved, split_runner

try:  # a reference column only: the benchmark runs and says so without it
    import torch

    TORCH_MISSING = None
except Exception as exc:  # ImportError, or a broken install failing on import
    torch = None
    TORCH_MISSING = f"{type(exc).__name__}: {exc}"

CHAIN_LENGTH = 100
OVERHEAD_TARGET_US = 2.0
SIZES = {"small": (10,), "medium": (256, 256)}
MATMUL_SIZES = {"small": (10, 10), "medium": (256, 256)}


@dataclass
class Row:
    """One line of the table: a workload measured on each library, per op."""

    op: str
    size: str
    shape: tuple
    requires_grad: bool
    direction: str = "forward"  # or "backward"
    ops_per_call: int = 1
    numpy: Timing | None = None
    ember: Timing | None = None
    torch: Timing | None = None
    notes: dict = field(default_factory=dict)  # library -> why it has no number

    def per_op(self, library: str, statistic: str = "median") -> float | None:
        """Microseconds per op: the median (or minimum) over repeats, divided by the ops."""
        timing = getattr(self, library)
        if timing is None:
            return None
        value = timing.median_us if statistic == "median" else min(timing.repeat_us)
        return value / self.ops_per_call

    def as_dict(self) -> dict:
        out = {"op": self.op, "size": self.size, "shape": list(self.shape),
               "requires_grad": self.requires_grad, "direction": self.direction,
               "ops_per_call": self.ops_per_call, "notes": self.notes}
        for lib in ("numpy", "ember", "torch"):
            timing = getattr(self, lib)
            out[lib] = None if timing is None else timing.as_dict()
            out[f"{lib}_per_op_us"] = self.per_op(lib)
            out[f"{lib}_per_op_min_us"] = self.per_op(lib, "min")
        return out


# ------------------------------------------------------------------------ the workloads
# Each op is (numpy call, ember call, torch call) on already-built operands, so that the three
# measured lambdas do the same Python work around the library call.

SINGLE_OPS: dict[str, tuple[int, tuple[Callable, Callable, Callable]]] = {
    # name: (number of tensor operands, (numpy, ember, torch))
    "add": (2, (lambda a, b: a + b,) * 3),
    "mul": (2, (lambda a, b: a * b,) * 3),
    "x * 2.0": (1, (lambda a: a * 2.0,) * 3),
    "exp": (1, (lambda a: np.exp(a), lambda a: ember.exp(a), lambda a: torch.exp(a))),
    "tanh": (1, (lambda a: np.tanh(a), lambda a: ember.tanh(a), lambda a: torch.tanh(a))),
    "relu": (1, (lambda a: np.maximum(a, 0), lambda a: ember.relu(a),
                 lambda a: torch.relu(a))),
    "sum": (1, (lambda a: a.sum(),) * 3),
    "matmul": (2, (lambda a, b: a @ b,) * 3),
}


def chain(x, tanh):
    """The 100-op chain: ``y = y * x``, ``y = y + x``, ``y = tanh(y)`` in turn."""
    y = x
    for i in range(CHAIN_LENGTH):
        step = i % 3
        if step == 0:
            y = y * x
        elif step == 1:
            y = y + x
        else:
            y = tanh(y)
    return y


def numpy_chain_saving(x: np.ndarray):
    """The chain's forward in NumPy, keeping what its backward reads (the backward floor)."""
    saved = []
    y = x
    for i in range(CHAIN_LENGTH):
        step = i % 3
        if step == 0:
            saved.append(y)
            y = y * x
        elif step == 1:
            saved.append(None)
            y = y + x
        else:
            y = np.tanh(y)
            saved.append(y)
    return saved


def numpy_chain_backward(saved: list, x: np.ndarray) -> np.ndarray:
    """d(sum(chain(x) * ones))/dx written by hand: the least work any framework must do."""
    g = np.ones_like(x)
    gx = np.zeros_like(x)
    for i in reversed(range(CHAIN_LENGTH)):
        step = i % 3
        if step == 0:
            gx += g * saved[i]
            g = g * x
        elif step == 1:
            gx += g
        else:
            g = g * (1 - saved[i] * saved[i])
    gx += g  # the chain starts from x itself
    return gx


# ------------------------------------------------------------------------ running

def _operands(shape, count, seed):
    rng = np.random.default_rng(seed)
    # scaled so the chain's values stay in tanh's non-saturated range
    return [(rng.standard_normal(shape) * 0.5).astype(np.float32) for _ in range(count)]


def _ember_tensors(arrays, requires_grad):
    return [ember.from_numpy(a.copy()).requires_grad_(requires_grad) for a in arrays]


def _torch_tensors(arrays, requires_grad):
    return [torch.from_numpy(a.copy()).requires_grad_(requires_grad) for a in arrays]


def _to_numpy(value):
    if isinstance(value, np.ndarray | np.generic):
        return np.asarray(value)
    return value.detach().numpy()  # an ember or torch tensor


def _try(row: Row, library: str, call: Callable, expected, rtol: float):
    """Call once to check the op exists and agrees with NumPy: its result, or None with
    the reason in ``row.notes`` (an op not written yet reads "missing")."""
    try:
        result = call()
    except (AttributeError, TypeError, NotImplementedError) as exc:
        row.notes[library] = f"missing ({type(exc).__name__}: {exc})"
        return None
    except Exception as exc:
        row.notes[library] = f"error ({type(exc).__name__}: {exc})"
        return None
    got = _to_numpy(result)
    if expected is not None and not np.allclose(got, expected, rtol=rtol, atol=1e-5):
        row.notes[library] = "wrong result"
        return None
    return result


def single_op_row(name: str, size: str, requires_grad: bool, repeats: int,
                  target_s: float, clock=CLOCKS["wall"]) -> Row:
    """One op of ``SINGLE_OPS`` at one size, timed on NumPy, ember and torch."""
    count, (np_fn, ember_fn, torch_fn) = SINGLE_OPS[name]
    shape = MATMUL_SIZES[size] if name == "matmul" else SIZES[size]
    arrays = _operands(shape, count, seed=len(name))
    row = Row(name, size, shape, requires_grad)
    expected = np_fn(*arrays)
    rtol = 1e-3 if name in ("sum", "matmul") else 1e-5
    runners = {"numpy": loop_runner(lambda: np_fn(*arrays), clock)}
    e = _ember_tensors(arrays, requires_grad)
    if _try(row, "ember", lambda: ember_fn(*e), expected, rtol) is not None:
        runners["ember"] = loop_runner(lambda: ember_fn(*e), clock)
    if torch is None:
        row.notes["torch"] = "not installed"
    else:
        t = _torch_tensors(arrays, requires_grad)
        if _try(row, "torch", lambda: torch_fn(*t), expected, rtol) is not None:
            runners["torch"] = loop_runner(lambda: torch_fn(*t), clock)
    for lib, timing in measure_interleaved(runners, repeats=repeats, target_s=target_s).items():
        setattr(row, lib, timing)
    return row


def _backward_runner(x, tanh, ones_like):
    """(setup, timed): setup builds the chain's graph afresh, timed runs its backward."""
    def setup():
        x.grad = None
        return chain(x, tanh)

    def timed(y):
        y.backward(ones_like(y))

    return setup, timed


def _chain_runners(fwd: Row, bwd: Row, lib: str, x, tanh, ones_like, expected,
                   expected_grad, clock) -> tuple:
    """Forward and backward runners of the chain for one library (None where it fails)."""
    if _try(fwd, lib, lambda: chain(x, tanh), expected, 1e-5) is None:
        bwd.notes[lib] = fwd.notes[lib]
        return None, None
    setup, timed = _backward_runner(x, tanh, ones_like)
    backward = None
    if _try(bwd, lib, lambda: timed(setup()) or x.grad, expected_grad, 1e-4) is not None:
        backward = split_runner(setup, timed, clock)
    return loop_runner(lambda: chain(x, tanh), clock), backward


def chain_rows(size: str, repeats: int, target_s: float, clock=CLOCKS["wall"]) -> list[Row]:
    """The chain's forward row and backward row at one size."""
    shape = SIZES[size]
    (x_np,) = _operands(shape, 1, seed=7)
    name = f"chain of {CHAIN_LENGTH} (mul/add/tanh)"
    fwd = Row(name, size, shape, True, "forward", CHAIN_LENGTH)
    bwd = Row(name, size, shape, True, "backward", CHAIN_LENGTH)
    expected = chain(x_np, np.tanh)
    expected_grad = numpy_chain_backward(numpy_chain_saving(x_np), x_np)
    forward = {"numpy": loop_runner(lambda: chain(x_np, np.tanh), clock)}
    backward = {"numpy": split_runner(lambda: numpy_chain_saving(x_np),
                                      lambda saved: numpy_chain_backward(saved, x_np), clock)}
    libraries = [("ember", lambda: _ember_tensors([x_np], True)[0], ember.tanh, ember.ones_like)]
    if torch is None:
        fwd.notes["torch"] = bwd.notes["torch"] = "not installed"
    else:
        libraries.append(("torch", lambda: _torch_tensors([x_np], True)[0], torch.tanh,
                          torch.ones_like))
    for lib, make_x, tanh, ones_like in libraries:
        runners = _chain_runners(fwd, bwd, lib, make_x(), tanh, ones_like, expected,
                                 expected_grad, clock)
        for into, runner in zip((forward, backward), runners):
            if runner is not None:
                into[lib] = runner
    for row, runners in ((fwd, forward), (bwd, backward)):
        for lib, timing in measure_interleaved(runners, repeats=repeats,
                                               target_s=target_s).items():
            setattr(row, lib, timing)
    return [fwd, bwd]


def run(repeats: int, target_s: float, progress=None, timer: str = "wall") -> list[Row]:
    """Measure every row of the table; ``timer`` is a key of ``CLOCKS``, ``progress`` is
    called with each finished row."""
    clock = CLOCKS[timer]
    rows = []
    for size in SIZES:
        for name in SINGLE_OPS:
            for requires_grad in (False, True):
                rows.append(single_op_row(name, size, requires_grad, repeats, target_s, clock))
                if progress:
                    progress(rows[-1])
    for size in SIZES:
        rows.extend(chain_rows(size, repeats, target_s, clock))
        if progress:
            progress(rows[-1])
    return rows


# ------------------------------------------------------------------------ reporting

COLUMNS = ("op", "size", "requires_grad", "direction", "numpy us/op", "ember us/op", "torch us/op",
           "ember - numpy us/op", "ember / torch", f"overhead <= {OVERHEAD_TARGET_US:g} us",
           "faster than torch (small)")


def _cell(value: float | None, note: str | None) -> str:
    if value is None:
        return note or "-"
    return f"{value:.2f}"


def row_cells(row: Row, statistic: str = "median") -> list[str]:
    """The Markdown cells of one row; a target that does not apply shows as '-'."""
    np_us, em_us, th_us = (row.per_op(lib, statistic) for lib in ("numpy", "ember", "torch"))
    overhead = None if em_us is None else em_us - np_us
    ratio = None if em_us is None or th_us is None else em_us / th_us
    meets_overhead = "-"
    if overhead is not None and row.direction == "forward":
        meets_overhead = "yes" if overhead <= OVERHEAD_TARGET_US else "NO"
    meets_torch = "-"
    if ratio is not None and row.size == "small":
        meets_torch = "yes" if ratio < 1 else "NO"
    size = f"{row.size} {'x'.join(map(str, row.shape))}"
    return [row.op, size, str(row.requires_grad), row.direction,
            _cell(np_us, row.notes.get("numpy")), _cell(em_us, row.notes.get("ember")),
            _cell(th_us, row.notes.get("torch")), _cell(overhead, None),
            "-" if ratio is None else f"{ratio:.2f}", meets_overhead, meets_torch]


def markdown_table(rows: list[Row], statistic: str = "median") -> str:
    """The results as a Markdown table, one line per row, per-op microseconds."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row_cells(r, statistic)) + " |"
              for r in rows]
    return "\n".join(lines)


def header(info: dict, repeats: int, target_s: float, torch_threads_set: bool = False,
           load_start=None, statistic: str = "median", timer: str = "wall") -> str:
    """What the table was measured on and how, as Markdown lines above it."""
    threads = ", ".join(f"{k}={v}" for k, v in info["thread_env"].items() if v is not None)
    pools = "; ".join(f"{p['internal_api']} {p['num_threads']} threads ({p['user_api']})"
                      for p in info["thread_pools"]) or "threadpoolctl not installed"
    how = "set by --torch-threads" if torch_threads_set else "torch's default, left as is"
    torch_text = (f"torch {info['torch']} ({info['torch_threads']} intra-op threads, {how})"
                  if TORCH_MISSING is None else f"torch not installed ({TORCH_MISSING})")
    return "\n".join([
        "# ember eager overhead",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}; load "
        f"average at start {load_start} and end {info['load_average']} (1/5/15 min)",
        f"- numpy {info['numpy']} (BLAS: {info['numpy_blas']}); {torch_text}",
        f"- thread variables: {threads or 'none set'}; thread pools: {pools}",
        f"- each number: {statistic} of {repeats} repeats of a loop calibrated to "
        f"~{target_s * 1e3:g} ms of {'wall-clock' if timer == 'wall' else 'process CPU'} "
        "time, per op in microseconds (chain rows: total / "
        f"{CHAIN_LENGTH}); libraries timed interleaved; garbage collector off while timing, "
        "as in timeit",
        f"- targets: ember - numpy <= {OVERHEAD_TARGET_US:g} us per forward op; "
        "ember faster than torch on small tensors",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    """The command line: run every workload, print the table, write the JSON if asked."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eager_overhead",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats of ~5 ms: a smoke run, numbers only indicative")
    parser.add_argument("--json", metavar="PATH", help="also write raw numbers and machine info")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per number (>= 1)")
    parser.add_argument("--target-ms", type=float, default=None,
                        help="time one repeat should take")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="statistic over repeats shown in the table (JSON has both); "
                             "min is steadier on a busy machine")
    parser.add_argument("--timer", choices=tuple(CLOCKS), default="wall",
                        help="wall clock (as timeit), or the process's CPU time: steadier "
                             "on a busy machine, but sums the CPU time of every thread")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads(N) before measuring (default: leave "
                             "torch's own setting); the header reports what was used")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    target_ms = args.target_ms if args.target_ms is not None else (5.0 if args.quick else 75.0)
    target_s = target_ms / 1e3
    if repeats < 1 or target_s <= 0:
        parser.error("--repeats must be >= 1 and --target-ms > 0")
    if args.torch_threads is not None and args.torch_threads < 1:
        parser.error("--torch-threads must be >= 1")

    torch_threads_set = False
    if args.torch_threads is not None and torch is not None:
        torch.set_num_threads(args.torch_threads)
        torch_threads_set = True
    load_start = load_average()
    rows = run(repeats, target_s,
               progress=lambda r: print(f"  measured {r.op} {r.size}", file=sys.stderr),
               timer=args.timer)
    info = machine_info(torch)
    print(header(info, repeats, target_s, torch_threads_set, load_start, args.stat,
                 args.timer))
    print(markdown_table(rows, args.stat))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "load_average_start": load_start,
                       "torch_missing": TORCH_MISSING,
                       "torch_threads_set": torch_threads_set, "statistic": args.stat,
                       "timer": args.timer, "repeats": repeats, "target_ms": target_s * 1e3,
                       "chain_length": CHAIN_LENGTH,
                       "overhead_target_us": OVERHEAD_TARGET_US,
                       "rows": [r.as_dict() for r in rows]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
