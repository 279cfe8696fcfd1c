"""``einsum``: one primitive whose gradient is another einsum (``tensordot`` uses it too).

The public function parses the equation once (cached per equation and shapes) into a
*canonical* equation the primitive carries as its only attribute: explicit output, no '...'
(ellipsis dims get letters of their own), and every operand dim of size 1 that broadcasts
against a larger size gets a fresh letter (summing a size-1 dim away is broadcasting).
In canonical form each letter has one size, so the backward can be written as einsums:

- the gradient of operand k contracts the upstream gradient with the other operands;
- a letter of operand k that nothing else has (summed in the forward) is broadcast back by
  an extra operand of ones;
- a letter repeated in operand k (a diagonal, as in 'ii->i') puts the gradient back on the
  diagonal through identity-matrix operands.

The forward of two operands is PyTorch's strategy: sum away letters only one side needs,
then one (batched) ``np.matmul`` over (batch, rows, contracted) x (batch, contracted, cols).
"""

from __future__ import annotations

import functools
import math
import string

import numpy as np

from ..dtypes import int64
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .registry import Op, TensorSpec, apply, as_tensor_arg

LETTERS = string.ascii_letters  # PyTorch's sublist ints 0..51 map to a-z then A-Z
_ELLIPSIS = "."  # one token standing for '...' while parsing


# ------------------------------------------------------------------------ parsing


def _tokens(term: str, where: str) -> list:
    """Subscript letters of one term, with '...' as a single ``_ELLIPSIS`` token."""
    out, i = [], 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != "...":
                raise ValueError(f"einsum: found '.' in {where} that is not part of an "
                                 "ellipsis '...'")
            if _ELLIPSIS in out:
                raise ValueError(f"einsum: {where} has more than one ellipsis '...'")
            out.append(_ELLIPSIS)
            i += 3
            continue
        if c not in LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {where}; subscripts must be "
                             "letters a-z or A-Z")
        out.append(c)
        i += 1
    return out


@functools.lru_cache(maxsize=512)
def canonical_equation(equation: str, shapes: tuple) -> str:
    """The canonical form of ``equation`` for operands of ``shapes`` (see the module doc)."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f"einsum: equation {equation!r} has more than one '->'")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} has subscripts for {len(terms)} "
                         f"operand(s) but {len(shapes)} operand(s) were given")
    parsed = [_tokens(t, f"the subscripts of operand {i}") for i, t in enumerate(terms)]
    free = [c for c in LETTERS if c not in eq]

    # how many dims each '...' covers; they broadcast right-aligned across operands
    n_ell = []
    for i, (toks, shape) in enumerate(zip(parsed, shapes)):
        named = len(toks) - (_ELLIPSIS in toks)
        if _ELLIPSIS in toks:
            if named > len(shape):
                raise ShapeError(f"einsum: operand {i} has {len(shape)} dimension(s) (shape "
                                 f"{shape_str(shape)}) but its subscripts {terms[i]!r} name "
                                 f"{named} besides '...'")
            n_ell.append(len(shape) - named)
        else:
            if named != len(shape):
                raise ShapeError(f"einsum: operand {i} has {len(shape)} dimension(s) (shape "
                                 f"{shape_str(shape)}) but its subscripts {terms[i]!r} name "
                                 f"{named}, and no ellipsis '...' was given")
            n_ell.append(0)
    width = max(n_ell)
    if width > len(free):
        raise ValueError("einsum: too many dimensions under '...' (at most 52 subscripts)")
    ell, free = free[:width], free[width:]

    subs = []
    for toks, n in zip(parsed, n_ell):
        letters = []
        for t in toks:
            letters.extend(ell[width - n:] if t == _ELLIPSIS else [t])
        subs.append(letters)

    def label(c):
        return f"'...' dim {ell.index(c) - width}" if c in ell else f"subscript {c}"

    sizes: dict = {}
    for i, (letters, shape) in enumerate(zip(subs, shapes)):
        mine: dict = {}
        for c, s in zip(letters, shape):
            if mine.setdefault(c, s) != s:
                raise ShapeError(f"einsum: {label(c)} is repeated in operand {i} (shape "
                                 f"{shape_str(shape)}) with different sizes {mine[c]} and {s}")
        for c, s in mine.items():
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = s
            elif s != 1 and s != seen:
                raise ShapeError(f"einsum: {label(c)} has size {s} in operand {i} (shape "
                                 f"{shape_str(shape)}), which does not broadcast with the "
                                 f"size {seen} seen before")

    if arrow:
        out_toks = _tokens(rhs, "the output subscripts")
        out = []
        for t in out_toks:
            if t == _ELLIPSIS:
                out.extend(ell)
                continue
            if t not in sizes:
                raise ValueError(f"einsum: output subscript {t} does not appear in the "
                                 "subscripts of any input operand")
            if t in out:
                raise ValueError(f"einsum: output subscript {t} appears more than once")
            out.append(t)
    else:  # implicit: '...' then the letters seen exactly once, alphabetically
        counts: dict = {}
        for letters in subs:
            for c in letters:
                counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1 and c not in ell)

    # a size-1 dim broadcasting against a larger one gets a letter of its own: as a letter
    # only that operand has, it is summed away, which is exactly broadcasting
    for letters, shape in zip(subs, shapes):
        renamed: dict = {}
        for j, (c, s) in enumerate(zip(letters, shape)):
            if s == 1 and sizes[c] != 1:
                if c not in renamed:
                    if not free:
                        raise ValueError("einsum: too many subscripts (at most 52)")
                    renamed[c] = free.pop(0)
                letters[j] = renamed[c]
    return ",".join("".join(s) for s in subs) + "->" + "".join(out)


def _letter_sizes(subs: list, shapes) -> dict:
    sizes: dict = {}
    for letters, shape in zip(subs, shapes):
        for c, s in zip(letters, shape):
            sizes[c] = s
    return sizes


@functools.lru_cache(maxsize=512)
def _sums_alone(equation: str) -> bool:
    """Whether a letter of one operand only is summed away. PyTorch does that with ``sum``,
    which turns bool and integer operands into int64; ember follows (and must not let
    NumPy sum bools, which would be a logical or)."""
    ins, out = equation.split("->")
    terms = [set(t) for t in ins.split(",")]
    return any(c not in out and sum(c in t for t in terms) == 1 for t in terms for c in t)


def _einsum_infer(*specs: TensorSpec, equation: str) -> TensorSpec:
    canonical_equation(equation, tuple(tuple(s.shape) for s in specs))  # validates
    _check_dtypes([s.dtype for s in specs], "einsum")
    ins, out = equation.split("->")
    sizes = _letter_sizes(ins.split(","), [s.shape for s in specs])
    dtype = specs[0].dtype
    if not dtype.is_floating_point and _sums_alone(equation):
        dtype = int64
    return TensorSpec(tuple(sizes[c] for c in out), dtype)


def _check_dtypes(dtypes: list, op: str) -> None:
    first = dtypes[0]
    for i, d in enumerate(dtypes):
        if d is not first:
            raise DTypeError(f"{op}: expected all operands to have the same dtype, but "
                             f"operand 0 is {first.name} and operand {i} is {d.name}")
    if first.category == 0 and len(dtypes) > 1:
        raise DTypeError(f"{op}: products of bool tensors are not supported; convert them "
                         "to an integer or floating dtype first")


# ------------------------------------------------------------------------ forward


def blas_layout(x: np.ndarray) -> np.ndarray:
    """``x`` when BLAS can read its matrices in place (either of the last two strides is one
    element, as for a transposed view), else a contiguous copy: NumPy would otherwise fall
    back to a slow loop, and a copy makes strided inputs give bit-identical results."""
    if x.flags.c_contiguous:
        return x
    strides, item = x.strides, x.itemsize
    if x.ndim >= 2 and (strides[-1] == item or strides[-2] == item):
        return x
    return np.ascontiguousarray(x)


def matmul_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul`` on BLAS-ready layouts (the forward of matmul, mm, bmm, mv, dot)."""
    if a.flags.c_contiguous and b.flags.c_contiguous:
        return np.matmul(a, b)
    return np.matmul(blas_layout(a), blas_layout(b))


@functools.lru_cache(maxsize=1024)
def _pair_plan(equation: str, shape_a: tuple, shape_b: tuple) -> tuple:
    """How to contract two operands with one matmul, worked out once per equation/shapes:
    (reduce-equation, permutation, 2-D/3-D shape) for each operand, the shape the product is
    reshaped to, and the final permutation (None when it is the identity)."""
    ins, so = equation.split("->")
    sa, sb = ins.split(",")

    def kept(sub, other):
        # diagonals of repeated letters, and sums of letters nobody else needs, come first
        k = "".join(c for c in dict.fromkeys(sub) if c in other or c in so)
        return k, (None if k == sub else f"{sub}->{k}")

    size = dict(zip(sa, shape_a))
    size.update(zip(sb, shape_b))
    ka, reduce_a = kept(sa, sb)
    kb, reduce_b = kept(sb, ka)
    batch = [c for c in ka if c in kb and c in so]
    inner = [c for c in ka if c in kb and c not in so]
    left = [c for c in ka if c not in kb]
    right = [c for c in kb if c not in ka]
    nb, nl, ni, nr = (math.prod(size[c] for c in group)
                      for group in (batch, left, inner, right))
    lead = (nb,) if batch else ()

    def as_matrix(sub, rows, cols, n_rows, n_cols):
        # an operand already laid out as (batch, cols, rows) is used as a transposed view,
        # which BLAS reads in place, rather than permuted into a copy
        if list(sub) == batch + cols + rows and list(sub) != batch + rows + cols:
            return list(range(len(sub))), lead + (n_cols, n_rows), True
        return [sub.index(c) for c in batch + rows + cols], lead + (n_rows, n_cols), False

    order = batch + left + right
    perm = [order.index(c) for c in so]
    return (reduce_a, *as_matrix(ka, left, inner, nl, ni),
            reduce_b, *as_matrix(kb, inner, right, ni, nr),
            [size[c] for c in order], None if perm == sorted(perm) else perm)


def _contract_pair(equation: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PyTorch's strategy: reduce each side, then one (batched) matmul of
    (batch, rows, contracted) by (batch, contracted, cols)."""
    (reduce_a, perm_a, mat_a, swap_a, reduce_b, perm_b, mat_b, swap_b, shape,
     perm) = _pair_plan(equation, a.shape, b.shape)
    if reduce_a is not None:
        a = np.einsum(reduce_a, _contiguous(a))
    if reduce_b is not None:
        b = np.einsum(reduce_b, _contiguous(b))
    a = a.transpose(perm_a).reshape(mat_a)
    b = b.transpose(perm_b).reshape(mat_b)
    r = matmul_forward(a.swapaxes(-1, -2) if swap_a else a, b.swapaxes(-1, -2) if swap_b else b)
    r = r.reshape(shape)
    return r if perm is None else r.transpose(perm)


def _contiguous(x: np.ndarray) -> np.ndarray:
    # NumPy sums a strided array in a different order than a contiguous one; a copy keeps
    # results independent of the input's layout (as the op tests require)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _einsum_forward(*arrays: np.ndarray, equation: str) -> np.ndarray:
    if arrays[0].dtype.kind in "biu" and _sums_alone(equation):
        arrays = tuple(a.astype(np.int64) for a in arrays)
    if len(arrays) == 2:
        return _contract_pair(equation, arrays[0], arrays[1])
    if len(arrays) == 1:
        r = np.einsum(equation, _contiguous(arrays[0]))
        # a transpose or diagonal comes back as a view; ember's result owns its memory
        return r.copy() if np.may_share_memory(r, arrays[0]) else r
    return np.einsum(equation, *map(_contiguous, arrays), optimize="greedy")


# ------------------------------------------------------------------------ backward


def _einsum_vjp(ctx, g):
    equation = ctx.attrs["equation"]
    ins, out = equation.split("->")
    subs = ins.split(",")
    inputs = ctx.inputs
    sizes = _letter_sizes(subs, [t.shape for t in inputs])
    np_dtype = g._data.dtype
    grads = []
    for k, need in enumerate(ctx.needs_input_grad):
        if not need:
            grads.append(None)
            continue
        free = (c for c in LETTERS if c not in equation)
        terms = [out] + [s for j, s in enumerate(subs) if j != k]
        operands = [g] + [t for j, t in enumerate(inputs) if j != k]
        available = set("".join(terms))
        target, seen, missing = [], set(), []
        for c in subs[k]:
            if c in seen:  # back onto the diagonal: times identity(c, fresh letter)
                f = next(free)
                terms.append(c + f)
                operands.append(_make(np.eye(sizes[c], dtype=np_dtype)))
                target.append(f)
                continue
            seen.add(c)
            target.append(c)
            if c not in available and subs[k].count(c) == 1:
                missing.append(c)
        if missing:  # summed only in operand k: its gradient is constant along them
            terms.append("".join(missing))
            operands.append(_make(np.ones([sizes[c] for c in missing], dtype=np_dtype)))
        grads.append(apply(EINSUM, tuple(operands),
                           equation=",".join(terms) + "->" + "".join(target)))
    return tuple(grads)


EINSUM = Op("einsum", _einsum_forward, _einsum_vjp, _einsum_infer)


# ------------------------------------------------------------------------ public functions


def _sublist_equation(args: tuple) -> tuple:
    """PyTorch's ``einsum(op0, [0, 1], op1, [1, 2], [0, 2])`` form as (equation, operands)."""

    def term(sub) -> str:
        parts = []
        for s in sub:
            if s is Ellipsis:
                parts.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < len(LETTERS):
                parts.append(LETTERS[s])
            else:
                raise ValueError(f"einsum: sublist entries must be ints in [0, 52) or "
                                 f"Ellipsis, got {s!r}")
        return "".join(parts)

    n = len(args) - len(args) % 2  # an odd count ends with the output sublist
    operands = args[0:n:2]
    equation = ",".join(term(t) for t in args[1:n:2])
    if len(args) % 2:
        equation += "->" + term(args[-1])
    return equation, tuple(operands)


def einsum(*args) -> Tensor:
    """Einstein summation: ``einsum('bij,bjk->bik', a, b)``.

    Operands may be given as separate arguments or one list; the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` is accepted too. Supports an implicit output
    (the letters that occur once, alphabetically), repeated letters (diagonals, traces),
    '...' for broadcast batch dims, and size-1 dims broadcasting as in PyTorch. All operands
    must have the same dtype.
    """
    if not args:
        raise TypeError("einsum: missing the equation and the operands")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise ValueError("einsum: must provide at least one operand")
    operands = tuple(t if type(t) is Tensor else as_tensor_arg(t, f"operand {i}", "einsum")
                     for i, t in enumerate(operands))
    _check_dtypes([t.dtype for t in operands], "einsum")
    canonical = canonical_equation(equation, tuple(t._data.shape for t in operands))
    return apply(EINSUM, operands, equation=canonical)
