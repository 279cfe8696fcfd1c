"""The benchmark workloads W1-W5: shapes, optimizers, synthetic data and canonical weights.

Every framework module builds the same function from this file, so the losses agree:

- ``WORKLOADS[id]`` describes a workload (batch, per-example input shape, classes, optimizer).
- ``make_batch(id, seed, batch=None)`` returns ``(x, y)`` NumPy arrays: float32 images/features
  in PyTorch's NCHW layout or int64 token ids, and int64 labels.
- ``init_weights(id, seed)`` returns ``{name: float32 array}`` with PyTorch's parameter names and
  layouts of the reference models in ``benchmarks/frameworks/torch.py`` (``model.load_state_dict``
  takes it as is). Other frameworks convert layouts: Linear weights are ``(out, in)``
  (Keras/JAX kernels are the transpose), Conv2d weights are ``(out, in, kh, kw)`` (NHWC code uses
  ``(kh, kw, in, out)`` = ``transpose(2, 3, 1, 0)``), and the first Linear after the convolutions
  (``fc1.weight`` of W2/W3) reads the flattened NCHW activation in ``(C, H, W)`` order: an NHWC
  implementation must permute its input columns (``w.reshape(out, C, H, W).transpose(0, 2, 3, 1)``).

Choices the table in WORKLOADS.md leaves open, fixed here for every framework:

- All losses are mean cross-entropy; W4 and W5 average over every (sequence, position) pair.
- SGD: momentum 0.9, no dampening, no Nesterov, no weight decay (PyTorch's update
  ``buf = 0.9 * buf + g; p -= lr * buf``, buffer starts at the first gradient).
  Adam/AdamW: betas (0.9, 0.999), eps 1e-8, bias-corrected; AdamW weight_decay 0.01
  (PyTorch's default), decoupled: ``p -= lr * wd * p`` before the Adam step.
- W4: the LSTM uses PyTorch's gate order (input, forget, cell, output), both biases
  (``bias_ih`` and ``bias_hh``), a zero initial state, batch-first input. Inputs are
  ``seq[:, :64]`` and targets ``seq[:, 1:]`` of a synthetic 65-token sequence.
- W5: post-norm encoder layers (PyTorch's default ``norm_first=False``): ``x = norm1(x + attn(x));
  x = norm2(x + linear2(gelu(linear1(x))))``, exact (erf) GELU, LayerNorm eps 1e-5, attention
  scale ``1/sqrt(32)`` with the 4 heads split from ``in_proj`` as ``[q; k; v]`` rows, no mask.
  **Dropout is off (p = 0)** so every framework computes the same deterministic function.
  A learned positional embedding ``pos_embedding`` (64 x 128) is added to the token embedding.
  Targets are a fixed random permutation of the input tokens (learnable, same data each seed).
- Initialisation, all from one ``np.random.Generator(seed)`` in the order of ``param_specs``:
  Linear/Conv weights and biases U(+-1/sqrt(fan_in)) (PyTorch's defaults), LSTM tensors
  U(+-1/sqrt(hidden)), embeddings N(0, 1), LayerNorm ones/zeros, and PyTorch's
  MultiheadAttention init: xavier-uniform ``in_proj_weight`` (bound sqrt(6 / (128 + 384))),
  zero ``in_proj_bias`` and zero ``out_proj.bias``; ``out_proj.weight`` is U(+-1/sqrt(128)).

Example::

    x, y = make_batch("W2", seed=0)          # x (64, 1, 28, 28) float32, y (64,) int64
    weights = init_weights("W2", seed=0)     # {"conv1.weight": (32, 1, 3, 3), ...}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Workload", "ParamSpec", "WORKLOADS", "param_specs", "make_batch", "init_weights"]


@dataclass(frozen=True)
class ParamSpec:
    """One canonical parameter: PyTorch name, PyTorch shape, and how it is initialised.

    ``init`` is one of ``"uniform"`` (U(+-bound)), ``"normal"`` (N(0, 1)), ``"ones"``,
    ``"zeros"``; ``bound`` is used by ``"uniform"`` only.
    """

    name: str
    shape: tuple[int, ...]
    init: str
    bound: float = 0.0


@dataclass(frozen=True)
class Workload:
    """One row of WORKLOADS.md.

    ``input_shape`` is per example (PyTorch layout); ``seq_len`` is set for token workloads, whose
    inputs are int64 ids in ``[0, vocab)`` and whose labels have shape ``(batch, seq_len)``.
    ``optimizer`` is ``"sgd"``, ``"adam"`` or ``"adamw"`` with keyword ``hyperparameters``
    spelled as PyTorch's optimizer arguments.
    """

    id: str
    name: str
    batch: int
    input_shape: tuple[int, ...]
    num_classes: int
    optimizer: str
    hyperparameters: dict = field(default_factory=dict)
    vocab: int | None = None
    seq_len: int | None = None

    @property
    def is_sequence(self) -> bool:
        """True for W4/W5, whose loss averages over every position."""
        return self.seq_len is not None


_SGD = {"lr": 0.01, "momentum": 0.9}
WORKLOADS: dict[str, Workload] = {
    "W1": Workload("W1", "MLP 784-512-512-10", 128, (784,), 10, "sgd", dict(_SGD)),
    "W2": Workload("W2", "MNIST CNN", 64, (1, 28, 28), 10, "sgd", dict(_SGD)),
    "W3": Workload("W3", "CIFAR CNN", 32, (3, 32, 32), 10, "sgd", dict(_SGD)),
    "W4": Workload("W4", "LSTM language model", 32, (64,), 256, "adam",
                   {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}, vocab=256, seq_len=64),
    "W5": Workload("W5", "Transformer encoder", 16, (64,), 1000, "adamw",
                   {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
                   vocab=1000, seq_len=64),
}


def _linear(name: str, fan_in: int, fan_out: int) -> list[ParamSpec]:
    bound = 1.0 / math.sqrt(fan_in)
    return [ParamSpec(f"{name}.weight", (fan_out, fan_in), "uniform", bound),
            ParamSpec(f"{name}.bias", (fan_out,), "uniform", bound)]


def _conv(name: str, cin: int, cout: int) -> list[ParamSpec]:
    bound = 1.0 / math.sqrt(cin * 9)
    return [ParamSpec(f"{name}.weight", (cout, cin, 3, 3), "uniform", bound),
            ParamSpec(f"{name}.bias", (cout,), "uniform", bound)]


def _encoder_layer(prefix: str, d: int, ffn: int) -> list[ParamSpec]:
    return [
        ParamSpec(f"{prefix}.self_attn.in_proj_weight", (3 * d, d), "uniform",
                  math.sqrt(6.0 / (d + 3 * d))),
        ParamSpec(f"{prefix}.self_attn.in_proj_bias", (3 * d,), "zeros"),
        ParamSpec(f"{prefix}.self_attn.out_proj.weight", (d, d), "uniform", 1.0 / math.sqrt(d)),
        ParamSpec(f"{prefix}.self_attn.out_proj.bias", (d,), "zeros"),
        *_linear(f"{prefix}.linear1", d, ffn),
        *_linear(f"{prefix}.linear2", ffn, d),
        ParamSpec(f"{prefix}.norm1.weight", (d,), "ones"),
        ParamSpec(f"{prefix}.norm1.bias", (d,), "zeros"),
        ParamSpec(f"{prefix}.norm2.weight", (d,), "ones"),
        ParamSpec(f"{prefix}.norm2.bias", (d,), "zeros"),
    ]


def _lstm(hidden: int, emb: int) -> list[ParamSpec]:
    bound = 1.0 / math.sqrt(hidden)
    return [ParamSpec("lstm.weight_ih_l0", (4 * hidden, emb), "uniform", bound),
            ParamSpec("lstm.weight_hh_l0", (4 * hidden, hidden), "uniform", bound),
            ParamSpec("lstm.bias_ih_l0", (4 * hidden,), "uniform", bound),
            ParamSpec("lstm.bias_hh_l0", (4 * hidden,), "uniform", bound)]


_PARAMS: dict[str, list[ParamSpec]] = {
    # W1: fc1 -> ReLU -> fc2 -> ReLU -> fc3
    "W1": [*_linear("fc1", 784, 512), *_linear("fc2", 512, 512), *_linear("fc3", 512, 10)],
    # W2: conv1 -> ReLU -> pool -> conv2 -> ReLU -> pool -> flatten(C,H,W) -> fc1 -> ReLU -> fc2
    "W2": [*_conv("conv1", 1, 32), *_conv("conv2", 32, 64),
           *_linear("fc1", 64 * 7 * 7, 128), *_linear("fc2", 128, 10)],
    # W3: conv1, conv2, pool, conv3, conv4, pool (each conv + ReLU), flatten(C,H,W), fc1, ReLU, fc2
    "W3": [*_conv("conv1", 3, 64), *_conv("conv2", 64, 64), *_conv("conv3", 64, 128),
           *_conv("conv4", 128, 128), *_linear("fc1", 128 * 8 * 8, 256), *_linear("fc2", 256, 10)],
    # W4: embedding -> lstm -> head (every position)
    "W4": [ParamSpec("embedding.weight", (256, 128), "normal"), *_lstm(256, 128),
           *_linear("head", 256, 256)],
    # W5: embedding + pos_embedding -> layers.0 -> layers.1 -> head (every position)
    "W5": [ParamSpec("pos_embedding", (64, 128), "normal"),  # torch lists own params first
           ParamSpec("embedding.weight", (1000, 128), "normal"),
           *_encoder_layer("layers.0", 128, 512), *_encoder_layer("layers.1", 128, 512),
           *_linear("head", 128, 1000)],
}


def _workload(workload_id: str) -> Workload:
    try:
        return WORKLOADS[workload_id]
    except KeyError:
        raise KeyError(f"unknown workload {workload_id!r}; expected one of {sorted(WORKLOADS)}") \
            from None


def param_specs(workload_id: str) -> list[ParamSpec]:
    """The canonical parameters of a workload, in initialisation (and state_dict) order."""
    _workload(workload_id)
    return list(_PARAMS[workload_id])


def make_batch(workload_id: str, seed: int,
               batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic ``(x, y)`` for one step, the same arrays for every framework given ``seed``.

    ``batch`` overrides the workload's batch size (tests use a smaller one for W3-W5).
    Images are N(0, 1) float32 in NCHW; labels are uniform int64 classes. W4: ``x`` and ``y``
    are a random 65-token sequence shifted by one. W5: ``y = perm[x]`` for a permutation fixed
    by the workload (not the seed), so the task is learnable.
    """
    spec = _workload(workload_id)
    n = spec.batch if batch is None else int(batch)
    if n < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    rng = np.random.default_rng(seed)
    if workload_id == "W4":
        seq = rng.integers(0, spec.vocab, size=(n, spec.seq_len + 1), dtype=np.int64)
        return np.ascontiguousarray(seq[:, :-1]), np.ascontiguousarray(seq[:, 1:])
    if workload_id == "W5":
        x = rng.integers(0, spec.vocab, size=(n, spec.seq_len), dtype=np.int64)
        perm = np.random.default_rng(12345).permutation(spec.num_classes).astype(np.int64)
        return x, perm[x % spec.num_classes]
    x = rng.standard_normal((n, *spec.input_shape), dtype=np.float32)
    y = rng.integers(0, spec.num_classes, size=(n,), dtype=np.int64)
    return x, y


def init_weights(workload_id: str, seed: int) -> dict[str, np.ndarray]:
    """One canonical set of float32 initial weights: ``{pytorch_name: array}`` (see module doc)."""
    rng = np.random.default_rng(seed)
    weights = {}
    for p in param_specs(workload_id):
        if p.init == "uniform":
            value = rng.uniform(-p.bound, p.bound, size=p.shape)
        elif p.init == "normal":
            value = rng.standard_normal(p.shape)
        elif p.init == "ones":
            value = np.ones(p.shape)
        elif p.init == "zeros":
            value = np.zeros(p.shape)
        else:  # pragma: no cover - the table above only uses the four kinds
            raise ValueError(f"unknown init {p.init!r} for {p.name}")
        weights[p.name] = np.ascontiguousarray(value, dtype=np.float32)
    return weights
