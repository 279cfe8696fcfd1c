"""Every schedule against PyTorch: the learning rates over 40 epochs (two parameter groups),
compared exactly up to float rounding (rel 1e-12: both compute in Python floats)."""

from __future__ import annotations

import math
import pickle

import pytest

import ember
import ember.optim as eo
from ember.optim import lr_scheduler as els

from ._util import torch

tls = torch.optim.lr_scheduler
EPOCHS = 40


class Halving:
    """A picklable callable schedule with state (LambdaLR saves its ``__dict__``)."""

    def __init__(self, every):
        self.every = every

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 25], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=12, eta_min=0.001)),  # past T_max: the cosine goes back up
    ("CosineAnnealingLR", dict(T_max=40)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.8, total_iters=15)),
    ("LinearLR", dict()),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e))),
    ("LambdaLR", dict(lr_lambda=[lambda e: 0.95 ** e, Halving(4)])),
]


def _optimizers(name="SGD", **kw):
    ep = [ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(3))]
    tp = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.02}]  # noqa: E731
    return getattr(eo, name)(groups(ep), lr=0.1, **kw), getattr(torch.optim, name)(groups(tp),
                                                                                    lr=0.1, **kw)


def _trace(scheduler, steps=EPOCHS):
    out = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return out


def _close(a, b, rel=1e-12):
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == pytest.approx(y, rel=rel, abs=1e-15), f"epoch {i}: {x} vs {y}"


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=[s[0] + str(i) for i, s in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kw):
    eopt, topt = _optimizers()
    es, ts = getattr(els, name)(eopt, **kw), getattr(tls, name)(topt, **kw)
    _close(_trace(es), _trace(ts))
    assert [g["lr"] for g in eopt.param_groups] == es.get_last_lr()


@pytest.mark.parametrize("name,kw", SCHEDULES[:6], ids=[s[0] for s in SCHEDULES[:6]])
def test_state_dict_round_trip(name, kw):
    """Stop after 15 epochs, restore into fresh objects, continue: the same rates."""
    eopt, _ = _optimizers()
    sched = getattr(els, name)(eopt, **kw)
    reference = _trace(sched)
    eopt1, _ = _optimizers()
    sched1 = getattr(els, name)(eopt1, **kw)
    first = _trace(sched1, 15)
    saved_opt, saved = pickle.dumps(eopt1.state_dict()), pickle.dumps(sched1.state_dict())
    eopt2, _ = _optimizers()
    sched2 = getattr(els, name)(eopt2, **kw)
    eopt2.load_state_dict(pickle.loads(saved_opt))
    sched2.load_state_dict(pickle.loads(saved))
    rest = _trace(sched2, EPOCHS - 15)
    _close(first + rest[1:], reference)


def test_lambda_lr_state_dict_keeps_callable_objects_only():
    eopt, _ = _optimizers()
    sched = els.LambdaLR(eopt, [lambda e: 1.0, Halving(4)])
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [None, {"every": 4}]
    sched.lr_lambdas[1].every = 99
    sched.load_state_dict(saved)
    assert sched.lr_lambdas[1].every == 4


@pytest.mark.parametrize("kw", [
    dict(max_lr=0.5, total_steps=40),
    dict(max_lr=[0.5, 0.05], total_steps=40, anneal_strategy="linear"),
    dict(max_lr=0.5, epochs=4, steps_per_epoch=10, three_phase=True, pct_start=0.25),
    dict(max_lr=0.5, total_steps=40, three_phase=True, anneal_strategy="linear",
         div_factor=10.0, final_div_factor=100.0),
    dict(max_lr=0.5, total_steps=40, cycle_momentum=False),
])
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_one_cycle_matches_torch(kw, opt):
    eopt, topt = _optimizers(opt, **({"momentum": 0.9} if opt == "SGD" else {}))
    es, ts = els.OneCycleLR(eopt, **kw), tls.OneCycleLR(topt, **kw)
    e_mom, t_mom = [], []
    key = "momentum" if opt == "SGD" else "betas"
    e_rates, t_rates = [es.get_last_lr()], [ts.get_last_lr()]
    for _ in range(39):  # total_steps 40 = the initial step and 39 more
        for o, s, rates, mom in ((eopt, es, e_rates, e_mom), (topt, ts, t_rates, t_mom)):
            o.step()
            s.step()
            rates.append(s.get_last_lr())
            mom.append([g[key] if opt == "SGD" else g[key][0] for g in o.param_groups])
            if opt == "Adam":
                assert all(g["betas"][1] == 0.999 for g in o.param_groups)
    _close(e_rates, t_rates)
    for a, b in zip(e_mom, t_mom):
        assert a == pytest.approx(b, rel=1e-12)


def test_one_cycle_stepping_past_the_end():
    eopt, _ = _optimizers()
    sched = els.OneCycleLR(eopt, max_lr=0.1, total_steps=3)
    eopt.step()
    sched.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: Tried to step 4 times. The specified "
                                         "number of total steps is 3"):
        sched.step()


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.01, cooldown=3),
    dict(patience=1, threshold_mode="abs", threshold=0.05, min_lr=[0.01, 0.005]),
    dict(patience=0, factor=0.5, min_lr=0.02, eps=1e-3),
])
def test_reduce_on_plateau_matches_torch(kw):
    # improves, plateaus, improves a little, plateaus long: exercises patience and cooldown
    metrics = [1.0, 0.9, 0.8, 0.8, 0.81, 0.8, 0.79, 0.8, 0.85, 0.7, 0.7, 0.7, 0.69999,
               0.6, 0.6, 0.61, 0.62, 0.6, 0.6, 0.6, 0.59, 0.6]
    metrics += [0.6 - 0.001 * i for i in range(20)]
    eopt, topt = _optimizers()
    es, ts = els.ReduceLROnPlateau(eopt, **kw), tls.ReduceLROnPlateau(topt, **kw)
    e_trace, t_trace = [es.get_last_lr()], [ts.get_last_lr()]
    for m in metrics:
        es.step(ember.tensor(m, dtype=ember.float64))  # a 0-d tensor metric works too
        ts.step(m)
        e_trace.append(es.get_last_lr())
        t_trace.append(ts.get_last_lr())
        assert es.num_bad_epochs == ts.num_bad_epochs and es.best == ts.best
    _close(e_trace, t_trace)
    assert e_trace[-1] != e_trace[0]  # the sequence did cut the rate


def test_reduce_on_plateau_state_dict():
    eopt, _ = _optimizers()
    sched = els.ReduceLROnPlateau(eopt, patience=1)
    for m in (1.0, 1.0):
        sched.step(m)
    other = els.ReduceLROnPlateau(_optimizers()[0], mode="min")
    other.load_state_dict(pickle.loads(pickle.dumps(sched.state_dict())))
    assert (other.best, other.num_bad_epochs, other.patience) == (1.0, 1, 1)


def test_schedulers_drive_the_optimizer_update():
    """A schedule's rate reaches the update: SGD steps by lr * grad with the scheduled lr."""
    w = ember.nn.Parameter(ember.zeros(1))
    opt = eo.SGD([w], lr=1.0)
    sched = els.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        w.grad = ember.ones(1)
        opt.step()
        sched.step()
    assert w.item() == pytest.approx(-(1.0 + 0.5 + 0.25))


def test_epoch_argument_uses_closed_form_with_a_warning():
    eopt, topt = _optimizers()
    es, ts = els.CosineAnnealingLR(eopt, T_max=10), tls.CosineAnnealingLR(topt, T_max=10)
    eopt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        es.step(7)
    with pytest.warns(UserWarning):
        ts.step(7)
    _close([es.get_last_lr()], [ts.get_last_lr()])


def test_scheduler_step_before_optimizer_step_warns():
    eopt, _ = _optimizers()
    sched = els.StepLR(eopt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


@pytest.mark.parametrize("make,cls,text", [
    (lambda o: els.StepLR("sgd", 3), TypeError, "StepLR: str is not an Optimizer"),
    (lambda o: els.StepLR(o, 0), ValueError, "StepLR: step_size must be a positive int"),
    (lambda o: els.LinearLR(o, start_factor=0), ValueError, "LinearLR: Starting multiplicative"),
    (lambda o: els.LinearLR(o, end_factor=1.5), ValueError, "LinearLR: Ending multiplicative"),
    (lambda o: els.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be positive"),
    (lambda o: els.LambdaLR(o, [lambda e: 1.0]), ValueError, "LambdaLR: expected 2 lr_lambdas"),
    (lambda o: els.LambdaLR(o, 0.5), TypeError, "lr_lambda must be callable"),
    (lambda o: els.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: els.ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up' is unknown"),
    (lambda o: els.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda o: els.ReduceLROnPlateau(o).step("bad"), TypeError, "metrics must be a number"),
    (lambda o: els.OneCycleLR(o, 0.1), ValueError, "You must define either total_steps OR"),
    (lambda o: els.OneCycleLR(o, 0.1, total_steps=-5), ValueError,
     "Expected positive integer total_steps, but got -5"),
    (lambda o: els.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: els.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda o: els.OneCycleLR(o, [0.1], 10), ValueError, "max_lr must have the same length"),
    (lambda o: els.StepLR(o, 3, last_epoch=5), KeyError, "initial_lr"),
])
def test_bad_input(make, cls, text):
    eopt, _ = _optimizers()
    with pytest.raises(cls, match=text):
        make(eopt)


def test_one_cycle_needs_momentum():
    opt = eo.Adagrad([ember.nn.Parameter(ember.ones(2))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        els.OneCycleLR(opt, 0.1, 10)
    assert math.isclose(els.OneCycleLR(opt, 0.1, 10, cycle_momentum=False).get_last_lr()[0],
                        0.1 / 25)
