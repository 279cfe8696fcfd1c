"""RNN/LSTM/GRU and their cells against PyTorch with identical weights, the fused recurrent
primitives against their step-by-step composites, and bad-input errors.

Tolerances: float64 comparisons use atol 1e-10 (same math, different summation order);
the float32 LSTM test uses atol 1e-5.
"""

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.ops import rnn as fused

torch = pytest.importorskip("torch")

T, B, IN, H = 4, 3, 5, 6
MODES = ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]
ATOL = 1e-10


def _pair(mode, *, cell=False, **kw):
    """A torch module and an ember module with the same config and torch's weights."""
    if mode.startswith("RNN"):
        kw["nonlinearity"] = mode[4:].lower()
        name = "RNN"
    else:
        name = mode
    name += "Cell" if cell else ""
    tm = getattr(torch.nn, name)(IN, H, **kw).double()
    em = getattr(nn, name)(IN, H, dtype=ember.float64, **kw)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def _leaf(a):
    return (torch.tensor(a, requires_grad=True),
            ember.tensor(a, dtype=ember.float64, requires_grad=True))


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _check_same(tm, em, t_inputs, e_inputs, t_out, e_out, rng):
    """Outputs equal; then gradients of a random weighted sum of all outputs equal for
    every input and parameter."""
    t_flat, e_flat = _flatten(t_out), _flatten(e_out)
    assert len(t_flat) == len(e_flat)
    for t, e in zip(t_flat, e_flat):
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=ATOL, rtol=0)
    weights = [rng.standard_normal(tuple(t.shape)) for t in t_flat]
    sum(((t * torch.tensor(w)).sum() for t, w in zip(t_flat, weights))).backward()
    sum(((e * ember.tensor(w)).sum() for e, w in zip(e_flat, weights))).backward()
    for t, e in zip(t_inputs, e_inputs):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=ATOL, rtol=0)
    e_params = dict(em.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(e_params[name].grad.numpy(), p.grad.numpy(), atol=ATOL,
                                   rtol=0, err_msg=name)


# ------------------------------------------------------------------------------ layers


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_matches_torch(mode, num_layers, batch_first, bidirectional):
    rng = np.random.default_rng(0)
    tm, em = _pair(mode, num_layers=num_layers, batch_first=batch_first,
                   bidirectional=bidirectional)
    shape = (B, T, IN) if batch_first else (T, B, IN)
    tx, ex = _leaf(rng.standard_normal(shape))
    states = [_leaf(rng.standard_normal((num_layers * (1 + bidirectional), B, H)))
              for _ in range(2 if mode == "LSTM" else 1)]
    t_hx = tuple(s[0] for s in states) if mode == "LSTM" else states[0][0]
    e_hx = tuple(s[1] for s in states) if mode == "LSTM" else states[0][1]
    _check_same(tm, em, [tx] + [s[0] for s in states], [ex] + [s[1] for s in states],
                tm(tx, t_hx), em(ex, e_hx), rng)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_and_default_state_match_torch(mode, with_hx):
    rng = np.random.default_rng(1)
    tm, em = _pair(mode, num_layers=2, bidirectional=True)
    tx, ex = _leaf(rng.standard_normal((T, IN)))
    t_in, e_in = [tx], [ex]
    t_hx = e_hx = None
    if with_hx:
        states = [_leaf(rng.standard_normal((4, H))) for _ in range(2 if mode == "LSTM" else 1)]
        t_in += [s[0] for s in states]
        e_in += [s[1] for s in states]
        t_hx = tuple(t_in[1:]) if mode == "LSTM" else t_in[1]
        e_hx = tuple(e_in[1:]) if mode == "LSTM" else e_in[1]
    _check_same(tm, em, t_in, e_in, tm(tx, t_hx), em(ex, e_hx), rng)


@pytest.mark.parametrize("mode", MODES)
def test_no_bias_matches_torch(mode):
    rng = np.random.default_rng(2)
    tm, em = _pair(mode, bias=False, num_layers=2)
    assert "bias_ih_l0" not in dict(em.named_parameters())
    tx, ex = _leaf(rng.standard_normal((T, B, IN)))
    _check_same(tm, em, [tx], [ex], tm(tx), em(ex), rng)


def test_lstm_float32_matches_torch():
    rng = np.random.default_rng(3)
    tm = torch.nn.LSTM(IN, H, num_layers=2)
    em = nn.LSTM(IN, H, num_layers=2)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((T, B, IN)).astype(np.float32)
    to, (th, tc) = tm(torch.tensor(x))
    eo, (eh, ec) = em(ember.tensor(x))
    assert eo.dtype is ember.float32
    for e, t in ((eo, to), (eh, th), (ec, tc)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=1e-5)


def test_only_final_state_used_in_loss():
    """A loss on h_n alone (the output sequence gets no gradient) still matches torch."""
    rng = np.random.default_rng(4)
    tm, em = _pair("LSTM", num_layers=2)
    tx, ex = _leaf(rng.standard_normal((T, B, IN)))
    tm(tx)[1][1].sum().backward()
    em(ex)[1][1].sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(em.weight_hh_l0.grad.numpy(), tm.weight_hh_l0.grad.numpy(),
                               atol=ATOL)


# ------------------------------------------------------------------------------ dropout


def test_dropout_eval_matches_torch():
    rng = np.random.default_rng(5)
    tm, em = _pair("GRU", num_layers=3, dropout=0.5)
    tm.eval()
    em.eval()
    tx, ex = _leaf(rng.standard_normal((T, B, IN)))
    _check_same(tm, em, [tx], [ex], tm(tx), em(ex), rng)


def test_dropout_train_is_reproducible_and_applied():
    em = nn.LSTM(IN, H, num_layers=2, dropout=0.5)
    x = ember.randn(T, B, IN)
    ember.manual_seed(7)
    a = em(x)[0].detach().numpy()
    ember.manual_seed(7)
    b = em(x)[0].detach().numpy()
    c = em(x)[0].detach().numpy()  # the generator moved on: another mask
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    em.eval()
    assert not np.allclose(a, em(x)[0].detach().numpy())
    # one layer: no dropout at all (PyTorch warns and never drops after the last layer)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        single = nn.LSTM(IN, H, dropout=0.5)
    out_train = single(x)[0].detach().numpy()
    single.eval()
    np.testing.assert_array_equal(out_train, single(x)[0].detach().numpy())


# ------------------------------------------------------------------------------ cells


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(mode, bias, batched):
    rng = np.random.default_rng(6)
    tm, em = _pair(mode, cell=True, bias=bias)
    lead = (B,) if batched else ()
    tx, ex = _leaf(rng.standard_normal(lead + (IN,)))
    states = [_leaf(rng.standard_normal(lead + (H,))) for _ in range(2 if mode == "LSTM" else 1)]
    t_hx = tuple(s[0] for s in states) if mode == "LSTM" else states[0][0]
    e_hx = tuple(s[1] for s in states) if mode == "LSTM" else states[0][1]
    _check_same(tm, em, [tx] + [s[0] for s in states], [ex] + [s[1] for s in states],
                tm(tx, t_hx), em(ex, e_hx), rng)


def test_cell_default_state_and_functional():
    rng = np.random.default_rng(7)
    tm, em = _pair("LSTM", cell=True)
    x = rng.standard_normal((B, IN))
    th, tc = tm(torch.tensor(x))
    eh, ec = em(ember.tensor(x, dtype=ember.float64))
    np.testing.assert_allclose(eh.detach().numpy(), th.detach().numpy(), atol=ATOL)
    fh, fc = nn.functional.lstm_cell(ember.tensor(x, dtype=ember.float64), None, em.weight_ih,
                                     em.weight_hh, em.bias_ih, em.bias_hh)
    np.testing.assert_allclose(fc.detach().numpy(), tc.detach().numpy(), atol=ATOL)


# ------------------------------------------------------------------------------ fused ops


def _fused_cases():
    rng = np.random.default_rng(8)

    def t(*shape):
        return ember.tensor(rng.standard_normal(shape) * 0.7, dtype=ember.float64,
                            requires_grad=True)

    steps, batch, hid = 3, 2, 3
    yield "lstm", fused.lstm_sequence, fused.lstm_composite, (
        t(steps, batch, 4 * hid), t(batch, hid), t(batch, hid), t(4 * hid, hid))
    yield "gru", fused.gru_sequence, fused.gru_composite, (
        t(steps, batch, 3 * hid), t(batch, hid), t(3 * hid, hid), t(3 * hid))
    yield "gru_nobias", fused.gru_sequence, fused.gru_composite, (
        t(steps, batch, 3 * hid), t(batch, hid), t(3 * hid, hid))
    for act in ("tanh", "relu"):
        yield (f"rnn_{act}", lambda *a, act=act: fused.rnn_sequence(*a, act),
               lambda *a, act=act: fused.rnn_composite(*a, nonlinearity=act),
               (t(steps, batch, hid), t(batch, hid), t(hid, hid)))


FUSED = list(_fused_cases())


@pytest.mark.parametrize("name,op,composite,args", FUSED, ids=[c[0] for c in FUSED])
def test_fused_equals_composite(name, op, composite, args):
    rng = np.random.default_rng(9)
    out_f, out_c = op(*args), composite(*args)
    for f, c in zip(out_f, out_c):
        np.testing.assert_allclose(f.detach().numpy(), c.detach().numpy(), atol=1e-12)
    for subset in (range(len(out_f)), [len(out_f) - 1]):  # all outputs; last state only
        ws = [ember.tensor(rng.standard_normal(out_f[k].shape)) for k in subset]
        g_f = ember.autograd.grad(sum((op(*args)[k] * w).sum() for k, w in zip(subset, ws)),
                                  args)
        g_c = ember.autograd.grad(
            sum((composite(*args)[k] * w).sum() for k, w in zip(subset, ws)), args)
        for a, b in zip(g_f, g_c):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


@pytest.mark.parametrize("name,op,composite,args", FUSED, ids=[c[0] for c in FUSED])
def test_fused_gradcheck_and_gradgradcheck(name, op, composite, args):
    assert ember.autograd.gradcheck(op, args)
    assert ember.autograd.gradgradcheck(op, args)


def test_layer_records_the_fused_node():
    em = nn.LSTM(IN, H)
    out, _ = em(ember.randn(T, B, IN))
    # the oneDNN backend records its own fused layer op (ops/rnn_fused.py) instead
    fused = "RnnFusedBackward" if ember.get_backend() == "onednn" else "LstmSequenceBackward"
    assert out.grad_fn.name == fused


# ------------------------------------------------------------------------------ module API


def test_parameters_init_and_repr():
    ember.manual_seed(0)
    a = nn.LSTM(IN, H, num_layers=2, bidirectional=True)
    ember.manual_seed(0)
    b = nn.LSTM(IN, H, num_layers=2, bidirectional=True)
    tm = torch.nn.LSTM(IN, H, num_layers=2, bidirectional=True)
    bound = 1 / np.sqrt(H)
    for (name, p), (tname, tp) in zip(a.named_parameters(), tm.named_parameters()):
        assert name == tname and tuple(p.shape) == tuple(tp.shape)
        values = np.abs(p.detach().numpy())
        assert bound * 0.5 < values.max() <= bound
        np.testing.assert_array_equal(p.detach().numpy(),
                                      dict(b.named_parameters())[name].detach().numpy())
    assert len(a.all_weights) == 4 and len(a.all_weights[0]) == 4
    for cls, kw in [(nn.RNN, dict(nonlinearity="relu", num_layers=2, bias=False,
                                  batch_first=True, dropout=0.5, bidirectional=True)),
                    (nn.GRU, {}), (nn.LSTMCell, {}), (nn.RNNCell, dict(nonlinearity="relu")),
                    (nn.GRUCell, dict(bias=False))]:
        assert repr(cls(IN, H, **kw)) == repr(getattr(torch.nn, cls.__name__)(IN, H, **kw))
    assert a.describe() == "LSTM 5->6"
    assert nn.GRUCell(IN, H).describe() == "GRUCell 5->6"


# ------------------------------------------------------------------------------ bad input


def test_wrong_feature_size_names_input_size():
    m = nn.Sequential(nn.LSTM(IN, H))
    with pytest.raises(ember.ShapeError, match=r"LSTM 5->6.*5 features \(input_size\).*"
                                               r"\[4, 3, 7\]"):
        m(ember.randn(T, B, 7))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_bad_inputs(mode):
    cls = getattr(nn, mode)
    m = cls(IN, H, num_layers=2)
    x = ember.randn(T, B, IN)
    with pytest.raises(ember.ShapeError, match=r"2-D .* or 3-D, got 4-D"):
        m(ember.randn(T, B, IN, 1))
    bad = ember.zeros(1, B, H)
    with pytest.raises(ember.ShapeError, match=r"expected hidden.* \[2, 3, 6\].*got \[1, 3, 6\]"):
        m(x, (bad, bad) if mode == "LSTM" else bad)
    with pytest.raises(ember.ShapeError, match="unbatched 2-D input"):
        good = ember.zeros(2, B, H)
        m(ember.randn(T, IN), (good, good) if mode == "LSTM" else good)
    with pytest.raises(ember.DTypeError, match="float64"):
        m(ember.randn(T, B, IN, dtype=ember.float64))
    if mode == "LSTM":
        with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
            m(x, ember.zeros(2, B, H))


def test_bad_constructor_and_cell_inputs():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(IN, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(IN, H, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(IN, 0)
    with pytest.raises(ValueError, match="num_layers"):
        nn.LSTM(IN, H, num_layers=0)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(IN, H, proj_size=2)
    cell = nn.LSTMCell(IN, H)
    with pytest.raises(ember.ShapeError, match=r"LSTMCell.*5 features.*\[3, 4\]"):
        cell(ember.randn(B, 4))
    with pytest.raises(ember.ShapeError, match="1-D or 2-D, got 3-D"):
        cell(ember.randn(1, B, IN))
    with pytest.raises(ember.ShapeError, match=r"\[3, 6\].*got \[2, 6\]"):
        h = ember.zeros(2, H)
        cell(ember.randn(B, IN), (h, h))
