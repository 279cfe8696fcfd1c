"""Callback semantics (Keras'): hook order, EarlyStopping, ReduceLROnPlateau,
LearningRateScheduler, stop_training, LambdaCallback, TerminateOnNaN."""

from __future__ import annotations

import numpy as np
import pytest

from ember import nn, optim, train

from .helpers import blobs, mlp


def _trainer(lr=0.1):
    net = mlp()
    trainer = train.Trainer(net)
    trainer.compile(optim.SGD(net.parameters(), lr=lr), "sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    return trainer


def _script(key, values):
    """A callback that overwrites logs[key] with a scripted value per epoch (placed before the
    callback under test, which then sees it)."""
    def set_value(epoch, logs):
        logs[key] = values[epoch]
    return train.LambdaCallback(on_epoch_end=set_value)


class _Weights(train.Callback):
    def __init__(self):
        super().__init__()
        self.per_epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.per_epoch.append(self.model.get_weights())


X, Y = blobs(16)


def test_hook_order_in_fit_evaluate_predict():
    calls = []

    class Recorder(train.Callback):
        pass

    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                 "on_predict_begin", "on_predict_end"):
        setattr(Recorder, hook, lambda self, logs=None, h=hook: calls.append(h))
    for hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
                 "on_predict_batch_end"):
        setattr(Recorder, hook, lambda self, i, logs=None, h=hook: calls.append(f"{h}({i})"))
    trainer = _trainer()
    trainer.fit(X, Y, batch_size=8, epochs=2, validation_data=(X[:4], Y[:4]),
                callbacks=[Recorder()], verbose=0)
    epoch = ["on_train_batch_begin(0)", "on_train_batch_end(0)", "on_train_batch_begin(1)",
             "on_train_batch_end(1)", "on_test_begin", "on_test_batch_begin(0)",
             "on_test_batch_end(0)", "on_test_end"]
    assert calls == (["on_train_begin", "on_epoch_begin(0)"] + epoch + ["on_epoch_end(0)",
                     "on_epoch_begin(1)"] + epoch + ["on_epoch_end(1)", "on_train_end"])
    calls.clear()
    trainer.evaluate(X, Y, batch_size=16, callbacks=[Recorder()], verbose=0)
    trainer.predict(X, batch_size=16, callbacks=[Recorder()], verbose=0)
    assert calls == ["on_test_begin", "on_test_batch_begin(0)", "on_test_batch_end(0)",
                     "on_test_end", "on_predict_begin", "on_predict_batch_begin(0)",
                     "on_predict_batch_end(0)", "on_predict_end"]


def test_callback_sees_model_params_and_running_batch_logs():
    seen = []

    class Spy(train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((self.model, dict(self.params), sorted(logs)))

    trainer = _trainer()
    trainer.fit(X, Y, batch_size=8, epochs=1, callbacks=[Spy()], verbose=0)
    assert seen[0][0] is trainer
    assert seen[0][1] == {"verbose": 0, "epochs": 1, "steps": 2, "do_validation": False}
    assert seen[0][2] == ["accuracy", "loss"]


def test_early_stopping_stops_at_the_right_epoch_and_restores_best_weights():
    trainer = _trainer()
    weights = _Weights()
    stop = train.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = trainer.fit(X, Y, epochs=10, verbose=0, callbacks=[
        _script("val_loss", [1.0, 0.5, 0.6, 0.7, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1]), stop, weights])
    assert history.epoch == [0, 1, 2, 3]  # best at 1, two epochs without improvement
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1 and stop.best == 0.5
    for now, best in zip(trainer.get_weights(), weights.per_epoch[1]):
        np.testing.assert_array_equal(now, best)
    assert not np.array_equal(weights.per_epoch[3][0], weights.per_epoch[1][0])


def test_early_stopping_min_delta_baseline_and_auto_max_mode():
    def run(values, **kw):
        stop = train.EarlyStopping(**kw)
        history = _trainer().fit(X, Y, epochs=len(values), verbose=0,
                                 callbacks=[_script(kw.get("monitor", "val_loss"), values),
                                            stop])
        return len(history.epoch)

    assert run([1.0, 0.95, 0.9, 0.85], patience=1) == 4
    assert run([1.0, 0.95, 0.9, 0.85], patience=1, min_delta=0.1) == 2
    # improving but never beating the baseline: the wait is not reset
    assert run([0.9, 0.8, 0.85, 0.84, 0.83], patience=3) == 5
    assert run([0.9, 0.8, 0.85, 0.84, 0.83], patience=3, baseline=0.5) == 3
    # accuracy goes up: mode auto reads the metric's direction
    assert run([0.5, 0.6, 0.55, 0.5, 0.4], monitor="val_accuracy", patience=2) == 4
    assert run([0.5, 0.6, 0.55, 0.5, 0.4], monitor="val_accuracy", patience=2,
               mode="min") == 3


def test_early_stopping_missing_monitor_warns_and_unknown_direction_raises():
    with pytest.warns(UserWarning, match="'val_loss', which is not in the logs; available: "
                                         "loss, accuracy"):
        _trainer().fit(X, Y, epochs=1, verbose=0, callbacks=[train.EarlyStopping()])
    with pytest.raises(ValueError, match="EarlyStopping: cannot tell whether 'val_foo' should "
                                         "go up or down; pass mode='max' or mode='min'"):
        _trainer().fit(X, Y, epochs=1, verbose=0, callbacks=[
            _script("val_foo", [1.0]), train.EarlyStopping(monitor="val_foo")])
    with pytest.raises(ValueError, match="EarlyStopping: mode must be 'auto', 'min' or 'max'"):
        train.EarlyStopping(mode="up")


def test_learning_rate_scheduler_sets_the_optimizer_lr_each_epoch():
    trainer = _trainer(lr=0.1)
    seen = []
    sched = train.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr * 0.5)
    probe = train.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(
        trainer.optimizer.param_groups[0]["lr"]))
    history = trainer.fit(X, Y, epochs=3, verbose=0, callbacks=[sched, probe])
    assert seen == [0.1, 0.05, 0.025]
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]


def test_learning_rate_scheduler_one_argument_form_and_zero_lr_freezes_weights():
    trainer = _trainer(lr=0.1)
    before = trainer.get_weights()
    trainer.fit(X, Y, epochs=2, verbose=0,
                callbacks=[train.LearningRateScheduler(lambda epoch: 0.0)])
    for a, b in zip(before, trainer.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="LearningRateScheduler: the schedule must return a "
                                         "finite float, got None at epoch 0"):
        trainer.fit(X, Y, epochs=1, verbose=0,
                    callbacks=[train.LearningRateScheduler(lambda epoch, lr: None)])


def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr():
    trainer = _trainer(lr=0.1)
    seen = []
    reduce = train.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=1,
                                     min_lr=0.03)
    probe = train.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(
        trainer.optimizer.param_groups[0]["lr"]))
    history = trainer.fit(X, Y, epochs=8, verbose=0,
                          callbacks=[_script("val_loss", [1.0] * 8), reduce, probe])
    # reduce after 2 flat epochs (epoch 2), 1 cooldown epoch, 2 more (epoch 4: 0.025 -> min_lr)
    assert seen == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03])
    assert history.history["learning_rate"] == pytest.approx(seen)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: factor must be in \(0, 1\), got 1.0"):
        train.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_improvement_resets_wait():
    trainer = _trainer(lr=0.1)
    reduce = train.ReduceLROnPlateau(factor=0.1, patience=2)
    trainer.fit(X, Y, epochs=5, verbose=0,
                callbacks=[_script("val_loss", [1.0, 1.0, 0.5, 0.5, 0.4]), reduce])
    assert trainer.optimizer.param_groups[0]["lr"] == 0.1


def test_stop_training_inside_an_epoch_ends_after_that_batch():
    trainer = _trainer()

    class StopAtBatch1(train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    batches = []
    history = trainer.fit(X, Y, batch_size=4, epochs=3, verbose=0, callbacks=[
        StopAtBatch1(), train.LambdaCallback(on_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1] and history.epoch == [0]


def test_terminate_on_nan(capsys):
    net = nn.Sequential(nn.Linear(4, 3))
    trainer = train.Trainer(net)
    trainer.compile("sgd", lambda y_pred, y: y_pred.sum() * float("nan"))
    history = trainer.fit(X, Y, batch_size=4, epochs=3, verbose=0,
                          callbacks=[train.TerminateOnNaN()])
    assert history.epoch == [0] and np.isnan(history.history["loss"][0])
    assert "Batch 0: invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_and_callback_type_errors():
    with pytest.raises(TypeError, match="LambdaCallback: unknown hook 'on_epoch'"):
        train.LambdaCallback(on_epoch=print)
    with pytest.raises(TypeError, match=r"callbacks\[1\] must be an ember.train.Callback, got "
                                        r"str"):
        _trainer().fit(X, Y, verbose=0, callbacks=[train.History(), "history"])
