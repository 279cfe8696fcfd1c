"""Render a benchmark results file as Markdown tables and PNG charts.

    python -m benchmarks report runs/bench/results.jsonl --out-dir DIR [--run-id ID]

Writes ``DIR/report.md`` — the machine, then one table per workload (step time median and
min, its ratio to PyTorch eager, inference time and its ratio, first step, peak RSS, loss,
status with the reason) and the import time / installed size table — and, when matplotlib is
installed, ``DIR/step_time.png`` and ``DIR/peak_memory.png`` (grouped bars per workload, log
scale when the bars span more than a factor of 20). Ratios only ever divide numbers from the
same run (the latest in the file unless ``--run-id`` picks another): absolute times drift
with the machine and its load, ratios measured side by side much less.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FRAMEWORK_ORDER = ("ember", "torch", "tensorflow", "jax", "numpy")
BASELINE = ("torch", "eager")
LOG_SCALE_SPAN = 20.0


def load(path: Path) -> list[dict]:
    """The records of a JSON-lines results file (blank or truncated lines skipped)."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed run
        if isinstance(value, dict):
            records.append(value)
    return records


def select_run(records: list[dict], run_id: str | None = None) -> tuple[str, list[dict]]:
    """``(run id, its records)``: ``run_id``, or the last run in the file."""
    ids = [r["run_id"] for r in records if "run_id" in r]
    if not ids:
        raise ValueError("no run in the results file")
    chosen = run_id or ids[-1]
    if chosen not in ids:
        raise ValueError(f"run {chosen!r} not in the results file; runs: "
                         f"{', '.join(dict.fromkeys(ids))}")
    return chosen, [r for r in records if r.get("run_id") == chosen]


def _sort_key(record: dict) -> tuple:
    name = record.get("framework", "")
    rank = FRAMEWORK_ORDER.index(name) if name in FRAMEWORK_ORDER else len(FRAMEWORK_ORDER)
    return rank, name


def _ok(record: dict | None) -> bool:
    return record is not None and record.get("status") == "ok"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cell_text(text: str, limit: int = 90) -> str:
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    first = first if len(first) <= limit else first[: limit - 3] + "..."
    return first.replace("|", "\\|")


def workload_table(cells: list[dict]) -> list[str]:
    """Markdown lines of one workload's table, ratios against torch eager in ``cells``."""
    cells = sorted(cells, key=_sort_key)  # stable: modes keep their run order
    base = next((c for c in cells if (c["framework"], c["mode"]) == BASELINE), None)
    lines = ["| framework / mode | step ms median | step ms min | x torch eager "
             "| inference ms | inference x torch eager | first step ms | peak RSS MB "
             "| loss first -> last | status |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for c in cells:
        name = f"{c['framework']} / {c['mode']}"
        status = c.get("status", "?")
        if status != "ok":
            reason = _cell_text(c.get("reason", ""))
            lines.append(f"| {name} | - | - | - | - | - | - | - | - | "
                         f"{status}{': ' + reason if reason else ''} |")
            continue
        step, predict = c["step_ms"], c["predict_ms"]
        ratio = predict_ratio = None
        if _ok(base):
            ratio = step["median"] / base["step_ms"]["median"]
            predict_ratio = predict["median"] / base["predict_ms"]["median"]
        lines.append(
            f"| {name} | {_fmt(step['median'])} | {_fmt(step['min'])} | {_fmt(ratio)} "
            f"| {_fmt(predict['median'])} | {_fmt(predict_ratio)} "
            f"| {_fmt(c['first_step_ms'], 0)} | {_fmt(c['peak_rss_mb'], 0)} "
            f"| {c['loss_first']:.4g} -> {c['loss_last']:.4g} | ok |")
    if not _ok(base):
        why = "was not run" if base is None else f"has status {base.get('status')}"
        lines += ["", f"No ratios: PyTorch eager {why} in this run."]
    return lines


def sizes_table(size_records: list[dict]) -> list[str]:
    """Markdown lines of the import time / installed size table."""
    lines = ["| framework | version | import s | package MB | with dependencies MB "
             "| dependencies (excluding numpy) | status |",
             "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    for r in sorted(size_records, key=_sort_key):
        deps = r.get("dependencies") or []
        shown = ", ".join(deps[:8]) + (f", ... ({len(deps)} in all)" if len(deps) > 8 else "")
        status = r.get("status", "?")
        if status != "ok":
            status += ": " + _cell_text(r.get("reason", ""))
        lines.append(f"| {r['framework']} | {r.get('version') or '-'} "
                     f"| {_fmt(r.get('import_s'))} | {_fmt(r.get('package_mb'), 0)} "
                     f"| {_fmt(r.get('with_deps_mb'), 0)} | {shown or '-'} | {status} |")
    return lines


def machine_lines(run: dict | None, cells: list[dict] = ()) -> list[str]:
    """Markdown bullet lines describing the machine of a run record (and its load during
    the ``cells``)."""
    if not run:
        return ["(no machine record for this run)"]
    loads = [c["load_average"][0] for c in cells if c.get("load_average")]
    during = f"; 1-min load after each cell: {min(loads)} to {max(loads)}" if loads else ""
    m = run.get("machine", {})
    pools = "; ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('num_threads')} "
                      f"threads" for p in m.get("thread_pools", [])) or "unknown"
    versions = ", ".join(f"{k} {v or 'not installed'}"
                         for k, v in (m.get("versions") or {}).items())
    return [f"- time: {run.get('time')}; steps {run.get('steps')} timed after "
            f"{run.get('warmup')} warm-up (+ the first step, timed apart)",
            f"- CPU: {m.get('cpu')}, {m.get('cores')} cores; load average at start "
            f"(1/5/15 min): {m.get('load_average')}{during}",
            f"- Python {m.get('python')}, NumPy {m.get('numpy')} ({m.get('numpy_blas')}); "
            f"NumPy's thread pools: {pools}",
            f"- thread variables: {m.get('thread_env')}",
            f"- versions: {versions or 'unknown'}"]


def _series(cells: list[dict], workloads: list[str], key) -> dict[str, list[float | None]]:
    by_label: dict[str, dict[str, float]] = {}
    for c in sorted(cells, key=_sort_key):
        if _ok(c):
            by_label.setdefault(f"{c['framework']} / {c['mode']}", {})[c["workload"]] = key(c)
    return {label: [values.get(w) for w in workloads] for label, values in by_label.items()}


def bar_chart(path: Path, cells: list[dict], workloads: list[str], key, ylabel: str,
              title: str) -> Path:
    """A grouped bar chart (one group per workload, one bar per framework/mode) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = _series(cells, workloads, key)
    fig, ax = plt.subplots(figsize=(max(7.5, 1.6 * len(workloads) + 4), 4.5))
    width = 0.8 / max(len(series), 1)
    values = [v for vs in series.values() for v in vs if v]
    for i, (label, vs) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(workloads))]
        ax.bar([x for x, v in zip(xs, vs) if v], [v for v in vs if v], width, label=label)
    if values and max(values) / max(min(values), 1e-12) > LOG_SCALE_SPAN:
        ax.set_yscale("log")
        ylabel += " (log scale)"
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if series:  # outside the axes, so it never hides a bar
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.text(0.5, 0.5, "no successful cell", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render(records: list[dict], run_id: str | None = None) -> tuple[str, list[dict], list[str]]:
    """``(markdown, cell records, workloads)`` of one run of ``records``."""
    run_id, mine = select_run(records, run_id)
    run = next((r for r in mine if r.get("kind") == "run"), None)
    cells = [r for r in mine if r.get("kind", "cell") == "cell" and "workload" in r]
    workloads = list(dict.fromkeys(c["workload"] for c in cells))
    lines = [f"# Benchmark report — run {run_id}", "", *machine_lines(run, cells), "",
             "Ratios divide by PyTorch eager measured in the same run (below 1: faster than "
             "PyTorch eager). Peak RSS includes the interpreter and the framework's import.", ""]
    for workload in workloads:
        lines += [f"## {workload}", "",
                  *workload_table([c for c in cells if c["workload"] == workload]), ""]
    size_records = [r for r in mine if r.get("kind") == "size"]
    if size_records:
        lines += ["## Import time and installed size", "", *sizes_table(size_records), ""]
    return "\n".join(lines), cells, workloads


def write_report(results: Path, out_dir: Path, run_id: str | None = None) -> list[Path]:
    """Write report.md and (with matplotlib) the two PNG charts; return the paths written."""
    text, cells, workloads = render(load(results), run_id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        text += "\n\n(charts skipped: matplotlib is not installed)\n"
    else:
        written.append(bar_chart(out_dir / "step_time.png", cells, workloads,
                                 lambda c: c["step_ms"]["median"], "step time, ms (median)",
                                 "Training step time per workload"))
        written.append(bar_chart(out_dir / "peak_memory.png", cells, workloads,
                                 lambda c: c["peak_rss_mb"], "peak RSS, MB",
                                 "Peak memory per workload (whole process)"))
        text += "\n\n![step time](step_time.png)\n\n![peak memory](peak_memory.png)\n"
    report = out_dir / "report.md"
    report.write_text(text)
    return [report, *written]


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks report FILE --out-dir DIR [--run-id ID]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks report",
                                     description="Render a results file as tables and charts.")
    parser.add_argument("results", type=Path, help="the JSON-lines results file")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="output directory (default: next to the results file)")
    parser.add_argument("--run-id", default=None, help="which run (default: the last)")
    args = parser.parse_args(argv)
    if not args.results.is_file():
        parser.error(f"no results file {args.results}")
    try:
        written = write_report(args.results, args.out_dir or args.results.parent, args.run_id)
    except ValueError as error:
        parser.error(str(error))
    print("\n".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
