"""scaled_dot_product_attention and MultiheadAttention against torch with identical weights and
inputs: outputs, attention weights and the gradients of inputs and parameters (float64,
tolerance 1e-10)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = dict(rtol=1e-10, atol=1e-10)


def _both(a, requires_grad=True):
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _close(e, t, msg=""):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=msg, **TOL)


# ------------------------------------------------------------------------ sdpa


def _sdpa_case(q_shape, k_shape, v_shape, e_kwargs, t_kwargs):
    (qe, qt), (ke, kt), (ve, vt) = (_both(_randn(*s, seed=i))
                                    for i, s in enumerate((q_shape, k_shape, v_shape)))
    ye = F.scaled_dot_product_attention(qe, ke, ve, **e_kwargs)
    yt = TF.scaled_dot_product_attention(qt, kt, vt, **t_kwargs)
    _close(ye, yt)
    g = _randn(*yt.shape, seed=9)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for name, a, b in (("q", qe, qt), ("k", ke, kt), ("v", ve, vt)):
        _close(a.grad, b.grad, name)


@pytest.mark.parametrize("shapes", [((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
                                    ((5, 8), (7, 8), (7, 3))])
def test_sdpa_matches_torch(shapes):
    _sdpa_case(*shapes, {}, {})
    _sdpa_case(*shapes, {"scale": 0.3}, {"scale": 0.3})


@pytest.mark.parametrize("length,source", [(4, 4), (3, 6), (6, 3)])
def test_sdpa_causal_matches_torch(length, source):
    _sdpa_case((2, 2, length, 4), (2, 2, source, 4), (2, 2, source, 4), {"is_causal": True},
               {"is_causal": True})


def test_sdpa_bool_and_float_masks_match_torch():
    rng = np.random.default_rng(5)
    mask = rng.random((2, 1, 4, 6)) > 0.4
    mask[..., 0] = True  # every query attends somewhere
    _sdpa_case((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), {"attn_mask": ember.tensor(mask)},
               {"attn_mask": torch.tensor(mask)})
    bias = rng.standard_normal((4, 6))
    _sdpa_case((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), {"attn_mask": ember.tensor(bias)},
               {"attn_mask": torch.tensor(bias)})


def test_sdpa_gqa_matches_torch():
    _sdpa_case((1, 4, 3, 8), (1, 2, 5, 8), (1, 2, 5, 8), {"enable_gqa": True},
               {"enable_gqa": True})


def test_sdpa_dropout_uses_default_generator():
    q, k = ember.randn(1, 1, 200, 4), ember.randn(1, 1, 50, 4)
    v = ember.tensor(np.eye(50, dtype=np.float32)[None, None])  # output = attention weights
    ember.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy()
    ember.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy()
    np.testing.assert_array_equal(a, b)
    full = F.scaled_dot_product_attention(q, k, v).numpy()
    kept = a != 0
    assert 0.7 < kept.mean() < 0.8  # about 1 - p of the weights survive
    np.testing.assert_allclose(a[kept], full[kept] / 0.75, rtol=1e-5)


def test_sdpa_bad_inputs():
    q = ember.randn(2, 4, 8)
    with pytest.raises(ember.ShapeError, match=r"scaled_dot_product_attention: expected query "
                                               r"\(\.\.\., L, E\).*\[2, 4, 8\], \[2, 5, 7\]"):
        F.scaled_dot_product_attention(q, ember.randn(2, 5, 7), ember.randn(2, 5, 7))
    with pytest.raises(ValueError, match="attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.ones(4, 4, dtype=ember.bool),
                                       is_causal=True)
    with pytest.raises(ember.DTypeError, match="one floating-point dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(ember.DTypeError, match="attn_mask must be bool or float32"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(4, 4, dtype=ember.int64))
    with pytest.raises(TypeError, match="query must be an ember.Tensor"):
        F.scaled_dot_product_attention(np.ones((2, 3)), q, q)


# ------------------------------------------------------------------------ MultiheadAttention


def _mha_pair(embed_dim=8, heads=2, **kwargs):
    torch.manual_seed(0)
    mt = torch.nn.MultiheadAttention(embed_dim, heads, dtype=torch.float64, **kwargs)
    me = nn.MultiheadAttention(embed_dim, heads, dtype=ember.float64, **kwargs)
    assert list(me.state_dict()) == list(mt.state_dict())
    with torch.no_grad():  # non-zero biases so that their gradients are tested too
        for p in mt.parameters():
            if p.ndim == 1:
                p.uniform_(-0.5, 0.5)
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    return me, mt


def _mha_check(me, mt, q, k, v, self_attention=False, **kwargs):
    """Run both modules; compare outputs, weights and every gradient."""
    (qe, qt) = _both(q)
    (ke, kt), (ve, vt) = ((qe, qt), (qe, qt)) if self_attention else (_both(k), _both(v))
    ek = {n: (ember.tensor(a) if isinstance(a, np.ndarray) else a) for n, a in kwargs.items()}
    tk = {n: (torch.tensor(a) if isinstance(a, np.ndarray) else a) for n, a in kwargs.items()}
    oe, we = me(qe, ke, ve, **ek)
    ot, wt = mt(qt, kt, vt, **tk)
    _close(oe, ot, "output")
    assert (we is None) == (wt is None)
    if wt is not None:
        _close(we, wt, "weights")
    g = _randn(*ot.shape, seed=7)
    loss_e = (oe * ember.tensor(g)).sum() + ((we * we).sum() if we is not None else 0)
    loss_t = (ot * torch.tensor(g)).sum() + ((wt * wt).sum() if wt is not None else 0)
    loss_e.backward()
    loss_t.backward()
    pairs = [("query", qe, qt)] + ([] if self_attention else [("key", ke, kt), ("value", ve, vt)])
    for name, a, b in pairs:
        _close(a.grad, b.grad, name)
    for (n, pe), (_, pt) in zip(me.named_parameters(), mt.named_parameters()):
        _close(pe.grad, pt.grad, n)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention_matches_torch(batch_first, average):
    me, mt = _mha_pair(batch_first=batch_first)
    x = _randn(3, 5, 8)
    _mha_check(me, mt, x, None, None, self_attention=True, average_attn_weights=average)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_cross_attention_with_kdim_vdim(batch_first):
    me, mt = _mha_pair(kdim=6, vdim=4, batch_first=batch_first)
    assert me.in_proj_weight is None and tuple(me.k_proj_weight.shape) == (8, 6)
    q = _randn(3, 2, 8) if not batch_first else _randn(2, 3, 8)
    k = _randn(5, 2, 6, seed=1) if not batch_first else _randn(2, 5, 6, seed=1)
    v = _randn(5, 2, 4, seed=2) if not batch_first else _randn(2, 5, 4, seed=2)
    _mha_check(me, mt, q, k, v)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_masks_match_torch(batch_first):
    me, mt = _mha_pair(batch_first=batch_first)
    x = _randn(4, 3, 8)  # L=4, N=3 (or N=4, L=3 batch first)
    n, length = (4, 3) if batch_first else (3, 4)
    rng = np.random.default_rng(2)
    padding = np.zeros((n, length), dtype=bool)
    padding[0, -1] = padding[1, -2:] = True
    causal = np.triu(np.ones((length, length), dtype=bool), 1)
    _mha_check(me, mt, x, None, None, True, key_padding_mask=padding)
    _mha_check(me, mt, x, None, None, True, attn_mask=causal, is_causal=True)
    _mha_check(me, mt, x, None, None, True, attn_mask=causal, key_padding_mask=padding)
    float_mask = rng.standard_normal((n * 2, length, length))
    _mha_check(me, mt, x, None, None, True, attn_mask=float_mask,
               key_padding_mask=rng.standard_normal((n, length)))
    _mha_check(me, mt, x, None, None, True, attn_mask=causal, need_weights=False)


def test_mha_unbatched_and_no_bias():
    me, mt = _mha_pair(bias=False)
    assert me.in_proj_bias is None and me.out_proj.bias is None
    _mha_check(me, mt, _randn(5, 8), _randn(4, 8, seed=1), _randn(4, 8, seed=2),
               key_padding_mask=np.array([False, False, True, False]))


def test_mha_parameters_and_init_like_torch():
    m = nn.MultiheadAttention(64, 4)
    t = torch.nn.MultiheadAttention(64, 4)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    w = m.in_proj_weight.detach().numpy()
    bound = math.sqrt(6 / (64 + 192))  # xavier_uniform_ on the (192, 64) packed weight
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    np.testing.assert_array_equal(m.in_proj_bias.detach().numpy(), 0)
    np.testing.assert_array_equal(m.out_proj.bias.detach().numpy(), 0)
    assert m.describe() == "MultiheadAttention 64x4 heads"


def test_mha_dropout_only_in_training():
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(4, 2, 8)
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, _ = m(x, x, x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


def test_mha_bad_inputs():
    m = nn.MultiheadAttention(8, 2)
    x = ember.randn(4, 3, 8)
    with pytest.raises(ember.ShapeError, match=r"expected query with 8 features \(embed_dim\) "
                                               r"in its last dim, got \[4, 3, 6\]"):
        m(ember.randn(4, 3, 6), x, x)
    with pytest.raises(ember.ShapeError, match=r"expecting embedding dimension of 8, but got "
                                               r"query of shape \[4, 3, 6\]"):
        F.multi_head_attention_forward(ember.randn(4, 3, 6), x, x, 8, 2, m.in_proj_weight,
                                       m.in_proj_bias, None, None, False, 0.0,
                                       m.out_proj.weight, m.out_proj.bias)
    with pytest.raises(ember.ShapeError, match=r"the shape of the 2D attn_mask is \[3, 3\], "
                                               r"but should be \[4, 4\]"):
        m(x, x, x, attn_mask=ember.zeros(3, 3, dtype=ember.bool))
    with pytest.raises(ember.ShapeError, match=r"expected key_padding_mask of shape \[3, 4\]"):
        m(x, x, x, key_padding_mask=ember.zeros(4, 3, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ember.ShapeError, match=r"key shape \[5, 3, 8\] does not match value "
                                               r"shape \[4, 3, 8\]"):
        m(x, ember.randn(5, 3, 8), x)
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(8, 2, add_bias_kv=True)
