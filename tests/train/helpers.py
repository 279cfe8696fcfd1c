"""Small data sets and models shared by the ember.train tests."""

from __future__ import annotations

import numpy as np

import ember
from ember import nn


def blobs(n: int = 96, features: int = 4, classes: int = 3, seed: int = 0):
    """A linearly separable classification problem: (x float32 (n, f), y int64 (n,))."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(classes, features))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(size=(n, features))
    return x.astype(np.float32), y.astype(np.int64)


def mlp(features: int = 4, classes: int = 3, hidden: int = 8, seed: int = 0) -> nn.Sequential:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes))


def same_weights(a: nn.Module, b: nn.Module) -> None:
    """Copy a's weights into b."""
    b.load_state_dict({k: v.numpy().copy() for k, v in a.state_dict().items()})


class ModeRecorder(nn.Module):
    """Identity layer recording the training flag and grad mode of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.calls.append((self.training, ember.is_grad_enabled()))
        return x
