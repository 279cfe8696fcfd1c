"""oneDNN's fused LSTM/GRU (``backends/onednn/rnn.py`` through ``ops/rnn_fused.py``) against
torch.nn.LSTM / nn.GRU: outputs and every gradient (input, h0, c0, W_ih, W_hh, both biases).

Tolerance: 2e-5 absolute + 2e-5 relative in float32. oneDNN is the library torch's CPU RNN
runs on, so most values agree bit for bit; the GRU's gate arithmetic differs in rounding
(~1e-7). The whole network runs through ember's ``nn.LSTM``/``nn.GRU`` with
oneDNN selected, so ``nn/functional/rnn.py`` runs each layer direction through
:func:`ember.ops.rnn_fused.fused_direction`; a test checks the fused path really ran.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.backends.onednn import is_available, unavailable_reason

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not is_available(),
                                reason=f"oneDNN not available: {unavailable_reason()}")

TOL = dict(atol=2e-5, rtol=2e-5)


@pytest.fixture
def fused(monkeypatch):
    """oneDNN selected; yields a list counting the layers nn.functional.rnn ran on the fused
    op (the real wiring in ``recurrent``, observed through its ``fused_direction``)."""
    from ember.backends import get_backend, set_backend
    from ember.nn.functional import rnn as frnn

    calls = []
    original = frnn.fused_direction

    def counted(mode, *args, **kwargs):
        out = original(mode, *args, **kwargs)
        if out is not None:
            calls.append(mode)
        return out

    before = get_backend()
    set_backend("onednn")
    monkeypatch.setattr(frnn, "fused_direction", counted)
    yield calls
    set_backend(before)


def _pair(mode, seed=0, **kw):
    """A torch module and an ember module with the same parameters."""
    torch.manual_seed(seed)
    t = getattr(torch.nn, mode)(**kw)
    e = getattr(ember.nn, mode)(**kw)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), err_msg=what, **TOL)


def _check(mode, fused, *, inp=5, hidden=7, layers=1, bidirectional=False, batch_first=False,
           bias=True, initial=True, steps=6, batch=3, seed=0):
    t, e = _pair(mode, seed, input_size=inp, hidden_size=hidden, num_layers=layers,
                 bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(seed)
    shape = (batch, steps, inp) if batch_first else (steps, batch, inp)
    x_np = rng.standard_normal(shape).astype(np.float32)
    n_states = 2 if mode == "LSTM" else 1
    state_shape = (layers * (2 if bidirectional else 1), batch, hidden)
    s_np = [rng.standard_normal(state_shape).astype(np.float32) for _ in range(n_states)]
    xt = torch.tensor(x_np, requires_grad=True)
    xe = ember.tensor(x_np, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in s_np]
    se = [ember.tensor(s, requires_grad=True) for s in s_np]
    hx_t = (tuple(st) if n_states == 2 else st[0]) if initial else None
    hx_e = (tuple(se) if n_states == 2 else se[0]) if initial else None
    yt, ht = t(xt, hx_t)
    ye, he = e(xe, hx_e)
    ht, he = (ht if n_states == 2 else (ht,)), (he if n_states == 2 else (he,))
    assert fused.count(mode) == layers * (2 if bidirectional else 1)
    _close(ye.detach().numpy(), yt, "output")
    for k in range(n_states):
        _close(he[k].detach().numpy(), ht[k], f"final state {k}")
    # gradients from every output at once, with random weights on each
    gy = rng.standard_normal(yt.shape).astype(np.float32)
    gh = [rng.standard_normal(h.shape).astype(np.float32) for h in ht]
    torch.autograd.backward([yt, *ht], [torch.tensor(gy)] + [torch.tensor(g) for g in gh])
    ember.autograd.backward([ye, *he], [ember.tensor(gy)] + [ember.tensor(g) for g in gh])
    _close(xe.grad.numpy(), xt.grad, "input gradient")
    if initial:
        for k in range(n_states):
            _close(se[k].grad.numpy(), st[k].grad, f"initial state {k} gradient")
    params = dict(e.named_parameters())
    for name, p in t.named_parameters():
        _close(params[name].grad.numpy(), p.grad, f"gradient of {name}")


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (1, True), (2, True)])
def test_matches_torch(fused, mode, layers, bidirectional):
    _check(mode, fused, layers=layers, bidirectional=bidirectional)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("batch_first,initial,bias", [(True, True, True), (False, False, True),
                                                      (True, False, False)])
def test_layouts_states_bias(fused, mode, batch_first, initial, bias):
    _check(mode, fused, layers=2, bidirectional=True, batch_first=batch_first,
           initial=initial, bias=bias, seed=1)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_w4_sized_lstm_gradients(fused, mode):
    """Larger hidden size and sequence (oneDNN picks blocked weight formats here)."""
    _check(mode, fused, inp=32, hidden=64, steps=20, batch=8, seed=2)


def test_partial_output_gradient(fused):
    """Only the last hidden state feeds the loss (no gradient reaches the sequence/c_n)."""
    t, e = _pair("LSTM", 3, input_size=4, hidden_size=5)
    x = np.random.default_rng(3).standard_normal((7, 2, 4)).astype(np.float32)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    t(xt)[1][0].sum().backward()
    e(xe)[1][0].sum().backward()
    _close(xe.grad.numpy(), xt.grad, "input gradient")
    _close(e.weight_hh_l0.grad.numpy(), t.weight_hh_l0.grad, "W_hh gradient")


def test_inference_and_float64_fallback(fused):
    """No grad: forward-inference primitive, same values; float64 is not fused (NumPy)."""
    t, e = _pair("GRU", 4, input_size=3, hidden_size=4)
    x = np.random.default_rng(4).standard_normal((5, 2, 3)).astype(np.float32)
    with ember.no_grad():
        y = e(ember.tensor(x))[0]
    _close(y.numpy(), t(torch.tensor(x))[0], "inference output")
    assert fused == ["GRU"]
    e64 = ember.nn.GRU(3, 4, dtype=ember.float64)
    e64(ember.tensor(x.astype(np.float64)))
    assert fused == ["GRU"]


def test_create_graph_uses_composite(fused):
    """Second-order gradients through the fused op equal the NumPy path's."""
    from ember.backends import set_backend

    _, e = _pair("LSTM", 5, input_size=3, hidden_size=4)
    x_np = np.random.default_rng(5).standard_normal((4, 2, 3)).astype(np.float32)

    def second_order():
        x = ember.tensor(x_np, requires_grad=True)
        (g,) = ember.autograd.grad(e(x)[0].sum(), [x], create_graph=True)
        (gg,) = ember.autograd.grad((g * g).sum(), [x])
        return gg.numpy()

    fused_value = second_order()
    assert fused
    set_backend("numpy")
    np.testing.assert_allclose(fused_value, second_order(), atol=1e-5, rtol=1e-4)


def test_backward_is_an_op(fused):
    """The vjp runs the backward as a recorded op on tensors (graph-mode rule): the fused
    node's saved inputs include the forward's outputs and workspace as Tensors."""
    from ember.ops import rnn_fused

    x = ember.tensor(np.ones((3, 2, 4), np.float32), requires_grad=True)
    h = ember.zeros((2, 5))
    w_ih = ember.tensor(np.full((20, 4), 0.1, np.float32), requires_grad=True)
    w_hh = ember.tensor(np.full((20, 5), 0.1, np.float32), requires_grad=True)
    hs, h_n, c_n = rnn_fused.lstm_layer(x, h, h, w_ih, w_hh)
    node = hs.grad_fn.edges[0]  # hs's node selects output 0 of the rnn_fused node
    assert node.op.name == "rnn_fused"
    saved = node.inputs
    assert all(isinstance(s, ember.Tensor) for s in saved)
    assert saved[-1].dtype == ember.uint8 and saved[-1].shape[0] > 0  # the workspace


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_reverse_direction_matches_flipped(fused, mode):
    """``reverse=True`` (oneDNN right-to-left, no flips) equals running the flipped input
    left to right and flipping the outputs back, in value and in every gradient."""
    from ember.ops import rnn_fused

    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.5 for s in
              [(5, 2, 3), (2, 4), (2, 4), (16 if mode == "LSTM" else 12, 3),
               (16 if mode == "LSTM" else 12, 4), (16 if mode == "LSTM" else 12,),
               (16 if mode == "LSTM" else 12,)]]
    if mode == "GRU":
        del arrays[2]
    layer = rnn_fused.lstm_layer if mode == "LSTM" else rnn_fused.gru_layer

    def run(reverse):
        ts = [ember.tensor(a, requires_grad=True) for a in arrays]
        x = ts[0] if reverse else ember.flip(ts[0], [0])
        outs = layer(x, *ts[1:], reverse=reverse)
        hs = outs[0] if reverse else ember.flip(outs[0], [0])
        loss = (hs * hs).sum() + sum((o * o).sum() for o in outs[1:])
        loss.backward()
        return [hs.detach().numpy()] + [t.grad.numpy() for t in ts]

    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, **TOL)
