"""Helpers: run an ember optimizer and its PyTorch twin on the same parameters and gradients."""

from __future__ import annotations

import numpy as np

import ember
from ember.nn import Parameter

torch = __import__("pytest").importorskip("torch")

SHAPES = [(5, 4), (4,), (3, 2, 2)]

# float32; PyTorch's CPU kernels fuse multiply-add (one rounding where NumPy rounds twice),
# so elements drift apart by about an ulp per step: relative 1e-6, with a 1e-6 absolute floor
# for elements that pass near zero during the run.
RTOL, ATOL = 1e-6, 1e-6


def initial(seed: int = 0, shapes=SHAPES) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def gradients(steps: int, seed: int = 1, shapes=SHAPES) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]


def ember_params(arrays) -> list[Parameter]:
    return [Parameter(ember.tensor(a.copy())) for a in arrays]


def torch_params(arrays) -> list:
    return [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]


def set_grads(params, grads, make) -> None:
    for p, g in zip(params, grads):
        p.grad = make(g.copy())


def run_ember(opt, params, grads) -> None:
    for gs in grads:
        set_grads(params, gs, ember.tensor)
        opt.step()


def run_torch(opt, params, grads) -> None:
    for gs in grads:
        set_grads(params, gs, torch.tensor)
        opt.step()


def assert_params_close(ember_ps, torch_ps, rtol=RTOL, atol=ATOL) -> None:
    for i, (e, t) in enumerate(zip(ember_ps, torch_ps)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol,
                                   atol=atol, err_msg=f"parameter {i}")
