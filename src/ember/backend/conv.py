"""2-D convolution kernels on NumPy arrays: forward, grad-input, grad-weight.

Arrays in and out have PyTorch's logical layouts: activations NCHW, weights
``(C_out, C_in / groups, kH, kW)``. Inside, every kernel works channels-last (NHWC), the
layout research/kernels.md measured fastest for NumPy: the input is copied once into a
zero-padded NHWC buffer (the transpose and the padding in one copy), the windows are an
``as_strided`` view of that buffer, one reshape copy turns them into the im2col matrix
``cols`` of shape ``(groups, N*H_out*W_out, kH*kW*C_in/groups)``, and one batched GEMM
against the weight matrix gives the output. Results are returned C-contiguous NCHW so that
``.view`` on them works as in PyTorch.

grad-weight is ``cols^T @ grad``: the forward can hand its ``cols`` over (see
``conv2d_forward(..., keep_cols=True)``) so the backward skips a second im2col. When that
product is small but its inner dim long (few input channels), it runs as single-thread chunks
(``_gemm_tn``). grad-input
is ``grad @ W^T`` followed by col2im: ``kH*kW`` strided adds into a padded NHWC buffer (a loop
over kernel positions, never over elements).

``padding`` is ``((top, bottom), (left, right))``: PyTorch's ``padding='same'`` with an even
kernel pads one more on the bottom/right. Every function here is the single entry point
another backend replaces: when ``ember.set_backend("onednn")`` is active, float32 cases go to
``ember/backends/onednn/conv.py`` (results NCHW-shaped but channels-last in memory, no
``cols``) and anything oneDNN does not implement stays here.
"""

from __future__ import annotations

import numpy as np

from ..backends import use_onednn
from ..backends._errors import OneDNNUnimplemented

as_strided = np.lib.stride_tricks.as_strided

Pair = tuple  # (height, width)
Padding = tuple  # ((top, bottom), (left, right))


def conv_output_size(size: int, kernel: int, stride: int, pad: tuple, dilation: int) -> int:
    """Output length along one spatial dim (PyTorch's formula, floor division)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _onednn(*arrays):
    """The oneDNN conv module when it is selected and every array is float32, else None."""
    if not use_onednn():
        return None
    for a in arrays:
        if a is not None and (a.dtype != np.float32 or a.size == 0):
            return None
    from ..backends.onednn import conv

    return conv


def _padded_nhwc(x: np.ndarray, padding: Padding, extra: Pair = (0, 0)) -> np.ndarray:
    """``x`` (NCHW, any strides) copied into a zero-padded C-contiguous NHWC buffer.

    ``extra`` adds rows/columns at the bottom/right (grad-input of a strided conv whose last
    rows were never read by any window)."""
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = padding
    src = x.transpose(0, 2, 3, 1)
    if not (pt or pb or pl or pr or extra[0] or extra[1]):
        return np.ascontiguousarray(src)
    buf = np.zeros((n, h + pt + pb + extra[0], w + pl + pr + extra[1], c), dtype=x.dtype)
    buf[:, pt:pt + h, pl:pl + w, :] = src
    return buf


def _windows(buf: np.ndarray, kernel: Pair, out_hw: Pair, stride: Pair, dilation: Pair,
             groups: int) -> np.ndarray:
    """View ``(groups, N, H_out, W_out, kH, kW, C/groups)`` of the windows of an NHWC buffer."""
    n, _, _, c = buf.shape
    sn, sh, sw, sc = buf.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], groups, c // groups)
    strides = (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1],
               sc * (c // groups), sc)
    return as_strided(buf, shape, strides, writeable=False).transpose(5, 0, 1, 2, 3, 4, 6)


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair,
           groups: int) -> np.ndarray:
    """The im2col matrix ``(groups, N*H_out*W_out, kH*kW*C_in/groups)`` of NCHW input ``x``;
    columns are ordered (kh, kw, channel)."""
    n, c, h, w = x.shape
    out_hw = (conv_output_size(h, kernel[0], stride[0], padding[0], dilation[0]),
              conv_output_size(w, kernel[1], stride[1], padding[1], dilation[1]))
    buf = _padded_nhwc(x, padding)
    win = _windows(buf, kernel, out_hw, stride, dilation, groups)
    return win.reshape(groups, n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * (c // groups))


def _weight_matrix(weight: np.ndarray, groups: int) -> np.ndarray:
    """``(C_out, C_in/g, kH, kW)`` -> ``(g, kH*kW*C_in/g, C_out/g)`` matching im2col's columns."""
    cout, cg, kh, kw = weight.shape
    wm = weight.reshape(groups, cout // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1)
    return wm.reshape(groups, kh * kw * cg, cout // groups)


def _grad_matrix(grad: np.ndarray, groups: int) -> np.ndarray:
    """NCHW ``grad`` of the output as ``(g, N*H_out*W_out, C_out/g)``."""
    n, cout, ho, wo = grad.shape
    gm = grad.reshape(n, groups, cout // groups, ho, wo).transpose(1, 0, 3, 4, 2)
    return gm.reshape(groups, n * ho * wo, cout // groups)


def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # one 2-D GEMM when groups == 1 (NumPy's stacked matmul adds a little per-call overhead)
    if a.shape[0] == 1:
        return np.matmul(a[0], b[0])[None]
    return np.matmul(a, b)


# A GEMM whose output is small but whose inner dim K is long (grad-weight of a conv with few
# input channels: 9x32 outputs summed over N*H*W = 50176 rows at W2's first layer) is split by
# OpenBLAS's threads over the output only, and the threads meet at a barrier after every K
# block (about 200 of them here). When another process holds the second core each barrier
# waits for a time slice: measured 2.3-2.9 s instead of 2 ms. Chunks of K small enough that
# OpenBLAS runs each on the calling thread (M*N*K under 2**19 in its threading rule), as one
# batched matmul plus a sum, avoid the barriers; on one thread they cost what the plain GEMM
# does (2.2 vs 2.0 ms at W2's first layer).
_SINGLE_THREAD_MNK = 1 << 19
_MIN_CHUNK = 256  # shorter chunks lose more to per-GEMM overhead than the barriers cost


def _gemm_tn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a^T @ b`` per group for ``a`` (g, K, M) and ``b`` (g, K, N): (g, M, N)."""
    g, k, m = a.shape
    n = b.shape[2]
    chunk = _SINGLE_THREAD_MNK // max(m * n, 1)
    if chunk < _MIN_CHUNK or k < 2 * chunk:
        return _gemm(a.transpose(0, 2, 1), b)
    parts = -(-k // chunk)
    size = k // parts  # parts * size <= k; the few leftover rows are one more small GEMM
    main = parts * size
    out = np.empty((g, m, n), dtype=np.result_type(a, b))
    for i in range(g):
        ac = a[i, :main].reshape(parts, size, m).transpose(0, 2, 1)
        acc = np.matmul(ac, b[i, :main].reshape(parts, size, n)).sum(axis=0)
        if main < k:
            acc += a[i, main:].T @ b[i, main:]
        out[i] = acc
    return out


def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair,
                   padding: Padding, dilation: Pair, groups: int, keep_cols: bool = False,
                   weight_version: list | None = None):
    """``(output NCHW, cols or None)``: the convolution of ``x`` with ``weight`` (+ ``bias``).

    With ``keep_cols`` the im2col matrix is returned too, for ``conv2d_backward_weight``
    (oneDNN returns None: its backward needs no im2col). ``weight_version`` is the version
    counter of the weight's tensor: oneDNN then reuses its reordered copy of the weight until
    the counter moves (NumPy ignores it).
    """
    fast = _onednn(x, weight, bias)
    if fast is not None:
        try:
            return fast.conv2d_forward(x, weight, bias, stride, padding, dilation, groups,
                                       weight_version=weight_version), None
        except OneDNNUnimplemented:
            pass
    n = x.shape[0]
    cout, _, kh, kw = weight.shape
    cols = im2col(x, (kh, kw), stride, padding, dilation, groups)
    ho = conv_output_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
    wo = conv_output_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
    res = _gemm(cols, _weight_matrix(weight, groups))  # (g, N*Ho*Wo, Cout/g)
    # back to NCHW in one pass that also adds the bias
    nhwc = res.reshape(groups, n, ho, wo, cout // groups).transpose(1, 0, 4, 2, 3)
    out = np.empty((n, groups, cout // groups, ho, wo), dtype=res.dtype)
    if bias is not None:
        np.add(nhwc, bias.reshape(groups, cout // groups, 1, 1), out=out)
    else:
        np.copyto(out, nhwc)
    return out.reshape(n, cout, ho, wo), (cols if keep_cols else None)


def conv2d_backward_input(grad: np.ndarray, weight: np.ndarray, input_shape: tuple,
                          stride: Pair, padding: Padding, dilation: Pair,
                          groups: int, weight_version: list | None = None) -> np.ndarray:
    """Gradient of the conv w.r.t. its input (NCHW ``input_shape``); also the forward of
    ``conv_transpose2d``. ``weight_version``: as in ``conv2d_forward``."""
    fast = _onednn(grad, weight)
    if fast is not None:
        try:
            return fast.conv2d_backward_data(grad, weight, input_shape, stride, padding,
                                             dilation, groups, weight_version=weight_version)
        except OneDNNUnimplemented:
            pass
    n, cin, h, w = input_shape
    cout, cg, kh, kw = weight.shape
    _, _, ho, wo = grad.shape
    dcols = np.matmul(_grad_matrix(grad, groups), _weight_matrix(weight, groups).transpose(0, 2, 1))
    # (g, N, Ho, Wo, kH, kW, Cg): scatter-add each kernel position into the padded buffer
    dcols = dcols.reshape(groups, n, ho, wo, kh, kw, cg)
    (pt, pb), (pl, pr) = padding
    hp, wp = h + pt + pb, w + pl + pr
    # rows past the last window (stride leftovers) get no gradient but must exist in the buffer
    span_h = (ho - 1) * stride[0] + dilation[0] * (kh - 1) + 1
    span_w = (wo - 1) * stride[1] + dilation[1] * (kw - 1) + 1
    buf = np.zeros((n, max(hp, span_h), max(wp, span_w), groups, cg), dtype=dcols.dtype)
    for i in range(kh):
        r0 = i * dilation[0]
        rows = slice(r0, r0 + stride[0] * (ho - 1) + 1, stride[0])
        for j in range(kw):
            c0 = j * dilation[1]
            cols_ = slice(c0, c0 + stride[1] * (wo - 1) + 1, stride[1])
            buf[:, rows, cols_] += dcols[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
    inner = buf[:, pt:pt + h, pl:pl + w].reshape(n, h, w, cin)
    return np.ascontiguousarray(inner.transpose(0, 3, 1, 2))


def conv2d_backward_weight(grad: np.ndarray, x: np.ndarray, weight_shape: tuple,
                           stride: Pair, padding: Padding, dilation: Pair, groups: int,
                           cols: np.ndarray | None = None, with_bias: bool = False):
    """Gradient of the conv w.r.t. its weight; ``cols`` is the forward's im2col of ``x``
    when it was kept (saves recomputing it; oneDNN ignores it). With ``with_bias``,
    ``(grad_weight, grad_bias)``: oneDNN computes both in one primitive."""
    fast = _onednn(grad, x)
    if fast is not None:
        try:
            return fast.conv2d_backward_weights(grad, x, weight_shape, stride, padding,
                                                dilation, groups, with_bias=with_bias)
        except OneDNNUnimplemented:
            pass
    cout, cg, kh, kw = weight_shape
    if cols is None:
        cols = im2col(x, (kh, kw), stride, padding, dilation, groups)
    dw = _gemm_tn(cols, _grad_matrix(grad, groups))  # (g, kh*kw*cg, Cout/g)
    dw = dw.reshape(groups, kh, kw, cg, cout // groups).transpose(0, 4, 3, 1, 2)
    dw = np.ascontiguousarray(dw).reshape(weight_shape)
    return (dw, grad.sum(axis=(0, 2, 3))) if with_bias else dw
