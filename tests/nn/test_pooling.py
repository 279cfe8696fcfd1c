"""Pooling layers and functionals against PyTorch: outputs, indices and input gradients.

Inputs are permutations (no ties) so max-pool's gradient is unambiguous; tolerance 1e-6 for
values and gradients (averages of a few float32 numbers). Float64 gradchecks of the
primitives (first and second order) are in tests/ops/opinfo_conv.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import nn

RNG = np.random.default_rng(3)


def distinct(*shape):
    return (RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.1).astype(np.float32)


def compare(ours, theirs, shape):
    x = distinct(*shape)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = ours(ex), theirs(tx)
    if isinstance(to, tuple):
        assert eo[1].dtype == ember.int64
        np.testing.assert_array_equal(eo[1].numpy(), to[1].numpy())
        eo, to = eo[0], to[0]
    assert tuple(eo.shape) == tuple(to.shape)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=1e-6, rtol=1e-6)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-6, rtol=1e-6)


LAYERS = [
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 2, 9, 8)),
    ("MaxPool2d", ((3, 2),), dict(stride=(1, 2), dilation=(2, 1), return_indices=True),
     (1, 2, 9, 7)),
    ("MaxPool2d", (2,), dict(ceil_mode=True, return_indices=True), (3, 5, 7)),  # unbatched
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    ("MaxPool1d", (2,), dict(return_indices=True, dilation=2), (3, 9)),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 8)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 2, 9, 8)),
    ("AvgPool2d", ((3, 2),), dict(stride=2, padding=(1, 0), ceil_mode=True), (1, 2, 8, 7)),
    ("AvgPool2d", (2,), dict(stride=1, divisor_override=3), (2, 5, 5)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 4),), {}, (2, 3, 7, 9)),
    ("AdaptiveAvgPool2d", (1,), {}, (1, 4, 5, 5)),
    ("AdaptiveAvgPool2d", ((None, 2),), {}, (3, 5, 7)),
    ("AdaptiveAvgPool2d", (6,), {}, (1, 1, 4, 4)),  # output larger than input: windows overlap
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 10)),
]


@pytest.mark.parametrize("name, args, kw, shape", LAYERS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYERS)])
def test_pooling_layer_matches_torch(name, args, kw, shape):
    compare(getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw), shape)


@pytest.mark.parametrize("name, args, kw", [
    ("MaxPool2d", (2,), {}), ("MaxPool2d", ((3, 2), 1, 1, 2, False, True), {}),
    ("MaxPool1d", (3,), {}), ("AvgPool2d", (2,), dict(padding=1)), ("AvgPool1d", (3,), {}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}), ("AdaptiveAvgPool1d", (4,), {}),
])
def test_repr_matches_torch(name, args, kw):
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_max_pool_float64_and_noncontiguous_input():
    x = distinct(2, 3, 8, 6).astype(np.float64).transpose(0, 1, 3, 2)
    out = F.max_pool2d(ember.tensor(x), 2)
    ref = torch.nn.functional.max_pool2d(torch.tensor(x), 2)
    assert out.dtype == ember.float64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_max_pool_second_order_gradient_matches_torch():
    x = distinct(1, 2, 4, 4)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (eg,) = ember.autograd.grad((F.max_pool2d(ex, 2) ** 2).sum(), [ex], create_graph=True)
    (tg,) = torch.autograd.grad((torch.nn.functional.max_pool2d(tx, 2) ** 2).sum(), [tx],
                                create_graph=True)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


# ------------------------------------------------------------------------ bad input


def test_pool_bad_inputs():
    with pytest.raises(ember.ShapeError, match=r"max_pool2d: expected a 3-D \(unbatched\) or "
                                               r"4-D \(batched\) input, got input of shape \[8\]"):
        F.max_pool2d(ember.zeros(8), 2)
    with pytest.raises(ember.ShapeError, match="pad should be at most half of effective kernel"):
        F.max_pool2d(ember.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ember.ShapeError, match=r"input \[1, 1, 2, 2\] is too small for "
                                               r"kernel_size=\(3, 3\)"):
        nn.MaxPool2d(3)(ember.zeros(1, 1, 2, 2))
    with pytest.raises(ember.ShapeError, match=r"avg_pool1d: expected a 2-D"):
        F.avg_pool1d(ember.zeros(1, 1, 2, 2), 2)
    with pytest.raises(ember.DTypeError, match="floating-point input, got int64"):
        F.avg_pool2d(ember.zeros(1, 1, 4, 4, dtype=ember.int64), 2)
    with pytest.raises(TypeError, match="argument 'input' must be Tensor, not ndarray"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 2 ints"):
        F.max_pool2d(ember.zeros(1, 1, 4, 4), (2, 2, 2))
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.adaptive_avg_pool2d(ember.zeros(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match="divisor_override must be a non-zero int"):
        F.avg_pool2d(ember.zeros(1, 1, 4, 4), 2, divisor_override=0)


def test_pool_error_is_prefixed_with_the_layer_path():
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(4))
    with pytest.raises(ember.ShapeError, match=r"^1 \(MaxPool2d\): max_pool2d: input "
                                               r"\[1, 2, 3, 3\] is too small"):
        model(ember.zeros(1, 2, 3, 3))
