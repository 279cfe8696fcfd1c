"""Bad input to the reductions: each error's class and message (naming the op and argument),
plus the behaviours the op table cannot express (tie-breaking, subgradients, return types)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.ops.registry import REGISTRY, TensorSpec

X = ember.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
EMPTY = ember.zeros(0, 3)


# ------------------------------------------------------------------------ dim

@pytest.mark.parametrize("fn, name", [
    (lambda d: ember.sum(X, d), "sum"), (lambda d: ember.mean(X, d), "mean"),
    (lambda d: X.amax(d), "amax"), (lambda d: ember.var(X, d), "var"),
    (lambda d: ember.logsumexp(X, d), "logsumexp"), (lambda d: ember.norm(X, 2, d), "norm"),
    (lambda d: ember.prod(X, d), "prod"), (lambda d: ember.argmax(X, d), "argmax"),
    (lambda d: ember.max(X, d), "max"), (lambda d: ember.cumsum(X, d), "cumsum"),
    (lambda d: X.cumprod(d), "cumprod"), (lambda d: ember.all(X, d), "all"),
    (lambda d: ember.count_nonzero(X, d), "count_nonzero"),
])
def test_dim_out_of_range(fn, name):
    with pytest.raises(ember.IndexingError, match=rf"{name}\(\): dim 2 is out of range .*2 "
                                                  r"dimension.*\[-2, 1\]"):
        fn(2)
    with pytest.raises(ember.IndexingError, match=rf"{name}\(\): dim -3 is out of range"):
        fn(-3)


def test_dim_out_of_range_in_a_tuple_and_on_0d():
    with pytest.raises(ember.IndexingError, match=r"sum\(\): dim 5 is out of range"):
        ember.sum(X, (0, 5))
    with pytest.raises(ember.IndexingError, match=r"mean\(\): dim 1 .* 0 dimension.*\[-1, 0\]"):
        ember.mean(ember.tensor(1.0), 1)


@pytest.mark.parametrize("dims", [(0, 0), (1, -1), [0, 1, -2]])
def test_duplicate_dims(dims):
    with pytest.raises(ember.ShapeError, match=r"sum\(\): dim .* names dimension \d more than"):
        ember.sum(X, dims)
    with pytest.raises(ember.ShapeError, match=r"amax\(\): dim .* more than once"):
        ember.amax(X, dims)


def test_0d_duplicate_dims_like_torch():
    with pytest.raises(ember.ShapeError, match="more than once"):
        ember.sum(ember.tensor(2.0), (0, -1))


@pytest.mark.parametrize("bad", ["a", 1.5, True, {0: 1}])
def test_dim_of_wrong_type(bad):
    with pytest.raises(TypeError, match=r"sum\(\): argument 'dim' must be an int, a tuple of "
                                        r"ints or None, got"):
        ember.sum(X, bad)
    with pytest.raises(TypeError, match=r"var\(\): argument 'dim' must be an int"):
        ember.var(X, (0, bad))


@pytest.mark.parametrize("fn, name", [
    (ember.prod, "prod"), (ember.cumsum, "cumsum"), (ember.argmax, "argmax"),
    (ember.max, "max"), (lambda x, d: ember.aminmax(x, dim=d), "aminmax"),
])
def test_single_dim_ops_reject_tuples(fn, name):
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'dim' must be an int, not tuple"):
        fn(X, (0, 1))


def test_logsumexp_requires_dim():
    with pytest.raises(TypeError, match="dim"):
        ember.logsumexp(X)  # PyTorch requires it too


# ------------------------------------------------------------------------ dtypes

def test_mean_of_integers():
    ints = ember.tensor([1, 2, 3])
    with pytest.raises(ember.DTypeError, match=r"mean\(\): could not infer output dtype\. "
                                               r"Input dtype must be .*floating.* Got: int64"):
        ember.mean(ints)
    with pytest.raises(ember.DTypeError, match=r"mean\(\).*Optional dtype .* Got: int32"):
        ember.mean(X, dtype=ember.int32)
    assert ember.mean(ints, dtype=ember.float64).item() == 2.0


@pytest.mark.parametrize("fn, name", [(ember.var, "var"), (ember.std, "std"),
                                      (ember.var_mean, "var_mean"), (ember.std_mean, "std_mean")])
def test_var_of_integers(fn, name):
    with pytest.raises(ember.DTypeError, match=rf"{name}\(\): std and var only support floating "
                                               r"point dtypes, got int64"):
        fn(ember.tensor([1, 2, 3]))


def test_norm_of_integers_and_bad_p():
    with pytest.raises(ember.DTypeError, match=r"norm\(\): expected a floating point tensor as "
                                               r"input, got int64"):
        ember.norm(ember.tensor([3, 4]))
    with pytest.raises(ValueError, match=r"norm\(\): p must be a number or 'fro', got 'nuc' "
                                         r"\(the nuclear norm is not supported\)"):
        ember.norm(X, "nuc")
    with pytest.raises(TypeError, match=r"norm\(\): p must be a number or 'fro', got list"):
        ember.norm(X, [2])
    with pytest.raises(ember.ShapeError, match=r"norm\(\): p='fro' takes at most 2 dims"):
        ember.norm(ember.zeros(2, 2, 2), "fro", (0, 1, 2))


def test_var_correction_spellings():
    with pytest.raises(TypeError, match=r"var\(\): pass either unbiased or correction, not both"):
        ember.var(X, 0, unbiased=False, correction=1)
    with pytest.raises(TypeError, match=r"std\(\): unbiased must be a bool, got int"):
        ember.std(X, 0, unbiased=1)
    with pytest.raises(TypeError, match=r"var\(\): got unbiased twice"):
        ember.var(X, True, unbiased=True)


def test_non_tensor_input():
    with pytest.raises(ember.DTypeError, match=r"sum\(\): argument 'input' must be a Tensor or "
                                               r"a sequence of numbers, got object"):
        ember.sum(object())
    assert ember.sum([1, 2, 3]).item() == 6  # lists convert like ember.tensor


# ------------------------------------------------------------------------ empty reductions

@pytest.mark.parametrize("fn, name", [(ember.max, "max"), (ember.min, "min"),
                                      (ember.amax, "amax"), (ember.amin, "amin"),
                                      (ember.argmax, "argmax"), (ember.argmin, "argmin")])
def test_max_like_of_empty(fn, name):
    with pytest.raises(ember.ShapeError, match=rf"{name}\(\): Expected reduction dim to be "
                                               r"specified for input.numel\(\) == 0"):
        fn(EMPTY)
    with pytest.raises(ember.IndexingError, match=rf"{name}\(\): Expected reduction dim 0 to "
                                                  r"have non-zero size \(input shape \[0, 3\]\)"):
        fn(EMPTY, 0)
    kept = fn(EMPTY, 1)  # reducing a non-empty dim of an empty tensor is fine
    values = kept.values if name in ("max", "min") else kept
    assert values.shape == (0,)


def test_other_empty_reductions():
    with pytest.raises(ember.IndexingError, match=r"aminmax\(\): cannot compute aminmax over an "
                                                  r"empty dimension"):
        ember.aminmax(EMPTY, dim=0)
    with pytest.raises(ember.ShapeError, match=r"norm\(\): cannot compute the inf norm over an "
                                               r"empty dimension"):
        ember.norm(EMPTY, math.inf, 0)
    # reductions with an identity are fine on empty input
    assert ember.sum(EMPTY).item() == 0.0
    assert ember.prod(EMPTY, 0).tolist() == [1.0, 1.0, 1.0]
    assert ember.logsumexp(EMPTY, 0).tolist() == [-math.inf] * 3
    assert ember.all(EMPTY).item() is True and ember.any(EMPTY).item() is False


def test_infer_rules_refuse_what_forward_refuses():
    spec = TensorSpec((0, 3), ember.float32)
    with pytest.raises(ember.IndexingError, match=r"amax\(\): Expected reduction dim 0"):
        REGISTRY["amax"].infer(spec, dim=(0,), keepdim=False)
    with pytest.raises(ember.ShapeError, match=r"argmin\(\): Expected reduction dim to be"):
        REGISTRY["argmin"].infer(spec, dim=None, keepdim=False)
    out = REGISTRY["sum"].infer(TensorSpec((2, 3, 4), ember.int32), dim=(0, 2), keepdim=True,
                                dtype=np.int64)
    assert out == TensorSpec((1, 3, 1), ember.int64)


# ------------------------------------------------------------------------ semantics

def test_max_dim_returns_named_tuple_and_first_index_on_ties():
    t = ember.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    out = ember.max(t, 1)
    values, indices = out
    assert out.values is values and out.indices is indices
    assert indices.dtype == ember.int64 and indices.tolist() == [1, 0]
    values.sum().backward()
    # max(dim): the selected index only; amax/max(): shared equally among ties
    assert t.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    t.grad = None
    ember.amax(t, 1).sum().backward()
    assert t.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    t.grad = None
    t.max().backward()
    assert t.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]


def test_max_of_two_tensors_is_maximum():
    a, b = ember.tensor([1.0, 5.0]), ember.tensor([3.0, 2.0])
    assert ember.max(a, b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]


def test_norm_gradient_at_zero_vector_is_zero_not_nan():
    for p in (2, "fro", 3, 1.5, 1, math.inf):
        z = ember.zeros(4, dtype=ember.float64, requires_grad=True)
        ember.norm(z, p).backward()
        assert z.grad.tolist() == [0.0] * 4, p
    # and second order through the 2-norm stays finite
    z = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad([ember.norm(z)], [z], create_graph=True)
    (gg,) = ember.autograd.grad([g.sum()], [z], allow_unused=True)
    assert gg is None or np.all(np.isfinite(gg.numpy()))


def test_prod_and_cumprod_gradients_with_zeros_are_finite():
    x = ember.tensor([2.0, 0.0, 3.0, 0.5], dtype=ember.float64, requires_grad=True)
    ember.prod(x).backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 0.0]  # only the zero's neighbours' product
    x.grad = None
    ember.cumprod(x, 0).sum().backward()
    # d/dx0 = 1 + x1 + x1 x2 + ... = 1; d/dx1 = x0 + x0 x2 + x0 x2 x3 = 2 + 6 + 3
    assert x.grad.tolist() == [1.0, 11.0, 0.0, 0.0]


def test_sum_dtypes_follow_pytorch():
    assert ember.sum(ember.tensor([True, True])).dtype == ember.int64
    assert ember.sum(ember.tensor([1, 2], dtype=ember.int8)).dtype == ember.int64
    assert ember.sum(ember.tensor([1, 2], dtype=ember.int8), dtype=ember.int16).dtype == ember.int16
    assert ember.prod(ember.tensor([1, 2], dtype=ember.uint8)).dtype == ember.int64
    assert ember.cumsum(ember.tensor([1, 2], dtype=ember.int32), 0).dtype == ember.int64
    assert ember.sum(X, dtype=ember.float64).dtype == ember.float64
    assert ember.all(ember.tensor([1, 2], dtype=ember.uint8)).dtype == ember.uint8
