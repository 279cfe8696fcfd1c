"""The benchmark implementations compute the same function: ember, torch and NumPy agree.

For every workload, on the same data and canonical weights (benchmarks.workloads.spec), three
training steps on one batch give the same losses (the first checks the forward pass and loss,
the second the backward pass and first update, the third the optimizer state: SGD momentum,
Adam moments) within float32 tolerance (rtol 1e-4), and
``predict`` then gives the same logits (rtol 1e-4, atol 1e-5). W1/W2 use the real batch; to keep
this file well under a minute on 2 shared cores, W3 runs at batch 4, W4 at batch 8 and W5 at
batch 4 (``make_batch(..., batch=...)``; the layer shapes are unchanged). A framework that is not
installed is skipped with the reason, and so is an ember mode whose optional library (oneDNN
for ``onednn``/``compiled_onednn``, onnxruntime for ``onnxruntime``) is absent.
"""
import math

import numpy as np
import pytest
from benchmarks.frameworks import FRAMEWORKS, ModeUnavailable, load
from benchmarks.workloads import WORKLOADS, init_weights, make_batch, param_specs

TEST_BATCH = {"W1": None, "W2": None, "W3": 4, "W4": 8, "W5": 4}
IMPLS = (("torch", "eager"), ("ember", "eager"), ("ember", "compiled"), ("ember", "onednn"),
         ("ember", "compiled_onednn"), ("ember", "onnxruntime"), ("numpy", "ref"))
_cache: dict = {}


def _module(name):
    module = load(name)
    ok, reason = module.available()
    if not ok:
        pytest.skip(f"{name} not available: {reason}")
    return module


def _run(framework: str, mode: str, workload_id: str):
    """((loss1, loss2, loss3), logits) after three steps on one batch, computed once."""
    key = (framework, mode, workload_id)
    if key not in _cache:
        try:
            runner = _module(framework).build(workload_id, mode, init_weights(workload_id, 0), 0)
        except ModeUnavailable as error:
            pytest.skip(f"{framework} {mode} unavailable: {error}")
        x, y = make_batch(workload_id, seed=1, batch=TEST_BATCH[workload_id])
        losses = tuple(runner.step(x, y) for _ in range(3))
        _cache[key] = (losses, np.asarray(runner.predict(x)))
    return _cache[key]


@pytest.mark.parametrize("workload_id", sorted(WORKLOADS))
@pytest.mark.parametrize("framework,mode", IMPLS[1:])
def test_losses_and_predictions_match_torch(framework, mode, workload_id):
    """The three step losses and the predictions equal torch's within float32 noise."""
    reference_losses, reference_logits = _run("torch", "eager", workload_id)
    losses, logits = _run(framework, mode, workload_id)
    assert all(isinstance(loss, float) for loss in losses)
    for step, (loss, expected) in enumerate(zip(losses, reference_losses), start=1):
        np.testing.assert_allclose(loss, expected, rtol=1e-4, err_msg=f"step {step} loss")
    assert logits.shape == reference_logits.shape
    np.testing.assert_allclose(logits, reference_logits, rtol=1e-4, atol=1e-5, err_msg="predict")


@pytest.mark.parametrize("workload_id", sorted(WORKLOADS))
def test_torch_reference_trains(workload_id):
    """The reference loss starts near ln(classes) and the update lowers it on the same batch."""
    (first, second, third), logits = _run("torch", "eager", workload_id)
    spec = WORKLOADS[workload_id]
    assert abs(first - math.log(spec.num_classes)) < 0.5
    assert third < second < first
    n = TEST_BATCH[workload_id] or spec.batch
    expected = (n, spec.seq_len, spec.num_classes) if spec.is_sequence else (n, spec.num_classes)
    assert logits.shape == expected


@pytest.mark.parametrize("workload_id", sorted(WORKLOADS))
def test_canonical_names_and_shapes_are_the_torch_state_dict(workload_id):
    """spec.param_specs lists exactly the torch model's state_dict, in order, with its shapes."""
    torch = pytest.importorskip("torch", reason="torch not installed")
    from benchmarks.frameworks.torch import define_model

    state = define_model(torch, workload_id).state_dict()
    assert [(p.name, p.shape) for p in param_specs(workload_id)] == \
        [(k, tuple(v.shape)) for k, v in state.items()]
    weights = init_weights(workload_id, 0)
    assert all(w.dtype == np.float32 for w in weights.values())


def test_init_follows_the_stated_distributions():
    """Uniform bounds, N(0,1) embeddings, LayerNorm ones/zeros, zero attention biases, seeding."""
    w5 = init_weights("W5", 0)
    assert np.all(w5["layers.0.norm1.weight"] == 1) and np.all(w5["layers.1.norm2.bias"] == 0)
    assert np.all(w5["layers.0.self_attn.in_proj_bias"] == 0)
    assert np.all(w5["layers.0.self_attn.out_proj.bias"] == 0)
    assert np.abs(w5["layers.0.self_attn.in_proj_weight"]).max() <= math.sqrt(6 / 512)
    assert abs(float(w5["embedding.weight"].std()) - 1) < 0.02
    w2 = init_weights("W2", 0)
    assert np.abs(w2["fc1.weight"]).max() <= 1 / math.sqrt(3136)
    assert np.abs(w2["fc1.weight"]).max() > 0.9 / math.sqrt(3136)
    assert np.array_equal(w2["conv1.weight"], init_weights("W2", 0)["conv1.weight"])
    assert not np.array_equal(w2["conv1.weight"], init_weights("W2", 1)["conv1.weight"])


@pytest.mark.parametrize("workload_id", sorted(WORKLOADS))
def test_make_batch_is_deterministic_and_typed(workload_id):
    """Same seed -> same arrays; float32 or int64 inputs, int64 labels in range."""
    spec = WORKLOADS[workload_id]
    x, y = make_batch(workload_id, 3)
    x2, y2 = make_batch(workload_id, 3)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert x.shape == (spec.batch, *spec.input_shape)
    assert y.dtype == np.int64 and 0 <= y.min() and y.max() < spec.num_classes
    assert x.dtype == (np.int64 if spec.is_sequence else np.float32)
    if workload_id == "W4":
        assert np.array_equal(x[:, 1:], y[:, :-1])  # targets are the next tokens
    assert make_batch(workload_id, 3, batch=2)[0].shape[0] == 2


def test_unavailable_modes_and_unknown_names_fail_clearly():
    """A mode a framework lacks is ModeUnavailable; unknown frameworks and workloads raise
    KeyError."""
    with pytest.raises(ModeUnavailable, match="no mode"):
        load("ember").build("W1", "jit", init_weights("W1", 0), 0)
    with pytest.raises(ModeUnavailable, match="no mode"):
        load("numpy").build("W1", "jit", init_weights("W1", 0), 0)
    with pytest.raises(KeyError, match="unknown framework"):
        load("mxnet")
    with pytest.raises(KeyError, match="unknown workload"):
        make_batch("W9", 0)
    assert set(FRAMEWORKS) == {"ember", "torch", "tensorflow", "jax", "numpy"}
    assert load("numpy").MODES == ("ref",) and load("torch").MODES == ("eager", "compile")
    assert load("ember").MODES == ("eager", "compiled", "onednn", "compiled_onednn",
                                   "onnxruntime")


def test_ember_modes_name_the_missing_library(monkeypatch):
    """oneDNN and onnxruntime modes raise ModeUnavailable naming what is missing."""
    import ember.onnx
    from ember.backends import onednn

    monkeypatch.setattr(onednn, "is_available", lambda: False)
    monkeypatch.setattr(onednn, "unavailable_reason", lambda: "libdnnl.so.2: not found")
    monkeypatch.setattr(ember.onnx, "is_available", lambda: False)
    weights = init_weights("W1", 0)
    for mode in ("onednn", "compiled_onednn"):
        with pytest.raises(ModeUnavailable, match="oneDNN backend is unavailable: libdnnl"):
            load("ember").build("W1", mode, weights, 0)
    with pytest.raises(ModeUnavailable, match="onnxruntime is not installed"):
        load("ember").build("W1", "onnxruntime", weights, 0)


def test_ember_modes_restore_backend_and_train_mode():
    """A oneDNN runner selects its backend only around its own calls; the onnxruntime
    runner predicts in eval mode and leaves the model in train mode for the next step, whose
    loss equals the compiled runner's after the same calls."""
    import ember

    ember_bench = _module("ember")
    x, y = make_batch("W2", seed=1, batch=4)
    before = ember.get_backend()
    try:
        onednn_runner = ember_bench.build("W2", "onednn", init_weights("W2", 0), 0)
    except ModeUnavailable as error:
        onednn_runner = None
        reason = str(error)
    if onednn_runner is not None:
        onednn_runner.step(x, y)
        onednn_runner.predict(x)
        assert ember.get_backend() == before
    try:
        onnx_runner = ember_bench.build("W2", "onnxruntime", init_weights("W2", 0), 0)
    except ModeUnavailable as error:
        pytest.skip(f"ember onnxruntime unavailable: {error}")
    compiled = ember_bench.build("W2", "compiled", init_weights("W2", 0), 0)
    for runner in (onnx_runner, compiled):
        runner.step(x, y)
        runner.predict(x)
    assert onnx_runner.model.training
    np.testing.assert_allclose(onnx_runner.step(x, y), compiled.step(x, y), rtol=1e-5)
    if onednn_runner is None:
        pytest.skip(f"oneDNN part skipped: {reason}")


def test_numpy_erf_matches_math_erf():
    """The NumPy reference's erf (for the exact GELU), evaluated in float32, is within 5e-7 of
    math.erf (the approximation's own error is 1.5e-7; float32 rounding adds the rest)."""
    from benchmarks.frameworks.numpy_ref import _erf

    xs = np.linspace(-5, 5, 2001, dtype=np.float32)
    expected = np.array([math.erf(float(v)) for v in xs])
    assert np.abs(_erf(xs).astype(np.float64) - expected).max() < 5e-7
