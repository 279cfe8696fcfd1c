"""TransformerEncoderLayer / TransformerEncoder against torch with identical weights (float64,
dropout 0, tolerance 1e-9 on outputs and on the gradients of the input and all parameters)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn

torch = pytest.importorskip("torch")
TOL = dict(rtol=1e-9, atol=1e-9)


def _copy_from_torch(me, mt):
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})


def _pair(layers=1, norm=False, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault("dropout", 0.0)
    lt = torch.nn.TransformerEncoderLayer(8, 2, 16, dtype=torch.float64, **kwargs)
    le = nn.TransformerEncoderLayer(8, 2, 16, dtype=ember.float64, **kwargs)
    if layers == 0:
        mt, me = lt, le
    else:
        mt = torch.nn.TransformerEncoder(lt, layers, torch.nn.LayerNorm(
            8, dtype=torch.float64) if norm else None, enable_nested_tensor=False)
        me = nn.TransformerEncoder(le, layers, nn.LayerNorm(8, dtype=ember.float64)
                                   if norm else None)
    assert list(me.state_dict()) == list(mt.state_dict())
    with torch.no_grad():
        for p in mt.parameters():
            if p.ndim == 1:
                p.uniform_(-0.5, 0.5)  # biases and norm parameters away from their init
    _copy_from_torch(me, mt)
    return me, mt


def _check(me, mt, x, **masks):
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ek = {n: ember.tensor(m) if isinstance(m, np.ndarray) else m for n, m in masks.items()}
    tk = {n: torch.tensor(m) if isinstance(m, np.ndarray) else m for n, m in masks.items()}
    ye, yt = me(xe, **ek), mt(xt, **tk)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **TOL)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **TOL)
    for (n, pe), (_, pt) in zip(me.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), err_msg=n, **TOL)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(batch_first, norm_first, activation):
    me, mt = _pair(0, batch_first=batch_first, norm_first=norm_first, activation=activation)
    _check(me, mt, np.random.default_rng(0).standard_normal((5, 3, 8)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_masks_match_torch(batch_first):
    me, mt = _pair(0, batch_first=batch_first)
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    n, length = (3, 5) if batch_first else (5, 3)
    padding = np.zeros((n, length), dtype=bool)
    padding[1, -1] = True
    causal = np.triu(np.ones((length, length), dtype=bool), 1)
    _check(me, mt, x, src_mask=causal, src_key_padding_mask=padding)
    _check(me, mt, x, src_mask=np.where(causal, -np.inf, 0.0), is_causal=True)


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack_matches_torch(norm):
    me, mt = _pair(2, norm=norm, batch_first=True, activation="gelu", norm_first=norm)
    x = np.random.default_rng(0).standard_normal((2, 6, 8))
    padding = np.zeros((2, 6), dtype=bool)
    padding[0, 4:] = True
    _check(me, mt, x, mask=np.triu(np.ones((6, 6), dtype=bool), 1),
           src_key_padding_mask=padding)


def test_encoder_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 2)
    p0, p1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert p0 is not p1 and p0 is not layer.linear1.weight
    np.testing.assert_array_equal(p0.detach().numpy(), p1.detach().numpy())
    with ember.no_grad():
        p0.add_(1.0)
    assert not np.allclose(p0.detach().numpy(), p1.detach().numpy())
    assert len(list(enc.parameters())) == 2 * len(list(layer.parameters()))


def test_callable_activation_and_module_activation():
    me, mt = _pair(0, activation=F.silu)
    mt.activation = torch.nn.functional.silu
    _check(me, mt, np.random.default_rng(0).standard_normal((4, 2, 8)))
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())
    assert "activation" in dict(layer.named_children())


def test_dropout_active_in_training_only():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = ember.randn(4, 2, 8)
    a, b = layer(x), layer(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_eval_matches_torch_inference_path():
    me, mt = _pair(2, batch_first=True)
    me.eval(), mt.eval()
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    with torch.no_grad():
        yt = mt(torch.tensor(x))
    np.testing.assert_allclose(me(ember.tensor(x)).detach().numpy(), yt.numpy(), **TOL)


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation should be relu/gelu, not 'tanh'"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match=r"embed_dim \(8\) must be divisible by num_heads \(3\)"):
        nn.TransformerEncoderLayer(8, 3)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
    with pytest.raises(ember.ShapeError, match=r"^layers\.0\.self_attn \(MultiheadAttention "
                                               r"8x2 heads\): .*expected query with 8 features "
                                               r"\(embed_dim\).*\[4, 2, 6\]"):
        enc(ember.randn(4, 2, 6))
    with pytest.raises(TypeError, match="encoder_layer must be a Module"):
        nn.TransformerEncoder("layer", 2)


@pytest.mark.slow
def test_w5_shape_speed_report():
    """W5 (d_model 128, 4 heads, FFN 512, GELU, 2 layers, batch 16, 64 tokens): eager forward +
    backward of the encoder, ember vs torch (printed; run with -s)."""
    torch.set_num_threads(2)
    x = np.random.default_rng(0).standard_normal((16, 64, 128)).astype(np.float32)
    mt = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
        128, 4, 512, 0.1, "gelu", batch_first=True), 2, enable_nested_tensor=False)
    me = nn.TransformerEncoder(nn.TransformerEncoderLayer(128, 4, 512, 0.1, "gelu",
                                                          batch_first=True), 2)
    xt, xe = torch.tensor(x), ember.tensor(x)

    def median_ms(step, n=15):
        for _ in range(3):
            step()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return 1e3 * float(np.median(times))

    t_torch = median_ms(lambda: mt(xt).sum().backward())
    t_ember = median_ms(lambda: me(xe).sum().backward())
    print(f"\nW5 encoder forward+backward: ember {t_ember:.1f} ms, torch {t_torch:.1f} ms")
    assert t_ember < 20 * t_torch
