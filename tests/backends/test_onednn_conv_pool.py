"""oneDNN convolution and pooling kernels against the NumPy kernels and PyTorch: values,
every gradient, memory layout, fallbacks, the primitive cache and weight freshness."""

from __future__ import annotations

import numpy as np
import pytest

from ember.backend import conv as np_conv
from ember.backend import pool as np_pool
from ember.backends.onednn import _lib
from ember.backends.onednn import conv as dn_conv
from ember.backends.onednn import pool as dn_pool

from .conftest import ONEDNN_REASON

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.skipif(ONEDNN_REASON is not None,
                                reason=f"oneDNN backend unavailable: {ONEDNN_REASON}")

RNG = np.random.default_rng(42)


def _randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _is_channels_last(a) -> bool:
    return a.transpose(0, 2, 3, 1).flags.c_contiguous


# (N, C, H, W), (C_out, kH, kW), stride, padding ((t, b), (l, r)), dilation, groups
CONV_CASES = [
    ((2, 3, 8, 8), (4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 4, 9, 7), (6, 3, 2), (2, 1), ((0, 2), (1, 0)), (2, 1), 2),
    ((2, 6, 10, 10), (6, 3, 3), (1, 2), ((1, 1), (1, 1)), (1, 1), 6),
    ((1, 3, 1, 20), (5, 1, 3), (1, 1), ((0, 0), (2, 2)), (1, 2), 1),
    ((3, 8, 7, 9), (4, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 16, 12, 12), (32, 5, 5), (3, 2), ((2, 1), (0, 3)), (1, 2), 4),
]
CONV_IDS = ["3x3 pad1", "asym pad, dilation, groups 2", "depthwise, stride", "conv1d-like",
            "1x1 stride 2", "5x5 mixed"]


def _torch_conv(x, w, b, stride, padding, dilation, groups, g):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    (pt, pb), (pl, pr) = padding
    y = TF.conv2d(TF.pad(xt, (pl, pr, pt, pb)), wt, bt, stride, 0, dilation, groups)
    y.backward(torch.tensor(g))
    return (y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(),
            None if b is None else bt.grad.numpy())


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_matches_numpy_and_torch(case, layout, bias):
    xs, (cout, kh, kw), stride, padding, dilation, groups = case
    x = _randn(*xs)
    w = _randn(cout, xs[1] // groups, kh, kw)
    b = _randn(cout) if bias else None
    if layout == "channels_last":
        x = _channels_last(x)
    geo = (stride, padding, dilation, groups)
    y = dn_conv.conv2d_forward(x, w, b, *geo)
    y_np, _ = np_conv.conv2d_forward(x, w, b, *geo)
    g = _randn(*y.shape)
    dx = dn_conv.conv2d_backward_data(g, w, xs, *geo)
    dw, db = dn_conv.conv2d_backward_weights(g, x, w.shape, *geo, with_bias=True)
    ref = _torch_conv(x, w, b, *geo, g)
    scale = max(1.0, float(np.abs(ref[2]).max()))
    np.testing.assert_allclose(y, y_np, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(y, ref[0], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(dx, np_conv.conv2d_backward_input(g, w, xs, *geo), atol=1e-4,
                               rtol=1e-4)
    np.testing.assert_allclose(dx, ref[1], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(dw, np_conv.conv2d_backward_weight(g, x, w.shape, *geo),
                               atol=1e-4 * scale, rtol=1e-4)
    np.testing.assert_allclose(dw, ref[2], atol=1e-4 * scale, rtol=1e-4)
    np.testing.assert_allclose(db, g.sum(axis=(0, 2, 3)), atol=1e-3, rtol=1e-4)
    if bias:
        np.testing.assert_allclose(db, ref[3], atol=1e-3, rtol=1e-4)
    # layout contract: NCHW shapes, channels-last memory; weight gradients plain
    assert y.shape == y_np.shape and _is_channels_last(y) and _is_channels_last(dx)
    assert dw.flags.c_contiguous and dw.shape == w.shape


def test_channels_last_input_is_used_in_place_and_nchw_is_copied():
    x = _randn(2, 5, 6, 7)
    cl = _channels_last(x)
    assert np.shares_memory(dn_conv.nhwc(cl), cl)
    assert not np.shares_memory(dn_conv.nhwc(x), x)
    np.testing.assert_array_equal(dn_conv.nhwc(x), dn_conv.nhwc(cl))


def test_weights_without_bias_return_weight_gradient_only():
    x, w = _randn(2, 3, 6, 6), _randn(4, 3, 3, 3)
    geo = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    g = _randn(2, 4, 6, 6)
    dw = dn_conv.conv2d_backward_weights(g, x, w.shape, *geo)
    assert isinstance(dw, np.ndarray) and dw.shape == w.shape


def test_weight_updated_in_place_is_never_stale():
    x, w = _randn(2, 8, 6, 6), _randn(16, 8, 3, 3)
    geo = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    y1 = dn_conv.conv2d_forward(x, w, None, *geo).copy()
    w *= -2.0  # an optimizer step writes into the same buffer
    y2 = dn_conv.conv2d_forward(x, w, None, *geo)
    np.testing.assert_allclose(y2, -2.0 * y1, rtol=1e-5, atol=1e-5)


def test_primitive_cache_second_call_creates_nothing():
    x, w, b = _randn(3, 5, 11, 9), _randn(7, 5, 3, 3), _randn(7)
    geo = ((2, 1), ((1, 0), (2, 1)), (1, 1), 1)
    y = dn_conv.conv2d_forward(x, w, b, *geo)
    dn_conv.conv2d_backward_data(y, w, x.shape, *geo)
    dn_conv.conv2d_backward_weights(y, x, w.shape, *geo)
    dn_pool.max_pool2d_forward(x, (2, 2), (2, 2), (1, 1), (1, 1), True)
    first = _lib.cache_stats()
    for _ in range(2):
        y = dn_conv.conv2d_forward(x, w, b, *geo)
        dn_conv.conv2d_backward_data(y, w, x.shape, *geo)
        dn_conv.conv2d_backward_weights(y, x, w.shape, *geo)
        dn_pool.max_pool2d_forward(x, (2, 2), (2, 2), (1, 1), (1, 1), True)
    again = _lib.cache_stats()
    assert again["created"] == first["created"]
    assert again["hits"] > first["hits"]


# ---------------------------------------------------------------- pooling

# (N, C, H, W), kernel, stride, padding, dilation, ceil_mode
POOL_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 5, 9, 7), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((2, 4, 10, 11), (3, 2), (2, 3), (1, 1), (2, 1), False),
    ((1, 3, 7, 7), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((2, 3, 8, 8), (3, 3), (1, 1), (1, 0), (1, 2), False),
    ((1, 2, 1, 9), (1, 3), (1, 2), (0, 1), (1, 1), True),
]


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_matches_numpy_and_torch(case, layout, ties):
    shape, k, s, p, d, ceil = case
    x = _randn(*shape)
    if ties:  # ReLU-like input: many equal maxima, the first must win (PyTorch's rule)
        x = np.maximum(np.round(x), 0).astype(np.float32)
    if layout == "channels_last":
        x = _channels_last(x)
    v, arg = dn_pool.max_pool2d_forward(x, k, s, p, d, ceil)
    v_np, arg_np = np_pool.max_pool2d_forward(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(v, v_np)
    np.testing.assert_array_equal(arg, arg_np)
    assert arg.dtype == arg_np.dtype and _is_channels_last(v)
    g = _randn(*v.shape)
    dx = dn_pool.max_pool2d_backward(g, arg, shape, k, s, p, d)
    np.testing.assert_allclose(dx, np_pool.max_pool2d_backward(g, arg_np, shape, k, s, p, d),
                               atol=1e-6)
    # the NumPy argmax drives the oneDNN backward too (e.g. a forward run before a switch)
    np.testing.assert_allclose(dn_pool.max_pool2d_backward(g, arg_np, shape, k, s, p, d), dx)
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    yt = TF.max_pool2d(xt, k, s, p, d, ceil_mode=ceil)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(v, yt.detach().numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-6)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", [c for c in POOL_CASES if c[4] == (1, 1)])
def test_avg_pool_matches_numpy_and_torch(case, count_include_pad):
    shape, k, s, p, _, ceil = case
    x = _channels_last(_randn(*shape))
    attrs = (k, s, p, ceil, count_include_pad, None)
    y_np = np_pool.avg_pool2d_forward(x, *attrs)
    g = _randn(*y_np.shape)
    try:
        y = dn_pool.avg_pool2d_forward(x, *attrs)
        dx = dn_pool.avg_pool2d_backward(g, shape, *attrs)
    except _lib.OneDNNUnimplemented:
        # only PyTorch's ceil-mode overhang with count_include_pad is left to NumPy
        assert ceil and count_include_pad
        return
    np.testing.assert_allclose(y, y_np, atol=1e-6)
    np.testing.assert_allclose(dx, np_pool.avg_pool2d_backward(g, shape, *attrs), atol=1e-6)
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    yt = TF.avg_pool2d(xt, k, s, p, ceil_mode=ceil, count_include_pad=count_include_pad)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-6)


def test_divisor_override_is_left_to_numpy():
    with pytest.raises(_lib.OneDNNUnimplemented):
        dn_pool.avg_pool2d_forward(_randn(1, 2, 4, 4), (2, 2), (2, 2), (0, 0), False, True, 3)


def test_window_without_finite_value_is_left_to_numpy():
    x = np.full((1, 1, 4, 4), -np.inf, dtype=np.float32)
    with pytest.raises(_lib.OneDNNUnimplemented):
        dn_pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)


# ---------------------------------------------------------------- library layer


def test_failed_call_names_the_call():
    with pytest.raises(_lib.OneDNNError, match="dnnl_memory_desc_init_by_tag"):
        _lib.memory_desc((2, 3), np.float32, tag=_lib.TAG_NHWC)  # 4-D tag on a 2-D shape


def test_too_small_buffer_is_refused():
    x, w = _randn(1, 2, 4, 4), _randn(3, 2, 3, 3)
    dn_conv.conv2d_forward(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    key = dn_conv._geometry(x.shape, w.shape, False, (1, 1), ((1, 1), (1, 1)), (1, 1), 1).key
    prim = _lib.cached(("conv2d_forward",) + key, None)
    with pytest.raises(_lib.OneDNNError, match="bytes"):
        prim.execute({_lib.ARG_SRC: np.zeros(3, np.float32)})


def test_version_and_implementation_are_reported():
    assert _lib.version()[0] == 2
    x, w = _randn(1, 2, 4, 4), _randn(3, 2, 3, 3)
    dn_conv.conv2d_forward(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    key = dn_conv._geometry(x.shape, w.shape, False, (1, 1), ((1, 1), (1, 1)), (1, 1), 1).key
    assert _lib.cached(("conv2d_forward",) + key, None).impl  # e.g. "jit:avx2"
