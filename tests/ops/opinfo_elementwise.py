"""Op-info entries for ember/ops/elementwise.py."""

from __future__ import annotations

import numpy as np

import ember

from .op_info import OpInfo, Sample, positive, rand

try:
    import torch
except ImportError:
    torch = None


def binary_samples(make=rand):
    def samples(rng):
        return [
            Sample((make(rng, 3, 4), make(rng, 3, 4)), name="same"),
            Sample((make(rng, 2, 3, 4), make(rng, 4)), name="broadcast-right"),
            Sample((make(rng, 3, 1), make(rng, 1, 4)), name="broadcast-both"),
            Sample((make(rng), make(rng, 2, 3)), name="0-d"),
            Sample((make(rng, 0, 3), make(rng, 3)), name="empty"),
        ]
    return samples


def unary_samples(make=rand):
    def samples(rng):
        return [Sample((make(rng, 3, 4),)), Sample((make(rng),), name="0-d"),
                Sample((make(rng, 0, 2),), name="empty")]
    return samples


OPS = [
    OpInfo("add", ember.add, binary_samples(), torch_fn=lambda a, b: torch.add(a, b), gradgrad=True),
    OpInfo("mul", ember.mul, binary_samples(), torch_fn=lambda a, b: a * b, gradgrad=True),
    OpInfo("div", ember.div, binary_samples(positive), torch_fn=lambda a, b: a / b, gradgrad=True),
    OpInfo("exp", ember.exp, unary_samples(), torch_fn=torch and torch.exp, np_fn=np.exp,
           gradgrad=True),
    OpInfo("tanh", ember.tanh, unary_samples(), torch_fn=torch and torch.tanh, gradgrad=True),
]
