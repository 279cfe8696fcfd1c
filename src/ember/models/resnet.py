"""``ResNet`` and ``resnet20()``: the CIFAR-10 residual network of He et al. (2015), section 4.2.

Three stages of ``n`` basic blocks with 16, 32 and 64 channels (the first block of stages 2
and 3 halves the resolution), global average pooling and a linear classifier; depth 6n+2, so
n = 3 gives ResNet-20 (0.27M parameters). Shortcuts are the paper's **option A** for CIFAR:
where the shape changes, the identity is subsampled with stride 2 and zero-padded to the new
channel count, so the network has no projection parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..ops.pad import pad
from ..tensor import Tensor
from ._checks import check_image_input, positive_int


class PadShortcut(nn.Module):
    """Option-A shortcut: ``x[:, :, ::stride, ::stride]`` with zero channels added on both
    sides to reach ``out_channels`` (parameter-free)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        extra = self.out_channels - self.in_channels
        return pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class BasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` with 3x3 convolutions."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = PadShortcut(in_channels, out_channels, stride)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


class ResNet(nn.Module):
    """A CIFAR-style ResNet: 3x3 stem conv (16), then one stage per entry of ``num_blocks``
    with widths 16, 32, 64, ..., global average pooling and ``fc``.

    Any input size works (the pooling is global). Initialization follows torchvision:
    kaiming-normal convolutions (fan_out, ReLU), BatchNorm weight 1 and bias 0, PyTorch's
    default Linear init. Submodules: ``conv1``, ``bn1``, ``layer1``..``layerK``, ``fc``.
    """

    def __init__(self, num_blocks: Sequence[int] = (3, 3, 3), num_classes: int = 10,
                 in_channels: int = 3, width: int = 16) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                            ("width", width), *(
                                (f"num_blocks[{i}]", n) for i, n in enumerate(num_blocks))):
            positive_int("ResNet", name, value)
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        channels = width
        for stage, blocks in enumerate(num_blocks):
            out_channels = width * 2 ** stage
            layers = []
            for i in range(blocks):
                stride = 2 if stage > 0 and i == 0 else 1
                layers.append(BasicBlock(channels, out_channels, stride))
                channels = out_channels
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layers))
        self.num_stages = len(num_blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> logits (N, num_classes)."""
        check_image_input("ResNet", x, self.in_channels, None)
        x = self.bn1(self.conv1(x)).relu()
        for stage in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{stage}")(x)
        return self.fc(self.flatten(self.pool(x)))


def resnet20(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-20 for CIFAR-10 (He et al. 2015): 3 stages of 3 basic blocks, 16/32/64
    channels, BatchNorm, option-A (zero-padding identity) shortcuts, 0.27M parameters."""
    return ResNet((3, 3, 3), num_classes, in_channels)


__all__ = ["PadShortcut", "BasicBlock", "ResNet", "resnet20"]
