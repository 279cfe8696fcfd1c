"""nn.Flatten / nn.Unflatten against torch.nn."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("args", [(), (0,), (1, 2), (2, -1), (-3, -2)])
def test_flatten_matches_torch(args):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    xe = ember.tensor(x, requires_grad=True)
    me, mt = nn.Flatten(*args), torch.nn.Flatten(*args)
    ye, yt = me(xe), mt(torch.tensor(x))
    assert ye.shape == tuple(yt.shape) and repr(me) == repr(mt)
    np.testing.assert_array_equal(ye.detach().numpy(), yt.numpy())
    ye.sum().backward()
    assert xe.grad.shape == x.shape


@pytest.mark.parametrize("dim,sizes", [(1, (3, 4)), (-1, (2, -1)), (0, (1, 2))])
def test_unflatten_matches_torch(dim, sizes):
    x = np.arange(24.0).reshape(2, 12)
    me, mt = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    ye, yt = me(ember.tensor(x)), mt(torch.tensor(x))
    assert ye.shape == tuple(yt.shape) and repr(me) == repr(mt)
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())


def test_flatten_unflatten_bad_input():
    with pytest.raises(ember.ShapeError, match=r"start_dim=3 is out of range .*\[2, 3\]"):
        nn.Flatten(3)(ember.zeros(2, 3))
    with pytest.raises(ember.ShapeError, match=r"cannot unflatten dim 1 of size 12"):
        nn.Unflatten(1, (5, 2))(ember.zeros(2, 12))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, "ab")
