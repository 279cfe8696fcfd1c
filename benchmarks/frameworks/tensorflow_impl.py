"""TensorFlow: the five workloads on raw ``tf.Variable``s and ``tf.nn`` ops, trained with a tape.

Modes (the same step function in all three):

- ``eager``: ``tf.GradientTape`` run op by op;
- ``function``: the step (forward, loss, gradients, update) wrapped in one ``tf.function``;
- ``function_jit``: ``tf.function(jit_compile=True)`` (XLA). If XLA cannot compile even a
  trivial function here, ``build`` raises ``ModeUnavailable`` with the error.

``predict`` runs the forward pass the same way (eager, ``tf.function``, or jit-compiled).

Layouts, converted once from the canonical PyTorch weights of ``spec.init_weights``:
Linear weights become Keras-style ``(in, out)`` kernels; convolutions run channels-last (NHWC
data, HWIO kernels, TensorFlow's native CPU layout): the NCHW batch is transposed to NHWC inside
the step, once per batch, and that transpose is part of the timed step. ``fc1`` after the
convolutions has its input rows permuted from (C, H, W) to (H, W, C) order so that it reads the
NHWC flatten. The LSTM keeps PyTorch's gate order (i, f, g, o) and both biases, as separate
variables (one merged bias would get a different Adam update); its time loop is a Python loop
eagerly and ``tf.scan`` in the function modes. Attention splits ``in_proj`` into q, k, v
columns of one ``(d, 3d)`` kernel.

Optimizers use TensorFlow's fused training kernels, whose rules are PyTorch's:
``ResourceApplyMomentum`` is ``buf = momentum * buf + g; p -= lr * buf``, and
``ResourceApplyAdam`` with ``epsilon = eps * sqrt(1 - beta2^t)`` equals PyTorch's
``p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)``; AdamW multiplies by ``1 - lr * wd`` first.
Gradients of embeddings (``IndexedSlices``) are made dense, as PyTorch's are.
``seed`` is unused: nothing is random.
"""
from __future__ import annotations

import math

import numpy as np

from ..workloads import WORKLOADS
from . import ModeUnavailable

__all__ = ["MODES", "available", "build", "Optimizer", "TensorFlowRunner", "to_tf_layout"]

MODES = ("eager", "function", "function_jit")
_LN_EPS = 1e-5
_HEADS = 4


def available() -> tuple[bool, str]:
    """Whether tensorflow imports, with its version or the import error."""
    try:
        import tensorflow as tf
    except Exception as error:  # noqa: BLE001 - any import failure means "not available"
        return False, f"tensorflow not importable: {error}"
    return True, f"tensorflow {tf.__version__}"


def to_tf_layout(workload_id: str, weights: dict) -> dict[str, np.ndarray]:
    """Canonical PyTorch weights -> the same names in this module's TensorFlow layouts."""
    out = {}
    for name, value in weights.items():
        value = np.asarray(value, np.float32)
        if name == "fc1.weight" and workload_id in ("W2", "W3"):
            channels = {"W2": 64, "W3": 128}[workload_id]
            side = int(round(math.sqrt(value.shape[1] // channels)))
            value = value.reshape(-1, channels, side, side).transpose(0, 2, 3, 1)
            value = value.reshape(value.shape[0], -1).T
        elif value.ndim == 4:  # conv (out, in, kh, kw) -> (kh, kw, in, out)
            value = value.transpose(2, 3, 1, 0)
        elif value.ndim == 2 and not name.startswith(("embedding", "pos_embedding")):
            value = value.T  # Linear, in_proj and LSTM matrices: (out, in) -> (in, out)
        out[name] = np.ascontiguousarray(value)
    return out


# ---------------------------------------------------------------- layers

def _linear(tf, p, name, x):
    """``x @ K + b`` with a Keras-style ``(in, out)`` kernel; any leading dimensions."""
    if len(x.shape) == 2:
        return tf.matmul(x, p[f"{name}.weight"]) + p[f"{name}.bias"]
    return tf.tensordot(x, p[f"{name}.weight"], axes=1) + p[f"{name}.bias"]


def _conv_relu(tf, p, name, x):
    """3x3 convolution, padding 1 ("SAME" at stride 1), NHWC/HWIO, then ReLU."""
    y = tf.nn.conv2d(x, p[f"{name}.weight"], strides=1, padding="SAME")
    return tf.nn.relu(tf.nn.bias_add(y, p[f"{name}.bias"]))


def _maxpool2(tf, x):
    return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")


def _layer_norm(tf, p, name, x):
    """LayerNorm over the last axis (biased variance, eps 1e-5)."""
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + _LN_EPS) * p[f"{name}.weight"] + p[f"{name}.bias"]


def _self_attention(tf, p, prefix, x):
    """Multi-head self-attention (batch first, no mask); in_proj columns are [q | k | v]."""
    _, t, d = x.shape
    dh = d // _HEADS
    qkv = tf.tensordot(x, p[f"{prefix}.in_proj_weight"], axes=1) + p[f"{prefix}.in_proj_bias"]
    q, k, v = (tf.transpose(tf.reshape(a, (-1, t, _HEADS, dh)), (0, 2, 1, 3))
               for a in tf.split(qkv, 3, axis=-1))
    scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(dh))
    out = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
    out = tf.reshape(tf.transpose(out, (0, 2, 1, 3)), (-1, t, d))
    return _linear(tf, p, f"{prefix}.out_proj", out)


def _encoder_layer(tf, p, prefix, x):
    """Post-norm: ``norm1(x + attn(x))`` then ``norm2(x + linear2(gelu(linear1(x))))``."""
    x = _layer_norm(tf, p, f"{prefix}.norm1", x + _self_attention(tf, p, f"{prefix}.self_attn", x))
    ffn = tf.nn.gelu(_linear(tf, p, f"{prefix}.linear1", x), approximate=False)
    return _layer_norm(tf, p, f"{prefix}.norm2", x + _linear(tf, p, f"{prefix}.linear2", ffn))


def _lstm(tf, p, x):
    """One-layer batch-first LSTM, zero initial state, gates (i, f, g, o); returns (N, T, H).

    Eagerly the time loop is a Python loop; inside ``tf.function`` it is ``tf.scan`` (a
    ``while_loop``): unrolling 64 steps made XLA compile W4's step for over 3 minutes.
    """
    k_hh = p["lstm.weight_hh_l0"]
    hidden = k_hh.shape[0]
    xw = (tf.tensordot(x, p["lstm.weight_ih_l0"], axes=1)
          + p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"])
    xw = tf.transpose(xw, (1, 0, 2))  # (T, N, 4H)
    zeros = tf.zeros((tf.shape(x)[0], hidden), x.dtype)

    def cell(state, xw_t):
        h, c = state
        i, f, g, o = tf.split(xw_t + tf.matmul(h, k_hh), 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    if tf.executing_eagerly():
        state, outputs = (zeros, zeros), []
        for xw_t in tf.unstack(xw):
            state = cell(state, xw_t)
            outputs.append(state[0])
        hs = tf.stack(outputs)
    else:
        hs, _ = tf.scan(cell, xw, initializer=(zeros, zeros))
    return tf.transpose(hs, (1, 0, 2))


# ---------------------------------------------------------------- the five models

def _w1(tf, p, x):
    h = tf.nn.relu(_linear(tf, p, "fc1", x))
    return _linear(tf, p, "fc3", tf.nn.relu(_linear(tf, p, "fc2", h)))


def _conv_head(tf, p, x):
    h = tf.nn.relu(_linear(tf, p, "fc1", tf.reshape(x, (tf.shape(x)[0], -1))))
    return _linear(tf, p, "fc2", h)


def _w2(tf, p, x):
    x = tf.transpose(x, (0, 2, 3, 1))  # NCHW batch -> NHWC, once per batch
    x = _maxpool2(tf, _conv_relu(tf, p, "conv1", x))
    x = _maxpool2(tf, _conv_relu(tf, p, "conv2", x))
    return _conv_head(tf, p, x)


def _w3(tf, p, x):
    x = tf.transpose(x, (0, 2, 3, 1))  # NCHW batch -> NHWC, once per batch
    x = _maxpool2(tf, _conv_relu(tf, p, "conv2", _conv_relu(tf, p, "conv1", x)))
    x = _maxpool2(tf, _conv_relu(tf, p, "conv4", _conv_relu(tf, p, "conv3", x)))
    return _conv_head(tf, p, x)


def _w4(tf, p, x):
    return _linear(tf, p, "head", _lstm(tf, p, tf.gather(p["embedding.weight"], x)))


def _w5(tf, p, x):
    h = tf.gather(p["embedding.weight"], x) + p["pos_embedding"][: x.shape[1]]
    h = _encoder_layer(tf, p, "layers.0", h)
    h = _encoder_layer(tf, p, "layers.1", h)
    return _linear(tf, p, "head", h)


_MODELS = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4, "W5": _w5}


# ---------------------------------------------------------------- optimizer

class Optimizer:
    """SGD-momentum, Adam or AdamW with PyTorch's semantics on TensorFlow's fused kernels."""

    def __init__(self, tf, kind: str, hyperparameters: dict, variables: list) -> None:
        """``kind``/``hyperparameters`` as in ``Workload`` (PyTorch's argument names)."""
        hp = dict(hyperparameters)
        self.tf, self.kind, self.variables = tf, kind, variables
        self.lr = float(hp["lr"])
        if self.kind == "sgd":
            self.momentum = float(hp.get("momentum", 0.0))
            self.slots = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        elif self.kind in ("adam", "adamw"):
            self.b1, self.b2 = (float(b) for b in hp.get("betas", (0.9, 0.999)))
            self.eps = float(hp.get("eps", 1e-8))
            self.wd = float(hp.get("weight_decay", 0.01)) if self.kind == "adamw" else 0.0
            if self.kind == "adam" and hp.get("weight_decay"):
                raise ValueError("coupled (L2) Adam weight decay is not used by any workload")
            self.t = tf.Variable(0.0, trainable=False, dtype=tf.float32)
            self.slots = [(tf.Variable(tf.zeros_like(v), trainable=False),
                           tf.Variable(tf.zeros_like(v), trainable=False)) for v in variables]
        else:
            raise ValueError(f"unknown optimizer {self.kind!r}")

    def apply(self, grads) -> None:
        """One update of every variable from its gradient (run inside or outside tf.function)."""
        tf = self.tf
        grads = [tf.convert_to_tensor(g) for g in grads]  # IndexedSlices -> dense, like torch
        if self.kind == "sgd":
            for var, buf, g in zip(self.variables, self.slots, grads):
                tf.raw_ops.ResourceApplyMomentum(var=var.handle, accum=buf.handle, lr=self.lr,
                                                 grad=g, momentum=self.momentum)
            return
        t = self.t.assign_add(1.0)
        b1_power, b2_power = tf.pow(self.b1, t), tf.pow(self.b2, t)
        eps_hat = self.eps * tf.sqrt(1.0 - b2_power)  # moves eps outside the bias correction
        for var, (m, v), g in zip(self.variables, self.slots, grads):
            if self.wd:
                var.assign(var * (1.0 - self.lr * self.wd))
            tf.raw_ops.ResourceApplyAdam(var=var.handle, m=m.handle, v=v.handle,
                                         beta1_power=b1_power, beta2_power=b2_power, lr=self.lr,
                                         beta1=self.b1, beta2=self.b2, epsilon=eps_hat, grad=g)


# ---------------------------------------------------------------- runner

class TensorFlowRunner:
    """Variables in TensorFlow layouts; ``step`` trains on a batch, ``predict`` returns logits."""

    def __init__(self, workload_id: str, mode: str, weights: dict) -> None:
        import tensorflow as tf

        self._tf = tf
        self._tokens = WORKLOADS[workload_id].is_sequence
        model = _MODELS[workload_id]
        self.variables = {k: tf.Variable(v, name=k.replace(".", "_"))
                          for k, v in to_tf_layout(workload_id, weights).items()}
        var_list = list(self.variables.values())
        spec = WORKLOADS[workload_id]
        self.optimizer = Optimizer(tf, spec.optimizer, spec.hyperparameters, var_list)

        def train_step(x, y):
            with tf.GradientTape() as tape:
                logits = model(tf, self.variables, x)
                logits = tf.reshape(logits, (-1, logits.shape[-1]))
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=tf.reshape(y, (-1,)), logits=logits))
            self.optimizer.apply(tape.gradient(loss, var_list))
            return loss

        def predict(x):
            return model(tf, self.variables, x)

        self._jit = mode == "function_jit"
        self._compiled: set = set()  # jitted functions that have compiled once
        if mode == "eager":
            self._step, self._predict = train_step, predict
        else:
            self._step = tf.function(train_step, jit_compile=self._jit)
            self._predict = tf.function(predict, jit_compile=self._jit)

    def _call(self, fn, *args):
        """``fn(*args)``; the first call of a jitted function turns an XLA error into
        ``ModeUnavailable`` (the mode can't run here), later errors propagate as they are."""
        if not self._jit or fn in self._compiled:
            return fn(*args)
        try:
            out = fn(*args)
        except self._tf.errors.OpError as error:
            raise ModeUnavailable(f"XLA compilation of the workload failed: "
                                  f"{type(error).__name__}: {error.message}") from error
        self._compiled.add(fn)
        return out

    def _input(self, x):
        return self._tf.constant(np.asarray(x, np.int32 if self._tokens else np.float32))

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step (forward, backward, update); returns the loss before the update."""
        return float(self._call(self._step, self._input(x),
                                self._tf.constant(np.asarray(y, np.int32))))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits as a NumPy array."""
        return self._call(self._predict, self._input(x)).numpy()


_XLA_ERROR: list = []  # the probe's result, cached: [] = not probed, [None] = works


def _check_xla(tf) -> None:
    """Raise ``ModeUnavailable`` if XLA can't compile a trivial function on this machine."""
    if _XLA_ERROR:
        if _XLA_ERROR[0] is not None:
            raise ModeUnavailable(_XLA_ERROR[0])
        return
    try:
        tf.function(lambda a: tf.reduce_sum(a * 2.0), jit_compile=True)(tf.ones((2, 2))).numpy()
    except Exception as error:  # noqa: BLE001 - any XLA failure means the mode can't run
        _XLA_ERROR.append(f"XLA (jit_compile=True) failed: {type(error).__name__}: {error}")
        raise ModeUnavailable(_XLA_ERROR[0]) from error
    _XLA_ERROR.append(None)


def build(workload_id: str, mode: str, weights: dict, seed: int) -> TensorFlowRunner:
    """A runner for ``workload_id`` in ``mode`` (see ``MODES``); ``seed`` is unused."""
    if mode not in MODES:
        raise ModeUnavailable(f"tensorflow has no mode {mode!r}; modes are {MODES}")
    ok, reason = available()
    if not ok:
        raise ModeUnavailable(reason)
    if workload_id not in _MODELS:
        raise KeyError(f"unknown workload {workload_id!r}; expected one of {sorted(_MODELS)}")
    if mode == "function_jit":
        import tensorflow as tf

        _check_xla(tf)
    return TensorFlowRunner(workload_id, mode, weights)
