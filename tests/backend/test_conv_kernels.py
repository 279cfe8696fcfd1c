"""The NumPy kernels of ember/backend (conv.py, pool.py) against naive loop references.

The references loop over every output element in float64, following the definitions
(cross-correlation; PyTorch's pooling windows), so they share no code or layout trick with the
kernels. Shapes are tiny; tolerance 1e-10 (float64 sums of a few dozen products).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ember.backend import conv as C
from ember.backend import pool as P

RNG = np.random.default_rng(5)


def naive_conv(x, w, stride, padding, dilation, groups):
    n, cin, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = padding
    xp = np.zeros((n, cin, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    ho = (h + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, cout, ho, wo))
    per = cout // groups
    for b, o, i, j in itertools.product(range(n), range(cout), range(ho), range(wo)):
        g = o // per
        for c, p, q in itertools.product(range(cg), range(kh), range(kw)):
            out[b, o, i, j] += (w[o, c, p, q] * xp[b, g * cg + c, i * stride[0] + p * dilation[0],
                                                   j * stride[1] + q * dilation[1]])
    return out


def numeric_adjoints(x, w, g, geo):
    """grad-input and grad-weight of <conv(x, w), g> from the naive conv (it is bilinear, so
    the derivative along each basis vector is exact)."""
    gx = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1
        gx[idx] = np.sum(naive_conv(e, w, **geo) * g)
    gw = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[idx] = 1
        gw[idx] = np.sum(naive_conv(x, e, **geo) * g)
    return gx, gw


CONV_CASES = [
    ((1, 2, 4, 5), (3, 2, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 2, 6, 7), (3, 2, 2, 3), (2, 3), ((0, 1), (2, 0)), (1, 1), 1),
    ((1, 4, 5, 5), (4, 2, 2, 2), (1, 2), ((1, 1), (0, 0)), (2, 1), 2),
    ((1, 3, 4, 4), (3, 1, 3, 1), (1, 1), ((1, 1), (0, 0)), (1, 1), 3),
    ((1, 1, 3, 3), (2, 1, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
]


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CONV_CASES)
def test_conv_kernels_match_naive_reference(xs, ws, stride, padding, dilation, groups):
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    geo = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out, cols = C.conv2d_forward(x, w, b, keep_cols=True, **geo)
    ref = naive_conv(x, w, **geo) + b[:, None, None]
    np.testing.assert_allclose(out, ref, atol=1e-10)
    assert out.flags.c_contiguous  # NCHW in memory, so .view works on it as in PyTorch
    g = RNG.standard_normal(out.shape)
    gx_ref, gw_ref = numeric_adjoints(x, w, g, geo)
    np.testing.assert_allclose(C.conv2d_backward_input(g, w, x.shape, **geo), gx_ref, atol=1e-10)
    np.testing.assert_allclose(C.conv2d_backward_weight(g, x, w.shape, cols=cols, **geo), gw_ref,
                               atol=1e-10)
    np.testing.assert_allclose(C.conv2d_backward_weight(g, x, w.shape, **geo), gw_ref,
                               atol=1e-10)


def test_conv_kernel_accepts_strided_inputs_and_keeps_float32():
    x = RNG.standard_normal((2, 5, 3, 3)).astype(np.float32).transpose(0, 1, 3, 2)[:, ::2]
    w = RNG.standard_normal((2, 3, 2, 2)).astype(np.float32)
    out, _ = C.conv2d_forward(x, w, None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, naive_conv(x.astype(np.float64), w, (1, 1),
                                               ((0, 0), (0, 0)), (1, 1), 1), atol=1e-5)


def naive_pool(x, kernel, stride, padding, dilation, ceil_mode, kind, count_include_pad=True,
               divisor_override=None):
    n, c, h, w = x.shape
    ho = P.pool_output_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    wo = P.pool_output_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = np.zeros((n, c, ho, wo))
    arg = np.zeros((n, c, ho, wo), dtype=np.int64)
    for b, ch, i, j in itertools.product(range(n), range(c), range(ho), range(wo)):
        r0, c0 = i * stride[0] - padding[0], j * stride[1] - padding[1]
        if kind == "max":
            best, where = -np.inf, -1
            for p, q in itertools.product(range(kernel[0]), range(kernel[1])):
                r, s = r0 + p * dilation[0], c0 + q * dilation[1]
                if 0 <= r < h and 0 <= s < w and x[b, ch, r, s] > best:
                    best, where = x[b, ch, r, s], r * w + s
            out[b, ch, i, j], arg[b, ch, i, j] = best, where
        else:
            r1 = min(r0 + kernel[0], h + padding[0])
            c1 = min(c0 + kernel[1], w + padding[1])
            area = (r1 - r0) * (c1 - c0)
            rr0, cc0, rr1, cc1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
            total = x[b, ch, rr0:rr1, cc0:cc1].sum()
            if divisor_override:
                area = divisor_override
            elif not count_include_pad:
                area = (rr1 - rr0) * (cc1 - cc0)
            out[b, ch, i, j] = total / area
    return out, arg


POOL_CASES = [
    ((2, 2, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((1, 2, 5, 7), (3, 2), (2, 1), (1, 1), (1, 1), True),
    ((1, 1, 7, 6), (2, 3), (2, 2), (1, 1), (2, 1), True),
    ((1, 2, 5, 5), (3, 3), (1, 1), (0, 1), (1, 1), False),
]


@pytest.mark.parametrize("xs, kernel, stride, padding, dilation, ceil_mode", POOL_CASES)
def test_max_pool_kernels_match_naive_reference(xs, kernel, stride, padding, dilation,
                                                ceil_mode):
    x = RNG.permutation(np.prod(xs)).reshape(xs).astype(np.float64)  # no ties
    vals, arg = P.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    ref, ref_idx = naive_pool(x, kernel, stride, padding, dilation, ceil_mode, "max")
    np.testing.assert_array_equal(vals, ref)
    flat = P.max_pool2d_indices(arg, x.shape, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(flat, ref_idx)
    g = RNG.standard_normal(vals.shape)
    gx = P.max_pool2d_backward(g, arg, x.shape, kernel, stride, padding, dilation)
    expected = np.zeros(x.shape)
    planes = expected.reshape(xs[0], xs[1], -1)
    for b, c in np.ndindex(xs[:2]):
        np.add.at(planes[b, c], ref_idx[b, c].ravel(), g[b, c].ravel())
    np.testing.assert_allclose(gx, expected, atol=1e-12)
    np.testing.assert_array_equal(P.max_pool2d_gather(x, arg, kernel, stride, padding, dilation),
                                  vals)


def test_max_pool_ties_pick_the_first_and_nan_propagates():
    x = np.array([[[[1.0, 1.0], [1.0, 1.0]], [[2.0, np.nan], [3.0, 0.0]]]])
    vals, arg = P.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert vals[0, 0, 0, 0] == 1.0 and arg[0, 0, 0, 0] == 0
    assert np.isnan(vals[0, 1, 0, 0]) and arg[0, 1, 0, 0] == 1


@pytest.mark.parametrize("xs, kernel, stride, padding, dilation, ceil_mode", POOL_CASES)
@pytest.mark.parametrize("count_include_pad, divisor_override",
                         [(True, None), (False, None), (True, 5)])
def test_avg_pool_kernels_match_naive_reference(xs, kernel, stride, padding, dilation,
                                                ceil_mode, count_include_pad, divisor_override):
    x = RNG.standard_normal(xs)
    out = P.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad,
                               divisor_override)
    ref, _ = naive_pool(x, kernel, stride, padding, (1, 1), ceil_mode, "avg", count_include_pad,
                        divisor_override)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    # the backward is the adjoint: <avg(x), g> == <x, avg_backward(g)>
    g = RNG.standard_normal(out.shape)
    gx = P.avg_pool2d_backward(g, x.shape, kernel, stride, padding, ceil_mode, count_include_pad,
                               divisor_override)
    assert gx.shape == x.shape
    np.testing.assert_allclose(np.sum(out * g), np.sum(x * gx), rtol=1e-12)
