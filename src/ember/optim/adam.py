"""``Adam`` and ``AdamW``: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..ops.elementwise import maximum, sqrt
from ..tensor import Tensor, _make
from .optimizer import Optimizer, as_float64, check_number, like_param, step_dtype

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), as ``torch.optim.Adam``.

    ``betas`` are the decay rates of the running averages of the gradient and of its square;
    ``eps`` is added to the denominator; ``weight_decay`` adds ``weight_decay * param`` to the
    gradient (L2), or with ``decoupled_weight_decay=True`` shrinks the parameter by
    ``lr * weight_decay`` before the update (that is :class:`AdamW`). ``amsgrad=True`` divides
    by the running maximum of the second moment instead.
    """

    _name = "Adam"

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def validate_group(self, group: dict) -> None:
        name = self._name
        check_number(name, "lr", group["lr"], text="learning rate")
        check_number(name, "eps", group["eps"], text="epsilon value")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                beta = beta.item()
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: Invalid beta parameter at index {i}: {beta} "
                                 "(expected 0 <= beta < 1)")
        check_number(name, "weight_decay", group["weight_decay"])

    def init_state(self, param: Tensor, group: dict) -> dict:
        """``step`` (0-d), ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq`` with amsgrad)."""
        state = {"step": _make(np.zeros((), step_dtype(param))),
                 "exp_avg": _make(np.zeros_like(param._data)),
                 "exp_avg_sq": _make(np.zeros_like(param._data))}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _make(np.zeros_like(param._data))
        return state

    def update(self, param: Tensor, grad: Tensor, state: dict, lr: Tensor, group: dict) -> None:
        """One Adam step for ``param`` (PyTorch's order of operations)."""
        beta1, beta2 = group["betas"]
        weight_decay = group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        step = state["step"]
        step.add_(1)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param.mul_(like_param(1 - lr * weight_decay, param))
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

        # 0-d tensor arithmetic: a captured graph keeps step and lr as inputs
        step64 = as_float64(step)
        step_size = lr / (1 - beta1 ** step64)
        bias_correction2_sqrt = like_param(sqrt(1 - beta2 ** step64), param)
        second = state["max_exp_avg_sq"] if group["amsgrad"] else exp_avg_sq
        if group["amsgrad"]:
            second.copy_(maximum(second, exp_avg_sq))
        denom = sqrt(second)
        denom.div_(bias_correction2_sqrt).add_(group["eps"])
        # not addcdiv_(value=tensor): ember's addcdiv_ copies the whole update when value is a
        # tensor (reported); div + mul_ + sub_ make the same passes over memory
        param.sub_(exp_avg.div(denom).mul_(like_param(step_size, param)))


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2017), as ``torch.optim.AdamW``: Adam with decoupled weight
    decay (the parameter shrinks by ``lr * weight_decay`` each step; default 1e-2)."""

    _name = "AdamW"

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
