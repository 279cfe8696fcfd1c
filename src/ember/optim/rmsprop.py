"""``RMSprop``: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..ops.elementwise import sqrt
from ..tensor import Tensor, _make
from .optimizer import Optimizer, check_number, like_param, step_dtype

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``.

    ``alpha`` is the decay rate of the running average of squared gradients; ``eps`` is added
    to its square root (outside it, as in PyTorch; TensorFlow puts it inside). ``centered=True``
    also tracks the mean gradient and divides by the estimated standard deviation;
    ``momentum`` > 0 keeps a buffer of the scaled gradients.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def validate_group(self, group: dict) -> None:
        check_number("RMSprop", "lr", group["lr"], text="learning rate")
        check_number("RMSprop", "eps", group["eps"], text="epsilon value")
        check_number("RMSprop", "momentum", group["momentum"])
        check_number("RMSprop", "weight_decay", group["weight_decay"])
        check_number("RMSprop", "alpha", group["alpha"])

    def init_state(self, param: Tensor, group: dict) -> dict:
        """``step``, ``square_avg``; ``momentum_buffer`` and ``grad_avg`` when those are on."""
        state = {"step": _make(np.zeros((), step_dtype(param))),
                 "square_avg": _make(np.zeros_like(param._data))}
        if group["momentum"] > 0:
            state["momentum_buffer"] = _make(np.zeros_like(param._data))
        if group["centered"]:
            state["grad_avg"] = _make(np.zeros_like(param._data))
        return state

    def update(self, param: Tensor, grad: Tensor, state: dict, lr: Tensor, group: dict) -> None:
        """One RMSprop step for ``param`` (PyTorch's order of operations)."""
        if group["maximize"]:
            grad = -grad
        state["step"].add_(1)
        if group["weight_decay"] != 0:
            grad = grad.add(param, alpha=group["weight_decay"])
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.clone().addcmul_(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = sqrt(square_avg)
        avg.add_(group["eps"])
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            param.sub_(buf, alpha=lr)
        else:
            param.sub_(grad.div(avg).mul_(like_param(lr, param)))  # see Adam.update
