"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor
from .optimizer import Optimizer, check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With ``momentum`` m and ``dampening`` d the buffer is ``b = m * b + (1 - d) * g`` (the
    first step sets ``b = g``); ``nesterov=True`` steps along ``g + m * b`` instead of ``b``.
    ``weight_decay`` adds ``weight_decay * param`` to the gradient (L2 penalty).
    ``maximize=True`` ascends the objective.

    Example::

        opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def validate_group(self, group: dict) -> None:
        check_number("SGD", "lr", group["lr"], text="learning rate")
        check_number("SGD", "momentum", group["momentum"])
        check_number("SGD", "weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def update(self, param: Tensor, grad: Tensor, state: dict, lr: Tensor, group: dict) -> None:
        """One SGD step for ``param`` (PyTorch's order of operations)."""
        if group["maximize"]:
            grad = -grad
        weight_decay = group["weight_decay"]
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        param.sub_(grad, alpha=lr)
