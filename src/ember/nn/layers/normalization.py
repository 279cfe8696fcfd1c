"""Normalization layers: ``BatchNorm1d/2d/3d``, ``LayerNorm``, ``GroupNorm``.

Parameters, buffers (``running_mean``, ``running_var``, ``num_batches_tracked`` as int64),
defaults and ``repr`` follow PyTorch, so a ``state_dict`` moves between the two unchanged.
"""

from __future__ import annotations

from ...autograd import grad_mode
from ...creation import empty, ones, tensor, zeros
from ...dtypes import get_default_dtype, int64
from ...errors import ShapeError, shape_str
from ...tensor import Tensor
from .. import init
from .._utils import positive_int as _positive_int
from ..functional.normalization import batch_norm, group_norm, layer_norm
from ..module import Module
from ..parameter import Parameter


def _affine_parameters(module: Module, shape: tuple, dtype, affine: bool, bias: bool) -> None:
    """Register ``weight`` and ``bias`` of ``shape`` (or None when not ``affine``/``bias``),
    named and ordered as in PyTorch so state_dicts match."""
    if affine:
        module.weight = Parameter(empty(*shape, dtype=dtype))
        if bias:
            module.bias = Parameter(empty(*shape, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    """Shared body of ``BatchNorm1d/2d/3d``; subclasses say which input ranks they take."""

    _ranks: tuple = ()
    _rank_text: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(num_features, "num_features", name)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = dtype if dtype is not None else get_default_dtype()
        _affine_parameters(self, (num_features,), dtype, affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean to 0, running variance to 1, batch count to 0."""
        if self.track_running_stats:
            with grad_mode.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, and ``weight`` to 1 and ``bias`` to 0."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected an ember.Tensor input, got {type(input).__name__}")
        shape = tuple(input.shape)
        if len(shape) not in self._ranks:
            raise ShapeError(f"{name}: expected {self._rank_text} input (got {len(shape)}D input "
                             f"of shape {shape_str(shape)})")
        if shape[1] != self.num_features:
            raise ShapeError(f"{name}: expected input with {self.num_features} channels "
                             f"(num_features) at dim 1, got input of shape {shape_str(shape)}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with grad_mode.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        # without running statistics, eval mode normalizes with the batch's own statistics
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def describe(self) -> str:
        return f"{type(self).__name__} {self.num_features}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization of a (N, C) or (N, C, L) input over N (and L), per channel C.

    In training the batch statistics normalize the input and update ``running_mean`` and
    ``running_var`` (``momentum=None``: a cumulative average over all batches so far); in
    eval mode the running statistics are used. ``bias=False`` (keyword-only, as in PyTorch
    2.13) keeps the per-channel weight but no bias.
    """

    _ranks = (2, 3)
    _rank_text = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of a (N, C, H, W) input over N, H and W, per channel C; see
    :class:`BatchNorm1d` for training vs eval."""

    _ranks = (4,)
    _rank_text = "4D"


class BatchNorm3d(_BatchNorm):
    """Batch normalization of a (N, C, D, H, W) input per channel C; see
    :class:`BatchNorm1d`."""

    _ranks = (5,)
    _rank_text = "5D"


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims of each sample, then apply an
    elementwise ``weight`` (init 1) and ``bias`` (init 0) of that shape.

    ``elementwise_affine=False`` drops both; ``bias=False`` keeps only the weight.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(_positive_int(s, "normalized_shape", "LayerNorm")
                                      for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = dtype if dtype is not None else get_default_dtype()
        _affine_parameters(self, self.normalized_shape, dtype, elementwise_affine, bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight`` to 1 and ``bias`` to 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")

    def describe(self) -> str:
        return f"LayerNorm {shape_str(self.normalized_shape)}"


class GroupNorm(Module):
    """Split the ``num_channels`` channels (dim 1) into ``num_groups`` groups and normalize
    each over its channels and spatial dims; then a per-channel ``weight`` (init 1) and
    ``bias`` (init 0) when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        _positive_int(num_groups, "num_groups", "GroupNorm")
        _positive_int(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        dtype = dtype if dtype is not None else get_default_dtype()
        _affine_parameters(self, (num_channels,), dtype, affine, bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight`` to 1 and ``bias`` to 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        if isinstance(input, Tensor) and (input.ndim < 2 or input.shape[1] != self.num_channels):
            raise ShapeError(f"GroupNorm: expected input of shape (N, {self.num_channels}, *) "
                             f"(num_channels={self.num_channels}), got "
                             f"{shape_str(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")

    def describe(self) -> str:
        return f"GroupNorm {self.num_groups}x{self.num_channels}"


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm"]
