"""Numbers from the runs: per-framework summaries (mean and spread over seeds) and the claims.

``summarize(runs, target)`` turns the worker records into ``{task: {framework: {metric:
Stat}}}``; ``judge(summary)`` computes each claim's verdict from those numbers, so the verdicts
in ``docs/comparison.md`` are recomputed on every run and cannot go stale. A verdict is one of
``HOLDS``, ``FAILS`` ("does not hold"), ``UNCLEAR`` (the difference is inside the seed-to-seed
spread) and ``MISSING`` (a framework the claim needs did not run).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass

__all__ = ["HOLDS", "FAILS", "UNCLEAR", "MISSING", "CLAIMS", "Stat", "Claim", "summarize",
           "time_to", "judge"]

HOLDS, FAILS, UNCLEAR, MISSING = "holds", "does not hold", "inconclusive", "not measured"


@dataclass(frozen=True)
class Stat:
    """Mean, sample standard deviation (0 for one value) and count of one metric over seeds."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values) -> Stat | None:
        """The Stat of the non-None ``values``; None when there are none."""
        values = [float(v) for v in values if v is not None]
        if not values:
            return None
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(statistics.fmean(values), std, len(values))


def time_to(curve: list, target: float) -> float | None:
    """Training seconds at the first evaluation with test accuracy >= ``target`` (or None)."""
    for point in curve:
        if point.get("test_accuracy") is not None and point["test_accuracy"] >= target:
            return point["train_s"]
    return None


def summarize(runs: list, target: float = 0.97, second_target: float = 0.95) -> dict:
    """``{task: {framework: {metric: Stat or value}}}`` over the ``ok`` runs of each pair.

    Metrics: ``train_s``, ``step_ms``, ``peak_rss_mb``, ``rss_after_import_mb``,
    ``import_s``, ``first_loss``, ``final_test_loss``, ``final_train_loss``; for the CNN also
    ``final_accuracy``, ``best_accuracy``, ``time_to_target`` (over the runs that reached it),
    ``time_to_second`` and the counts ``reached``/``reached_second``; ``runs``/``failed``.
    """
    if not 0.0 < target <= 1.0 or not 0.0 < second_target <= 1.0:
        raise ValueError(f"targets must be accuracies in (0, 1], got {target}, {second_target}")
    out: dict = {}
    for run in runs:
        out.setdefault(run["task"], {}).setdefault(run["framework"], []).append(run)
    summary: dict = {}
    for task, by_fw in out.items():
        for fw, group in by_fw.items():
            ok = [r for r in group if r.get("status") == "ok"]
            entry = {"runs": len(ok), "failed": [r.get("reason", "?") for r in group
                                                if r.get("status") != "ok"]}
            if ok:
                for key in ("train_s", "step_ms", "peak_rss_mb", "rss_after_import_mb",
                            "import_s", "first_loss"):
                    entry[key] = Stat.of(r.get(key) for r in ok)
                entry["final_test_loss"] = Stat.of(r["curve"][-1]["test_loss"] for r in ok)
                entry["final_train_loss"] = Stat.of(r["curve"][-1]["train_loss"] for r in ok)
                if task == "cnn":
                    entry["final_accuracy"] = Stat.of(r["curve"][-1]["test_accuracy"]
                                                      for r in ok)
                    entry["best_accuracy"] = Stat.of(max(p["test_accuracy"] for p in r["curve"])
                                                     for r in ok)
                    for name, goal in (("", target), ("_second", second_target)):
                        times = [time_to(r["curve"], goal) for r in ok]
                        entry["time_to" + (name or "_target")] = Stat.of(times)
                        entry["reached" + name] = sum(t is not None for t in times)
            summary.setdefault(task, {})[fw] = entry
    return summary


def _metric(summary: dict, task: str, fw: str, key: str) -> Stat | None:
    return summary.get(task, {}).get(fw, {}).get(key)


def _lower(a: Stat, b: Stat) -> str:
    """``"a"``/``"b"`` when that one is lower by more than both spreads, else ``"tie"``."""
    if a.mean + a.std < b.mean - b.std:
        return "a"
    if b.mean + b.std < a.mean - a.std:
        return "b"
    return "tie"


@dataclass(frozen=True)
class Claim:
    """A popular claim and how the measured numbers decide it."""

    id: str
    text: str
    rule: str  # how the verdict is computed, shown in the document


def _faster_claim(summary, task, key, fast, slow, unit, names) -> tuple[str, str]:
    a, b = _metric(summary, task, fast, key), _metric(summary, task, slow, key)
    if a is None or b is None:
        return MISSING, f"{names[fast] if a is None else names[slow]} did not run"
    ratio = b.mean / a.mean if a.mean else math.inf
    evidence = (f"{names[fast]} {a.mean:.1f} ± {a.std:.1f} {unit}, {names[slow]} "
                f"{b.mean:.1f} ± {b.std:.1f} {unit} ({names[slow]} / {names[fast]} = "
                f"{ratio:.2f})")
    verdict = {"a": HOLDS, "b": FAILS, "tie": UNCLEAR}[_lower(a, b)]
    return verdict, evidence


NAMES = {"ember": "ember", "torch": "PyTorch", "keras": "Keras/TF"}

CLAIMS = (
    Claim("tf-cnn-faster", "TensorFlow trains CNNs faster on the CPU than PyTorch",
          "CNN training time (all epochs, evaluation excluded): Keras/TF mean + std below "
          "PyTorch mean - std holds; the reverse does not hold; overlap is inconclusive"),
    Claim("torch-more-memory", "PyTorch uses slightly more memory on the CPU than TensorFlow",
          "peak RSS of the CNN run: PyTorch above Keras/TF by more than both spreads and by at "
          "most 50% holds; below by more than both spreads, or above by more than 50% (not "
          "'slightly'), does not hold; otherwise inconclusive"),
    Claim("both-98", "PyTorch and TensorFlow both reach ~98% test accuracy with this CNN",
          "mean final test accuracy >= 97.5% for both holds, else does not hold (measured on "
          "the embedded 8x8 digits, not MNIST: see the notes)"),
    Claim("same-accuracy", "With the same model, data, seeds and hyperparameters every "
          "framework reaches the same accuracy",
          "the mean final test accuracies of all frameworks within 1 percentage point holds"),
    Claim("numpy-slow", "A pure-NumPy framework (ember) trains at least 2x slower than PyTorch",
          "CNN training time ember / PyTorch >= 2 and ember slower by more than both spreads "
          "holds; ratio < 2 does not hold"),
    Claim("torch-lstm-faster", "PyTorch trains LSTMs faster on the CPU than TensorFlow/Keras",
          "LSTM training time (fixed step budget): as for the CNN claim"),
    Claim("tf-slow-import", "TensorFlow takes longer to import than PyTorch",
          "import time (the CNN runs): Keras/TF above PyTorch by more than both "
          "spreads holds"),
)


def _judge_one(claim: Claim, s: dict) -> tuple[str, str]:
    if claim.id == "tf-cnn-faster":
        return _faster_claim(s, "cnn", "train_s", "keras", "torch", "s", NAMES)
    if claim.id == "torch-lstm-faster":
        return _faster_claim(s, "lstm", "train_s", "torch", "keras", "s", NAMES)
    if claim.id == "tf-slow-import":
        return _faster_claim(s, "cnn", "import_s", "torch", "keras", "s", NAMES)
    if claim.id == "torch-more-memory":
        t, k = _metric(s, "cnn", "torch", "peak_rss_mb"), _metric(s, "cnn", "keras", "peak_rss_mb")
        if t is None or k is None:
            return MISSING, "PyTorch or Keras/TF did not run the CNN"
        ratio = t.mean / k.mean
        evidence = (f"PyTorch {t.mean:.0f} ± {t.std:.0f} MiB, Keras/TF {k.mean:.0f} ± "
                    f"{k.std:.0f} MiB (PyTorch / Keras = {ratio:.2f})")
        lower = _lower(t, k)
        if lower == "b":
            return (HOLDS if ratio <= 1.5 else FAILS), evidence
        return (FAILS if lower == "a" else UNCLEAR), evidence
    accs = {fw: _metric(s, "cnn", fw, "final_accuracy") for fw in NAMES}
    if claim.id == "both-98":
        if accs["torch"] is None or accs["keras"] is None:
            return MISSING, "PyTorch or Keras/TF did not run the CNN"
        evidence = ", ".join(f"{NAMES[fw]} {100 * accs[fw].mean:.1f}%"
                             for fw in ("torch", "keras"))
        ok = accs["torch"].mean >= 0.975 and accs["keras"].mean >= 0.975
        return (HOLDS if ok else FAILS), evidence
    if claim.id == "same-accuracy":
        ran = {fw: a for fw, a in accs.items() if a is not None}
        if len(ran) < 2:
            return MISSING, "fewer than two frameworks ran the CNN"
        spread = max(a.mean for a in ran.values()) - min(a.mean for a in ran.values())
        evidence = ", ".join(f"{NAMES[fw]} {100 * a.mean:.1f} ± {100 * a.std:.1f}%"
                             for fw, a in ran.items())
        return (HOLDS if spread <= 0.01 else FAILS), evidence + f" (spread {100 * spread:.1f} pt)"
    if claim.id == "numpy-slow":
        e, t = _metric(s, "cnn", "ember", "train_s"), _metric(s, "cnn", "torch", "train_s")
        if e is None or t is None:
            return MISSING, "ember or PyTorch did not run the CNN"
        ratio = e.mean / t.mean
        evidence = (f"ember {e.mean:.1f} ± {e.std:.1f} s, PyTorch {t.mean:.1f} ± {t.std:.1f} s "
                    f"(ember / PyTorch = {ratio:.2f})")
        if ratio < 2:
            return FAILS, evidence
        return (HOLDS if _lower(t, e) == "a" else UNCLEAR), evidence
    raise KeyError(f"no rule for claim {claim.id!r}")


def judge(summary: dict, claims=CLAIMS) -> list[dict]:
    """Each claim with its computed ``verdict`` and the ``evidence`` (the numbers used)."""
    out = []
    for claim in claims:
        verdict, evidence = _judge_one(claim, summary)
        out.append({**asdict(claim), "verdict": verdict, "evidence": evidence})
    return out
