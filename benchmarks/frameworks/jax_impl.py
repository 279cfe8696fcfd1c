"""JAX: the five workloads as pure functions of a parameter pytree, each step one ``jax.jit``.

Mode ``jit`` only: one jitted function computes the loss (``jax.value_and_grad``), the gradients
and the optimizer update, and returns the new parameters and optimizer state (both donated, so
XLA updates them in place). ``predict`` is a second jitted function, the forward alone.

Layouts are PyTorch's, unchanged: parameters keep the canonical names and shapes of
``benchmarks.workloads.spec.init_weights``; Linear is ``x @ W.T + b``; convolutions run on NCHW
data with OIHW kernels through ``lax.conv_general_dilated``; max-pooling is ``lax.reduce_window``;
the LSTM is a ``lax.scan`` over time with PyTorch's gate order (i, f, g, o) and both biases;
multi-head attention splits ``in_proj`` rows into q, k, v. The optimizers are written out to
follow PyTorch's update rules exactly (see ``_sgd``/``_adam``). Token ids are cast to int32
(JAX's default integer width) on the host before the call. ``seed`` is unused: nothing is random.
"""
from __future__ import annotations

import math

import numpy as np

from ..workloads import WORKLOADS
from . import ModeUnavailable

__all__ = ["MODES", "available", "build", "JaxRunner", "forward", "optimizer"]

MODES = ("jit",)
_LN_EPS = 1e-5
_HEADS = 4


def available() -> tuple[bool, str]:
    """Whether jax imports, with its version and devices or the import error."""
    try:
        import jax
    except Exception as error:  # noqa: BLE001 - any import failure means "not available"
        return False, f"jax not importable: {error}"
    return True, f"jax {jax.__version__} on {[str(d) for d in jax.devices()]}"


# ---------------------------------------------------------------- layers (pure functions)

def _linear(p, name, x):
    """PyTorch's Linear: ``x @ W.T + b`` with ``W`` of shape (out, in)."""
    return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]


def _conv_relu(p, name, x):
    """3x3 convolution, padding 1, NCHW data and OIHW kernel, then ReLU."""
    import jax.numpy as jnp
    from jax import lax

    y = lax.conv_general_dilated(x, p[f"{name}.weight"], window_strides=(1, 1),
                                 padding=((1, 1), (1, 1)),
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return jnp.maximum(y + p[f"{name}.bias"][None, :, None, None], 0.0)


def _maxpool2(x):
    """2x2 max-pooling with stride 2 on NCHW data."""
    import jax.numpy as jnp
    from jax import lax

    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def _layer_norm(p, name, x):
    """LayerNorm over the last axis (biased variance, eps 1e-5) with PyTorch's weight/bias."""
    import jax.numpy as jnp

    mean = x.mean(-1, keepdims=True)
    var = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + _LN_EPS) * p[f"{name}.weight"] + p[f"{name}.bias"]


def _self_attention(p, prefix, x):
    """PyTorch's MultiheadAttention (batch first, no mask): in_proj rows are [q; k; v]."""
    import jax
    import jax.numpy as jnp

    n, t, d = x.shape
    dh = d // _HEADS
    qkv = x @ p[f"{prefix}.in_proj_weight"].T + p[f"{prefix}.in_proj_bias"]
    q, k, v = (a.reshape(n, t, _HEADS, dh).transpose(0, 2, 1, 3) for a in jnp.split(qkv, 3, -1))
    scores = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(dh))
    out = jax.nn.softmax(scores, axis=-1) @ v
    out = out.transpose(0, 2, 1, 3).reshape(n, t, d)
    return _linear(p, f"{prefix}.out_proj", out)


def _encoder_layer(p, prefix, x):
    """Post-norm encoder layer: ``norm1(x + attn(x))`` then ``norm2(x + ffn(x))``, exact GELU."""
    import jax

    x = _layer_norm(p, f"{prefix}.norm1", x + _self_attention(p, f"{prefix}.self_attn", x))
    ffn = _linear(p, f"{prefix}.linear1", x)
    ffn = _linear(p, f"{prefix}.linear2", jax.nn.gelu(ffn, approximate=False))
    return _layer_norm(p, f"{prefix}.norm2", x + ffn)


def _lstm(p, x):
    """One-layer batch-first LSTM, zero initial state; returns every hidden state (N, T, H)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    w_hh = p["lstm.weight_hh_l0"]
    hidden = w_hh.shape[1]
    # The input projection of every step at once, both biases folded in: (T, N, 4H).
    xw = (x @ p["lstm.weight_ih_l0"].T + p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"])
    xw = xw.transpose(1, 0, 2)

    def cell(carry, xw_t):
        h, c = carry
        gates = xw_t + h @ w_hh.T
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    zeros = jnp.zeros((x.shape[0], hidden), x.dtype)
    _, hs = lax.scan(cell, (zeros, zeros), xw)
    return hs.transpose(1, 0, 2)


# ---------------------------------------------------------------- the five models

def _w1(p, x):
    import jax.numpy as jnp

    h = jnp.maximum(_linear(p, "fc1", x), 0.0)
    h = jnp.maximum(_linear(p, "fc2", h), 0.0)
    return _linear(p, "fc3", h)


def _conv_head(p, x):
    import jax.numpy as jnp

    h = jnp.maximum(_linear(p, "fc1", x.reshape(x.shape[0], -1)), 0.0)
    return _linear(p, "fc2", h)


def _w2(p, x):
    x = _maxpool2(_conv_relu(p, "conv1", x))
    x = _maxpool2(_conv_relu(p, "conv2", x))
    return _conv_head(p, x)


def _w3(p, x):
    x = _maxpool2(_conv_relu(p, "conv2", _conv_relu(p, "conv1", x)))
    x = _maxpool2(_conv_relu(p, "conv4", _conv_relu(p, "conv3", x)))
    return _conv_head(p, x)


def _w4(p, x):
    return _linear(p, "head", _lstm(p, p["embedding.weight"][x]))


def _w5(p, x):
    h = p["embedding.weight"][x] + p["pos_embedding"][: x.shape[1]]
    h = _encoder_layer(p, "layers.0", h)
    h = _encoder_layer(p, "layers.1", h)
    return _linear(p, "head", h)


_MODELS = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4, "W5": _w5}


def forward(workload_id: str):
    """The forward function ``f(params, x) -> logits`` of a workload (params: canonical names)."""
    if workload_id not in _MODELS:
        raise KeyError(f"unknown workload {workload_id!r}; expected one of {sorted(_MODELS)}")
    return _MODELS[workload_id]


def _cross_entropy(logits, y):
    """Mean cross-entropy over every row (W4/W5: every (sequence, position) pair)."""
    import jax
    import jax.numpy as jnp

    logp = jax.nn.log_softmax(logits.reshape(-1, logits.shape[-1]), axis=-1)
    return -jnp.take_along_axis(logp, y.reshape(-1, 1), axis=1).mean()


# ---------------------------------------------------------------- optimizers (PyTorch's rules)

def _sgd(lr, momentum):
    """SGD with momentum: ``buf = momentum * buf + g; p -= lr * buf`` (zero buffer = torch's
    "buffer starts at the first gradient")."""
    import jax
    import jax.numpy as jnp

    def init(params):
        return jax.tree.map(jnp.zeros_like, params)

    def update(params, grads, bufs):
        bufs = jax.tree.map(lambda b, g: momentum * b + g, bufs, grads)
        params = jax.tree.map(lambda p, b: p - lr * b, params, bufs)
        return params, bufs

    return init, update


def _adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    """Adam/AdamW as ``torch.optim``: ``p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)``, with
    AdamW's ``p *= 1 - lr * wd`` first (decoupled). Plain Adam here has no weight decay."""
    import jax
    import jax.numpy as jnp

    if weight_decay and not decoupled:
        raise ValueError("coupled (L2) Adam weight decay is not used by any workload")
    b1, b2 = betas

    def init(params):
        # Separate buffers for m and v: the state is donated, and a buffer can't be donated twice.
        return {"t": jnp.zeros((), jnp.float32), "m": jax.tree.map(jnp.zeros_like, params),
                "v": jax.tree.map(jnp.zeros_like, params)}

    def update(params, grads, state):
        t = state["t"] + 1.0
        m = jax.tree.map(lambda m, g: b1 * m + (1.0 - b1) * g, state["m"], grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1.0 - b2) * g * g, state["v"], grads)
        step_size = lr / (1.0 - b1 ** t)
        bc2_sqrt = jnp.sqrt(1.0 - b2 ** t)

        def new_param(p, m, v):
            if decoupled and weight_decay:
                p = p * (1.0 - lr * weight_decay)
            return p - step_size * m / (jnp.sqrt(v) / bc2_sqrt + eps)

        params = jax.tree.map(new_param, params, m, v)
        return params, {"t": t, "m": m, "v": v}

    return init, update


def optimizer(kind: str, hyperparameters: dict):
    """``(init, update)`` for ``kind`` in ("sgd", "adam", "adamw") with PyTorch's argument names;
    ``update(params, grads, state) -> (params, state)`` is pure (jit it)."""
    hp = dict(hyperparameters)
    if kind == "sgd":
        return _sgd(hp["lr"], hp.get("momentum", 0.0))
    if kind in ("adam", "adamw"):
        return _adam(hp["lr"], tuple(hp.get("betas", (0.9, 0.999))), hp.get("eps", 1e-8),
                     hp.get("weight_decay", 0.01 if kind == "adamw" else 0.0),
                     decoupled=kind == "adamw")
    raise ValueError(f"unknown optimizer {kind!r}")


# ---------------------------------------------------------------- runner

class JaxRunner:
    """Parameters and optimizer state as pytrees; ``step`` and ``predict`` are jitted."""

    def __init__(self, workload_id: str, weights: dict) -> None:
        import jax
        import jax.numpy as jnp

        self._jax = jax
        self._tokens = WORKLOADS[workload_id].is_sequence
        model = forward(workload_id)
        spec = WORKLOADS[workload_id]
        opt_init, opt_update = optimizer(spec.optimizer, spec.hyperparameters)
        self.params = {k: jnp.asarray(np.asarray(v, np.float32)) for k, v in weights.items()}
        self.opt_state = opt_init(self.params)

        def loss_fn(params, x, y):
            return _cross_entropy(model(params, x), y)

        def train_step(params, opt_state, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            params, opt_state = opt_update(params, grads, opt_state)
            return params, opt_state, loss

        self._step = jax.jit(train_step, donate_argnums=(0, 1))
        self._predict = jax.jit(model)

    def _input(self, x):
        return np.asarray(x, np.int32) if self._tokens else np.asarray(x, np.float32)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step (forward, backward, update); returns the loss before the update."""
        self.params, self.opt_state, loss = self._step(
            self.params, self.opt_state, self._input(x), np.asarray(y, np.int32))
        return float(loss)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits as a NumPy array."""
        return np.asarray(self._predict(self.params, self._input(x)))


def build(workload_id: str, mode: str, weights: dict, seed: int) -> JaxRunner:
    """A runner for ``workload_id`` in ``mode`` (only ``"jit"``); ``seed`` is unused."""
    if mode not in MODES:
        raise ModeUnavailable(f"jax has no mode {mode!r}; modes are {MODES}")
    ok, reason = available()
    if not ok:
        raise ModeUnavailable(reason)
    if workload_id not in _MODELS:
        raise KeyError(f"unknown workload {workload_id!r}; expected one of {sorted(_MODELS)}")
    return JaxRunner(workload_id, weights)
