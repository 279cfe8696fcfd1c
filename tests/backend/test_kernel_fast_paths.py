"""The two fast paths of backend/conv.py and backend/pool.py against independent references:

- ``conv._gemm_tn``: grad-weight's ``cols^T @ grad`` split along its long inner dim into chunks
  OpenBLAS runs on one thread (the W2 first-layer grad-weight took 2.3 s with the plain GEMM
  while another process held the second core);
- ``pool._max_pool_2x2``: 2x2 stride-2 max-pool on contiguous planes, same values and ``arg``
  (first maximum in row-major order, the last NaN when there is one) as the general loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from ember.backend import conv as C
from ember.backend import pool as P

ONE = (1, 1)
PAD1 = ((1, 1), (1, 1))


@pytest.mark.parametrize("groups,k,m,n", [(1, 6272, 9, 32),     # W2c1 with batch 8
                                          (1, 5000, 27, 64),     # leftover rows after chunks
                                          (2, 4099, 9, 16),      # grouped, prime K
                                          (1, 3000, 288, 64),    # too wide: plain GEMM
                                          (1, 100, 9, 32)])      # too short: plain GEMM
def test_gemm_tn_matches_float64_reference(groups, k, m, n):
    rng = np.random.default_rng(k)
    a = rng.standard_normal((groups, k, m), dtype=np.float32)
    b = rng.standard_normal((groups, k, n), dtype=np.float32)
    got = C._gemm_tn(a, b)
    want = np.einsum("gkm,gkn->gmn", a.astype(np.float64), b.astype(np.float64))
    assert got.shape == (groups, m, n) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3 * np.sqrt(k))


def test_first_layer_grad_weight_avoids_the_long_threaded_gemm(monkeypatch):
    # every BLAS call must be short enough that OpenBLAS runs it on the calling thread
    calls = []
    real = np.matmul

    def spy(x, y, *args, **kwargs):
        calls.append(x.shape[-2] * x.shape[-1] * y.shape[-1])
        return real(x, y, *args, **kwargs)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 28, 28), dtype=np.float32)
    g = rng.standard_normal((8, 32, 28, 28), dtype=np.float32)
    monkeypatch.setattr(C.np, "matmul", spy)
    dw = C.conv2d_backward_weight(g, x, (32, 1, 3, 3), ONE, PAD1, ONE, 1)
    monkeypatch.undo()
    assert calls and max(calls) <= C._SINGLE_THREAD_MNK
    # reference: the direct sum over batch and positions of x-window * grad
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((32, 1, 3, 3))
    for i in range(3):
        for j in range(3):
            want[:, 0, i, j] = np.einsum("nhw,nohw->o", xp[:, 0, i:i + 28, j:j + 28], g)
    np.testing.assert_allclose(dw, want, rtol=1e-4, atol=1e-3)


def _pool_reference(x, padding, ceil_mode):
    """Per window, in Python: the last NaN if any, else the first maximum (row-major)."""
    n, c, h, w = x.shape
    ho = P.pool_output_size(h, 2, 2, padding[0], 1, ceil_mode)
    wo = P.pool_output_size(w, 2, 2, padding[1], 1, ceil_mode)
    val = np.empty((n, c, ho, wo), x.dtype)
    arg = np.empty((n, c, ho, wo), np.uint8)
    inside = np.empty((n, c, ho, wo), bool)  # the winner is an input element, not padding
    for idx in np.ndindex(n, c, ho, wo):
        r0, c0 = idx[2] * 2 - padding[0], idx[3] * 2 - padding[1]
        best, where, real = None, 0, False
        for k in range(4):
            r, q = r0 + k // 2, c0 + k % 2
            ok = 0 <= r < h and 0 <= q < w
            v = x[idx[0], idx[1], r, q] if ok else -np.inf
            if best is None or v > best or v != v:
                best, where, real = v, k, ok
        val[idx], arg[idx], inside[idx] = best, where, real
    return val, arg, inside


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("kind", ["normal", "ties", "nan", "inf"])
@pytest.mark.parametrize("shape,padding,ceil_mode", [((2, 3, 6, 8), (0, 0), False),
                                                     ((2, 2, 7, 5), (0, 0), False),
                                                     ((2, 2, 7, 5), (0, 0), True),
                                                     ((1, 2, 6, 6), (1, 1), False),
                                                     ((1, 2, 5, 7), (1, 0), True)])
def test_max_pool_2x2_matches_the_window_rule(dtype, kind, shape, padding, ceil_mode):
    rng = np.random.default_rng(len(kind) + shape[2])
    x = rng.standard_normal(shape).astype(dtype)
    if kind == "ties":
        x = np.maximum(x, 0).round().astype(dtype)
    elif kind == "nan":
        x[rng.random(shape) < 0.25] = np.nan
    elif kind == "inf":
        x[rng.random(shape) < 0.3] = -np.inf
        x[rng.random(shape) < 0.1] = np.inf
    val, arg = P.max_pool2d_forward(x, (2, 2), (2, 2), padding, ONE, ceil_mode)
    want_val, want_arg, inside = _pool_reference(x, padding, ceil_mode)
    assert val.dtype == x.dtype and arg.dtype == np.uint8 and val.flags.c_contiguous
    np.testing.assert_array_equal(val, want_val)
    np.testing.assert_array_equal(arg, want_arg)
    # the backward and gather read this arg unchanged
    back = P.max_pool2d_backward(np.ones_like(val), arg, x.shape, (2, 2), (2, 2), padding, ONE)
    assert back.shape == x.shape and back.sum() == inside.sum()
    gathered = P.max_pool2d_gather(np.nan_to_num(x, nan=7.0), arg, (2, 2), (2, 2), padding, ONE)
    np.testing.assert_array_equal(gathered, np.where(inside, np.nan_to_num(want_val, nan=7.0), 0))
