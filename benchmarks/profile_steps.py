"""Where an eager ember training step spends its time: per op, kernel vs Python overhead.

    python -m benchmarks.profile_steps --workload W3 [--steps 10] [--warmup 3] [--top 25]
    python -m benchmarks.profile_steps --workload W5 --detail      # what each backward runs
    python -m benchmarks.profile_steps --workload W5 --ab /tmp/before/src src --rounds 8

The step is the one ``benchmarks/frameworks/ember.py`` times (zero_grad, forward, cross-entropy,
backward, optimizer step) on the workload's model, weights and batch.

How time is attributed (profiled run; the wrappers are installed only here):

- every :class:`Op` in the registry gets its ``forward`` and ``vjp`` wrapped with timers, and
  ``registry.apply``/``apply_multi`` are replaced in every ember module that imported them;
- a forward-phase row ``op (fwd)`` is the time of ``apply`` for that op: **kernel** is the time
  inside ``op.forward`` (the NumPy work and the little Python around it), **overhead** is the
  rest of ``apply`` (argument unpacking, wrapping, recording the node);
- a backward row ``op (bwd)`` is the whole vjp of that op, including the ember ops it calls:
  kernel is the time inside those ops' forwards, overhead the rest;
- ops run by the engine outside any vjp (gradient accumulation) are ``op (engine)``, ops run
  during the optimizer step ``op (optim)``; in-place Tensor methods (``add_``, ``lerp_``...,
  which call NumPy directly when nothing is recorded) are timed as a whole, ``name_ (phase)``
  with the kernel column empty;
- the phase table gives each phase's wall time and the part of it no row accounts for: module
  ``__call__``s and layer code, the autograd engine's loop, the optimizer's own Python.

Timers cost ~0.5 us per wrapped call, so the profiled step is a little slower than the plain
one; both medians are printed. ``--ab A B`` instead times plain steps of two source trees (two
``src`` directories) in alternating subprocesses and prints per-tree medians and their ratio:
the before/after measurement of a change, in one run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np

PHASES = ("zero_grad", "forward", "loss", "backward", "optimizer")
# "cpu" (process CPU time) is steadier on a shared machine, but sums every thread's time
# (BLAS worker threads, spinning included): use it with OPENBLAS_NUM_THREADS=1
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = [time.perf_counter]
CLOCK_NAME = ["wall"]


# ------------------------------------------------------------------------ the step


def build(workload: str, seed: int = 0):
    """The ember runner of the benchmark suite for ``workload`` and its batch as NumPy."""
    from benchmarks.frameworks.ember import EmberRunner
    from benchmarks.workloads import init_weights, make_batch

    runner = EmberRunner(workload, init_weights(workload, seed), seed)
    x, y = make_batch(workload, seed)
    return runner, x, y


def timed_step(runner, x: np.ndarray, y: np.ndarray, phase_box: list) -> dict:
    """One training step, as ``EmberRunner.step``, with the wall time of each phase."""
    ember = runner._ember
    clock = CLOCK[0]
    times = {}
    t0 = clock()
    phase_box[0] = "zero_grad"
    runner.optimizer.zero_grad()
    t1 = clock()
    phase_box[0] = "forward"
    logits = runner.model(ember.from_numpy(x))
    t2 = clock()
    phase_box[0] = "loss"
    loss = runner._cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                 ember.from_numpy(y).reshape(-1))
    t3 = clock()
    phase_box[0] = "backward"
    loss.backward()
    t4 = clock()
    phase_box[0] = "optimizer"
    runner.optimizer.step()
    t5 = clock()
    phase_box[0] = "other"
    loss.item()
    times.update(zero_grad=t1 - t0, forward=t2 - t1, loss=t3 - t2, backward=t4 - t3,
                 optimizer=t5 - t4, step=t5 - t0)
    return times


# ------------------------------------------------------------------------ instrumentation


class Profile:
    """Timers around every op's forward/vjp, ``apply`` and the in-place Tensor methods."""

    def __init__(self) -> None:
        self.phase = ["other"]
        # row key (name, kind) -> [calls, total s, kernel s or None]
        self.rows: dict = defaultdict(lambda: [0, 0.0, 0.0])
        self.detail: dict = defaultdict(lambda: [0, 0.0, 0.0])  # (bwd owner, child op)
        self.vjp_owner = None  # name of the op whose vjp is running, or None
        self.kernel_acc = 0.0  # kernel time inside the running vjp
        self.in_method = False  # an in-place method is running (its row counts it whole)
        self._undo = []

    # --- wrappers

    def _wrap_forward(self, op):
        forward, clock, prof = op.forward, CLOCK[0], self

        def timed_forward(*args, **kwargs):
            t = clock()
            try:
                return forward(*args, **kwargs)
            finally:
                prof.last_forward = clock() - t
        return timed_forward

    def _wrap_apply(self, apply):
        clock, prof = CLOCK[0], self

        def timed_apply(op, inputs, **attrs):
            prof.last_forward = 0.0
            t = clock()
            out = apply(op, inputs, **attrs)
            total = clock() - t
            kernel = prof.last_forward
            owner = prof.vjp_owner
            if prof.in_method and owner is None:  # counted in the method's row
                return out
            if owner is not None:
                prof.kernel_acc += kernel
                row = prof.detail[(owner, op.name)]
            else:
                phase = prof.phase[0]
                kind = {"forward": "fwd", "loss": "fwd", "backward": "engine"}.get(phase, phase)
                row = prof.rows[(op.name, kind)]
            row[0] += 1
            row[1] += total
            row[2] += kernel
            return out
        return timed_apply

    def _wrap_vjp(self, op):
        vjp, clock, prof, name = op.vjp, CLOCK[0], self, op.name

        def timed_vjp(ctx, g):
            outer_owner, outer_kernel = prof.vjp_owner, prof.kernel_acc
            prof.vjp_owner, prof.kernel_acc = name, 0.0
            t = clock()
            try:
                return vjp(ctx, g)
            finally:
                total = clock() - t
                row = prof.rows[(name, "bwd")]
                row[0] += 1
                row[1] += total
                row[2] += prof.kernel_acc
                prof.vjp_owner, prof.kernel_acc = outer_owner, outer_kernel
        return timed_vjp

    def _wrap_method(self, name, method):
        clock, prof = CLOCK[0], self

        def timed_method(*args, **kwargs):
            if prof.vjp_owner is not None or prof.in_method:
                return method(*args, **kwargs)
            prof.in_method = True
            t = clock()
            try:
                return method(*args, **kwargs)
            finally:
                prof.in_method = False
                row = prof.rows[(name, prof.phase[0])]
                row[0] += 1
                row[1] += clock() - t
                row[2] = None
        return timed_method

    # --- install / remove

    def install(self) -> None:
        """Wrap everything; :meth:`remove` restores the originals."""
        from ember import Tensor
        from ember.ops import registry

        self.last_forward = 0.0
        for op in registry.REGISTRY.values():
            self._undo.append((op, "forward", op.forward))
            op.forward = self._wrap_forward(op)
            if op.vjp is not None:
                self._undo.append((op, "vjp", op.vjp))
                op.vjp = self._wrap_vjp(op)
        for fn_name in ("apply", "apply_multi"):
            original = getattr(registry, fn_name)
            wrapped = self._wrap_apply(original)
            for module in list(sys.modules.values()):
                if getattr(module, "__name__", "").startswith("ember"):
                    for attr, value in list(vars(module).items()):
                        if value is original:
                            self._undo.append((module, attr, value))
                            setattr(module, attr, wrapped)
        for attr, value in list(vars(Tensor).items()):
            if attr.endswith("_") and not attr.startswith("_") and callable(value):
                self._undo.append((Tensor, attr, value))
                setattr(Tensor, attr, self._wrap_method(attr, value))

    def remove(self) -> None:
        for obj, attr, value in reversed(self._undo):
            setattr(obj, attr, value)
        self._undo.clear()

    def reset(self) -> None:
        self.rows.clear()
        self.detail.clear()


# ------------------------------------------------------------------------ reports


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f}"


def report(workload: str, plain: list, profiled: list, prof: Profile, steps: int, top: int,
           detail: bool) -> str:
    """The phase table and the op table, per step (totals divided by ``steps``)."""
    # means, not medians, so that the phases and the op rows (totals / steps) add up
    med = {k: statistics.fmean(t[k] for t in profiled) for k in PHASES + ("step",)}
    step_plain = statistics.median(t["step"] for t in plain)
    lines = [f"# {workload}: plain step median {step_plain * 1e3:.2f} ms, profiled mean "
             f"{med['step'] * 1e3:.2f} ms ({steps} profiled steps, {CLOCK_NAME[0]} clock; load "
             f"{os.getloadavg()[0]:.2f})", ""]
    by_phase = defaultdict(float)
    kernel_total = 0.0
    for (_, kind), (_, total, kernel) in prof.rows.items():
        phase = {"fwd": "forward", "bwd": "backward", "engine": "backward"}.get(kind, kind)
        by_phase[phase] += total / steps
        kernel_total += (kernel or 0.0) / steps
    lines.append("| phase | ms | in ops/methods ms | outside (Python) ms |")
    lines.append("|---|---:|---:|---:|")
    fwd_rows = by_phase["forward"] + by_phase["loss"]
    for phase in PHASES:
        inside = fwd_rows if phase == "forward" else (0.0 if phase == "loss"
                                                      else by_phase[phase])
        wall = med[phase] + (med["loss"] if phase == "forward" else 0.0)
        if phase == "loss":
            continue
        label = "forward + loss" if phase == "forward" else phase
        lines.append(f"| {label} | {_ms(wall)} | {_ms(inside)} | {_ms(wall - inside)} |")
    lines.append(f"| step | {_ms(med['step'])} | {_ms(sum(by_phase.values()))} | "
                 f"{_ms(med['step'] - sum(by_phase.values()))} |")
    overhead = med["step"] - kernel_total
    lines.append("")
    lines.append(f"kernel (inside op forwards) {kernel_total * 1e3:.2f} ms = "
                 f"{kernel_total / med['step']:.0%} of the step; everything else (Python, "
                 f"in-place methods counted whole) {overhead * 1e3:.2f} ms = "
                 f"{overhead / med['step']:.0%}")
    lines.append("")
    lines.append("| op | calls | total ms | share | kernel ms | overhead ms |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    ranked = sorted(prof.rows.items(), key=lambda kv: -kv[1][1])
    for (name, kind), (calls, total, kernel) in ranked[:top]:
        k = "" if kernel is None else _ms(kernel / steps)
        o = "" if kernel is None else _ms((total - kernel) / steps)
        lines.append(f"| {name} ({kind}) | {calls // steps} | {_ms(total / steps)} | "
                     f"{total / steps / med['step']:5.1%} | {k} | {o} |")
    if detail:
        lines.append("")
        lines.append("ops run inside each backward rule (per step):")
        lines.append("")
        lines.append("| backward of | op | calls | total ms | kernel ms |")
        lines.append("|---|---|---:|---:|---:|")
        for (owner, child), (calls, total, kernel) in sorted(prof.detail.items(),
                                                            key=lambda kv: -kv[1][1]):
            if total / steps >= 5e-5:
                lines.append(f"| {owner} | {child} | {calls // steps} | {_ms(total / steps)} "
                             f"| {_ms(kernel / steps)} |")
    return "\n".join(lines)


def profile(workload: str, steps: int, warmup: int, top: int, detail: bool) -> str:
    """Plain steps, then profiled steps of ``workload``; the report as Markdown."""
    runner, x, y = build(workload)
    box = ["other"]
    for _ in range(warmup):
        timed_step(runner, x, y, box)
    plain = [timed_step(runner, x, y, box) for _ in range(steps)]
    prof = Profile()
    prof.install()
    try:
        prof.phase = box
        timed_step(runner, x, y, box)
        prof.reset()
        profiled = [timed_step(runner, x, y, box) for _ in range(steps)]
    finally:
        prof.remove()
    return report(workload, plain, profiled, prof, steps, top, detail)


# ------------------------------------------------------------------------ A/B of two trees


def _child(workload: str, steps: int, warmup: int) -> None:
    runner, x, y = build(workload)
    box = ["other"]
    for _ in range(warmup):
        timed_step(runner, x, y, box)
    out = [timed_step(runner, x, y, box)["step"] for _ in range(steps)]
    print(json.dumps(out))


def ab(workloads: list, trees: list, rounds: int, steps: int, warmup: int,
       clock: str = "wall") -> str:
    """Plain step medians of each source tree, subprocesses alternating tree by tree."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines = ["| workload | " + " | ".join(f"tree {i} ms" for i in range(len(trees)))
             + " | last/first |", "|---" * (len(trees) + 2) + "|"]
    for w in workloads:
        samples = [[] for _ in trees]
        for _ in range(rounds):
            for i, tree in enumerate(trees):
                path, _, extra = tree.partition("@")
                env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.abspath(path), here]))
                env.update(item.split("=", 1) for item in extra.split(",") if item)
                res = subprocess.run(
                    [sys.executable, "-m", "benchmarks.profile_steps", "--child", "--workload",
                     w, "--steps", str(steps), "--warmup", str(warmup), "--clock", clock],
                    env=env, cwd=here, capture_output=True, text=True, check=True)
                samples[i].extend(json.loads(res.stdout.strip().splitlines()[-1]))
        meds = [statistics.median(s) * 1e3 for s in samples]
        lines.append(f"| {w} | " + " | ".join(f"{m:.2f}" for m in meds)
                     + f" | {meds[-1] / meds[0]:.3f} |")
    trees_text = ", ".join(f"{i}: {t}" for i, t in enumerate(trees))
    return (f"A/B ({trees_text}); {rounds} rounds x {steps} steps per tree, {clock} clock; load "
            f"{os.getloadavg()[0]:.2f}\n\n" + "\n".join(lines))


def main(argv: list | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="W3",
                        help="workload id, or several comma-separated (W1..W5)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--top", type=int, default=25, help="rows of the op table")
    parser.add_argument("--detail", action="store_true",
                        help="also list the ops each backward rule runs")
    parser.add_argument("--ab", nargs="+", metavar="SRC",
                        help="time plain steps of these source trees (src dirs) instead; "
                             "SRC@VAR=VALUE,... also sets environment variables")
    parser.add_argument("--rounds", type=int, default=6, help="A/B rounds per tree")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or process CPU time (steadier under load; with "
                             "OPENBLAS_NUM_THREADS=1)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    CLOCK[0] = CLOCKS[args.clock]
    CLOCK_NAME[0] = args.clock
    workloads = [w.strip().upper() for w in args.workload.split(",")]
    if args.child:
        _child(workloads[0], args.steps, args.warmup)
        return 0
    if args.ab:
        print(ab(workloads, args.ab, args.rounds, args.steps, args.warmup, args.clock))
        return 0
    for w in workloads:
        print(profile(w, args.steps, args.warmup, args.top, args.detail))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
