"""``docs/comparison.md`` from a results record: tables with mean ± std over seeds, the claims.

The prose that explains the method is fixed text here; every number and every verdict comes
from the record, so rerunning ``python -m benchmarks.comparison`` rewrites the whole page.
"""
from __future__ import annotations

from .analysis import NAMES, Stat

__all__ = ["render"]


def _pm(stat: Stat | None, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    if stat is None:
        return "-"
    return f"{stat.mean * scale:.{digits}f} ± {stat.std * scale:.{digits}f}{unit}"


def _status(entry: dict) -> str:
    failed = entry.get("failed") or []
    return f"{entry['runs']} ok" + (f", {len(failed)} failed: {failed[0]}" if failed else "")


def _cnn_table(rows: dict, cfg: dict) -> list[str]:
    t1, t2 = 100 * cfg["target"], 100 * cfg["second_target"]
    out = [f"| framework | final test acc % | best test acc % | time to {t1:g}% s (runs) | "
           f"time to {t2:g}% s (runs) | train time s | ms / step | peak RSS MiB | "
           "RSS after import MiB | import s | runs |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for fw, e in rows.items():
        if not e["runs"]:
            out.append(f"| {NAMES.get(fw, fw)} | " + " | ".join(["-"] * 9) +
                       f" | {_status(e)} |")
            continue
        out.append(
            f"| {NAMES.get(fw, fw)} | {_pm(e['final_accuracy'], 100)} | "
            f"{_pm(e['best_accuracy'], 100)} | "
            f"{_pm(e['time_to_target'])} ({e['reached']}/{e['runs']}) | "
            f"{_pm(e['time_to_second'])} ({e['reached_second']}/{e['runs']}) | "
            f"{_pm(e['train_s'])} | {_pm(e['step_ms'], digits=0)} | "
            f"{_pm(e['peak_rss_mb'], digits=0)} | {_pm(e['rss_after_import_mb'], digits=0)} | "
            f"{_pm(e['import_s'])} | {_status(e)} |")
    return out


def _lstm_table(rows: dict) -> list[str]:
    out = ["| framework | first-step loss | train loss, last chunk | held-out loss after budget | "
           "train time s | ms / step | peak RSS MiB | RSS after import MiB | import s | runs |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for fw, e in rows.items():
        if not e["runs"]:
            out.append(f"| {NAMES.get(fw, fw)} | " + " | ".join(["-"] * 8) +
                       f" | {_status(e)} |")
            continue
        out.append(
            f"| {NAMES.get(fw, fw)} | {_pm(e['first_loss'], digits=4)} | "
            f"{_pm(e['final_train_loss'], digits=3)} | {_pm(e['final_test_loss'], digits=3)} | "
            f"{_pm(e['train_s'])} | {_pm(e['step_ms'], digits=0)} | "
            f"{_pm(e['peak_rss_mb'], digits=0)} | {_pm(e['rss_after_import_mb'], digits=0)} | "
            f"{_pm(e['import_s'])} | {_status(e)} |")
    return out


def _short_of_target(rows: dict, cfg: dict) -> list[str]:
    """A sentence when some runs never reached the target within the epoch budget."""
    short = [f"{NAMES.get(fw, fw)} {e['runs'] - e['reached']}/{e['runs']}"
             for fw, e in rows.items() if e["runs"] and e["reached"] < e["runs"]]
    if not short:
        return []
    return [f"Runs that did not reach {100 * cfg['target']:g}% test accuracy within "
            f"{cfg['epochs']} epochs: {', '.join(short)}. With this model and SGD(0.01, "
            "momentum 0.9) the digits plateau near 97% test accuracy (one test image is 0.28 "
            "points), so the time-to-97% column averages only the runs that got there; "
            "the time-to-95% column has every run.", ""]


def _load_words(load: list | None) -> str:
    if not load:
        return "unknown"
    return f"{load[0]:.2f} (1 min), {load[1]:.2f} (5 min), {load[2]:.2f} (15 min)"


def render(record: dict) -> str:
    """The Markdown page for one results record (see ``__main__.py`` for its fields)."""
    cfg, m = record["config"], record["machine"]
    summary, claims = record["summary"], record["claims"]
    lines = [
        "# ember, PyTorch and TensorFlow/Keras trained side by side",
        "",
        "<!-- Written by `python -m benchmarks.comparison`; edits here are overwritten. -->",
        "",
        f"Run of {record['date']} ({record['json']}), {record['wall_s'] / 60:.1f} minutes. "
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, NumPy {m['numpy']} "
        f"({m['numpy_blas']}); {'; '.join(record['versions'])}.",
        "",
        f"**Machine load** (shared with other engineers' work): `uptime` before the run: "
        f"`{record['uptime_start']}`; after: `{record['uptime_end']}`. Load averages "
        f"{_load_words(record['load_start'])} at the start and "
        f"{_load_words(record['load_end'])} at the end. Times on a loaded 2-core machine are "
        "slower and noisier than on a quiet one; every framework ran interleaved (seed 0 of "
        "each, then seed 1, ...) so they saw the same load on average.",
        "",
        "## The CNN on handwritten digits",
        "",
        f"W2's model (conv 32, pool, conv 64, pool, linear 3136-128, linear 128-10), SGD lr "
        f"0.01 momentum 0.9, batch 64, {cfg['epochs']} epochs, seeds {cfg['seeds']}; test "
        f"accuracy evaluated every {cfg['eval_every']} steps (and at each epoch end).",
        "",
        *_cnn_table(summary.get("cnn", {}), cfg),
        "",
        *_short_of_target(summary.get("cnn", {}), cfg),
        "## The LSTM language model on *Emma*",
        "",
        f"W4's model (bytes as tokens, embedding 128, LSTM 256, linear to 256), Adam lr 1e-3, "
        f"batch 32 windows of 64 bytes, a fixed budget of {cfg['lstm_steps']} steps, seeds "
        f"{cfg['seeds']}; held-out loss (mean cross-entropy per byte, nats) over the first "
        f"{cfg['test_windows']} windows of the held-out text.",
        "",
        *_lstm_table(summary.get("lstm", {})),
        "",
        "## The claims, on this machine",
        "",
        "Verdicts are computed by `benchmarks/comparison/analysis.py` from the numbers above.",
        "",
        "| claim | verdict | numbers | rule |",
        "| --- | --- | --- | --- |",
        *(f"| {c['text']} | **{c['verdict']}** | {c['evidence']} | {c['rule']} |"
          for c in claims),
        "",
        *_METHOD,
    ]
    return "\n".join(lines) + "\n"


_METHOD = [
    "## How it was measured",
    "",
    "- **Data.** The digits are ember's embedded copy of scikit-learn's 8x8 digits (UCI "
    "optdigits), 1,438 training and 359 test images, no download. W2's model expects 28x28 "
    "input, so every image is upsampled once with NumPy by nearest neighbour (output pixel `i` "
    "reads input pixel `floor((i + 0.5) * 8 / 28)`) and standardised with the training "
    "set's mean and standard deviation; every framework gets the same arrays (Keras in NHWC, "
    "transposed once before training). The text is Volume I of Jane Austen's *Emma* (public "
    "domain), embedded in ember as `emma_vol1.txt.gz` (`ember.data.datasets.load_emma`): the "
    "first 90% for training windows (stride 64), the rest held out.",
    "- **Same start, same order.** Initial weights are `benchmarks.workloads.spec."
    "init_weights` of the seed (PyTorch layout, converted for Keras: HWIO kernels, "
    "transposed dense kernels, `fc1`'s rows permuted to NHWC flatten order; Keras's one LSTM "
    "bias is PyTorch's two summed). The batch order is one permutation per epoch from "
    "`numpy.random.default_rng(seed)`; Keras gets the batches in that order through "
    "`model.fit(..., shuffle=False)`. The first-step losses in the LSTM table (and the CNN's, "
    "in the JSON) agree to float32 precision; later they drift apart only by rounding "
    "(Keras's Adam also puts epsilon outside the bias correction, and its merged LSTM bias "
    "gets one Adam update where PyTorch's two biases get two).",
    "- **Frameworks.** ember eager (NumPy); PyTorch eager (`torch.nn`, `torch.optim`, the same "
    "model code as ember's); Keras 3 on TensorFlow, `Sequential` layers, `model.compile` with "
    "`keras.optimizers.SGD`/`Adam` and the same hyperparameters, trained with `model.fit` and "
    "Keras's default `jit_compile=\"auto\"` (`--keras-jit` changes it; the resolved value is "
    "in the JSON). Keras's `SGD(momentum)` update `v = m v - lr g; w += v` is PyTorch's "
    "`b = m b + g; w -= lr b` with `v = -lr b`.",
    "- **One process per run**, started by `python -m benchmarks.comparison`; runs are "
    "interleaved over frameworks. Threads are fixed and equal: intra-op 2 threads "
    "(`torch.set_num_threads`, `tf.config.threading.set_intra_op_parallelism_threads`) and "
    "inter-op 1, and `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` = 2 for "
    "every process (ember's BLAS).",
    "- **Times.** *Train time* counts the training steps only: the import (its own column), "
    "data preparation, model construction and the evaluations are outside the clock. For "
    "Keras it includes `model.fit`'s per-call overhead and the tracing of its first call, which "
    "a user pays too. *Time to N%* is the train time at the first evaluation with test "
    "accuracy >= N%, averaged over the runs that got there (the count is in brackets).",
    "- **Memory.** *Peak RSS* is the process's `ru_maxrss`: interpreter, framework import, "
    "data, model, training and evaluation. *RSS after import* is the resident size right after "
    "`import` (what the framework costs before any work).",
    "- **Spread.** `mean ± std` is over seeds (sample standard deviation). A claim about "
    "speed or memory counts only when the two means differ by more than both spreads.",
    "- **MNIST.** The popular claims are about MNIST; the data here is the smaller embedded "
    "digits set (8x8 scans, upsampled), whose 359 test images make one image 0.28 points. "
    "The accuracy claim is judged on this data; real MNIST (`ember train --dataset mnist`) is "
    "a download and is not part of this script.",
    "",
    "## Rerun it",
    "",
    "```",
    "pip install -e .[bench]           # torch, tensorflow-cpu, jax, ...",
    "python -m benchmarks.comparison   # all: 3 seeds x {ember, PyTorch, Keras} x {CNN, LSTM}",
    "python -m benchmarks.comparison --frameworks ember,torch --seeds 1 --epochs 2 "
    "--lstm-steps 10 --doc /tmp/c.md",
    "python -m benchmarks.comparison --from-json benchmarks/results/comparison-DATE.json  "
    "# re-render",
    "```",
    "",
    "`--help` lists every option. A framework that is not installed (or a run that fails) "
    "is reported in the *runs* column with the reason, and the claims that need it say "
    "*not measured*.",
]
