"""Whole forward graphs of the workload models (W1-W5 shaped, small sizes) exported to ONNX
and run in ONNX Runtime equal ember eager; dynamic batch; parameter names in the file."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.models as M

from ._helpers import assert_close, check_and_run, onnx
from ._record import record

R = np.random.default_rng(3)


def _images(n, c, s):
    return R.random((n, c, s, s), dtype=np.float32)


def _tokens(n, t, vocab):
    return R.integers(0, vocab, (n, t)).astype(np.int64)


MODELS = {
    "W1-mlp": (lambda: M.mlp(in_features=20, hidden=(16, 12), num_classes=5),
               lambda n: R.random((n, 20), dtype=np.float32)),
    "W2-lenet": (lambda: M.lenet(image_size=12), lambda n: _images(n, 1, 12)),
    "W3-cifar": (lambda: M.cifar_cnn(image_size=8), lambda n: _images(n, 3, 8)),
    "W4-lstm": (lambda: M.lstm_lm(vocab_size=30, embedding_dim=8, hidden_size=12),
                lambda n: _tokens(n, 7, 30)),
    "W4-lstm-2layers": (lambda: M.lstm_lm(vocab_size=30, embedding_dim=8, hidden_size=12,
                                          num_layers=2), lambda n: _tokens(n, 5, 30)),
    "W5-transformer": (lambda: M.transformer(vocab_size=40, num_classes=9, d_model=16,
                                             nhead=4, dim_feedforward=24, max_len=10),
                       lambda n: _tokens(n, 6, 40)),
}


def _traced(key, batch):
    ember.manual_seed(0)
    make_model, make_input = MODELS[key]
    model = make_model()
    model.eval()
    x = make_input(batch)
    graph, want = record(model, ember.from_numpy(x))
    return model, graph, x, want


@pytest.mark.parametrize("key", list(MODELS))
def test_model_forward_matches_eager(key):
    model, graph, x, want = _traced(key, 3)
    (got,) = check_and_run(graph, [x])
    assert_close(got, want[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("key", ["W1-mlp", "W2-lenet", "W4-lstm", "W5-transformer"])
def test_dynamic_batch_runs_other_batch_sizes(key):
    model, graph, x, want = _traced(key, 2)
    from ember.onnx import OnnxRuntimeExecutor, export_graph

    data = export_graph(graph, dynamic_batch=True)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    run = OnnxRuntimeExecutor(data)
    for batch in (1, 5):
        x2 = MODELS[key][1](batch)
        with ember.no_grad():
            ref = model(ember.from_numpy(x2)).numpy()
        (got,) = run(x2)
        assert_close(got, ref, rtol=1e-4, atol=1e-5)


def test_fixed_batch_rejects_other_batch_size():
    _, graph, x, _ = _traced("W1-mlp", 2)
    from ember.onnx import OnnxRuntimeExecutor

    run = OnnxRuntimeExecutor(graph)
    with pytest.raises(ember.errors.ShapeError, match=r"input 'input' must have shape \[2, 20\]"):
        run(np.concatenate([x, x]))


def test_resnet_eval_batch_norm():
    ember.manual_seed(0)
    model = M.resnet20(num_classes=4)
    for m in model.modules():  # non-trivial running statistics
        if isinstance(m, ember.nn.BatchNorm2d):
            m.running_mean.copy_(ember.from_numpy(R.normal(0, 0.1, m.running_mean.shape)
                                                  .astype(np.float32)))
            m.running_var.copy_(ember.from_numpy(R.uniform(0.5, 2, m.running_var.shape)
                                                 .astype(np.float32)))
    model.eval()
    x = _images(2, 3, 8)
    graph, want = record(model, ember.from_numpy(x))
    (got,) = check_and_run(graph, [x])
    assert_close(got, want[0], rtol=1e-4, atol=1e-4)


def test_transformer_uses_layer_normalization_and_prunes_statistics():
    _, graph, _, _ = _traced("W5-transformer", 2)
    from ember.onnx import export_graph

    model = onnx.load_from_string(export_graph(graph))
    types = [n.op_type for n in model.graph.node]
    assert types.count("LayerNormalization") == 4  # 2 layers x 2 norms
    assert "ReduceMean" not in types  # the norm_stats nodes had no users left


def test_lstm_takes_over_the_input_projection():
    _, graph, _, _ = _traced("W4-lstm", 2)
    from ember.onnx import export_graph

    model = onnx.load_from_string(export_graph(graph))
    types = [n.op_type for n in model.graph.node]
    assert types.count("LSTM") == 1
    # the LSTM reads the embedded tokens itself: the only product left is the decoder's
    assert types.count("MatMul") + types.count("Gemm") == 1
    # a zero initial state is left out (ONNX's default), which frees the batch size
    (lstm,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert len(lstm.input) <= 4


def test_initializers_hold_current_parameter_values():
    model, graph, x, _ = _traced("W1-mlp", 2)
    from ember.onnx import OnnxRuntimeExecutor

    before = OnnxRuntimeExecutor(graph)(x)[0]
    with ember.no_grad():
        for p in model.parameters():
            p.mul_(2.0)
    after = OnnxRuntimeExecutor(graph)(x)[0]  # a new export reads the new values
    assert not np.allclose(before, after)
    assert_close(OnnxRuntimeExecutor(graph)(x)[0], after)


_HAS_TRACER = callable(getattr(ember.graph, "trace", None)) or hasattr(ember.graph, "compile")


@pytest.mark.skipif(not _HAS_TRACER, reason="graph.trace not available")
@pytest.mark.parametrize("key", list(MODELS))
def test_export_traced_model_matches_eager(key):
    """The same through ``ember.onnx.export`` (the real tracer), with a dynamic batch."""
    from ember.onnx import OnnxRuntimeExecutor, export

    ember.manual_seed(0)
    make_model, make_input = MODELS[key]
    model = make_model()
    data = export(model, make_input(2), dynamic_batch=True)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    x = make_input(3)
    model.eval()
    with ember.no_grad():
        want = model(ember.from_numpy(x)).numpy()
    (got,) = OnnxRuntimeExecutor(data)(x)
    assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_dynamic_batch_reshape_through_a_merged_batch():
    """(B, T, C) -> (B*T, C) -> linear -> (B, T, C'): the batch leaves dim 0 and comes back."""
    ember.manual_seed(0)
    lin = ember.nn.Linear(4, 3)

    def fn(x):
        n, t, c = x.shape
        return lin(x.reshape(n * t, c)).reshape(n, t, 3).softmax(-1)

    x = R.random((2, 5, 4), dtype=np.float32)
    graph, _ = record(fn, ember.from_numpy(x))
    from ember.onnx import OnnxRuntimeExecutor, export_graph

    run = OnnxRuntimeExecutor(export_graph(graph, dynamic_batch=True))
    x3 = R.random((3, 5, 4), dtype=np.float32)
    with ember.no_grad():
        want = fn(ember.from_numpy(x3)).numpy()
    assert_close(run(x3)[0], want)


@pytest.mark.skipif(not hasattr(ember, "compile"), reason="ember.compile not available")
def test_compiled_graph_with_fused_elementwise_nodes():
    """``ember.compile``'s optimized graph (elementwise chains fused into one node) exports:
    the fused node's members are lowered one by one."""
    from ember.onnx import run_onnxruntime

    ember.manual_seed(0)
    w = ember.randn(4, 4)

    def fn(x):
        h = x @ w
        return (ember.tanh(h * 2 + 1) * h - h.exp() / 3).relu()

    compiled = ember.compile(fn)
    x = ember.randn(3, 4)
    with ember.no_grad():
        want = compiled(x).numpy()
    graph = compiled.graph
    assert any(hasattr(n.op, "steps") for n in graph.nodes), str(graph)
    (got,) = run_onnxruntime(graph, x.numpy())
    assert_close(got, want)


def test_lstm_traced_on_the_onednn_backend():
    """With oneDNN selected the LSTM layer is one ``rnn_fused_run`` op; it exports too."""
    onednn = pytest.importorskip("ember.backends.onednn")
    if not hasattr(ember, "set_backend") or not onednn.is_available():
        pytest.skip("the oneDNN backend is not available")
    from ember.onnx import OnnxRuntimeExecutor, export

    before = ember.get_backend()
    ember.set_backend("onednn")
    try:
        ember.manual_seed(0)
        make_model, make_input = MODELS["W4-lstm-2layers"]
        model = make_model()
        data = export(model, make_input(2), dynamic_batch=True)
        assert [n.op_type for n in onnx.load_from_string(data).graph.node].count("LSTM") == 2
        x = make_input(3)
        with ember.no_grad():
            want = model(ember.from_numpy(x)).numpy()
    finally:
        ember.set_backend(before)
    assert_close(OnnxRuntimeExecutor(data)(x)[0], want, rtol=1e-4, atol=1e-5)
