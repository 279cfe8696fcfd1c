"""Type promotion of binary ops against PyTorch, for every pair of ember dtypes.

Covers tensor-tensor (n-d/n-d, n-d/0-d, 0-d/0-d) and tensor-Python-scalar operands for
add, sub, mul, div, the comparisons and ``where``: the result dtype (and values) must equal
PyTorch's, and where PyTorch refuses (bool subtraction) ember must refuse too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 2, 2.5]
RANKS = {"nd-nd": ((3,), (3,)), "nd-0d": ((3,), ()), "0d-nd": ((), (3,)), "0d-0d": ((), ())}

OPS = {
    "add": (ember.add, torch.add),
    "sub": (ember.sub, torch.sub),
    "mul": (ember.mul, torch.mul),
    "div": (ember.div, torch.div),
    "eq": (ember.eq, torch.eq),
    "ne": (ember.ne, torch.ne),
    "lt": (ember.lt, torch.lt),
    "le": (ember.le, torch.le),
    "gt": (ember.gt, torch.gt),
    "ge": (ember.ge, torch.ge),
    "where": (lambda a, b: ember.where(_E_COND, a, b), lambda a, b: torch.where(_T_COND, a, b)),
}
_COND = np.array([True, False, True])
_E_COND = ember.tensor(_COND)
_T_COND = torch.tensor(_COND)


def _values(dtype: str, shape: tuple) -> np.ndarray:
    # small positive values: no division by zero, no overflow differences to reason about
    base = np.array([True, False, True]) if dtype == "bool" else np.array([1, 3, 2])
    arr = base[: shape[0]] if shape else base[1]
    return np.asarray(arr).astype(dtype)


def _run(fn, *args):
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001  the reference decides what is an error
        return None, exc


def _compare(e_fn, t_fn, e_args, t_args):
    t_out, t_err = _run(t_fn, *t_args)
    e_out, e_err = _run(e_fn, *e_args)
    if t_err is not None:
        assert e_err is not None, f"torch raised {t_err!r}, ember returned {e_out}"
        assert isinstance(e_err, (ember.EmberError, TypeError, ValueError, RuntimeError))
        return
    assert e_err is None, f"ember raised {e_err!r}, torch gave {t_out}"
    assert e_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    assert e_out.shape == tuple(t_out.shape)
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("ranks", list(RANKS))
@pytest.mark.parametrize("dt_a, dt_b", list(itertools.product(DTYPES, DTYPES)))
def test_tensor_tensor(op, ranks, dt_a, dt_b):
    shape_a, shape_b = RANKS[ranks]
    a, b = _values(dt_a, shape_a), _values(dt_b, shape_b)
    e_fn, t_fn = OPS[op]
    _compare(e_fn, t_fn, (ember.tensor(a), ember.tensor(b)),
             (torch.from_numpy(a.copy()), torch.from_numpy(b.copy())))


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("rank", ["nd", "0d"])
@pytest.mark.parametrize("scalar_first", [False, True], ids=["tensor-scalar", "scalar-tensor"])
@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("dt", DTYPES)
def test_tensor_scalar(op, rank, scalar_first, scalar, dt):
    a = _values(dt, (3,) if rank == "nd" else ())
    e_fn, t_fn = OPS[op]
    e_args, t_args = [ember.tensor(a), scalar], [torch.from_numpy(a.copy()), scalar]
    if scalar_first:
        if op in ("add", "sub", "mul", "div") or op == "where":
            e_args.reverse()
            t_args.reverse()
        else:  # torch.eq(2, t) is not a thing; the reflected operator is
            e_fn = {"eq": lambda x, y: y == x, "ne": lambda x, y: y != x,
                    "lt": lambda x, y: x < y, "le": lambda x, y: x <= y,
                    "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}[op]
            t_fn = e_fn
            e_args.reverse()
            t_args.reverse()
    _compare(e_fn, t_fn, tuple(e_args), tuple(t_args))


@pytest.mark.parametrize("dt", DTYPES)
def test_operators_match_functions(dt):
    """``a + 2``, ``2 - a``, ``a * 2.5``, ``2 / a`` promote like the functions."""
    a = _values(dt, (3,))
    e, t = ember.tensor(a), torch.from_numpy(a.copy())
    for expr in (lambda x: x + 2, lambda x: 2.5 * x, lambda x: 2 / x, lambda x: x ** 2,
                 lambda x: 2 ** x, lambda x: x // 2, lambda x: x % 2, lambda x: x > 1.5):
        _compare(expr, expr, (e,), (t,))
    if dt != "bool":
        _compare(lambda x: 3 - x, lambda x: 3 - x, (e,), (t,))


@pytest.mark.parametrize("a, b", [(ember.float32, ember.int64), (ember.uint8, ember.int8),
                                  (ember.bool_, ember.int16), (ember.float16, ember.float64),
                                  (ember.int32, ember.int64), (ember.bool_, ember.bool_)])
def test_promote_types(a, b):
    expected = torch.promote_types(getattr(torch, a.name), getattr(torch, b.name))
    assert ember.promote_types(a, b).name == str(expected).replace("torch.", "")
    assert ember.promote_types(b, a) is ember.promote_types(a, b)


def test_result_type_with_scalars():
    i8 = ember.tensor([1, 2], dtype=ember.int8)
    assert ember.result_type(i8, 1) is ember.int8
    assert ember.result_type(i8, 1.0) is ember.float32
    assert ember.result_type(i8, ember.tensor(1.0, dtype=ember.float64)) is ember.float64
    assert ember.result_type(i8, ember.tensor(1, dtype=ember.int64)) is ember.int8
    assert ember.result_type(2, 2.5) is ember.float32
    with pytest.raises(ember.DTypeError, match="must be a Tensor or a Python number, got str"):
        ember.result_type(i8, "1")


def test_default_dtype_changes_scalar_promotion():
    i = ember.tensor([1, 2])
    try:
        ember.set_default_dtype(ember.float64)
        assert (i * 0.5).dtype is ember.float64
        assert ember.tensor([1.5]).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    assert (i * 0.5).dtype is ember.float32
    with pytest.raises(ember.DTypeError, match="floating"):
        ember.set_default_dtype(ember.int64)


# ------------------------------------------------------------ Python ints that do not fit

@pytest.mark.parametrize("dt, value", [("uint8", 300), ("uint8", -1), ("int8", 1000),
                                       ("int16", -70000), ("int32", 2**40), ("uint8", 2**40)])
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_scalar_wraps_like_torch(dt, value, op):
    """PyTorch wraps an out-of-range Python int into the tensor's dtype (two's complement)."""
    a = np.array([1, 2, 100], dtype=dt)
    e_out = getattr(ember, op)(ember.tensor(a), value)
    t_out = getattr(torch, op)(torch.from_numpy(a.copy()), value)
    assert e_out.dtype.name == dt
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())


def test_scalar_beyond_int64_is_a_clear_error():
    with pytest.raises(ember.DTypeError, match=r"add: the Python int 2\*\*70 .*int64"):
        ember.add(ember.tensor([1, 2]), 2**70)
    with pytest.raises(ember.DTypeError, match=r"does not fit"):
        ember.tensor([1, 2], dtype=ember.uint8) * (2**64)
