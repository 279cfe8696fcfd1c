"""fit: training effect, History, validation_split, equivalence with a hand-written loop."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import ember
from ember import nn, optim, train
from ember.nn import functional as F

from .helpers import ModeRecorder, blobs, mlp, same_weights


def test_fit_reduces_loss_and_learns_separable_problem():
    x, y = blobs(120)
    trainer = train.Trainer(mlp())
    trainer.compile(optimizer=functools.partial(optim.Adam, lr=0.02),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ember.manual_seed(1)
    before = trainer.evaluate(x, y, verbose=0, return_dict=True)
    history = trainer.fit(x, y, epochs=15, batch_size=16, verbose=0)
    after = trainer.evaluate(x, y, verbose=0, return_dict=True)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert after["loss"] < before["loss"]
    assert after["accuracy"] >= 0.95


def test_history_keys_and_lengths():
    x, y = blobs(40)
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy",
                    metrics=["accuracy", "top_k_accuracy"])
    history = trainer.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    assert isinstance(history, train.History)
    assert trainer.history is history
    assert list(history.history) == ["loss", "accuracy", "top_k_accuracy", "val_loss",
                                     "val_accuracy", "val_top_k_accuracy"]
    assert all(len(v) == 3 for v in history.history.values())
    assert all(isinstance(v, float) for vals in history.history.values() for v in vals)
    assert history.epoch == [0, 1, 2]
    # 3 classes, k=5: every target is in the top 5
    assert history.history["top_k_accuracy"] == [1.0, 1.0, 1.0]


def test_fit_without_validation_has_no_val_keys_and_initial_epoch():
    x, y = blobs(24)
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    history = trainer.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert list(history.history) == ["loss"]
    assert history.epoch == [3, 4]  # Keras: epochs is the last epoch's index + 1


class _RecordingTrainer(train.Trainer):
    def __init__(self, module):
        super().__init__(module)
        self.seen: list[np.ndarray] = []
        self.validated: list[np.ndarray] = []

    def train_step(self, batch):
        self.seen.append(batch[0].numpy().copy())
        return super().train_step(batch)

    def test_step(self, batch):
        self.validated.append(batch[0].numpy().copy())
        return super().test_step(batch)


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = blobs(20)
    x[:, 0] = np.arange(20)  # row ids
    trainer = _RecordingTrainer(nn.Sequential(nn.Linear(4, 3)))
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    ember.manual_seed(3)
    history = trainer.fit(x, y, epochs=2, batch_size=4, validation_split=0.25, shuffle=True,
                          verbose=0)
    trained = np.concatenate(trainer.seen)[:, 0]
    validated = np.concatenate(trainer.validated)[:, 0]
    assert sorted(trained.tolist()) == sorted(list(range(15)) * 2)
    assert trained[:15].tolist() != list(range(15))  # shuffled
    assert validated.tolist() == list(range(15, 20)) * 2  # the last 25%, in order
    # val_loss is the loss of those rows under the final weights
    last = trainer.evaluate(x[15:], y[15:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(last, rel=1e-6)


def test_fit_equals_hand_written_loop_with_sgd_momentum():
    """3 epochs, shuffle=False, uneven last batch: bitwise the same weights; the logged epoch
    loss is the per-sample mean of the batch losses (weighted by batch size)."""
    x, y = blobs(50, seed=4)
    net_fit = mlp(seed=7)
    net_hand = mlp(seed=8)
    same_weights(net_fit, net_hand)
    trainer = train.Trainer(net_fit)
    trainer.compile(optim.SGD(net_fit.parameters(), lr=0.05, momentum=0.9),
                    "sparse_categorical_crossentropy")
    history = trainer.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)

    opt = optim.SGD(net_hand.parameters(), lr=0.05, momentum=0.9)
    xt, yt = ember.from_numpy(x), ember.from_numpy(y)
    epoch_losses = []
    for _ in range(3):
        total = 0.0
        for start in range(0, 50, 16):
            xb, yb = xt[start:start + 16], yt[start:start + 16]
            opt.zero_grad()
            loss = F.cross_entropy(net_hand(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        epoch_losses.append(total / 50)
    for (k, a), b in zip(net_fit.state_dict().items(), net_hand.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=1e-6)


def test_fit_on_an_iterable_of_batches_equals_fit_on_arrays():
    x, y = blobs(30, seed=2)
    batches = [(ember.from_numpy(x[i:i + 8]), ember.from_numpy(y[i:i + 8]))
               for i in range(0, 30, 8)]
    a, b = mlp(seed=1), mlp(seed=2)
    same_weights(a, b)
    ta, tb = train.Trainer(a), train.Trainer(b)
    for t in (ta, tb):
        t.compile(optim.SGD(t.parameters(), lr=0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ha = ta.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    hb = tb.fit(batches, epochs=2, verbose=0)
    assert ha.history == hb.history
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


class _NoLen:
    """An iterable of NumPy batches without len(), re-iterable like a DataLoader."""

    def __init__(self, x, y, bs):
        self.x, self.y, self.bs = x, y, bs

    def __iter__(self):
        for i in range(0, len(self.x), self.bs):
            yield self.x[i:i + self.bs], self.y[i:i + self.bs]


def test_fit_on_iterable_without_len_and_numpy_batches():
    x, y = blobs(20)
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    cb = train.Callback()
    history = trainer.fit(_NoLen(x.astype(np.float64), y.astype(np.int32), 6), epochs=2,
                          callbacks=[cb], verbose=0)
    assert cb.params == {"verbose": 0, "epochs": 2, "steps": None, "do_validation": False}
    assert len(history.history["loss"]) == 2


def test_steps_per_epoch_continues_through_the_data():
    x, y = blobs(12)
    trainer = _RecordingTrainer(nn.Sequential(nn.Linear(4, 3)))
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    trainer.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=2, shuffle=False, verbose=0)
    firsts = [b[0, 0] for b in trainer.seen]
    # 3 batches per pass: epoch 1 takes batches 0, 1; epoch 2 takes batch 2, then restarts
    np.testing.assert_array_equal(firsts, [x[0, 0], x[4, 0], x[8, 0], x[0, 0]])


def test_numpy_inputs_are_converted_like_keras():
    x, y = blobs(16)
    trainer = _RecordingTrainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    trainer.fit(x.astype(np.float64), y.astype(np.int32), epochs=1, verbose=0)
    assert trainer.seen[0].dtype == np.float32


def test_fit_trains_in_train_mode_validates_in_eval_mode_and_restores_mode():
    x, y = blobs(16)
    rec = ModeRecorder()
    net = nn.Sequential(rec, nn.Linear(4, 3))
    net.eval()
    trainer = train.Trainer(net)
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    trainer.fit(x, y, epochs=1, batch_size=8, validation_data=(x[:8], y[:8]), verbose=0)
    assert rec.calls == [(True, True), (True, True), (False, False)]
    assert net.training is False


def test_model_subclass_and_sequential_keep_state_dict_keys():
    class Net(train.Model):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

        def forward(self, x):
            return self.body(x)

    x, y = blobs(32)
    net = Net()
    keys = list(net.state_dict())
    net.compile("adam", nn.CrossEntropyLoss(), metrics=["accuracy"])
    history = net.fit(x, y, epochs=2, verbose=0)
    assert list(net.state_dict()) == keys  # the loss module was not registered
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2"]
    assert len(history.history["accuracy"]) == 2

    seq = train.Sequential([nn.Linear(4, 3)])
    assert isinstance(seq, nn.Sequential) and isinstance(seq, train.Model)
    seq.compile("sgd", "sparse_categorical_crossentropy")
    seq.fit(x, y, verbose=0)
    assert list(seq.state_dict()) == ["0.weight", "0.bias"]


def test_trainer_leaves_module_untouched_and_fit_twice_continues():
    x, y = blobs(32)
    net = mlp()
    keys = list(net.state_dict())
    trainer = train.Trainer(net)
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    h1 = trainer.fit(x, y, epochs=2, verbose=0)
    h2 = trainer.fit(x, y, epochs=2, verbose=0)
    assert list(net.state_dict()) == keys and not hasattr(net, "optimizer")
    assert h2.history["loss"][0] < h1.history["loss"][0]
    assert trainer.history is h2


def test_validation_data_as_loader_and_validation_freq():
    x, y = blobs(24)
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    val = [(x[:12], y[:12]), (x[12:], y[12:])]
    history = trainer.fit(x, y, epochs=4, validation_data=val, validation_freq=2, verbose=0)
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == 2  # epochs 2 and 4
    expected = trainer.evaluate(x, y, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(expected, rel=1e-6)


def test_multi_input_model_takes_a_tuple_of_arrays():
    class Two(train.Model):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 3)
            self.b = nn.Linear(2, 3)

        def forward(self, left, right):
            return self.a(left) + self.b(right)

    x, y = blobs(20)
    model = Two()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit((x[:, :2], x[:, 2:]), y, epochs=2, verbose=0)
    assert math.isfinite(history.history["loss"][-1])
    assert model.predict((x[:, :2], x[:, 2:]), verbose=0).shape == (20, 3)


def test_fit_on_ember_dataloader():
    data = pytest.importorskip("ember.data", reason="ember.data.DataLoader not available")
    x, y = blobs(30, seed=6)
    loader = data.DataLoader(data.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)),
                             batch_size=8, shuffle=False)
    a, b = mlp(seed=1), mlp(seed=2)
    same_weights(a, b)
    ta, tb = train.Trainer(a), train.Trainer(b)
    for t in (ta, tb):
        t.compile(optim.SGD(t.parameters(), lr=0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    steps = []
    probe = train.LambdaCallback(on_train_begin=lambda logs: steps.append(probe.params["steps"]))
    ha = ta.fit(loader, epochs=2, validation_data=loader, callbacks=[probe], verbose=0)
    hb = tb.fit(x, y, batch_size=8, epochs=2, validation_data=(x, y), shuffle=False, verbose=0)
    assert steps == [4]
    assert ha.history == hb.history
