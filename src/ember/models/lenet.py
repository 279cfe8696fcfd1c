"""Small convolutional classifiers for single-channel images: ``lenet()`` (workload W2, MNIST)
and ``digits_cnn()`` (the embedded 8x8 digits, the model of ``ember train``)."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ._checks import check_image_input, positive_int


class LeNet(nn.Module):
    """The MNIST CNN of workload W2 (a modern LeNet variant, not LeCun's 1998 LeNet-5)::

        conv 32 3x3 pad 1, ReLU, maxpool 2; conv 64 3x3 pad 1, ReLU, maxpool 2;
        flatten; linear 64*(S/4)^2 -> hidden, ReLU; linear hidden -> num_classes

    With the defaults (28x28 input) the first linear layer is 3136 -> 128.
    ``image_size`` S must be a multiple of 4. Submodules: ``features``, ``classifier``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28,
                 channels: tuple[int, int] = (32, 64), hidden: int = 128) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                            ("image_size", image_size), ("hidden", hidden), *(
                                (f"channels[{i}]", c) for i, c in enumerate(channels))):
            positive_int("LeNet", name, value)
        if image_size % 4:
            raise ValueError(f"LeNet: image_size must be a multiple of 4 (two 2x2 poolings), "
                             f"got {image_size}")
        c1, c2 = channels
        self.in_channels, self.image_size = in_channels, image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * (image_size // 4) ** 2, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, S, S) -> logits (N, num_classes)."""
        check_image_input("LeNet", x, self.in_channels, self.image_size)
        return self.classifier(self.features(x))


class DigitsCNN(nn.Module):
    """A small CNN for the 8x8 digits::

        conv 16 3x3 pad 1, ReLU, maxpool 2; conv 32 3x3 pad 1, ReLU;
        flatten; linear 32*(S/2)^2 -> num_classes     (512 -> 10 for 8x8 input)

    About 10k parameters; trains to ~97-98% test accuracy on the embedded digits in a few
    seconds. Submodules: ``features``, ``classifier``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 8,
                 channels: tuple[int, int] = (16, 32)) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                            ("image_size", image_size), *(
                                (f"channels[{i}]", c) for i, c in enumerate(channels))):
            positive_int("DigitsCNN", name, value)
        if image_size % 2:
            raise ValueError(f"DigitsCNN: image_size must be even (one 2x2 pooling), got "
                             f"{image_size}")
        c1, c2 = channels
        self.in_channels, self.image_size = in_channels, image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU())
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * (image_size // 2) ** 2, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, S, S) -> logits (N, num_classes)."""
        check_image_input("DigitsCNN", x, self.in_channels, self.image_size)
        return self.classifier(self.features(x))


def lenet(in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> LeNet:
    """Workload W2: the MNIST CNN (conv 32, pool, conv 64, pool, linear 3136-128-10)."""
    return LeNet(in_channels, num_classes, image_size)


def digits_cnn(in_channels: int = 1, num_classes: int = 10, image_size: int = 8) -> DigitsCNN:
    """The small CNN ``ember train`` trains on the embedded 8x8 digits by default."""
    return DigitsCNN(in_channels, num_classes, image_size)


__all__ = ["LeNet", "DigitsCNN", "lenet", "digits_cnn"]
