"""Shared helpers for the autograd tests: paired ember/torch tensors and skip markers."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def pair(arr, requires_grad: bool = True):
    """The same values as an ember tensor and a torch tensor (separate memory)."""
    arr = np.asarray(arr)
    e = ember.tensor(arr.copy(), requires_grad=requires_grad)
    t = torch.tensor(arr.copy(), requires_grad=requires_grad)
    return e, t


def close(e, t, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Assert an ember tensor equals a torch tensor in values, shape and dtype."""
    got = e.detach().numpy()
    want = t.detach().numpy()
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, atol=atol, rtol=rtol)


def needs(*names: str):
    """Skip unless ember.Tensor has all these methods (ops written concurrently elsewhere)."""
    missing = [n for n in names if not hasattr(ember.Tensor, n)]
    return pytest.mark.skipif(bool(missing), reason=f"ember.Tensor lacks {missing} (not yet "
                                                    "implemented in src/ember/ops)")


needs_inplace = needs("add_", "mul_")


def rand(*shape, seed: int = 0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
