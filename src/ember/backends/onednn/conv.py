"""oneDNN 2-D convolution: forward (+bias), backward-data, backward-weights (+bias).

Activations are NHWC in memory and keep PyTorch's logical NCHW shape: inputs that already lie
channels-last (``x.transpose(0, 2, 3, 1)`` is C-contiguous, what every function here returns)
are used in place, anything else is copied once into that layout; outputs are allocated NHWC
and returned as their NCHW-shaped transpose. oneDNN 2.x is 1.8x slower on NCHW buffers
(research/native.md), and NumPy ufuncs keep the layout, so a conv -> relu -> pool chain never
transposes.

Weights stay PyTorch's plain ``(C_out, C_in/groups, kH, kW)`` arrays; the primitive chooses
its own (blocked) weight layout and a cached reorder primitive converts (~30-130 µs at the
W2/W3 shapes). A caller that passes ``weight_version`` (the version counter of the weight's
tensor: ops/conv.py does in eager mode) gets the reordered copy reused while the weight's
memory and its counter are unchanged (``_WeightCache``); without it, every call reorders.
Forward and backward-data choose different blocked layouts (measured at every W2/W3 shape),
so each keeps its own copy.

Geometry arguments are ember's: ``stride``/``dilation`` ``(h, w)``, ``padding``
``((top, bottom), (left, right))`` (asymmetric allowed), ``groups``. A case oneDNN cannot run
raises ``OneDNNUnimplemented`` and the caller falls back to NumPy.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from . import _lib


def nhwc(a: np.ndarray) -> np.ndarray:
    """``a`` (logical NCHW) as a C-contiguous NHWC array: a view when it already lies that
    way, else one copy."""
    t = a.transpose(0, 2, 3, 1)
    return t if t.flags.c_contiguous else np.ascontiguousarray(t)


def out_size(size: int, k: int, stride: int, pad: tuple, dil: int) -> int:
    """Output length along one dim (PyTorch's floor formula)."""
    return (size + pad[0] + pad[1] - dil * (k - 1) - 1) // stride + 1


class _Geometry:
    """The cache key and the oneDNN descriptors of one convolution shape."""

    def __init__(self, x_shape, w_shape, with_bias, stride, padding, dilation, groups):
        n, c, h, w = (int(v) for v in x_shape)
        cout, cg, kh, kw = (int(v) for v in w_shape)
        self.key = (tuple(x_shape), tuple(w_shape), bool(with_bias), tuple(stride),
                    tuple(map(tuple, padding)), tuple(dilation), int(groups), "f32", "nhwc")
        ho = out_size(h, kh, stride[0], padding[0], dilation[0])
        wo = out_size(w, kw, stride[1], padding[1], dilation[1])
        self.x_shape, self.out_shape, self.w_shape = (n, c, h, w), (n, cout, ho, wo), w_shape
        self.with_bias, self.groups = with_bias, groups
        self.strides = tuple(stride)
        self.dilates = (dilation[0] - 1, dilation[1] - 1)
        self.pad_l = (padding[0][0], padding[1][0])
        self.pad_r = (padding[0][1], padding[1][1])
        f32, L = np.float32, _lib
        self.src = L.memory_desc(self.x_shape, f32, L.TAG_NHWC)
        self.dst = L.memory_desc(self.out_shape, f32, L.TAG_NHWC)
        if groups == 1:
            self.w_dims, plain = (cout, cg, kh, kw), L.TAG_OIHW
        else:  # grouped weights: same bytes as OIHW, seen as (G, O/G, I/G, kH, kW)
            self.w_dims, plain = (groups, cout // groups, cg, kh, kw), L.TAG_GOIHW
        self.w_plain = L.memory_desc(self.w_dims, f32, plain)
        self.w_any = L.memory_desc(self.w_dims, f32)
        self.bias = L.memory_desc((cout,), f32, L.TAG_A) if with_bias else L.empty_md()

    def detail(self, what: str) -> str:
        return (f"{what} input {self.x_shape} weight {tuple(self.w_shape)} stride "
                f"{self.strides} pad {self.pad_l}/{self.pad_r} dilation-1 {self.dilates} "
                f"groups {self.groups}")


class _Plan:
    """A cached primitive plus the reorder between the user's plain weights and its layout."""

    def __init__(self, prim: _lib.Primitive, weight_arg: int, plain_md, to_plain: bool):
        self.prim = prim
        md = prim.md(weight_arg)
        self.weight_md = md
        self.same = md == plain_md
        self.reorder = None
        if not self.same:
            self.reorder = (_lib.reorder(md, plain_md) if to_plain
                            else _lib.reorder(plain_md, md))


def _forward_prim(g: _Geometry) -> _lib.Primitive:
    def build():
        pd = _lib.api().conv_forward_pd(
            _lib.lib(), _lib.engine(), _lib.PROP_FORWARD_TRAINING, g.src, g.w_any, g.bias, g.dst,
            g.strides, g.dilates, g.pad_l, g.pad_r, detail=g.detail("conv forward"))
        return _lib.Primitive(pd, "convolution forward")

    return _lib.cached(("conv2d_forward",) + g.key, build)


def _geometry(x_shape, w_shape, with_bias, stride, padding, dilation, groups) -> _Geometry:
    key = ("conv2d_geometry", tuple(x_shape), tuple(w_shape), bool(with_bias), tuple(stride),
           tuple(map(tuple, padding)), tuple(dilation), int(groups))
    return _lib.cached(key, lambda: _Geometry(x_shape, w_shape, with_bias, stride, padding,
                                              dilation, groups))


class _WeightCache:
    """Reordered weights, reused while the plain weight cannot have changed.

    An entry is keyed by the target layout and the plain weight's memory: the array that owns
    it (its ``id``, checked through a weak reference, so a recycled id never matches), the
    data address, shape and strides (a view such as Conv1d's unsqueezed weight finds its
    entry again). It is valid while the weight's version counter is the same list with the
    same count: every in-place op on the tensor or its views bumps it, a compiled step's
    write-back bumps it, and ``t.data = new`` brings other memory. Writes that bypass the
    counter (through ``t.numpy()``, or in place through the separately counted ``t.data``
    alias, as with PyTorch's ``.data``) are not seen; callers only pass a counter in eager
    mode, where the tensor is the one the user holds. Entries die with their weight."""

    def __init__(self, capacity: int = 512):
        self.capacity, self.hits, self.reorders = capacity, 0, 0
        self._items: OrderedDict = OrderedDict()

    def _drop(self, key) -> None:
        self._items.pop(key, None)

    def get(self, plan: _Plan, weight: np.ndarray, version: list) -> np.ndarray:
        owner = weight
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        key = (plan.weight_md.key, id(owner), weight.__array_interface__["data"][0],
               weight.shape, weight.strides)
        with _lib._LOCK:
            entry = self._items.get(key)
            if (entry is not None and entry[0]() is owner and entry[1] is version
                    and entry[2] == version[0]):
                self._items.move_to_end(key)
                self.hits += 1
                return entry[3]
            buf = entry[3] if entry is not None and entry[0]() is owner else None
            if buf is None:
                buf = np.empty(plan.weight_md.nbytes // 4, dtype=np.float32)
            plan.reorder.execute({_lib.ARG_FROM: weight, _lib.ARG_TO: buf})
            self.reorders += 1
            ref = weakref.ref(owner, lambda _, key=key: self._drop(key))
            self._items[key] = (ref, version, version[0], buf)
            self._items.move_to_end(key)
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return buf

    def stats(self) -> dict:
        return {"entries": len(self._items), "hits": self.hits, "reorders": self.reorders}

    def clear(self) -> None:
        with _lib._LOCK:
            self._items.clear()


WEIGHTS = _WeightCache()


def _weights_in(plan: _Plan, weight: np.ndarray, version: list | None = None) -> np.ndarray:
    """The weight in the primitive's layout: the cached copy when ``version`` (the weight
    tensor's version counter) says it is current, else a fresh reorder."""
    w = np.ascontiguousarray(weight)
    if plan.same:
        return w
    if version is not None and w is weight:
        return WEIGHTS.get(plan, w, version)
    buf = np.empty(plan.weight_md.nbytes // 4, dtype=np.float32)
    plan.reorder.execute({_lib.ARG_FROM: w, _lib.ARG_TO: buf})
    return buf


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups,
                   weight_version: list | None = None) -> np.ndarray:
    """The convolution (NCHW-shaped result, NHWC in memory); ``weight_version``: see
    ``_WeightCache``."""
    g = _geometry(x.shape, weight.shape, bias is not None, stride, padding, dilation, groups)
    plan = _lib.cached(("conv2d_forward_plan",) + g.key,
                       lambda: _Plan(_forward_prim(g), _lib.ARG_WEIGHTS, g.w_plain, False))
    n, cout, ho, wo = g.out_shape
    out = np.empty((n, ho, wo, cout), dtype=np.float32)
    args = {_lib.ARG_SRC: nhwc(x), _lib.ARG_WEIGHTS: _weights_in(plan, weight, weight_version),
            _lib.ARG_DST: out}
    if bias is not None:
        args[_lib.ARG_BIAS] = np.ascontiguousarray(bias)
    plan.prim.execute(args)
    return out.transpose(0, 3, 1, 2)


def conv2d_backward_data(grad, weight, input_shape, stride, padding, dilation,
                         groups, weight_version: list | None = None) -> np.ndarray:
    """Gradient w.r.t. the input (NCHW-shaped, NHWC in memory); ``weight_version``: see
    ``_WeightCache``."""
    g = _geometry(input_shape, weight.shape, False, stride, padding, dilation, groups)

    def build():
        hint = _forward_prim(g)
        pd = _lib.api().conv_backward_data_pd(
            _lib.lib(), _lib.engine(), g.src, g.w_any, g.dst, g.strides, g.dilates, g.pad_l,
            g.pad_r, hint.pd, detail=g.detail("conv backward data"))
        return _Plan(_lib.Primitive(pd, "convolution backward data"), _lib.ARG_WEIGHTS,
                     g.w_plain, False)

    plan = _lib.cached(("conv2d_backward_data",) + g.key, build)
    n, c, h, w = g.x_shape
    out = np.empty((n, h, w, c), dtype=np.float32)
    plan.prim.execute({_lib.ARG_DIFF_DST: nhwc(grad),
                       _lib.ARG_WEIGHTS: _weights_in(plan, weight, weight_version),
                       _lib.ARG_DIFF_SRC: out})
    return out.transpose(0, 3, 1, 2)


def conv2d_backward_weights(grad, x, weight_shape, stride, padding, dilation, groups,
                            with_bias: bool = False):
    """Gradient w.r.t. the weight (plain ``weight_shape``, C-contiguous); with ``with_bias``
    ``(grad_weight, grad_bias)`` from the same primitive."""
    g = _geometry(x.shape, weight_shape, with_bias, stride, padding, dilation, groups)

    def build():
        hint = _forward_prim(g)
        pd = _lib.api().conv_backward_weights_pd(
            _lib.lib(), _lib.engine(), g.src, g.w_any, g.bias, g.dst, g.strides, g.dilates,
            g.pad_l, g.pad_r, hint.pd, detail=g.detail("conv backward weights"))
        return _Plan(_lib.Primitive(pd, "convolution backward weights"), _lib.ARG_DIFF_WEIGHTS,
                     g.w_plain, True)

    plan = _lib.cached(("conv2d_backward_weights",) + g.key, build)
    dw = np.empty(tuple(weight_shape), dtype=np.float32)
    raw = dw if plan.same else np.empty(plan.weight_md.nbytes // 4, dtype=np.float32)
    args = {_lib.ARG_SRC: nhwc(x), _lib.ARG_DIFF_DST: nhwc(grad), _lib.ARG_DIFF_WEIGHTS: raw}
    db = None
    if with_bias:
        db = np.empty(weight_shape[0], dtype=np.float32)
        args[_lib.ARG_DIFF_BIAS] = db
    plan.prim.execute(args)
    if not plan.same:
        plan.reorder.execute({_lib.ARG_FROM: raw, _lib.ARG_TO: dw})
    return (dw, db) if with_bias else dw
