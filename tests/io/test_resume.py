"""Resuming training from a checkpoint reproduces the uninterrupted run bit for bit."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn, optim
from ember.io import load, save


def make_model():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))


def make_optimizer(name, model):
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                         weight_decay=1e-3)
    return optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.95), amsgrad=True)


def train(model, opt, sched, steps):
    # data and dropout masks both come from the default generator: the RNG state matters
    for _ in range(steps):
        x, y = ember.randn(8, 6), ember.randn(8, 2)
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_resume_is_bitwise_equal(tmp_path, name):
    ember.manual_seed(0)
    model = make_model()
    opt = make_optimizer(name, model)
    sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    train(model, opt, sched, 5)
    path = tmp_path / "ckpt.safetensors"
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 5,
          "scheduler": sched.state_dict(), "rng": ember.get_rng_state()}, path)
    train(model, opt, sched, 5)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    ember.manual_seed(42)  # a different initialisation and RNG position
    fresh = make_model()
    fresh_opt = make_optimizer(name, fresh)
    fresh_sched = optim.lr_scheduler.StepLR(fresh_opt, step_size=3, gamma=0.5)
    ckpt = load(path)
    fresh.load_state_dict(ckpt["model"])
    fresh_opt.load_state_dict(ckpt["optimizer"])
    fresh_sched.load_state_dict(ckpt["scheduler"])
    ember.set_rng_state(ckpt["rng"])
    assert ckpt["epoch"] == 5
    train(fresh, fresh_opt, fresh_sched, 5)
    assert fresh_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), expected[k], err_msg=k)


def test_optimizer_state_dict_round_trip(tmp_path):
    ember.manual_seed(1)
    model = make_model()
    opt = make_optimizer("adam", model)
    train(model, opt, optim.lr_scheduler.StepLR(opt, 1), 2)
    sd = opt.state_dict()
    path = tmp_path / "opt.safetensors"
    save(sd, path)
    back = load(path)
    assert back["param_groups"] == sd["param_groups"]  # betas stay a tuple, params ints
    assert type(back["param_groups"][0]["betas"]) is tuple
    assert back["state"].keys() == sd["state"].keys()
    assert all(isinstance(k, int) for k in back["state"])
    for i, state in sd["state"].items():
        assert back["state"][i].keys() == state.keys()
        for key, value in state.items():
            assert back["state"][i][key].dtype == value.dtype
            np.testing.assert_array_equal(back["state"][i][key].numpy(), value.numpy())
