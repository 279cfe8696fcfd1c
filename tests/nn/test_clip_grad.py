"""clip_grad_norm_ / clip_grad_value_ against PyTorch (float32: norms rel 1e-5, since the two
libraries sum in different orders; clipped gradients rel 1e-5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.nn import Parameter
from ember.nn.utils import clip_grad_norm_, clip_grad_value_

torch = pytest.importorskip("torch")

SHAPES = [(6, 5), (5,), (2, 3, 4)]


def _pair(scale=1.0, seed=0, none_at=None):
    rng = np.random.default_rng(seed)
    grads = [(rng.standard_normal(s) * scale).astype(np.float32) for s in SHAPES]
    ep = [Parameter(ember.zeros(*s)) for s in SHAPES]
    tp = [torch.nn.Parameter(torch.zeros(*s)) for s in SHAPES]
    for i, (e, t, g) in enumerate(zip(ep, tp, grads)):
        if i != none_at:
            e.grad, t.grad = ember.tensor(g.copy()), torch.tensor(g.copy())
    return ep, tp


def _assert_grads(ep, tp):
    for e, t in zip(ep, tp):
        if t.grad is None:
            assert e.grad is None
        else:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])  # clips / leaves alone
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ep, tp = _pair(none_at=1)
    e_total = clip_grad_norm_(ep, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert isinstance(e_total, ember.Tensor) and e_total.shape == ()
    assert e_total.dtype == ember.float32
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-5)
    _assert_grads(ep, tp)


def test_clip_grad_norm_result_norm_is_max_norm():
    ep, _ = _pair(scale=10.0)
    clip_grad_norm_(iter(ep), 2.0)  # any iterable, e.g. model.parameters()
    after = math.sqrt(sum(float((p.grad * p.grad).sum().item()) for p in ep))
    assert after == pytest.approx(2.0, rel=1e-5)


def test_clip_grad_norm_single_tensor_and_no_grads():
    ep, tp = _pair()
    e_total = clip_grad_norm_(ep[0], 0.1)
    t_total = torch.nn.utils.clip_grad_norm_(tp[0], 0.1)
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-5)
    _assert_grads(ep[:1], tp[:1])
    empty = clip_grad_norm_([Parameter(ember.ones(2))], 1.0)
    assert empty.item() == 0.0 and empty.shape == ()


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_nonfinite(bad):
    ep, tp = _pair()
    ep[0].grad[0, 0] = bad
    tp[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: The total norm of order 2.0 for "
                                           r"gradients from `parameters` is non-finite"):
        clip_grad_norm_(ep, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(tp, 1.0, error_if_nonfinite=True)
    # default: scale by the non-finite norm anyway, as PyTorch does
    e_total = clip_grad_norm_(ep, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    assert math.isnan(e_total.item()) == math.isnan(t_total.item())
    np.testing.assert_array_equal(np.isnan(ep[1].grad.numpy()), np.isnan(tp[1].grad.numpy()))


def test_clip_grad_norm_is_not_recorded():
    w = Parameter(ember.ones(3))
    (w * w).sum().backward()
    clip_grad_norm_([w], 1.0)
    assert not w.grad.requires_grad and w.grad.grad_fn is None


@pytest.mark.parametrize("clip", [0.3, 2])
def test_clip_grad_value_matches_torch(clip):
    ep, tp = _pair(none_at=2)
    assert clip_grad_value_(ep, clip) is None
    torch.nn.utils.clip_grad_value_(tp, clip)
    _assert_grads(ep, tp)
    largest = max(float(p.grad.abs().max().item()) for p in ep if p.grad is not None)
    assert largest <= np.float32(clip)


@pytest.mark.parametrize("call,cls,text", [
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="fro"), ValueError,
     "clip_grad_norm_: norm_type must be a number or 'inf', got 'fro'"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=None), TypeError, "norm_type must be"),
    (lambda ps: clip_grad_norm_(ps + [3], 1.0), TypeError,
     r"clip_grad_norm_: parameters must be Tensors, but parameters\[3\] is int"),
    (lambda ps: clip_grad_norm_(5, 1.0), TypeError, "must be a Tensor or an iterable"),
    (lambda ps: clip_grad_value_(ps, "big"), TypeError,
     "clip_grad_value_: clip_value must be a number, got str"),
])
def test_bad_input(call, cls, text):
    ep, _ = _pair()
    with pytest.raises(cls, match=text):
        call(ep)
