"""``Adagrad``: per-coordinate rates scaled by the accumulated squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..ops.elementwise import sqrt
from ..tensor import Tensor, _make
from .optimizer import Optimizer, as_float64, check_number, like_param, step_dtype

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    The rate at step t is ``lr / (1 + (t - 1) * lr_decay)``; the accumulator ``sum`` starts
    at ``initial_accumulator_value`` and ``eps`` is added to its square root. As in PyTorch,
    the state of the parameters given to the constructor exists before the first step.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self.init_state(p, group)

    def validate_group(self, group: dict) -> None:
        check_number("Adagrad", "lr", group["lr"], text="learning rate")
        check_number("Adagrad", "lr_decay", group["lr_decay"])
        check_number("Adagrad", "weight_decay", group["weight_decay"])
        check_number("Adagrad", "initial_accumulator_value",
                     group["initial_accumulator_value"])
        check_number("Adagrad", "eps", group["eps"], text="epsilon value")

    def init_state(self, param: Tensor, group: dict) -> dict:
        """``step`` (0-d) and ``sum`` (filled with ``initial_accumulator_value``)."""
        return {"step": _make(np.zeros((), step_dtype(param))),
                "sum": _make(np.full_like(param._data, group["initial_accumulator_value"]))}

    def update(self, param: Tensor, grad: Tensor, state: dict, lr: Tensor, group: dict) -> None:
        """One Adagrad step for ``param`` (PyTorch's order of operations)."""
        if group["maximize"]:
            grad = -grad
        step = state["step"]
        step.add_(1)
        if group["weight_decay"] != 0:
            grad = grad.add(param, alpha=group["weight_decay"])
        clr = lr / (1 + (as_float64(step) - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum.addcmul_(grad, grad, value=1)
        std = sqrt(state_sum)
        std.add_(group["eps"])
        param.sub_(grad.div(std).mul_(like_param(clr, param)))  # see Adam.update
