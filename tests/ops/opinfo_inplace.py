"""Op-info entries for the in-place ops (ember/ops/inplace*.py).

The driver works on functions, so each entry clones its first input and writes into the
clone (``x.clone().add_(y)``): values and gradients then flow through the recorded in-place
node and the rebase, and the reference is the same expression in PyTorch. Entries writing
through a view (``y[0].mul_(v)``) exercise the CopySlices path.
"""

from __future__ import annotations

import numpy as np

from .op_info import OpInfo, Sample, away_from, positive, rand


def target_samples(make=rand, other=rand):
    """(target, other) pairs: ``other`` broadcasts to the target, never the reverse."""
    def samples(rng):
        return [
            Sample((make(rng, 3, 4), other(rng, 3, 4)), name="same"),
            Sample((make(rng, 2, 3, 4), other(rng, 4)), name="broadcast"),
            Sample((make(rng, 3, 4), other(rng, 3, 1)), name="broadcast-middle"),
            Sample((make(rng, 2, 3), other(rng)), name="0-d-other"),
            Sample((make(rng), other(rng)), name="0-d"),
            Sample((make(rng, 0, 3), other(rng, 3)), diff=(), name="empty"),
        ]
    return samples


def unary_samples(make=rand):
    def samples(rng):
        return [Sample((make(rng, 3, 4),)), Sample((make(rng),), name="0-d"),
                Sample((make(rng, 0, 2),), diff=(), name="empty")]
    return samples


def _method(name, *fixed, **fixed_kw):
    """``lambda x, *rest: x.clone().name(*rest, *fixed, **fixed_kw, **kwargs)``."""
    def fn(x, *rest, **kwargs):
        out = x.clone()
        result = getattr(out, name)(*rest, *fixed, **fixed_kw, **kwargs)
        assert result is out, f"{name} must return self"
        return out
    fn.__name__ = name
    return fn


def _index_put_(x, v, *indices, accumulate=False):
    out = x.clone()
    out.index_put_(indices, v[:, None] if accumulate else v, accumulate=accumulate)
    return out


def _iadd(x, y):
    out = x.clone()
    out += y
    return out


def _imul(x, y):
    out = x.clone()
    out *= y
    return out


def _view_mul(x, y):
    out = x.clone()
    out[1].mul_(y)
    return out


def _nested_view_add(x, y):
    out = x.clone()
    out[1:][:, 0].add_(y)
    return out


def _transpose_view_mul(x, y):
    out = x.clone()
    out.t()[1:].mul_(y)  # a view by a movement op, located in memory (not an index chain)
    return out


def _setitem_twice(x, y):
    out = x * 1
    out[0] = y
    # (``out[:, 0] * 2`` would do in PyTorch, which saves only the scalar for that product;
    # ember's mul saves both operands, so writing into ``out`` afterwards is an error)
    out[:, 1] = out[:, 0].exp()
    return out


def _bool_mask(rng, *shape):
    return rng.uniform(size=shape) > 0.5


def masked_fill_samples(rng):
    return [Sample((rand(rng, 3, 4), _bool_mask(rng, 3, 4), 1.5)),
            Sample((rand(rng, 3, 4), _bool_mask(rng, 4), rand(rng)), name="0-d-tensor-value"),
            Sample((rand(rng), np.array(True), -1.0), name="0-d")]


def scatter_samples(rng):
    idx = np.stack([rng.permutation(5)[:2] for _ in range(3)]).astype(np.int64)
    return [Sample((rand(rng, 3, 5), 1, idx, rand(rng, 3, 2))),
            Sample((rand(rng, 3, 5), -1, idx), {"value": 0.5}, name="value")]


def scatter_add_samples(rng):
    return [Sample((rand(rng, 3, 5), 1, rng.integers(0, 5, (3, 4)), rand(rng, 3, 4))),
            Sample((rand(rng, 3, 5), 0, rng.integers(0, 3, (2, 5)), rand(rng, 2, 5)),
                   name="dim0")]


def index_fill_samples(rng):
    return [Sample((rand(rng, 3, 4), 1, np.array([0, 2], np.int64), -1.0)),
            Sample((rand(rng, 3, 4), 0, np.array([1], np.int64), rand(rng)), name="0-d-tensor")]


def copy_samples(rng):
    return [Sample((rand(rng, 3, 4), rand(rng, 3, 4))),
            Sample((rand(rng, 3, 4), rand(rng, 4)), name="broadcast"),
            Sample((rand(rng, 3, 4), rand(rng, 3, 4).astype(np.float64)), name="float64-src"),
            Sample((rand(rng, 2, 2), np.array([[1, 2], [3, 4]], np.int64)), name="int-src")]


def ternary_samples(third=rand):
    def samples(rng):
        return [Sample((rand(rng, 3, 4), rand(rng, 3, 4), third(rng, 3, 4))),
                Sample((rand(rng, 3, 4), rand(rng, 4), third(rng, 3, 1)), name="broadcast"),
                Sample((rand(rng, 3, 4), rand(rng, 3, 4), third(rng, 3, 4)), {"value": 0.5},
                       name="value")]
    return samples


def lerp_samples(rng):
    return [Sample((rand(rng, 3, 4), rand(rng, 3, 4), 0.3), name="number-weight"),
            Sample((rand(rng, 3, 4), rand(rng, 4), rand(rng, 3, 1)), name="tensor-weight"),
            Sample((rand(rng), rand(rng), 0.7), name="0-d")]


def view_samples(rng):
    return [Sample((rand(rng, 4, 4), rand(rng, 4))),
            Sample((rand(rng, 4, 4), rand(rng)), name="0-d-other")]


_SAME = dict(gradgrad=True)

OPS = [
    OpInfo("add_", _method("add_"), target_samples(), torch_fn=_method("add_"), **_SAME),
    OpInfo("add_alpha", _method("add_", alpha=2), target_samples(),
           torch_fn=_method("add_", alpha=2), **_SAME),
    OpInfo("sub_", _method("sub_", alpha=0.5), target_samples(),
           torch_fn=_method("sub_", alpha=0.5), **_SAME),
    OpInfo("mul_", _method("mul_"), target_samples(), torch_fn=_method("mul_"), **_SAME),
    OpInfo("div_", _method("div_"), target_samples(other=positive),
           torch_fn=_method("div_"), **_SAME),
    OpInfo("pow_", _method("pow_"), target_samples(positive), torch_fn=_method("pow_"), **_SAME),
    OpInfo("iadd", _iadd, target_samples(), torch_fn=_iadd, **_SAME),
    OpInfo("imul", _imul, target_samples(), torch_fn=_imul, **_SAME),
    OpInfo("neg_", _method("neg_"), unary_samples(), torch_fn=_method("neg_"), **_SAME),
    OpInfo("exp_", _method("exp_"), unary_samples(), torch_fn=_method("exp_"), **_SAME),
    OpInfo("log_", _method("log_"), unary_samples(positive), torch_fn=_method("log_"), **_SAME),
    OpInfo("sqrt_", _method("sqrt_"), unary_samples(positive), torch_fn=_method("sqrt_"),
           **_SAME),
    OpInfo("abs_", _method("abs_"), unary_samples(away_from), torch_fn=_method("abs_"), **_SAME),
    OpInfo("relu_", _method("relu_"), unary_samples(away_from), torch_fn=_method("relu_"),
           **_SAME),
    OpInfo("sigmoid_", _method("sigmoid_"), unary_samples(), torch_fn=_method("sigmoid_"),
           **_SAME),
    OpInfo("tanh_", _method("tanh_"), unary_samples(), torch_fn=_method("tanh_"), **_SAME),
    OpInfo("clamp_", _method("clamp_", -0.5, 0.8), unary_samples(
        lambda rng, *s: away_from(rng, *s, points=(-0.5, 0.8))),
        torch_fn=_method("clamp_", -0.5, 0.8), **_SAME),
    OpInfo("clamp_tensor", _method("clamp_"), lambda rng: [
        Sample((away_from(rng, 3, 4), away_from(rng, 4, points=(0.5,)) - 1.0))],
        torch_fn=_method("clamp_")),
    OpInfo("masked_fill_", _method("masked_fill_"), masked_fill_samples,
           torch_fn=_method("masked_fill_"), **_SAME),
    OpInfo("scatter_", _method("scatter_"), scatter_samples, torch_fn=_method("scatter_"),
           **_SAME),
    OpInfo("scatter_add_", _method("scatter_add_"), scatter_add_samples,
           torch_fn=_method("scatter_add_"), **_SAME),
    OpInfo("index_fill_", _method("index_fill_"), index_fill_samples,
           torch_fn=_method("index_fill_"), **_SAME),
    OpInfo("index_add_", _method("index_add_", alpha=-1.5), lambda rng: [
        Sample((rand(rng, 3, 4), 1, np.array([0, 3, 0], np.int64), rand(rng, 3, 3)))],
        torch_fn=_method("index_add_", alpha=-1.5), **_SAME),
    OpInfo("index_put_", _index_put_, lambda rng: [
        Sample((rand(rng, 3, 4), rand(rng, 2), np.array([0, 2], np.int64),
                np.array([1, 1], np.int64)), name="put"),
        Sample((rand(rng, 3, 4), rand(rng, 3), np.array([0, 0, 2], np.int64)),
               {"accumulate": True}, name="accumulate")],
        torch_fn=_index_put_, **_SAME),
    OpInfo("copy_", _method("copy_"), copy_samples, torch_fn=_method("copy_"), **_SAME),
    OpInfo("fill_", _method("fill_"), lambda rng: [Sample((rand(rng, 3, 4), rand(rng))),
                                                   Sample((rand(rng, 2), 2.5), name="number")],
           torch_fn=_method("fill_"), **_SAME),
    OpInfo("zero_", _method("zero_"), unary_samples(), torch_fn=_method("zero_")),
    OpInfo("addcmul_", _method("addcmul_"), ternary_samples(), torch_fn=_method("addcmul_"),
           **_SAME),
    OpInfo("addcdiv_", _method("addcdiv_"), ternary_samples(positive),
           torch_fn=_method("addcdiv_"), **_SAME),
    OpInfo("lerp_", _method("lerp_"), lerp_samples, torch_fn=_method("lerp_"), **_SAME),
    OpInfo("view_mul_", _view_mul, view_samples, torch_fn=_view_mul, **_SAME),
    OpInfo("nested_view_add_", _nested_view_add,
           lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 2)))], torch_fn=_nested_view_add,
           **_SAME),
    OpInfo("transpose_view_mul_", _transpose_view_mul, view_samples, torch_fn=_transpose_view_mul,
           **_SAME),
    OpInfo("setitem_twice", _setitem_twice, lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 4)))],
           torch_fn=_setitem_twice, **_SAME),
]
