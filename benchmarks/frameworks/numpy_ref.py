"""Hand-written NumPy forward, backward and update for W1-W5: the floor a NumPy framework can reach.

No autograd and no framework: each workload is a pair of functions, ``forward`` (logits plus
what backward needs) and ``backward`` (gradients), over a dict of parameters kept in the layout
that is fastest here (../shared/research/kernels.md): Linear weights ``(in, out)``, convolutions
as NHWC im2col matrices ``(kh*kw*cin, cout)``, the LSTM as transposed fused-gate matrices
``(in, 4*hidden)``. The keys are the canonical PyTorch names of ``benchmarks.workloads.spec``;
only layouts differ, and every optimizer is elementwise, so the training math equals PyTorch's.

Choices for speed: ReLU is applied after max-pooling (they commute, pooling then has a 4x
smaller tensor to rectify); the LSTM input projection is one GEMM over all 64 steps and the
recurrent weight gradient one GEMM over all steps; erf for the exact GELU uses the
Abramowitz-Stegun 7.1.26 rational approximation (|error| <= 1.5e-7, below float32 resolution
of the GELU output), since NumPy has no erf.
"""
from __future__ import annotations

import numpy as np

from ..workloads import WORKLOADS
from . import ModeUnavailable

__all__ = ["MODES", "available", "build", "NumpyRunner"]

MODES = ("ref",)
f32 = np.float32


def available() -> tuple[bool, str]:
    """NumPy is always importable here; returns its version."""
    return True, f"numpy {np.__version__}"


# ---------------------------------------------------------------- shared pieces

def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of (N, C) logits and its gradient with respect to the logits."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
    grad = exp / total
    grad[rows, labels] -= 1.0
    grad *= f32(1.0 / n)
    return loss, grad


def _conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """3x3 pad-1 convolution of NHWC ``x`` via im2col; returns (out, cols)."""
    n, h, wd, c = x.shape
    padded = np.zeros((n, h + 2, wd + 2, c), f32)
    padded[:, 1:-1, 1:-1] = x
    cols = np.empty((n, h, wd, 3, 3, c), f32)
    for i in range(3):
        for j in range(3):
            cols[:, :, :, i, j] = padded[:, i:i + h, j:j + wd]
    cols = cols.reshape(n * h * wd, 9 * c)
    return (cols @ w + b).reshape(n, h, wd, -1), cols


def _conv_backward(dout: np.ndarray, cols: np.ndarray, w: np.ndarray, input_shape, need_dx: bool):
    """Gradients (dx or None, dw, db) of ``_conv_forward`` for upstream ``dout`` (NHWC)."""
    n, h, wd, c = input_shape
    dflat = dout.reshape(-1, dout.shape[-1])
    dw, db = cols.T @ dflat, dflat.sum(axis=0)
    if not need_dx:
        return None, dw, db
    dcols = (dflat @ w.T).reshape(n, h, wd, 3, 3, c)
    dpadded = np.zeros((n, h + 2, wd + 2, c), f32)
    for i in range(3):
        for j in range(3):
            dpadded[:, i:i + h, j:j + wd] += dcols[:, :, :, i, j]
    return dpadded[:, 1:-1, 1:-1], dw, db


def _pool_relu_forward(x: np.ndarray):
    """2x2 max-pool then ReLU of NHWC ``x`` (equal to ReLU then pool); returns (out, mask)."""
    n, h, w, c = x.shape
    windows = x.reshape(n, h // 2, 2, w // 2, 2, c)
    pooled = windows.max(axis=(2, 4))
    mask = windows == pooled[:, :, None, :, None, :]
    return np.maximum(pooled, 0), mask


def _pool_relu_backward(dout: np.ndarray, out: np.ndarray, mask: np.ndarray) -> np.ndarray:
    dout = np.where(out > 0, dout, f32(0))
    n, h2, w2, c = dout.shape
    return (mask * dout[:, :, None, :, None, :]).reshape(n, 2 * h2, 2 * w2, c)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out = np.exp(-x)
    out += 1
    return np.reciprocal(out, out=out)


_SQRT_HALF, _INV_SQRT_2PI = f32(0.7071067811865476), f32(0.3989422804014327)
_AS = (f32(0.254829592), f32(-0.284496736), f32(1.421413741), f32(-1.453152027),
       f32(1.061405429))


def _erf(x: np.ndarray) -> np.ndarray:
    """erf by Abramowitz-Stegun 7.1.26 (|error| <= 1.5e-7)."""
    a = np.abs(x)
    t = 1 / (1 + f32(0.3275911) * a)
    poly = ((((_AS[4] * t + _AS[3]) * t + _AS[2]) * t + _AS[1]) * t + _AS[0]) * t
    return np.copysign(1 - poly * np.exp(-a * a), x)


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float = 1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    rstd = 1 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + f32(eps))
    normed = centred * rstd
    return normed * gain + bias, (normed, rstd, gain)


def _layer_norm_backward(dy: np.ndarray, cache):
    normed, rstd, gain = cache
    dnormed = dy * gain
    dx = rstd * (dnormed - dnormed.mean(axis=-1, keepdims=True)
                 - normed * (dnormed * normed).mean(axis=-1, keepdims=True))
    return dx, (dy * normed).sum(axis=0), dy.sum(axis=0)


# ---------------------------------------------------------------- W1-W3

def _mlp(p, x, y, train):
    h1 = np.maximum(x @ p["fc1.weight"] + p["fc1.bias"], 0)
    h2 = np.maximum(h1 @ p["fc2.weight"] + p["fc2.bias"], 0)
    logits = h2 @ p["fc3.weight"] + p["fc3.bias"]
    if not train:
        return logits
    loss, d3 = _cross_entropy(logits, y)
    g = {"fc3.weight": h2.T @ d3, "fc3.bias": d3.sum(0)}
    d2 = (d3 @ p["fc3.weight"].T) * (h2 > 0)
    g["fc2.weight"], g["fc2.bias"] = h1.T @ d2, d2.sum(0)
    d1 = (d2 @ p["fc2.weight"].T) * (h1 > 0)
    g["fc1.weight"], g["fc1.bias"] = x.T @ d1, d1.sum(0)
    return loss, g


def _cnn(p, x, y, train, convs_per_block):
    """W2 (blocks of 1 conv) and W3 (blocks of 2 convs): conv+ReLU..., pool, ..., fc1, fc2."""
    h = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    tape, index = [], 1
    for _ in range(2):
        for k in range(convs_per_block):
            name = f"conv{index}"
            out, cols = _conv_forward(h, p[name + ".weight"], p[name + ".bias"])
            last = k == convs_per_block - 1
            if last:
                act, mask = _pool_relu_forward(out)
            else:
                act, mask = np.maximum(out, 0), None
            tape.append((name, h.shape, cols, act, mask))
            h, index = act, index + 1
    flat = h.reshape(h.shape[0], -1)
    hidden = np.maximum(flat @ p["fc1.weight"] + p["fc1.bias"], 0)
    logits = hidden @ p["fc2.weight"] + p["fc2.bias"]
    if not train:
        return logits
    loss, dlogits = _cross_entropy(logits, y)
    g = {"fc2.weight": hidden.T @ dlogits, "fc2.bias": dlogits.sum(0)}
    dhidden = (dlogits @ p["fc2.weight"].T) * (hidden > 0)
    g["fc1.weight"], g["fc1.bias"] = flat.T @ dhidden, dhidden.sum(0)
    dh = (dhidden @ p["fc1.weight"].T).reshape(h.shape)
    for position, (name, in_shape, cols, act, mask) in reversed(list(enumerate(tape))):
        if mask is not None:
            dout = _pool_relu_backward(dh, act, mask)
        else:
            dout = np.where(act > 0, dh, f32(0))
        dh, g[name + ".weight"], g[name + ".bias"] = _conv_backward(
            dout, cols, p[name + ".weight"], in_shape, need_dx=position > 0)
    return loss, g


# ---------------------------------------------------------------- W4

def _lstm_lm(p, x, y, train):
    steps, batch = x.shape[1], x.shape[0]
    hidden = p["lstm.weight_hh_l0"].shape[0]
    tokens = x.T.reshape(-1)                      # time-major: row t*batch + b
    emb = p["embedding.weight"][tokens]
    w_hh = p["lstm.weight_hh_l0"]
    proj = (emb @ p["lstm.weight_ih_l0"] + (p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"]))
    proj = proj.reshape(steps, batch, 4 * hidden)
    hs = np.zeros((steps + 1, batch, hidden), f32)
    cs = np.zeros((steps + 1, batch, hidden), f32)
    gates = np.empty((steps, batch, 4 * hidden), f32)
    tanh_c = np.empty((steps, batch, hidden), f32)
    cell = slice(2 * hidden, 3 * hidden)
    for t in range(steps):
        z = proj[t] + hs[t] @ w_hh
        a = gates[t]
        a[:] = _sigmoid(z)
        a[:, cell] = np.tanh(z[:, cell])
        i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
        np.add(f * cs[t], i * g, out=cs[t + 1])
        np.tanh(cs[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=hs[t + 1])
    outs = hs[1:].reshape(steps * batch, hidden)
    logits = outs @ p["head.weight"] + p["head.bias"]
    if not train:
        return logits.reshape(steps, batch, -1).transpose(1, 0, 2)
    loss, dlogits = _cross_entropy(logits, y.T.reshape(-1))
    grads = {"head.weight": outs.T @ dlogits, "head.bias": dlogits.sum(0)}
    douts = (dlogits @ p["head.weight"].T).reshape(steps, batch, hidden)
    dz = np.empty_like(gates)
    dh_next = np.zeros((batch, hidden), f32)
    dc = np.zeros((batch, hidden), f32)
    w_hh_t = w_hh.T
    for t in reversed(range(steps)):
        a = gates[t]
        i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
        dh = douts[t] + dh_next
        dc += dh * o * (1 - tanh_c[t] * tanh_c[t])
        d = dz[t]
        d[:, :hidden] = dc * g * i * (1 - i)
        d[:, hidden:2 * hidden] = dc * cs[t] * f * (1 - f)
        d[:, cell] = dc * i * (1 - g * g)
        d[:, 3 * hidden:] = dh * tanh_c[t] * o * (1 - o)
        dc *= f
        dh_next = d @ w_hh_t
    dz_flat = dz.reshape(steps * batch, 4 * hidden)
    grads["lstm.weight_hh_l0"] = hs[:-1].reshape(steps * batch, hidden).T @ dz_flat
    grads["lstm.weight_ih_l0"] = emb.T @ dz_flat
    grads["lstm.bias_ih_l0"] = dz_flat.sum(0)
    grads["lstm.bias_hh_l0"] = grads["lstm.bias_ih_l0"].copy()
    dembedding = np.zeros_like(p["embedding.weight"])
    np.add.at(dembedding, tokens, dz_flat @ p["lstm.weight_ih_l0"].T)
    grads["embedding.weight"] = dembedding
    return loss, grads


# ---------------------------------------------------------------- W5

_HEADS = 4


def _encoder_forward(p, prefix, h, batch, steps):
    dim = h.shape[1]
    head_dim = dim // _HEADS
    qkv = h @ p[prefix + "self_attn.in_proj_weight"] + p[prefix + "self_attn.in_proj_bias"]
    qkv = qkv.reshape(batch, steps, 3, _HEADS, head_dim).transpose(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    scores = (q @ k.transpose(0, 1, 3, 2)) * f32(head_dim ** -0.5)
    scores -= scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    attended = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * steps, dim)
    attn_out = (attended @ p[prefix + "self_attn.out_proj.weight"]
                + p[prefix + "self_attn.out_proj.bias"])
    n1, ln1 = _layer_norm(h + attn_out, p[prefix + "norm1.weight"], p[prefix + "norm1.bias"])
    f1 = n1 @ p[prefix + "linear1.weight"] + p[prefix + "linear1.bias"]
    cdf = 0.5 * (1 + _erf(f1 * _SQRT_HALF))
    act = f1 * cdf
    f2 = act @ p[prefix + "linear2.weight"] + p[prefix + "linear2.bias"]
    out, ln2 = _layer_norm(n1 + f2, p[prefix + "norm2.weight"], p[prefix + "norm2.bias"])
    return out, (h, q, k, v, probs, attended, n1, ln1, f1, cdf, act, ln2)


def _encoder_backward(p, prefix, dout, cache, g):
    h, q, k, v, probs, attended, n1, ln1, f1, cdf, act, ln2 = cache
    batch, heads, steps, head_dim = q.shape
    dr2, g[prefix + "norm2.weight"], g[prefix + "norm2.bias"] = _layer_norm_backward(dout, ln2)
    g[prefix + "linear2.weight"], g[prefix + "linear2.bias"] = act.T @ dr2, dr2.sum(0)
    dact = dr2 @ p[prefix + "linear2.weight"].T
    df1 = dact * (cdf + f1 * np.exp(f32(-0.5) * f1 * f1) * _INV_SQRT_2PI)
    g[prefix + "linear1.weight"], g[prefix + "linear1.bias"] = n1.T @ df1, df1.sum(0)
    dn1 = dr2 + df1 @ p[prefix + "linear1.weight"].T
    dr1, g[prefix + "norm1.weight"], g[prefix + "norm1.bias"] = _layer_norm_backward(dn1, ln1)
    g[prefix + "self_attn.out_proj.weight"] = attended.T @ dr1
    g[prefix + "self_attn.out_proj.bias"] = dr1.sum(0)
    dattended = (dr1 @ p[prefix + "self_attn.out_proj.weight"].T)
    dattended = dattended.reshape(batch, steps, heads, head_dim).transpose(0, 2, 1, 3)
    dprobs = dattended @ v.transpose(0, 1, 3, 2)
    dqkv = np.empty((3, batch, heads, steps, head_dim), f32)
    dqkv[2] = probs.transpose(0, 1, 3, 2) @ dattended
    dscores = probs * (dprobs - (dprobs * probs).sum(axis=-1, keepdims=True))
    dscores *= f32(head_dim ** -0.5)
    dqkv[0] = dscores @ k
    dqkv[1] = dscores.transpose(0, 1, 3, 2) @ q
    dqkv = dqkv.transpose(1, 3, 0, 2, 4).reshape(batch * steps, 3 * heads * head_dim)
    g[prefix + "self_attn.in_proj_weight"] = h.T @ dqkv
    g[prefix + "self_attn.in_proj_bias"] = dqkv.sum(0)
    return dr1 + dqkv @ p[prefix + "self_attn.in_proj_weight"].T


def _transformer(p, x, y, train):
    batch, steps = x.shape
    tokens = x.reshape(-1)
    h = (p["embedding.weight"][x] + p["pos_embedding"][:steps]).reshape(batch * steps, -1)
    caches = []
    for layer in range(2):
        h, cache = _encoder_forward(p, f"layers.{layer}.", h, batch, steps)
        caches.append(cache)
    logits = h @ p["head.weight"] + p["head.bias"]
    if not train:
        return logits.reshape(batch, steps, -1)
    loss, dlogits = _cross_entropy(logits, y.reshape(-1))
    g = {"head.weight": h.T @ dlogits, "head.bias": dlogits.sum(0)}
    dh = dlogits @ p["head.weight"].T
    for layer in (1, 0):
        dh = _encoder_backward(p, f"layers.{layer}.", dh, caches[layer], g)
    g["pos_embedding"] = np.zeros_like(p["pos_embedding"])
    g["pos_embedding"][:steps] = dh.reshape(batch, steps, -1).sum(0)
    g["embedding.weight"] = np.zeros_like(p["embedding.weight"])
    np.add.at(g["embedding.weight"], tokens, dh)
    return loss, g


_MODELS = {"W1": _mlp, "W2": lambda p, x, y, t: _cnn(p, x, y, t, 1),
           "W3": lambda p, x, y, t: _cnn(p, x, y, t, 2), "W4": _lstm_lm, "W5": _transformer}


# ---------------------------------------------------------------- layouts, optimizers, runner

def _to_internal(workload_id: str, name: str, value: np.ndarray) -> np.ndarray:
    """PyTorch layout -> this module's layout (see the module docstring)."""
    value = np.asarray(value, f32)
    if value.ndim == 4:  # conv (out, in, kh, kw) -> (kh*kw*in, out)
        return np.ascontiguousarray(value.transpose(2, 3, 1, 0).reshape(-1, value.shape[0]))
    if name == "fc1.weight" and workload_id in ("W2", "W3"):  # columns (C,H,W) -> (H,W,C)
        channels = 64 if workload_id == "W2" else 128
        side = int(round((value.shape[1] // channels) ** 0.5))
        value = value.reshape(-1, channels, side, side).transpose(0, 2, 3, 1)
        value = value.reshape(value.shape[0], -1)
    if value.ndim == 2 and name not in ("embedding.weight", "pos_embedding"):
        return np.ascontiguousarray(value.T)
    return value.copy()


class NumpyRunner:
    """Parameters, optimizer state and the workload's forward/backward; PyTorch's update rules."""

    def __init__(self, workload_id: str, weights: dict) -> None:
        self.spec = WORKLOADS[workload_id]
        self.model = _MODELS[workload_id]
        self.params = {k: _to_internal(workload_id, k, v) for k, v in weights.items()}
        self.state = {k: [np.zeros_like(v), np.zeros_like(v)] for k, v in self.params.items()}
        self.steps = 0

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step; returns the loss before the update."""
        loss, grads = self.model(self.params, x, y, True)
        self.steps += 1
        hp = self.spec.hyperparameters
        lr = f32(hp["lr"])
        for name, param in self.params.items():
            grad, (first, second) = grads[name], self.state[name]
            if self.spec.optimizer == "sgd":
                first *= f32(hp["momentum"])
                first += grad
                param -= lr * first
                continue
            beta1, beta2 = hp["betas"]
            if self.spec.optimizer == "adamw":
                param *= f32(1 - hp["lr"] * hp["weight_decay"])
            first *= f32(beta1)
            first += f32(1 - beta1) * grad
            second *= f32(beta2)
            second += f32(1 - beta2) * grad * grad
            denom = np.sqrt(second) / f32((1 - beta2 ** self.steps) ** 0.5) + f32(hp["eps"])
            param -= f32(hp["lr"] / (1 - beta1 ** self.steps)) * first / denom
        return loss

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits, in the same shape as PyTorch's."""
        return self.model(self.params, x, None, False)


def build(workload_id: str, mode: str, weights: dict, seed: int) -> NumpyRunner:
    """A runner for ``workload_id``; the only mode is ``ref`` (``seed`` is unused)."""
    if mode not in MODES:
        raise ModeUnavailable(f"numpy has no mode {mode!r}; modes are {MODES}")
    return NumpyRunner(workload_id, weights)
