"""Conv layers and functionals against PyTorch with identical weights and inputs.

Tolerances: float32 outputs 1e-5 abs/rel, gradients 1e-4 (sums of up to a few hundred float32
products in a different order than oneDNN's). The primitives' float64 gradchecks (first and
second order) are in tests/ops/opinfo_conv.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
import ember.optim
from ember import nn

RNG = np.random.default_rng(11)


def copy_params(ours, theirs):
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        mine[name]._data[...] = p.detach().numpy()


def compare_layer(ours, theirs, shape, atol=1e-5, grad_atol=1e-4, **call):
    copy_params(ours, theirs)
    x = RNG.standard_normal(shape).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = ours(ex, **call), theirs(tx, **call)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=atol, rtol=atol)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=grad_atol, rtol=grad_atol)
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.numpy(), p.grad.numpy(),
                                   atol=grad_atol, rtol=grad_atol, err_msg=name)


CONV2D = [
    dict(args=(1, 32, 3), kw=dict(padding=1), shape=(2, 1, 10, 10)),  # W2's first layer
    dict(args=(3, 4, 3), kw=dict(stride=2, padding=(1, 0)), shape=(2, 3, 9, 8)),
    dict(args=(4, 6, (2, 3)), kw=dict(dilation=(2, 1), groups=2, bias=False), shape=(1, 4, 7, 9)),
    dict(args=(3, 5, 4), kw=dict(padding="same", dilation=2), shape=(2, 3, 9, 9)),
    dict(args=(3, 5, 3), kw=dict(padding="valid"), shape=(3, 6, 5)),  # unbatched
    dict(args=(2, 3, 3), kw=dict(padding=2, padding_mode="reflect"), shape=(2, 2, 5, 6)),
    dict(args=(2, 3, 3), kw=dict(padding=1, padding_mode="replicate"), shape=(1, 2, 4, 4)),
    dict(args=(2, 3, 3), kw=dict(padding=(1, 2), padding_mode="circular"), shape=(1, 2, 4, 5)),
    dict(args=(4, 4, 3), kw=dict(groups=4, padding=1), shape=(1, 4, 5, 5)),  # depthwise
]


@pytest.mark.parametrize("case", CONV2D, ids=lambda c: str(c["kw"]))
def test_conv2d_layer_matches_torch(case):
    compare_layer(nn.Conv2d(*case["args"], **case["kw"]),
                  torch.nn.Conv2d(*case["args"], **case["kw"]), case["shape"])


@pytest.mark.parametrize("kw, shape", [(dict(padding=1, stride=2), (2, 3, 9)),
                                       (dict(padding="same", groups=3, dilation=2), (3, 7)),
                                       (dict(padding=2, padding_mode="circular"), (2, 3, 6))])
def test_conv1d_layer_matches_torch(kw, shape):
    compare_layer(nn.Conv1d(3, 6, 3, **kw), torch.nn.Conv1d(3, 6, 3, **kw), shape)


@pytest.mark.parametrize("kw, shape", [(dict(stride=2, padding=1, output_padding=1), (2, 4, 3, 4)),
                                       (dict(groups=2, dilation=2, bias=False), (1, 4, 3, 3)),
                                       (dict(stride=(2, 1), padding=(0, 1)), (4, 3, 5))])
def test_conv_transpose2d_layer_matches_torch(kw, shape):
    compare_layer(nn.ConvTranspose2d(4, 6, 3, **kw), torch.nn.ConvTranspose2d(4, 6, 3, **kw),
                  shape)


def test_conv_transpose2d_output_size_picks_output_padding():
    ours, theirs = nn.ConvTranspose2d(2, 3, 3, stride=2), torch.nn.ConvTranspose2d(2, 3, 3, 2)
    compare_layer(ours, theirs, (1, 2, 4, 4), output_size=(10, 9))
    with pytest.raises(ember.ShapeError, match="valid sizes range from 9 to 10"):
        ours(ember.zeros(1, 2, 4, 4), output_size=(12, 9))


def test_small_cnn_training_steps_match_torch():
    """W2's architecture at a small batch: two SGD steps give the same weights as PyTorch."""
    def build(mod):
        return mod.Sequential(mod.Conv2d(1, 8, 3, padding=1), mod.ReLU(), mod.MaxPool2d(2),
                              mod.Conv2d(8, 16, 3, padding=1), mod.ReLU(), mod.AvgPool2d(2),
                              mod.Flatten(), mod.Linear(16 * 3 * 3, 10))

    ours, theirs = build(nn), build(torch.nn)
    copy_params(ours, theirs)
    x = RNG.standard_normal((4, 1, 12, 12)).astype(np.float32)
    y = RNG.integers(0, 10, 4)
    e_opt = ember.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        e_opt.zero_grad()
        t_opt.zero_grad()
        F.cross_entropy(ours(ember.tensor(x)), ember.tensor(y)).backward()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        e_opt.step()
        t_opt.step()
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].detach().numpy(),
                                   p.detach().numpy(), atol=1e-5, rtol=1e-4, err_msg=name)


def test_default_init_follows_torch_distribution():
    ember.manual_seed(0)
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.shape == (32, 16, 3, 3) and b.shape == (32,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform's std
    assert np.abs(b).max() <= bound
    t = nn.ConvTranspose2d(6, 8, 3, groups=2)  # PyTorch's fan_in: weight dim 1 = 8/2
    assert t.weight.shape == (6, 4, 3, 3)
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(4 * 9)
    ember.manual_seed(0)
    np.testing.assert_array_equal(nn.Conv2d(16, 32, 3).weight.detach().numpy(), w)


@pytest.mark.parametrize("ours, theirs", [
    (nn.Conv2d(1, 32, 3, padding=1), torch.nn.Conv2d(1, 32, 3, padding=1)),
    (nn.Conv2d(4, 8, (3, 2), stride=2, padding="valid", groups=2,
               bias=False, padding_mode="reflect"),
     torch.nn.Conv2d(4, 8, (3, 2), stride=2, padding="valid", groups=2, bias=False,
                     padding_mode="reflect")),
    (nn.Conv1d(4, 8, 3, padding="same", dilation=2), torch.nn.Conv1d(4, 8, 3, padding="same",
                                                                      dilation=2)),
    (nn.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1),
     torch.nn.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1)),
])
def test_repr_matches_torch(ours, theirs):
    assert repr(ours) == repr(theirs)


def test_describe():
    assert nn.Conv2d(32, 64, 3).describe() == "Conv2d 32->64"
    assert nn.ConvTranspose2d(8, 4, 2).describe() == "ConvTranspose2d 8->4"


@pytest.mark.skipif(ember.get_backend() == "onednn",
                    reason="by design under the oneDNN backend: conv outputs are channels-last "
                    "in memory and .view refuses them, like PyTorch's channels_last "
                    "(docs/backends.md)")
def test_output_is_contiguous_nchw_so_view_works():
    out = nn.Conv2d(3, 4, 3, padding=1)(ember.randn(2, 3, 5, 5))
    assert out.view(2, -1).shape == (2, 100)


def test_no_grad_keeps_no_columns_and_double_backward_recomputes_them():
    conv = nn.Conv2d(2, 3, 3)
    x = ember.randn(1, 2, 5, 5)
    with ember.no_grad():
        conv(x)  # must not fail nor keep anything: covered by no node being recorded
    out = conv(x)
    out.sum().backward(retain_graph=True)
    first = conv.weight.grad.numpy().copy()
    conv.weight.grad = None
    out.sum().backward()  # the cached columns were used once; the second pass recomputes
    np.testing.assert_allclose(conv.weight.grad.numpy(), first, rtol=1e-6)


# ------------------------------------------------------------------------ bad input


def test_wrong_channel_count_names_in_channels_and_shape():
    model = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU())
    with pytest.raises(ember.ShapeError, match=r"0 \(Conv2d 3->32\): .*in_channels=3.*"
                                               r"\[2, 1, 8, 8\]"):
        model(ember.zeros(2, 1, 8, 8))
    with pytest.raises(ember.ShapeError, match=r"expected input\[2, 1, 8, 8\] to have 3 "
                                               r"channels, but got 1"):
        F.conv2d(ember.zeros(2, 1, 8, 8), ember.zeros(4, 3, 3, 3))
    with pytest.raises(ember.ShapeError, match="in_channels=4"):
        nn.Conv1d(4, 2, 3)(ember.zeros(2, 3, 8))


@pytest.mark.parametrize("shape", [(8, 8), (1, 2, 3, 8, 8)])
def test_wrong_rank(shape):
    with pytest.raises(ember.ShapeError, match=r"3-D \(unbatched\) or 4-D \(batched\) input, "
                                               r"got input of shape"):
        nn.Conv2d(3, 4, 3)(ember.zeros(*shape))
    with pytest.raises(ember.ShapeError, match="3-D .*or 4-D"):
        F.conv2d(ember.zeros(*shape), ember.zeros(4, 3, 3, 3))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ember.ShapeError, match=r"kernel size \(5, 5\).*larger than the padded "
                                               r"input size 4"):
        nn.Conv2d(1, 2, 5, padding=1)(ember.zeros(1, 1, 2, 8))


def test_dtype_mismatch_with_weights():
    with pytest.raises(ember.DTypeError, match=r"input dtype \(float64\) and weight dtype "
                                               r"\(float32\)"):
        nn.Conv2d(1, 2, 3)(ember.zeros(1, 1, 5, 5, dtype=ember.float64))
    with pytest.raises(ember.DTypeError, match="floating-point input, got int64"):
        F.conv2d(ember.zeros(1, 1, 5, 5, dtype=ember.int64), ember.zeros(2, 1, 3, 3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument 'input' must be Tensor, not list"):
        F.conv2d([[1.0]], ember.zeros(1, 1, 1, 1))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(ember.zeros(1, 1, 5, 5), ember.zeros(2, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        F.conv2d(ember.zeros(1, 1, 5, 5), ember.zeros(2, 1, 3, 3), padding="full")
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 2 ints"):
        nn.Conv2d(3, 4, (3, 3, 3))
    with pytest.raises(ValueError, match="output_padding .* smaller than stride"):
        F.conv_transpose2d(ember.zeros(1, 2, 3, 3), ember.zeros(2, 2, 3, 3), output_padding=1)
