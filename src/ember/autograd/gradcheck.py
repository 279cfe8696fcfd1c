"""Check analytic gradients against float64 central finite differences.

The numerical Jacobian perturbs each input element in place through its own strides, so a
non-contiguous (strided) input is checked as the strided tensor it is, not as a contiguous
copy. The analytic Jacobian is built one output element at a time with ``autograd.grad``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import AutogradError, DTypeError


class GradcheckError(AutogradError):
    """Analytic and numerical gradients disagree (PyTorch's ``GradcheckError``)."""


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(outputs) -> list:
    """(position, tensor) of the outputs whose gradients are checked: floating tensors."""
    from ..tensor import Tensor

    return [(k, o) for k, o in enumerate(outputs)
            if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _flat_outputs(fn, inputs) -> np.ndarray:
    outs = _differentiable_outputs(_as_tuple(fn(*inputs)))
    if not outs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o._data, dtype=np.float64).reshape(-1) for _, o in outs])


def _check_perturbable(i: int, x) -> None:
    arr = x._data
    if arr.size == 0:
        return
    overlapping = any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape))
    if overlapping or not arr.flags.writeable:
        raise ValueError(
            f"gradcheck: input {i} is a read-only or overlapping view (e.g. from expand), so "
            "its elements cannot be perturbed one at a time; pass x.contiguous() or a copy"
        )


def numerical_jacobian(fn: Callable, inputs: tuple, index: int, eps: float) -> np.ndarray:
    """d(flattened outputs)/d(flattened inputs[index]) by central differences, shape
    (outputs numel, input numel)."""
    arr = inputs[index]._data
    cols = []
    # not under no_grad: fn may itself differentiate (gradgradcheck)
    for idx in np.ndindex(arr.shape):
        orig = arr[idx]
        arr[idx] = orig + eps
        plus = _flat_outputs(fn, inputs)
        arr[idx] = orig - eps
        minus = _flat_outputs(fn, inputs)
        arr[idx] = orig
        cols.append((plus - minus) / (2 * eps))
    if cols:
        return np.stack(cols, axis=1)
    return np.zeros((_flat_outputs(fn, inputs).size, 0))


def analytic_jacobians(fn: Callable, inputs: tuple, indices: list) -> list:
    """One Jacobian per input in ``indices``, from one ``autograd.grad`` per output element."""
    from ..tensor import _make
    from .engine import grad

    outs = _differentiable_outputs(_as_tuple(fn(*inputs)))
    xs = tuple(inputs[i] for i in indices)
    rows: list = [[] for _ in indices]
    for _, out in outs:
        for j in range(out.numel()):
            if not out.requires_grad:
                for r, x in zip(rows, xs):
                    r.append(np.zeros(x.numel()))
                continue
            seed = np.zeros(out.shape, dtype=out._data.dtype)
            seed.reshape(-1)[j] = 1
            gs = grad((out,), xs, (_make(seed),), retain_graph=True, allow_unused=True)
            for r, x, g in zip(rows, xs, gs):
                if g is not None and g.shape != x.shape:
                    raise GradcheckError(f"gradcheck: the gradient for an input of shape "
                                         f"{list(x.shape)} has shape {list(g.shape)}")
                r.append(np.zeros(x.numel()) if g is None
                         else np.asarray(g._data, dtype=np.float64).reshape(-1))
    n_out = sum(o.numel() for _, o in outs)
    return [np.stack(r, axis=0) if r else np.zeros((n_out, x.numel())) for r, x in zip(rows, xs)]


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """True when ``func``'s gradients match finite differences for every input that requires
    grad; otherwise raises :class:`GradcheckError` (or returns False with
    ``raise_exception=False``).

    inputs: a tensor or a tuple of arguments; tensors that require grad must be float64
        (finite differences in lower precision are too coarse to check against, so unlike
        PyTorch, which warns, this is an error).
    func may return a tensor or a tuple; its floating-point tensor outputs are checked.

    Example::

        x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        ember.autograd.gradcheck(ember.tanh, (x,))
    """
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    indices = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not indices:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True")
    for i in indices:
        x = inputs[i]
        if x.dtype.name != "float64":
            raise DTypeError(
                f"gradcheck: input {i} is {x.dtype.name}; use float64 inputs (e.g. "
                "x.double()), finite differences in lower precision are too coarse to check"
            )
        _check_perturbable(i, x)
    analytic = analytic_jacobians(func, inputs, indices)
    sizes = [o.numel() for _, o in _differentiable_outputs(_as_tuple(func(*inputs)))]
    bounds = np.cumsum([0] + sizes)
    for i, a in zip(indices, analytic):
        n = numerical_jacobian(func, inputs, i, eps)
        if n.shape == a.shape and np.allclose(a, n, rtol=rtol, atol=atol):
            continue
        if not raise_exception:
            return False
        if n.shape != a.shape:
            raise GradcheckError(f"gradcheck: Jacobian shapes differ for input {i}: numerical "
                                 f"{n.shape}, analytical {a.shape}")
        for k in range(len(sizes)):
            nk, ak = n[bounds[k]:bounds[k + 1]], a[bounds[k]:bounds[k + 1]]
            if not np.allclose(ak, nk, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i} (max abs "
                    f"difference {np.max(np.abs(ak - nk)):.3g}),\n"
                    f"numerical:\n{nk}\nanalytical:\n{ak}"
                )
    return True


def gradgradcheck(func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True) -> bool:
    """Check second-order gradients: :func:`gradcheck` of the map
    ``(inputs, v) -> grad(func(inputs), inputs, v, create_graph=True)``, which also checks
    that the backward pass is differentiable in the upstream gradient ``v``.

    grad_outputs: ``v``, one tensor per output; random float64 tensors when None.
    gen_non_contig_grad_outputs: make the random ``v`` non-contiguous.
    """
    from ..tensor import Tensor, _make
    from .engine import grad

    inputs = _as_tuple(inputs)
    indices = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        vs = []
        for _, o in outs:
            if gen_non_contig_grad_outputs and o.ndim > 0:
                v = rng.standard_normal(o.shape[::-1]).transpose()
            else:
                v = rng.standard_normal(o.shape)
            vs.append(_make(v, True))
    else:
        vs = list(_as_tuple(grad_outputs))
        if len(vs) != len(outs):
            raise ValueError(f"gradgradcheck: got {len(vs)} grad_outputs for {len(outs)} "
                             "differentiable outputs")
    n_in = len(inputs)

    def first_grads(*args):
        xs, v = args[:n_in], args[n_in:]
        os_ = [o for _, o in _differentiable_outputs(_as_tuple(func(*xs)))]
        pairs = [(o, g) for o, g in zip(os_, v) if o.requires_grad]
        if not pairs:
            return tuple(_make(np.zeros_like(xs[i]._data)) for i in indices)
        return grad([o for o, _ in pairs], tuple(xs[i] for i in indices),
                    [g for _, g in pairs], create_graph=True, materialize_grads=True)

    return gradcheck(first_grads, inputs + tuple(vs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
