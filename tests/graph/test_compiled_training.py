"""Whole training runs: N compiled steps equal N eager steps.

Each case builds a model and optimizer twice from the same seed, runs the same step function
eagerly and through ``ember.compile`` on the same batches (and the same random generator
seed, for dropout), and compares every step's loss, then every parameter, buffer (BatchNorm's
running statistics) and optimizer-state tensor. The compiled step runs the same forwards in
the same order as eager, so the comparison is bitwise.

Models are the five of WORKLOADS.md at small shapes (MLP, LeNet-style CNN, CNN with
BatchNorm, LSTM language model, transformer) with their optimizers, dropout and gradient
clipping, plus GRU/RNN layers and the other optimizers and step shapes (lr scheduler between
compiled steps, ``zero_grad(set_to_none=False)``, two backward calls accumulating).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn

STEPS = 20


def _tensors(obj):
    if isinstance(obj, ember.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


def _snapshot(model, opt) -> list:
    arrays = [t.detach().numpy().copy() for t in model.state_dict().values()]
    for p in model.parameters():
        state = opt.state.get(p, {})
        arrays += [t.detach().numpy().copy() for t in _tensors(state)]
        arrays.append(None if p.grad is None else p.grad.detach().numpy().copy())
    return arrays


def _run(build, batches, compiled: bool, scheduler=None):
    model, opt, step = build()
    fn = ember.compile(step) if compiled else step
    sched = scheduler(opt) if scheduler is not None else None
    ember.manual_seed(1)
    losses = []
    for k, batch in enumerate(batches):
        losses.append(fn(*batch).detach().numpy().copy())
        if sched is not None:
            sched.step()
        if compiled and k == 1:
            fn.traces_after_two = fn.traces
    return losses, _snapshot(model, opt), fn


def _assert_equal_runs(build, batches, scheduler=None):
    eager_losses, eager_state, _ = _run(build, batches, False, scheduler)
    losses, state, fn = _run(build, batches, True, scheduler)
    # the optimizer creates its state in the first step: the second call traces again (the
    # state guard), and from then on the graph is reused, whatever lr the scheduler sets
    assert fn.traces <= 2 and fn.traces == fn.traces_after_two, f"retraced: {fn.last_reason}"
    for k, (a, b) in enumerate(zip(losses, eager_losses)):
        np.testing.assert_array_equal(a, b, err_msg=f"loss of step {k}")
    assert len(state) == len(eager_state)
    for k, (a, b) in enumerate(zip(state, eager_state)):
        if b is None:
            assert a is None, f"state tensor {k}: eager None"
            continue
        np.testing.assert_array_equal(a, b, err_msg=f"state tensor {k}")
    return fn


def _classification(n=8, features=12, classes=5, image=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, features) if image is None else (n,) + image
    return [(ember.tensor(rng.standard_normal(shape).astype(np.float32)),
             ember.tensor(rng.integers(0, classes, n))) for _ in range(STEPS)]


def _tokens(n=4, steps=6, vocab=20, classes=None, seed=0):
    rng = np.random.default_rng(seed)
    return [(ember.tensor(rng.integers(0, vocab, (n, steps))),
             ember.tensor(rng.integers(0, classes or vocab, (n, steps)))) for _ in range(STEPS)]


def _standard_step(model, opt, clip=None):
    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss
    return step


def _builder(make_model, make_opt, clip=None):
    def build():
        ember.manual_seed(0)
        model = make_model()
        opt = make_opt(model.parameters())
        return model, opt, _standard_step(model, opt, clip)
    return build


# ---------------------------------------------------------------------- the five workloads


def test_mlp_dropout_sgd_nesterov_clipping():
    build = _builder(lambda: nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.2),
                                           nn.Linear(16, 5)),
                     lambda ps: ember.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                     clip=0.5)
    _assert_equal_runs(build, _classification())


def test_lenet_cnn_adam():
    def model():
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(6 * 2 * 2, 5))
    build = _builder(model, lambda ps: ember.optim.Adam(ps, lr=1e-2))
    _assert_equal_runs(build, _classification(image=(1, 8, 8)))


def test_cnn_batchnorm_adamw_running_stats():
    def model():
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 16),
                             nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 5))
    build = _builder(model, lambda ps: ember.optim.AdamW(ps, lr=1e-2, weight_decay=0.1))
    _assert_equal_runs(build, _classification(image=(3, 8, 8)))


def test_lstm_language_model_adam_clipping():
    build = _builder(lambda: ember.models.lstm_lm(vocab_size=20, embedding_dim=8,
                                                  hidden_size=12),
                     lambda ps: ember.optim.Adam(ps, lr=1e-2), clip=1.0)
    _assert_equal_runs(build, _tokens())


def test_transformer_dropout_adamw():
    build = _builder(lambda: ember.models.transformer(
        vocab_size=20, num_classes=7, d_model=16, nhead=2, dim_feedforward=32, num_layers=1,
        max_len=8, dropout=0.1), lambda ps: ember.optim.AdamW(ps, lr=1e-3))
    _assert_equal_runs(build, _tokens(classes=7))


@pytest.mark.parametrize("cell", [nn.GRU, nn.RNN])
def test_gru_and_rnn_layers(cell):
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(20, 8)
            self.rnn = cell(8, 10, num_layers=2, batch_first=True, bidirectional=True)
            self.head = nn.Linear(20, 20)

        def forward(self, x):
            return self.head(self.rnn(self.embedding(x))[0])

    build = _builder(Tagger, lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.5))
    _assert_equal_runs(build, _tokens())


# ---------------------------------------------------------------------- optimizers and steps


def _small_mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 5))


@pytest.mark.parametrize("make_opt", [
    lambda ps: ember.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    lambda ps: ember.optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True),
    lambda ps: ember.optim.Adagrad(ps, lr=0.1, lr_decay=1e-3),
    lambda ps: ember.optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-2),
], ids=["sgd-momentum", "rmsprop-centered", "adagrad", "adam-amsgrad"])
def test_optimizers(make_opt):
    _assert_equal_runs(_builder(_small_mlp, make_opt), _classification())


def test_lr_scheduler_between_compiled_steps_does_not_retrace():
    build = _builder(_small_mlp, lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9))
    fn = _assert_equal_runs(build, _classification(),
                            scheduler=lambda opt: ember.optim.lr_scheduler.StepLR(
                                opt, step_size=3, gamma=0.5))
    assert fn.traces == fn.traces_after_two  # six lr changes after step 2, no retrace


def test_zero_grad_keeps_zeroed_tensors_and_accumulates_two_backwards():
    def build():
        ember.manual_seed(0)
        model = _small_mlp()
        opt = ember.optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            half = x.shape[0] // 2
            loss_a = F.cross_entropy(model(x[:half]), y[:half])
            loss_a.backward()
            loss_b = F.cross_entropy(model(x[half:]), y[half:])
            loss_b.backward()
            opt.step()
            return loss_a + loss_b
        return model, opt, step

    _assert_equal_runs(build, _classification())


def test_grads_kept_across_calls_accumulate():
    """No zero_grad inside the step: .grad keeps growing across compiled calls, as eager."""
    def build():
        ember.manual_seed(0)
        model = _small_mlp()
        opt = ember.optim.SGD(model.parameters(), lr=0.01)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, opt, step

    batches = _classification()
    eager_losses, eager_state, _ = _run(build, batches, False)
    losses, state, fn = _run(build, batches, True)
    assert fn.traces == fn.traces_after_two, fn.last_reason
    for a, b in zip(losses + state, eager_losses + eager_state):
        np.testing.assert_array_equal(a, b)
