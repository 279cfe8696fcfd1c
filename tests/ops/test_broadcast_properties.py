"""Property tests of broadcasting in binary elementwise ops, against NumPy and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember.errors import shape_str

torch = pytest.importorskip("torch")

SHAPE = st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)
OPS = [("add", ember.add, torch.add), ("mul", ember.mul, torch.mul),
       ("maximum", ember.maximum, torch.maximum), ("atan2", ember.atan2, torch.atan2)]


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast: start from one, then drop leading dims / set sizes to 1."""
    out = draw(SHAPE)
    a = list(out)
    b = list(out[draw(st.integers(0, len(out))):])
    for s in (a, b):
        for i in range(len(s)):
            if draw(st.booleans()):
                s[i] = 1
    if draw(st.booleans()):
        a, b = b, a
    return tuple(a), tuple(b)


def _incompatible(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return True
    return False


@settings(max_examples=150, deadline=None)
@given(shapes=broadcastable_pair(), op=st.sampled_from(OPS))
def test_result_and_gradient_shapes(shapes, op):
    shape_a, shape_b = shapes
    _, e_fn, t_fn = op
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    ea = ember.tensor(a, requires_grad=True)
    eb = ember.tensor(b, requires_grad=True)
    out = e_fn(ea, eb)
    expected = np.broadcast_shapes(shape_a, shape_b)
    assert out.shape == expected == tuple(t_fn(torch.from_numpy(a), torch.from_numpy(b)).shape)
    assert ember.broadcast_shapes(shape_a, shape_b) == expected
    out.backward(ember.ones_like(out))
    assert ea.grad.shape == shape_a and eb.grad.shape == shape_b
    # each input element feeds prod(output)/prod(input) outputs: for add that is its gradient
    if op[0] == "add":
        n_out = int(np.prod(expected))
        np.testing.assert_allclose(ea.grad.numpy(), np.full(shape_a, n_out // max(a.size, 1)
                                                            if a.size else 0))


@settings(max_examples=150, deadline=None)
@given(a=SHAPE, b=SHAPE, op=st.sampled_from(OPS))
def test_incompatible_shapes_raise(a, b, op):
    name, e_fn, _ = op
    if not _incompatible(a, b):
        assert e_fn(ember.zeros(a), ember.zeros(b)).shape == np.broadcast_shapes(a, b)
        return
    with pytest.raises(ember.ShapeError) as info:
        e_fn(ember.zeros(a), ember.zeros(b))
    message = str(info.value)
    assert name in message
    assert shape_str(a) in message and shape_str(b) in message


@settings(max_examples=60, deadline=None)
@given(a=SHAPE, b=SHAPE)
def test_broadcast_shapes_matches_numpy(a, b):
    if _incompatible(a, b):
        with pytest.raises(ember.ShapeError, match="cannot be broadcast"):
            ember.broadcast_shapes(a, b)
    else:
        assert ember.broadcast_shapes(a, b) == np.broadcast_shapes(a, b)


@pytest.mark.parametrize("shapes", [(2, (3, 1)), ((), 4), ([2, 1], (1, 3), 3), ((0, 1), 5)])
def test_broadcast_shapes_takes_ints_and_lists_like_torch(shapes):
    # PyTorch reads a bare int as a 1-D shape
    assert ember.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))
