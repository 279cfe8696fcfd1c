"""Runs every entry of every op-info table (see op_info.py for what is checked)."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import ember
from ember.ops import registry

from . import op_info

try:
    import torch
except ImportError:  # the reference is optional for users; CI installs the test extra
    torch = None

TABLES = [m.name for m in pkgutil.iter_modules([op_info.__file__.rsplit("/", 1)[0]])
          if m.name.startswith("opinfo_")]
ALL_OPS = []
for _mod in TABLES:
    ALL_OPS.extend(importlib.import_module(f"{__package__}.{_mod}").OPS)


def _cases():
    for info in ALL_OPS:
        for i, sample in enumerate(info.samples(np.random.default_rng(1234))):
            yield pytest.param(info, sample, id=f"{info.name}-{i}")


CASES = list(_cases())


@pytest.fixture(autouse=True)
def check_infer():
    registry.CHECK_INFER = True
    yield
    registry.CHECK_INFER = False


def _is_float(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _diff_positions(sample) -> tuple:
    if sample.diff is not None:
        return sample.diff
    return tuple(i for i, a in enumerate(sample.args) if _is_float(a))


def _to_ember(sample, *, dtype=None, requires_grad=(), transform=None):
    args = []
    for i, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            arr = a.astype(dtype) if (dtype is not None and a.dtype.kind == "f") else a.copy()
            if transform is not None:
                arr = transform(arr)
            t = ember.from_numpy(arr)
            if i in requires_grad:
                t.requires_grad_()
            args.append(t)
        else:
            args.append(a)
    return args


def _to_torch(sample, requires_grad=()):
    args = []
    for i, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            t = torch.from_numpy(a.copy())
            if i in requires_grad:
                t.requires_grad_()
            args.append(t)
        else:
            args.append(a)
    return args


def _outputs(result, info) -> list:
    """Flatten an op result into a list of tensors (named tuples, lists, single tensor)."""
    if isinstance(result, (tuple, list)):
        items = list(result)
    else:
        items = [result]
    if info.output_index is not None:
        items = [items[info.output_index]]
    return items


def _np(x) -> np.ndarray:
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, ember.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _assert_close(actual, expected, info, what):
    actual, expected = _np(actual), _np(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                                   atol=info.atol, rtol=info.rtol, err_msg=what, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


@pytest.mark.parametrize("info, sample", CASES)
def test_forward(info, sample):
    out = _outputs(info.fn(*_to_ember(sample), **sample.kwargs), info)
    if torch is not None and info.torch_fn is not None:
        ref = _outputs(info.torch_fn(*_to_torch(sample), **sample.kwargs), info)
        source = "torch"
    elif info.np_fn is not None:
        ref = _outputs(info.np_fn(*[a for a in sample.args], **sample.kwargs), info)
        source = "numpy"
    else:
        pytest.skip("no reference: PyTorch is not installed and the entry has no np_fn")
    assert len(out) == len(ref)
    for k, (o, r) in enumerate(zip(out, ref)):
        assert isinstance(o, ember.Tensor), f"output {k} is {type(o).__name__}"
        if torch is not None and source == "torch":
            assert o.dtype.name == str(r.dtype).replace("torch.", ""), (
                f"dtype {o.dtype.name} vs torch {r.dtype}")
        _assert_close(o, r, info, f"{info.name} output {k} vs {source}")


@pytest.mark.parametrize("info, sample", CASES)
def test_noncontiguous_inputs(info, sample):
    if not info.noncontiguous or not any(isinstance(a, np.ndarray) and a.ndim for a in sample.args):
        pytest.skip("no strided variant for this sample")
    plain = _outputs(info.fn(*_to_ember(sample), **sample.kwargs), info)
    strided = _outputs(info.fn(*_to_ember(sample, transform=op_info.noncontiguous),
                               **sample.kwargs), info)
    for o, s in zip(plain, strided):
        np.testing.assert_array_equal(_np(o), _np(s))


@pytest.mark.parametrize("info, sample", CASES)
def test_gradient_finite_differences(info, sample):
    diff = _diff_positions(sample)
    if not info.differentiable or info.skip_fd or not diff:
        pytest.skip("not differentiable")
    args = _to_ember(sample, dtype=np.float64, requires_grad=diff)

    def fn(*xs):
        outs = _outputs(info.fn(*xs, **sample.kwargs), info)
        outs = [o for o in outs if o.dtype.is_floating_point]
        return tuple(outs) if len(outs) > 1 else outs[0]

    assert ember.autograd.gradcheck(fn, tuple(args), atol=info.grad_atol, rtol=info.grad_rtol)


@pytest.mark.parametrize("info, sample", CASES)
def test_gradient_against_torch(info, sample):
    diff = _diff_positions(sample)
    if torch is None or info.torch_fn is None:
        pytest.skip("PyTorch is not installed or has no such op")
    if not info.differentiable or not diff:
        pytest.skip("not differentiable")
    e_args = _to_ember(sample, requires_grad=diff)
    t_args = _to_torch(sample, requires_grad=diff)
    e_out = [o for o in _outputs(info.fn(*e_args, **sample.kwargs), info)
             if o.dtype.is_floating_point]
    t_out = [o for o in _outputs(info.torch_fn(*t_args, **sample.kwargs), info)
             if o.dtype.is_floating_point]
    rng = np.random.default_rng(7)
    seeds = [rng.standard_normal(o.shape).astype(_np(o).dtype) for o in e_out]
    e_grads = ember.autograd.grad(e_out, [e_args[i] for i in diff],
                                  [ember.from_numpy(s.copy()) for s in seeds], allow_unused=True)
    t_grads = torch.autograd.grad(t_out, [t_args[i] for i in diff],
                                  [torch.from_numpy(s.copy()) for s in seeds], allow_unused=True)
    for i, eg, tg in zip(diff, e_grads, t_grads):
        if tg is None:
            assert eg is None or not np.any(_np(eg)), f"grad of arg {i}: torch has none"
            continue
        assert eg is not None, f"grad of arg {i} is None, torch has one"
        np.testing.assert_allclose(_np(eg), _np(tg), atol=info.grad_atol * 10,
                                   rtol=info.grad_rtol, err_msg=f"grad of arg {i}")


@pytest.mark.parametrize("info, sample", [c for c in CASES if c.values[0].gradgrad])
def test_second_order_gradient(info, sample):
    diff = _diff_positions(sample)
    if not diff:
        pytest.skip("nothing to differentiate")
    args = _to_ember(sample, dtype=np.float64, requires_grad=diff)

    def fn(*xs):
        outs = _outputs(info.fn(*xs, **sample.kwargs), info)
        return outs[0]

    assert ember.autograd.gradgradcheck(fn, tuple(args), atol=info.grad_atol,
                                        rtol=info.grad_rtol)
