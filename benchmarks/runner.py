"""Run the benchmark suite: every (framework, mode, workload) cell in its own process.

    python -m benchmarks [--workloads W1,W2] [--frameworks ember,torch:eager,numpy]
                         [--steps 30] [--warmup 5] [--timeout 600] [--out FILE.jsonl]
                         [--report-dir DIR] [--no-report] [--no-sizes]

Each cell runs ``python -m benchmarks.cell`` (see ``cell.py``) with a timeout; its result gets
a status — ``ok``, ``unavailable`` (with the reason: framework not installed, mode not built
yet), ``failed`` (with the error and the end of stderr) or ``timeout`` — and is appended to the
JSON-lines file as soon as it is known, so a crash later in the run keeps what was measured.
The first line a run writes describes the machine (CPU, cores, NumPy's BLAS and the thread
pools threadpoolctl sees, framework versions, load average); every line carries the run id,
which is how the report pairs each cell with PyTorch eager *from the same run*. Import time
and installed size per framework follow (``sizes.py``; with ember, also its optional
ONNX Runtime and oneDNN pieces), then the report (``report.py``).

Exit status: 0 when every cell ran or was unavailable, 1 when one failed or timed out (the
other results are kept), 2 for bad arguments (an unknown workload or framework name).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from benchmarks import _machine, sizes
from benchmarks.cell import load_framework

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("runs/bench/results.jsonl")
# The contract's modes, used when a framework's benchmark module cannot even be imported.
DEFAULT_MODES = {
    "ember": ("eager", "compiled", "onednn", "compiled_onednn", "onnxruntime"),
    "torch": ("eager", "compile"),
    "tensorflow": ("eager", "function", "function_jit"),
    "jax": ("jit",),
    "numpy": ("ref",),
}
FALLBACK_WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
STDERR_TAIL_CHARS = 2000


@dataclass(frozen=True)
class Cell:
    """One (framework, mode, workload) to run."""

    framework: str
    mode: str
    workload: str

    @property
    def label(self) -> str:
        return f"{self.framework}/{self.mode}/{self.workload}"


class UsageError(ValueError):
    """Bad command-line input; the message says what the valid values are."""


def workload_ids(spec_module: str) -> tuple[str, ...]:
    """The workload ids the spec defines (W1..W5 while the spec module does not exist yet)."""
    try:
        spec = importlib.import_module(spec_module)
    except ModuleNotFoundError as error:
        if error.name and spec_module.startswith(error.name):
            return FALLBACK_WORKLOADS
        raise
    return tuple(spec.WORKLOADS)


def framework_modes(name: str, module_path: str | None) -> tuple[tuple[str, ...], str | None]:
    """``(modes, None)`` from the framework's module, or ``(default modes, why not)``."""
    try:
        module = load_framework(name, module_path)
    except Exception as error:  # a missing or broken benchmark module is a reported result
        return DEFAULT_MODES.get(name, ("default",)), (
            f"benchmark module for {name} not importable: {error}")
    return tuple(module.MODES), None


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def plan(workloads: str, frameworks: str, valid_workloads: tuple[str, ...],
         module_overrides: dict[str, str]) -> tuple[list[Cell], dict[Cell, str]]:
    """The cells to run, workload by workload, and the cells already known to be unavailable.

    ``frameworks`` lists names, each optionally ``name:mode`` to run one mode only.
    Raises ``UsageError`` for an unknown workload, framework or mode.
    """
    chosen = _split_list(workloads)
    bad = [w for w in chosen if w not in valid_workloads]
    if bad or not chosen:
        raise UsageError(f"unknown workload {', '.join(bad) or '(none given)'}; "
                         f"valid workloads: {', '.join(valid_workloads)}")
    known = list(DEFAULT_MODES) + [n for n in module_overrides if n not in DEFAULT_MODES]
    selected: list[tuple[str, str | None]] = []
    for item in _split_list(frameworks):
        name, _, mode = item.partition(":")
        if name not in known:
            raise UsageError(f"unknown framework {name!r}; valid frameworks: {', '.join(known)}")
        selected.append((name, mode or None))
    if not selected:
        raise UsageError(f"no framework given; valid frameworks: {', '.join(known)}")
    cells: list[Cell] = []
    skipped: dict[Cell, str] = {}
    for workload in chosen:
        for name, only_mode in selected:
            modes, why_not = framework_modes(name, module_overrides.get(name))
            if only_mode is not None:
                if only_mode not in modes:
                    raise UsageError(f"unknown mode {only_mode!r} for {name}; "
                                     f"valid modes: {', '.join(modes)}")
                modes = (only_mode,)
            for mode in modes:
                cell = Cell(name, mode, workload)
                cells.append(cell)
                if why_not:
                    skipped[cell] = why_not
    return cells, skipped


def _tail(text: str) -> str:
    return text[-STDERR_TAIL_CHARS:]


def _last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def run_cell(cell: Cell, args: argparse.Namespace, module_overrides: dict[str, str]) -> dict:
    """Run one cell in a fresh process and return its record (any status)."""
    command = [sys.executable, "-m", "benchmarks.cell", "--framework", cell.framework,
               "--mode", cell.mode, "--workload", cell.workload, "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--seed", str(args.seed),
               "--spec-module", args.spec_module]
    if cell.framework in module_overrides:
        command += ["--framework-module", module_overrides[cell.framework]]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    base = {"framework": cell.framework, "mode": cell.mode, "workload": cell.workload}
    start = time.perf_counter()
    # A session of its own: on timeout the whole group goes, including compiler workers.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return {**base, "status": "timeout", "reason": f"no result within {args.timeout:g} s",
                "stderr_tail": _tail(stderr), "wall_s": time.perf_counter() - start}
    record = _last_json(stdout)
    if record is None:
        reason = f"cell process exited with code {proc.returncode} and no result"
        if proc.returncode < 0:
            reason += f" (killed by signal {-proc.returncode})"
        record = {**base, "status": "failed", "reason": reason}
    if record.get("status") != "ok":
        record["stderr_tail"] = _tail(stderr)
    record["wall_s"] = time.perf_counter() - start
    return record


class Progress:
    """Progress on stderr: one result line per finished cell, plus (on a terminal) a live bar
    naming the running cell. ember's ``Progbar`` prints nothing per step when not on a
    terminal and has no place for the running cell's name, hence this small one."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 24) -> None:
        self.total, self.done, self.width = total, 0, width
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.start = time.perf_counter()

    def _bar(self) -> str:
        filled = int(self.width * self.done / max(self.total, 1))
        return "[" + "=" * filled + "." * (self.width - filled) + f"] {self.done}/{self.total}"

    def running(self, cell: Cell) -> None:
        """Show that ``cell`` has started (on a terminal only)."""
        if self.live:
            self.stream.write(f"\r\033[K{self._bar()} running {cell.label} ...")
            self.stream.flush()

    def finished(self, cell: Cell, record: dict) -> None:
        """Print the result line of ``cell``."""
        self.done += 1
        status = record.get("status", "?")
        if status == "ok":
            detail = (f"step {record['step_ms']['median']:.2f} ms, "
                      f"first {record['first_step_ms']:.0f} ms, "
                      f"peak {record['peak_rss_mb']:.0f} MB")
        else:
            detail = str(record.get("reason", "")).splitlines()[0][:120] if record.get(
                "reason") else ""
        elapsed = time.perf_counter() - self.start
        line = (f"[{self.done}/{self.total} {elapsed:5.0f}s] {cell.label}: {status}"
                f"{' - ' + detail if detail else ''}")
        self.stream.write(("\r\033[K" if self.live else "") + line + "\n")
        self.stream.flush()


def machine_record(run_id: str, args: argparse.Namespace, frameworks: list[str]) -> dict:
    """The run's first line: what the numbers were measured on, and how."""
    info = _machine.machine_info()
    info["versions"] = {name: sizes.version(name) for name in frameworks}
    return {"kind": "run", "run_id": run_id,
            "time": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": info, "steps": args.steps, "warmup": args.warmup, "seed": args.seed,
            "argv": sys.argv[1:]}


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m benchmarks`` (also ``ember bench``)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmark workloads for each framework and mode, one process per "
                    "cell; 'python -m benchmarks report FILE' renders a results file again.")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5",
                        help="comma-separated workload ids (default: all)")
    parser.add_argument("--frameworks", default=",".join(DEFAULT_MODES),
                        help="comma-separated frameworks, each optionally name:mode "
                             "(default: all, every mode)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps after the first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"JSON-lines file results are appended to (default {DEFAULT_OUT})")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="where report.md and the charts go (default: next to --out)")
    parser.add_argument("--no-report", action="store_true", help="skip the report")
    parser.add_argument("--no-sizes", action="store_true",
                        help="skip import time and installed size")
    parser.add_argument("--framework-module", action="append", default=[],
                        metavar="NAME=MODULE",
                        help="take framework NAME from MODULE (to test or add a framework)")
    parser.add_argument("--spec-module", default="benchmarks.workloads.spec",
                        help=argparse.SUPPRESS)
    return parser


def _append(path: Path, record: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the suite; see the module docstring for the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be >= 1 and --warmup >= 0")
    overrides = {}
    for item in args.framework_module:
        name, sep, module = item.partition("=")
        if not sep or not name or not module:
            parser.error(f"--framework-module expects NAME=MODULE, got {item!r}")
        overrides[name] = module
    try:
        cells, skipped = plan(args.workloads, args.frameworks, workload_ids(args.spec_module),
                              overrides)
    except UsageError as error:
        parser.error(str(error))  # exit code 2, with the valid names in the message
    if args.steps < 30 or args.warmup < 5:
        print(f"note: --steps {args.steps} --warmup {args.warmup} is below the suite's 30/5; "
              "fine for a smoke run, not for quoting", file=sys.stderr)

    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(cell.framework for cell in cells))
    _append(args.out, machine_record(run_id, args, names))
    print(f"run {run_id}: {len(cells)} cells -> {args.out}", file=sys.stderr)

    progress = Progress(len(cells))
    bad = 0
    for cell in cells:
        progress.running(cell)
        if cell in skipped:
            record = {"framework": cell.framework, "mode": cell.mode,
                      "workload": cell.workload, "status": "unavailable",
                      "reason": skipped[cell]}
        else:
            record = run_cell(cell, args, overrides)
        bad += record.get("status") in ("failed", "timeout")
        record["load_average"] = _machine.load_average()  # how busy the machine was
        _append(args.out, {"kind": "cell", "run_id": run_id, **record})
        progress.finished(cell, record)

    if not args.no_sizes:
        for name in names:
            if name in sizes.FRAMEWORKS:
                print(f"measuring import time and size of {name} ...", file=sys.stderr)
                _append(args.out, {"run_id": run_id, **sizes.measure(name)})
        if "ember" in names:  # what each optional piece adds (ONNX Runtime, oneDNN)
            print("measuring ember's optional pieces ...", file=sys.stderr)
            for record in sizes.measure_options():
                _append(args.out, {"run_id": run_id, **record})
    if not args.no_report:
        from benchmarks import report

        out_dir = args.report_dir or args.out.parent
        written = report.write_report(args.out, out_dir, run_id)
        print("report: " + ", ".join(str(p) for p in written), file=sys.stderr)
    if bad:
        print(f"{bad} cell(s) failed or timed out; their errors are in {args.out}",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
