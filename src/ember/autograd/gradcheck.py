"""Check analytic gradients against float64 central finite differences."""

from __future__ import annotations

import numpy as np

from ..errors import AutogradError


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _numerical_jacobian(fn, inputs, index, eps):
    """d(flattened outputs)/d(flattened inputs[index]) by central differences."""
    x = inputs[index]
    flat = x._data.reshape(-1)  # a view: perturb in place, then restore
    cols = []
    # not under no_grad: fn may itself differentiate (gradgradcheck)
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        plus = [np.array(o._data, dtype=np.float64).reshape(-1) for o in _as_tuple(fn(*inputs))]
        flat[j] = orig - eps
        minus = [np.array(o._data, dtype=np.float64).reshape(-1) for o in _as_tuple(fn(*inputs))]
        flat[j] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    n_out = sum(o.numel() for o in _as_tuple(fn(*inputs)))
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def _analytic_jacobian(fn, inputs, index):
    from ..tensor import _make
    from .engine import grad

    outputs = _as_tuple(fn(*inputs))
    rows = []
    x = inputs[index]
    for k, out in enumerate(outputs):
        for i in range(out.numel()):
            if not out.requires_grad:
                rows.append(np.zeros(x.numel()))
                continue
            seed = np.zeros(out.shape, dtype=out._data.dtype)
            seed.reshape(-1)[i] = 1
            (g,) = grad((out,), (x,), (_make(seed),), retain_graph=True, allow_unused=True)
            rows.append(np.zeros(x.numel()) if g is None else g._data.reshape(-1).astype(np.float64))
    return np.stack(rows, axis=0) if rows else np.zeros((0, x.numel()))


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """True when ``fn``'s gradients match finite differences for every input that requires
    grad. Inputs should be float64 (float32 differences are too coarse to be meaningful).

    Example::

        x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        ember.autograd.gradcheck(ember.tanh, (x,))
    """
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.name != "float64":
            raise AutogradError(
                f"gradcheck: input {i} is {x.dtype.name}; use float64 inputs, finite "
                "differences in lower precision are too coarse to check against"
            )
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numeric = _numerical_jacobian(fn, inputs, i, eps)
        analytic = _analytic_jacobian(fn, inputs, i)
        if numeric.shape != analytic.shape or not np.allclose(analytic, numeric, rtol=rtol, atol=atol):
            if raise_exception:
                err = np.max(np.abs(analytic - numeric)) if numeric.shape == analytic.shape else "shape"
                raise AutogradError(
                    f"gradcheck: Jacobian mismatch for input {i} (max abs difference {err})\n"
                    f"analytic:\n{analytic}\nnumerical:\n{numeric}"
                )
            return False
    return True


def gradgradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second-order gradients: gradcheck of ``x -> grad(fn(x) . v, x)``."""
    from ..tensor import Tensor, _make
    from .engine import grad

    inputs = _as_tuple(inputs)
    rng = np.random.default_rng(seed)
    outs = _as_tuple(fn(*inputs))
    vs = [_make(rng.standard_normal(o.shape)) for o in outs]
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*xs):
        os_ = _as_tuple(fn(*xs))
        gs = grad(os_, tuple(xs[i] for i in diff_idx), vs, create_graph=True, allow_unused=True,
                  materialize_grads=True)
        return tuple(gs)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
