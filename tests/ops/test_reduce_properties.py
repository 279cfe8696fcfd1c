"""Property tests for the reductions: for random shapes (0-4 dims of sizes 0-4), random dim
subsets and keepdim, every reduction agrees with PyTorch on shape, dtype and values, or both
refuse the input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def shape_and_dims(draw, *, single=False):
    """(shape, dim) where dim is None, an int (maybe negative) or a tuple of distinct dims."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    nd = max(ndim, 1)
    as_int = st.integers(-nd, nd - 1)
    if single:
        return shape, draw(as_int)
    subset = st.lists(st.integers(0, nd - 1), unique=True, max_size=nd).flatmap(
        lambda ds: st.tuples(*[st.sampled_from([d, d - nd]) for d in ds]))
    dim = draw(st.one_of(st.none(), as_int, subset))
    if ndim == 0 and isinstance(dim, tuple) and len(dim) > 1:
        dim = dim[:1]
    return shape, dim


def _data(shape, seed=0):
    # distinct values so max/argmax have a unique answer
    n = int(np.prod(shape)) if shape else 1
    vals = np.random.default_rng(seed).permutation(n).astype(np.float32) * 0.25 - n * 0.1
    return vals.reshape(shape)


def _kwargs(dim, keepdim):
    # PyTorch's sum/mean take keepdim only together with dim
    return {} if dim is None else {"dim": dim, "keepdim": keepdim}


def _same(e_fn, t_fn, arr):
    """Run both; they must both raise, or agree on shape, dtype and values."""
    try:
        expected = t_fn(torch.from_numpy(arr.copy()))
    except (RuntimeError, IndexError, TypeError, ValueError) as exc:
        with pytest.raises((ember.EmberError, TypeError, ValueError, IndexError)):
            e_fn(ember.from_numpy(arr.copy()))
        return exc
    got = e_fn(ember.from_numpy(arr.copy()))
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)
    for g, t in zip(got, expected):
        assert g.shape == tuple(t.shape), (g.shape, tuple(t.shape))
        assert g.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(g.numpy().astype(np.float64), t.numpy().astype(np.float64),
                                   rtol=1e-5, atol=1e-5, equal_nan=True)
    return None


MULTI_DIM_OPS = [
    ("sum", lambda x, **k: x.sum(**k), lambda x, **k: x.sum(**k)),
    ("mean", ember.mean, torch.mean),
    ("amax", ember.amax, torch.amax),
    ("amin", ember.amin, torch.amin),
    ("var", ember.var, torch.var),
    ("std", lambda x, **k: x.std(correction=0, **k), lambda x, **k: x.std(correction=0, **k)),
    ("norm", lambda x, **k: ember.norm(x, 2, **k), lambda x, **k: torch.norm(x, 2, **k)),
    ("norm-p1", lambda x, **k: ember.norm(x, 1, **k), lambda x, **k: torch.norm(x, 1, **k)),
    ("all", ember.all, torch.all),
    ("any", ember.any, torch.any),
]


@pytest.mark.parametrize("name, e_fn, t_fn", MULTI_DIM_OPS, ids=[o[0] for o in MULTI_DIM_OPS])
@SETTINGS
@given(case=shape_and_dims(), keepdim=st.booleans())
def test_multi_dim_reductions_match_torch(name, e_fn, t_fn, case, keepdim):
    shape, dim = case
    kw = _kwargs(dim, keepdim)
    _same(lambda x: e_fn(x, **kw), lambda x: t_fn(x, **kw), _data(shape))


@SETTINGS
@given(case=shape_and_dims(), keepdim=st.booleans())
def test_logsumexp_and_count_nonzero_match_torch(case, keepdim):
    shape, dim = case
    arr = _data(shape)
    if dim is not None and dim != ():  # logsumexp requires dim; torch mishandles dim=()
        _same(lambda x: ember.logsumexp(x, dim, keepdim),
              lambda x: torch.logsumexp(x, dim, keepdim), arr)
    _same(lambda x: ember.count_nonzero(x, dim), lambda x: torch.count_nonzero(x, dim),
          np.round(arr))


SINGLE_DIM_OPS = [
    ("prod", lambda x, d, k: ember.prod(x, d, k), lambda x, d, k: torch.prod(x, d, k)),
    ("max", lambda x, d, k: ember.max(x, d, k), lambda x, d, k: torch.max(x, d, k)),
    ("min", lambda x, d, k: x.min(d, keepdim=k), lambda x, d, k: x.min(d, keepdim=k)),
    ("argmax", ember.argmax, torch.argmax),
    ("argmin", ember.argmin, torch.argmin),
    ("aminmax", lambda x, d, k: ember.aminmax(x, dim=d, keepdim=k),
     lambda x, d, k: torch.aminmax(x, dim=d, keepdim=k)),
    ("cumsum", lambda x, d, k: ember.cumsum(x, d), lambda x, d, k: torch.cumsum(x, d)),
    ("cumprod", lambda x, d, k: x.cumprod(d), lambda x, d, k: x.cumprod(d)),
]


@pytest.mark.parametrize("name, e_fn, t_fn", SINGLE_DIM_OPS, ids=[o[0] for o in SINGLE_DIM_OPS])
@SETTINGS
@given(case=shape_and_dims(single=True), keepdim=st.booleans())
def test_single_dim_reductions_match_torch(name, e_fn, t_fn, case, keepdim):
    shape, dim = case
    arr = _data(shape)
    if name in ("prod", "cumprod"):  # values near 1 keep long products finite
        arr = arr / max(1, arr.size) + 1.0
    _same(lambda x: e_fn(x, dim, keepdim), lambda x: t_fn(x, dim, keepdim), arr)


@SETTINGS
@given(case=shape_and_dims())
def test_full_reductions_match_torch(case):
    shape, _ = case
    arr = _data(shape)
    for e_fn, t_fn in [(ember.max, torch.max), (ember.min, torch.min),
                       (ember.argmax, torch.argmax), (ember.prod, torch.prod)]:
        _same(e_fn, t_fn, arr)


@SETTINGS
@given(case=shape_and_dims())
def test_sum_keepdim_broadcasts_back(case):
    shape, dim = case
    arr = _data(shape)
    x = ember.from_numpy(arr)
    kept = ember.sum(x, dim, keepdim=True)
    assert kept.ndim == x.ndim
    back = ember.broadcast_to(kept, x.shape)
    assert back.shape == x.shape
    centered = x - kept  # broadcasting against the input is what keepdim is for
    assert centered.shape == x.shape
    # every element of the input sees the sum of the slice it belongs to
    dims = tuple(range(arr.ndim)) if dim is None or dim == () else \
        (dim if isinstance(dim, tuple) else (dim,))
    dims = tuple(d % max(arr.ndim, 1) for d in dims) if arr.ndim else ()
    expected = np.broadcast_to(arr.sum(axis=dims, keepdims=True), arr.shape)
    np.testing.assert_allclose(back.numpy(), expected, rtol=1e-5, atol=1e-5)
    # and the unkept result is the kept one with those dims dropped
    assert ember.sum(x, dim).numel() == kept.numel()


@SETTINGS
@given(case=shape_and_dims(), keepdim=st.booleans())
def test_sum_gradient_is_ones_of_input_shape(case, keepdim):
    shape, dim = case
    x = ember.from_numpy(_data(shape)).requires_grad_()
    out = ember.sum(x, dim, keepdim)
    (g,) = ember.autograd.grad([out], [x], [ember.ones(out.shape)])
    assert g.shape == x.shape
    np.testing.assert_array_equal(g.numpy(), np.ones(shape, np.float32))


def test_methods_are_the_functions():
    x = ember.from_numpy(_data((2, 3)))
    for name in ["sum", "mean", "prod", "var", "std", "amax", "amin", "argmax", "argmin",
                 "all", "any", "count_nonzero", "norm"]:
        np.testing.assert_array_equal(getattr(x, name)().numpy(),
                                      getattr(ember, name)(x).numpy(), err_msg=name)
    np.testing.assert_array_equal(x.logsumexp(1).numpy(), ember.logsumexp(x, 1).numpy())
    np.testing.assert_array_equal(x.cumsum(1).numpy(), ember.cumsum(x, 1).numpy())


# mean, var and logsumexp are primitives for speed: each must equal its composite of simpler
# ops, in value and in first and second derivatives (DESIGN.md's rule for fused primitives)

def _mean_composite(x, dims, keepdim):
    n = int(np.prod([x.shape[d] for d in range(x.ndim) if dims is None or d in dims]))
    return ember.sum(x, dims, keepdim) / n


def _var_composite(x, dims, keepdim, correction=1):
    n = int(np.prod([x.shape[d] for d in range(x.ndim) if dims is None or d in dims]))
    centered = x - ember.sum(x, dims, keepdim=True) / n
    return ember.sum(centered * centered, dims, keepdim) / max(n - correction, 0)


def _logsumexp_composite(x, dims, keepdim):
    shift = ember.amax(x.detach(), dims, keepdim=True)
    out = ember.log(ember.sum(ember.exp(x - shift), dims, keepdim=True)) + shift
    return out if keepdim else ember.sum(out, dims)  # summing size-1 dims drops them


FUSED = [("mean", lambda x, d, k: ember.mean(x, d, k), _mean_composite),
         ("var", lambda x, d, k: ember.var(x, d, keepdim=k), _var_composite),
         ("var-correction0", lambda x, d, k: ember.var(x, d, keepdim=k, correction=0),
          lambda x, d, k: _var_composite(x, d, k, 0)),
         ("logsumexp", lambda x, d, k: ember.logsumexp(x, d, k), _logsumexp_composite)]


@pytest.mark.parametrize("name, fused, composite", FUSED, ids=[f[0] for f in FUSED])
@settings(max_examples=25, deadline=None)
@given(case=shape_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_primitive_equals_its_composite(name, fused, composite, case, keepdim, seed):
    shape, dim = case
    n = int(np.prod(shape)) if shape else 1
    dims = None if dim is None or dim == () or not shape else tuple(
        sorted(d % len(shape) for d in (dim if isinstance(dim, tuple) else (dim,))))
    if n == 0 or (dims is not None and 0 in [shape[d] for d in dims]) or \
            np.prod([shape[d] for d in (dims or range(len(shape)))]) < 3:
        return  # values are NaN/inf there; the op table checks those against PyTorch
    arr = np.random.default_rng(seed).standard_normal(shape)
    x = ember.tensor(arr, dtype=ember.float64, requires_grad=True)
    a, b = fused(x, dim, keepdim), composite(x, dims, keepdim)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed_grad = ember.tensor(np.random.default_rng(seed + 1).standard_normal(a.shape),
                             dtype=ember.float64)
    (ga,) = ember.autograd.grad([a], [x], [seed_grad], create_graph=True)
    (gb,) = ember.autograd.grad([b], [x], [seed_grad], create_graph=True)
    np.testing.assert_allclose(ga.detach().numpy(), gb.detach().numpy(), rtol=1e-9, atol=1e-12)
    v = ember.tensor(np.random.default_rng(seed + 2).standard_normal(shape), dtype=ember.float64)
    np.testing.assert_allclose(_second(ga, v, x), _second(gb, v, x), rtol=1e-9, atol=1e-12)


def _second(g, v, x):
    """d(sum(g * v))/dx, zeros where g does not depend on x (a linear op's gradient)."""
    if not g.requires_grad:
        return np.zeros(x.shape)
    (gg,) = ember.autograd.grad([(g * v).sum()], [x], allow_unused=True)
    return np.zeros(x.shape) if gg is None else gg.numpy()


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_whole_tensor_2_norm_of_a_large_tensor_matches_torch(layout, dtype):
    # the whole-tensor 2-norm is one BLAS dot product (float32/64) over the memory in any
    # order; large enough that a sloppy accumulation would show in float32
    arr = np.random.default_rng(3).standard_normal((300, 257)).astype(dtype)
    arr = {"contiguous": arr, "transposed": arr.T, "strided": arr[::2, ::3]}[layout]
    e, t = ember.from_numpy(arr), torch.from_numpy(arr.copy())
    for kwargs in ({}, {"dim": (0, 1), "keepdim": True}):
        got, want = ember.norm(e, **kwargs), torch.norm(t, **kwargs)
        assert got.dtype.name == str(want.dtype).removeprefix("torch.")
        assert got.shape == tuple(want.shape)
        np.testing.assert_allclose(got.numpy().astype(np.float64),
                                   want.numpy().astype(np.float64),
                                   rtol=2e-3 if dtype is np.float16 else 1e-6)
