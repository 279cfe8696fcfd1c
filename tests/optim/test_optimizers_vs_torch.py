"""Every optimizer against PyTorch: 20 steps from the same parameters with the same seeded
gradients (tolerance in ``_util.py``: relative 1e-6, float32)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
import ember.optim as eo

from ._util import (
    assert_params_close,
    ember_params,
    gradients,
    initial,
    run_ember,
    run_torch,
    torch,
    torch_params,
)

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, eps=1e-3, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(alpha=0.9, eps=1e-3, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("Adagrad", dict(eps=1e-3, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _pair(name, arrays, **kw):
    ep, tp = ember_params(arrays), torch_params(arrays)
    return ep, tp, getattr(eo, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_twenty_steps_match_torch(case):
    name, kw = case
    ep, tp, eopt, topt = _pair(name, initial(), **kw)
    grads = gradients(20)
    run_ember(eopt, ep, grads)
    run_torch(topt, tp, grads)
    assert_params_close(ep, tp)


@pytest.mark.parametrize("case", CASES[1::2], ids=[_ids(c) for c in CASES[1::2]])
def test_state_matches_torch(case):
    """Same state keys per parameter, same values, same group options."""
    name, kw = case
    ep, tp, eopt, topt = _pair(name, initial(), **kw)
    grads = gradients(5)
    run_ember(eopt, ep, grads)
    run_torch(topt, tp, grads)
    es, ts = eopt.state_dict(), topt.state_dict()
    assert sorted(es["state"]) == sorted(ts["state"])
    for i, state in ts["state"].items():
        assert sorted(es["state"][i]) == sorted(state)
        for key, value in state.items():
            np.testing.assert_allclose(es["state"][i][key].numpy(), value.numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=key)
    for eg, tg in zip(es["param_groups"], ts["param_groups"]):
        for key, value in eg.items():
            assert tg[key] == value, key


@pytest.mark.parametrize("name,kw,other", [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(momentum=0.5, nesterov=True)),
    ("Adam", dict(lr=0.01), dict(betas=(0.5, 0.9), amsgrad=True)),
    ("AdamW", dict(lr=0.01), dict(weight_decay=0.5)),
    ("RMSprop", dict(lr=0.01), dict(centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1), dict(lr_decay=0.1)),
])
def test_param_groups_with_own_options(name, kw, other):
    arrays = initial()
    ep, tp = ember_params(arrays), torch_params(arrays)
    eopt = getattr(eo, name)([{"params": ep[:2]}, {"params": ep[2:], "lr": 0.003, **other}], **kw)
    topt = getattr(torch.optim, name)([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.003,
                                                            **other}], **kw)
    assert eopt.param_groups[1]["lr"] == 0.003
    assert eopt.param_groups[0]["lr"] == kw["lr"]  # defaults filled in
    grads = gradients(20)
    run_ember(eopt, ep, grads)
    run_torch(topt, tp, grads)
    assert_params_close(ep, tp)


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(centered=True, momentum=0.9)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
])
def test_state_dict_round_trip_mid_run(name, kw):
    """Save after 10 steps, load into a fresh optimizer (through pickle, as a checkpoint
    would), run 10 more: the same as 20 uninterrupted steps, bit for bit."""
    arrays, grads = initial(), gradients(20)
    straight = ember_params(arrays)
    opt = getattr(eo, name)([{"params": straight[:2]}, {"params": straight[2:], "lr": 0.02}],
                            **kw)
    run_ember(opt, straight, grads)

    first = ember_params(arrays)
    opt1 = getattr(eo, name)([{"params": first[:2]}, {"params": first[2:], "lr": 0.02}], **kw)
    run_ember(opt1, first, grads[:10])
    saved = pickle.loads(pickle.dumps(opt1.state_dict()))
    resumed = ember_params([p.detach().numpy() for p in first])
    opt2 = getattr(eo, name)([{"params": resumed[:2]}, {"params": resumed[2:]}], **kw)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02  # options come from the saved groups
    run_ember(opt2, resumed, grads[10:])
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_copies_and_casts():
    p = ember_params(initial())
    opt = eo.Adam(p, lr=0.01)
    run_ember(opt, p, gradients(2))
    q = [ember.nn.Parameter(x.detach().double()) for x in p]
    opt2 = eo.Adam(q, lr=0.01)
    opt2.load_state_dict(opt.state_dict())
    s1, s2 = opt.state[p[0]], opt2.state[q[0]]
    assert s2["exp_avg"].dtype == ember.float64  # cast to the parameter's dtype
    assert s2["step"].dtype == ember.float32  # except the step count
    s1["exp_avg"].zero_()
    assert s2["exp_avg"].abs().sum().item() > 0  # no memory shared with the source


def test_changing_lr_mid_run_matches_torch():
    """The 0-d lr tensor follows ``group['lr']`` (updated in place, as a scheduler would)."""
    ep, tp, eopt, topt = _pair("Adam", initial(), lr=0.01)
    grads = gradients(12)
    lr_tensors = []
    for i, gs in enumerate(grads):
        for opt in (eopt, topt):
            opt.param_groups[0]["lr"] = 0.01 * 0.8 ** (i // 3)
        run_ember(eopt, ep, [gs])
        run_torch(topt, tp, [gs])
        lr_tensors.append(eopt._lr_cache[id(eopt.param_groups[0])][1])
    assert all(t is lr_tensors[0] for t in lr_tensors)  # one tensor, updated in place
    assert lr_tensors[0].item() == eopt.param_groups[0]["lr"]
    assert_params_close(ep, tp)


def test_add_param_group_mid_run_matches_torch():
    arrays, grads = initial(), gradients(10)
    ep, tp = ember_params(arrays), torch_params(arrays)
    eopt, topt = eo.SGD(ep[:2], lr=0.1, momentum=0.9), torch.optim.SGD(tp[:2], lr=0.1,
                                                                       momentum=0.9)
    for i, gs in enumerate(grads):
        if i == 5:
            eopt.add_param_group({"params": ep[2], "lr": 0.01})
            topt.add_param_group({"params": tp[2], "lr": 0.01})
        run_ember(eopt, ep, [gs])
        run_torch(topt, tp, [gs])
    assert eopt.param_groups[1]["momentum"] == 0.9
    assert_params_close(ep, tp)


def test_parameters_without_grad_are_skipped():
    p = ember_params(initial())
    opt = eo.Adam(p)
    before = p[1].detach().numpy().copy()
    p[0].grad = ember.ones(5, 4)
    opt.step()
    assert p[1] not in opt.state and p[0] in opt.state
    np.testing.assert_array_equal(p[1].detach().numpy(), before)
    assert list(opt.state_dict()["state"]) == [0]


def test_zero_grad():
    p = ember_params(initial())
    opt = eo.SGD(p, lr=0.1)
    for q in p:
        q.grad = ember.ones(*q.shape)
    grad = p[0].grad
    opt.zero_grad(set_to_none=False)
    assert p[0].grad is grad and grad.abs().sum().item() == 0
    opt.zero_grad()
    assert all(q.grad is None for q in p)


def test_step_with_closure_returns_loss_and_enables_grad():
    w = ember.nn.Parameter(ember.tensor([1.0, -2.0]))
    opt = eo.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        assert loss.requires_grad
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])  # w - 0.5 * 2w


def test_update_leaves_no_autograd_history():
    p = ember_params(initial())
    opt = eo.RMSprop(p, centered=True, momentum=0.9)
    run_ember(opt, p, gradients(2))
    assert all(q.is_leaf and q.requires_grad for q in p)
    assert not any(t.requires_grad for s in opt.state.values() for t in s.values())


def test_float64_parameters_stay_float64():
    arrays = [a.astype(np.float64) for a in initial()]
    ep = [ember.nn.Parameter(ember.tensor(a)) for a in arrays]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    eopt, topt = eo.Adam(ep, lr=0.01), torch.optim.Adam(tp, lr=0.01)
    grads = [[g.astype(np.float64) for g in gs] for gs in gradients(10)]
    run_ember(eopt, ep, grads)
    run_torch(topt, tp, grads)
    assert ep[0].dtype == ember.float64
    assert_params_close(ep, tp, rtol=1e-12, atol=1e-12)


def test_repr_lists_group_options():
    text = repr(eo.SGD(ember_params(initial()), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9" in text
