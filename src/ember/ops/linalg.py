"""Matrix products: ``matmul``/``@``, ``mm``, ``bmm``, ``mv``, ``dot``, ``outer``, ``inner``,
``tensordot``, ``addmm``/``baddbmm``, and ``einsum`` (which lives in ``einsum.py``).

``matmul``, ``mm``, ``bmm``, ``mv`` and ``dot`` are one kernel (``np.matmul``) registered as
five primitives, so each keeps its own shape rule and error message (``mm`` insists on
matrices, ``bmm`` on equal batches) and graph mode shows the name the user wrote. They share
one backward rule. As in PyTorch both operands must have the same dtype (no promotion);
integer products are allowed (without gradient), bool ones are not.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DTypeError, EmberError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .broadcast import broadcast_shapes, sum_to
from .einsum import EINSUM, LETTERS, canonical_equation, einsum, matmul_forward
from .elementwise import add, mul, where
from .movement_view import PERMUTE, RESHAPE
from .registry import Op, TensorSpec, apply, as_tensor_arg, tensor_method

# ------------------------------------------------------------------------ helpers for vjps


def _mT(x: Tensor) -> Tensor:
    nd = x._data.ndim
    return apply(PERMUTE, (x,), dims=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _reshape(x: Tensor, shape: tuple) -> Tensor:
    return apply(RESHAPE, (x,), shape=shape)


# ------------------------------------------------------------------------ infer rules


def _matmul_shape(a: tuple, b: tuple, op: str) -> tuple:
    """The shape of ``a @ b`` under NumPy/PyTorch matmul rules; ShapeError naming ``op``."""
    if not a or not b:
        raise ShapeError(f"{op}: both arguments need to be at least 1-D, but they are "
                         f"{len(a)}-D and {len(b)}-D")
    k_a = a[-1]
    k_b = b[-2] if len(b) > 1 else b[0]
    if k_a != k_b:
        raise ShapeError(
            f"{op}: shapes {shape_str(a)} and {shape_str(b)} cannot be multiplied: the inner "
            f"sizes {k_a} (last dim of input) and {k_b} "
            f"({'first' if len(b) == 1 else 'second-to-last'} dim of other) differ"
        )
    batch = broadcast_shapes(a[:-2], b[:-2], op=f"{op} (batch dimensions)")
    return batch + a[-2:-1] + b[-1:] if len(b) > 1 else batch + a[-2:-1]


def _same_dtype(a: TensorSpec, b: TensorSpec, op: str) -> None:
    if a.dtype is not b.dtype:
        raise DTypeError(f"{op}: expected both operands to have the same dtype, but got "
                         f"{a.dtype.name} and {b.dtype.name}")
    if a.dtype.category == 0:
        raise DTypeError(f"{op}: bool operands are not supported; convert them to an integer "
                         "or floating dtype first")


def _ndim_rule(op: str, want_a: int, want_b: int):
    names = {1: "vector (1-D)", 2: "matrix (2-D)", 3: "batch of matrices (3-D)"}

    def infer(a: TensorSpec, b: TensorSpec) -> TensorSpec:
        for spec, want, arg in ((a, want_a, "input"), (b, want_b, "other")):
            if spec.ndim != want:
                raise ShapeError(f"{op}: expected argument '{arg}' to be a {names[want]}, got "
                                 f"a {spec.ndim}-D tensor of shape {shape_str(spec.shape)}")
        if op == "bmm" and a.shape[0] != b.shape[0]:
            raise ShapeError(f"bmm: batch sizes differ: input {shape_str(a.shape)} has "
                             f"{a.shape[0]} matrices, other {shape_str(b.shape)} has "
                             f"{b.shape[0]}")
        if op == "dot" and a.shape != b.shape:
            raise ShapeError(f"dot: the vectors must have the same number of elements, got "
                             f"{shape_str(a.shape)} and {shape_str(b.shape)}")
        _same_dtype(a, b, op)
        return TensorSpec(_matmul_shape(a.shape, b.shape, op), a.dtype)

    return infer


def _matmul_infer(a: TensorSpec, b: TensorSpec) -> TensorSpec:
    shape = _matmul_shape(a.shape, b.shape, "matmul")
    _same_dtype(a, b, "matmul")
    return TensorSpec(shape, a.dtype)


# ------------------------------------------------------------------------ backward


def _matrix_grads(a, b, g, need_a: bool, need_b: bool):
    """Gradients of ``a @ b`` (both at least 2-D, batch dims broadcast) for upstream ``g``."""
    ga = gb = None
    if need_a:
        ga = apply(MATMUL, (g, _mT(b)))
        if ga._data.shape != a.shape:
            ga = sum_to(ga, a.shape)
    if need_b:
        nd_a = len(a.shape)
        if len(b.shape) == 2 and nd_a > 2:
            # a linear layer on a batch: fold the batch into rows, one GEMM and no reduction
            k, m = a.shape[-1], g._data.shape[-1]
            rows = math.prod(a.shape[:-1])
            gb = apply(MATMUL, (_mT(_reshape(a, (rows, k))), _reshape(g, (rows, m))))
        else:
            gb = apply(MATMUL, (_mT(a), g))
            if gb._data.shape != b.shape:
                gb = sum_to(gb, b.shape)
    return ga, gb


def _matmul_vjp(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    nd_a, nd_b = len(a.shape), len(b.shape)
    if nd_a >= 2 and nd_b >= 2:
        return _matrix_grads(a, b, g, need_a, need_b)
    if nd_a == 1 and nd_b == 1:
        return (mul(g, b) if need_a else None, mul(g, a) if need_b else None)
    # one vector: make it a matrix (a row on the left, a column on the right), use the
    # matrix rule, then drop the added dim from the gradients again
    gshape = g._data.shape
    if nd_a == 1:
        a2, b2 = _reshape(a, (1, a.shape[0])), b
        g2 = _reshape(g, gshape[:-1] + (1, gshape[-1]))
    else:
        a2, b2 = a, _reshape(b, (b.shape[0], 1))
        g2 = _reshape(g, gshape + (1,))
    ga, gb = _matrix_grads(a2, b2, g2, need_a, need_b)
    if ga is not None and nd_a == 1:
        ga = _reshape(ga, a.shape)
    if gb is not None and nd_b == 1:
        gb = _reshape(gb, b.shape)
    return ga, gb


MATMUL = Op("matmul", matmul_forward, _matmul_vjp, _matmul_infer)
MM = Op("mm", matmul_forward, _matmul_vjp, _ndim_rule("mm", 2, 2))
BMM = Op("bmm", matmul_forward, _matmul_vjp, _ndim_rule("bmm", 3, 3))
MV = Op("mv", matmul_forward, _matmul_vjp, _ndim_rule("mv", 2, 1))
DOT = Op("dot", matmul_forward, _matmul_vjp, _ndim_rule("dot", 1, 1))


# ------------------------------------------------------------------------ public functions


def _operands(input, other, op: str) -> tuple:
    if type(input) is not Tensor:
        input = as_tensor_arg(input, "input", op)
    if type(other) is not Tensor:
        other = as_tensor_arg(other, "other", op)
    return input, other


def _product(prim: Op, input, other, ndim_a: int = 0, ndim_b: int = 0) -> Tensor:
    """Run ``prim`` (one of the np.matmul primitives); ``ndim_a``/``ndim_b`` are the ranks it
    insists on (0: any). NumPy would promote mixed dtypes and multiply any ranks, so those
    are checked before the forward; an inner-size mismatch is left to NumPy to detect."""
    a, b = _operands(input, other, prim.name)
    da, db = a._data, b._data
    if (da.dtype is not db.dtype or da.dtype.kind == "b"
            or (ndim_a and (da.ndim != ndim_a or db.ndim != ndim_b
                            or (prim is BMM and da.shape[0] != db.shape[0])))):
        prim.infer(TensorSpec(da.shape, a.dtype), TensorSpec(db.shape, b.dtype))
    return apply(prim, (a, b))


@tensor_method("matmul", "__matmul__")
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics.

    1-D operands are vectors (a dim is prepended to the left one and appended to the right
    one, then removed from the result); operands of more than 2 dims are batches of matrices
    whose batch dims broadcast. Both operands must have the same dtype.
    """
    return _product(MATMUL, input, other)


@tensor_method("__rmatmul__")
def _rmatmul(self: Tensor, other) -> Tensor:
    return _product(MATMUL, other, self)


@tensor_method("mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only; use ``matmul`` for broadcasting)."""
    return _product(MM, input, mat2, 2, 2)


@tensor_method("bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of 3-D tensors ``(b, n, k) @ (b, k, m)`` with equal batch sizes."""
    return _product(BMM, input, mat2, 3, 3)


@tensor_method("mv")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Product of a matrix ``(n, m)`` and a vector ``(m,)``."""
    return _product(MV, input, vec, 2, 1)


@tensor_method("dot")
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same size (0-d result)."""
    return _product(DOT, input, tensor, 1, 1)


@tensor_method("vdot")
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``dot`` (ember tensors are real, so there is nothing to conjugate)."""
    return _named("vdot", dot, input, other)


@tensor_method("outer", "ger")
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]`` (dtypes promote,
    as in PyTorch)."""
    a, b = _operands(input, vec2, "outer")
    for t, arg in ((a, "input"), (b, "vec2")):
        if t._data.ndim != 1:
            raise ShapeError(f"outer: expected 1-D argument '{arg}', but got a "
                             f"{t._data.ndim}-D tensor of shape {shape_str(t.shape)}")
    return mul(_reshape(a, (a._data.shape[0], 1)), b)


ger = outer


@tensor_method("inner")
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dim of both tensors; a 0-d operand just scales."""
    a, b = _operands(input, other, "inner")
    if a.dtype is not b.dtype:
        raise DTypeError(f"inner: expected both operands to have the same dtype, but got "
                         f"{a.dtype.name} and {b.dtype.name}")
    if a._data.ndim == 0 or b._data.ndim == 0:
        return mul(a, b)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise ShapeError(f"inner: the last dims must match, got shapes {shape_str(a.shape)} "
                         f"and {shape_str(b.shape)}")
    return tensordot(a, b, dims=([-1], [-1]))


def _dim_list(dims, ndim: int, arg: str) -> list:
    items = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    out = []
    for d in items:
        if not isinstance(d, (int, np.integer)) or not -ndim <= d < ndim:
            raise ShapeError(f"tensordot: dim {d!r} in the dims of '{arg}' is out of range "
                             f"for a tensor of {ndim} dimension(s)")
        d = int(d) % ndim
        if d in out:
            raise ShapeError(f"tensordot: dim {d} appears more than once in the dims of "
                             f"'{arg}'")
        out.append(d)
    return out


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract dims of ``a`` with dims of ``b``.

    ``dims`` is an int ``n`` (the last ``n`` dims of ``a`` with the first ``n`` of ``b``) or
    a pair of lists ``([dims of a], [dims of b])`` contracted pairwise. The result has the
    remaining dims of ``a`` followed by those of ``b``.
    """
    a = a if type(a) is Tensor else as_tensor_arg(a, "a", "tensordot")
    b = b if type(b) is Tensor else as_tensor_arg(b, "b", "tensordot")
    if a.dtype is not b.dtype:
        raise DTypeError(f"tensordot: expected both operands to have the same dtype, but got "
                         f"{a.dtype.name} and {b.dtype.name}")
    nd_a, nd_b = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise ValueError(f"tensordot: expects dims >= 0, but got dims={dims}")
        if dims > min(nd_a, nd_b):
            raise ShapeError(f"tensordot: dims={dims} is more than the dimensions of a "
                             f"{shape_str(a.shape)} or b {shape_str(b.shape)}")
        dims_a, dims_b = list(range(nd_a - dims, nd_a)), list(range(dims))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        dims_a, dims_b = _dim_list(dims[0], nd_a, "a"), _dim_list(dims[1], nd_b, "b")
    else:
        raise TypeError("tensordot: dims must be an int or a pair of lists of dims, got "
                        f"{dims!r}")
    if len(dims_a) != len(dims_b):
        raise ShapeError(f"tensordot: both dimension lists should have the same length, got "
                         f"{dims_a} for a and {dims_b} for b")
    for da, db in zip(dims_a, dims_b):
        sa, sb = a._data.shape[da], b._data.shape[db]
        if sa != sb and sa != 1 and sb != 1:
            raise ShapeError(f"tensordot: contracted dimensions need to match, but a "
                             f"{shape_str(a.shape)} has size {sa} in dim {da} and b "
                             f"{shape_str(b.shape)} has size {sb} in dim {db}")
    if nd_a + nd_b - len(dims_b) > len(LETTERS):
        raise ValueError("tensordot: too many dimensions (at most 52 in total)")
    sub_a = LETTERS[:nd_a]
    rest = iter(LETTERS[nd_a:])
    sub_b = "".join(sub_a[dims_a[dims_b.index(j)]] if j in dims_b else next(rest)
                    for j in range(nd_b))
    out = "".join(c for i, c in enumerate(sub_a) if i not in dims_a)
    out += "".join(c for j, c in enumerate(sub_b) if j not in dims_b)
    canonical = canonical_equation(f"{sub_a},{sub_b}->{out}",
                                   (a._data.shape, b._data.shape))
    return apply(EINSUM, (a, b), equation=canonical)


@tensor_method("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` with ``input`` broadcast to the product;
    ``beta=0`` ignores ``input`` (even nan/inf in it), as in PyTorch."""
    return _scaled_sum("addmm", input, _named("addmm", mm, mat1, mat2), beta, alpha)


@tensor_method("baddbmm")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches (see ``addmm``)."""
    return _scaled_sum("baddbmm", input, _named("baddbmm", bmm, batch1, batch2), beta, alpha)


def _named(op: str, product, a, b) -> Tensor:
    """``product(a, b)``, its errors prefixed with ``op`` (the function the user called)."""
    try:
        return product(a, b)
    except EmberError as e:
        raise type(e)(f"{op}: {e}") from None


def _scaled_sum(op: str, input, product: Tensor, beta, alpha) -> Tensor:
    if isinstance(input, Tensor) and input.dtype is not product.dtype:
        # PyTorch does not promote here: all three tensors share one dtype
        raise DTypeError(f"{op}: input is {input.dtype.name} but the matrices are "
                         f"{product.dtype.name}; expected one dtype")
    input = as_tensor_arg(input, "input", op)
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        # input's values are ignored (nan * 0 would be nan) but it still gets a zero gradient
        ignored = _make(np.zeros(input._data.shape, dtype=np.bool_))
        return _named(op, add, where(ignored, input, 0), product)
    if beta != 1:
        input = mul(input, beta)
    return _named(op, add, input, product)


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "einsum",
           "tensordot", "addmm", "baddbmm"]
