"""``CifarCNN`` and ``cifar_cnn()``: the VGG-style CIFAR-10 classifier of workload W3."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ._checks import check_image_input, positive_int


class CifarCNN(nn.Module):
    """Workload W3 (all convolutions 3x3, padding 1, each followed by ReLU)::

        conv 64, conv 64, maxpool 2; conv 128, conv 128, maxpool 2;
        flatten; linear 128*(S/4)^2 -> 256, ReLU; linear 256 -> num_classes

    With the defaults (3x32x32 input) the first linear layer is 8192 -> 256.
    Submodules: ``features``, ``classifier``.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32,
                 hidden: int = 256) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                            ("image_size", image_size), ("hidden", hidden)):
            positive_int("CifarCNN", name, value)
        if image_size % 4:
            raise ValueError(f"CifarCNN: image_size must be a multiple of 4 (two 2x2 "
                             f"poolings), got {image_size}")
        self.in_channels, self.image_size = in_channels, image_size

        def conv(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]

        self.features = nn.Sequential(
            *conv(in_channels, 64), *conv(64, 64), nn.MaxPool2d(2),
            *conv(64, 128), *conv(128, 128), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(128 * (image_size // 4) ** 2, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, S, S) -> logits (N, num_classes)."""
        check_image_input("CifarCNN", x, self.in_channels, self.image_size)
        return self.classifier(self.features(x))


def cifar_cnn(in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> CifarCNN:
    """Workload W3: the CIFAR CNN (conv 64, 64, pool, conv 128, 128, pool, linear 8192-256-10)."""
    return CifarCNN(in_channels, num_classes, image_size)


__all__ = ["CifarCNN", "cifar_cnn"]
