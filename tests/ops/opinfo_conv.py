"""Op-info entries for the convolution and pooling primitives (ember/ops/conv.py, pool.py),
through their nn.functional entry points. Tiny shapes: gradcheck and the second-order check
perturb every element. Max-pool samples use distinct values (no ties, no kinks in reach of
the finite-difference step)."""

from __future__ import annotations

import ember.nn.functional as F

from .op_info import OpInfo, Sample, distinct, rand

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None


def conv2d_samples(rng):
    return [
        Sample((rand(rng, 2, 3, 5, 5), rand(rng, 4, 3, 3, 3), rand(rng, 4)), {"padding": 1},
               name="pad 1 with bias"),
        Sample((rand(rng, 1, 2, 6, 5), rand(rng, 3, 2, 2, 3)), {"stride": 2},
               name="stride 2, odd sizes, no bias"),
        Sample((rand(rng, 2, 4, 5, 6), rand(rng, 4, 2, 2, 2), rand(rng, 4)),
               {"padding": (1, 0), "dilation": (2, 1), "groups": 2}, name="groups, dilation"),
        Sample((rand(rng, 2, 2, 4, 5), rand(rng, 3, 2, 2, 2)), {"padding": "same"},
               name="'same' with an even kernel"),
        Sample((rand(rng, 2, 4, 4), rand(rng, 3, 2, 3, 3)), {"padding": "valid"},
               name="unbatched"),
        Sample((rand(rng, 3, 3, 1, 1), rand(rng, 3, 1, 1, 1)), {"groups": 3},
               name="depthwise 1x1"),
    ]


def conv1d_samples(rng):
    return [
        Sample((rand(rng, 2, 3, 7), rand(rng, 4, 3, 3), rand(rng, 4)), {"padding": 1,
                                                                       "stride": 2}),
        Sample((rand(rng, 2, 4, 6), rand(rng, 2, 2, 2)), {"dilation": 2, "groups": 2}),
        Sample((rand(rng, 3, 5), rand(rng, 2, 3, 2)), {"padding": "same"}, name="unbatched"),
    ]


def conv_transpose2d_samples(rng):
    return [
        Sample((rand(rng, 2, 3, 3, 4), rand(rng, 3, 2, 3, 3), rand(rng, 2)),
               {"stride": 2, "padding": 1, "output_padding": 1}),
        Sample((rand(rng, 1, 4, 3, 3), rand(rng, 4, 1, 2, 3)),
               {"stride": (1, 2), "groups": 2, "dilation": (2, 1)}, name="groups, dilation"),
        Sample((rand(rng, 2, 3, 3), rand(rng, 2, 2, 2, 2)), {}, name="unbatched"),
    ]


def max_pool2d_samples(rng):
    return [
        Sample((distinct(rng, 2, 2, 4, 4), 2), {}, name="2x2"),
        Sample((distinct(rng, 1, 2, 5, 6), (3, 2)), {"stride": (2, 1), "padding": 1,
                                                     "ceil_mode": True}),
        Sample((distinct(rng, 1, 2, 7, 5), 2), {"stride": 2, "dilation": 2, "ceil_mode": True,
                                                "padding": 1}, name="dilation, ceil"),
        Sample((distinct(rng, 2, 5, 5), 3), {"stride": 1}, name="unbatched, overlapping"),
    ]


def max_pool2d_indices_samples(rng):
    return [Sample((distinct(rng, 1, 2, 5, 6), 3), {"stride": 2, "padding": 1,
                                                    "return_indices": True}, diff=())]


def max_pool1d_samples(rng):
    return [Sample((distinct(rng, 2, 2, 7), 3), {"stride": 2, "padding": 1, "ceil_mode": True}),
            Sample((distinct(rng, 2, 6), 2), {}, name="unbatched")]


def avg_pool2d_samples(rng):
    return [
        Sample((rand(rng, 2, 2, 4, 4), 2), {}, name="2x2"),
        Sample((rand(rng, 1, 2, 5, 6), 3), {"stride": 2, "padding": 1, "ceil_mode": True,
                                            "count_include_pad": False}),
        Sample((rand(rng, 1, 2, 5, 6), (3, 2)), {"stride": 2, "padding": 1, "ceil_mode": True}),
        Sample((rand(rng, 2, 5, 5), 2), {"stride": 1, "divisor_override": 3},
               name="unbatched, divisor_override"),
    ]


def avg_pool1d_samples(rng):
    return [Sample((rand(rng, 2, 2, 7), 3), {"stride": 2, "padding": 1,
                                             "count_include_pad": False, "ceil_mode": True})]


def adaptive_samples(rng):
    return [Sample((rand(rng, 2, 2, 5, 7), (3, 4)), {}),
            Sample((rand(rng, 2, 4, 4), 1), {}, name="global"),
            Sample((rand(rng, 1, 2, 5, 3), (None, 2)), {}, name="None keeps H")]


def adaptive1d_samples(rng):
    return [Sample((rand(rng, 2, 2, 7), 3), {})]


T = TF
OPS = [
    OpInfo("F.conv2d", F.conv2d, conv2d_samples, torch_fn=T and TF.conv2d, gradgrad=True,
           atol=1e-5, grad_atol=1e-4),
    OpInfo("F.conv1d", F.conv1d, conv1d_samples, torch_fn=T and TF.conv1d, gradgrad=True),
    OpInfo("F.conv_transpose2d", F.conv_transpose2d, conv_transpose2d_samples,
           torch_fn=T and TF.conv_transpose2d, gradgrad=True),
    OpInfo("F.max_pool2d", F.max_pool2d, max_pool2d_samples, torch_fn=T and TF.max_pool2d,
           gradgrad=True),
    OpInfo("F.max_pool2d return_indices", F.max_pool2d, max_pool2d_indices_samples,
           torch_fn=T and TF.max_pool2d, differentiable=False),
    OpInfo("F.max_pool1d", F.max_pool1d, max_pool1d_samples, torch_fn=T and TF.max_pool1d,
           gradgrad=True),
    OpInfo("F.avg_pool2d", F.avg_pool2d, avg_pool2d_samples, torch_fn=T and TF.avg_pool2d,
           gradgrad=True),
    OpInfo("F.avg_pool1d", F.avg_pool1d, avg_pool1d_samples, torch_fn=T and TF.avg_pool1d,
           gradgrad=True),
    OpInfo("F.adaptive_avg_pool2d", F.adaptive_avg_pool2d, adaptive_samples,
           torch_fn=T and TF.adaptive_avg_pool2d, gradgrad=True),
    OpInfo("F.adaptive_avg_pool1d", F.adaptive_avg_pool1d, adaptive1d_samples,
           torch_fn=T and TF.adaptive_avg_pool1d),
]
