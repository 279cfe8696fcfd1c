"""Op-info entries for ember/ops/linalg.py and ember/ops/einsum.py (matrix products)."""

from __future__ import annotations

import numpy as np

import ember

from .op_info import OpInfo, Sample, rand

try:
    import torch
except ImportError:
    torch = None


def _ints(rng, *shape):
    return rng.integers(-5, 6, size=shape).astype(np.int64)


def matmul_samples(rng):
    pairs = [
        ((3, 4), (4, 5), "2d@2d"),
        ((4,), (4,), "1d@1d"),
        ((4,), (4, 5), "1d@2d"),
        ((3, 4), (4,), "2d@1d"),
        ((4,), (2, 4, 5), "1d@3d"),
        ((2, 3, 4), (4,), "3d@1d"),
        ((4,), (2, 3, 4, 5), "1d@4d"),
        ((2, 3, 4), (4, 5), "3d@2d (batch folded into rows)"),
        ((3, 4), (2, 4, 5), "2d@3d (batch summed)"),
        ((2, 3, 4), (2, 4, 5), "3d@3d"),
        ((2, 1, 3, 4), (5, 4, 2), "broadcast batch 4d@3d"),
        ((1, 3, 4), (2, 1, 4, 5), "broadcast batch both"),
        ((0, 3), (3, 4), "empty rows"),
        ((3, 0), (0, 4), "empty inner -> zeros"),
        ((2, 0, 3), (3, 4), "empty 3d@2d"),
        ((0,), (0,), "empty dot"),
    ]
    out = [Sample((rand(rng, *sa), rand(rng, *sb)), name=n) for sa, sb, n in pairs]
    out.append(Sample((_ints(rng, 3, 4), _ints(rng, 4, 2)), name="int64 (no grad)"))
    out.append(Sample((rand(rng, 3, 4), rand(rng, 4, 5)), diff=(1,), name="grad of b only"))
    out.append(Sample((rand(rng, 2, 3, 4), rand(rng, 4, 5)), diff=(0,), name="grad of a only"))
    return out


def mm_samples(rng):
    return [Sample((rand(rng, 3, 4), rand(rng, 4, 5))),
            Sample((rand(rng, 1, 4), rand(rng, 4, 1)), name="1x1 result"),
            Sample((rand(rng, 3, 0), rand(rng, 0, 2)), name="empty inner"),
            Sample((_ints(rng, 2, 3), _ints(rng, 3, 2)), name="int64")]


def bmm_samples(rng):
    return [Sample((rand(rng, 2, 3, 4), rand(rng, 2, 4, 5))),
            Sample((rand(rng, 1, 3, 4), rand(rng, 1, 4, 2)), name="batch of 1"),
            Sample((rand(rng, 0, 3, 4), rand(rng, 0, 4, 2)), name="empty batch")]


def mv_samples(rng):
    return [Sample((rand(rng, 3, 4), rand(rng, 4))),
            Sample((rand(rng, 0, 4), rand(rng, 4)), name="empty rows")]


def vector_pair_samples(rng):
    return [Sample((rand(rng, 5), rand(rng, 5))), Sample((rand(rng, 1), rand(rng, 1))),
            Sample((rand(rng, 0), rand(rng, 0)), name="empty -> 0")]


def outer_samples(rng):
    return [Sample((rand(rng, 3), rand(rng, 4))),
            Sample((rand(rng, 0), rand(rng, 2)), name="empty"),
            Sample((_ints(rng, 3), rand(rng, 2)), name="int64 x float32 promotes")]


def inner_samples(rng):
    return [Sample((rand(rng, 4), rand(rng, 4)), name="1d"),
            Sample((rand(rng, 2, 3, 4), rand(rng, 5, 4)), name="nd"),
            Sample((rand(rng), rand(rng, 2, 3)), name="0-d scales")]


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("i,i->", [(4,), (4,)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...i", [(3, 2, 3)]),
    ("...ij->ij", [(2, 3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("bn,bn->b", [(4, 3), (4, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij,ij->ij", [(1, 4), (3, 4)]),
    ("ij,jk", [(3, 4), (1, 5)]),
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("ij,ik->jk", [(0, 3), (0, 2)]),
    ("ij,jk->ik", [(3, 0), (0, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("ba", [(2, 3)]),
    (",->", [(), ()]),
    ("i,->i", [(3,), ()]),
    (" ij , jk -> ik ", [(2, 3), (3, 2)]),
]


def einsum_samples(rng):
    out = [Sample((eq,) + tuple(rand(rng, *s) for s in shapes), name=eq)
           for eq, shapes in EINSUM_CASES]
    out.append(Sample(("ij,jk->ik", _ints(rng, 2, 3), _ints(rng, 3, 2)), name="int64"))
    i32 = _ints(rng, 2, 3).astype(np.int32)
    # PyTorch sums a letter of one operand with sum(), which makes int64; contractions
    # between operands keep int32
    for eq, ops in [("ij->", (i32,)), ("ij->ji", (i32,)), ("ij,kj->", (i32, i32)),
                    ("ij,ij->i", (i32, i32)), ("ij->j", (i32 > 0,)), ("ij->ji", (i32 > 0,))]:
        out.append(Sample((eq,) + ops, name=f"{eq} {ops[0].dtype}"))
    a, b = rand(rng, 3, 4), rand(rng, 4, 2)
    out.append(Sample((a, [0, 1], b, [1, 2], [0, 2]), name="sublist form"))
    out.append(Sample((rand(rng, 2, 3, 4), [Ellipsis, 1, 2], rand(rng, 4), [2]),
                      name="sublist with ellipsis, implicit output"))
    return out


def einsum_list_samples(rng):
    return [Sample((rand(rng, 3, 4), rand(rng, 4, 5)), {"equation": "ij,jk->ik"})]


def tensordot_samples(rng):
    return [
        Sample((rand(rng, 3, 4, 5), rand(rng, 4, 5, 2)), name="default dims=2"),
        Sample((rand(rng, 3, 4, 5), rand(rng, 5, 2)), {"dims": 1}, name="dims=1"),
        Sample((rand(rng, 3, 4), rand(rng, 2, 5)), {"dims": 0}, name="dims=0 (outer)"),
        Sample((rand(rng, 3, 4, 5), rand(rng, 5, 3, 2)), {"dims": ([0, 2], [1, 0])},
               name="pairs, out of order"),
        Sample((rand(rng, 3, 4, 5), rand(rng, 4, 5)), {"dims": ([-2, -1], [0, 1])},
               name="negative dims"),
        Sample((rand(rng, 3, 4, 5), rand(rng, 1, 5, 6)), {"dims": ([1, 2], [0, 1])},
               name="size-1 broadcasts"),
        Sample((rand(rng, 3, 4), rand(rng, 4, 2)), {"dims": [[1], [0]]}, name="list of lists"),
        Sample((rand(rng, 0, 4), rand(rng, 4, 2)), {"dims": 1}, name="empty"),
    ]


def addmm_samples(rng):
    return [
        Sample((rand(rng, 3, 5), rand(rng, 3, 4), rand(rng, 4, 5))),
        Sample((rand(rng, 5), rand(rng, 3, 4), rand(rng, 4, 5)), {"beta": 0.5, "alpha": 2.0},
               name="bias row broadcast, beta/alpha"),
        Sample((rand(rng, 3, 5), rand(rng, 3, 4), rand(rng, 4, 5)), {"beta": 0},
               name="beta=0"),
    ]


def baddbmm_samples(rng):
    return [Sample((rand(rng, 2, 3, 5), rand(rng, 2, 3, 4), rand(rng, 2, 4, 5))),
            Sample((rand(rng, 1, 5), rand(rng, 2, 3, 4), rand(rng, 2, 4, 5)),
                   {"alpha": -1.5, "beta": 2.0}, name="broadcast input")]


T = torch  # short for the torch_fn column; None when PyTorch is not installed
_tol = {"atol": 2e-5, "rtol": 1e-5}

OPS = [
    OpInfo("matmul", ember.matmul, matmul_samples, torch_fn=T and T.matmul, np_fn=np.matmul,
           gradgrad=True, **_tol),
    OpInfo("Tensor.__matmul__", lambda a, b: a @ b, matmul_samples,
           torch_fn=lambda a, b: a @ b, gradgrad=True, **_tol),
    OpInfo("Tensor.__rmatmul__ (ndarray @ Tensor)", lambda a, b: a.numpy() @ b,
           lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 4, 2)), diff=(1,))],
           torch_fn=lambda a, b: a.detach() @ b, gradgrad=True, **_tol),
    OpInfo("mm", ember.mm, mm_samples, torch_fn=T and T.mm, gradgrad=True, **_tol),
    OpInfo("Tensor.mm", lambda a, b: a.mm(b), mm_samples, torch_fn=T and T.mm, **_tol),
    OpInfo("bmm", ember.bmm, bmm_samples, torch_fn=T and T.bmm, gradgrad=True, **_tol),
    OpInfo("mv", ember.mv, mv_samples, torch_fn=T and T.mv, gradgrad=True, **_tol),
    OpInfo("dot", ember.dot, vector_pair_samples, torch_fn=T and T.dot, gradgrad=True, **_tol),
    OpInfo("vdot", ember.vdot, vector_pair_samples, torch_fn=T and T.vdot, gradgrad=True,
           **_tol),
    OpInfo("outer", ember.outer, outer_samples, torch_fn=T and T.outer, np_fn=np.outer,
           gradgrad=True, **_tol),
    OpInfo("ger", ember.ger, outer_samples, torch_fn=T and T.outer, gradgrad=True, **_tol),
    OpInfo("inner", ember.inner, inner_samples, torch_fn=T and T.inner, np_fn=np.inner,
           gradgrad=True, **_tol),
    OpInfo("einsum", ember.einsum, einsum_samples, torch_fn=T and T.einsum, gradgrad=True,
           **_tol),
    OpInfo("einsum (operand list)", lambda a, b, equation: ember.einsum(equation, [a, b]),
           einsum_list_samples, torch_fn=lambda a, b, equation: torch.einsum(equation, [a, b]),
           gradgrad=True, **_tol),
    OpInfo("tensordot", ember.tensordot, tensordot_samples, torch_fn=T and T.tensordot,
           gradgrad=True, **_tol),
    OpInfo("addmm", ember.addmm, addmm_samples, torch_fn=T and T.addmm, gradgrad=True, **_tol),
    OpInfo("baddbmm", ember.baddbmm, baddbmm_samples, torch_fn=T and T.baddbmm, gradgrad=True,
           **_tol),
]
