"""The comparison script (``benchmarks/comparison``): like is compared with like, the verdicts
come from the numbers, and bad arguments get clear errors.

- every framework's trainer, on the same data and seeded weights, computes the same first-step
  loss (and the same second one, so the update matched) for the CNN and the LSTM; Keras
  skips with the reason when TensorFlow is not installed (``/tmp/refenv``); run it with
  ``/tmp/benchenv/bin/python -m pytest tests/benchmarks/test_comparison.py``;
- the batch order and evaluation chunks follow the seed and never cross an epoch end;
- ``analysis.judge`` flips each verdict when fake numbers flip, and says "not measured" when
  a framework is missing; ``--from-json`` re-renders the page from such numbers;
- one tiny worker run (ember, LSTM, 2 steps) produces a complete record.
"""
from __future__ import annotations

import argparse
import importlib.util
import json

import numpy as np
import pytest
from benchmarks.comparison import __main__ as cli
from benchmarks.comparison import analysis, data, trainers, worker

LOSS_RTOL = 1e-5


@pytest.fixture(scope="module")
def digits():
    return data.digits()


@pytest.fixture(scope="module")
def text():
    return data.text_windows(max_test_windows=4)


def _two_losses(framework, task, dataset, batch):
    first = next(data.batches(len(dataset["x_train"]), batch, seed=0, steps=1))[1]
    tr = trainers.build(framework, task, 0, dataset)
    return tr.train([first])[0], tr.train([first])[0]


def _frameworks():
    out = ["ember", "torch"]
    reason = "tensorflow/keras not installed (run in /tmp/benchenv for the Keras check)"
    have_tf = all(importlib.util.find_spec(m) for m in ("tensorflow", "keras"))
    out.append(pytest.param("keras", marks=pytest.mark.skipif(not have_tf, reason=reason)))
    return out


@pytest.mark.parametrize("framework", _frameworks())
def test_same_first_and_second_step_loss_as_torch(framework, digits, text):
    pytest.importorskip("torch", reason="torch is the reference")
    for task, dataset, batch in (("cnn", digits, 64), ("lstm", text, 32)):
        ref = _two_losses("torch", task, dataset, batch)
        got = _two_losses(framework, task, dataset, batch)
        np.testing.assert_allclose(got, ref, rtol=LOSS_RTOL, err_msg=f"{framework} {task}")
    assert ref[1] < ref[0]  # the step trained (LSTM: loss falls on the same batch)


def test_data_is_the_embedded_digits_upsampled_and_standardised(digits):
    assert digits["x_train"].shape == (1438, 1, 28, 28)
    assert digits["x_test"].shape == (359, 1, 28, 28)
    assert abs(float(digits["x_train"].mean())) < 1e-5
    assert float(digits["x_train"].std()) == pytest.approx(1.0, rel=1e-4)
    r = data.resize_matrix(8, 28)
    assert (r.sum(axis=1) == 1).all() and (np.diff(r.argmax(axis=1)) >= 0).all()
    np.testing.assert_array_equal(data.resize_matrix(5, 5), np.eye(5))


def test_text_windows_are_shifted_by_one(text):
    assert text["x_train"].shape[1] == data.SEQ_LEN and text["x_test"].shape == (4, 64)
    np.testing.assert_array_equal(text["x_train"][:, 1:], text["y_train"][:, :-1])
    assert text["x_train"].max() < 128  # ASCII bytes


def test_batch_order_follows_the_seed():
    a = [i.tolist() for _, i in data.batches(10, 4, seed=1, epochs=2)]
    assert a == [i.tolist() for _, i in data.batches(10, 4, seed=1, epochs=2)]
    assert a != [i.tolist() for _, i in data.batches(10, 4, seed=2, epochs=2)]
    assert [len(i) for i in a] == [4, 4, 2, 4, 4, 2]
    assert sorted(sum(a[:3], [])) == list(range(10))
    assert len(list(data.batches(10, 4, seed=0, steps=5))) == 5
    with pytest.raises(ValueError, match="exactly one of steps= and epochs="):
        next(data.batches(10, 4, seed=0))
    with pytest.raises(ValueError, match="batch must be >= 1"):
        next(data.batches(10, 0, seed=0, steps=1))


def test_chunks_split_at_eval_every_and_at_epoch_ends():
    chunks = list(worker._chunks("cnn", 100, 16, 0, epochs=2, steps=0, every=3))
    assert [len(c) for c in chunks] == [3, 3, 1, 3, 3, 1]  # 7 batches per epoch
    assert all(len(c[-1]) == 4 for c in (chunks[2], chunks[5]))  # the short last batch
    assert [len(c) for c in worker._chunks("lstm", 100, 16, 0, epochs=0, steps=5, every=2)] \
        == [2, 2, 1]


def test_trainer_build_rejects_bad_names(text):
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        trainers.build("jax", "lstm", 0, text)
    with pytest.raises(ValueError, match="unknown task 'gan'"):
        trainers.build("ember", "gan", 0, text)
    with pytest.raises(ValueError, match="keras_jit"):
        trainers.build("ember", "lstm", 0, text, keras_jit="yes")


def test_tiny_worker_run_gives_a_complete_record(capsys):
    code = worker.main(["--task", "lstm", "--framework", "ember", "--steps", "2",
                        "--eval-every", "1", "--test-windows", "2", "--threads", "1"])
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and record["status"] == "ok", record.get("error")
    assert record["steps"] == 2 and [p["step"] for p in record["curve"]] == [0, 1, 2]
    assert record["first_loss"] == pytest.approx(np.log(256), rel=0.05)
    assert record["curve"][-1]["test_loss"] < record["curve"][0]["test_loss"]
    assert record["peak_rss_mb"] >= record["rss_after_setup_mb"] > 0
    assert record["train_s"] > 0 and record["import_s"] >= 0


# ------------------------------------------------------------------ verdicts from numbers

def _run(task, fw, seed, train_s=10.0, rss=500.0, acc=0.98, import_s=5.0, loss=2.0):
    curve = [{"step": 0, "train_s": 0.0, "test_loss": 2.3, "train_loss": None,
              "test_accuracy": 0.1 if task == "cnn" else None},
             {"step": 23, "train_s": train_s / 2, "test_loss": loss, "train_loss": loss,
              "test_accuracy": acc - 0.02 if task == "cnn" else None},
             {"step": 46, "train_s": train_s, "test_loss": loss, "train_loss": loss,
              "test_accuracy": acc if task == "cnn" else None}]
    if task == "lstm":
        for p in curve:
            p.pop("test_accuracy")
    return {"status": "ok", "task": task, "framework": fw, "seed": seed, "version": "x",
            "train_s": train_s, "step_ms": train_s * 20, "peak_rss_mb": rss,
            "rss_after_import_mb": rss / 2, "import_s": import_s, "first_loss": 2.3,
            "curve": curve}


def _fake(cnn: dict, lstm: dict | None = None) -> list:
    """Runs for 3 seeds from ``{framework: {metric: value or per-seed list}}``."""
    runs = []
    for task, spec in (("cnn", cnn), ("lstm", lstm or {})):
        for fw, metrics in spec.items():
            for seed in range(3):
                kw = {k: v[seed] if isinstance(v, list) else v for k, v in metrics.items()}
                runs.append(_run(task, fw, seed, **kw))
    return runs


def _verdicts(runs) -> dict:
    return {c["id"]: c["verdict"] for c in analysis.judge(analysis.summarize(runs))}


def test_verdicts_follow_the_numbers():
    base = {"ember": {"train_s": 50.0, "rss": 150.0},
            "torch": {"train_s": 20.0, "rss": 450.0, "import_s": 4.0},
            "keras": {"train_s": 10.0, "rss": 400.0, "import_s": 12.0}}
    lstm = {"torch": {"train_s": 5.0}, "keras": {"train_s": 9.0}}
    v = _verdicts(_fake(base, lstm))
    assert v == {"tf-cnn-faster": "holds", "torch-more-memory": "holds", "both-98": "holds",
                 "same-accuracy": "holds", "numpy-slow": "holds", "torch-lstm-faster": "holds",
                 "tf-slow-import": "holds"}
    flipped = {"ember": {"train_s": 30.0, "rss": 150.0, "acc": 0.95},
               "torch": {"train_s": 20.0, "rss": 300.0, "import_s": 12.0, "acc": 0.96},
               "keras": {"train_s": 40.0, "rss": 800.0, "import_s": 4.0}}
    v = _verdicts(_fake(flipped, {"torch": {"train_s": 9.0}, "keras": {"train_s": 5.0}}))
    assert v == {"tf-cnn-faster": "does not hold", "torch-more-memory": "does not hold",
                 "both-98": "does not hold", "same-accuracy": "does not hold",
                 "numpy-slow": "does not hold", "torch-lstm-faster": "does not hold",
                 "tf-slow-import": "does not hold"}


def test_overlapping_spreads_are_inconclusive_and_much_more_memory_is_not_slightly():
    noisy = {"torch": {"train_s": [10.0, 20.0, 30.0], "rss": 1000.0},
             "keras": {"train_s": [12.0, 18.0, 25.0], "rss": 400.0}}
    v = _verdicts(_fake(noisy))
    assert v["tf-cnn-faster"] == "inconclusive"
    assert v["torch-more-memory"] == "does not hold"  # 2.5x is not "slightly"
    assert v["numpy-slow"] == "not measured" and v["torch-lstm-faster"] == "not measured"


def test_time_to_target_and_failed_runs_are_counted():
    runs = _fake({"torch": {"acc": [0.98, 0.96, 0.975]}})
    runs.append({"status": "failed", "task": "cnn", "framework": "torch", "seed": 3,
                 "reason": "boom"})
    s = analysis.summarize(runs, target=0.97)["cnn"]["torch"]
    assert s["runs"] == 3 and s["failed"] == ["boom"]
    assert s["reached"] == 2 and s["time_to_target"].n == 2
    assert s["time_to_target"].mean == pytest.approx(10.0)
    assert analysis.time_to(runs[0]["curve"], 0.9) == pytest.approx(5.0)
    assert analysis.time_to(runs[0]["curve"], 0.99) is None
    with pytest.raises(ValueError, match="targets must be accuracies"):
        analysis.summarize(runs, target=97)


def test_from_json_rerenders_the_page_with_computed_verdicts(tmp_path):
    record = {"date": "2000-01-01", "json": "r.json", "wall_s": 60.0,
              "config": {"seeds": [0, 1, 2], "epochs": 2, "eval_every": 23, "lstm_steps": 3,
                         "test_windows": 4, "target": 0.97, "second_target": 0.95},
              "machine": {"cpu": "cpu", "cores": 2, "python": "3", "numpy": "2",
                          "numpy_blas": "b"},
              "versions": ["torch x"], "uptime_start": "up", "uptime_end": "up",
              "load_start": [1.0, 1.0, 1.0], "load_end": [2.0, 2.0, 2.0],
              "runs": _fake({"torch": {"train_s": 20.0}, "keras": {"train_s": 10.0}}),
              "summary": {}, "claims": []}
    src, doc = tmp_path / "r.json", tmp_path / "c.md"
    src.write_text(json.dumps(record))
    assert cli.main(["--from-json", str(src), "--doc", str(doc)]) == 0
    page = doc.read_text()
    assert "| TensorFlow trains CNNs faster on the CPU than PyTorch | **holds** |" in page
    assert "| A pure-NumPy framework (ember) trains at least 2x slower than PyTorch | " \
           "**not measured** |" in page
    assert "98.0 ± 0.0" in page and "2.00 (1 min)" in page


# ------------------------------------------------------------------ arguments

@pytest.mark.parametrize("argv, message", [
    (["--frameworks", "ember,mxnet"], "unknown framework mxnet"),
    (["--tasks", "gan"], "unknown task gan"),
    (["--seeds", "0"], "expected a positive integer, got 0"),
    (["--epochs", "two"], "expected a positive integer, got 'two'"),
    (["--target", "97"], "expected an accuracy in (0, 1], got 97.0"),
    (["--from-json", "/nonexistent/r.json"], "no such file"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_worker_rejects_nonpositive_budgets(capsys):
    with pytest.raises(SystemExit) as info:
        worker.parse_args(["--task", "cnn", "--framework", "ember", "--epochs", "0"])
    assert info.value.code == 2 and "--epochs must be >= 1" in capsys.readouterr().err


def test_missing_framework_is_reported_not_dropped(monkeypatch):
    monkeypatch.setattr(cli, "_installed", lambda fw: "not installed: tensorflow")
    args = argparse.Namespace()
    result = cli.run_one("cnn", "keras", 0, args)
    assert result == {"status": "unavailable", "task": "cnn", "framework": "keras", "seed": 0,
                      "reason": "not installed: tensorflow"}
    s = analysis.summarize([result])["cnn"]["keras"]
    assert s["runs"] == 0 and s["failed"] == ["not installed: tensorflow"]
