"""Indexing: bad input (error class and message), view semantics, and the cases the op-info
table cannot express."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def x34():
    return ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))


# ------------------------------------------------------------------------ getitem errors


@pytest.mark.parametrize("index, error, message", [
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    ((slice(None), slice(0, 4, 0)), ValueError, "step must be greater than zero"),
    (5, ember.IndexingError, "index 5 is out of bounds for dimension 0 with size 3"),
    (-4, ember.IndexingError, "index -4 is out of bounds for dimension 0 with size 3"),
    ((0, 7), ember.IndexingError, "index 7 is out of bounds for dimension 1 with size 4"),
    ((Ellipsis, 4), ember.IndexingError, "index 4 is out of bounds for dimension 1 with size 4"),
    ((None, 0, -5), ember.IndexingError, "index -5 is out of bounds for dimension 1 with size 4"),
    ([0, 3], ember.IndexingError, "index 3 is out of bounds for dimension 0 with size 3"),
    ((0, 0, 0), ember.IndexingError, "too many indices for tensor of dimension 2"),
    ((Ellipsis, 0, Ellipsis), ember.IndexingError, "single ellipsis"),
    (1.5, ember.IndexingError, "got the float 1.5"),
    ("a", ember.IndexingError, "got str"),
    ([0.5, 1.0], ember.IndexingError, "must be long, int, byte or bool tensors"),
])
def test_getitem_bad_index(index, error, message):
    with pytest.raises(error, match=message):
        x34()[index]


def test_getitem_bad_tensor_indices():
    x = x34()
    with pytest.raises(ember.IndexingError, match="must be long, int, byte or bool tensors"):
        x[ember.tensor([0.0, 1.0])]
    with pytest.raises(ember.IndexingError, match="index 9 is out of bounds for dimension 1"):
        x[:, ember.tensor([[0], [9]])]
    with pytest.raises(ember.IndexingError,
                       match=r"The shape of the mask \[3, 3\] at index 1 does not match the shape "
                             r"of the indexed tensor \[3, 4\] at index 1"):
        x[ember.ones(3, 3, dtype=ember.bool_)]


def test_errors_are_index_errors_for_python_code():
    with pytest.raises(IndexError):
        x34()[3]


# ------------------------------------------------------------------------ getitem semantics


@pytest.mark.parametrize("make_index", [
    lambda lib: lib.tensor(1), lambda lib: np.int64(2), lambda lib: True,
    lambda lib: (False, 0), lambda lib: (slice(lib.tensor(1), None), lib.tensor([0, 3])),
    lambda lib: (lib.tensor([[0, 2]]), lib.tensor([[1], [3]])),
    lambda lib: lib.tensor([True, False, True]), lambda lib: np.array([2, 0]),
    lambda lib: (None, lib.tensor([1, 1]), None),
], ids=["0-d-tensor", "numpy-int", "true", "false-int", "tensor-slice-bound",
        "broadcast-pair", "bool-tensor", "numpy-array", "none-around-advanced"])
def test_getitem_matches_torch(make_index):
    e = x34()
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    out, ref = e[make_index(ember)], t[make_index(torch)]
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_basic_index_is_a_view_and_advanced_index_a_copy():
    x = x34()
    row, col, picked = x[1], x[:, 2], x[[1, 2]]
    x.mul_(10)
    assert row.tolist() == [40.0, 50.0, 60.0, 70.0]
    assert col.tolist() == [20.0, 60.0, 100.0]
    assert picked.tolist()[0] == [4.0, 5.0, 6.0, 7.0]  # a copy: unchanged
    scalar = x[2, 3]
    scalar.add_(1)  # a 0-d view, not a detached number
    assert x[2, 3].item() == 111.0
    assert row._base is x and x[1:][0]._base is x and picked._base is None


def test_repeated_indices_accumulate_gradient_like_torch():
    e = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    idx = [0, 2, 0, 0]
    (e[idx] * ember.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    (t[idx] * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_index_backward_is_differentiable_twice():
    x = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad((x[[0, 0, 2]] ** 3).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [2 * 6 * 1.0, 0.0, 6 * 3.0])


# ------------------------------------------------------------------------ setitem


def test_setitem_errors():
    x = x34()
    with pytest.raises(ember.ShapeError, match=r"value tensor of shape \[3\] cannot be broadcast "
                                               r"to indexing result of shape \[4\]"):
        x[0] = ember.ones(3)
    with pytest.raises(ember.DTypeError, match="value must be a Tensor or a number"):
        x[0] = "zero"
    with pytest.raises(ember.IndexingError, match="out of bounds"):
        x[3] = 1.0
    assert x._version_count == 0


def test_setitem_converts_like_copy():
    x = ember.zeros(3, dtype=ember.int64)
    x[0] = 2.7
    x[1:] = ember.tensor([-1.9, 5.2])
    t = torch.zeros(3, dtype=torch.int64)
    t[0] = 2.7
    t[1:] = torch.tensor([-1.9, 5.2])
    assert x.tolist() == t.tolist() and x.dtype is ember.int64


def test_index_put_accumulate_matches_torch():
    idx = ([0, 0, 2],)
    e = ember.index_put(ember.zeros(3), tuple(ember.tensor(i) for i in idx), ember.ones(3),
                        accumulate=True)
    t = torch.index_put(torch.zeros(3), tuple(torch.tensor(i) for i in idx), torch.ones(3),
                        accumulate=True)
    assert e.tolist() == t.tolist()


# ------------------------------------------------------------------------ gather / scatter


def test_gather_errors():
    x = x34()
    with pytest.raises(ember.DTypeError, match="Expected dtype int32/int64 for index"):
        ember.gather(x, 1, ember.tensor([[0.0]]))
    with pytest.raises(ember.IndexingError,
                       match=r"gather\(\): index 4 is out of bounds for dimension 1 with size 4"):
        x.gather(1, ember.tensor([[4]]))
    with pytest.raises(ember.IndexingError, match="index -1 is out of bounds"):
        x.gather(0, ember.tensor([[-1]]))
    with pytest.raises(ember.ShapeError, match="same number of dimensions"):
        x.gather(1, ember.tensor([0]))
    with pytest.raises(ember.ShapeError, match="Size does not match at dimension 0"):
        x.gather(1, ember.zeros(4, 1, dtype=ember.int64))
    with pytest.raises(ember.IndexingError, match="dim 2 is out of range"):
        x.gather(2, ember.zeros(1, 1, dtype=ember.int64))
    with pytest.raises(ember.DTypeError, match="index must be a Tensor"):
        x.gather(0, [[0]])


def test_scatter_errors():
    x, idx = x34(), ember.tensor([[0, 1]])
    with pytest.raises(TypeError, match="expected a src tensor or a value"):
        x.scatter(1, idx)
    with pytest.raises(ValueError, match="reduce must be 'add' or 'multiply'"):
        x.scatter(1, idx, ember.ones(1, 2), reduce="max")
    with pytest.raises(ember.DTypeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(1, idx, ember.ones(1, 2, dtype=ember.float64))
    with pytest.raises(ember.ShapeError, match="smaller than src"):
        x.scatter(1, idx, ember.ones(1, 1))
    with pytest.raises(TypeError, match="src must be a Tensor"):
        x.scatter_add(1, idx, 1.0)
    with pytest.raises(ember.IndexingError, match="out of bounds"):
        x.scatter_add_(0, ember.tensor([[3, 0]]), ember.ones(1, 2))
    assert x._version_count == 0


def test_scatter_reduce_is_not_differentiable():
    x = ember.ones(2, 3, requires_grad=True)
    y = ember.scatter(x, 1, ember.tensor([[0], [1]]), ember.ones(2, 1) * 2, reduce="multiply")
    with pytest.raises(ember.AutogradError, match="reduce='multiply' is not implemented"):
        y.sum().backward()


def test_scatter_src_larger_than_index_gradient():
    # PyTorch's own backward fails on this case, so it is checked against finite differences
    idx = ember.tensor([[0, 2], [1, 0]])
    src = ember.tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    base = ember.zeros(2, 3, dtype=ember.float64, requires_grad=True)
    for fn in (lambda b, s: ember.scatter(b, 1, idx, s),
               lambda b, s: ember.scatter_add(b, 1, idx, s)):
        assert ember.autograd.gradcheck(fn, (base, src))
        assert ember.autograd.gradgradcheck(fn, (base, src))


def test_index_select_take_along_dim_errors():
    x = x34()
    with pytest.raises(ember.IndexingError, match="Index is supposed to be a vector"):
        x.index_select(0, ember.tensor([[0]]))
    with pytest.raises(ember.DTypeError, match="int32/int64"):
        x.index_select(0, ember.tensor([0.0]))
    with pytest.raises(ember.IndexingError, match="index 3 is out of bounds for dimension 0"):
        x.index_select(0, ember.tensor([3]))
    with pytest.raises(ember.ShapeError, match="same number of dimensions"):
        ember.take_along_dim(x, ember.tensor([0]), 1)
    with pytest.raises(ember.IndexingError, match="index 12 is out of bounds"):
        ember.take_along_dim(x, ember.tensor([12]))


# ------------------------------------------------------------------------ masks


def test_mask_errors():
    x = x34()
    with pytest.raises(ember.DTypeError, match="only supports boolean masks, but got mask with "
                                               "dtype int64"):
        x.masked_fill(ember.tensor([1, 0, 1, 0]), 0.0)
    with pytest.raises(ember.ShapeError, match="0-dimensional value tensor"):
        x.masked_fill(ember.tensor([True, False, True, False]), ember.ones(4))
    with pytest.raises(ember.ShapeError, match="broadcast"):
        x.masked_fill(ember.ones(2, 3, 4, dtype=ember.bool_), 0.0)
    with pytest.raises(ember.ShapeError, match="broadcast"):
        x.masked_fill_(ember.ones(2, 3, 4, dtype=ember.bool_), 0.0)
    with pytest.raises(ember.DTypeError, match="boolean masks"):
        x.masked_select(ember.ones(3, 4))
    with pytest.raises(ember.DTypeError, match="value must be a number"):
        x.masked_fill(ember.ones(4, dtype=ember.bool_), "one")


def test_where_with_one_argument_and_nonzero_match_torch():
    data = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]], np.float32)
    e, t = ember.tensor(data), torch.tensor(data)
    for got, want in zip(ember.where(e > 0), torch.where(t > 0)):
        assert got.tolist() == want.tolist() and got.dtype is ember.int64
    assert ember.nonzero(e).tolist() == torch.nonzero(t).tolist()
    assert e.nonzero().shape == (3, 2)
    assert [i.tolist() for i in e.nonzero(as_tuple=True)] == \
        [i.tolist() for i in t.nonzero(as_tuple=True)]


def test_take_and_index_add_errors():
    x = x34()
    with pytest.raises(ember.IndexingError, match="tried to access index 12 on a tensor of 12"):
        ember.take(x, ember.tensor([12]))
    with pytest.raises(ember.IndexingError, match="index -13"):
        ember.take(x, ember.tensor([-13]))
    with pytest.raises(ember.ShapeError, match=r"source \[3, 3\] should have the shape"):
        x.index_add(1, ember.tensor([0, 1]), ember.ones(3, 3))
    with pytest.raises(ember.DTypeError, match="must have the same dtype"):
        x.index_add(0, ember.tensor([0]), ember.ones(1, 4, dtype=ember.float64))
    with pytest.raises(ember.IndexingError, match="index 3 is out of bounds for dimension 0"):
        x.index_add_(0, ember.tensor([3]), ember.ones(1, 4))
    with pytest.raises(ember.IndexingError, match="supposed to be a vector"):
        x.index_add(0, ember.tensor([[0]]), ember.ones(1, 4))
    assert x._version_count == 0
