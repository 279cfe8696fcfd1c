"""Normalization: the fused primitives against their composites, and every functional and
layer against torch with identical weights and inputs (float64, tolerance 1e-10 unless said)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.ops import norm as _norm

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = dict(rtol=1e-10, atol=1e-10)


def _pair(shape, seed, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _run_both(fe, ft, shapes, seed=0):
    """Forward both with equal inputs, backward a random cotangent; compare all."""
    pairs = [_pair(s, seed + i) if s is not None else (None, None) for i, s in enumerate(shapes)]
    ye, yt = fe(*[p[0] for p in pairs]), ft(*[p[1] for p in pairs])
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **TOL)
    g = np.random.default_rng(99).standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (pe, pt) in enumerate(pairs):
        if pe is not None:
            np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), err_msg=f"input {i}",
                                       **TOL)


def _copy_from_torch(me, mt):
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})


# ------------------------------------------------------------------------ functional vs torch


@pytest.mark.parametrize("norm_shape,shape", [((5,), (4, 3, 5)), ((3, 5), (2, 3, 5)),
                                              ((6,), (6,))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(norm_shape, shape, affine):
    w = norm_shape if affine != "none" else None
    b = norm_shape if affine == "both" else None
    _run_both(lambda x, w, b: F.layer_norm(x, norm_shape, w, b, 1e-3),
              lambda x, w, b: TF.layer_norm(x, norm_shape, w, b, 1e-3), [shape, w, b])


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(shape, affine):
    c = (shape[1],) if affine else None
    _run_both(lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, 1e-4),
              lambda x, w, b: TF.batch_norm(x, None, None, w, b, True, 0.1, 1e-4), [shape, c, c])


def test_batch_norm_eval_matches_torch():
    rm, rv = np.array([0.5, -1.0, 2.0]), np.array([0.3, 2.0, 1.5])
    _run_both(lambda x, w, b: F.batch_norm(x, ember.tensor(rm), ember.tensor(rv), w, b, False),
              lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b, False),
              [(4, 3, 5), (3,), (3,)])


def test_batch_norm_updates_running_stats_with_unbiased_variance():
    x = np.random.default_rng(0).standard_normal((8, 3, 4)) * 3 + 1
    rme, rve = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    rmt, rvt = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        F.batch_norm(ember.tensor(x), rme, rve, training=True, momentum=0.3)
        TF.batch_norm(torch.tensor(x), rmt, rvt, training=True, momentum=0.3)
    np.testing.assert_allclose(rme.numpy(), rmt.numpy(), **TOL)
    np.testing.assert_allclose(rve.numpy(), rvt.numpy(), **TOL)
    assert not rve.requires_grad


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((2, 4, 3, 3), 2), ((3, 4), 4),
                                          ((2, 4, 3), 1)])
def test_group_norm_matches_torch(shape, groups):
    c = (shape[1],)
    _run_both(lambda x, w, b: F.group_norm(x, groups, w, b, 1e-4),
              lambda x, w, b: TF.group_norm(x, groups, w, b, 1e-4), [shape, c, c])


# ------------------------------------------------------------------------ fused == composite


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("case", ["layer", "layer_noaffine", "batch", "batch2d"])
def test_fused_normalize_equals_composite(dtype, tol, case):
    rng = np.random.default_rng(3)
    shape, dims, wshape = {"layer": ((4, 3, 6), (2,), (6,)),
                           "layer_noaffine": ((4, 3, 6), (1, 2), None),
                           "batch": ((5, 3), (0,), (3,)),
                           "batch2d": ((4, 3, 2, 5), (0, 2, 3), (3, 1, 1))}[case]
    x = rng.standard_normal(shape).astype(dtype) * 2 + 0.5
    w = rng.standard_normal(wshape).astype(dtype) if wshape else None
    g = rng.standard_normal(shape).astype(dtype)
    results = []
    for fused in (True, False):
        xe = ember.tensor(x, requires_grad=True)
        we = ember.tensor(w, requires_grad=True) if w is not None else None
        be = ember.tensor(w * 0.5, requires_grad=True) if w is not None else None
        if fused:
            y = _norm.normalize(_norm.LAYER_NORM, xe, dims, 1e-5, we, be)
            assert y.grad_fn is not None  # one node for the whole normalization
        else:
            y = _norm.normalize_composite(xe, dims, 1e-5, we, be)
        y.backward(ember.tensor(g))
        results.append([y.detach().numpy(), xe.grad.numpy()]
                       + ([we.grad.numpy(), be.grad.numpy()] if w is not None else []))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_fused_backward_is_differentiable_like_composite():
    # second derivatives (create_graph) of fused and composite agree
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 5))
    w = rng.standard_normal((2, 1))
    out = []
    for fused in (True, False):
        xe, we = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = (_norm.normalize(_norm.BATCH_NORM, xe, (0, 2), 1e-5, we, None) if fused
             else _norm.normalize_composite(xe, (0, 2), 1e-5, we, None))
        (gx,) = ember.autograd.grad((y * y * y).sum(), [xe], create_graph=True)
        (gg,) = ember.autograd.grad((gx * gx).sum(), [xe])
        out.append((gx.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-10)


def _f64(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(a, requires_grad=True)


def test_gradcheck_layer_norm():
    args = (_f64(3, 4, 5), _f64(4, 5, seed=1), _f64(4, 5, seed=2))
    assert ember.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (4, 5), w, b), args)
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.layer_norm(x, (4, 5), w, b), args)


def test_gradcheck_batch_norm_and_group_norm():
    args = (_f64(4, 3, 5), _f64(3, seed=1), _f64(3, seed=2))
    assert ember.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), args)
    assert ember.autograd.gradgradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, True), args)
    args = (_f64(2, 6, 3), _f64(6, seed=1), _f64(6, seed=2))
    assert ember.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 3, w, b), args)


# ------------------------------------------------------------------------ layers vs torch


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)),
                                       ("BatchNorm2d", (3, 4, 2, 3)),
                                       ("BatchNorm3d", (2, 4, 2, 2, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_layer_training_steps_and_eval_match_torch(cls, shape, momentum):
    me = getattr(nn, cls)(4, momentum=momentum, eps=1e-3, dtype=ember.float64)
    mt = getattr(torch.nn, cls)(4, momentum=momentum, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        mt.weight.uniform_(0.5, 1.5)
        mt.bias.uniform_(-1, 1)
    _copy_from_torch(me, mt)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = me(xe), mt(xt)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **TOL)
        (ye * ye).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-9)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(me, name).grad.numpy(),
                                   getattr(mt, name).grad.numpy(), rtol=1e-9, atol=1e-9)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(me, name).numpy(), getattr(mt, name).numpy(), **TOL)
    assert me.num_batches_tracked.dtype == ember.int64 and me.num_batches_tracked.item() == 4
    me.eval(), mt.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(me(ember.tensor(x)).detach().numpy(),
                               mt(torch.tensor(x)).detach().numpy(), **TOL)


@pytest.mark.parametrize("affine,track,bias", [(False, True, True), (True, False, True),
                                               (False, False, True), (True, True, False)])
def test_batchnorm_options_match_torch(affine, track, bias):
    me = nn.BatchNorm2d(3, affine=affine, track_running_stats=track, dtype=ember.float64,
                        bias=bias)
    mt = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track, dtype=torch.float64,
                              bias=bias)
    assert list(me.state_dict()) == list(mt.state_dict())
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)) + 2
    for mode in ("train", "eval"):
        getattr(me, mode)(), getattr(mt, mode)()
        np.testing.assert_allclose(me(ember.tensor(x)).detach().numpy(),
                                   mt(torch.tensor(x)).detach().numpy(), **TOL)
    assert (me.running_mean is None) == (not track)


def test_layernorm_and_groupnorm_layers_match_torch():
    for me, mt, shape in [
            (nn.LayerNorm((3, 4), eps=1e-4, dtype=ember.float64),
             torch.nn.LayerNorm((3, 4), eps=1e-4, dtype=torch.float64), (2, 3, 4)),
            (nn.LayerNorm(4, bias=False, dtype=ember.float64),
             torch.nn.LayerNorm(4, bias=False, dtype=torch.float64), (5, 4)),
            (nn.LayerNorm(4, elementwise_affine=False, dtype=ember.float64),
             torch.nn.LayerNorm(4, elementwise_affine=False, dtype=torch.float64), (5, 4)),
            (nn.GroupNorm(2, 4, dtype=ember.float64),
             torch.nn.GroupNorm(2, 4, dtype=torch.float64), (3, 4, 5)),
            (nn.GroupNorm(2, 4, affine=False, dtype=ember.float64),
             torch.nn.GroupNorm(2, 4, affine=False, dtype=torch.float64), (3, 4, 5))]:
        assert list(me.state_dict()) == list(mt.state_dict())
        with torch.no_grad():
            for p in mt.parameters():
                p.uniform_(-1, 1)
        _copy_from_torch(me, mt)
        xe, xt = _pair(shape, 5)
        ye, yt = me(xe), mt(xt)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **TOL)
        (ye * ye).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-9)
        for (n, pe), (_, pt) in zip(me.named_parameters(), mt.named_parameters()):
            np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-9, atol=1e-9,
                                       err_msg=n)


def test_default_init_and_buffers_like_torch():
    m = nn.BatchNorm2d(3)
    assert m.weight.dtype == ember.float32
    np.testing.assert_array_equal(m.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(m.bias.detach().numpy(), 0)
    np.testing.assert_array_equal(m.running_var.numpy(), 1)
    assert m.num_batches_tracked.dtype == ember.int64 and m.num_batches_tracked.shape == ()
    ln = nn.LayerNorm(5)
    np.testing.assert_array_equal(ln.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(ln.bias.detach().numpy(), 0)
    assert [n for n, _ in nn.BatchNorm2d(3, bias=False).named_parameters()] == ["weight"]
    assert [n for n, _ in nn.GroupNorm(1, 3, bias=False).named_parameters()] == ["weight"]


def test_repr_and_describe_match_torch():
    for args, kwargs in [((4,), {}), ((4,), {"momentum": None, "affine": False}),
                         ((4,), {"bias": False}),
                         ((4,), {"eps": 1e-3, "track_running_stats": False})]:
        assert repr(nn.BatchNorm2d(*args, **kwargs)) == repr(torch.nn.BatchNorm2d(*args, **kwargs))
        assert repr(nn.BatchNorm1d(*args, **kwargs)) == repr(torch.nn.BatchNorm1d(*args, **kwargs))
    assert repr(nn.LayerNorm((3, 4), elementwise_affine=False)) == \
        repr(torch.nn.LayerNorm((3, 4), elementwise_affine=False))
    assert repr(nn.LayerNorm(8)) == repr(torch.nn.LayerNorm(8))
    assert repr(nn.LayerNorm(8, bias=False)) == repr(torch.nn.LayerNorm(8, bias=False))
    assert repr(nn.GroupNorm(2, 8, affine=False)) == repr(torch.nn.GroupNorm(2, 8, affine=False))
    assert repr(nn.GroupNorm(2, 8)) == repr(torch.nn.GroupNorm(2, 8))
    assert nn.BatchNorm2d(64).describe() == "BatchNorm2d 64"
    assert nn.LayerNorm(128).describe() == "LayerNorm [128]"
    assert nn.GroupNorm(4, 32).describe() == "GroupNorm 4x32"


# ------------------------------------------------------------------------ bad input


def test_batchnorm_channel_mismatch_names_num_features_and_shape():
    model = nn.Sequential(nn.BatchNorm2d(16))
    with pytest.raises(ember.ShapeError, match=r"^0 \(BatchNorm2d 16\): .*16 channels "
                                               r"\(num_features\).*\[8, 3, 5, 5\]"):
        model(ember.randn(8, 3, 5, 5))


def test_batchnorm_wrong_rank():
    with pytest.raises(ember.ShapeError, match=r"expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(ember.randn(2, 3, 4))
    with pytest.raises(ember.ShapeError, match=r"expected 2D or 3D input \(got 4D input"):
        nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 4))


def test_batchnorm_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size \[1, 3\]"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    m = nn.BatchNorm1d(3).eval()
    assert m(ember.randn(1, 3)).shape == (1, 3)  # fine in eval mode, as in torch


def test_functional_bad_inputs():
    with pytest.raises(ember.ShapeError, match=r"layer_norm: given normalized_shape=\[4\], "
                                               r"expected input with shape \[\*, 4\], but got "
                                               r"input of size \[2, 3\]"):
        F.layer_norm(ember.randn(2, 3), (4,))
    with pytest.raises(ember.ShapeError, match=r"layer_norm: expected weight of shape \[3\], "
                                               r"got \[4\]"):
        F.layer_norm(ember.randn(2, 3), (3,), ember.ones(4))
    with pytest.raises(ember.ShapeError, match=r"group_norm: .*divisible by num_groups.*"
                                               r"\[2, 6, 3\] and num_groups=4"):
        F.group_norm(ember.randn(2, 6, 3), 4)
    with pytest.raises(ember.ShapeError, match=r"batch_norm: expected running_mean of shape "
                                               r"\[3\], got \[4\]"):
        F.batch_norm(ember.randn(2, 3), ember.zeros(4), ember.ones(4))
    with pytest.raises(ember.DTypeError, match="layer_norm: expected a floating-point input, "
                                               "got int64"):
        F.layer_norm(ember.tensor([[1, 2]]), (2,))
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.batch_norm(ember.randn(2, 3), None, None, training=False)


def test_layer_bad_constructor_args():
    with pytest.raises(ValueError, match="GroupNorm: num_channels \\(6\\) must be divisible "
                                         "by num_groups \\(4\\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="BatchNorm2d: num_features must be a positive int"):
        nn.BatchNorm2d(0)
    with pytest.raises(ember.ShapeError, match=r"GroupNorm: expected input of shape \(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(ember.randn(2, 6))
