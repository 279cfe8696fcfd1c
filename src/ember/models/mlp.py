"""``MLP`` and ``mlp()``: the fully connected classifier of workload W1 (784-512-512-10, ReLU)."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor
from ._checks import positive_int


class MLP(nn.Module):
    """Linear layers with ReLU between them; the input is flattened from dim 1 first, so
    (N, 784) and (N, 1, 28, 28) both work.

    Submodules: ``flatten`` and ``layers`` (a Sequential of Linear, ReLU, ..., Linear), so the
    ``state_dict`` keys are ``layers.0.weight``, ``layers.2.weight``, ...
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (512, 512),
                 num_classes: int = 10) -> None:
        super().__init__()
        positive_int("MLP", "in_features", in_features)
        positive_int("MLP", "num_classes", num_classes)
        if isinstance(hidden, int):
            hidden = (hidden,)
        hidden = tuple(hidden)
        for width in hidden:
            positive_int("MLP", "hidden width", width)
        sizes = (in_features, *hidden, num_classes)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.in_features, self.hidden, self.num_classes = in_features, hidden, num_classes
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """(N, *) with prod(*) == in_features -> logits (N, num_classes)."""
        return self.layers(self.flatten(x))

    def describe(self) -> str:
        return "MLP " + "-".join(map(str, (self.in_features, *self.hidden, self.num_classes)))


def mlp(in_features: int = 784, hidden: Sequence[int] = (512, 512),
        num_classes: int = 10) -> MLP:
    """Workload W1: an MLP 784-512-512-10 with ReLU (PyTorch's default Linear init)."""
    return MLP(in_features, hidden, num_classes)


__all__ = ["MLP", "mlp"]
