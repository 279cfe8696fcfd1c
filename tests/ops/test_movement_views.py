"""Which movement ops return views: memory, ``_base`` and the version counter, against PyTorch.

For every op below the expectation comes from PyTorch itself: when ``torch_out._base`` is the
input, ember's output must share the input's memory, ``_base`` and version counter; when
PyTorch copies, ember must copy too (so an in-place change of the result cannot leak back).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.errors import AutogradError, ShapeError

torch = pytest.importorskip("torch")
F = torch.nn.functional

# (name, function applied alike to an ember and a torch tensor, input maker)
CASES = [
    ("view", lambda x: x.view(6, 4), "contiguous"),
    ("view-infer", lambda x: x.view(-1), "contiguous"),
    ("reshape-contiguous", lambda x: x.reshape(4, 6), "contiguous"),
    ("reshape-transposed", lambda x: x.reshape(24), "transposed"),
    ("reshape-split-dim-transposed", lambda x: x.reshape(2, 2, 3, 2), "transposed"),
    ("flatten-contiguous", lambda x: x.flatten(), "contiguous"),
    ("flatten-transposed", lambda x: x.flatten(), "transposed"),
    ("flatten-partial-transposed", lambda x: x.flatten(0, 1), "transposed"),
    ("ravel-contiguous", lambda x: x.ravel(), "contiguous"),
    ("ravel-transposed", lambda x: x.ravel(), "transposed"),
    ("unflatten", lambda x: x.unflatten(2, (2, 2)), "contiguous"),
    ("permute", lambda x: x.permute(2, 0, 1), "contiguous"),
    ("transpose", lambda x: x.transpose(0, 2), "transposed"),
    ("swapaxes", lambda x: x.swapaxes(0, 1), "contiguous"),
    ("t", lambda x: x.select(0, 0).t(), "contiguous"),
    ("mT", lambda x: x.mT, "contiguous"),
    ("movedim", lambda x: x.movedim(0, -1), "contiguous"),
    ("squeeze", lambda x: x.unsqueeze(1).squeeze(), "contiguous"),
    ("unsqueeze", lambda x: x.unsqueeze(-1), "transposed"),
    ("narrow", lambda x: x.narrow(1, 1, 2), "contiguous"),
    ("select", lambda x: x.select(2, -1), "contiguous"),
    ("diagonal", lambda x: x.diagonal(0, 1, 2), "contiguous"),
    ("split-piece", lambda x: x.split(1, 1)[2], "contiguous"),
    ("chunk-piece", lambda x: x.chunk(2, 0)[1], "contiguous"),
    ("unbind-piece", lambda x: x.unbind(2)[3], "contiguous"),
    ("tensor_split-piece", lambda x: x.tensor_split(2, 2)[0], "contiguous"),
    ("expand", lambda x: x.unsqueeze(0).expand(2, 2, 3, 4), "contiguous"),
    ("contiguous-of-transposed", lambda x: x.contiguous(), "transposed"),
    ("clone", lambda x: x.clone(), "contiguous"),
    ("flip", lambda x: x.flip(0), "contiguous"),
    ("roll", lambda x: x.roll(1, 0), "contiguous"),
    ("repeat", lambda x: x.repeat(1, 1, 1), "contiguous"),
    ("tile", lambda x: x.tile((1,)), "contiguous"),
    ("tril", lambda x: x.tril(), "contiguous"),
    ("cat-single", lambda x: (ember if isinstance(x, ember.Tensor) else torch).cat([x]),
     "contiguous"),
    ("stack", lambda x: (ember if isinstance(x, ember.Tensor) else torch).stack([x]),
     "contiguous"),
    ("pad", lambda x: (ember.pad if isinstance(x, ember.Tensor) else F.pad)(x, (1, 1)),
     "contiguous"),
    ("diag", lambda x: x.select(0, 0).diag(), "contiguous"),
]


def _inputs(kind):
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    e, t = ember.tensor(data), torch.tensor(data)
    if kind == "transposed":
        e, t = e.transpose(0, 2), t.transpose(0, 2)
        # the input is itself a view; compare against its root, as PyTorch's _base does
    return e, t


def _root(x):
    return x._base if x._base is not None else x


@pytest.mark.parametrize("name, fn, kind", CASES,
                         ids=[c.values[0] if hasattr(c, "values") else c[0] for c in CASES])
def test_view_semantics_match_torch(name, fn, kind):
    e_in, t_in = _inputs(kind)
    e_out, t_out = fn(e_in), fn(t_in)
    torch_is_view = t_out._base is not None and t_out.untyped_storage().data_ptr() == \
        t_in.untyped_storage().data_ptr()
    shares = np.shares_memory(e_out.numpy(), e_in.numpy())
    assert shares == torch_is_view, f"ember shares memory: {shares}, torch view: {torch_is_view}"
    if torch_is_view:
        assert e_out._base is _root(e_in)
        assert e_out._version is e_in._version_box()
    else:
        assert e_out._base is None
        assert e_in._version is None or e_out._version is not e_in._version


def test_view_of_view_has_root_base_and_one_counter():
    x = ember.arange(24.0)
    v = x.view(2, 3, 4).transpose(0, 1).narrow(0, 1, 2).unsqueeze(0)
    assert v._base is x
    x._version_box()[0] += 1  # what an in-place op on x does
    assert v._version_count == 1


def test_view_on_noncontiguous_raises_and_reshape_copies():
    x = ember.arange(12.0).reshape(3, 4).t()
    with pytest.raises(ShapeError, match=r"view: .*shape \[4, 3\].*strides \[1, 4\].*\[12\]"
                                         r".*reshape"):
        x.view(12)
    with pytest.raises(RuntimeError):  # PyTorch refuses the same layout
        torch.arange(12.0).reshape(3, 4).t().view(12)
    y = x.reshape(12)
    assert not np.shares_memory(y.numpy(), x.numpy())
    np.testing.assert_array_equal(y.numpy(), torch.arange(12.0).reshape(3, 4).t().reshape(12))


def test_view_that_layout_allows_on_noncontiguous_input():
    # a transposed tensor can still be viewed when the merged dims are adjacent in memory
    x = ember.arange(24.0).reshape(2, 3, 4).permute(1, 2, 0)
    t = torch.arange(24.0).reshape(2, 3, 4).permute(1, 2, 0)
    np.testing.assert_array_equal(x.view(12, 2).numpy(), t.view(12, 2).numpy())


def test_writes_through_views_reach_the_base():
    x = ember.zeros(3, 3)
    x.diagonal().numpy()[...] = 1.0  # diagonal views are writable, as in PyTorch
    x.narrow(0, 2, 1).numpy()[...] += 5.0
    x.unbind(1)[0].numpy()[...] += 2.0
    t = torch.zeros(3, 3)
    t.diagonal()[...] = 1.0
    t.narrow(0, 2, 1)[...] += 5.0
    t.unbind(1)[0][...] += 2.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_modified_view_invalidates_saved_base():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    y = x * 1.0
    z = y * y  # saves y
    v = y.view(12)
    v._version_box()[0] += 1  # an in-place op on the view bumps the shared counter
    with pytest.raises(AutogradError, match="modified by an inplace operation"):
        z.backward(ember.ones(3, 4, dtype=ember.float64))


def test_copy_results_are_independent():
    x = ember.arange(6.0).reshape(2, 3)
    for out in (x.flip(0), x.roll(1), x.repeat(1, 1), x.clone(), x.tril(), ember.pad(x, (0, 0))):
        assert out._base is None and not np.shares_memory(out.numpy(), x.numpy())


def test_contiguous_returns_self_only_when_contiguous():
    x = ember.arange(6.0).reshape(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y is not x and y.is_contiguous()
    np.testing.assert_array_equal(y.numpy(), torch.arange(6.0).reshape(2, 3).t().contiguous())


def test_clone_preserves_layout_like_torch():
    e = ember.arange(6.0).reshape(2, 3).t().clone()
    t = torch.arange(6.0).reshape(2, 3).t().clone()
    assert e.stride() == t.stride()


def test_view_dtype_reinterprets_bytes():
    data = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)
    e = ember.tensor(data).view(ember.int32)
    t = torch.tensor(data).view(torch.int32)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert np.shares_memory(e.numpy(), data) is False  # ember.tensor copied the data...
    base = ember.tensor(data)
    assert np.shares_memory(base.view(ember.int32).numpy(), base.numpy())  # ...the view does not


def test_iteration_yields_views():
    x = ember.arange(6.0).reshape(3, 2)
    rows = list(x)
    assert len(rows) == 3 and all(r._base is x._base for r in rows)
    np.testing.assert_array_equal(rows[1].numpy(), [2.0, 3.0])
