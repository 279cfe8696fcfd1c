"""Recurrent kernels on NumPy arrays: the whole time loop of one LSTM, GRU or Elman-RNN layer
(one direction), forward and backward.

Every layer does its input projection ``x @ W_ih^T + b`` for all timesteps at once before it
gets here (one big GEMM); these kernels run only what is truly sequential: per step one
``h @ W_hh^T`` GEMM and the gate arithmetic, written with ``out=`` buffers into preallocated
workspaces (research/kernels.md measured this as the fastest NumPy formulation at W4).
The backward does the per-step ``d_gates @ W_hh`` GEMMs and then the weight gradient of the
whole sequence as one GEMM, instead of one small GEMM (and one accumulation) per step.

Layouts are PyTorch's: ``xproj`` (T, B, G*H) with gate blocks in PyTorch's order (LSTM
i, f, g, o; GRU r, z, n), states (B, H), ``w_hh`` (G*H, H). A forward returns the outputs
and a ``workspace`` tuple that its backward reads; another backend (e.g. oneDNN's fused
LSTM) would replace the pair without touching ops or autograd.

These kernels stay NumPy on every backend. oneDNN's fused RNN primitive cannot start from
``xproj``: it multiplies its layer input by ``W_ih`` itself, so routing here would mean an
identity 4H x 4H input weight, i.e. three extra (T*B, 4H) x (4H, 4H) GEMMs per layer
(forward, d_input, d_weight), more work than the recurrence. The oneDNN path therefore
replaces the whole layer (projection + recurrence): ``ops/rnn_fused.py``, entered from
``nn.functional.rnn`` through ``fused_direction`` when the oneDNN backend is selected.
"""

from __future__ import annotations

import numpy as np


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """In-place logistic sigmoid as ``0.5 * tanh(0.5 a) + 0.5``: no overflow for large |a|
    and NumPy's SIMD tanh."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


# ------------------------------------------------------------------------------ LSTM


def lstm_forward(xproj: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray):
    """Run an LSTM layer over ``xproj`` (T, B, 4H) = ``x @ W_ih^T + b_ih + b_hh``.

    Returns ``(hs, h_n, c_n), workspace``; ``hs`` is (T, B, H)."""
    steps, batch, four_h = xproj.shape
    hidden = four_h // 4
    dtype = xproj.dtype
    acts = np.empty((steps, batch, four_h), dtype)  # i, f, g, o after their nonlinearity
    cs = np.empty((steps, batch, hidden), dtype)
    tanh_cs = np.empty((steps, batch, hidden), dtype)
    hs = np.empty((steps, batch, hidden), dtype)
    ig = np.empty((batch, hidden), dtype)
    # sigmoid(a) = 0.5 * tanh(0.5 a) + 0.5 on the i, f, o columns and tanh on g, as three
    # passes over the whole (B, 4H) block with per-column constants
    scale = np.full(four_h, 0.5, dtype)
    scale[2 * hidden:3 * hidden] = 1.0
    shift = np.full(four_h, 0.5, dtype)
    shift[2 * hidden:3 * hidden] = 0.0
    w_t = w_hh.T
    h, c = h0, c0
    for t in range(steps):
        a = acts[t]
        np.matmul(h, w_t, out=a)
        a += xproj[t]
        a *= scale
        np.tanh(a, out=a)
        a *= scale
        a += shift
        i, f, g, o = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:3 * hidden], \
            a[:, 3 * hidden:]
        c_new = cs[t]
        np.multiply(f, c, out=c_new)
        np.multiply(i, g, out=ig)
        c_new += ig
        np.tanh(c_new, out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t])
        h, c = hs[t], c_new
    outs = (hs, hs[-1].copy(), cs[-1].copy())
    return outs, (acts, cs, tanh_cs)


def lstm_backward(d_hs, d_hn, d_cn, h0, c0, w_hh, hs, workspace):
    """Gradients ``(d_xproj, d_h0, d_c0, d_w_hh)`` of :func:`lstm_forward`; any of the
    output gradients may be None (no gradient reached that output)."""
    acts, cs, tanh_cs = workspace
    steps, batch, four_h = acts.shape
    hidden = four_h // 4
    dtype = acts.dtype
    # derivative of every gate's nonlinearity from its output y, all steps at once:
    # sigmoid' = y (1 - y), tanh' = (1 - y)(1 + y), i.e. (1 - y)(y + k) with k 0 or 1
    d_gates = np.subtract(1, acts, dtype=dtype)
    k = np.zeros(four_h, dtype)
    k[2 * hidden:3 * hidden] = 1.0
    d_gates *= acts + k
    d_tanh_c = np.square(tanh_cs)
    np.subtract(1, d_tanh_c, out=d_tanh_c)
    dh = np.zeros((batch, hidden), dtype) if d_hn is None else d_hn.astype(dtype, copy=True)
    dc = np.zeros((batch, hidden), dtype) if d_cn is None else d_cn.astype(dtype, copy=True)
    tmp = np.empty((batch, hidden), dtype)
    for t in range(steps - 1, -1, -1):
        if d_hs is not None:
            dh += d_hs[t]
        a = acts[t]
        i, f, g, o = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:3 * hidden], \
            a[:, 3 * hidden:]
        c_prev = cs[t - 1] if t > 0 else c0
        np.multiply(dh, o, out=tmp)
        tmp *= d_tanh_c[t]
        dc += tmp
        d = d_gates[t]
        np.multiply(dc, g, out=tmp)
        d[:, :hidden] *= tmp
        np.multiply(dc, c_prev, out=tmp)
        d[:, hidden:2 * hidden] *= tmp
        np.multiply(dc, i, out=tmp)
        d[:, 2 * hidden:3 * hidden] *= tmp
        np.multiply(dh, tanh_cs[t], out=tmp)
        d[:, 3 * hidden:] *= tmp
        dc *= f
        np.matmul(d, w_hh, out=dh)
    d_w = _weight_grad(d_gates, h0, hs)
    return d_gates, dh, dc, d_w


def _weight_grad(d_pre: np.ndarray, h0: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """``sum_t d_pre[t]^T @ h_{t-1}`` as two GEMMs (step 0 reads h0, the rest hs[:-1])."""
    g = d_pre.shape[-1]
    d_w = d_pre[0].T @ h0
    if d_pre.shape[0] > 1:
        d_w += d_pre[1:].reshape(-1, g).T @ hs[:-1].reshape(-1, hs.shape[-1])
    return d_w


# ------------------------------------------------------------------------------ GRU


def gru_forward(xproj: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None):
    """Run a GRU layer over ``xproj`` (T, B, 3H) = ``x @ W_ih^T + b_ih``.

    ``b_hh`` stays separate because PyTorch's new gate adds ``b_hn`` inside ``r * (...)``.
    Returns ``(hs, h_n), workspace``."""
    steps, batch, three_h = xproj.shape
    hidden = three_h // 3
    dtype = xproj.dtype
    acts = np.empty((steps, batch, three_h), dtype)  # r, z, n after their nonlinearity
    hn_proj = np.empty((steps, batch, hidden), dtype)  # W_hn h + b_hn, needed by backward
    hs = np.empty((steps, batch, hidden), dtype)
    gh = np.empty((batch, three_h), dtype)
    w_t = w_hh.T
    h = h0
    for t in range(steps):
        np.matmul(h, w_t, out=gh)
        if b_hh is not None:
            gh += b_hh
        a = acts[t]
        rz = a[:, :2 * hidden]
        np.add(xproj[t, :, :2 * hidden], gh[:, :2 * hidden], out=rz)
        _sigmoid_(rz)
        r, z, n = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
        hn_proj[t] = gh[:, 2 * hidden:]
        np.multiply(r, gh[:, 2 * hidden:], out=n)
        n += xproj[t, :, 2 * hidden:]
        np.tanh(n, out=n)
        # h' = (1 - z) n + z h = n + z (h - n)
        h_new = hs[t]
        np.subtract(h, n, out=h_new)
        h_new *= z
        h_new += n
        h = h_new
    return (hs, hs[-1].copy()), (acts, hn_proj)


def gru_backward(d_hs, d_hn, h0, w_hh, hs, workspace, need_bias: bool):
    """Gradients ``(d_xproj, d_h0, d_w_hh, d_b_hh or None)`` of :func:`gru_forward`."""
    acts, hn_proj = workspace
    steps, batch, three_h = acts.shape
    hidden = three_h // 3
    dtype = acts.dtype
    d_xproj = np.empty((steps, batch, three_h), dtype)
    d_gh = np.empty((steps, batch, three_h), dtype)  # gradient of h @ W_hh^T + b_hh
    dh = np.zeros((batch, hidden), dtype) if d_hn is None else d_hn.astype(dtype, copy=True)
    tmp = np.empty((batch, hidden), dtype)
    for t in range(steps - 1, -1, -1):
        if d_hs is not None:
            dh += d_hs[t]
        a = acts[t]
        r, z, n = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
        h_prev = hs[t - 1] if t > 0 else h0
        dx = d_xproj[t]
        dr, dz, dn = dx[:, :hidden], dx[:, hidden:2 * hidden], dx[:, 2 * hidden:]
        # dn_pre = dh (1 - z)(1 - n^2)
        np.multiply(dh, z, out=dn)
        np.subtract(dh, dn, out=dn)
        np.multiply(n, n, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dn *= tmp
        # dz_pre = dh (h_prev - n) z (1 - z)
        np.subtract(h_prev, n, out=dz)
        dz *= dh
        np.subtract(1, z, out=tmp)
        tmp *= z
        dz *= tmp
        # dr_pre = dn_pre * (W_hn h + b_hn) * r (1 - r)
        np.multiply(dn, hn_proj[t], out=dr)
        np.subtract(1, r, out=tmp)
        tmp *= r
        dr *= tmp
        dg = d_gh[t]
        dg[:, :2 * hidden] = dx[:, :2 * hidden]
        np.multiply(dn, r, out=dg[:, 2 * hidden:])
        dh *= z
        dh += dg @ w_hh
    d_w = _weight_grad(d_gh, h0, hs)
    d_b = d_gh.sum(axis=(0, 1)) if need_bias else None
    return d_xproj, dh, d_w, d_b


# ------------------------------------------------------------------------------ Elman RNN


def rnn_forward(xproj: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, nonlinearity: str):
    """Run an Elman RNN layer: ``h_t = act(xproj[t] + h_{t-1} @ W_hh^T)``, act tanh or relu.

    Returns ``(hs, h_n), ()``; the backward needs only the outputs."""
    steps, batch, hidden = xproj.shape
    hs = np.empty((steps, batch, hidden), xproj.dtype)
    w_t = w_hh.T
    h = h0
    for t in range(steps):
        out = hs[t]
        np.matmul(h, w_t, out=out)
        out += xproj[t]
        if nonlinearity == "tanh":
            np.tanh(out, out=out)
        else:
            np.maximum(out, 0, out=out)
        h = out
    return (hs, hs[-1].copy()), ()


def rnn_backward(d_hs, d_hn, h0, w_hh, hs, nonlinearity: str):
    """Gradients ``(d_xproj, d_h0, d_w_hh)`` of :func:`rnn_forward`."""
    steps, batch, hidden = hs.shape
    dtype = hs.dtype
    if nonlinearity == "tanh":
        d_pre = np.square(hs)
        np.subtract(1, d_pre, out=d_pre)
    else:  # relu' is 1 where the output is positive (PyTorch's convention at 0: 0)
        d_pre = (hs > 0).astype(dtype)
    dh = np.zeros((batch, hidden), dtype) if d_hn is None else d_hn.astype(dtype, copy=True)
    for t in range(steps - 1, -1, -1):
        if d_hs is not None:
            dh += d_hs[t]
        d = d_pre[t]
        d *= dh
        np.matmul(d, w_hh, out=dh)
    return d_pre, dh, _weight_grad(d_pre, h0, hs)
