"""The oneDNN backend seen from ember's public API: a conv net trains to the same values on
both backends, layouts stay invisible (Flatten, reshape, view's error), other dtypes fall
back to NumPy, and Conv1d / return_indices / conv_transpose2d go through the same kernels."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.backends.onednn import _lib


def _net():
    ember.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 5))


def _step(x):
    m = _net()
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        y = m(x)
        F.cross_entropy(y, ember.tensor([0, 1, 2, 3])).backward()
        opt.step()
    return y.detach().numpy(), [p.detach().numpy().copy() for p in m.parameters()]


def test_training_steps_agree_across_backends(onednn_backend):
    x = ember.from_numpy(np.random.default_rng(1).standard_normal((4, 3, 16, 16))
                         .astype(np.float32))
    before = _lib.cache_stats()["created"] + _lib.cache_stats()["hits"]
    y1, p1 = _step(x)
    assert _lib.cache_stats()["created"] + _lib.cache_stats()["hits"] > before
    ember.set_backend("numpy")
    y0, p0 = _step(x)
    np.testing.assert_allclose(y1, y0, atol=1e-5, rtol=1e-5)
    for a, b in zip(p1, p0):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


def test_channels_last_result_reshapes_like_nchw_and_view_refuses(onednn_backend):
    x = ember.randn(2, 3, 6, 6)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    h = F.relu(conv(x))
    assert not h.is_contiguous()  # NCHW shape, NHWC memory (as PyTorch's channels_last)
    ember.set_backend("numpy")
    ref = F.relu(conv(x))
    np.testing.assert_allclose(h.reshape(2, -1).detach().numpy(),
                               ref.reshape(2, -1).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(nn.Flatten()(h).detach().numpy(),
                               ref.flatten(1).detach().numpy(), atol=1e-5)
    with pytest.raises(ember.ShapeError, match="view"):
        h.view(2, -1)
    assert h.contiguous().view(2, -1).shape == (2, 144)


def test_float64_falls_back_to_numpy(onednn_backend):
    x = ember.randn(1, 2, 5, 5, dtype=ember.float64)
    w = ember.randn(3, 2, 3, 3, dtype=ember.float64)
    before = _lib.cache_stats()
    y = F.conv2d(x, w)
    assert _lib.cache_stats() == before
    assert y.dtype == ember.float64 and y.is_contiguous()


def test_conv1d_and_transpose_and_indices_use_onednn(onednn_backend):
    rng = np.random.default_rng(3)
    x1 = ember.from_numpy(rng.standard_normal((2, 4, 9)).astype(np.float32))
    w1 = ember.from_numpy(rng.standard_normal((6, 2, 3)).astype(np.float32))
    x2 = ember.from_numpy(rng.standard_normal((1, 4, 5, 5)).astype(np.float32))
    w2 = ember.from_numpy(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    x3 = ember.from_numpy(rng.standard_normal((2, 3, 6, 7)).astype(np.float32))

    def run():
        return (F.conv1d(x1, w1, padding=1, groups=2).numpy(),
                F.conv_transpose2d(x2, w2, stride=2, padding=1, output_padding=1).numpy(),
                *(t.numpy() for t in F.max_pool2d(x3, 3, 2, 1, return_indices=True)))

    before = _lib.cache_stats()["created"] + _lib.cache_stats()["hits"]
    got = run()
    assert _lib.cache_stats()["created"] + _lib.cache_stats()["hits"] > before
    ember.set_backend("numpy")
    for a, b in zip(got, run()):
        np.testing.assert_allclose(a, b, atol=1e-5)
