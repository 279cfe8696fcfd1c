"""Op-info entries for the movement ops (ember/ops/movement*.py, ember/ops/pad.py).

Every movement op is linear in its input, so every entry also checks second-order gradients.
"""

from __future__ import annotations

import warnings

import numpy as np

import ember

from .op_info import OpInfo, Sample, rand

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None


def S(*args, name="", diff=None, **kwargs):
    return Sample(args, kwargs, diff=diff, name=name)


def func(name):
    """The same-named function of ember and torch."""
    return (lambda *a, **k: getattr(ember, name)(*a, **k),
            lambda *a, **k: getattr(torch, name)(*a, **k))


def method(name):
    """The same-named Tensor method of ember and torch."""
    fn = (lambda x, *a, **k: getattr(x, name)(*a, **k))
    return fn, fn


def prop(name):
    def torch_fn(x):
        with warnings.catch_warnings():  # torch deprecates .T for ndim != 2; ember follows it
            warnings.simplefilter("ignore", UserWarning)
            return getattr(x, name)
    return (lambda x: getattr(x, name)), torch_fn


def listed(name):
    """A function taking a list of tensors: the table passes them positionally."""
    return (lambda *ts, **k: getattr(ember, name)(list(ts), **k),
            lambda *ts, **k: getattr(torch, name)(list(ts), **k))


def entry(name, fns, samples, **kw):
    ember_fn, torch_fn = fns
    return OpInfo(name, ember_fn, samples, torch_fn=torch_fn, gradgrad=True, **kw)


# ------------------------------------------------------------------------ samples


def reshape_samples(rng):
    return [S(rand(rng, 3, 4), (2, 6)), S(rand(rng, 3, 4), (-1,), name="infer"),
            S(rand(rng, 2, 3, 4), (4, -1, 2), name="infer-middle"),
            S(rand(rng), (1, 1), name="0-d"), S(rand(rng, 1), (), name="to-0-d"),
            S(rand(rng, 0, 3), (3, -1), name="empty")]


def reshape_varargs_samples(rng):
    return [S(rand(rng, 3, 4), 6, 2), S(rand(rng, 2, 3, 4), -1, 4), S(rand(rng), 1, name="0-d"),
            S(rand(rng, 2, 3), shape=(3, 2), name="kwarg")]


def flatten_samples(rng):
    return [S(rand(rng, 2, 3, 4)), S(rand(rng, 2, 3, 4), 1), S(rand(rng, 2, 3, 4, 2), 1, -2),
            S(rand(rng, 2, 3, 4), start_dim=-2, end_dim=-1, name="kwargs"),
            S(rand(rng), name="0-d"), S(rand(rng, 2, 0, 3), 1, name="empty")]


def unflatten_samples(rng):
    return [S(rand(rng, 2, 12), 1, (3, 4)), S(rand(rng, 12, 2), 0, (2, -1, 3)),
            S(rand(rng, 2, 6), -1, (6, 1), name="negative-dim"),
            S(rand(rng, 0, 6), 1, (2, 3), name="empty")]


def unary_samples(rng):
    return [S(rand(rng, 3, 4)), S(rand(rng, 2, 3, 4)), S(rand(rng), name="0-d"),
            S(rand(rng, 0, 3), name="empty")]


def permute_samples(rng):
    return [S(rand(rng, 2, 3, 4), (2, 0, 1)), S(rand(rng, 2, 3, 4), (-1, 0, -2), name="neg"),
            S(rand(rng), (), name="0-d"), S(rand(rng, 0, 3), (1, 0), name="empty"),
            S(rand(rng, 2, 3), dims=(1, 0), name="kwargs")]


def permute_method_samples(rng):
    return [S(rand(rng, 2, 3, 4), 1, 2, 0), S(rand(rng, 2, 3, 4), (2, 1, 0), name="tuple")]


def transpose_samples(rng):
    return [S(rand(rng, 2, 3, 4), 0, 2), S(rand(rng, 2, 3, 4), -1, -2, name="neg"),
            S(rand(rng, 3), 0, 0, name="same"), S(rand(rng), 0, -1, name="0-d"),
            S(rand(rng, 0, 3), 0, 1, name="empty")]


def t_samples(rng):
    return [S(rand(rng, 3, 4)), S(rand(rng, 3), name="1-d"), S(rand(rng), name="0-d"),
            S(rand(rng, 0, 2), name="empty")]


def batched_matrix_samples(rng):
    return [S(rand(rng, 3, 4)), S(rand(rng, 2, 3, 4)), S(rand(rng, 2, 0, 3), name="empty")]


def movedim_samples(rng):
    return [S(rand(rng, 2, 3, 4), 0, -1), S(rand(rng, 2, 3, 4, 5), (0, 1), (2, 0)),
            S(rand(rng, 2, 3, 4), [-1], [0], name="list"),
            S(rand(rng, 2, 0, 4), 1, 2, name="empty")]


def squeeze_samples(rng):
    return [S(rand(rng, 1, 3, 1, 4)), S(rand(rng, 1, 3, 1, 4), 0),
            S(rand(rng, 1, 3, 1, 4), -2, name="neg"),
            S(rand(rng, 1, 3, 1, 4), (0, 2), name="tuple"),
            S(rand(rng, 1, 3, 1, 4), 1, name="not-size-1"), S(rand(rng), name="0-d"),
            S(rand(rng), 0, name="0-d-dim"), S(rand(rng, 0, 1), name="empty"),
            S(rand(rng, 2, 1), dim=-1, name="kwargs")]


def unsqueeze_samples(rng):
    return [S(rand(rng, 3, 4), 0), S(rand(rng, 3, 4), -1, name="neg-end"),
            S(rand(rng, 3, 4), 1), S(rand(rng, 3, 4), -3, name="neg-front"),
            S(rand(rng), 0, name="0-d"), S(rand(rng, 0, 2), 1, name="empty")]


def diagonal_samples(rng):
    return [S(rand(rng, 3, 4)), S(rand(rng, 3, 4), 1), S(rand(rng, 4, 3), -2, name="below"),
            S(rand(rng, 2, 3, 4), 1, -1, 0, name="batched-neg"),
            S(rand(rng, 3, 4), 5, name="out-of-range-offset"),
            S(rand(rng, 2, 3, 4), offset=-1, dim1=1, dim2=2, name="kwargs"),
            S(rand(rng, 0, 3), name="empty")]


def narrow_samples(rng):
    return [S(rand(rng, 4, 5), 0, 1, 2), S(rand(rng, 4, 5), -1, -3, 2, name="neg"),
            S(rand(rng, 4, 5), 1, 5, 0, name="length-0"), S(rand(rng, 4, 0), 0, 0, 4, name="empty")]


def select_samples(rng):
    return [S(rand(rng, 3, 4), 0, 1), S(rand(rng, 3, 4), -1, -1, name="neg"),
            S(rand(rng, 5), 0, 2, name="to-0-d"), S(rand(rng, 3, 0), 0, 2, name="empty")]


def cat_samples(rng):
    return [S(rand(rng, 2, 3), rand(rng, 4, 3)),
            S(rand(rng, 2, 3), rand(rng, 2, 1), rand(rng, 2, 0), dim=-1, name="neg-dim"),
            S(rand(rng, 2, 3), rand(rng, 2, 3, dtype=np.float64), dim=1, name="promote"),
            S(rand(rng, 2, 3), np.arange(6, dtype=np.int64).reshape(2, 3), name="int-float"),
            S(rand(rng, 2, 3), np.zeros(0, np.float32), rand(rng, 1, 3), name="legacy-empty"),
            S(rand(rng, 3), name="single"), S(rand(rng, 0, 2), rand(rng, 0, 2), name="empty")]


def stack_samples(rng):
    return [S(rand(rng, 3, 4), rand(rng, 3, 4), rand(rng, 3, 4)),
            S(rand(rng, 3, 4), rand(rng, 3, 4), dim=-1, name="neg-dim"),
            S(rand(rng, 3, 4), rand(rng, 3, 4), dim=1, name="middle"),
            S(rand(rng), rand(rng), name="0-d"),
            S(rand(rng, 2), rand(rng, 2, dtype=np.float64), name="promote"),
            S(rand(rng, 0, 2), rand(rng, 0, 2), name="empty")]


def hstack_samples(rng):
    return [S(rand(rng, 3), rand(rng, 2)), S(rand(rng, 2, 3), rand(rng, 2, 1)),
            S(rand(rng), rand(rng), name="0-d")]


def vstack_samples(rng):
    return [S(rand(rng, 3), rand(rng, 3)), S(rand(rng, 2, 3), rand(rng, 1, 3), rand(rng, 3)),
            S(rand(rng), rand(rng), name="0-d")]


def dstack_samples(rng):
    return [S(rand(rng, 2, 3), rand(rng, 2, 3)), S(rand(rng, 3), rand(rng, 1, 3, 2)),
            S(rand(rng, 2, 3, 1), rand(rng, 2, 3, 2))]


def atleast_samples(rng):
    return [S(rand(rng), name="0-d"), S(rand(rng, 3), name="1-d"), S(rand(rng, 2, 3)),
            S(rand(rng, 2, 3, 4)), S(rand(rng), rand(rng, 2), name="several")]


def split_samples(rng):
    return [S(rand(rng, 5, 4), 2), S(rand(rng, 5, 4), [1, 4], name="sections"),
            S(rand(rng, 5, 4), 3, dim=1, name="dim-kwarg"), S(rand(rng, 5, 4), [2, 0, 2], -1,
                                                               name="zero-section"),
            S(rand(rng, 0, 3), 2, name="empty")]


def chunk_samples(rng):
    return [S(rand(rng, 5, 4), 2), S(rand(rng, 6), 4, name="fewer"),
            S(rand(rng, 2, 7), 3, dim=-1, name="neg-dim"), S(rand(rng, 0), 3, name="empty")]


def unbind_samples(rng):
    return [S(rand(rng, 3, 4)), S(rand(rng, 3, 4), 1), S(rand(rng, 2, 3), dim=-1, name="kwargs"),
            S(rand(rng, 3), name="to-0-d"), S(rand(rng, 3, 0), name="empty-pieces")]


def tensor_split_samples(rng):
    return [S(rand(rng, 7), 3), S(rand(rng, 7), [1, 5], name="indices"),
            S(rand(rng, 7), [-2], name="neg-index"),
            S(rand(rng, 2, 7), [5, 2], dim=1, name="decreasing"),
            S(rand(rng, 2, 7), (3, 9), -1, name="past-end")]


def flip_samples(rng):
    return [S(rand(rng, 2, 3, 4), (0, 2)), S(rand(rng, 2, 3, 4), [-1], name="neg"),
            S(rand(rng), (), name="0-d"), S(rand(rng, 0, 3), (0, 1), name="empty")]


def roll_samples(rng):
    return [S(rand(rng, 3, 4), 1), S(rand(rng, 3, 4), (1, -2), (0, 1), name="two-dims"),
            S(rand(rng, 3, 4), -5, 1, name="wrap"), S(rand(rng, 3, 4), shifts=2, dims=-1,
                                                      name="kwargs"),
            S(rand(rng), 1, name="0-d"), S(rand(rng, 0, 3), 2, 1, name="empty")]


def repeat_samples(rng):
    return [S(rand(rng, 3), 2, 2), S(rand(rng, 2, 3), 1, 2), S(rand(rng, 2, 3), (2, 1, 3),
                                                              name="tuple-new-dim"),
            S(rand(rng), 3, name="0-d"), S(rand(rng, 2, 3), 2, 0, name="zero"),
            S(rand(rng, 0, 2), 2, 3, name="empty")]


def tile_samples(rng):
    return [S(rand(rng, 2, 3), (2,)), S(rand(rng, 2, 3), (2, 2, 2)), S(rand(rng), (3,), name="0-d")]


def repeat_interleave_samples(rng):
    return [S(rand(rng, 2, 3), 2, 1), S(rand(rng, 2, 3), 2, name="flat"),
            S(rand(rng, 2, 3), [1, 0, 2], dim=-1, name="counts"),
            S(rand(rng), 3, name="0-d"), S(rand(rng, 0, 2), 2, 0, name="empty")]


def triangle_samples(rng):
    return [S(rand(rng, 4, 5)), S(rand(rng, 4, 5), 1), S(rand(rng, 4, 5), -2),
            S(rand(rng, 2, 3, 3), diagonal=1, name="batched-kwarg"),
            S(rand(rng, 0, 3), name="empty")]


def diag_samples(rng):
    return [S(rand(rng, 3)), S(rand(rng, 3), 1), S(rand(rng, 3), -2), S(rand(rng, 3, 4)),
            S(rand(rng, 3, 4), 2), S(rand(rng, 4, 3), diagonal=-1, name="kwargs"),
            S(rand(rng, 0), name="empty")]


def pad_constant_samples(rng):
    return [S(rand(rng, 3, 4), (1, 2)), S(rand(rng, 2, 3, 4), (1, 1, 2, 0), value=1.5),
            S(rand(rng, 3, 4), (-1, 1), name="crop"), S(rand(rng, 2, 3, 4), (0, 0, -1, -2, 0, 1),
                                                           name="crop-and-pad"),
            S(rand(rng, 0, 3), (1, 1), name="empty"),
            S(rand(rng, 2, 3), [1, 0, 0, 2], "constant", 0.0, name="positional")]


def pad_mode_samples(mode):
    def samples(rng):
        return [S(rand(rng, 2, 5), (2, 3), mode=mode),
                S(rand(rng, 2, 3, 4), (1, 2, 2, 1), mode=mode),
                S(rand(rng, 1, 2, 3, 4), (0, 3, 1, 0), mode=mode, name="one-sided"),
                S(rand(rng, 1, 2, 3, 4, 4), (1, 1, 2, 2, 1, 2), mode=mode, name="3-dims")]
    return samples


def _pad(*a, **k):
    return F.pad(*a, **k)


def _repeat_interleave_torch(x, repeats, dim=None):
    if isinstance(repeats, list):
        repeats = torch.tensor(repeats)
    return torch.repeat_interleave(x, repeats, dim)


# ------------------------------------------------------------------------ the table

OPS = [
    entry("reshape", func("reshape"), reshape_samples),
    entry("Tensor.reshape", method("reshape"), reshape_varargs_samples),
    entry("Tensor.view", method("view"), reshape_samples, noncontiguous=False),
    entry("Tensor.view_as", (lambda x, o: x.view_as(o), lambda x, o: x.view_as(o)),
          lambda rng: [S(rand(rng, 3, 4), rand(rng, 6, 2), diff=(0,))], noncontiguous=False),
    entry("Tensor.reshape_as", (lambda x, o: x.reshape_as(o), lambda x, o: x.reshape_as(o)),
          lambda rng: [S(rand(rng, 3, 4), rand(rng, 2, 3, 2), diff=(0,))]),
    entry("flatten", func("flatten"), flatten_samples),
    entry("unflatten", func("unflatten"), unflatten_samples),
    entry("ravel", func("ravel"), unary_samples),
    entry("permute", func("permute"), permute_samples),
    entry("Tensor.permute", method("permute"), permute_method_samples),
    entry("transpose", func("transpose"), transpose_samples),
    entry("swapaxes", func("swapaxes"), lambda rng: [S(rand(rng, 2, 3, 4), 0, -1)]),
    entry("swapdims", func("swapdims"), lambda rng: [S(rand(rng, 2, 3), 1, 0)]),
    entry("t", func("t"), t_samples),
    entry("Tensor.T", prop("T"), lambda rng: [S(rand(rng, 3, 4)), S(rand(rng, 3)),
                                              S(rand(rng), name="0-d")]),
    entry("Tensor.mT", prop("mT"), batched_matrix_samples),
    entry("Tensor.mH", prop("mH"), batched_matrix_samples),
    entry("movedim", func("movedim"), movedim_samples),
    entry("moveaxis", func("moveaxis"), lambda rng: [S(rand(rng, 2, 3, 4), -1, 0)]),
    entry("squeeze", func("squeeze"), squeeze_samples),
    entry("unsqueeze", func("unsqueeze"), unsqueeze_samples),
    entry("diagonal", func("diagonal"), diagonal_samples),
    entry("clone", func("clone"), unary_samples),
    entry("Tensor.contiguous", method("contiguous"), unary_samples),
    entry("narrow", func("narrow"), narrow_samples),
    entry("select", func("select"), select_samples),
    entry("cat", listed("cat"), cat_samples),
    entry("concat", listed("concat"), lambda rng: [S(rand(rng, 2, 3), rand(rng, 2, 2), dim=1)]),
    entry("concatenate", listed("concatenate"), lambda rng: [S(rand(rng, 1, 3), rand(rng, 2, 3))]),
    entry("stack", listed("stack"), stack_samples),
    entry("hstack", listed("hstack"), hstack_samples),
    entry("vstack", listed("vstack"), vstack_samples),
    entry("dstack", listed("dstack"), dstack_samples),
    entry("atleast_1d", func("atleast_1d"), atleast_samples),
    entry("atleast_2d", func("atleast_2d"), atleast_samples),
    entry("atleast_3d", func("atleast_3d"), atleast_samples),
    entry("split", func("split"), split_samples),
    entry("Tensor.split", method("split"), lambda rng: [S(rand(rng, 4, 6), 4, 1)]),
    entry("chunk", func("chunk"), chunk_samples),
    entry("unbind", func("unbind"), unbind_samples),
    entry("tensor_split", func("tensor_split"), tensor_split_samples),
    entry("flip", func("flip"), flip_samples),
    entry("Tensor.flip", method("flip"), lambda rng: [S(rand(rng, 2, 3), 0, 1)]),
    entry("fliplr", func("fliplr"), lambda rng: [S(rand(rng, 2, 3)), S(rand(rng, 2, 3, 4))]),
    entry("flipud", func("flipud"), lambda rng: [S(rand(rng, 3)), S(rand(rng, 2, 3))]),
    entry("roll", func("roll"), roll_samples),
    entry("Tensor.repeat", method("repeat"), repeat_samples),
    entry("tile", func("tile"), tile_samples),
    entry("Tensor.tile", method("tile"), lambda rng: [S(rand(rng, 2, 3), 2, 1, 2)]),
    entry("repeat_interleave", (ember.repeat_interleave, _repeat_interleave_torch),
          repeat_interleave_samples),
    entry("tril", func("tril"), triangle_samples),
    entry("triu", func("triu"), triangle_samples),
    entry("diag", func("diag"), diag_samples),
    entry("pad", (ember.pad, _pad), pad_constant_samples),
    entry("pad-reflect", (ember.pad, _pad), pad_mode_samples("reflect")),
    entry("pad-replicate", (ember.pad, _pad), pad_mode_samples("replicate")),
    entry("pad-circular", (ember.pad, _pad), pad_mode_samples("circular")),
]
