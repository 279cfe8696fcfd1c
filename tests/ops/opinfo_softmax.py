"""Op-info entries for ember/ops/nn.py (softmax, log_softmax)."""

from __future__ import annotations

import numpy as np

import ember

from .op_info import OpInfo, Sample, rand

try:
    import torch
except ImportError:
    torch = None

INF = np.float32(np.inf)


def softmax_samples(rng):
    return [
        Sample((rand(rng, 3, 4),), {"dim": 1}, name="2-d, last dim"),
        Sample((rand(rng, 3, 4),), {"dim": 0}, name="2-d, first dim"),
        Sample((rand(rng, 2, 3, 4),), {"dim": -2}, name="negative dim"),
        Sample((rand(rng, 2, 3, 4),), {"dim": 2}),
        Sample((rand(rng, 5),), {"dim": 0}, name="1-d"),
        Sample((rand(rng),), {"dim": 0}, name="0-d, dim 0"),
        Sample((rand(rng),), {"dim": -1}, name="0-d, dim -1"),
        Sample((rand(rng, 0, 3),), {"dim": 1}, name="empty batch"),
        Sample((rand(rng, 3, 0),), {"dim": 1}, name="empty softmax dim"),
        Sample((rand(rng, 3, 1),), {"dim": 1}, name="size-1 dim"),
        Sample((rand(rng, 2, 3),), {"dim": 1, "dtype": None}, name="dtype=None explicitly"),
        Sample((np.array([1000.0, 0.0, -1000.0], dtype=np.float32),), {"dim": 0},
               name="large magnitudes"),
        Sample((np.array([[-1e4, 3e4, 2e4], [5.0, 5.0, 5.0]], dtype=np.float32),), {"dim": 1},
               name="large and tied"),
        Sample((np.array([[1.0, -INF, 2.0], [-INF, -INF, -INF], [0.5, 0.25, -INF]],
                         dtype=np.float32),), {"dim": 1}, diff=(),
               name="-inf masks; all -inf row gives nan"),
    ]


def dtype_samples(rng):
    """``dtype=`` casts first, so the result (and the gradient) has that dtype."""
    return [Sample((rand(rng, 3, 4),), {"dim": 1}, name="float32 -> float64"),
            Sample((rand(rng, 2, 3),), {"dim": 0}, name="float32 -> float64, dim 0")]


def half_samples(rng):
    return [Sample((rand(rng, 3, 4, dtype=np.float16),), {"dim": 1}, diff=())]


T = torch
OPS = [
    OpInfo("softmax", ember.softmax, softmax_samples,
           torch_fn=T and (lambda x, dim, dtype=None: torch.softmax(x, dim, dtype=dtype)),
           gradgrad=True),
    OpInfo("log_softmax", ember.log_softmax, softmax_samples,
           torch_fn=T and (lambda x, dim, dtype=None: torch.log_softmax(x, dim, dtype=dtype)),
           gradgrad=True, atol=1e-4),
    OpInfo("Tensor.softmax", lambda x, **kw: x.softmax(**kw), softmax_samples,
           torch_fn=lambda x, **kw: x.softmax(**kw), gradgrad=True),
    OpInfo("Tensor.log_softmax", lambda x, **kw: x.log_softmax(**kw), softmax_samples,
           torch_fn=lambda x, **kw: x.log_softmax(**kw), gradgrad=True, atol=1e-4),
    OpInfo("softmax dtype=float64", lambda x, dim: ember.softmax(x, dim, dtype=ember.float64),
           dtype_samples, torch_fn=lambda x, dim: torch.softmax(x, dim, dtype=torch.float64),
           gradgrad=True),
    OpInfo("log_softmax dtype=float64",
           lambda x, dim: ember.log_softmax(x, dim, dtype=ember.float64), dtype_samples,
           torch_fn=lambda x, dim: torch.log_softmax(x, dim, dtype=torch.float64),
           gradgrad=True),
    OpInfo("softmax float16", ember.softmax, half_samples, torch_fn=T and T.softmax,
           atol=1e-3, rtol=1e-3),
    OpInfo("log_softmax float16", ember.log_softmax, half_samples,
           torch_fn=T and T.log_softmax, atol=2e-3, rtol=1e-3),
]
