"""Bad input to elementwise ops: each raises an ember error (or the matching Python error)
whose message names the op and what was wrong, never a NumPy traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ember

F32 = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
I64 = ember.tensor([1, 2, 3])
B = ember.tensor([True, False, True])


@pytest.mark.parametrize("fn", [ember.add, ember.sub, ember.mul, ember.div, ember.pow,
                                ember.maximum, ember.minimum, ember.atan2, ember.remainder,
                                ember.fmod, ember.floor_divide, ember.eq, ember.lt,
                                ember.logical_and, ember.bitwise_and])
def test_broadcast_mismatch_names_op_and_shapes(fn):
    a, b = ember.ones(2, 3, dtype=ember.int64), ember.ones(4, dtype=ember.int64)
    with pytest.raises(ember.ShapeError, match=rf"{fn.__name__}.*\[2, 3\].*\[4\]"):
        fn(a, b)


def test_where_broadcast_mismatch():
    with pytest.raises(ember.ShapeError, match=r"where: .*\[3\].*\[2, 3\].*\[2\]"):
        ember.where(B, F32, ember.ones(2))


def test_operator_broadcast_mismatch():
    with pytest.raises(ember.ShapeError, match=r"add: shapes \[2, 3\], \[2\] cannot be broadcast"):
        F32 + ember.ones(2)


@pytest.mark.parametrize("bad", ["a", None, object(), [1, "x"]])
def test_non_numeric_operand(bad):
    with pytest.raises(ember.DTypeError, match=r"mul: argument 'other' must be a Tensor or a "
                                               r"number|could not infer a dtype"):
        ember.mul(F32, bad)


def test_string_operand_through_operator():
    with pytest.raises(ember.DTypeError, match="add"):
        F32 + "1"


@pytest.mark.parametrize("expr, match", [
    (lambda: B - B, "sub: subtracting two bools is not supported; use the \\^ operator"),
    (lambda: B - 1, "sub: subtraction with a bool tensor .* logical_not"),
    (lambda: 1 - B, "sub: subtraction with a bool tensor"),
    (lambda: F32 - True, "sub: subtraction with a bool"),
    (lambda: ember.sub(I64, B), "sub: subtraction with a bool"),
])
def test_bool_subtraction_refused(expr, match):
    with pytest.raises(ember.DTypeError, match=match):
        expr()


def test_float_alpha_on_integers():
    with pytest.raises(ember.DTypeError, match=r"add: alpha must not be a float \(1.5\) for "
                                               r"int64 operands"):
        ember.add(I64, I64, alpha=1.5)
    with pytest.raises(ember.DTypeError, match="sub: a bool alpha"):
        ember.sub(F32, F32, alpha=True)


def test_integer_negative_power():
    with pytest.raises(ValueError, match=r"pow: integers to negative integer powers .*-1"):
        I64 ** -1
    # a tensor exponent follows PyTorch: 1/a**|b| truncated toward zero
    out = ember.pow(ember.tensor([2, 1, -1, -1]), ember.tensor([-1, -3, -3, -2]))
    assert out.tolist() == [0, 1, -1, 1]


@pytest.mark.parametrize("fn", [ember.floor_divide, ember.remainder, ember.fmod,
                                lambda a, b: ember.div(a, b, rounding_mode="trunc")])
def test_integer_division_by_zero(fn):
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        fn(I64, ember.tensor([1, 0, 2]))
    # float division by zero is IEEE (inf or nan), not an error
    assert not np.isfinite(fn(ember.tensor([1.0]), ember.tensor([0.0])).item())


@pytest.mark.parametrize("fn", [ember.floor_divide, ember.remainder, ember.fmod, ember.pow])
def test_bool_arithmetic_refused(fn):
    with pytest.raises(ember.DTypeError, match=r"not implemented for bool"):
        fn(B, B)


@pytest.mark.parametrize("name", ["abs", "floor", "ceil", "trunc", "round"])
def test_bool_unary_refused(name):
    with pytest.raises(ember.DTypeError, match=rf"{name}: not implemented for bool"):
        getattr(ember, name)(B)


@pytest.mark.parametrize("name", ["frac", "leaky_relu", "elu", "gelu", "silu", "softplus"])
def test_float_only_ops_refuse_integers(name):
    with pytest.raises(ember.DTypeError, match=rf"{name}: expected a floating point tensor, "
                                               "got int64"):
        getattr(ember, name)(I64)


def test_round_decimals_on_integers():
    with pytest.raises(ember.DTypeError, match="round: decimals=1 needs a floating point"):
        ember.round(I64, decimals=1)
    assert ember.round(I64).tolist() == [1, 2, 3]


def test_bitwise_on_floats():
    with pytest.raises(ember.DTypeError, match="bitwise_and: expected bool or integer"):
        ember.bitwise_and(F32, F32)
    with pytest.raises(ember.DTypeError, match="bitwise_not: expected a bool or integer"):
        ember.bitwise_not(F32)


def test_where_condition_must_be_bool():
    with pytest.raises(ember.DTypeError, match="where: condition must be a bool tensor, got "
                                               "float32"):
        ember.where(F32, F32, F32)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        ember.clamp(F32)


def test_bad_option_values():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'x'"):
        ember.gelu(F32, approximate="x")
    with pytest.raises(ValueError, match="div: rounding_mode must be None, 'floor' or 'trunc'"):
        ember.div(F32, F32, rounding_mode="round")


def test_overflowing_scalar():
    with pytest.raises(ember.DTypeError, match=r"mul: the Python int 2\*\*80 does not fit in "
                                               "int64"):
        I64 * 2**80


def test_no_numpy_warning_leaks():
    """log(0) and 0/0 give -inf/nan silently, as in PyTorch (pytest's own warning capture
    would override ember's filter, hence a fresh interpreter)."""
    code = ("import ember; ember.log(ember.tensor([0.0, -1.0])); "
            "ember.div(ember.tensor([1.0, 0.0]), ember.tensor([0.0, 0.0])); "
            "ember.sqrt(ember.tensor(-1.0))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr
